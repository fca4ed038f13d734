"""A group-sized data set: the group's last twelve months, generated and checked.

Loads into a migrated PostgreSQL database (created and migrated here when it does not
exist; it must hold no data yet, or pass ``--fresh`` to drop and recreate it):

- 30 companies in three segments, 90 warehouses (three a company), 20,000 materials with a
  standard price in every company, 2,000 suppliers, 50,000 customers;
- 1,000,000 stock movements from December 2025 to November 2026: receipts (each a new
  batch from a supplier, with its purchase price variance), issues to production, cost
  centres, cost of sales and scrap, and transfers between a company's stores, with their
  stock documents, journal entries and lines, and the stock balances and period totals
  the postings would have kept (derived with GROUP BY, bench/ledger_sql.py);
- 500,000 invoices with the payments that settled most of them, 20,000 open sales orders,
  every customer's exposure row and approved limit (bench/receivables_data.py, as
  bench/credit_exposure.py loads them), and the journal of invoices and payments;
- the months December 2025 to October 2026 closed through the service
  (erp.costing.close.close_periods, one group close a month), November left open;
- users of every role with known bearer tokens (``--credentials``), so that HTTP
  benchmarks and the load test can call the API.

Trade is skewed as it is in life: a material's rank follows a Zipf-like law (the ten
most-moved materials carry about a fifth of the movements, the top 1 % about half), and
customers' invoices the same way (the top 1 % of customers about half of the invoiced
amount; bench/receivables_data.py). Every choice is
a hash of the row's number and ``--seed`` (PostgreSQL's ``hashint8extended``) or comes
from a seeded ``random.Random``: the same seed and scale give the same data.

Loaded with COPY and set-based ``INSERT ... SELECT`` (never row by row through the ORM),
with the per-row foreign-key triggers off during the load (``session_replication_role =
replica``, as pg_restore does; the generated rows are consistent by construction and
the checks at the end prove it).

At the end it runs ``flask --app erp stock check``, ``flask --app erp credit
check-exposure`` and every company's trial balance for the last month, checks that no
balance is negative and that every journal entry balances, and exits 1 if any of them
fails. Prints the time of every phase.

Usage:
    .venv/bin/python -m bench.generate --database-url postgresql://postgres@127.0.0.1:5432/heyi_gen
        [--seed 1] [--scale 1.0] [--fresh] [--credentials PATH]

``--scale 0.02`` makes a small version (2 companies at least, every count scaled), as the
test does (tests/serving/test_generate.py).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import random
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import ledger_sql, receivables_data  # noqa: E402
from erp import models  # noqa: E402,F401 - every table mapped
from erp.auth.roles import COMPANY_OR_GROUP_ROLES, COMPANY_ROLES, GROUP_ROLES, Actor, Role  # noqa: E402
from erp.auth.services import hash_password  # noqa: E402
from erp.db import make_engine, make_session_factory  # noqa: E402
from erp.masterdata.models import Company  # noqa: E402
from erp.migrate import upgrade  # noqa: E402
from erp.period import Period  # noqa: E402

FIRST_DAY = dt.date(2025, 12, 1)
LAST_DAY = dt.date(2026, 11, 30)
MONTHS = 12
PASSWORD = "heyi-gen"


@dataclass(frozen=True)
class Size:
    """How many of each; ``--scale`` multiplies the full size."""

    companies: int
    materials: int
    suppliers: int
    customers: int
    movements: int
    invoices: int
    open_orders: int

    @classmethod
    def scaled(cls, scale: float) -> Size:
        def part(full: int, least: int) -> int:
            return max(least, round(full * scale))

        return cls(companies=part(30, 2), materials=part(20_000, 20), suppliers=part(2_000, 5),
                   customers=part(50_000, 20), movements=part(1_000_000, 40) // 4 * 4,
                   invoices=part(500_000, 40), open_orders=part(20_000, 10))


def token_of(username: str, seed: int) -> str:
    """The bearer token the generator gives ``username``: known to the benchmarks and the load
    test without reading the database (a benchmark database's tokens are no secret)."""
    return f"gen-{seed}-{username}"


def user_rows(companies: int) -> list[dict[str, Any]]:
    """One user per group role; per company one of every company role; and a group-wide
    cost accountant, purchasing manager and quality user. Usernames: ``cio``,
    ``clerk_c01``, ``cost_accountant_group``..."""
    users: list[dict[str, Any]] = []
    for role in sorted(GROUP_ROLES, key=lambda r: r.value):
        users.append({"username": role.value, "role": role.value, "group_wide": True, "companies": []})
    for role in sorted(COMPANY_OR_GROUP_ROLES, key=lambda r: r.value):
        users.append({"username": f"{role.value}_group", "role": role.value, "group_wide": True, "companies": []})
    for role in sorted(COMPANY_ROLES | COMPANY_OR_GROUP_ROLES, key=lambda r: r.value):
        for company in range(1, companies + 1):
            users.append({"username": f"{role.value}_c{company:02d}", "role": role.value, "group_wide": False,
                          "companies": [company]})
    for number, user in enumerate(users, start=1):
        user["id"] = number
    return users


# A uniform number in [0, 1) from a row's number and a slot: the same for the same seed.
RANDOM = """
CREATE FUNCTION pg_temp.gen_u(i bigint, slot bigint) RETURNS float8 LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT (hashint8extended(i, slot) & 2147483647)::float8 / 2147483648.0 $$
"""



def price(material: str, company: str) -> str:
    """A company's standard price of a material (from the first period on, never changed), in SQL."""
    return f"round((1 + (({material} * 7 + {company}) %% 97))::numeric * 1.37, 4)"


MASTER = f"""
INSERT INTO groups (id, code, name_zh, name_en, created_at, updated_at) VALUES (1, 'HEYI', '合一', 'Heyi', now(), now());
INSERT INTO segments (id, group_id, code, name_zh, name_en, active, created_at, updated_at)
    VALUES (1, 1, 'API', '原料药', 'APIs', true, now(), now()),
           (2, 1, 'FORM', '制剂', 'Formulations', true, now(), now()),
           (3, 1, 'DIST', '医药商业', 'Distribution', true, now(), now());
INSERT INTO companies (id, code, segment_id, name_zh, name_en, active, created_at, updated_at)
    SELECT c, 'C' || lpad(c::text, 2, '0'), 1 + (c - 1) %% 3, '公司' || c, 'Company ' || c, true, now(), now()
    FROM generate_series(1, %(companies)s) AS c;
INSERT INTO warehouses (id, code, company_id, name_zh, name_en, temp_min, temp_max, max_humidity, active,
                        created_at, updated_at)
    SELECT 3 * (c - 1) + k, 'C' || lpad(c::text, 2, '0') || '-' || (ARRAY['RAW', 'FG', 'COLD'])[k], c,
           (ARRAY['原料库', '成品库', '冷库'])[k], (ARRAY['Raw store', 'Finished goods', 'Cold store'])[k],
           (ARRAY[10, 10, 2])[k], (ARRAY[30, 30, 8])[k], 75, true, now(), now()
    FROM generate_series(1, %(companies)s) AS c CROSS JOIN generate_series(1, 3) AS k;
INSERT INTO units (id, code, name_zh, name_en, decimals, active, created_at, updated_at)
    VALUES (1, 'KG', '千克', 'kilogram', 3, true, now(), now()), (2, 'BOX', '盒', 'box', 0, true, now(), now());
INSERT INTO materials (id, code, name_zh, name_en, material_type, unit_id, procurement_scope, batch_managed,
                       inspection_required, over_receipt_tolerance_pct, active, created_at, updated_at)
    SELECT m, 'M' || lpad(m::text, 6, '0'), '物料' || m, 'Material ' || m,
           (ARRAY['finished', 'raw', 'packaging', 'intermediate', 'trade'])[1 + m %% 5],
           CASE WHEN m %% 5 IN (0, 4) THEN 2 ELSE 1 END,
           CASE WHEN m %% 2 = 0 THEN 'central' ELSE 'local' END, true, false, 5, true, now(), now()
    FROM generate_series(1, %(materials)s) AS m;
INSERT INTO standard_prices (company_id, material_id, period, price, set_at)
    SELECT c, m, %(first_period)s, {price("m", "c")}, now()
    FROM generate_series(1, %(companies)s) AS c CROSS JOIN generate_series(1, %(materials)s) AS m;
INSERT INTO accounting_periods (company_id, period, status)
    SELECT c, %(first_period)s, 'open' FROM generate_series(1, %(companies)s) AS c
"""

# One "lot" per receipt: a batch received into one of the company's stores and then
# consumed. Six lots in ten are issued three times, a quarter of the receipt each (to
# production, cost of sales, overhead or scrap); the rest are issued once and a tenth moved
# to the cold store. So every lot has exactly four movements, none of its balances goes
# negative, and each outflow is dated on or after what it takes from. The company (a few
# companies trade more) and the material (Zipf-like: rank = floor((M+1)^u)) are skewed.
LOTS = f"""
CREATE UNLOGGED TABLE gen_lots AS
SELECT g, c, m, consumed, q, supplier, a1, a2, a3,
       3 * (c - 1) + CASE WHEN u_store < 0.5 THEN 1 ELSE 2 END AS w, 3 * (c - 1) + 3 AS w2,
       d0, least(%(last_day)s::date, d0 + gap1) AS d1, least(%(last_day)s::date, d0 + gap1 + gap2) AS d2,
       least(%(last_day)s::date, d0 + gap1 + gap2 + gap3) AS d3,
       sp, round(sp * (400 + pct) / 400, 4) AS unit_price
FROM (
    SELECT g, c, m, u_store, consumed, q, supplier, pct, gap1, gap2, gap3, a1, a2, a3, d0,
           {price("m", "c")} AS sp
    FROM (
        SELECT g,
               1 + least(%(companies)s - 1, floor(%(companies)s * pg_temp.gen_u(g, %(seed)s * 64 + 1) ^ 1.5)::int) AS c,
               greatest(1, least(%(materials)s,
                                 floor(exp(pg_temp.gen_u(g, %(seed)s * 64 + 2) * ln(%(materials)s + 1.0)))::int)) AS m,
               pg_temp.gen_u(g, %(seed)s * 64 + 3) < 0.6 AS consumed,
               (20 * (1 + floor(pg_temp.gen_u(g, %(seed)s * 64 + 4) * 50)))::numeric AS q,
               %(first_day)s::date + floor(pg_temp.gen_u(g, %(seed)s * 64 + 5) * %(days)s)::int AS d0,
               floor(pg_temp.gen_u(g, %(seed)s * 64 + 6) * 20)::int AS gap1,
               floor(pg_temp.gen_u(g, %(seed)s * 64 + 7) * 20)::int AS gap2,
               floor(pg_temp.gen_u(g, %(seed)s * 64 + 8) * 20)::int AS gap3,
               1 + least(%(suppliers)s - 1, floor(%(suppliers)s * pg_temp.gen_u(g, %(seed)s * 64 + 9) ^ 2)::int)
                   AS supplier,
               floor(pg_temp.gen_u(g, %(seed)s * 64 + 10) * 41)::int - 20 AS pct,
               pg_temp.gen_u(g, %(seed)s * 64 + 11) AS u_store,
               {", ".join(f'''CASE WHEN pg_temp.gen_u(g, %(seed)s * 64 + {12 + n}) < 0.5 THEN '5001'
                    WHEN pg_temp.gen_u(g, %(seed)s * 64 + {12 + n}) < 0.8 THEN '6401'
                    WHEN pg_temp.gen_u(g, %(seed)s * 64 + {12 + n}) < 0.95 THEN '5101' ELSE '6711' END AS a{n + 1}'''
                          for n in range(3))}
        FROM generate_series(0, %(lots)s - 1) AS g
    ) AS drawn
) AS priced
"""

# Document ids: lot g's receipt is 4g+1, its issues 4g+2, 4g+3, 4g+4, or its issue 4g+2
# and its transfer 4g+3 (4g+4 unused: a gap, as a rolled-back posting leaves one).
NUMBER = "prefix || '-' || lpad(id::text, greatest(8, length(id::text)), '0')"

DOCUMENTS = f"""
INSERT INTO batches (id, material_id, batch_number, manufacture_date, expiry_date, supplier_id, created_at)
    SELECT g + 1, m, 'L' || lpad((g + 1)::text, 8, '0'), d0 - 20, d0 + 1095, supplier, now() FROM gen_lots;
INSERT INTO stock_documents (id, number, doc_type, company_id, posting_date, period, supplier_id, unit_price,
                             standard_price, delivery_note, reference, destination, cost_center, created_by,
                             created_at)
    SELECT id, {NUMBER}, doc_type, c, day, to_char(day, 'YYYY-MM'), supplier, unit_price, standard_price,
           delivery_note, reference, destination, cost_center, %(user_id)s, now()
    FROM (
        SELECT 4 * g + 1 AS id, 'GR' AS prefix, 'receipt' AS doc_type, c, d0 AS day, supplier, unit_price,
               sp AS standard_price, 'DN' || g AS delivery_note, 'PO-history-' || g AS reference,
               NULL AS destination, NULL AS cost_center FROM gen_lots
        UNION ALL
        SELECT 4 * g + 1 + k, 'GI', 'issue', c, (ARRAY[d1, d2, d3])[k], NULL, NULL, NULL, NULL, NULL,
               CASE (ARRAY[a1, a2, a3])[k] WHEN '5001' THEN 'production' END,
               CASE (ARRAY[a1, a2, a3])[k] WHEN '5101' THEN 'CC-' || c END
        FROM gen_lots CROSS JOIN generate_series(1, 3) AS k WHERE k = 1 OR consumed
        UNION ALL
        SELECT 4 * g + 3, 'TR', 'transfer', c, d2, NULL, NULL, NULL, NULL, NULL, NULL, NULL
        FROM gen_lots WHERE NOT consumed
    ) AS d;
INSERT INTO stock_movements (document_id, movement_type, close_class, company_id, warehouse_id, material_id,
                             batch_id, status, quantity, value, variance, offset_account, posting_date, period,
                             created_by, created_at)
    SELECT document_id, movement_type, close_class, c, warehouse_id, m, g + 1, 'unrestricted', quantity, value,
           variance, offset_account, day, to_char(day, 'YYYY-MM'), %(user_id)s, now()
    FROM (
        SELECT g, 4 * g + 1 AS document_id, 'receipt' AS movement_type, 'receipt' AS close_class, c, m,
               w AS warehouse_id, q AS quantity, round(q * sp, 2) AS value,
               round(q * unit_price, 2) - round(q * sp, 2) AS variance, NULL AS offset_account, d0 AS day
        FROM gen_lots
        UNION ALL
        SELECT g, 4 * g + 1 + k, 'issue', 'consumption', c, m, w, -q / 4, -round(q / 4 * sp, 2), 0,
               (ARRAY[a1, a2, a3])[k], (ARRAY[d1, d2, d3])[k]
        FROM gen_lots CROSS JOIN generate_series(1, 3) AS k WHERE k = 1 OR consumed
        UNION ALL
        SELECT g, 4 * g + 3, 'transfer', 'internal', c, m, CASE WHEN k = 1 THEN w ELSE w2 END,
               CASE WHEN k = 1 THEN -q / 10 ELSE q / 10 END,
               CASE WHEN k = 1 THEN -round(q / 10 * sp, 2) ELSE round(q / 10 * sp, 2) END, 0, NULL, d2
        FROM gen_lots CROSS JOIN generate_series(1, 2) AS k WHERE NOT consumed
    ) AS movement
    ORDER BY day, document_id
"""

INVENTORY_ACCOUNT = """CASE mat.material_type WHEN 'raw' THEN '1403' WHEN 'packaging' THEN '1411'
    WHEN 'intermediate' THEN '1405.01' WHEN 'finished' THEN '1405.02' ELSE '1405.03' END"""

# The journal of the stock documents, as erp.inventory.services posts it: a receipt Dr
# stock at standard and Dr/Cr the price variance (1404) for the material, Cr goods
# received not invoiced at the contract price; an issue Dr its offset account, Cr stock.
# Transfers post none. One entry per document, its id the document's; zero lines dropped.
STOCK_JOURNAL = f"""
INSERT INTO journal_entries (id, company_id, entry_date, period, source_type, source_id, memo, created_by, created_at)
    SELECT id, company_id, posting_date, period, 'stock_document', id,
           CASE doc_type WHEN 'receipt' THEN 'goods receipt ' || reference ELSE 'goods issue ' || number END,
           created_by, created_at
    FROM stock_documents WHERE doc_type IN ('receipt', 'issue');
INSERT INTO journal_lines (entry_id, company_id, period, account_code, amount, material_id, customer_id)
    SELECT sm.document_id, sm.company_id, sm.period, l.account, l.amount, l.material, NULL
    FROM stock_movements sm
    JOIN materials mat ON mat.id = sm.material_id
    CROSS JOIN LATERAL (VALUES ({INVENTORY_ACCOUNT}, sm.value, sm.material_id),
                               ('1404', sm.variance, sm.material_id),
                               ('2202.01', -(sm.value + sm.variance), NULL)) AS l(account, amount, material)
    WHERE sm.movement_type = 'receipt' AND l.amount <> 0;
INSERT INTO journal_lines (entry_id, company_id, period, account_code, amount, material_id, customer_id)
    SELECT sm.document_id, sm.company_id, sm.period, l.account, l.amount, sm.material_id, NULL
    FROM stock_movements sm
    JOIN materials mat ON mat.id = sm.material_id
    CROSS JOIN LATERAL (VALUES (sm.offset_account, -sm.value), ({INVENTORY_ACCOUNT}, sm.value))
        AS l(account, amount)
    WHERE sm.movement_type = 'issue' AND l.amount <> 0
"""

SEQUENCES = """
DO $$
DECLARE t record; top bigint;
BEGIN
    FOR t IN SELECT c.table_name FROM information_schema.columns c
             WHERE c.table_schema = 'public' AND c.column_name = 'id' AND c.column_default LIKE 'nextval%'
    LOOP
        EXECUTE format('SELECT max(id) FROM %I', t.table_name) INTO top;
        IF top IS NOT NULL THEN
            PERFORM setval(pg_get_serial_sequence(t.table_name, 'id'), top);
        END IF;
    END LOOP;
END $$
"""


# The tables the load writes by the hundred thousand: their secondary indexes are dropped
# before and built again after (one sort per index instead of a million insertions into
# each). Indexes behind a constraint (keys, unique constraints, a foreign key's target)
# stay.
BULK_TABLES = ("batches", "stock_documents", "stock_movements", "stock_balances", "journal_entries", "journal_lines",
               "invoices", "payments", "payment_applications", "sales_orders", "sales_order_lines")

SECONDARY_INDEXES = """
SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
WHERE t.relname = ANY(%s) AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
ORDER BY 1
"""


class Phases:
    """Wall time per phase, printed as each ends."""

    def __init__(self) -> None:
        self.times: dict[str, float] = {}
        self.started = time.perf_counter()

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        self.times[name] = time.perf_counter() - start
        print(f"  {name:<44} {self.times[name]:7.1f} s", flush=True)

    @property
    def total(self) -> float:
        return time.perf_counter() - self.started


def run_script(conn: psycopg.Connection[Any], script: str, params: dict[str, Any]) -> None:
    for statement in script.split(";\n"):
        if statement.strip():
            conn.execute(statement, params)  # type: ignore[arg-type] - the scripts are constants


def periods() -> list[str]:
    result = [Period.of(FIRST_DAY)]
    while len(result) < MONTHS:
        result.append(Period(result[-1]).next())
    return result


def prepare_database(url: str, *, fresh: bool) -> None:
    """Create the database if needed (or drop and recreate it with ``fresh``) and migrate it."""
    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists and fresh:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        if not exists or fresh:
            conn.execute(f'CREATE DATABASE "{name}"')
    engine = make_engine(sqlalchemy_url(url))
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    with psycopg.connect(url) as conn:
        if conn.execute("SELECT count(*) FROM companies").fetchone()[0]:  # type: ignore[index]
            raise SystemExit(f"{name} already holds data: generate into an empty database (or pass --fresh)")


def sqlalchemy_url(url: str) -> str:
    return "postgresql+psycopg://" + url.split("://", 1)[1]


def load_users(conn: psycopg.Connection[Any], users: list[dict[str, Any]], seed: int) -> None:
    """The users, their companies (clerks also their companies' warehouses) and tokens valid a year."""
    now = dt.datetime.now(dt.UTC)
    password_hash = hash_password(PASSWORD)
    cur = conn.cursor()
    with cur.copy("COPY users (id, username, display_name, password_hash, role, group_wide, active, created_at) "
                  "FROM STDIN") as copy:
        for user in users:
            copy.write_row((user["id"], user["username"], user["username"], password_hash, user["role"],
                            user["group_wide"], True, now))
    with cur.copy("COPY user_companies (user_id, company_id) FROM STDIN") as copy:
        for user in users:
            for company in user["companies"]:
                copy.write_row((user["id"], company))
    with cur.copy("COPY user_warehouses (user_id, warehouse_id) FROM STDIN") as copy:
        for user in users:
            if user["role"] == Role.CLERK.value:
                for company in user["companies"]:
                    for store in range(1, 4):
                        copy.write_row((user["id"], 3 * (company - 1) + store))
    with cur.copy("COPY api_tokens (user_id, token_digest, created_at, expires_at) FROM STDIN") as copy:
        for user in users:
            digest = hashlib.sha256(token_of(user["username"], seed).encode()).hexdigest()
            copy.write_row((user["id"], digest, now, now + dt.timedelta(days=365)))


def copy_suppliers(conn: psycopg.Connection[Any], suppliers: int) -> None:
    now = dt.datetime.now(dt.UTC)
    with conn.cursor().copy("COPY suppliers (id, code, uscc, name_zh, name_en, blocked, active, created_at, "
                            "updated_at) FROM STDIN") as copy:
        for number in range(1, suppliers + 1):
            copy.write_row((number, f"S{number:05d}", receivables_data.valid_uscc("91330200", number),
                            f"供应商{number}", f"Supplier {number}", False, True, now, now))


def generate(url: str, size: Size, seed: int, clock: Phases) -> list[dict[str, Any]]:
    """Everything but the closes and the checks; returns the users."""
    users = user_rows(size.companies)
    admin_id = next(u["id"] for u in users if u["role"] == Role.ADMIN.value)
    params = {**asdict(size), "seed": seed, "lots": size.movements // 4, "first_day": FIRST_DAY,
              "last_day": LAST_DAY, "days": (LAST_DAY - FIRST_DAY).days + 1, "first_period": Period.of(FIRST_DAY),
              "user_id": admin_id}
    spec = receivables_data.Receivables(customers=size.customers, invoices=size.invoices,
                                        companies=size.companies, open_orders=size.open_orders,
                                        as_of=LAST_DAY, warehouse_of=lambda company: 3 * (company - 1) + 2,
                                        products=min(10, size.materials), zipf=True)
    rng = random.Random(seed)
    with psycopg.connect(url) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute("SET work_mem = '64MB'")
        conn.execute(RANDOM)
        indexes = conn.execute(SECONDARY_INDEXES, (list(BULK_TABLES),)).fetchall()
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        with clock.phase("master data and users"):
            run_script(conn, MASTER, params)
            copy_suppliers(conn, size.suppliers)
            terms = receivables_data.customer_terms(rng, spec)
            receivables_data.copy_customers(conn, terms)
            load_users(conn, users, seed)
        with clock.phase(f"stock: {size.movements:,} movements and documents"):
            conn.execute(LOTS, params)
            run_script(conn, DOCUMENTS, params)
        with clock.phase("stock balances and period totals (GROUP BY)"):
            conn.execute(ledger_sql.BALANCES_FROM_LEDGER)
            conn.execute(ledger_sql.PERIOD_TOTALS_FROM_LEDGER)
        with clock.phase("stock journal"):
            run_script(conn, STOCK_JOURNAL, params)
        with clock.phase(f"receivables: {size.invoices:,} invoices, payments, orders"):
            receivables_data.copy_invoices(conn, rng, spec, terms, user_id=admin_id)
            receivables_data.copy_orders(conn, rng, spec, user_id=admin_id)
            conn.execute(receivables_data.EXPOSURES)
            conn.execute(receivables_data.APPROVED)
        with clock.phase("receivables journal"):
            top = conn.execute("SELECT coalesce(max(id), 0) FROM journal_entries").fetchone()[0]  # type: ignore[index]
            invoices = conn.execute("SELECT coalesce(max(id), 0) FROM invoices").fetchone()[0]  # type: ignore[index]
            run_script(conn, receivables_data.RECEIVABLES_JOURNAL,
                       {"invoice_base": top, "payment_base": top + invoices})
        conn.execute("DROP TABLE gen_lots")
        conn.execute(SEQUENCES)
        conn.commit()
    with clock.phase(f"{len(indexes)} secondary indexes built"), psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '256MB'")
        for _, definition in indexes:
            conn.execute(definition)
    with clock.phase("VACUUM ANALYZE"), psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return users


def close_history(url: str, users: list[dict[str, Any]], clock: Phases) -> None:
    """Close every month but the last through the service, as the group would have."""
    from erp.costing.close import close_periods

    accountant = next(u for u in users if u["username"] == f"{Role.COST_ACCOUNTANT.value}_group")
    actor = Actor(accountant["id"], accountant["username"], Role.COST_ACCOUNTANT, True)
    engine = make_engine(sqlalchemy_url(url))
    sessions = make_session_factory(engine)
    months = periods()
    try:
        with clock.phase(f"close {months[0]} to {months[-2]} (service)"):
            for period in months[:-1]:
                with sessions() as session, session.begin():
                    close_periods(session, actor, company_ids=None, period=period)
    finally:
        engine.dispose()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def check(url: str, users: list[dict[str, Any]], clock: Phases) -> list[str]:
    """The checks the data must pass; returns what failed (empty: all passed). The two
    commands run in this process, through the app's own command line."""
    from erp import create_app
    from erp.config import load_settings
    from erp.costing.reports import trial_balance

    failures: list[str] = []
    engine = make_engine(sqlalchemy_url(url))
    try:
        app = create_app(load_settings(database_url=sqlalchemy_url(url)), engine=engine)
        for command in (["stock", "check"], ["credit", "check-exposure"]):
            with clock.phase("flask --app erp " + " ".join(command)):
                result = app.test_cli_runner().invoke(args=command)
            print("    " + "\n    ".join(result.output.strip().splitlines()[-3:]))
            if result.exit_code != 0:
                failures.append(f"flask --app erp {' '.join(command)} exited {result.exit_code}")
        with clock.phase("trial balances, entries, negative stock"):
            cio = next(u for u in users if u["role"] == Role.CIO.value)
            actor = Actor(cio["id"], cio["username"], Role.CIO, True)
            last = periods()[-1]
            with make_session_factory(engine)() as session:
                companies = session.execute(select(Company.id, Company.code).order_by(Company.id)).all()
                for company_id, code in companies:
                    report = trial_balance(session, actor, company_id=company_id, period=last)
                    if not report.balanced or not report.lines:
                        failures.append(f"trial balance of {code} for {last}: debit {report.total_debit}, "
                                        f"credit {report.total_credit}, {len(report.lines)} accounts")
            print(f"    {len(companies)} trial balances for {last}")
            with psycopg.connect(url) as conn:
                unbalanced = conn.execute(
                    "SELECT count(*) FROM (SELECT entry_id FROM journal_lines GROUP BY entry_id "
                    "HAVING sum(amount) <> 0) AS off").fetchone()[0]  # type: ignore[index]
                negative = conn.execute("SELECT count(*) FROM stock_balances WHERE quantity < 0"
                                        ).fetchone()[0]  # type: ignore[index]
            if unbalanced:
                failures.append(f"{unbalanced} journal entries do not balance")
            if negative:
                failures.append(f"{negative} stock balances are negative")
    finally:
        engine.dispose()
    return failures


def summary(url: str) -> dict[str, int]:
    tables = ("companies", "warehouses", "materials", "suppliers", "customers", "users", "batches",
              "stock_documents", "stock_movements", "stock_balances", "period_movement_totals", "journal_entries",
              "journal_lines", "invoices", "payments", "sales_orders", "customer_exposures")
    with psycopg.connect(url) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}  # type: ignore[index]


def skew(url: str) -> str:
    """How concentrated the movements and invoices are: the share of the top 1 % of
    materials and of customers."""
    with psycopg.connect(url) as conn:
        materials = conn.execute("""
            SELECT sum(n) FILTER (WHERE rank <= greatest(1, total / 100))::numeric / sum(n)
            FROM (SELECT count(*) AS n, row_number() OVER (ORDER BY count(*) DESC) AS rank,
                         (SELECT count(*) FROM materials) AS total
                  FROM stock_movements GROUP BY material_id) AS ranked""").fetchone()[0]  # type: ignore[index]
        customers = conn.execute("""
            SELECT sum(amount) FILTER (WHERE rank <= greatest(1, total / 100)) / sum(amount)
            FROM (SELECT sum(amount) AS amount, row_number() OVER (ORDER BY sum(amount) DESC) AS rank,
                         (SELECT count(*) FROM customers) AS total
                  FROM invoices GROUP BY customer_id) AS ranked""").fetchone()[0]  # type: ignore[index]
    return (f"top 1 % of materials: {float(materials):.0%} of movements; "
            f"top 1 % of customers: {float(customers):.0%} of invoiced amount")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True,
                        help="postgresql://user@host:port/name (created and migrated when missing)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies every count (0.02: a small version)")
    parser.add_argument("--fresh", action="store_true", help="drop and recreate the database first")
    parser.add_argument("--check-only", action="store_true",
                        help="generate nothing: migrate a generated database to head and run the checks again")
    parser.add_argument("--credentials", type=Path, default=None,
                        help="write the users, password and bearer tokens to this JSON file")
    args = parser.parse_args(argv)
    url = args.database_url.replace("postgresql+psycopg://", "postgresql://")
    size = Size.scaled(args.scale)
    clock = Phases()
    if args.check_only:
        engine = make_engine(sqlalchemy_url(url))
        try:
            upgrade(engine)
        finally:
            engine.dispose()
        with psycopg.connect(url) as conn:
            companies = conn.execute("SELECT count(*) FROM companies").fetchone()[0]  # type: ignore[index]
        failures = check(url, user_rows(companies), clock)
        for failure in failures:
            print(f"FAILED: {failure}")
        return 1 if failures else 0
    print(f"generating into {url.rsplit('/', 1)[1]}: seed {args.seed}, scale {args.scale}: {size}")
    with clock.phase("create and migrate"):
        prepare_database(url, fresh=args.fresh)
    users = generate(url, size, args.seed, clock)
    close_history(url, users, clock)
    failures = check(url, users, clock)
    counts = summary(url)
    print("rows: " + ", ".join(f"{table} {count:,}" for table, count in counts.items()))
    print(skew(url))
    if args.credentials:
        args.credentials.write_text(json.dumps(
            {"password": PASSWORD, "users": [{"username": u["username"], "role": u["role"],
                                              "companies": u["companies"], "token": token_of(u["username"], args.seed)}
                                             for u in users]}, indent=1, ensure_ascii=False))
        print(f"users and tokens written to {args.credentials}")
    print(f"users: every role, e.g. cio, credit_controller, clerk_c01, sales_c01, cost_accountant_group; password "
        f"{PASSWORD!r}; bearer token 'gen-{args.seed}-<username>'")
    print(f"total {clock.total:.1f} s")
    for failure in failures:
        print(f"FAILED: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
