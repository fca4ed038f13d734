"""Mixed load test: ``python -m bench.load --users 50 --seconds 60 [--ladder 1,5,10,25] [--generated 1.0]``.

A fresh PostgreSQL database with the load data set (the demo group; with ``--generated
SCALE`` the group-sized data set of bench/generate.py at that scale; with
``--from-database NAME`` a copy of a database bench/generate.py has loaded), gunicorn as
``make serve`` runs it, locust (headless) at each user count of the ladder and then at
``--users``, each for ``--seconds``; gunicorn stopped gracefully; the invariants checked. Exits 1 when a request
failed, an invariant broke, gunicorn did not stop cleanly or throughput collapsed (at the
largest user count below 80 % of the best at a lower one). See bench/load/runner.py.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from bench.common import fresh_database, git_revision, machine
from bench.generate import main as generate
from bench.load.dataset import prepare, prepare_generated
from bench.load.runner import Step, elapsed, report, run
from erp.db import make_session_factory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--ladder", default="", help="lower user counts run first, e.g. 1,5,10,25")
    parser.add_argument("--generated", type=float, metavar="SCALE",
                        help="the group of bench/generate.py at this scale (1.0: full size) instead of the demo")
    parser.add_argument("--from-database", metavar="NAME",
                        help="start from a copy of this database, already loaded by bench/generate.py "
                             "(no one may be connected to it while it is copied)")
    parser.add_argument("--customers", type=int, default=40)
    parser.add_argument("--open-orders", type=int, default=20)
    parser.add_argument("--workdir", type=Path, help="keep the plan, locust's and gunicorn's logs here")
    parser.add_argument("--database", default="erp_bench_load", help="name of the database made for the run")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    counts = [int(c) for c in args.ladder.split(",") if c.strip()] + [args.users]
    start = time.monotonic()
    with fresh_database(args.database, keep=args.keep, template=args.from_database) as (engine, url):
        session_factory = make_session_factory(engine)
        if args.from_database:
            with session_factory() as session:
                plan = prepare_generated(session, customers=args.customers, open_orders=args.open_orders)
        elif args.generated:
            if generate(["--database-url", url, "--scale", str(args.generated)]):
                raise SystemExit("the generated data set failed its checks")
            with session_factory() as session:
                plan = prepare_generated(session, customers=args.customers, open_orders=args.open_orders)
        else:
            with session_factory() as session:
                plan = prepare(session, customers=args.customers, open_orders=args.open_orders)
        group = (f"a copy of {args.from_database}" if args.from_database
                 else f"the generated group at scale {args.generated}" if args.generated else "the demo group")
        print(f"data set ready ({elapsed(start)}): {group}, {args.open_orders} open orders, "
              f"{len(plan['customers'])} customers with limits, {len(plan['sellers'])} selling companies", flush=True)

        def progress(step: Step) -> None:
            print(f"  {step.users} users: {step.throughput:.1f} requests/s, {step.failures} failures, "
                  f"{step.refused} refusals, p50 {step.p50_ms:.0f} ms, p99 {step.p99_ms:.0f} ms", flush=True)

        outcome = run(url.replace("postgresql://", "postgresql+psycopg://"), plan, counts, args.seconds,
                      session_factory, workdir=args.workdir, on_step=progress)
    print(f"machine: {machine()}; revision {git_revision()}; load average {os.getloadavg()[0]:.1f} "
          f"(1 min), {os.getloadavg()[1]:.1f} (5 min)")
    print("gunicorn.conf.py defaults: one worker per core, 4 threads each; locust headless, no think time")
    print(report(outcome))
    raise SystemExit(0 if outcome.holds else 1)


if __name__ == "__main__":
    main()
