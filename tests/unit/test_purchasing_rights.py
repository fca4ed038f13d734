"""The purchasing-rights rule, without a database: who may order what for whom, and why not."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from erp.auth.roles import Actor, Role
from erp.masterdata.models import ProcurementScope
from erp.purchasing.rights import ExceptionWindow, first_uncovered_day, purchasing_right

COMPANY_A, COMPANY_B = 1, 2
DAY = dt.date(2026, 6, 15)

GROUP_BUYER = Actor(1, "group_buyer", Role.GROUP_BUYER, True)
BUYER_A = Actor(2, "buyer_a", Role.BUYER, False, frozenset({COMPANY_A}))
BUYER_B = Actor(3, "buyer_b", Role.BUYER, False, frozenset({COMPANY_B}))

# Exceptions for (company A, the material), as the service would pass them.
GRANTED = (ExceptionWindow(dt.date(2026, 6, 1), dt.date(2026, 6, 30)),)
EXPIRED = (ExceptionWindow(dt.date(2026, 5, 1), dt.date(2026, 6, 14)),)


@dataclass(frozen=True)
class M:
    code: str
    procurement_scope: ProcurementScope
    active: bool = True


@dataclass(frozen=True)
class S:
    code: str = "S0001"
    blocked: bool = False


CENTRAL = M("API-AMOX", ProcurementScope.CENTRAL)
LOCAL = M("EXC-STAR", ProcurementScope.LOCAL)


def decide(actor: Actor, material: M, *, exceptions: tuple[ExceptionWindow, ...] = (), supplier: S = S(),
           company: int = COMPANY_A, on: dt.date = DAY):
    return purchasing_right(
        actor, receiving_company_id=company, material=material, supplier=supplier, on=on, exceptions=exceptions
    )


# The matrix: material scope x who asks (for company A), with the rule that decides.
@pytest.mark.parametrize(
    ("material", "actor", "exceptions", "allowed", "rule"),
    [
        (CENTRAL, GROUP_BUYER, (), True, "central-purchasing"),
        (CENTRAL, BUYER_A, (), False, "central-material-needs-group-purchasing"),
        (CENTRAL, BUYER_B, (), False, "not-buyer-of-receiving-company"),
        (CENTRAL, BUYER_A, GRANTED, True, "purchasing-exception"),
        (CENTRAL, BUYER_A, EXPIRED, False, "central-material-needs-group-purchasing"),
        (LOCAL, GROUP_BUYER, (), False, "local-material-needs-company-buyer"),
        (LOCAL, BUYER_A, (), True, "local-purchasing"),
        (LOCAL, BUYER_B, (), False, "not-buyer-of-receiving-company"),
        (LOCAL, BUYER_A, GRANTED, True, "local-purchasing"),
        (LOCAL, BUYER_A, EXPIRED, True, "local-purchasing"),
    ],
    ids=[
        "central-group_buyer", "central-own_buyer", "central-other_buyer", "central-exception_granted",
        "central-exception_expired", "local-group_buyer", "local-own_buyer", "local-other_buyer",
        "local-exception_granted", "local-exception_expired",
    ],
)
def test_rights_matrix(
    material: M, actor: Actor, exceptions: tuple[ExceptionWindow, ...], allowed: bool, rule: str
) -> None:
    decision = decide(actor, material, exceptions=exceptions)
    assert (decision.allowed, decision.rule) == (allowed, rule)
    assert decision.reason


def test_group_buyer_orders_central_materials_for_any_company() -> None:
    assert decide(GROUP_BUYER, CENTRAL, company=COMPANY_B).allowed
    assert decide(GROUP_BUYER, CENTRAL, company=99).allowed


def test_exception_is_honoured_on_its_first_and_last_day_only() -> None:
    window = (ExceptionWindow(dt.date(2026, 6, 1), dt.date(2026, 6, 30)),)
    assert decide(BUYER_A, CENTRAL, exceptions=window, on=dt.date(2026, 6, 1)).allowed
    assert decide(BUYER_A, CENTRAL, exceptions=window, on=dt.date(2026, 6, 30)).allowed
    assert not decide(BUYER_A, CENTRAL, exceptions=window, on=dt.date(2026, 7, 1)).allowed
    assert not decide(BUYER_A, CENTRAL, exceptions=window, on=dt.date(2026, 5, 31)).allowed


def test_refusal_after_an_exception_says_when_it_ended() -> None:
    decision = decide(BUYER_A, CENTRAL, exceptions=EXPIRED)
    assert "ended on 2026-06-14" in str(decision.reason)


def test_exception_for_company_a_does_not_let_a_buyer_of_company_b_order_for_a() -> None:
    decision = decide(BUYER_B, CENTRAL, exceptions=GRANTED, company=COMPANY_A)
    assert (decision.allowed, decision.rule) == (False, "not-buyer-of-receiving-company")


@pytest.mark.parametrize("actor", [GROUP_BUYER, BUYER_A])
def test_blocked_supplier_is_refused_to_everyone(actor: Actor) -> None:
    material = CENTRAL if actor is GROUP_BUYER else LOCAL
    decision = decide(actor, material, supplier=S("S0003", blocked=True))
    assert (decision.allowed, decision.rule) == (False, "supplier-blocked")
    assert "S0003" in str(decision.reason)


@pytest.mark.parametrize("actor", [GROUP_BUYER, BUYER_A])
def test_inactive_material_is_refused_to_everyone(actor: Actor) -> None:
    material = M("EXC-OLD", ProcurementScope.CENTRAL if actor is GROUP_BUYER else ProcurementScope.LOCAL,
                 active=False)
    decision = decide(actor, material)
    assert (decision.allowed, decision.rule) == (False, "material-inactive")
    assert "EXC-OLD" in str(decision.reason)


@pytest.mark.parametrize(
    "role", [r for r in Role if r not in (Role.BUYER, Role.GROUP_BUYER)]
)
def test_only_buyers_order(role: Role) -> None:
    actor = Actor(9, "x", role, True, frozenset({COMPANY_A}))
    decision = decide(actor, LOCAL)
    assert (decision.allowed, decision.rule) == (False, "not-a-buying-role")


# --- whether exceptions cover a company contract's validity ------------------------------------

def _w(first: tuple[int, int], last: tuple[int, int]) -> ExceptionWindow:
    return ExceptionWindow(dt.date(2026, *first), dt.date(2026, *last))


@pytest.mark.parametrize(
    ("windows", "uncovered"),
    [
        ((), dt.date(2026, 6, 1)),  # no exception: the first day
        ((_w((6, 1), (6, 30)),), None),  # exactly the validity
        ((_w((5, 1), (7, 31)),), None),  # more than the validity
        ((_w((6, 2), (6, 30)),), dt.date(2026, 6, 1)),  # starts a day late
        ((_w((6, 1), (6, 29)),), dt.date(2026, 6, 30)),  # ends a day early
        ((_w((6, 16), (6, 30)), _w((6, 1), (6, 15))), None),  # back to back, in any order
        ((_w((6, 1), (6, 10)), _w((6, 12), (6, 30))), dt.date(2026, 6, 11)),  # a day's gap
        ((_w((6, 1), (6, 20)), _w((6, 5), (6, 12)), _w((6, 18), (6, 30))), None),  # overlapping
    ],
)
def test_first_day_of_a_validity_no_exception_covers(
    windows: tuple[ExceptionWindow, ...], uncovered: dt.date | None
) -> None:
    assert first_uncovered_day(windows, dt.date(2026, 6, 1), dt.date(2026, 6, 30)) == uncovered
