"""Rules that live on the purchasing models, without a database: statuses and warnings."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from erp.money import round_money
from erp.masterdata.models import Material, UnitOfMeasure
from erp.purchasing.models import (
    CONSUMING_STATUSES,
    ORDER_TRANSITIONS,
    Contract,
    ContractLine,
    ContractStatus,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
)

S = PurchaseOrderStatus
END = dt.date(2026, 6, 30)


@pytest.mark.parametrize(
    ("status", "day", "seen"),
    [
        (ContractStatus.ACTIVE, END, ContractStatus.ACTIVE),  # the last day is still in force
        (ContractStatus.ACTIVE, END + dt.timedelta(days=1), ContractStatus.EXPIRED),
        (ContractStatus.DRAFT, END + dt.timedelta(days=1), ContractStatus.EXPIRED),
        (ContractStatus.TERMINATED, END + dt.timedelta(days=1), ContractStatus.TERMINATED),
    ],
)
def test_a_contract_expires_the_day_after_its_validity(status: ContractStatus, day: dt.date, seen: ContractStatus) -> None:
    contract = Contract(status=status, valid_from=dt.date(2026, 1, 1), valid_to=END)
    assert contract.status_on(day) == seen


def test_cancelled_and_closed_orders_are_final() -> None:
    assert not [pair for pair in ORDER_TRANSITIONS if pair[0] in (S.CANCELLED, S.CLOSED)]


def test_orders_with_receipts_cannot_be_cancelled_and_drafts_cannot_be_received() -> None:
    assert (S.PARTIALLY_RECEIVED, S.CANCELLED) not in ORDER_TRANSITIONS
    assert (S.RECEIVED, S.CANCELLED) not in ORDER_TRANSITIONS
    assert not [to for frm, to in ORDER_TRANSITIONS if frm in (S.DRAFT, S.PENDING_APPROVAL)
                and to in (S.PARTIALLY_RECEIVED, S.RECEIVED)]


def test_every_status_is_reachable_from_draft() -> None:
    reached, frontier = {S.DRAFT}, [S.DRAFT]
    while frontier:
        current = frontier.pop()
        for frm, to in ORDER_TRANSITIONS:
            if frm == current and to not in reached:
                reached.add(to)
                frontier.append(to)
    assert reached == set(S)


def test_only_orders_placed_and_not_cancelled_count_against_contracts() -> None:
    assert set(S) - CONSUMING_STATUSES == {S.DRAFT, S.CANCELLED}


def _order(status: PurchaseOrderStatus, ordered_before: str, *quantities: str) -> PurchaseOrder:
    kg = UnitOfMeasure(code="KG", decimals=3)
    material = Material(code="API-AMOX", unit=kg)
    contract = Contract(number="GRP-001")
    contract_line = ContractLine(id=7, contract=contract, material=material, unit=kg,
                                 target_quantity=Decimal("100"), ordered_quantity=Decimal(ordered_before))
    lines = [PurchaseOrderLine(contract_line_id=7, contract_line=contract_line, quantity=Decimal(q),
                               received_quantity=Decimal(0)) for q in quantities]
    return PurchaseOrder(status=status, lines=lines)


def test_a_draft_warns_when_it_would_take_the_contract_past_its_target() -> None:
    # 90 already ordered + 6 + 5 in this draft = 101 > 100
    [warning] = _order(S.DRAFT, "90", "6", "5").consumption_warnings
    assert (warning.ordered_quantity, warning.target_quantity, warning.contract_line_id) == (Decimal("101"), 100, 7)
    assert warning.detail == "contract GRP-001, API-AMOX: 101 ordered against a target of 100"
    assert _order(S.DRAFT, "90", "10").consumption_warnings == []  # exactly at the target


def test_a_placed_order_warns_with_what_the_contract_already_counts() -> None:
    assert _order(S.OPEN, "101", "11").consumption_warnings[0].ordered_quantity == Decimal("101")
    assert _order(S.CANCELLED, "150", "11").consumption_warnings == []


@pytest.mark.parametrize(
    ("amount", "posted"),
    [("12.345", "12.35"), ("12.344999", "12.34"), ("2.005", "2.01"), ("-2.005", "-2.01"), ("0.004", "0.00")],
)
def test_money_rounds_half_up_to_the_cent(amount: str, posted: str) -> None:
    assert round_money(Decimal(amount)) == Decimal(posted)
