"""Benchmark: recomputing 50,000 suggested credit limits, and the model's backtest, on PostgreSQL.

Loads the data set of ``bench/credit_exposure.py`` (50,000 customers, 500,000 invoices of
the 12 months to 20 Nov 2026 across 30 companies, the payments that settled most of them,
20,000 open orders, the approved limits as versions set on 1 Nov 2025), and adds what the
limit model reads beyond it: credit data for three
customers in five (customer type, statements, a grade or an agency score, founding date;
some statements stale, some customers rated D) and 5,000 disputes; credit data in two
versions (in force from 30 Apr 2025 and 30 Apr 2026, the statements of 2024 and 2025). Then, in the same run:

1. **recompute**: ``limits.suggest_limits`` as of 20 Nov 2026 for every customer, through
   the service layer, one transaction, committed (each round a new run, as in the product);
2. **baseline**: a hand-written raw-SQL aggregate of the same inputs through psycopg (per
   customer: invoiced in the 12 months and the first invoice, payments applied in the
   window with their amount-weighted days late, open, overdue and more than 90 days
   overdue on the key date, disputes in the window, joined to the credit data in force),
   every row fetched: the reading the model cannot do without, before any scoring;

timed in turn, ``--rounds`` rounds after a warm-up, medians and the ratio; and once
3. **backtest**: ``backtest.run_backtest`` for the month ends Nov 2025 - Oct 2026 as known
   on 20 Nov 2026, its figures printed (they go to docs/credit.md).

usage: .venv/bin/python bench/credit_limits.py [--admin-url URL] [--keep] [--reuse NAME] [--rounds N]
Not a test: figures go to docs/performance.md and docs/credit.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.credit_exposure import AS_OF, POLICY, load, machine, psql_url  # noqa: E402
from erp import models  # noqa: E402,F401 - every table mapped
from erp.credit.backtest import run_backtest  # noqa: E402
from erp.credit.limits import suggest_limits  # noqa: E402
from erp.credit.parameters import ensure_model  # noqa: E402
from erp.db import make_engine, make_session_factory  # noqa: E402
from erp.migrate import upgrade  # noqa: E402

WINDOW_START = dt.date(2025, 11, 20)  # the 12-month window is (start, key date]

CREDIT_DATA = """
INSERT INTO customer_credit_profiles (customer_id, version, valid_from, customer_type, registered_capital,
    tangible_net_worth, annual_turnover, statement_date, rating_grade, rating_score, rating_agency, rating_date,
    founded_on, collateral_amount, reason, recorded_by, recorded_at)
SELECT c.id, v.version, v.valid_from,
       (ARRAY['hospital', 'pharmacy_chain', 'distributor', 'other'])[1 + c.id % 4],
       (c.id % 97) * 500000, (c.id % 89 - 8 + v.version) * 250000, (c.id % 83 + v.version) * 1000000,
       v.statement_date,
       CASE WHEN c.id % 2 = 0 THEN (ARRAY['A', 'B', 'B', 'C', 'A', 'B', 'C', 'D'])[1 + (c.id / 2 + v.version) % 8] END,
       CASE WHEN c.id % 2 = 1 THEN 30 + (c.id * v.version) % 71 END,
       'bench agency', v.rating_date,
       DATE '2000-01-01' + (c.id % 9000),
       CASE WHEN c.id % 11 = 0 THEN 100000 ELSE 0 END,
       'bench credit data', 1, now()
FROM customers c
CROSS JOIN (VALUES (1, DATE '2025-04-30', DATE '2024-12-31', DATE '2025-03-01'),
                   (2, DATE '2026-04-30', DATE '2025-12-31', DATE '2026-03-01'))
     AS v (version, valid_from, statement_date, rating_date)
-- three customers in five have credit data; one in seven of those never sent the 2025
-- statements, so theirs go stale (older than 18 months) during the backtest
WHERE c.id % 5 < 3 AND (v.version = 1 OR c.id % 7 <> 0)
"""

DISPUTES = """
INSERT INTO invoice_disputes (invoice_id, company_id, customer_id, amount, opened_on, reason, opened_by, opened_at)
SELECT i.id, i.company_id, i.customer_id, round(i.amount / 4, 2), i.invoice_date + 20, 'bench dispute', 1, now()
FROM invoices i WHERE i.id % 100 = 0
"""

RAW_INPUTS = """
WITH sales AS (
    SELECT customer_id, sum(CASE WHEN invoice_date > %(start)s THEN amount ELSE 0 END) AS invoiced,
           min(invoice_date) AS first_invoice
    FROM invoices WHERE invoice_date <= %(d)s GROUP BY customer_id),
paid AS (
    SELECT i.customer_id, sum(a.amount) AS paid, sum(a.amount * greatest(a.days_late, 0)) AS paid_days_late
    FROM payment_applications a JOIN invoices i ON i.id = a.invoice_id
    WHERE a.applied_on > %(start)s AND a.applied_on <= %(d)s GROUP BY i.customer_id),
still_open AS (
    SELECT customer_id, sum(open_amount) AS open,
           sum(CASE WHEN due_date < %(d)s THEN open_amount ELSE 0 END) AS overdue,
           sum(CASE WHEN due_date < %(d90)s THEN open_amount ELSE 0 END) AS over_90
    FROM invoices WHERE open_amount > 0 AND invoice_date <= %(d)s GROUP BY customer_id),
disputed AS (
    SELECT customer_id, sum(amount) AS disputed FROM invoice_disputes
    WHERE opened_on > %(start)s AND opened_on <= %(d)s GROUP BY customer_id),
profile AS (
    SELECT DISTINCT ON (customer_id) * FROM customer_credit_profiles WHERE valid_from <= %(d)s
    ORDER BY customer_id, valid_from DESC, version DESC)
SELECT c.id, s.invoiced, s.first_invoice, p.paid, p.paid_days_late, o.open, o.overdue, o.over_90, d.disputed,
       f.customer_type, f.tangible_net_worth, f.annual_turnover, f.registered_capital, f.statement_date,
       f.rating_grade, f.rating_score, f.rating_date, f.founded_on, f.collateral_amount
FROM customers c
LEFT JOIN sales s ON s.customer_id = c.id
LEFT JOIN paid p ON p.customer_id = c.id
LEFT JOIN still_open o ON o.customer_id = c.id
LEFT JOIN disputed d ON d.customer_id = c.id
LEFT JOIN profile f ON f.customer_id = c.id
WHERE c.active
"""


def add_model_inputs(url: str) -> None:
    with psycopg.connect(psql_url(url)) as conn:
        conn.execute(CREDIT_DATA)
        conn.execute(DISPUTES)
        conn.commit()
    with psycopg.connect(psql_url(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE customer_credit_profiles")
        conn.execute("VACUUM ANALYZE invoice_disputes")
        conn.execute("VACUUM ANALYZE credit_limits")


def measure(url: str, rounds: int) -> dict[str, Any]:
    engine = make_engine(url)
    session_factory = make_session_factory(engine)
    figures: dict[str, Any] = {}
    params = {"d": AS_OF, "start": WINDOW_START, "d90": AS_OF - dt.timedelta(days=90)}
    with session_factory() as session, session.begin():
        ensure_model(session, None, AS_OF)
    with psycopg.connect(psql_url(url)) as conn:
        recompute_s: list[float] = []
        raw_s: list[float] = []
        for round_number in range(rounds + 1):
            start = time.perf_counter()
            rows = conn.execute(RAW_INPUTS, params).fetchall()
            conn.commit()
            raw = time.perf_counter() - start
            start = time.perf_counter()
            with session_factory() as session, session.begin():
                run = suggest_limits(session, None, as_of=AS_OF, today=AS_OF)
                run_id, counts = run.id, (run.customers, run.with_history, run.held)
            recompute = time.perf_counter() - start
            if round_number:
                raw_s.append(raw)
                recompute_s.append(recompute)
            # Runs are kept, as the product keeps them (deleting one would check every
            # suggestion against credit_limits.suggestion_id, which has no index).
            figures["raw_rows"], figures["counts"] = len(rows), counts
        figures["raw_s"], figures["recompute_s"] = statistics.median(raw_s), statistics.median(recompute_s)
        figures["ratio"] = statistics.median(r / b for r, b in zip(recompute_s, raw_s))
        figures["classes"] = conn.execute(
            "SELECT risk_class, count(*), sum(CASE WHEN hold THEN 1 ELSE 0 END), sum(suggested_limit) "
            "FROM credit_limit_suggestions WHERE run_id = %s GROUP BY risk_class ORDER BY min(score) DESC",
            (run_id,)).fetchall()
    with session_factory() as session, session.begin():
        start = time.perf_counter()
        figures["backtest"] = run_backtest(session, None, first_month="2025-11", last_month="2026-10",
                                           policy=POLICY, today=AS_OF)
        figures["backtest_s"] = time.perf_counter() - start
    engine.dispose()
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--admin-url", default=os.environ.get("ERP_PG_ADMIN_URL",
                                                              "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", metavar="DATABASE", help="measure again on a database kept by --keep")
    parser.add_argument("--seed", type=int, default=20261127)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    name = args.reuse or f"erp_bench_limits_{int(time.time())}"
    pgdb = [sys.executable, str(ROOT / "scripts" / "pgdb.py")]
    if not args.reuse and subprocess.run([*pgdb, "create", args.admin_url, name]).returncode != 0:
        return 1
    url = "postgresql+psycopg://" + args.admin_url.removeprefix("postgresql://").rsplit("/", 1)[0] + "/" + name
    try:
        engine = make_engine(url)
        upgrade(engine)  # a kept database is brought to the code's schema as well
        engine.dispose()
        if not args.reuse:
            loaded = load(url, args.seed)
            add_model_inputs(url)
            print(f"loaded in {loaded['load']:.1f} s (+ VACUUM ANALYZE {loaded['vacuum']:.1f} s)", flush=True)
        figures = measure(url, args.rounds)
        with psycopg.connect(psql_url(url)) as conn:
            version = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
            counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # type: ignore[index]
                      for t in ("customers", "invoices", "payment_applications", "customer_credit_profiles",
                                "invoice_disputes", "credit_limits")}
    finally:
        if not (args.keep or args.reuse):
            subprocess.run([*pgdb, "drop", args.admin_url, name])
    host = machine()
    print(f"machine: {host['nproc']} CPUs, {host['cpu']}; PostgreSQL {version}; Python {host['python']}; "
          f"load average {os.getloadavg()[0]:.1f}")
    print("data: " + ", ".join(f"{n:,} {t}" for t, n in counts.items()))
    customers, with_history, held = figures["counts"]
    print(f"recompute ({customers:,} customers, {with_history:,} with history, {held:,} held), service layer, "
          f"committed: median {figures['recompute_s']:.2f} s of {args.rounds}")
    print(f"  baseline, raw-SQL aggregate of the same inputs ({figures['raw_rows']:,} rows fetched): "
          f"median {figures['raw_s']:.2f} s; recompute / baseline {figures['ratio']:.2f}x")
    for risk_class, number, holds, total in figures["classes"]:
        print(f"  {risk_class}: {number:,} customers, {holds:,} held, suggested {total:,.2f}")
    result = figures["backtest"]
    print(f"backtest 2025-11 .. 2026-10 as known on {AS_OF}: {figures['backtest_s']:.1f} s")
    for m in result.months:
        print(f"  {m.month_end}: {m.customers:,} customers, held {m.held:,}, limited {m.limited:,}, withheld "
              f"{m.withheld:,.2f}; went bad {m.went_bad:,} (held {m.went_bad_held:,}, limited "
              f"{m.went_bad_limited:,}), over 90 days {m.overdue_amount:,.2f}, after the month end "
              f"{m.overdue_after:,.2f}, covered {m.covered:,.2f}")
    after = result.total("overdue_after")
    print(f"  once each: {result.went_bad:,} went bad: held {result.count('held'):,}, limited "
          f"{result.count('limited'):,}, not limited {result.count('not_limited'):,}; over 90 days "
          f"{result.total('overdue_amount'):,.2f}, after the month end {after:,.2f}, covered "
          f"{result.total('covered'):,.2f}" + (f" ({result.total('covered') / after * 100:.1f} %)" if after else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
