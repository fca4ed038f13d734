"""The reads every API request makes (the token check, a posting's standard price, a
customer's exposure) go to the driver as compiled SQL on PostgreSQL (erp.db.DriverRead):
one statement each, in the caller's own transaction, with none of SQLAlchemy's statement
execution; on SQLite they run through SQLAlchemy and give the same values."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal as D
from typing import Any

from sqlalchemy import Engine, event, text, update
from sqlalchemy.orm import Session, sessionmaker

from erp.auth.models import UserCompany
from erp.auth.services import actor_for_token
from erp.credit import services as credit
from erp.credit.exposure import read_position
from erp.credit.models import CustomerExposure
from erp.masterdata.services import material_and_warehouse_facts
from erp.posting.periods import lock_open_period
from erp.posting.prices import standard_price
from erp.purchasing.models import PurchaseOrderStatus
from erp.purchasing.receiving import lock_line_for_receipt
from tests.credit import POLICY
from tests.stock import open_order, set_standard
from tests.world import World


@contextmanager
def sent(engine: Engine) -> Iterator[tuple[list[str], list[Any]]]:
    """(statements sent to the driver, statements SQLAlchemy executed) inside the block."""
    cursor: list[str] = []
    executed: list[Any] = []

    def on_cursor(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        cursor.append(statement)

    def on_execute(_conn: Any, clause: Any, *_args: Any) -> None:
        executed.append(clause)

    event.listen(engine, "before_cursor_execute", on_cursor)
    event.listen(engine, "before_execute", on_execute)
    try:
        yield cursor, executed
    finally:
        event.remove(engine, "before_cursor_execute", on_cursor)
        event.remove(engine, "before_execute", on_execute)


def _through_sqlalchemy(engine: Engine) -> int:
    """How many statements SQLAlchemy executes for one driver read: none on PostgreSQL."""
    return 0 if engine.dialect.name == "postgresql" else 1


def test_the_token_check_is_one_statement_sent_to_the_driver(
    engine: Engine, session_factory: sessionmaker[Session], world: World,
) -> None:
    with session_factory() as session, session.begin():
        session.connection()  # the transaction begins first (on SQLite a BEGIN IMMEDIATE statement of its own)
        with sent(engine) as (cursor, executed):
            actor = actor_for_token(session, world.tokens["clerk_a"])
    assert len(cursor) == 1, cursor
    assert len(executed) == _through_sqlalchemy(engine), executed
    assert actor == world.actors["clerk_a"]
    assert actor.company_ids == {world.companies["A"]}
    assert actor.warehouse_ids == {world.warehouses[w] for w in ("A-AMB", "A-COOL", "A-COLD")}


def test_the_token_check_reads_a_scope_changed_a_moment_ago(
    session_factory: sessionmaker[Session], world: World,
) -> None:
    """Nothing of the caller is kept between requests: a company taken away is gone at the next one."""
    with session_factory() as session, session.begin():
        session.add(UserCompany(user_id=world.users["buyer_a"], company_id=world.companies["B"]))
    with session_factory() as session, session.begin():
        assert actor_for_token(session, world.tokens["buyer_a"]).company_ids == {
            world.companies["A"], world.companies["B"]}
    with session_factory() as session, session.begin():
        session.query(UserCompany).filter_by(user_id=world.users["buyer_a"], company_id=world.companies["B"]).delete()
    with session_factory() as session, session.begin():
        assert actor_for_token(session, world.tokens["buyer_a"]).company_ids == {world.companies["A"]}


def test_a_standard_price_is_one_statement_sent_to_the_driver(
    engine: Engine, session_factory: sessionmaker[Session], world: World,
) -> None:
    set_standard(session_factory, world, "exc_local", "2.500000", period="2026-09")
    set_standard(session_factory, world, "exc_local", "3.250000", period="2026-11")
    with session_factory() as session, session.begin():
        session.connection()
        with sent(engine) as (cursor, executed):
            prices = [standard_price(session, world.companies["A"], world.materials["exc_local"], period)
                      for period in ("2026-09", "2026-10", "2026-11", "2027-02")]
    assert prices == [D("2.5"), D("2.5"), D("3.25"), D("3.25")]
    assert all(type(price) is D for price in prices)
    assert len(cursor) == 4 and len(executed) == 4 * _through_sqlalchemy(engine)


def test_a_position_is_read_as_values_sent_to_the_driver(
    engine: Engine, session_factory: sessionmaker[Session], world: World,
) -> None:
    customer_id = world.customers["cust1"]
    changed_at = dt.datetime(2026, 11, 3, 9, 30, 15, 123456, tzinfo=dt.UTC)
    with session_factory() as session, session.begin():
        session.add(CustomerExposure(customer_id=customer_id, open_invoices=D("800.00"), open_orders=D("150.50"),
                                     exposure=D("950.50"), unapplied_credit=D("20.00"), credit_limit=D("1000.00"),
                                     limit_version=2, on_hold=True, hold_reason="late payer",
                                     hold_changed_by=world.users["credit"], hold_changed_at=changed_at))
    with session_factory() as session, session.begin():
        if engine.dialect.name == "postgresql":  # psycopg gives instants in the session's time zone
            session.execute(text("SET LOCAL TIME ZONE 'Asia/Shanghai'"))
        session.connection()
        with sent(engine) as (cursor, executed):
            position = credit.credit_position(session, world.actors["credit"], customer_id, policy=POLICY,
                                              amount=D("10.00"))
        # as the ORM reads the same row
        row = session.get(CustomerExposure, customer_id)
        assert row is not None
        assert position.position.hold_changed_at is not None
        assert position.position.hold_changed_at.tzinfo is dt.UTC
        for name in ("customer_id", "open_invoices", "open_orders", "exposure", "unapplied_credit", "credit_limit",
                     "limit_version", "on_hold", "hold_reason", "hold_changed_by", "hold_changed_at"):
            assert getattr(position.position, name) == getattr(row, name), name
    assert len(cursor) == 1 and len(executed) == _through_sqlalchemy(engine)
    assert position.customer.code == "K0001" and position.customer.blocked is False
    assert position.check.outcome.value == "blocked"  # on hold


def test_a_position_without_its_row_yet_is_blank(session_factory: sessionmaker[Session], world: World) -> None:
    with session_factory() as session, session.begin():
        session.execute(update(CustomerExposure).values(on_hold=False))  # none exists: nothing to change
        customer, position = read_position(session, world.customers["cust2"])
    assert customer.id == world.customers["cust2"]
    assert (position.exposure, position.credit_limit, position.limit_version, position.on_hold) == (
        D("0"), None, 0, False)


def test_a_receipts_reads_are_sent_to_the_driver(
    engine: Engine, session_factory: sessionmaker[Session], world: World,
) -> None:
    """The order line under its lock, the material and warehouse, the period under its lock:
    one statement each, the values as SQLAlchemy's types give them."""
    (line_id,) = open_order(session_factory, world, [("exc_local", "10", "2.00", "A-AMB")])
    with session_factory() as session, session.begin():
        session.connection()
        lock_open_period(session, world.companies["A"], dt.date(2026, 11, 2))  # creates the period row
        with sent(engine) as (cursor, executed):
            line = lock_line_for_receipt(session, line_id)
            facts = material_and_warehouse_facts(session, world.materials["exc_local"], world.warehouses["A-AMB"])
            period = lock_open_period(session, world.companies["A"], dt.date(2026, 11, 3))
    assert len(cursor) == 3 and len(executed) == 3 * _through_sqlalchemy(engine), (cursor, executed)
    assert line.order_status is PurchaseOrderStatus.OPEN
    assert (line.quantity, line.received_quantity, line.unit_price) == (D("10"), D("0"), D("2.00"))
    assert line.order_date == dt.date(2026, 1, 5)
    assert facts is not None
    material, warehouse = facts
    assert material.id == world.materials["exc_local"] and material.material_type.value == material.material_type
    assert warehouse.company_id == world.companies["A"]
    assert period == "2026-11"
