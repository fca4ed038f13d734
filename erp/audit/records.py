"""The records the audit trail's pages name: each entry's record, its company and the ids its
changes hold (a company, a warehouse, a customer record), by code and name as pages show
records (``Named``), users by their name. One query per kind of record on a page."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from erp.audit.models import AuditEvent
from erp.audit.services import PERIOD, period_key, period_of_key
from erp.auth.models import User
from erp.masterdata.models import Company, Customer, Material, Segment, Supplier, TaxCode, UnitOfMeasure, Warehouse
from erp.masterdata.services import names_by_id
from erp.credit.models import SalesOrder
from erp.messages import Named
from erp.production.models import ProductionOrder

# The record an entry's ``entity_id`` stands for, where it is a master record (a standard
# price and a customer's credit are keyed by the material and the customer).
RECORD_TABLES: dict[str, type[Any]] = {
    "segment": Segment, "company": Company, "warehouse": Warehouse, "unit": UnitOfMeasure, "material": Material,
    "supplier": Supplier, "customer": Customer, "tax_code": TaxCode, "standard_price": Material,
    "customer_credit": Customer, "customer_credit_data": Customer, "storage_monitoring": Warehouse,
}


def _production_order_by_number(session: Session, number: str) -> int | None:
    found = re.fullmatch(r"MO-0*(\d{1,18})", number.strip().upper())
    if found is None:
        return None
    return session.scalar(select(ProductionOrder.id).where(ProductionOrder.id == int(found.group(1))))


def _production_order_numbers(session: Session, ids: list[int]) -> dict[int, str]:
    found = session.scalars(select(ProductionOrder.id).where(ProductionOrder.id.in_(ids)))
    return {key: f"MO-{key:08d}" for key in found}


def _sales_order_by_number(session: Session, number: str) -> int | None:
    return session.scalar(select(SalesOrder.id).where(SalesOrder.number == number.strip()))


def _sales_order_numbers(session: Session, ids: list[int]) -> dict[int, str]:
    return dict(session.execute(select(SalesOrder.id, SalesOrder.number).where(SalesOrder.id.in_(ids))).all())


# Records of the trail named by their number (a reader types it, a page shows it): entity ->
# (the id of a number, the numbers of ids).
NUMBERED: dict[str, tuple[Callable[[Session, str], int | None], Callable[[Session, list[int]], dict[int, str]]]] = {
    "production_order": (_production_order_by_number, _production_order_numbers),
    "sales_order": (_sales_order_by_number, _sales_order_numbers),
}
PERIOD_CODE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")

# Fields of the changes that hold the id of a master record, or a list of them.
ID_FIELDS: dict[str, type[Any]] = {
    "company_id": Company, "segment_id": Segment, "warehouse_id": Warehouse, "customer_id": Customer,
    "supplier_id": Supplier, "material_id": Material, "unit_id": UnitOfMeasure, "default_tax_code_id": TaxCode,
}
ID_LIST_FIELDS: dict[str, type[Any]] = {"company_ids": Company, "warehouse_ids": Warehouse}


@dataclass
class TrailNames:
    """Names of what a page of the trail shows: ``record(entity, id)``, ``company(id)`` and
    ``value(entity, id, field, value)`` (an id of a record as that record, by name)."""

    by_table: dict[type[Any], dict[int, Named]] = field(default_factory=dict)
    users: dict[int, str] = field(default_factory=dict)
    numbers: dict[tuple[str, int], str] = field(default_factory=dict)

    def record(self, entity: str, entity_id: int | None) -> Named | str | None:
        if entity_id is None:
            return None
        if entity == "user":
            return self.users.get(entity_id)
        if entity == PERIOD:
            return period_of_key(entity_id)
        if entity in NUMBERED:
            return self.numbers.get((entity, entity_id))
        table = RECORD_TABLES.get(entity)
        return self.by_table.get(table, {}).get(entity_id) if table else None

    def company(self, company_id: int | None) -> Named | None:
        return None if company_id is None else self.by_table.get(Company, {}).get(company_id)

    def value(self, entity: str, entity_id: int | None, name: str, value: Any) -> Any:
        """A recorded value as a page shows it: an id of a record as that record, a list of ids
        as the records, a master record's code with the record's name; else the value."""
        table = ID_FIELDS.get(name) or ID_LIST_FIELDS.get(name)
        if table is not None:
            known = self.by_table.get(table, {})
            if isinstance(value, list):
                return [known.get(item, item) for item in value if isinstance(item, int)]
            return known.get(value, value) if isinstance(value, int) else value
        if name == "code" and isinstance(value, str) and entity in RECORD_TABLES and entity_id is not None:
            found = self.by_table.get(RECORD_TABLES[entity], {}).get(entity_id)
            return Named(value, found.name_zh, found.name_en) if found else value
        return value


def trail_names(session: Session, events: Iterable[AuditEvent],
                records: Iterable[tuple[str, int]] = ()) -> TrailNames:
    """The names of the records, companies and ids ``events`` show (and of ``records``, each
    an entity and an id: a history page names its record before anything is recorded)."""
    wanted: dict[type[Any], set[int]] = {}
    users: set[int] = set()
    events = list(events)
    keys = [*((e.entity, e.entity_id) for e in events), *records]
    for entity, entity_id in keys:
        if entity == "user" and entity_id is not None:
            users.add(entity_id)
        elif entity in RECORD_TABLES and entity_id is not None:
            wanted.setdefault(RECORD_TABLES[entity], set()).add(entity_id)
    for event in events:
        if event.company_id is not None:
            wanted.setdefault(Company, set()).add(event.company_id)
        for name, change in (event.changes or {}).items():
            table = ID_FIELDS.get(name) or ID_LIST_FIELDS.get(name)
            if table is None or not isinstance(change, dict):
                continue
            for value in (change.get("before"), change.get("after")):
                for item in value if isinstance(value, list) else [value]:
                    if isinstance(item, int) and not isinstance(item, bool):
                        wanted.setdefault(table, set()).add(item)
    names = TrailNames(by_table={table: names_by_id(session, table, ids) for table, ids in wanted.items()})
    for entity, (_, number_of) in NUMBERED.items():
        ids = sorted({entity_id for kind, entity_id in keys if kind == entity and entity_id is not None})
        if ids:
            names.numbers.update({(entity, key): number for key, number in number_of(session, ids).items()})
    if users:
        names.users = {row.id: row.username for row in session.execute(
            select(User.id, User.username).where(User.id.in_(sorted(users))))}
    return names


def record_id(session: Session, entity: str, code: str) -> int | None:
    """The id of the record of kind ``entity`` a reader names: a master record by its code, a
    user by name, any other record by its number (None when there is none)."""
    table = RECORD_TABLES.get(entity)
    if table is not None:
        return session.scalar(select(table.id).where(table.code == code))
    if entity == "user":
        return session.scalar(select(User.id).where(User.username == code))
    if entity == PERIOD:
        return period_key(code) if PERIOD_CODE.match(code) else None
    if entity in NUMBERED:
        found = NUMBERED[entity][0](session, code)
        if found is not None:
            return found
    return int(code) if code.isascii() and code.isdigit() and len(code) < 19 else None
