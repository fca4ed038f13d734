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
from erp.messages import Message, Named

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


def first_uncovered_day(windows: Iterable[ExceptionWindow], start: dt.date, end: dt.date) -> dt.date | None:
    """The first day from ``start`` to ``end`` (both included) that none of ``windows``
    covers; None when together they cover every day (two back-to-back exceptions count as
    one)."""
    day = start
    for window in sorted(windows, key=lambda w: (w.valid_from, w.valid_to)):
        if window.valid_from > day:
            break
        if window.valid_to >= end:
            return None
        if window.valid_to >= day:
            day = window.valid_to + dt.timedelta(days=1)
    return day


@dataclass(frozen=True)
class RightsDecision:
    """The answer: allowed or not, the rule that decided (a stable slug) and a sentence."""

    allowed: bool
    rule: str
    reason: Message


def _allow(rule: str, reason: Message) -> RightsDecision:
    return RightsDecision(True, rule, reason)


def _refuse(rule: str, reason: Message) -> RightsDecision:
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
    what = Named.of(material)
    if actor.role not in BUYING_ROLES:
        return _refuse(NOT_A_BUYING_ROLE, Message("role {role} does not place purchase orders; buyers do",
                                                  role=actor.role))
    if not material.active:
        return _refuse(MATERIAL_INACTIVE, Message("material {material} is inactive and takes no new orders",
                                                  material=what))
    if supplier.blocked:
        return _refuse(SUPPLIER_BLOCKED, Message("supplier {supplier} is blocked; no new orders may be placed with it",
                                                 supplier=Named.of(supplier)))
    central = material.procurement_scope == ProcurementScope.CENTRAL
    if actor.role == Role.GROUP_BUYER:
        if central:
            return _allow(CENTRAL_PURCHASING, Message("{material} is a central material: central purchasing orders it",
                                                      material=what))
        return _refuse(LOCAL_MATERIAL_NEEDS_COMPANY_BUYER, Message(
            "{material} is a local material: only a buyer of the receiving company orders it", material=what))
    if receiving_company_id not in actor.company_ids:
        # The rule knows companies by id only; the service names them when it refuses.
        return _refuse(NOT_BUYER_OF_RECEIVING_COMPANY,
                       Message("you do not buy for the receiving company of this order"))
    if not central:
        return _allow(LOCAL_PURCHASING, Message("{material} is a local material of your company", material=what))
    windows = list(exceptions)
    covering = [w for w in windows if w.covers(on)]
    if covering:
        until = max(w.valid_to for w in covering)
        return _allow(PURCHASING_EXCEPTION, Message(
            "a steward's exception lets your company order {material} until {until}", material=what, until=until))
    ended = [w.valid_to for w in windows if w.valid_to < on]
    if ended:
        reason = Message("{material} is a central material: only central purchasing orders it (your company's "
                         "exception ended on {day})", material=what, day=max(ended))
    elif windows:
        reason = Message("{material} is a central material: only central purchasing orders it (your company's "
                         "exception starts on {day})", material=what, day=min(w.valid_from for w in windows))
    else:
        reason = Message("{material} is a central material: only central purchasing orders it", material=what)
    return _refuse(CENTRAL_MATERIAL_NEEDS_GROUP_PURCHASING, reason)
