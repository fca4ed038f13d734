"""Benchmark: the CIO's dashboard as a page, on the data set of bench/credit_exposure.py.

Loads the same 50,000 customers and 500,000 invoices (bench/credit_exposure.py's loader),
signs a CIO in, and measures in one run, interleaved round by round:

1. the dashboard page (``GET /receivables``): from the request to the complete HTML,
   through the whole Flask stack (sign-in check, the reports, the 12-month trend, the
   template with its embedded chart data);
2. the charts' data as JSON (``GET /receivables/charts.json``);
3. the raw-SQL ageing aggregate per customer over the same invoices (the baseline of
   bench/credit_exposure.py, hand-written SQL through psycopg);

and, the same way, the page on the business day (its default: exposure read from the kept
rows, no past-day rebuild), the page as of the last month end (2026-10-31) and the 12
month-end trend alone; prints medians and ratios. Before measuring it writes the month-end
receivable snapshots as the nightly job does (``flask credit snapshot-receivables``), and
times that too; ``--no-snapshots`` measures without them (every month end rebuilt from the
documents), for comparison.
Target (issue #12): the page in under 1 s.
Not a test: figures go to docs/performance.md.

usage: .venv/bin/python bench/cio_dashboard_page.py [--admin-url URL] [--keep] [--reuse DATABASE]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import credit_exposure as data_set  # noqa: E402 - the same data set and baseline
from erp import create_app  # noqa: E402
from erp.auth.models import User  # noqa: E402
from erp.auth.roles import Actor, Role  # noqa: E402
from erp.credit import cio  # noqa: E402
from erp.credit.jobs import snapshot_month_ends  # noqa: E402
from erp.credit.models import ReceivableSnapshot, ReceivableSnapshotRun  # noqa: E402
from erp.auth.services import hash_password, issue_token  # noqa: E402
from erp.config import Settings  # noqa: E402
from erp.db import make_engine, make_session_factory  # noqa: E402
from erp.migrate import upgrade  # noqa: E402

ROUNDS = 5


def measure(url: str, *, with_snapshots: bool = True) -> dict[str, Any]:
    engine = make_engine(url)
    session_factory = make_session_factory(engine)
    figures: dict[str, Any] = {}
    with session_factory() as session, session.begin():
        session.execute(ReceivableSnapshot.__table__.delete())
        session.execute(ReceivableSnapshotRun.__table__.delete())
    if with_snapshots:
        start = time.perf_counter()
        written = snapshot_month_ends(session_factory, None, months=12, policy=data_set.POLICY)
        figures["snapshot_s"], figures["snapshot_months"] = time.perf_counter() - start, len(written)
    with session_factory() as session, session.begin():
        # The loader writes its rows with their ids; the users' sequence follows them.
        session.execute(text("SELECT setval(pg_get_serial_sequence('users', 'id'), "
                             "(SELECT coalesce(max(id), 0) + 1 FROM users), false)"))
        # a database kept by --keep has the user from the first run
        user = session.scalars(select(User).where(User.username == "bench.cio")).one_or_none()
        if user is None:
            user = User(username="bench.cio", display_name="bench.cio",
                        password_hash=hash_password("x", "pbkdf2:sha256:1000"), role=Role.CIO, group_wide=True)
            session.add(user)
            session.flush()
        token = issue_token(session, user.id, ttl_minutes=60).token
        user_id = user.id
    actor = Actor(user_id=user_id, username="bench.cio", role=Role.CIO, group_wide=True)
    app = create_app(Settings(database_url=url, secret_key="bench"), engine=engine)
    client = app.test_client()
    with client.session_transaction() as cookie:
        cookie["token"] = token
    as_of = data_set.AS_OF.isoformat()
    month_end = data_set.dt.date(2026, 10, 31)
    days = {"d": data_set.AS_OF, **{f"d{n}": data_set.AS_OF - data_set.dt.timedelta(days=n) for n in (30, 60, 90)}}
    with psycopg.connect(data_set.psql_url(url)) as conn:
        def raw() -> None:
            conn.execute(data_set.RAW_AGEING, days).fetchall()
            conn.commit()

        def page() -> None:
            response = client.get(f"/receivables?as_of={as_of}")
            assert response.status_code == 200, response.status_code
            figures["html_bytes"] = len(response.get_data())

        def page_today() -> None:
            # the page's default: the business day, read from the kept exposure rows
            response = client.get("/receivables")
            assert response.status_code == 200, response.status_code

        def page_month_end() -> None:
            response = client.get(f"/receivables?as_of={month_end.isoformat()}")
            assert response.status_code == 200, response.status_code

        def trend() -> None:
            with session_factory() as session, session.begin():
                cio.receivables_trend(session, actor, as_of=data_set.AS_OF)

        def charts() -> None:
            response = client.get(f"/receivables/charts.json?as_of={as_of}")
            assert response.status_code == 200, response.status_code
            figures["json_bytes"] = len(response.get_data())

        samples = data_set.interleaved({"raw": raw, "page": page, "charts": charts, "page_today": page_today,
                                        "page_month_end": page_month_end, "trend": trend}, ROUNDS)
    for name, times in samples.items():
        figures[f"{name}_s"] = statistics.median(times)
    for name in ("page", "charts", "page_today", "page_month_end", "trend"):
        figures[f"{name}_ratio"] = statistics.median(t / r for t, r in zip(samples[name], samples["raw"]))
    engine.dispose()
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--admin-url", default=os.environ.get("ERP_PG_ADMIN_URL",
                                                              "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--seed", type=int, default=20261127)
    parser.add_argument("--reuse", metavar="DATABASE", help="measure again on a database kept by --keep")
    parser.add_argument("--no-snapshots", action="store_true", help="measure without month-end snapshots")
    args = parser.parse_args()
    name = args.reuse or f"erp_bench_cio_{int(time.time())}"
    pgdb = [sys.executable, str(ROOT / "scripts" / "pgdb.py")]
    if not args.reuse and subprocess.run([*pgdb, "create", args.admin_url, name]).returncode != 0:
        return 1
    url = "postgresql+psycopg://" + args.admin_url.removeprefix("postgresql://").rsplit("/", 1)[0] + "/" + name
    try:
        engine = make_engine(url)
        upgrade(engine)  # a kept database is brought to the current schema too
        engine.dispose()
        if not args.reuse:
            data_set.load(url, args.seed)
        figures = measure(url, with_snapshots=not args.no_snapshots)
    finally:
        if not (args.keep or args.reuse):
            subprocess.run([*pgdb, "drop", args.admin_url, name])
    host = data_set.machine()
    print(f"machine: {host['nproc']} CPUs, {host['cpu']}; Python {host['python']}")
    print(f"data: bench/credit_exposure.py's {data_set.CUSTOMERS:,} customers and {data_set.INVOICES:,} invoices "
          f"in {data_set.COMPANIES} companies; key date {data_set.AS_OF}; medians of {ROUNDS} interleaved rounds")
    print(f"baseline, raw-SQL ageing aggregate per customer: {figures['raw_s'] * 1000:.0f} ms")
    print(f"dashboard page, request to complete HTML ({figures['html_bytes']:,} bytes): "
          f"{figures['page_s'] * 1000:.0f} ms; {figures['page_ratio']:.2f}x the raw aggregate (target < 1 s)")
    print(f"chart data JSON ({figures['json_bytes']:,} bytes): {figures['charts_s'] * 1000:.0f} ms; "
          f"{figures['charts_ratio']:.2f}x the raw aggregate")
    print(f"dashboard page on the business day (the page's default; exposure from the kept rows): "
          f"{figures['page_today_s'] * 1000:.0f} ms; {figures['page_today_ratio']:.2f}x the raw aggregate")
    print(f"dashboard page as of the month end 2026-10-31: {figures['page_month_end_s'] * 1000:.0f} ms; "
          f"{figures['page_month_end_ratio']:.2f}x the raw aggregate")
    if "snapshot_s" in figures:
        print(f"month-end snapshots written first ({figures['snapshot_months']} month ends, as the job does): "
              f"{figures['snapshot_s']:.1f} s")
    else:
        print("no month-end snapshots (--no-snapshots): every month end rebuilt from the documents")
    print(f"of which the 12 month-end trend (service, as of the key date): {figures['trend_s'] * 1000:.0f} ms; "
          f"{figures['trend_ratio']:.2f}x the raw aggregate")
    return 0


if __name__ == "__main__":
    sys.exit(main())
