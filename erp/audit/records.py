"""The records the audit trail's pages name: each entry's record, its company and the ids its
changes hold (a company, a warehouse, a customer record), by code and name as pages show
records (``Named``), users by their name. One query per kind of record on a page."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from erp.audit.models import AuditEvent
from erp.auth.models import User
from erp.masterdata.models import Company, Customer, Material, Segment, Supplier, TaxCode, UnitOfMeasure, Warehouse
from erp.masterdata.services import names_by_id
from erp.messages import Named

# The record an entry's ``entity_id`` stands for, where it is a master record (a standard
# price and a customer's credit are keyed by the material and the customer).
RECORD_TABLES: dict[str, type[Any]] = {
    "segment": Segment, "company": Company, "warehouse": Warehouse, "unit": UnitOfMeasure, "material": Material,
    "supplier": Supplier, "customer": Customer, "tax_code": TaxCode, "standard_price": Material,
    "customer_credit": Customer, "customer_credit_data": Customer,
}
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

    def record(self, entity: str, entity_id: int | None) -> Named | str | None:
        if entity_id is None:
            return None
        if entity == "user":
            return self.users.get(entity_id)
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
    for entity, entity_id in [*((e.entity, e.entity_id) for e in events), *records]:
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
    return int(code) if code.isascii() and code.isdigit() and len(code) < 19 else None
