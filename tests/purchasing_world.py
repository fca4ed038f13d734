"""Contracts on top of the test world, signed through the services.

sup1 has a group contract (central purchasing) and a contract with company A, both valid
from 30 days ago for a year and active:

| contract | scope | material | unit price | target |
|---|---|---|---|---|
| GRP-001 | group | api_central (KG) | 850 | 1000 |
| GRP-001 | group | cold_central (KG) | 12000 | - |
| GRP-001 | group | exc_local (KG) | 13 | - |
| CA-001 | company A | exc_local (KG) | 12.345 | 100 |
| CA-001 | company A | pkg_loose (EA) | 0.35 | - |

So company A buys exc_local at 12.345 (its own contract wins), company B at 13.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy.orm import Session, sessionmaker

from erp.purchasing import services
from erp.clock import business_today
from erp.purchasing.models import ContractScope
from tests.world import World


@dataclass
class Deals:
    today: dt.date
    valid_from: dt.date
    valid_to: dt.date
    contracts: dict[str, int] = field(default_factory=dict)
    # lines["GRP-001/api_central"], ["CA-001/exc_local"], ...
    lines: dict[str, int] = field(default_factory=dict)


PRICES = {
    "GRP-001": {"api_central": ("850", "1000"), "cold_central": ("12000", None), "exc_local": ("13", None)},
    "CA-001": {"exc_local": ("12.345", "100"), "pkg_loose": ("0.35", None)},
}


def sign_contracts(session_factory: sessionmaker[Session], world: World) -> Deals:
    today = business_today()
    deals = Deals(today=today, valid_from=today - dt.timedelta(days=30), valid_to=today + dt.timedelta(days=335))
    signers = {"GRP-001": ("group_buyer", ContractScope.GROUP, None), "CA-001": ("buyer_a", ContractScope.COMPANY, "A")}
    with session_factory() as session, session.begin():
        for number, (user, scope, company) in signers.items():
            materials = list(PRICES[number])
            contract = services.create_contract(
                session, world.actors[user], number=number, supplier_id=world.suppliers["sup1"], scope=scope,
                company_id=world.companies[company] if company else None,
                valid_from=deals.valid_from, valid_to=deals.valid_to,
                lines=[
                    {"material_id": world.materials[m], "unit_price": Decimal(price),
                     "target_quantity": Decimal(target) if target else None}
                    for m, (price, target) in PRICES[number].items()
                ],
            )
            services.activate_contract(session, world.actors[user], contract.id)
            deals.contracts[number] = contract.id
            for material, line in zip(materials, contract.lines, strict=True):
                deals.lines[f"{number}/{material}"] = line.id
    return deals
