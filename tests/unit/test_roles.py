"""Who acts for what: the actor's rules, without a database."""

from __future__ import annotations

import pytest

from erp.auth.roles import Actor, Role, role_scope_is_consistent
from erp.errors import Forbidden


def clerk(warehouses: set[int], companies: set[int]) -> Actor:
    return Actor(1, "c", Role.CLERK, False, frozenset(companies), frozenset(warehouses))


def test_group_wide_actor_acts_for_every_company() -> None:
    actor = Actor(1, "g", Role.GROUP_BUYER, True)
    assert actor.acts_for_company(1) and actor.acts_for_company(999)


def test_company_actor_acts_only_for_its_companies() -> None:
    actor = Actor(1, "b", Role.BUYER, False, frozenset({1, 2}))
    assert actor.acts_for_company(2)
    assert not actor.acts_for_company(3)
    with pytest.raises(Forbidden):
        actor.require_company(3)


def test_clerk_acts_only_for_named_warehouses_even_within_own_company() -> None:
    actor = clerk({10}, {1})
    assert actor.acts_for_warehouse(10, 1)
    assert not actor.acts_for_warehouse(11, 1)


def test_non_clerk_acts_for_every_warehouse_of_own_companies() -> None:
    actor = Actor(1, "q", Role.QUALITY, False, frozenset({1}))
    assert actor.acts_for_warehouse(11, 1)
    assert not actor.acts_for_warehouse(21, 2)


def test_require_role_names_allowed_roles() -> None:
    actor = Actor(1, "s", Role.SALES, False, frozenset({1}))
    with pytest.raises(Forbidden) as info:
        actor.require_role(Role.STEWARD, Role.ADMIN, action="creating a material")
    assert "admin, steward" in info.value.detail
    assert "sales" in info.value.detail


def test_cio_and_auditor_are_read_only_and_nobody_else_is() -> None:
    assert Actor(1, "x", Role.CIO, True).read_only
    assert Actor(1, "x", Role.AUDITOR, True).read_only
    assert not any(Actor(1, "x", role, True).read_only for role in Role if role not in (Role.CIO, Role.AUDITOR))


@pytest.mark.parametrize(
    ("role", "group_wide", "companies", "valid"),
    [
        (Role.STEWARD, True, [], True),
        (Role.STEWARD, False, [1], False),  # group roles are always group-wide
        (Role.BUYER, False, [1], True),
        (Role.BUYER, True, [], False),  # buyers act for named companies
        (Role.BUYER, False, [], False),  # ... and need at least one
        (Role.COST_ACCOUNTANT, True, [], True),  # a group cost accountant
        (Role.COST_ACCOUNTANT, False, [1], True),
    ],
)
def test_role_scope_consistency(role: Role, group_wide: bool, companies: list[int], valid: bool) -> None:
    assert (role_scope_is_consistent(role, group_wide, companies) is None) is valid
