"""The credit rules without a database: the check and the order life cycle (the limit
model: tests/unit/test_credit_scorecard.py)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from erp.credit.errors import OrderStatusConflict
from erp.credit.exposure import CreditOutcome, CreditPolicy, decide
from erp.credit.models import CustomerExposure, SalesOrder, SalesOrderStatus

POLICY = CreditPolicy(warning_share=D("0.90"), starting_limit=D("100000"))


def position(exposure: str, limit: str | None = "10000.00", on_hold: bool = False) -> CustomerExposure:
    return CustomerExposure(customer_id=1, open_invoices=D(exposure), open_orders=D("0"), exposure=D(exposure),
                            unapplied_credit=D("0"), credit_limit=None if limit is None else D(limit),
                            on_hold=on_hold, hold_reason="cheque bounced" if on_hold else None)


@pytest.mark.parametrize(("amount", "outcome", "rule"), [
    ("3999.99", CreditOutcome.PASSED, None),  # 8,999.99: below 90 % of 10,000
    ("4000.00", CreditOutcome.WARNING, "credit-warning-zone"),  # 9,000.00 = 0.90 x 10,000
    ("5000.00", CreditOutcome.WARNING, "credit-warning-zone"),  # 10,000.00: exactly the limit passes
    ("5000.01", CreditOutcome.BLOCKED, "credit-limit-exceeded"),  # one cent over
])
def test_check_against_a_limit_of_ten_thousand_with_five_thousand_used(amount: str, outcome: CreditOutcome,
                                                                      rule: str | None) -> None:
    decision = decide(position("5000.00"), D(amount), POLICY)
    assert (decision.outcome, decision.rule) == (outcome, rule)
    assert decision.exposure_after == D("5000.00") + D(amount)
    assert decision.warning_from == D("9000.00")


def test_a_customer_without_an_approved_limit_has_the_starting_limit() -> None:
    decision = decide(position("0.00", limit=None), D("100000.01"), POLICY)
    assert decision.blocked and decision.credit_limit == D("100000") and not decision.limit_approved


def test_hold_blocks_even_a_released_order_and_an_empty_account() -> None:
    decision = decide(position("0.00", on_hold=True), D("1.00"), POLICY, released=True)
    assert decision.blocked and decision.rule == "customer-on-credit-hold"
    assert "cheque bounced" in str(decision.detail)
    assert decide(position("0.00"), D("1.00"), POLICY, customer_blocked=True).rule == "customer-on-credit-hold"


def test_a_release_lets_an_order_past_the_limit() -> None:
    decision = decide(position("9000.00"), D("2000.00"), POLICY, released=True)
    assert decision.outcome == CreditOutcome.WARNING and decision.released


@pytest.mark.parametrize(("start", "target", "allowed"), [
    (SalesOrderStatus.DRAFT, SalesOrderStatus.CONFIRMED, True),
    (SalesOrderStatus.BLOCKED, SalesOrderStatus.CONFIRMED, True),
    (SalesOrderStatus.CONFIRMED, SalesOrderStatus.PARTIALLY_SHIPPED, True),
    (SalesOrderStatus.PARTIALLY_SHIPPED, SalesOrderStatus.CANCELLED, True),
    (SalesOrderStatus.SHIPPED, SalesOrderStatus.CANCELLED, False),
    (SalesOrderStatus.CANCELLED, SalesOrderStatus.CONFIRMED, False),
    (SalesOrderStatus.DRAFT, SalesOrderStatus.SHIPPED, False),
])
def test_order_moves_only_along_the_state_table(start: SalesOrderStatus, target: SalesOrderStatus,
                                                allowed: bool) -> None:
    order = SalesOrder(id=1, status=start)
    if allowed:
        order.move_to(target)
        assert order.status == target
    else:
        with pytest.raises(OrderStatusConflict):
            order.move_to(target)
        assert order.status == start
