"""Purchasing rights: who may order which material for which company, as one pure rule.

No database and no Flask: the services gather the facts (the caller, the receiving
company, the material, the supplier, the steward's exceptions) and ask ``purchasing_right``.
The answer names the rule that decided, so a refusal can say which rule it broke.

The rule (DESIGN.md, "Purchasing rights"):

- central-scope materials are bought by central purchasing (a group buyer), for delivery
  to any company; that is how the group's volume wins the price;
- local-scope materials are bought by a buyer of the company that receives them;
- a steward may grant a company a dated exception for a central material (an emergency
  purchase): until it ends or is revoked, that company's buyers may order it;
- nobody orders an inactive material or from a blocked supplier.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from erp.auth.roles import Actor, Role
from erp.masterdata.models import ProcurementScope

BUYING_ROLES = frozenset({Role.BUYER, Role.GROUP_BUYER})

# Rules that allow an order.
CENTRAL_PURCHASING = "central-purchasing"
LOCAL_PURCHASING = "local-purchasing"
PURCHASING_EXCEPTION = "purchasing-exception"
# Rules that refuse one. The first two are facts about the master data (422); the others
# are about the caller's rights (403).
MATERIAL_INACTIVE = "material-inactive"
SUPPLIER_BLOCKED = "supplier-blocked"
NOT_A_BUYING_ROLE = "not-a-buying-role"
NOT_BUYER_OF_RECEIVING_COMPANY = "not-buyer-of-receiving-company"
CENTRAL_MATERIAL_NEEDS_GROUP_PURCHASING = "central-material-needs-group-purchasing"
LOCAL_MATERIAL_NEEDS_COMPANY_BUYER = "local-material-needs-company-buyer"
MASTER_DATA_RULES = frozenset({MATERIAL_INACTIVE, SUPPLIER_BLOCKED})


class MaterialFacts(Protocol):
    """What the rule reads from a material (a ``Material`` row satisfies it)."""

    @property
    def code(self) -> str: ...
    @property
    def procurement_scope(self) -> ProcurementScope: ...
    @property
    def active(self) -> bool: ...


class SupplierFacts(Protocol):
    """What the rule reads from a supplier (a ``Supplier`` row satisfies it)."""

    @property
    def code(self) -> str: ...
    @property
    def blocked(self) -> bool: ...


@dataclass(frozen=True)
class ExceptionWindow:
    """The validity of one unrevoked steward exception for (company, material)."""

    valid_from: dt.date
    valid_to: dt.date

    def covers(self, day: dt.date) -> bool:
        return self.valid_from <= day <= self.valid_to


@dataclass(frozen=True)
class RightsDecision:
    """The answer: allowed or not, the rule that decided (a stable slug) and a sentence."""

    allowed: bool
    rule: str
    reason: str


def _allow(rule: str, reason: str) -> RightsDecision:
    return RightsDecision(True, rule, reason)


def _refuse(rule: str, reason: str) -> RightsDecision:
    return RightsDecision(False, rule, reason)


def purchasing_right(
    actor: Actor,
    *,
    receiving_company_id: int,
    material: MaterialFacts,
    supplier: SupplierFacts,
    on: dt.date,
    exceptions: Iterable[ExceptionWindow] = (),
) -> RightsDecision:
    """May ``actor`` order ``material`` from ``supplier`` for ``receiving_company_id`` on ``on``?

    ``exceptions`` are the unrevoked steward exceptions for that company and material,
    whatever their dates; the rule decides whether one covers the day.
    """
    if actor.role not in BUYING_ROLES:
        return _refuse(NOT_A_BUYING_ROLE, f"role {actor.role.value} does not place purchase orders; buyers do")
    if not material.active:
        return _refuse(MATERIAL_INACTIVE, f"material {material.code} is inactive and takes no new orders")
    if supplier.blocked:
        return _refuse(SUPPLIER_BLOCKED, f"supplier {supplier.code} is blocked; no new orders may be placed with it")
    central = material.procurement_scope == ProcurementScope.CENTRAL
    if actor.role == Role.GROUP_BUYER:
        if central:
            return _allow(CENTRAL_PURCHASING, f"{material.code} is a central material: central purchasing orders it")
        return _refuse(
            LOCAL_MATERIAL_NEEDS_COMPANY_BUYER,
            f"{material.code} is a local material: only a buyer of the receiving company orders it",
        )
    if receiving_company_id not in actor.company_ids:
        return _refuse(
            NOT_BUYER_OF_RECEIVING_COMPANY,
            f"you buy for companies {sorted(actor.company_ids)}, not for company {receiving_company_id}",
        )
    if not central:
        return _allow(LOCAL_PURCHASING, f"{material.code} is a local material of your company")
    windows = list(exceptions)
    covering = [w for w in windows if w.covers(on)]
    if covering:
        until = max(w.valid_to for w in covering)
        return _allow(PURCHASING_EXCEPTION, f"a steward's exception lets your company order {material.code} until {until}")
    reason = f"{material.code} is a central material: only central purchasing orders it"
    ended = [w.valid_to for w in windows if w.valid_to < on]
    if ended:
        reason += f" (your company's exception ended on {max(ended)})"
    elif windows:
        reason += f" (your company's exception starts on {min(w.valid_from for w in windows)})"
    return _refuse(CENTRAL_MATERIAL_NEEDS_GROUP_PURCHASING, reason)
