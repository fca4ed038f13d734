"""A customer's credit position (GET /api/v1/credit/customers/<id>) is read in one statement:
the customer and its exposure row together, as committed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from erp.credit import services
from tests.credit import POLICY, history_invoice, set_limit
from tests.statements import statements
from tests.world import World


def test_a_position_is_read_in_one_statement_with_its_check(
    engine: Engine, session_factory: sessionmaker[Session], world: World,
) -> None:
    set_limit(session_factory, world, "cust1", "1000.00")
    history_invoice(session_factory, world, "cust1", dt.date(2026, 11, 2), "800.00")
    with session_factory() as session, session.begin():
        session.connection()  # the transaction begins first (on SQLite a BEGIN IMMEDIATE statement of its own)
        with statements(engine) as sent:
            position = services.credit_position(
                session, world.actors["credit"], world.customers["cust1"], policy=POLICY, amount=D("300.00"))
    assert len(sent) == 1, sent
    assert position.customer.id == world.customers["cust1"]
    assert position.position.exposure == D("800.00")
    # 800 + 300 = 1,100 is above the approved 1,000: the check blocks
    assert position.check.exposure_after == D("1100.00")
    assert position.check.outcome.value == "blocked"
