"""A small, fixed group for tests, and an API client that calls as one of its users.

Companies A and B are formulation plants (segment FORM), C an API plant (segment API).
Each has an ambient (10-30 °C, 75 %), a cool (8-15 °C, 65 %) and a cold (2-8 °C, 60 %)
warehouse. Materials cover the cases the rules care about: a centrally bought API that
needs inspection, a locally bought excipient without, a cold-chain API, a loose packaging
item without batches, and an inactive material.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.security import generate_password_hash

from erp.auth.models import User, UserCompany, UserWarehouse
from erp.auth.roles import Actor, Role
from erp.auth.services import actor_for_user, issue_token
from erp.masterdata.models import (
    Company,
    Customer,
    Group,
    Material,
    MaterialType,
    ProcurementScope,
    Segment,
    Supplier,
    UnitOfMeasure,
    Warehouse,
)

PASSWORD = "correct horse battery"
PASSWORD_HASH = generate_password_hash(PASSWORD, method="scrypt:1024:8:1")

# Valid unified social credit codes (check characters computed with python-stdnum).
USCC_SUPPLIER_1 = "91330100000000001C"
USCC_SUPPLIER_2 = "91330100000000002F"
USCC_SUPPLIER_BLOCKED = "91330100000000003J"
USCC_CUSTOMER_1 = "91310000000000001Y"
USCC_CUSTOMER_2 = "913100000000000022"
# The companies' own codes: a customer or supplier record stands for a company only with the
# same code (erp.masterdata.services, the intercompany link).
USCC_COMPANY_A = "91330100000000004M"
USCC_COMPANY_B = "91330100000000005Q"
USCC_COMPANY_C = "91330100000000006U"


@dataclass
class World:
    group: int = 0
    segments: dict[str, int] = field(default_factory=dict)
    companies: dict[str, int] = field(default_factory=dict)
    # warehouses["A-AMB"], ["A-COOL"], ["A-COLD"], ["B-AMB"], ...
    warehouses: dict[str, int] = field(default_factory=dict)
    units: dict[str, int] = field(default_factory=dict)
    materials: dict[str, int] = field(default_factory=dict)
    suppliers: dict[str, int] = field(default_factory=dict)
    customers: dict[str, int] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    actors: dict[str, Actor] = field(default_factory=dict)
    # China VAT codes once a test asks for them (tests/tax.py): code -> id
    tax_codes: dict[str, int] = field(default_factory=dict)


# name -> (role, group_wide, companies, warehouses)
USERS: dict[str, tuple[Role, bool, list[str], list[str]]] = {
    "admin": (Role.ADMIN, True, [], []),
    "steward": (Role.STEWARD, True, [], []),
    "group_buyer": (Role.GROUP_BUYER, True, [], []),
    "buyer_a": (Role.BUYER, False, ["A"], []),
    "buyer_b": (Role.BUYER, False, ["B"], []),
    "pm_a": (Role.PURCHASING_MANAGER, False, ["A"], []),
    "pm_group": (Role.PURCHASING_MANAGER, True, [], []),
    "clerk_a": (Role.CLERK, False, ["A"], ["A-AMB", "A-COOL", "A-COLD"]),
    "clerk_b": (Role.CLERK, False, ["B"], ["B-AMB", "B-COOL", "B-COLD"]),
    "quality_a": (Role.QUALITY, False, ["A"], []),
    "cost_a": (Role.COST_ACCOUNTANT, False, ["A"], []),
    "cost_group": (Role.COST_ACCOUNTANT, True, [], []),
    "sales_a": (Role.SALES, False, ["A"], []),
    "sales_b": (Role.SALES, False, ["B"], []),
    "sales_c": (Role.SALES, False, ["C"], []),
    "credit": (Role.CREDIT_CONTROLLER, True, [], []),
    "cio": (Role.CIO, True, [], []),
    "auditor": (Role.AUDITOR, True, [], []),
    "ap_a": (Role.ACCOUNTS_PAYABLE, False, ["A"], []),
    "ap_a2": (Role.ACCOUNTS_PAYABLE, False, ["A"], []),
    "ap_b": (Role.ACCOUNTS_PAYABLE, False, ["B"], []),
}


def _material(code: str, scope: ProcurementScope, unit: UnitOfMeasure, **kwargs: Any) -> Material:
    defaults: dict[str, Any] = {
        "name_zh": code, "name_en": code, "material_type": MaterialType.RAW, "shelf_life_days": 1095,
        "batch_managed": True, "inspection_required": False,
        "over_receipt_tolerance_pct": Decimal("0"),
    }
    defaults.update(kwargs)
    return Material(code=code, procurement_scope=scope, unit=unit, **defaults)


def build_world(session_factory: sessionmaker[Session]) -> World:
    w = World()
    with session_factory() as session, session.begin():
        group = Group(code="HEYI", name_zh="合一医药集团", name_en="Heyi Group")
        session.add(group)
        session.flush()
        w.group = group.id
        segments = {code: Segment(code=code, name_zh=code, name_en=code, group_id=group.id)
                    for code in ("FORM", "API")}
        session.add_all(segments.values())
        session.flush()
        companies = {
            "A": Company(code="CA", name_zh="甲公司", name_en="Company A", segment_id=segments["FORM"].id,
                         uscc=USCC_COMPANY_A),
            "B": Company(code="CB", name_zh="乙公司", name_en="Company B", segment_id=segments["FORM"].id,
                         uscc=USCC_COMPANY_B),
            "C": Company(code="CC", name_zh="丙公司", name_en="Company C", segment_id=segments["API"].id,
                         uscc=USCC_COMPANY_C),
        }
        session.add_all(companies.values())
        warehouses: dict[str, Warehouse] = {}
        for key, company in companies.items():
            for kind, low, high, humidity in (("AMB", 10, 30, 75), ("COOL", 8, 15, 65), ("COLD", 2, 8, 60)):
                warehouses[f"{key}-{kind}"] = Warehouse(
                    code=f"{company.code}-{kind}", company=company, name_zh=kind, name_en=kind,
                    temp_min=Decimal(low), temp_max=Decimal(high), max_humidity=Decimal(humidity),
                )
        session.add_all(warehouses.values())
        units = {
            "KG": UnitOfMeasure(code="KG", name_zh="千克", name_en="kilogram", decimals=3),
            "EA": UnitOfMeasure(code="EA", name_zh="个", name_en="each", decimals=0),
        }
        session.add_all(units.values())
        materials = {
            # needs <= 20 °C and <= 65 % humidity: cool and cold stores qualify, ambient does not
            "api_central": _material(
                "API-AMOX", ProcurementScope.CENTRAL, units["KG"], storage_temp_max=Decimal("20"),
                storage_max_humidity=Decimal("65"), inspection_required=True,
                over_receipt_tolerance_pct=Decimal("2"),
            ),
            # <= 30 °C: every store qualifies
            "exc_local": _material(
                "EXC-STAR", ProcurementScope.LOCAL, units["KG"], storage_temp_max=Decimal("30"),
            ),
            "cold_central": _material(
                "API-INSU", ProcurementScope.CENTRAL, units["KG"], storage_temp_min=Decimal("2"),
                storage_temp_max=Decimal("8"), inspection_required=True, shelf_life_days=730,
            ),
            "pkg_loose": _material(
                "PKG-SHIP", ProcurementScope.LOCAL, units["EA"], material_type=MaterialType.PACKAGING,
                batch_managed=False, shelf_life_days=None,
            ),
            "inactive": _material("EXC-OLD", ProcurementScope.LOCAL, units["KG"], active=False),
        }
        session.add_all(materials.values())
        suppliers = {
            "sup1": Supplier(code="S0001", uscc=USCC_SUPPLIER_1, name_zh="华康", name_en="Huakang"),
            "sup2": Supplier(code="S0002", uscc=USCC_SUPPLIER_2, name_zh="瑞丰", name_en="Ruifeng"),
            "blocked": Supplier(code="S0003", uscc=USCC_SUPPLIER_BLOCKED, name_zh="停用",
                                name_en="Blocked", blocked=True),
        }
        session.add_all(suppliers.values())
        customers = {
            "cust1": Customer(code="K0001", uscc=USCC_CUSTOMER_1, name_zh="第一医院", name_en="First Hospital",
                              payment_terms_days=30),
            "cust2": Customer(code="K0002", uscc=USCC_CUSTOMER_2, name_zh="大药房", name_en="Pharmacy Chain",
                              payment_terms_days=60),
        }
        session.add_all(customers.values())
        session.flush()

        users: dict[str, User] = {}
        for name, (role, group_wide, company_keys, warehouse_keys) in USERS.items():
            users[name] = User(
                username=name, display_name=name, password_hash=PASSWORD_HASH, role=role,
                group_wide=group_wide,
                companies=[UserCompany(company_id=companies[k].id) for k in company_keys],
                warehouses=[UserWarehouse(warehouse_id=warehouses[k].id) for k in warehouse_keys],
            )
        session.add_all(users.values())
        session.flush()
        for name, user in users.items():
            w.tokens[name] = issue_token(session, user.id, ttl_minutes=60).token
            w.actors[name] = actor_for_user(user)

        w.segments = {k: v.id for k, v in segments.items()}
        w.companies = {k: v.id for k, v in companies.items()}
        w.warehouses = {k: v.id for k, v in warehouses.items()}
        w.units = {k: v.id for k, v in units.items()}
        w.materials = {k: v.id for k, v in materials.items()}
        w.suppliers = {k: v.id for k, v in suppliers.items()}
        w.customers = {k: v.id for k, v in customers.items()}
        w.users = {k: v.id for k, v in users.items()}
    return w


class ApiClient:
    """Thin wrapper over Flask's test client that signs requests as a world user."""

    def __init__(self, client: FlaskClient, world: World, user: str | None = None) -> None:
        self.client = client
        self.world = world
        self.user = user

    def as_(self, user: str) -> ApiClient:
        return ApiClient(self.client, self.world, user)

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        headers = dict(extra or {})
        if self.user is not None:
            headers["Authorization"] = f"Bearer {self.world.tokens[self.user]}"
        return headers

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, headers=self._headers(kwargs.pop("headers", None)), **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.client.post(path, headers=self._headers(kwargs.pop("headers", None)), **kwargs)

    def put(self, path: str, **kwargs: Any) -> Any:
        return self.client.put(path, headers=self._headers(kwargs.pop("headers", None)), **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Any:
        return self.client.patch(path, headers=self._headers(kwargs.pop("headers", None)), **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.client.delete(path, headers=self._headers(kwargs.pop("headers", None)), **kwargs)


def problem(response: Any, status: int, slug: str | None = None) -> dict[str, Any]:
    """Assert ``response`` is an RFC 9457 problem with ``status`` (and type slug); return its body."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.mimetype == "application/problem+json", response.mimetype
    body = response.get_json(force=True)
    assert body["status"] == status
    assert body["title"] and body["detail"] and body["type"]
    if slug is not None:
        assert body["type"] == f"/problems/{slug}", body
    return body
