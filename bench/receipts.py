"""Benchmark: goods receipts per second through the service layer, beside raw INSERTs.

On a fresh PostgreSQL database with one company, 200 batch-managed materials, their
standard prices and 40 open purchase orders of 50 lines each, it books receipts one per
transaction through erp.inventory.services.receive_goods (order line lock, period lock,
standard price, batch, document, ledger row, balance, journal entry with three lines,
order line and order status), then the same rows with hand-written SQL: one ledger row,
one balance upsert, one journal entry with three lines and one order line update per
transaction. Prints both rates and their ratio.

With ``--workers N``, N processes (clerks) book at once, each on its own order lines, and
the raw SQL runs with as many connections: throughput of a server, not of one client.

Targets (../shared/DESIGN.md): at least 430 receipts/s and within 4x of the raw INSERTs.
Usage: .venv/bin/python -m bench.receipts [--receipts 2000] [--workers 1]
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing as mp
import time
from decimal import Decimal

import psycopg

from bench.common import fresh_database, git_revision, machine
from erp.auth.roles import Actor, Role
from erp.config import load_settings
from erp.db import make_engine, make_session_factory
from erp.inventory.services import ReceiptRequest, receive_goods

SETUP = """
INSERT INTO groups (id, code, name_zh, name_en, created_at, updated_at) VALUES (1, 'G', 'G', 'G', now(), now());
INSERT INTO segments (id, group_id, code, name_zh, name_en, active, created_at, updated_at)
    VALUES (1, 1, 'S', 'S', 'S', true, now(), now());
INSERT INTO companies (id, code, segment_id, name_zh, name_en, active, created_at, updated_at)
    VALUES (1, 'C1', 1, 'C1', 'C1', true, now(), now());
INSERT INTO warehouses (id, code, company_id, name_zh, name_en, temp_min, temp_max, max_humidity, active,
                        created_at, updated_at)
    VALUES (1, 'W1', 1, 'W1', 'W1', 10, 30, 75, true, now(), now());
INSERT INTO units (id, code, name_zh, name_en, decimals, active, created_at, updated_at)
    VALUES (1, 'KG', 'KG', 'KG', 3, true, now(), now());
INSERT INTO users (id, username, display_name, password_hash, role, group_wide, active, created_at)
    VALUES (1, 'clerk', 'clerk', 'x', 'clerk', false, true, now());
INSERT INTO suppliers (id, code, uscc, name_zh, name_en, blocked, active, created_at, updated_at)
    VALUES (1, 'S1', '91330100000000001C', 'S', 'S', false, true, now(), now());
INSERT INTO materials (id, code, name_zh, name_en, material_type, unit_id, procurement_scope, batch_managed,
                       inspection_required, over_receipt_tolerance_pct, active, shelf_life_days, created_at,
                       updated_at)
    SELECT m, 'M' || m, 'M' || m, 'M' || m, 'raw', 1, 'local', true, false, 0, true, 1095, now(), now()
    FROM generate_series(1, 200) AS m;
INSERT INTO standard_prices (company_id, material_id, period, price, set_at)
    SELECT 1, m, '2026-11', round(m * 1.37, 4), now() FROM generate_series(1, 200) AS m;
INSERT INTO accounting_periods (company_id, period, status) VALUES (1, '2026-11', 'open');
INSERT INTO contracts (id, number, supplier_id, scope, company_id, valid_from, valid_to, status, created_by,
                       created_at)
    VALUES (1, 'K1', 1, 'company', 1, DATE '2026-01-01', DATE '2026-12-31', 'active', 1, now());
INSERT INTO contract_lines (id, contract_id, material_id, unit_price, unit_id, ordered_quantity)
    SELECT m, 1, m, round(m * 1.41, 4), 1, 0 FROM generate_series(1, 200) AS m;
INSERT INTO purchase_orders (id, number, purchasing_company_id, receiving_company_id, supplier_id, order_date,
                             status, total_amount, created_by, created_at)
    SELECT o, 'PO-' || o, 1, 1, 1, DATE '2026-11-01', 'open', 0, 1, now() FROM generate_series(1, 40) AS o;
INSERT INTO purchase_order_lines (id, order_id, line_no, material_id, quantity, unit_price, amount,
                                  contract_line_id, warehouse_id, received_quantity)
    SELECT l, 1 + l % 40, l, 1 + l % 200, 1000000, round((1 + l % 200) * 1.41, 4), 0, 1 + l % 200, 1, 0
    FROM generate_series(1, 2000) AS l;
SELECT setval(pg_get_serial_sequence(t, 'id'), 1000000)
    FROM unnest(ARRAY['groups', 'segments', 'companies', 'warehouses', 'units', 'users', 'suppliers',
                      'materials', 'contracts', 'contract_lines', 'purchase_orders',
                      'purchase_order_lines']) AS t;
ANALYZE
"""

# The same rows a receipt writes, by hand: ledger row, balance, journal entry and lines,
# order line. (No batch lookup, no document header, no checks.)
RAW = [
    """INSERT INTO stock_movements (document_id, movement_type, close_class, company_id, warehouse_id,
           material_id, batch_id, status, quantity, value, variance, posting_date, period, created_by, created_at)
       VALUES (%(doc)s, 'receipt', 'receipt', 1, 1, %(material)s, %(batch)s, 'unrestricted', 10, %(value)s,
               %(variance)s, DATE '2026-11-20', '2026-11', 1, now())""",
    """INSERT INTO stock_balances (company_id, warehouse_id, material_id, batch_id, status, quantity, value)
       VALUES (1, 1, %(material)s, %(batch)s, 'unrestricted', 10, %(value)s)
       ON CONFLICT (warehouse_id, material_id, batch_id, status)
       DO UPDATE SET quantity = stock_balances.quantity + excluded.quantity,
                     value = stock_balances.value + excluded.value""",
    """INSERT INTO journal_entries (company_id, entry_date, period, source_type, source_id, memo, created_by,
           created_at) VALUES (1, DATE '2026-11-20', '2026-11', 'stock_document', %(doc)s, 'raw', 1, now())
       RETURNING id""",
    """INSERT INTO journal_lines (entry_id, company_id, period, account_code, amount, material_id)
       VALUES (%(entry)s, 1, '2026-11', '1403', %(value)s, %(material)s),
              (%(entry)s, 1, '2026-11', '1404', %(variance)s, %(material)s),
              (%(entry)s, 1, '2026-11', '2202.01', %(contract)s, NULL)""",
    """UPDATE purchase_order_lines SET received_quantity = received_quantity + 10 WHERE id = %(line)s""",
]


def _service_worker(url: str, worker: int, workers: int, count: int, start: object, done: object) -> None:
    """Book ``count`` receipts through the service layer, on this worker's own order lines."""
    # The engine as `make serve`'s workers build theirs (erp.create_app): the same
    # ERP_DB_POOL_PRE_PING setting, off by default, so no ping round trip at each checkout
    # that the served receipt does not pay either (issue 18's comparison is like for like).
    engine = make_engine(url.replace("postgresql://", "postgresql+psycopg://"),
                         pool_pre_ping=load_settings().db_pool_pre_ping)
    sessions = make_session_factory(engine)
    clerk = Actor(1, "clerk", Role.CLERK, False, frozenset({1}), frozenset({1}))

    def book(i: int, line: int) -> None:
        with sessions() as session, session.begin():
            receive_goods(session, clerk, ReceiptRequest(
                po_line_id=line, quantity=Decimal("10"), posting_date=dt.date(2026, 11, 20),
                batch_number=f"W{worker}-{i:07d}", manufacture_date=dt.date(2026, 10, 1),
                expiry_date=dt.date(2029, 9, 30)))

    # each worker its own orders (receipts of one order queue on the order's lock)
    lines = [line for line in range(1, 2001) if (line % 40) % workers == worker]
    for i in range(20):  # warm up: connection pool, statement caches, prepared statements
        book(10_000_000 + i, lines[i % len(lines)])
    start.wait()  # type: ignore[attr-defined]
    for i in range(count):
        book(i, lines[i % len(lines)])
    done.put(time.perf_counter())  # type: ignore[attr-defined]
    engine.dispose()


def _raw_worker(url: str, worker: int, workers: int, count: int, start: object, done: object) -> None:
    """Write the same rows with hand-written SQL, one receipt per transaction."""
    lines = [line for line in range(1, 2001) if (line % 40) % workers == worker]
    with psycopg.connect(url) as conn:
        batch, doc = conn.execute("SELECT max(batch_id), max(document_id) FROM stock_movements").fetchone()  # type: ignore[misc]
        conn.commit()
        start.wait()  # type: ignore[attr-defined]
        for i in range(count):
            line = lines[i % len(lines)]
            row = {"doc": doc, "batch": batch, "material": 1 + line % 200, "line": line,
                   "value": Decimal("13.70"), "variance": Decimal("0.40"), "contract": Decimal("-14.10")}
            with conn.transaction():
                conn.execute(RAW[0], row)
                conn.execute(RAW[1], row)
                row["entry"] = conn.execute(RAW[2], row).fetchone()[0]  # type: ignore[index]
                conn.execute(RAW[3], row)
                conn.execute(RAW[4], row)
    done.put(time.perf_counter())  # type: ignore[attr-defined]


def analyze(url: str) -> None:
    """Statistics of the tables as they are now. SETUP analyses them before the first
    receipt, when the ledger, journal, documents and batches are empty; a plan made from
    those statistics (the foreign-key checks' and psycopg's prepared statements, cached per
    connection) scans those tables sequentially, more slowly with every row, until
    autovacuum analyses them, sometime in the first minute. A live database has
    statistics of its tables; each measured phase starts with them, so that no phase's
    rate depends on whether autovacuum happened to run before or during it."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE")


def _run(target: object, url: str, workers: int, count: int) -> float:
    """Receipts per second over all workers, from the common start to the last finish."""
    start = mp.Event()
    done: mp.Queue[float] = mp.Queue()
    processes = [mp.Process(target=target, args=(url, w, workers, count, start, done)) for w in range(workers)]
    for process in processes:
        process.start()
    time.sleep(3)  # let every worker warm up and wait at the start line
    analyze(url)
    began = time.perf_counter()
    start.set()
    finished = max(done.get() for _ in processes)
    for process in processes:
        process.join()
    return workers * count / (finished - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--receipts", type=int, default=2000, help="receipts per worker")
    parser.add_argument("--workers", type=int, default=1, help="concurrent clerks (processes), each on its own lines")
    args = parser.parse_args()
    with fresh_database("erp_bench_receipts") as (_engine, url):
        with psycopg.connect(url) as conn:
            for statement in SETUP.split(";\n"):
                conn.execute(statement)
            conn.commit()
        service = _run(_service_worker, url, args.workers, args.receipts)
        raw = _run(_raw_worker, url, args.workers, args.receipts)

    print(f"machine: {machine()}; revision {git_revision()}")
    print(f"{args.workers} worker(s), {args.receipts} receipts each, one receipt per transaction")
    print(f"receipts through the service layer: {service:8.0f} /s")
    print(f"raw INSERTs of the same rows:       {raw:8.0f} /s")
    print(f"ratio raw / service: {raw / service:.2f}x (targets: >= 430/s, within 4x)")


if __name__ == "__main__":
    main()
