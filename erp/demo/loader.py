"""Build a believable demo group: 30 companies, 90 warehouses, a few hundred materials,
suppliers and customers with valid unified social credit codes, and one user per role.

Deterministic: the same seed always builds the same group.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session
from stdnum.cn import uscc

from erp.auth.models import User, UserCompany, UserWarehouse
from erp.auth.roles import GROUP_ROLES, Role
from erp.auth.services import hash_password
from erp.demo import catalog as c
from erp.db import in_transaction
from erp.demo.credit import add_sales_history
from erp.demo.intercompany import add_intercompany_demo
from erp.demo.inventory import load_inventory_demo
from erp.demo.purchasing import load_purchasing_demo
from erp.clock import business_today
from erp.masterdata.tax import CHINA_VAT, CHINA_VAT_SINCE
from erp.masterdata.models import (
    Company,
    Customer,
    Group,
    Material,
    MaterialType,
    ProcurementScope,
    Segment,
    Supplier,
    TaxCode,
    UnitOfMeasure,
    Warehouse,
)

DEMO_PASSWORD = "heyi-demo-2026"
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


class DemoAlreadyLoaded(Exception):
    """The demo goes into an empty database only, once."""


@dataclass
class DemoReport:
    counts: dict[str, int] = field(default_factory=dict)
    users: list[tuple[str, str, str]] = field(default_factory=list)
    skipped: bool = False

    def __str__(self) -> str:
        if self.skipped:
            return "demo group already loaded; nothing changed"
        lines = ["demo group loaded:"]
        lines += [f"  {name:<12} {count:>5}" for name, count in self.counts.items()]
        lines.append(f"demo users (password for all: {DEMO_PASSWORD}):")
        lines += [f"  {user:<20} {role:<20} {scope}" for user, role, scope in self.users]
        lines.append("browser: http://127.0.0.1:5000/ ; try clerk.form01 first (the warehouse clerk's receiving work)")
        lines.append("get a token: curl -s -X POST http://127.0.0.1:5000/api/v1/auth/token "
                     "-H 'Content-Type: application/json' "
                     f"-d '{{\"username\": \"steward\", \"password\": \"{DEMO_PASSWORD}\"}}'")
        return "\n".join(lines)


class UsccFactory:
    """Valid, unique unified social credit codes (GB 32100-2015) for a given region."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.issued: set[str] = set()

    def __call__(self, region: str) -> str:
        while True:
            body = "91" + region + "".join(self.rng.choice(USCC_ALPHABET[:10]) for _ in range(8))
            body += self.rng.choice(USCC_ALPHABET)
            code = body + uscc.calc_check_digit(body)
            if code not in self.issued:
                self.issued.add(code)
                return uscc.validate(code)


def _storage(profile: tuple[str | None, str | None, str | None]) -> dict[str, Decimal | None]:
    low, high, humidity = profile
    return {
        "storage_temp_min": Decimal(low) if low else None,
        "storage_temp_max": Decimal(high) if high else None,
        "storage_max_humidity": Decimal(humidity) if humidity else None,
    }


def _materials(units: dict[str, UnitOfMeasure]) -> list[Material]:
    materials: list[Material] = []

    def add(code: str, zh: str, en: str, kind: MaterialType, unit: str, scope: str,
            storage: tuple[str | None, str | None, str | None], shelf_life: int | None, *,
            inspection: bool = True, batches: bool = True, tolerance: str = "0") -> None:
        materials.append(Material(
            code=code, name_zh=zh, name_en=en, material_type=kind, unit=units[unit],
            procurement_scope=ProcurementScope(scope), shelf_life_days=shelf_life,
            batch_managed=batches, inspection_required=inspection,
            over_receipt_tolerance_pct=Decimal(tolerance), **_storage(storage),
        ))

    for code, zh, en, storage, life, scope in c.APIS:
        add(f"API-{code}", zh, en, MaterialType.RAW, "KG", scope, storage, life, tolerance="2")
    for code, zh, en, storage, life, scope in c.EXCIPIENTS:
        add(f"EXC-{code}", zh, en, MaterialType.RAW, "KG", scope, storage, life, tolerance="2")
    for code, zh, en, storage, life, scope in c.INTERMEDIATES:
        add(f"INT-{code}", zh, en, MaterialType.INTERMEDIATE, "KG", scope, storage, life, tolerance="1")
    for code, zh, en, unit, scope in c.PACKAGING:
        loose = code in ("SHIP", "DRUM", "PEBAG")
        add(f"PKG-{code}", zh, en, MaterialType.PACKAGING, unit, scope, c.BELOW_30, None if loose else 1095,
            inspection=not loose, batches=not loose, tolerance="3")
    api_names = {code: (zh, en, storage) for code, zh, en, storage, _life, _scope in c.APIS}
    counters: dict[str, int] = {}
    for api, form_zh, form_en, strength, pack in c.FINISHED:
        zh, en, storage = api_names[api]
        for multiple in (1, 2):
            counters[api] = counters.get(api, 0) + 1
            count = pack * multiple
            add(f"FG-{api}-{counters[api]:02d}", f"{zh}{form_zh} {strength}×{count}",
                f"{en.split(' ')[0]} {form_en} {strength} x {count}", MaterialType.FINISHED, "BOX",
                "local", storage, 730 if storage is c.COLD_2_8 else 1095)
    for code, zh, en, unit, storage, scope in c.TRADE_GOODS:
        add(f"TRD-{code}", zh, en, MaterialType.TRADE, unit, scope, storage, 730, inspection=storage is c.COLD_2_8)
    return materials


def load_demo(session: Session, *, seed: int, if_empty: bool = False) -> DemoReport:
    """Create the demo group in one transaction (erp.db.in_transaction; a rerun after a
    deadlock starts again from the seed); refuse when a group already exists."""
    return in_transaction(session, lambda: _load(session, seed=seed, if_empty=if_empty))


def _load(session: Session, *, seed: int, if_empty: bool) -> DemoReport:
    rng = random.Random(seed)
    new_uscc = UsccFactory(rng)
    report = DemoReport()
    if session.scalar(select(Group.id).limit(1)) is not None:
        if if_empty:
            report.skipped = True
            return report
        raise DemoAlreadyLoaded(
            "the database already holds a group: the demo loads only into an empty database "
            "(`make clean` removes the demo's SQLite file; `--if-empty` skips the load)"
        )

    group = Group(code="HEYI", name_zh="合一医药集团", name_en="Heyi Pharmaceutical Group")
    session.add(group)
    session.flush()
    segments = {
        code: Segment(code=code, name_zh=zh, name_en=en, group_id=group.id) for code, zh, en in c.SEGMENTS
    }
    session.add_all(segments.values())

    units = {code: UnitOfMeasure(code=code, name_zh=zh, name_en=en, decimals=dec)
             for code, zh, en, dec in c.UNITS}
    session.add_all(units.values())
    session.flush()

    companies: list[Company] = []
    warehouses: list[Warehouse] = []
    for index, (city_zh, city_en, region) in enumerate(c.CITIES):
        segment_code = c.SEGMENTS[index // 10][0]
        zh_t, en_t = c.COMPANY_NAMES[segment_code]
        company = Company(
            code=f"{segment_code}{index % 10 + 1:02d}", segment_id=segments[segment_code].id,
            name_zh=zh_t.format(city=city_zh), name_en=en_t.format(city=city_en),
            uscc=new_uscc(region),
        )
        companies.append(company)
        for kind, kind_zh, kind_en, low, high, humidity in c.WAREHOUSE_KINDS:
            warehouses.append(Warehouse(
                code=f"{company.code}-{kind}", company=company,
                name_zh=f"{city_zh}{kind_zh}", name_en=f"{city_en} {kind_en.lower()}",
                temp_min=Decimal(low), temp_max=Decimal(high), max_humidity=Decimal(humidity),
            ))
    session.add_all(companies + warehouses)

    # China VAT (erp.masterdata.tax): medicines and their materials at 13 %; the partners
    # carry no code of their own, so the goods' rate applies.
    tax_codes = {code: TaxCode(code=code, name_zh=zh, name_en=en, kind=kind, rate=rate, valid_from=CHINA_VAT_SINCE)
                 for code, zh, en, kind, rate in CHINA_VAT}
    session.add_all(tax_codes.values())
    session.flush()
    materials = _materials(units)
    for material in materials:
        material.default_tax_code_id = tax_codes["VAT13"].id
    session.add_all(materials)

    suppliers: list[Supplier] = []
    pairs = [(w, k) for w in c.SUPPLIER_WORDS for k in c.SUPPLIER_KINDS]
    rng.shuffle(pairs)
    for number, ((word_zh, word_en), (kind_zh, kind_en)) in enumerate(pairs[:60], start=1):
        city_zh, city_en, region = rng.choice(c.CITIES)
        suppliers.append(Supplier(
            code=f"S{number:04d}", uscc=new_uscc(region),
            name_zh=f"{city_zh}{word_zh}{kind_zh}", name_en=f"{city_en} {word_en} {kind_en}",
        ))
    session.add_all(suppliers)

    customers: list[Customer] = []
    customer_types: dict[str, str] = {}  # code -> the type its credit data will give
    for city_zh, city_en, region in c.CITIES:
        for zh_t, en_t, terms, customer_type in c.CUSTOMER_KINDS:
            word_zh, word_en = rng.choice(c.SUPPLIER_WORDS)
            customer_types[f"K{len(customers) + 1:04d}"] = customer_type
            customers.append(Customer(
                code=f"K{len(customers) + 1:04d}", uscc=new_uscc(region), payment_terms_days=terms,
                name_zh=zh_t.format(city=city_zh, word=word_zh),
                name_en=en_t.format(city=city_en, word_en=word_en),
            ))
    session.add_all(customers)
    session.flush()

    report.users = _demo_users(session, companies, warehouses)
    report.counts = {
        "segments": len(segments), "companies": len(companies), "warehouses": len(warehouses),
        "units": len(units), "tax codes": len(tax_codes), "materials": len(materials), "suppliers": len(suppliers),
        "customers": len(customers), "users": len(report.users),
    }
    report.counts.update(load_purchasing_demo(session, rng))
    report.counts.update(load_inventory_demo(session, rng, business_today(), signing_password=DEMO_PASSWORD))
    add_sales_history(session, report, customer_types=customer_types)
    report.counts.update(add_intercompany_demo(session))
    return report


def _demo_users(
    session: Session, companies: list[Company], warehouses: list[Warehouse]
) -> list[tuple[str, str, str]]:
    """One user per role, plus group-wide variants of the company-or-group roles."""
    form01 = next(co for co in companies if co.code == "FORM01")
    dist01 = next(co for co in companies if co.code == "DIST01")
    api01 = next(co for co in companies if co.code == "API01")
    form01_stores = [w for w in warehouses if w.company is form01]
    password_hash = hash_password(DEMO_PASSWORD)
    plan: list[tuple[str, Role, bool, list[Company], list[Warehouse]]] = [
        ("steward", Role.STEWARD, True, [], []),
        ("group.buyer", Role.GROUP_BUYER, True, [], []),
        ("buyer.form01", Role.BUYER, False, [form01], []),
        ("pm.form01", Role.PURCHASING_MANAGER, False, [form01], []),
        ("pm.group", Role.PURCHASING_MANAGER, True, [], []),
        ("clerk.form01", Role.CLERK, False, [form01], form01_stores),
        ("quality.form01", Role.QUALITY, False, [form01], []),
        ("qa.group", Role.QUALITY, True, [], []),
        ("cost.form01", Role.COST_ACCOUNTANT, False, [form01], []),
        ("cost.group", Role.COST_ACCOUNTANT, True, [], []),
        ("ap.form01", Role.ACCOUNTS_PAYABLE, False, [form01], []),
        ("sales.dist01", Role.SALES, False, [dist01], []),
        # the two sides of the demo's intercompany trade (erp.demo.intercompany)
        ("sales.api01", Role.SALES, False, [api01], []),
        ("sales.form01", Role.SALES, False, [form01], []),
        ("credit", Role.CREDIT_CONTROLLER, True, [], []),
        ("cio", Role.CIO, True, [], []),
        ("auditor", Role.AUDITOR, True, [], []),
        ("admin", Role.ADMIN, True, [], []),
    ]
    rows = []
    for username, role, group_wide, cos, stores in plan:
        assert group_wide or role not in GROUP_ROLES
        session.add(User(
            username=username, display_name=username, password_hash=password_hash, role=role,
            group_wide=group_wide,
            companies=[UserCompany(company_id=co.id) for co in cos],
            warehouses=[UserWarehouse(warehouse_id=w.id) for w in stores],
        ))
        scope = "group" if group_wide else ", ".join(co.code for co in cos)
        if stores:
            scope += " (" + ", ".join(w.code for w in stores) + ")"
        rows.append((username, role.value, scope))
    return rows
