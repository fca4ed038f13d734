"""The close against postings running at the same moment, with real transactions on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading
import time
from decimal import Decimal as D

import pytest
from sqlalchemy.orm import Session, sessionmaker

from erp.costing.close import close_period
from erp.inventory import queries, services
from tests.stock import account_balance, open_order, receive, set_standard
from tests.world import World

pytestmark = pytest.mark.postgres


def test_a_posting_into_the_next_period_during_the_close_keeps_ledger_and_balances_equal(
    session_factory: sessionmaker[Session], world: World
) -> None:
    set_standard(session_factory, world, "exc_local", "10.00", period="2026-11")
    set_standard(session_factory, world, "exc_local", "12.00", period="2026-12")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "10.00", "A-AMB")])
    receive(session_factory, world, line, "100")
    # December is opened by a first posting, then an issue dated December is left running
    # (uncommitted) while November is closed and restates the stock at December's 12.00
    with session_factory() as session, session.begin():
        services.issue_goods(session, world.actors["clerk_a"], warehouse_id=world.warehouses["A-AMB"],
                             material_id=world.materials["exc_local"], quantity=D("1"),
                             posting_date=dt.date(2026, 12, 1), destination=services.IssueDestination.PRODUCTION)
    issuing = session_factory()
    issuing.begin()
    services.issue_goods(issuing, world.actors["clerk_a"], warehouse_id=world.warehouses["A-AMB"],
                         material_id=world.materials["exc_local"], quantity=D("99"),
                         posting_date=dt.date(2026, 12, 2), destination=services.IssueDestination.PRODUCTION)
    closed = threading.Event()

    def close() -> None:
        with session_factory() as session, session.begin():
            close_period(session, world.actors["cost_a"], company_id=world.companies["A"], period="2026-11")
        closed.set()

    closer = threading.Thread(target=close)
    closer.start()
    time.sleep(1.0)
    assert not closed.is_set(), "the close must wait for the December posting to finish"
    issuing.commit()
    issuing.close()
    closer.join(timeout=30)
    assert closed.is_set()
    with session_factory() as session:
        assert queries.balance_drift(session) == []
        # December took all the stock (the last 99 kg with all their value): the close found
        # nothing left to restate, rather than putting 200.00 on zero kilograms
        assert account_balance(session, world.companies["A"], "1403") == D("0.00")
