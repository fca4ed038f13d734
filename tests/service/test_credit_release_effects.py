"""A release's effects are stated before and after it: the exposure after the release and
the confirmed orders that will then be refused at shipment (#13 item 9), worked by hand."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from sqlalchemy.orm import Session, sessionmaker

from erp.credit import receivables, services
from erp.credit.errors import CreditLimitExceeded
from erp.credit.models import SalesOrderStatus
from tests.credit import POLICY, new_order, position, put_stock, set_limit, ship
from tests.world import World

SF = sessionmaker[Session]


def held(session_factory: SF, world: World) -> dict[int, receivables.HeldOrder]:
    with session_factory() as session:
        rows, _ = receivables.held_orders(session, world.actors["credit"], policy=POLICY)
        return {row.order_id: row for row in rows}


def test_releasing_an_order_over_the_limit_names_the_confirmed_orders_it_blocks_at_shipment(
    session_factory: SF, world: World
) -> None:
    # limit 10,000; company B's order of 6,000 is confirmed (exposure 6,000) and could ship;
    # company A's order of 5,000 is blocked: 6,000 + 5,000 = 11,000 > 10,000.
    set_limit(session_factory, world, "cust1", "10000.00")
    put_stock(session_factory, world, company="B")
    older = new_order(session_factory, world, company="B", lines=[("60", "100.00")], confirm=True).order
    assert older.status == SalesOrderStatus.CONFIRMED
    blocked = new_order(session_factory, world, lines=[("50", "100.00")], confirm=True).order
    assert blocked.status == SalesOrderStatus.BLOCKED

    # before the release, the list says what releasing would do
    listed = held(session_factory, world)
    assert list(listed) == [blocked.id]
    effect = listed[blocked.id].release_effect
    assert (effect.exposure_before, effect.exposure_after, effect.credit_limit, effect.above_limit_by) == (
        D("6000.00"), D("11000.00"), D("10000.00"), D("1000.00"))
    assert [(o.order_id, o.company_id, o.open_value, o.newly_blocked) for o in effect.blocked_at_shipment] == [
        (older.id, world.companies["B"], D("6000.00"), True)]

    with session_factory() as session, session.begin():
        result = services.release_order(session, world.actors["credit"], blocked.id, reason="bank guarantee",
                                        policy=POLICY)
        assert result.effect == effect
        assert result.release.exposure == D("11000.00")
    assert position(session_factory, world).exposure == D("11000.00")

    # as stated: the older order is now refused at shipment, the shipment adding 0.00
    with pytest.raises(CreditLimitExceeded) as refused:
        ship(session_factory, world, older.id, ["10"], company="B")
    assert (refused.value.extensions["exposure"], refused.value.extensions["exposure_after"]) == (
        "11000.00", "11000.00")
    # and it is listed, held at shipment; releasing it adds nothing and blocks nothing more
    # (the released order is released; no other confirmed order is left)
    listed = held(session_factory, world)
    assert list(listed) == [older.id] and listed[older.id].stage == "shipment"
    effect = listed[older.id].release_effect
    assert (effect.exposure_before, effect.exposure_after, effect.above_limit_by, effect.blocked_at_shipment) == (
        D("11000.00"), D("11000.00"), D("1000.00"), [])


def test_orders_already_blocked_at_shipment_are_named_but_not_as_new(session_factory: SF, world: World) -> None:
    # limit 10,000: 4,000 (A) and 5,000 (B) confirmed = 9,000; then the limit is lowered to
    # 8,000, so both are held at shipment; a third order of 3,000 is blocked at confirmation.
    set_limit(session_factory, world, "cust1", "10000.00")
    first = new_order(session_factory, world, lines=[("40", "100.00")], confirm=True).order
    second = new_order(session_factory, world, company="B", lines=[("50", "100.00")], confirm=True).order
    set_limit(session_factory, world, "cust1", "8000.00")
    third = new_order(session_factory, world, lines=[("30", "100.00")], confirm=True).order
    assert third.status == SalesOrderStatus.BLOCKED

    listed = held(session_factory, world)
    assert sorted(listed) == sorted([first.id, second.id, third.id])
    effect = listed[third.id].release_effect
    # 9,000 + 3,000 = 12,000, 4,000 above 8,000; both confirmed orders stay blocked, neither newly
    assert (effect.exposure_after, effect.above_limit_by) == (D("12000.00"), D("4000.00"))
    assert [(o.order_id, o.open_value, o.newly_blocked) for o in effect.blocked_at_shipment] == [
        (first.id, D("4000.00"), False), (second.id, D("5000.00"), False)]
    # releasing the first at shipment: 9,000 stays 1,000 above 8,000; the second stays blocked
    effect = listed[first.id].release_effect
    assert (effect.exposure_before, effect.exposure_after, effect.above_limit_by) == (
        D("9000.00"), D("9000.00"), D("1000.00"))
    assert [(o.order_id, o.newly_blocked) for o in effect.blocked_at_shipment] == [(second.id, False)]


def test_a_release_within_the_limit_blocks_nothing(session_factory: SF, world: World) -> None:
    # limit 10,000: 4,000 confirmed, 7,000 blocked (11,000); the limit is raised to 11,000:
    # the order is still blocked until someone acts, and releasing it reaches the limit exactly.
    set_limit(session_factory, world, "cust1", "10000.00")
    new_order(session_factory, world, company="B", lines=[("40", "100.00")], confirm=True)
    blocked = new_order(session_factory, world, lines=[("70", "100.00")], confirm=True).order
    set_limit(session_factory, world, "cust1", "11000.00")
    effect = held(session_factory, world)[blocked.id].release_effect
    assert (effect.exposure_after, effect.above_limit_by, effect.blocked_at_shipment) == (
        D("11000.00"), D("0"), [])


def test_a_customer_on_hold_has_no_release_effect(session_factory: SF, world: World) -> None:
    set_limit(session_factory, world, "cust1", "1000.00")
    blocked = new_order(session_factory, world, lines=[("20", "100.00")], confirm=True).order
    with session_factory() as session, session.begin():
        services.set_credit_hold(session, world.actors["credit"], world.customers["cust1"], on_hold=True,
                                 reason="cheque bounced")
    row = held(session_factory, world)[blocked.id]
    assert row.customer_on_hold is True and row.release_effect is None
