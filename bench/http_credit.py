"""Benchmark: the CIO's dashboard and one customer's exposure over HTTP, on the generated
group-sized data set (bench/generate.py), beside the raw aggregate in the same run.

Starts gunicorn with the project's gunicorn.conf.py (as ``make serve`` does) against the
generated database and, with the generator's bearer tokens:

1. the dashboard: ``GET /api/v1/credit/dashboard?top=100`` as the CIO, each request timed
   from sending to the last byte of the JSON, interleaved round by round with the raw-SQL
   ageing aggregate over the same invoices (bench/credit_exposure.py's RAW_AGEING, all rows
   fetched through psycopg) and the dashboard through the service layer in this process,
   so load from elsewhere on the shared machine falls on all three alike; medians and the
   median of the per-round ratios;
2. one customer's exposure: ``GET /api/v1/credit/customers/<id>?amount=25000`` as the
   credit controller (exposure, limit, hold and whether the amount would pass), for
   ``--checks`` customers drawn with the invoices' skew, one keep-alive connection
   (bench.common.KeepAliveClient: the client's own CPU, on the cores the server shares, is
   in every sequential latency, so it is kept small); p50 and p95, beside the raw
   ``SELECT ... FROM customer_exposures`` of the same customer.

With ``--against DIR`` (another checkout of Heyi with its own .venv, e.g. main before a
change), a second gunicorn serves the same checks from that checkout, and each customer is
asked of both, in alternating order, so that both sets of figures come from the same minutes
of the shared machine. ``--rounds 0`` leaves the dashboard out.

Targets (issue 18): dashboard over HTTP within 3x of the raw aggregate; the exposure
check's p95 under 5 ms.

Usage (the data set first, then this; take the benchmark lock around it):
    .venv/bin/python -m bench.generate --database-url postgresql://postgres@127.0.0.1:5432/heyi_gen --fresh
    flock /work/coord/bench.lock .venv/bin/python -m bench.http_credit \\
        --database-url postgresql://postgres@127.0.0.1:5432/heyi_gen [--seed 1] [--rounds 9] [--checks 1000] \
        [--against /path/to/other/checkout]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import random
import statistics
import time
from decimal import Decimal
from typing import Any
from pathlib import Path

import psycopg

from bench.common import KeepAliveClient, git_revision, machine, serve
from bench.credit_exposure import RAW_AGEING
from bench.generate import LAST_DAY, sqlalchemy_url, token_of
from bench.http_receipts import percentile
from bench.receivables_data import skewed_customer
from erp.auth.roles import Actor, Role
from erp.config import load_settings
from erp.credit import receivables, services
from erp.credit.exposure import CreditPolicy
from erp.db import make_engine, make_session_factory


def get(connection: KeepAliveClient, path: str, token: str) -> tuple[float, bytes]:
    """(milliseconds to the last byte, body) of one GET; fails loudly on anything but 200."""
    status, body, elapsed = connection.request("GET", path, {"Authorization": f"Bearer {token}"})
    if status != 200:
        raise SystemExit(f"GET {path}: {status} {body[:300]!r}")
    return elapsed, body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True, help="a database bench/generate.py loaded")
    parser.add_argument("--seed", type=int, default=1, help="the generator's seed (its tokens)")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--checks", type=int, default=1000)
    parser.add_argument("--against", type=Path, default=None,
                        help="another checkout (with .venv) whose server answers the same checks, interleaved")
    args = parser.parse_args()
    url = args.database_url.replace("postgresql+psycopg://", "postgresql://")
    as_of = LAST_DAY
    days = {"d": as_of, **{f"d{n}": as_of - dt.timedelta(days=n) for n in (30, 60, 90)}}
    with psycopg.connect(url) as conn:
        customers = conn.execute("SELECT count(*) FROM customers").fetchone()[0]  # type: ignore[index]
        cio_id = conn.execute("SELECT id FROM users WHERE username = 'cio'").fetchone()[0]  # type: ignore[index]
        controller_id = conn.execute("SELECT id FROM users WHERE username = 'credit_controller'"
                                     ).fetchone()[0]  # type: ignore[index]
    cio, controller = token_of("cio", args.seed), token_of("credit_controller", args.seed)
    engine = make_engine(sqlalchemy_url(url))
    sessions = make_session_factory(engine)
    actor = Actor(cio_id, "cio", Role.CIO, True)
    policy = CreditPolicy.from_settings(load_settings(database_url=sqlalchemy_url(url)))
    path = f"/api/v1/credit/dashboard?as_of={as_of}&top=100"
    samples: dict[str, list[float]] = {"raw": [], "http": [], "service": []}
    checks: dict[str, list[float]] = {"http": [], "service": [], "raw": [], "against": []}
    checker = Actor(controller_id, "credit_controller", Role.CREDIT_CONTROLLER, True)
    try:
        with contextlib.ExitStack() as servers:
            server = servers.enter_context(serve(url))
            connection = KeepAliveClient(server.port)
            other = None
            if args.against is not None:
                other_server = servers.enter_context(serve(url, root=args.against.resolve()))
                other = KeepAliveClient(other_server.port)
            with psycopg.connect(url) as raw:
                def raw_aggregate() -> None:
                    raw.execute(RAW_AGEING, days).fetchall()
                    raw.commit()

                def service() -> None:
                    with sessions() as session, session.begin():
                        receivables.dashboard(session, actor, as_of=as_of, policy=policy, top=100)

                _, body = get(connection, path, cio)
                board = json.loads(body)
                for round_number in range(args.rounds + 1 if args.rounds else 0):  # the first round warms up
                    for name, run in (("raw", raw_aggregate), ("http", lambda: get(connection, path, cio)),
                                      ("service", service)):
                        started = time.perf_counter()
                        run()
                        if round_number:
                            samples[name].append(time.perf_counter() - started)

                rng = random.Random(args.seed + 1)
                picks = [skewed_customer(rng, customers) if rng.random() < 0.5 else rng.randrange(1, customers + 1)
                         for _ in range(args.checks + 50)]
                for number, customer_id in enumerate(picks):  # the first 50 warm up
                    check = f"/api/v1/credit/customers/{customer_id}?amount=25000"
                    if other is not None and number % 2:
                        against_ms, _ = get(other, check, controller)
                    elapsed, _ = get(connection, check, controller)
                    if other is not None and not number % 2:
                        against_ms, _ = get(other, check, controller)
                    started = time.perf_counter()
                    raw.execute("SELECT c.blocked, e.exposure, e.credit_limit, e.on_hold FROM customers c "
                                "JOIN customer_exposures e ON e.customer_id = c.id WHERE c.id = %s",
                                (customer_id,)).fetchone()
                    raw.commit()
                    raw_ms = (time.perf_counter() - started) * 1000
                    started = time.perf_counter()
                    with sessions() as session, session.begin():
                        services.credit_position(session, checker, customer_id, policy=policy, amount=Decimal("25000"))
                    service_ms = (time.perf_counter() - started) * 1000
                    if number >= 50:
                        if other is not None:
                            checks["against"].append(against_ms)
                        checks["http"].append(elapsed)
                        checks["raw"].append(raw_ms)
                        checks["service"].append(service_ms)
            connection.close()
            if other is not None:
                other.close()
    finally:
        engine.dispose()
    print(f"machine: {machine()}; revision {git_revision()}; load average {os.getloadavg()[0]:.1f}")
    if args.rounds:
        _print_dashboard(url, customers, as_of, board, samples, args.rounds)
    print(f"one customer's exposure over HTTP ({args.checks} customers): p50 {percentile(checks['http'], 0.5):.2f} ms, "
          f"p95 {percentile(checks['http'], 0.95):.2f} ms (target p95 < 5 ms)")
    if args.against is not None:
        print(f"  the same from {args.against} (revision {git_revision(args.against)}), interleaved: "
              f"p50 {percentile(checks['against'], 0.5):.2f} ms, p95 {percentile(checks['against'], 0.95):.2f} ms")
    print(f"  the same through the service layer in-process (credit_position, its own transaction): "
          f"p50 {percentile(checks['service'], 0.5):.2f} ms, p95 {percentile(checks['service'], 0.95):.2f} ms")
    print(f"  baseline, raw SELECT of the exposure row: p50 {percentile(checks['raw'], 0.5):.2f} ms, "
          f"p95 {percentile(checks['raw'], 0.95):.2f} ms")


def _print_dashboard(url: str, customers: int, as_of: dt.date, board: dict[str, Any],
                     samples: dict[str, list[float]], rounds: int) -> None:
    ratios = [h / r for h, r in zip(samples["http"], samples["raw"], strict=True)]
    service_ratios = [s / r for s, r in zip(samples["service"], samples["raw"], strict=True)]
    print(f"data: {url.rsplit('/', 1)[1]}, {customers:,} customers; dashboard as of {as_of}: "
          f"{len(board['top_customers'])} top customers, {len(json.dumps(board)):,} bytes of JSON")
    print(f"raw-SQL ageing aggregate (baseline):  {statistics.median(samples['raw']) * 1000:7.0f} ms "
          f"(median of {rounds})")
    print(f"dashboard over HTTP (gunicorn):       {statistics.median(samples['http']) * 1000:7.0f} ms; "
          f"{statistics.median(ratios):.2f}x the raw aggregate (target: within 3x)")
    print(f"dashboard, service layer in-process:  {statistics.median(samples['service']) * 1000:7.0f} ms; "
          f"{statistics.median(service_ratios):.2f}x the raw aggregate")


if __name__ == "__main__":
    main()
