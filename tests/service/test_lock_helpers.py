"""The threaded tests' wait for a worker to reach its lock (tests/locks.py): it returns as
soon as the worker waits on a lock, and fails (it does not hang) when the worker never
gets there within its bound."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from erp.masterdata.models import Company
from tests.locks import REACH_LOCK_SECONDS, Worker, waiting_on_a_lock_or_done
from tests.world import World

pytestmark = pytest.mark.postgres


def test_the_wait_returns_once_the_worker_waits_on_a_lock_and_fails_when_it_never_does(
        session_factory: sessionmaker[Session], world: World) -> None:
    company = world.companies["A"]

    def sleeper(session: Session) -> None:
        session.execute(text("SELECT pg_sleep(30)"))  # busy, never on a lock

    busy = Worker(session_factory, "sleeper", sleeper)
    busy.thread.start()
    assert busy.started.wait(timeout=REACH_LOCK_SECONDS)
    assert busy.pid is not None
    began = time.monotonic()
    with pytest.raises(AssertionError, match="sleeper neither waited on a lock nor finished within 0.5 s"):
        waiting_on_a_lock_or_done(session_factory, busy.pid, busy.done, "sleeper", within=0.5)
    assert time.monotonic() - began < 10
    with session_factory() as session:
        session.execute(select(text("pg_cancel_backend(:pid)")), {"pid": busy.pid})
    busy.join()

    with session_factory() as holder:
        holder.begin()
        holder.execute(select(Company.id).where(Company.id == company).with_for_update())

        def waiter(session: Session) -> int | None:
            time.sleep(1)  # gets to its lock late: the default bound waits for it
            return session.scalar(select(Company.id).where(Company.id == company).with_for_update())

        late = Worker(session_factory, "late", waiter)
        late.start_and_wait_until_waiting()
        assert not late.done.is_set()
        holder.commit()
    late.join()
    assert late.outcome == company
