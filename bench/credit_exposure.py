"""Benchmark: group-wide exposure checks and consolidated receivables on PostgreSQL.

Loads 50,000 customers and 500,000 invoices across 30 companies (with the payments that
settled most of them, 20,000 open sales orders and every customer's exposure row) into a
fresh PostgreSQL database, then measures through the service layer:

1. one customer's exposure check, as a confirmation makes it (its own transaction, the
   customer's row locked FOR UPDATE): p50/p95 over 1,000 random customers;
2. the consolidated ageing of all customers (``receivables_by_customer``, every row);
3. the CIO's dashboard with the top 100 customers (``dashboard``) on the business day
   (the key date of the data, 20 Nov 2026: positions read from the kept exposure rows);
4. the same dashboard as of 30 days earlier, every figure rebuilt from the documents as
   they stood then (positions, limits, holds, held orders), beside a raw-SQL ageing of
   that day (open amounts rebuilt with the payments applied since);

and prints beside them, in the same run, the raw-SQL aggregate over the same invoices
(open amount and ageing buckets per customer, hand-written SQL through psycopg) as the
baseline, with ratios. Targets (DESIGN.md): exposure check p95 under 10 ms; dashboard
within 3x of the raw aggregate. Not a test: figures go to docs/performance.md.

usage: .venv/bin/python bench/credit_exposure.py [--admin-url URL] [--keep] [--seed N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import receivables_data  # noqa: E402
from erp import models  # noqa: E402,F401 - every table mapped
from erp.auth.roles import Actor, Role  # noqa: E402
from erp.credit import receivables, services  # noqa: E402
from erp.credit.exposure import CreditPolicy, exposure_drift  # noqa: E402
from erp.db import make_engine, make_session_factory  # noqa: E402
from erp.migrate import upgrade  # noqa: E402

CUSTOMERS = 50_000
INVOICES = 500_000
COMPANIES = 30
OPEN_ORDERS = 20_000
CHECKS = 1_000
ROUNDS = 9
AS_OF = dt.date(2026, 11, 20)
POLICY = CreditPolicy(warning_share=Decimal("0.90"), starting_limit=Decimal("100000"))
SPEC = receivables_data.Receivables(customers=CUSTOMERS, invoices=INVOICES, companies=COMPANIES,
                                    open_orders=OPEN_ORDERS, as_of=AS_OF)

RAW_AGEING = """
SELECT customer_id,
       sum(open_amount) AS open_amount,
       sum(CASE WHEN due_date < %(d)s THEN open_amount ELSE 0 END) AS overdue,
       sum(CASE WHEN due_date >= %(d)s THEN open_amount ELSE 0 END) AS not_due,
       sum(CASE WHEN due_date < %(d)s AND due_date >= %(d30)s THEN open_amount ELSE 0 END) AS days_1_30,
       sum(CASE WHEN due_date < %(d30)s AND due_date >= %(d60)s THEN open_amount ELSE 0 END) AS days_31_60,
       sum(CASE WHEN due_date < %(d60)s AND due_date >= %(d90)s THEN open_amount ELSE 0 END) AS days_61_90,
       sum(CASE WHEN due_date < %(d90)s THEN open_amount ELSE 0 END) AS over_90
FROM invoices
WHERE open_amount > 0 AND invoice_date <= %(d)s
GROUP BY customer_id
"""


def psql_url(sqlalchemy_url: str) -> str:
    return sqlalchemy_url.replace("postgresql+psycopg://", "postgresql://")


def timed(run: Callable[[], Any]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


# --- loading ------------------------------------------------------------------------------------

def load_master(conn: psycopg.Connection[Any], rng: random.Random) -> list[int]:
    """Group, segments, 30 companies with a warehouse each, one unit, ten materials, one user
    and 50,000 customers with valid unified social credit codes; returns customers' terms."""
    cur = conn.cursor()
    now = dt.datetime.now(dt.UTC)
    cur.execute("INSERT INTO groups (id, code, name_zh, name_en, created_at, updated_at) "
                "VALUES (1, 'HEYI', '合一', 'Heyi', %s, %s)", (now, now))
    for seg_id, code in enumerate(("API", "FORM", "DIST"), start=1):
        cur.execute("INSERT INTO segments (id, group_id, code, name_zh, name_en, active, created_at, updated_at) "
                    "VALUES (%s, 1, %s, %s, %s, true, %s, %s)", (seg_id, code, code, code, now, now))
    for company in range(1, COMPANIES + 1):
        cur.execute("INSERT INTO companies (id, code, segment_id, name_zh, name_en, active, created_at, updated_at) "
                    "VALUES (%s, %s, %s, %s, %s, true, %s, %s)",
                    (company, f"C{company:02d}", (company - 1) // 10 + 1, f"公司{company}", f"Company {company}",
                     now, now))
        cur.execute("INSERT INTO warehouses (id, code, company_id, name_zh, name_en, temp_min, temp_max, "
                    "max_humidity, active, created_at, updated_at) VALUES (%s, %s, %s, 'AMB', 'AMB', 10, 30, 75, "
                    "true, %s, %s)", (company, f"C{company:02d}-AMB", company, now, now))
    cur.execute("INSERT INTO units (id, code, name_zh, name_en, decimals, active, created_at, updated_at) "
                "VALUES (1, 'BOX', '盒', 'box', 0, true, %s, %s)", (now, now))
    for material in range(1, 11):
        cur.execute("INSERT INTO materials (id, code, name_zh, name_en, material_type, unit_id, procurement_scope, "
                    "batch_managed, inspection_required, over_receipt_tolerance_pct, active, created_at, updated_at) "
                    "VALUES (%s, %s, %s, %s, 'finished', 1, 'local', true, false, 0, true, %s, %s)",
                    (material, f"FG-{material:03d}", f"成品{material}", f"Product {material}", now, now))
    cur.execute("INSERT INTO users (id, username, display_name, password_hash, role, group_wide, active, created_at) "
                "VALUES (1, 'bench', 'bench', '-', 'credit_controller', true, true, %s)", (now,))
    terms = receivables_data.customer_terms(rng, SPEC)
    receivables_data.copy_customers(conn, terms)
    return terms


RAW_AGEING_PAST = """
SELECT i.customer_id,
       sum(i.open_amount + coalesce(p.amount, 0)) AS open_amount,
       sum(CASE WHEN i.due_date < %(d)s THEN i.open_amount + coalesce(p.amount, 0) ELSE 0 END) AS overdue,
       sum(CASE WHEN i.due_date >= %(d)s THEN i.open_amount + coalesce(p.amount, 0) ELSE 0 END) AS not_due,
       sum(CASE WHEN i.due_date < %(d)s AND i.due_date >= %(d30)s THEN i.open_amount + coalesce(p.amount, 0)
                ELSE 0 END) AS days_1_30,
       sum(CASE WHEN i.due_date < %(d30)s AND i.due_date >= %(d60)s THEN i.open_amount + coalesce(p.amount, 0)
                ELSE 0 END) AS days_31_60,
       sum(CASE WHEN i.due_date < %(d60)s AND i.due_date >= %(d90)s THEN i.open_amount + coalesce(p.amount, 0)
                ELSE 0 END) AS days_61_90,
       sum(CASE WHEN i.due_date < %(d90)s THEN i.open_amount + coalesce(p.amount, 0) ELSE 0 END) AS over_90
FROM invoices i
LEFT JOIN (SELECT invoice_id, sum(amount) AS amount FROM payment_applications WHERE applied_on > %(d)s
           GROUP BY invoice_id) p ON p.invoice_id = i.id
WHERE (i.open_amount > 0 OR p.invoice_id IS NOT NULL) AND i.invoice_date <= %(d)s
GROUP BY i.customer_id
"""
PAST = AS_OF - dt.timedelta(days=30)


def load(url: str, seed: int) -> dict[str, float]:
    rng = random.Random(seed)
    timings: dict[str, float] = {}
    with psycopg.connect(psql_url(url)) as conn:
        start = time.perf_counter()
        # The generated rows are consistent by construction: skip the per-row foreign-key
        # triggers during the load, as pg_restore does (the bench runs as a superuser).
        conn.execute("SET session_replication_role = replica")
        terms = load_master(conn, rng)
        receivables_data.copy_invoices(conn, rng, SPEC, terms)
        receivables_data.copy_orders(conn, rng, SPEC)
        conn.execute(receivables_data.EXPOSURES)
        conn.execute(receivables_data.APPROVED)
        for table in ("invoices", "payments", "payment_applications", "sales_orders", "sales_order_lines",
                      "customers"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        conn.commit()
        timings["load"] = time.perf_counter() - start
    with psycopg.connect(psql_url(url), autocommit=True) as conn:
        start = time.perf_counter()
        conn.execute("VACUUM ANALYZE")
        timings["vacuum"] = time.perf_counter() - start
    return timings


# --- measuring ----------------------------------------------------------------------------------

def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def interleaved(runs: dict[str, Callable[[], Any]], rounds: int) -> dict[str, list[float]]:
    """Time each run once per round, in turn, so that load from elsewhere on a shared
    machine falls on the baseline and the service alike; the first round only warms up."""
    samples: dict[str, list[float]] = {name: [] for name in runs}
    for round_number in range(rounds + 1):
        for name, run in runs.items():
            elapsed = timed(run)
            if round_number:
                samples[name].append(elapsed)
    return samples


def measure(url: str, seed: int) -> dict[str, Any]:
    engine = make_engine(url)
    session_factory = make_session_factory(engine)
    actor = Actor(user_id=1, username="bench", role=Role.CREDIT_CONTROLLER, group_wide=True)
    rng = random.Random(seed + 1)
    customers = [rng.randrange(1, CUSTOMERS + 1) for _ in range(CHECKS)]
    days = {"d": AS_OF, **{f"d{n}": AS_OF - dt.timedelta(days=n) for n in (30, 60, 90)}}
    past_days = {"d": PAST, **{f"d{n}": PAST - dt.timedelta(days=n) for n in (30, 60, 90)}}
    figures: dict[str, Any] = {}

    with psycopg.connect(psql_url(url)) as conn, session_factory() as session:
        def check(customer_id: int) -> None:
            # as a confirmation does it: its own transaction, the customer's row locked
            with session_factory() as own, own.begin():
                services.check_credit(own, actor, customer_id=customer_id, amount=Decimal("25000"),
                                      policy=POLICY, lock=True)

        def raw_check(customer_id: int) -> None:
            conn.execute("SELECT exposure, credit_limit, on_hold FROM customer_exposures WHERE customer_id = %s "
                         "FOR UPDATE", (customer_id,)).fetchone()
            conn.commit()

        checks = {"check": [], "raw_check": []}
        for number, customer_id in enumerate([*customers[:50], *customers]):  # the first 50 warm up
            for name, run in (("check", check), ("raw_check", raw_check)):
                elapsed = timed(lambda: run(customer_id)) * 1000  # noqa: B023 - called at once
                if number >= 50:
                    checks[name].append(elapsed)
        for name, samples in checks.items():
            figures[f"{name}_p50_ms"], figures[f"{name}_p95_ms"] = percentile(samples, 0.5), percentile(samples, 0.95)

        def raw_ageing() -> list[Any]:
            rows = conn.execute(RAW_AGEING, days).fetchall()
            conn.commit()
            return rows

        figures["raw_rows"] = len(raw_ageing())
        def raw_past() -> list[Any]:
            rows = conn.execute(RAW_AGEING_PAST, past_days).fetchall()
            conn.commit()
            return rows

        # The data's key date is the business day of these measurements: today=AS_OF.
        rows, _ = receivables.receivables_by_customer(session, actor, as_of=AS_OF, policy=POLICY, limit=None,
                                                      today=AS_OF)
        figures["ageing_rows"] = len(rows)
        board = receivables.dashboard(session, actor, as_of=AS_OF, policy=POLICY, top=100, today=AS_OF)
        past = receivables.dashboard(session, actor, as_of=PAST, policy=POLICY, top=100, today=AS_OF)
        session.commit()
        figures["raw_past_rows"] = len(raw_past())
        figures["dashboard_top"] = len(board.top_customers)
        figures["dashboard_alerts"] = (board.alerts.over_limit_count, board.alerts.over_90_count,
                                       board.alerts.on_hold_count, board.alerts.blocked_orders_count)
        figures["past_alerts"] = (past.alerts.over_limit_count, past.alerts.over_90_count,
                                  past.alerts.on_hold_count, past.alerts.blocked_orders_count)

        def ageing() -> None:
            with session.begin():
                receivables.receivables_by_customer(session, actor, as_of=AS_OF, policy=POLICY, limit=None,
                                                    today=AS_OF)

        def dashboard() -> None:
            with session.begin():
                receivables.dashboard(session, actor, as_of=AS_OF, policy=POLICY, top=100, today=AS_OF)

        def dashboard_past() -> None:
            with session.begin():
                receivables.dashboard(session, actor, as_of=PAST, policy=POLICY, top=100, today=AS_OF)

        samples = interleaved({"raw": raw_ageing, "ageing": ageing, "dashboard": dashboard, "raw_past": raw_past,
                               "dashboard_past": dashboard_past}, ROUNDS)
        for name, times in samples.items():
            figures[f"{name}_s"] = statistics.median(times)
        for name, base in (("ageing", "raw"), ("dashboard", "raw"), ("dashboard_past", "raw_past")):
            figures[f"{name}_ratio"] = statistics.median(t / r for t, r in zip(samples[name], samples[base]))
        start = time.perf_counter()
        figures["drift"] = len(exposure_drift(session))
        session.commit()
        figures["drift_check_s"] = time.perf_counter() - start
    engine.dispose()
    return figures


def machine() -> dict[str, str]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    return {"nproc": str(os.cpu_count()), "cpu": cpu, "python": platform.python_version()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--admin-url", default=os.environ.get("ERP_PG_ADMIN_URL",
                                                              "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--seed", type=int, default=20261127)
    parser.add_argument("--reuse", metavar="DATABASE", help="measure again on a database kept by --keep")
    args = parser.parse_args()
    name = args.reuse or f"erp_bench_credit_{int(time.time())}"
    pgdb = [sys.executable, str(ROOT / "scripts" / "pgdb.py")]
    if not args.reuse and subprocess.run([*pgdb, "create", args.admin_url, name]).returncode != 0:
        return 1
    url = "postgresql+psycopg://" + args.admin_url.removeprefix("postgresql://").rsplit("/", 1)[0] + "/" + name
    loaded = {"load": 0.0, "vacuum": 0.0}
    try:
        if not args.reuse:
            engine = make_engine(url)
            upgrade(engine)
            engine.dispose()
            loaded = load(url, args.seed)
        figures = measure(url, args.seed)
        with psycopg.connect(psql_url(url)) as conn:
            version = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
            counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # type: ignore[index]
                      for t in ("customers", "invoices", "payment_applications", "sales_orders")}
            open_invoices = conn.execute("SELECT count(*) FROM invoices WHERE open_amount > 0").fetchone()[0]  # type: ignore[index]
    finally:
        if not (args.keep or args.reuse):
            subprocess.run([*pgdb, "drop", args.admin_url, name])
    host = machine()
    print(f"machine: {host['nproc']} CPUs, {host['cpu']}; PostgreSQL {version}; Python {host['python']}")
    print(f"data: {counts['customers']:,} customers, {counts['invoices']:,} invoices ({open_invoices:,} open) "
          f"in {COMPANIES} companies, {counts['payment_applications']:,} payment applications, "
          f"{counts['sales_orders']:,} sales orders; loaded in {loaded['load']:.1f} s (+ VACUUM ANALYZE "
          f"{loaded['vacuum']:.1f} s)")
    print(f"exposure check through the service layer ({CHECKS} random customers, each its own transaction, "
          f"row locked): p50 {figures['check_p50_ms']:.2f} ms, p95 {figures['check_p95_ms']:.2f} ms "
          "(target p95 < 10 ms)")
    print(f"  baseline, raw SELECT ... FOR UPDATE + COMMIT: p50 {figures['raw_check_p50_ms']:.2f} ms, "
          f"p95 {figures['raw_check_p95_ms']:.2f} ms")
    print(f"baseline, raw-SQL ageing aggregate per customer: {figures['raw_s'] * 1000:.0f} ms "
          f"({figures['raw_rows']:,} rows), median of {ROUNDS}")
    print(f"consolidated ageing of all customers (service): {figures['ageing_s'] * 1000:.0f} ms "
          f"({figures['ageing_rows']:,} rows); {figures['ageing_ratio']:.2f}x the raw aggregate")
    print(f"dashboard with the top 100 (service): {figures['dashboard_s'] * 1000:.0f} ms; "
          f"{figures['dashboard_ratio']:.2f}x the raw aggregate (target < 3x)")
    print(f"  alerts: over limit, over 90 days, on hold, held orders = {figures['dashboard_alerts']}")
    print(f"baseline, raw-SQL ageing as of {PAST} (open amounts rebuilt with later payments): "
          f"{figures['raw_past_s'] * 1000:.0f} ms ({figures['raw_past_rows']:,} rows)")
    print(f"dashboard as of {PAST}, every figure rebuilt from the documents: {figures['dashboard_past_s'] * 1000:.0f} ms; "
          f"{figures['dashboard_past_ratio']:.2f}x its raw ageing (target < 3x)")
    print(f"  alerts then: over limit, over 90 days, on hold, held orders = {figures['past_alerts']}")
    print(f"exposure rebuilt from the documents: {figures['drift']} customers drift "
          f"({figures['drift_check_s']:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
