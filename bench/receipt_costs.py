"""What one receipt costs, counted rather than timed: figures the rest of the machine's load
does not move, so two revisions can be compared on a busy machine.

For receipts booked one per transaction through the service layer (as bench.receipts books
them, after 20 to warm up), per receipt:

- the SQL statements sent;
- the client's instructions, counted by valgrind's callgrind when this runs under it
  (``--instr-atstart=no``: only the booking loop is counted; this process turns counting
  on and off with ``callgrind_control``, whose own start-up adds a fixed ~16 million
  instructions to the loop, under 1 % of it);
- the server's work in the benchmark database, from ``pg_stat_database``: shared buffers
  hit and read, rows returned, fetched, inserted and updated (every backend's, flushed by
  closing the connections before the second reading; autovacuum is off on every table so
  that only the receipts count).

Usage (bench/compare_revisions.py runs both steps for two revisions in turn):
  .venv/bin/python -m bench.receipt_costs prepare NAME         a fresh database named NAME, set up
  valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=F \
      .venv/bin/python -m bench.receipt_costs book NAME [--receipts 200]
  .venv/bin/python -m bench.receipt_costs profile NAME [--receipts 200] [--stats FILE]
  .venv/bin/python -m bench.receipt_costs http-profile NAME [--receipts 200] [--stats FILE] [--top 25]
  .venv/bin/python -m bench.receipt_costs drop NAME
``http-profile`` counts the Python calls of one receipt POSTed to /api/v1/inventory/receipts
through the whole app (Flask's test client, one process, the clerk's bearer token, after 20
to warm up) and prints the functions with the most calls beneath them (cumulative, per
receipt): the framework's per-request work beside the service layer's (``profile``).
Counts, not seconds: a busy machine does not move them. The documented way to count (issue 18):
  .venv/bin/python -m bench.receipt_costs prepare rc_http && \
  .venv/bin/python -m bench.receipt_costs http-profile rc_http && \
  .venv/bin/python -m bench.receipt_costs drop rc_http
``book`` prints one JSON object; read the instructions from F (``totals:``).
Run from a checkout of the revision to measure (``git archive REV | tar -x -C DIR``, with this
file copied in): ``bench.receipts.SETUP`` of that revision sets the database up.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import psycopg
from sqlalchemy import Engine, event

from bench.common import ADMIN_URL, fresh_database
from bench.receipts import SETUP
from erp.auth.roles import Actor, Role
from erp.db import make_engine, make_session_factory
from erp.inventory.services import ReceiptRequest, receive_goods

COUNTERS = ("blks_hit", "blks_read", "tup_returned", "tup_fetched", "tup_inserted", "tup_updated",
            "tup_deleted", "xact_commit")


def _url(name: str) -> str:
    return ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def prepare(name: str) -> None:
    """A fresh migrated database set up as bench.receipts sets it up, kept for ``book``."""
    with fresh_database(name, keep=True) as (_engine, url):
        with psycopg.connect(url) as conn:
            for statement in SETUP.split(";\n"):
                conn.execute(statement)
            for (table,) in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall():
                conn.execute(f'ALTER TABLE "{table}" SET (autovacuum_enabled = false)')
            conn.commit()


def drop(name: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _server_counters(name: str) -> dict[str, int]:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        row = conn.execute(f"SELECT {', '.join(COUNTERS)} FROM pg_stat_database WHERE datname = %s",
                           (name,)).fetchone()
    assert row is not None
    return dict(zip(COUNTERS, (int(v) for v in row)))


def _count_instructions(state: str) -> None:
    """Turn callgrind's counting on or off for this process (nothing when not under it)."""
    if os.environ.get("RECEIPT_COSTS_CALLGRIND") == "1" and shutil.which("callgrind_control"):
        subprocess.run(["callgrind_control", "-i", state, str(os.getpid())], check=True, capture_output=True)


def _receiver(engine: Engine) -> Callable[[int], None]:
    """Books receipt ``i``: 10 of order line 1 + i % 2000 (bench.receipts' orders) into its own
    batch, as the warehouse clerk of company 1, in one transaction."""
    sessions = make_session_factory(engine)
    clerk = Actor(1, "clerk", Role.CLERK, False, frozenset({1}), frozenset({1}))

    def receive(i: int) -> None:
        with sessions() as session, session.begin():
            receive_goods(session, clerk, ReceiptRequest(
                po_line_id=1 + i % 2000, quantity=Decimal("10"), posting_date=dt.date(2026, 11, 20),
                batch_number=f"C{i:07d}", manufacture_date=dt.date(2026, 10, 1),
                expiry_date=dt.date(2029, 9, 30)))

    return receive


def book(name: str, receipts: int, freeze: bool = False) -> dict[str, Any]:
    """Book ``receipts`` receipts (after 20 to warm up) and count what they cost; with
    ``freeze``, what was alive after the warm-up is left out of the garbage collector's
    collections (``gc.freeze()``, as gunicorn.conf.py's ``post_worker_init`` does)."""
    engine = make_engine(_url(name).replace("postgresql://", "postgresql+psycopg://"))
    receive = _receiver(engine)
    sent: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    for i in range(20):
        receive(i)
    if freeze:
        import gc

        gc.collect()
        gc.freeze()
    # The warm-up's backend exits, flushing its statistics before the first reading (a live
    # backend flushes them up to 10 s later); the loop's first receipt starts a new backend
    # (its catalog lookups, a few hundred buffers, are in the figures: the same for any revision).
    engine.dispose()
    time.sleep(1.5)
    before = _server_counters(name)
    event.listen(engine, "before_cursor_execute", count)
    _count_instructions("on")
    began = time.process_time()
    for i in range(20, 20 + receipts):
        receive(i)
    cpu = time.process_time() - began
    _count_instructions("off")
    event.remove(engine, "before_cursor_execute", count)
    engine.dispose()  # the backend exits and flushes its statistics
    time.sleep(1.5)
    after = _server_counters(name)
    return {"receipts": receipts, "statements": len(sent) / receipts, "client_cpu_ms": cpu / receipts * 1000,
            **{key: (after[key] - before[key]) / receipts for key in COUNTERS}}


def explain(name: str) -> list[dict[str, Any]]:
    """After 20 receipts to warm up, each statement of one more receipt with its plan's
    shared buffers and rows (``EXPLAIN (ANALYZE, BUFFERS)`` of the statement with its values,
    inside a savepoint rolled back before the statement itself runs)."""
    engine = make_engine(_url(name).replace("postgresql://", "postgresql+psycopg://"))
    receive = _receiver(engine)
    plans: list[dict[str, Any]] = []

    def explained(_conn: Any, cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        if statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            return
        cursor.execute("SAVEPOINT receipt_costs_explain")
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, parameters)
        plan = cursor.fetchone()[0][0]
        cursor.execute("ROLLBACK TO SAVEPOINT receipt_costs_explain")
        top = plan["Plan"]
        plans.append({"statement": " ".join(statement.split())[:90],
                      "shared_hit": top.get("Shared Hit Blocks", 0) + top.get("Shared Read Blocks", 0),
                      "planning_hit": plan.get("Planning", {}).get("Shared Hit Blocks", 0),
                      "rows": top.get("Actual Rows", 0),
                      "triggers": sum(t.get("Calls", 0) for t in plan.get("Triggers", []))})

    for i in range(20):
        receive(i)
    event.listen(engine, "before_cursor_execute", explained)
    receive(20)
    engine.dispose()
    return plans


def profile(name: str, receipts: int, out: str | None) -> dict[str, Any]:
    """Book ``receipts`` receipts (after 20 to warm up) under cProfile: Python calls per
    receipt, and the profile written to ``out`` (pstats) to compare two revisions by function."""
    import cProfile
    import pstats

    engine = make_engine(_url(name).replace("postgresql://", "postgresql+psycopg://"))
    receive = _receiver(engine)
    for i in range(20):
        receive(i)
    profiler = cProfile.Profile()
    profiler.enable()
    for i in range(20, 20 + receipts):
        receive(i)
    profiler.disable()
    engine.dispose()
    stats = pstats.Stats(profiler)
    if out:
        stats.dump_stats(out)
    calls = sum(entry[1] for entry in stats.stats.values())  # type: ignore[attr-defined]
    primitive = sum(entry[0] for entry in stats.stats.values())  # type: ignore[attr-defined]
    return {"receipts": receipts, "calls": calls / receipts, "primitive_calls": primitive / receipts}


class _CallTree:
    """Calls made beneath each function, itself included, counted exactly on the call stack
    (``sys.setprofile``, Python and C functions as cProfile counts them; a recursive function's
    calls counted once): what running a hook, a parser or a view cost in calls."""

    def __init__(self) -> None:
        self.calls = 0
        self.beneath: dict[str, int] = {}
        self.edges: dict[tuple[str, str], int] = {}  # (caller, callee): calls beneath the callee
        self._stack: list[tuple[str, int]] = []
        self._open: dict[str, int] = {}

    def __call__(self, frame: Any, event: str, arg: Any) -> None:
        if event in ("call", "c_call"):
            if event == "call":
                code = frame.f_code
                key = f"{Path(code.co_filename).name}:{code.co_firstlineno}({code.co_name})"
            else:
                key = f"<{getattr(arg, '__qualname__', arg)}>"
            self.calls += 1
            self._stack.append((key, self.calls))
            self._open[key] = self._open.get(key, 0) + 1
        elif event in ("return", "c_return", "c_exception") and self._stack:
            key, entered = self._stack.pop()
            self._open[key] -= 1
            if self._stack:
                edge = (self._stack[-1][0], key)
                self.edges[edge] = self.edges.get(edge, 0) + self.calls - entered + 1
            if not self._open[key]:
                self.beneath[key] = self.beneath.get(key, 0) + self.calls - entered + 1


def http_profile(name: str, receipts: int, out: str | None, top: int, under: str = "") -> dict[str, Any]:
    """POST ``receipts`` receipts (after 20 to warm up) through the app with Flask's test client
    under cProfile: Python calls per receipt, and the ``top`` functions by calls beneath them
    (with ``under``, a part of a function's name: what each function it calls cost)."""
    import cProfile
    import pstats

    from erp import create_app
    from erp.auth.services import issue_token
    from erp.config import Settings

    url = _url(name)
    with psycopg.connect(url) as conn:  # the clerk of company 1 and its warehouse (bench.http_receipts)
        conn.execute("INSERT INTO user_companies (user_id, company_id) VALUES (1, 1) ON CONFLICT DO NOTHING")
        conn.execute("INSERT INTO user_warehouses (user_id, warehouse_id) VALUES (1, 1) ON CONFLICT DO NOTHING")
        conn.commit()
    app = create_app(Settings(database_url=url.replace("postgresql://", "postgresql+psycopg://"),
                              job_runner="worker"))
    with app.extensions["erp"].session_factory() as session, session.begin():
        token = issue_token(session, 1, ttl_minutes=600).token
    client = app.test_client()
    run = int(time.time())  # batch numbers of their own when the database is profiled again
    headers = {"Authorization": f"Bearer {token}"}

    def post(i: int) -> None:
        response = client.post("/api/v1/inventory/receipts", headers=headers, json={
            "po_line_id": 1 + i % 2000, "quantity": "10", "posting_date": "2026-11-20",
            "batch_number": f"P{run}-{i}", "manufacture_date": "2026-10-01", "expiry_date": "2029-09-30"})
        if response.status_code != 201:
            raise SystemExit(f"receipt {i}: {response.status_code} {response.get_data(as_text=True)[:300]}")

    for i in range(20):
        post(i)
    profiler = cProfile.Profile()
    profiler.enable()
    for i in range(20, 20 + receipts):
        post(i)
    profiler.disable()
    stats = pstats.Stats(profiler)
    if out:
        stats.dump_stats(out)
    calls = sum(entry[1] for entry in stats.stats.values())  # type: ignore[attr-defined]
    # The same receipts' calls once more, on the call stack, for what each function cost.
    tree = _CallTree()
    sys.setprofile(tree)
    for i in range(20 + receipts, 20 + 2 * receipts):
        post(i)
    sys.setprofile(None)
    app.extensions["erp"].engine.dispose()
    ranked = sorted(tree.beneath.items(), key=lambda item: -item[1])[:top]
    return {"receipts": receipts, "calls": calls / receipts, "traced_calls": tree.calls / receipts,
            "top": [(where, round(count / receipts, 1)) for where, count in ranked],
            "under": [(f"{caller} -> {callee}", round(count / receipts, 1))
                      for (caller, callee), count in sorted(tree.edges.items(), key=lambda item: -item[1])
                      if under and under in caller]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", choices=("prepare", "book", "explain", "profile", "http-profile", "drop"))
    parser.add_argument("name", help="the benchmark database's name")
    parser.add_argument("--receipts", type=int, default=200)
    parser.add_argument("--stats", help="profile: write the pstats profile to this file")
    parser.add_argument("--top", type=int, default=25, help="http-profile: how many functions to list")
    parser.add_argument("--under", default="",
                        help="http-profile: also list the calls beneath each callee of functions whose name has this")
    parser.add_argument("--freeze", action="store_true",
                        help="book: gc.freeze() after the warm-up, as a gunicorn worker does after start-up")
    args = parser.parse_args()
    if args.step == "prepare":
        prepare(args.name)
    elif args.step == "drop":
        drop(args.name)
    elif args.step == "profile":
        print(json.dumps(profile(args.name, args.receipts, args.stats)))
    elif args.step == "http-profile":
        result = http_profile(args.name, args.receipts, args.stats, args.top, args.under)
        print(f"Python calls per HTTP receipt: {result['calls']:.0f} ({result['receipts']} receipts; "
              f"{result['traced_calls']:.0f} on the call stack)")
        print("calls beneath, per receipt   function")
        for where, count in result["top"]:
            print(f"{count:24.1f}   {where}")
        for where, count in result["under"]:
            print(f"{count:24.1f}   {where}")
    elif args.step == "explain":
        for plan in explain(args.name):
            print(f"{plan['shared_hit']:6} buffers {plan['planning_hit']:5} planning {plan['triggers']:3} triggers  "
                  f"{plan['statement']}")
    else:
        print(json.dumps(book(args.name, args.receipts, args.freeze)))


if __name__ == "__main__":
    main()
