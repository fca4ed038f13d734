"""Threaded lock-order tests on PostgreSQL: transactions started one by one, each left
waiting on a lock held by the test, then let go together.

The pattern (tests/service/test_shipment_locks.py, test_posting_locks.py, ...): the test
holds some balance rows in its own transaction; it starts each ``Worker`` in turn and waits
until that worker's backend waits on a lock (or has finished); then it commits, and every
worker must commit too. Workers that lock in opposite orders deadlock once let go, and
PostgreSQL's deadlock detector aborts one of them: its outcome is then the error.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker


# How long a worker may take to reach its lock (or finish) before the test fails. Passing
# tests return as soon as it waits, so a generous bound costs them nothing; 10 s timed out
# once on the overloaded 2-core machine (other helpers' suites, benchmarks pausing processes).
REACH_LOCK_SECONDS = 90.0


def waiting_on_a_lock_or_done(session_factory: sessionmaker[Session], pid: int, done: threading.Event,
                              what: str = "the transaction", *, within: float = REACH_LOCK_SECONDS) -> None:
    """Return once backend ``pid`` waits on a lock (a row lock, a transaction's, an advisory
    lock), or its work is done (``within`` seconds at most, polling every 50 ms; then
    AssertionError naming ``what``: a worker that never gets there still fails the test)."""
    deadline = time.monotonic() + within
    with session_factory() as watcher:
        while time.monotonic() < deadline and not done.is_set():
            waiting = watcher.scalar(text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :pid"),
                                     {"pid": pid})
            watcher.rollback()  # a fresh snapshot of pg_stat_activity
            if waiting == "Lock":
                return
            time.sleep(0.05)
    if not done.is_set():
        raise AssertionError(f"{what} neither waited on a lock nor finished within {within:g} s")


class Worker:
    """One transaction in its own thread: ``work(session)`` inside ``session.begin()``;
    ``outcome`` is what it returned, or the exception it raised. With ``own_transactions``
    the work begins and commits its transactions itself (an import: ``execute_import``),
    on a session bound to one connection, so that the backend watched is the one it uses."""

    def __init__(self, session_factory: sessionmaker[Session], name: str, work: Callable[[Session], Any], *,
                 own_transactions: bool = False) -> None:
        self.session_factory, self.name, self.work = session_factory, name, work
        self.own_transactions = own_transactions
        self.pid: int | None = None
        self.outcome: Any = None
        self.started, self.done = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._run, name=name)

    def _run(self) -> None:
        try:
            if self.own_transactions:
                self._run_on_one_connection()
                return
            with self.session_factory() as session, session.begin():
                self.pid = session.scalar(text("SELECT pg_backend_pid()"))
                self.started.set()
                self.outcome = self.work(session)
        except Exception as error:  # noqa: BLE001 - the outcome is what the test asserts
            self.outcome = error
        finally:
            self.started.set()
            self.done.set()

    def _run_on_one_connection(self) -> None:
        engine = self.session_factory.kw["bind"]
        with engine.connect() as connection:
            self.pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
            connection.commit()  # out of a transaction again: the session begins its own on it
            self.started.set()
            with self.session_factory(bind=connection) as session:
                self.outcome = self.work(session)

    def start_and_wait_until_waiting(self) -> None:
        self.thread.start()
        assert self.started.wait(timeout=REACH_LOCK_SECONDS), f"{self.name} never started"
        if self.pid is not None:
            waiting_on_a_lock_or_done(self.session_factory, self.pid, self.done, self.name)

    def join(self) -> None:
        self.thread.join(timeout=REACH_LOCK_SECONDS)
        assert not self.thread.is_alive(), f"{self.name} still running"


def queued_behind(holder: Session, workers: list[Worker],
                  let_go_first: Callable[[], None] | None = None) -> dict[str, Any]:
    """Start ``workers`` one by one, each waiting (on what ``holder``'s open transaction
    holds, or on an earlier worker) before the next starts; then commit ``holder`` and
    return each worker's outcome by name once all are done. ``let_go_first`` lets part of
    what the holder holds go before it commits (rolling back a savepoint releases the row
    locks taken since): the workers then move on, and the rest goes half a second later."""
    try:
        for worker in workers:
            worker.start_and_wait_until_waiting()
        if let_go_first is not None:
            let_go_first()
            time.sleep(0.5)  # the worker let go takes its row and waits on the next one
    finally:
        holder.commit()
        for worker in workers:
            if worker.thread.ident is not None:
                worker.join()
    return {worker.name: worker.outcome for worker in workers}


def while_held(session_factory: sessionmaker[Session], hold: Callable[[Session], Any], worker: Worker,
               meanwhile: Callable[[Session], Any]) -> Any:
    """``hold`` locks rows in the test's own transaction; ``worker`` starts and waits on them;
    ``meanwhile`` runs and commits in a transaction of its own while it waits; then the test
    commits and the worker goes on. Returns the worker's outcome (what it returned, or the
    exception it raised)."""
    with session_factory() as holder:
        holder.begin()
        hold(holder)
        try:
            worker.start_and_wait_until_waiting()
            with session_factory() as other, other.begin():
                meanwhile(other)
        finally:
            holder.commit()
            if worker.thread.ident is not None:
                worker.join()
    return worker.outcome
