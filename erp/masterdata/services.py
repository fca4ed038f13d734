"""Maintaining the group master: create, read, update, list, deactivate.

Every kind of master record follows the same rules, so one set of functions serves them
all, driven by a ``Catalog`` entry per kind that says what differs: who may write it,
which fields are unique group-wide, which references must exist, how visibility is scoped
to the caller's companies, and the record's own consistency rules.

A record that other records use is never deleted, only deactivated; an unused record may
be deleted (a typo caught the same day).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Numeric, Select, bindparam, func, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from erp import text as text_rules
from erp.audit import services as audit
from erp.auth.roles import MASTER_DATA_ROLES, Actor, Role
from erp.db import Base, DriverRead, largest_value, page
from erp.errors import NotFound, ValidationFailed
from erp.unique import flush_unique
from erp.masterdata.errors import (
    DUPLICATE_REFUSALS,
    DeactivationBlocked,
    NoGroup,
    IntercompanyPartnerHasHistory,
    IntercompanyPartnerNotTheCompany,
    RecordInUse,
    WarehouseInUse,
)
from erp.messages import N_, Message, Named, Term
from erp.masterdata.models import (
    Company,
    Group,
    MaterialType,
    Customer,
    Material,
    Segment,
    Supplier,
    TaxCode,
    TaxKind,
    UnitOfMeasure,
    Warehouse,
    quantity_fits,
)
from erp.search import contains_text

Record = Any  # one of the master-data models


@dataclass(frozen=True)
class Catalog:
    """What is particular to one kind of master record."""

    model: type[Base]
    label: str
    unique: tuple[str, ...] = ("code",)
    searchable: tuple[str, ...] = ("code", "name_zh", "name_en")
    writers: frozenset[Role] = MASTER_DATA_ROLES
    # field -> model that must hold an active row with that id
    references: Mapping[str, type[Base]] = field(default_factory=dict)
    # WHERE clause limiting the rows the actor may see (None: group master, visible to all)
    scope: Callable[[Actor], ColumnElement[bool]] | None = None
    # consistency rules on the record after changes are applied
    check: Callable[[Record], None] | None = None


def _check_temperature_band(low: Decimal | None, high: Decimal | None, low_field: str) -> None:
    if low is not None and high is not None and low > high:
        raise ValidationFailed.for_field(low_field, Message("{low} is above the upper bound {high}", low=low, high=high))


def _check_warehouse(warehouse: Warehouse) -> None:
    _check_temperature_band(warehouse.temp_min, warehouse.temp_max, "temp_min")


def _check_material(material: Material) -> None:
    _check_temperature_band(material.storage_temp_min, material.storage_temp_max, "storage_temp_min")


def _check_tax_code(code: TaxCode) -> None:
    # Zero-rated and exempt lines carry no tax: a rate on them would tax what the law does not.
    if code.kind != TaxKind.STANDARD and code.rate != 0:
        raise ValidationFailed.for_field("rate", Message("a {kind} tax code has rate 0", kind=code.kind))
    if code.kind == TaxKind.STANDARD and code.rate <= 0:
        raise ValidationFailed.for_field("rate", Message("a standard-rated tax code needs a rate above 0"))
    if code.valid_to is not None and code.valid_from > code.valid_to:
        raise ValidationFailed.for_field(
            "valid_to", Message("{valid_to} is before the start of validity {valid_from}",
                                valid_to=code.valid_to, valid_from=code.valid_from))


# How refusals name the kinds of record and their unique fields (translated on pages).
CATALOG_NAMES = {"segment": N_("segment"), "company": N_("company"), "warehouse": N_("warehouse"),
                 "unit": N_("unit"), "material": N_("material"), "supplier": N_("supplier"),
                 "customer": N_("customer"), "tax_code": N_("tax code")}
FIELD_NAMES = {"code": N_("code"), "uscc": N_("unified social credit code"),
               "customer_id": N_("customer record"), "supplier_id": N_("supplier record")}

SEGMENTS = Catalog(Segment, "segment")
COMPANIES = Catalog(
    Company,
    "company",
    unique=("code", "uscc", "customer_id", "supplier_id"),
    references={"segment_id": Segment, "customer_id": Customer, "supplier_id": Supplier},
    writers=frozenset({Role.ADMIN}),
    scope=lambda actor: actor.company_scope(Company.id),
)
WAREHOUSES = Catalog(
    Warehouse,
    "warehouse",
    references={"company_id": Company},
    scope=lambda actor: actor.warehouse_scope(Warehouse.id, Warehouse.company_id),
    check=_check_warehouse,
)
UNITS = Catalog(UnitOfMeasure, "unit")
TAX_CODES = Catalog(TaxCode, "tax_code", check=_check_tax_code)
MATERIALS = Catalog(
    Material, "material", references={"unit_id": UnitOfMeasure, "default_tax_code_id": TaxCode},
    check=_check_material,
)
SUPPLIERS = Catalog(Supplier, "supplier", unique=("code", "uscc"), references={"default_tax_code_id": TaxCode})
CUSTOMERS = Catalog(Customer, "customer", unique=("code", "uscc"), references={"default_tax_code_id": TaxCode})
# Records a go-live import creates in bulk: their creation is read from the import (erp.audit.services).
for _catalog in (WAREHOUSES, MATERIALS, SUPPLIERS, CUSTOMERS):
    audit.CREATED_BY_IMPORT[_catalog.label] = _catalog.model.__table__


def _visible(catalog: Catalog, actor: Actor) -> ColumnElement[bool]:
    return catalog.scope(actor) if catalog.scope else true()


def _require_writer(catalog: Catalog, actor: Actor, verb: str) -> None:
    """``verb`` is a message id (N_ at the call): the refusal reads in the reader's language."""
    actor.require_role(*sorted(catalog.writers), action=Message(
        "{action} a {kind}", action=Term(verb), kind=Term(CATALOG_NAMES.get(catalog.label, catalog.label))))


def _check_unique(session: Session, catalog: Catalog, values: Mapping[str, Any], own_id: int | None) -> None:
    model: Any = catalog.model
    for name in catalog.unique:
        value = values.get(name)
        if value is None:
            continue
        query = select(model.id).where(getattr(model, name) == value)
        if own_id is not None:
            query = query.where(model.id != own_id)
        existing = session.scalars(select(model).where(model.id == query.limit(1).scalar_subquery())).first()
        if existing is not None:
            # Name the record that holds the value: the user can open it instead of a duplicate.
            holder = Named.of(existing)
            raise DUPLICATE_REFUSALS[name](
                Message("{field} {value} is already used by {kind} {record}", field=Term(FIELD_NAMES.get(name, name)),
                        value=value, kind=Term(CATALOG_NAMES.get(catalog.label, catalog.label)), record=holder),
                errors=[{"pointer": f"/{name}", "detail": Message("already used by {record}", record=holder)}],
                existing_code=existing.code,
            )


def _check_references(session: Session, catalog: Catalog, values: Mapping[str, Any]) -> None:
    for name, target in catalog.references.items():
        if values.get(name) is None:  # optional references may be cleared
            continue
        row: Any = session.get(target, values[name])
        if row is None or not row.active:
            raise ValidationFailed.for_field(name, Message("no active {kind} with id {key}", kind=Term(target.__tablename__),
                                                               key=values[name]))


def _check_company_owner(catalog: Catalog, actor: Actor, values: Mapping[str, Any]) -> None:
    # A company's own master (its warehouses) may only be written for companies one acts for.
    if "company_id" in values:
        actor.require_company(values["company_id"], what=catalog.label)


def _clean_values(catalog: Catalog, values: Mapping[str, Any]) -> dict[str, Any]:
    """The values as master data stores them, whichever way they came in (API, pages,
    imports): text in NFC on one line without invisible or direction-changing characters
    (erp.text), decimals within their column's precision and scale. 422 naming the field."""
    columns = catalog.model.__table__.columns  # type: ignore[attr-defined]
    cleaned: dict[str, Any] = {}
    for name, value in values.items():
        if isinstance(value, str) and not isinstance(value, Enum):
            value = text_rules.normalise(value).strip()
            why = text_rules.refused_character(value, single_line=True)
            if why:
                raise ValidationFailed.for_field(name, why)
        elif isinstance(value, Decimal) and name in columns and isinstance(columns[name].type, Numeric):
            numeric = columns[name].type
            if not value.is_finite() or abs(value) > largest_value(numeric) or not quantity_fits(value, numeric.scale):
                raise ValidationFailed.for_field(
                    name, Message("must be at most {largest} with at most {scale} decimal places",
                                  largest=largest_value(numeric), scale=numeric.scale))
        cleaned[name] = value
    return cleaned


def create_record(session: Session, actor: Actor, catalog: Catalog, values: Mapping[str, Any]) -> Record:
    """Create a master record after checking rights, uniqueness, references and consistency."""
    _require_writer(catalog, actor, N_("creating"))
    values = _clean_values(catalog, values)
    _check_company_owner(catalog, actor, values)
    _check_unique(session, catalog, values, None)
    _check_references(session, catalog, values)
    record = catalog.model(**values)
    if catalog.check:
        catalog.check(record)
    if isinstance(record, Company):
        _check_intercompany_links(session, record, {})
    session.add(record)
    flush_unique(session)  # a code or USCC another user entered at this moment: the same refusal
    _audit(session, actor, catalog, record, audit.CREATE, None, audit.snapshot(record))
    return record


def _audit(session: Session, actor: Actor, catalog: Catalog, record: Record, action: str,
           before: Mapping[str, Any] | None, after: Mapping[str, Any] | None, reason: str | None = None) -> None:
    """Every create, change, (de)activation and deletion of master data goes to the audit trail."""
    audit.record_change(session, actor, entity=catalog.label, entity_id=record.id, action=action, before=before,
                        after=after, reason=reason, company_id=getattr(record, "company_id", None))


def create_segment(session: Session, actor: Actor, values: Mapping[str, Any]) -> Segment:
    """Create a segment of the (one) group."""
    group_id = session.scalar(select(Group.id).order_by(Group.id).limit(1))
    if group_id is None:
        raise NoGroup(Message("the group itself does not exist yet; load or create it first"))
    return create_record(session, actor, SEGMENTS, {**values, "group_id": group_id})  # type: ignore[no-any-return]


def get_record(session: Session, actor: Actor, catalog: Catalog, record_id: int) -> Record:
    """One record the caller may see; 404 for unknown ids and for other companies' records."""
    model: Any = catalog.model
    record = session.scalars(select(model).where(model.id == record_id, _visible(catalog, actor))).one_or_none()
    if record is None:
        raise NotFound(Message("{what} {key} not found", what=Term(CATALOG_NAMES.get(catalog.label, catalog.label)),
                               key=record_id))
    return record


def update_record(
    session: Session, actor: Actor, catalog: Catalog, record_id: int, changes: Mapping[str, Any],
    *, reason: str | None = None,
) -> Record:
    """Change fields of a record (codes are permanent and not among the changeable fields);
    the change and its ``reason`` go to the audit trail."""
    _require_writer(catalog, actor, N_("changing"))
    changes = _clean_values(catalog, changes)
    record = get_record(session, actor, catalog, record_id)
    before = audit.snapshot(record)
    if isinstance(record, Warehouse) and changes.get("company_id", record.company_id) != record.company_id:
        _refuse_moving_a_warehouse_in_use(session, record)
    _check_company_owner(catalog, actor, changes)
    _check_unique(session, catalog, changes, record.id)
    _check_references(session, catalog, changes)
    if changes.get("active", True) is False and record.active:
        _refuse_deactivating_in_use(session, catalog, record)
    for name, value in changes.items():
        setattr(record, name, value)
    if catalog.check:
        catalog.check(record)
    if isinstance(record, Company):
        _check_intercompany_links(session, record, before)
    elif isinstance(record, (Customer, Supplier)) and record.uscc != before.get("uscc"):
        _check_partner_still_the_company(session, record)
    session.flush()
    _audit(session, actor, catalog, record, audit.CHANGE, before, audit.snapshot(record), reason)
    return record


# --- the intercompany partner link ------------------------------------------------------------
# A company's customer and supplier records (Company.customer_id, supplier_id) make trade
# with them intercompany: the group's figures eliminate it (erp.consolidation, the CIO's
# receivables). A wrong link hides genuine outside receivables and payables, a changed one
# re-classifies history. Two rules guard it:
#
# * the same legal entity: the company's unified social credit code must be recorded and
#   equal the record's (a customer's and a supplier's code is always recorded). A company
#   without a code takes no new link: there is nothing to prove the record is the company.
#   A link made before this rule, to a company still without a code, stays as it is (the
#   record's code may then change: there is nothing to compare it with).
# * no history: a record is linked, re-linked or unlinked only while it carries no
#   documents. What counts as a document is said by the modules that own them (credit:
#   sales orders, invoices, payments, credit notes; purchasing: orders, contracts;
#   payables: supplier invoices and payments; inventory: stock documents, journal lines),
#   registered with ``partner_use_check`` so that master data imports none of them.

PartnerUseCheck = Callable[[Session, int], list[Message]]
PARTNER_USE_CHECKS: dict[str, dict[str, PartnerUseCheck]] = {"customer": {}, "supplier": {}}


def partner_use_check(kind: str) -> Callable[[PartnerUseCheck], PartnerUseCheck]:
    """Register ``check(session, customer_or_supplier_id) -> [documents found]`` for ``kind``
    ("customer" or "supplier"), by the check's name (a decorator; re-registering replaces)."""
    def register(check: PartnerUseCheck) -> PartnerUseCheck:
        PARTNER_USE_CHECKS[kind][f"{check.__module__}.{check.__qualname__}"] = check
        return check
    return register


def documents_found(session: Session, what: str, number: Any, *where: ColumnElement[bool]) -> list[Message]:
    """``[“3 sales order(s) SO-1, SO-2, SO-3 …”]`` for the documents ``where`` selects, named
    by their ``number`` column (at most three; each once, ``where`` may join lines); ``[]``
    when there are none. ``what`` is a
    message id (N_ at the call)."""
    count = session.scalar(select(func.count(number.distinct())).where(*where)) or 0
    if not count:
        return []
    numbers = session.scalars(select(number).where(*where).distinct().order_by(number).limit(3)).all()
    return [Message("{count} {what} ({numbers})", count=count, what=Term(what),
                    numbers=[*numbers, "…"] if count > len(numbers) else list(numbers))]


def partner_documents(session: Session, kind: str, partner_id: int) -> list[Message]:
    """The documents a customer or supplier record carries, as the owning modules name them."""
    return [found for check in PARTNER_USE_CHECKS[kind].values() for found in check(session, partner_id)]


_LINKS: tuple[tuple[str, Any, str], ...] = (("customer_id", Customer, "customer"), ("supplier_id", Supplier, "supplier"))


def _check_intercompany_links(session: Session, company: Company, before: Mapping[str, Any]) -> None:
    """Refuse a new or changed link to a record of another legal entity (422) or to, or away
    from, a record that carries documents (409); ``before`` is the company's snapshot before
    the change (empty for a new company)."""
    uscc_changed = company.uscc != before.get("uscc")
    for name, model, kind in _LINKS:
        old, new = before.get(name), getattr(company, name)
        if new is not None and (new != old or uscc_changed):
            partner: Any = session.get(model, new)
            if company.uscc is None:
                raise IntercompanyPartnerNotTheCompany(
                    Message("company {company} has no unified social credit code recorded: record it before "
                            "linking {kind} {record}, so that the record can be seen to be the company",
                            company=Named.of(company), kind=Term(CATALOG_NAMES[kind]), record=Named.of(partner)),
                    errors=[{"pointer": f"/{name}", "detail": Message(
                        "the company's unified social credit code is not recorded")}])
            if partner.uscc != company.uscc:
                raise IntercompanyPartnerNotTheCompany(
                    Message("{kind} {record} has the unified social credit code {record_uscc}, company {company} "
                            "has {company_uscc}: it is another legal entity and cannot stand for the company",
                            kind=Term(CATALOG_NAMES[kind]), record=Named.of(partner), record_uscc=partner.uscc,
                            company=Named.of(company), company_uscc=company.uscc),
                    errors=[{"pointer": f"/{name}" if new != old else "/uscc", "detail": Message(
                        "not the same unified social credit code as the company")}])
        if new == old:
            continue
        if old is not None:
            _refuse_relinking_history(session, company, name, model, kind, old, gained=False)
        if new is not None:
            _refuse_relinking_history(session, company, name, model, kind, new, gained=True)


def _refuse_relinking_history(session: Session, company: Company, name: str, model: Any, kind: str,
                              partner_id: int, *, gained: bool) -> None:
    found = partner_documents(session, kind, partner_id)
    if not found:
        return
    partner = session.get(model, partner_id)
    if gained:
        detail = Message("{kind} {record} already carries documents with an outside party ({documents}): linked to "
                         "company {company}, they would count as intercompany trade and leave the group's figures",
                         kind=Term(CATALOG_NAMES[kind]), record=Named.of(partner), documents=found,
                         company=Named.of(company))
    else:
        detail = Message("{kind} {record} carries documents booked as intercompany trade with company {company} "
                         "({documents}): unlinking or re-linking it would re-classify them",
                         kind=Term(CATALOG_NAMES[kind]), record=Named.of(partner), documents=found,
                         company=Named.of(company))
    raise IntercompanyPartnerHasHistory(detail, errors=[{"pointer": f"/{name}", "detail": Message(
        "the record already carries documents")}])


def _check_partner_still_the_company(session: Session, partner: Customer | Supplier) -> None:
    """A linked record's code changes only to its company's (when the company's is recorded)."""
    company = (company_for_customer(session, partner.id) if isinstance(partner, Customer)
               else company_for_supplier(session, partner.id))
    if company is None or company.uscc is None or company.uscc == partner.uscc:
        return
    kind = "customer" if isinstance(partner, Customer) else "supplier"
    raise IntercompanyPartnerNotTheCompany(
        Message("{kind} {record} stands for company {company}, whose unified social credit code is "
                "{company_uscc}: its own code cannot become {record_uscc}",
                kind=Term(CATALOG_NAMES[kind]), record=Named.of(partner), company=Named.of(company),
                company_uscc=company.uscc, record_uscc=partner.uscc),
        errors=[{"pointer": "/uscc", "detail": Message("not the same unified social credit code as the company")}])


# What holds a warehouse to its company, as the modules that own it say: each check returns
# what it found ("3 stock balance(s)", "open purchase orders PO-..."), or nothing. The modules
# above master data (stock, purchasing, sales) register theirs with ``warehouse_use_check``,
# so this rule knows no module above it.
WarehouseUseCheck = Callable[[Session, int], list[Message]]
WAREHOUSE_USE_CHECKS: list[WarehouseUseCheck] = []


def warehouse_use_check(check: WarehouseUseCheck) -> WarehouseUseCheck:
    """Register ``check(session, warehouse_id) -> [what holds it]`` (a decorator)."""
    WAREHOUSE_USE_CHECKS.append(check)
    return check


@warehouse_use_check
def _clerks_of(session: Session, warehouse_id: int) -> list[str]:
    from erp.auth.models import User, UserWarehouse

    clerks = session.scalars(
        select(User.username).join(UserWarehouse, UserWarehouse.user_id == User.id)
        .where(UserWarehouse.warehouse_id == warehouse_id).order_by(User.username).limit(5)).all()
    return [Message("clerks {clerks}", clerks=clerks)] if clerks else []


def _refuse_moving_a_warehouse_in_use(session: Session, warehouse: Warehouse) -> None:
    """A warehouse may change company only unused: stock, open orders and clerks belong to
    the company it is in (moved, its stock would sit in the old company's books, out of
    sight of both companies' clerks)."""
    holds = [found for check in WAREHOUSE_USE_CHECKS for found in check(session, warehouse.id)]
    if holds:
        raise WarehouseInUse(
            Message("warehouse {warehouse} cannot change company while it holds {holds}: empty it, finish or "
                    "cancel its orders and rebind its clerks first", warehouse=warehouse.code, holds=holds),
            errors=[{"pointer": "/company_id", "detail": Message("the warehouse is in use by its company")}],
        )


# What keeps a company, a warehouse or a material (and a customer or supplier: its open
# orders) from being deactivated, as the modules that own it say: stock on hand (inventory),
# open purchase orders (purchasing), open sales orders (credit), unfinished production orders
# (production), periods with postings still open (costing). Each check returns what it found, or nothing; deactivated, the record would drop
# off the lists and boards that show what is left to finish (the costing month-end board lists
# active companies only). Registered with ``deactivation_check`` by the modules above.
DeactivationCheck = Callable[[Session, int], list[Message]]
DEACTIVATION_CHECKS: dict[str, dict[str, DeactivationCheck]] = {
    "company": {}, "warehouse": {}, "material": {}, "customer": {}, "supplier": {}}


def deactivation_check(*labels: str) -> Callable[[DeactivationCheck], DeactivationCheck]:
    """Register ``check(session, record_id) -> [what is left]`` for the catalogs ``labels``
    ("company", "warehouse", "material", "customer", "supplier"), by the check's name (a
    decorator)."""
    def register(check: DeactivationCheck) -> DeactivationCheck:
        for label in labels:
            DEACTIVATION_CHECKS[label][f"{check.__module__}.{check.__qualname__}"] = check
        return check
    return register


def what_blocks_deactivation(session: Session, catalog: Catalog, record_id: int) -> list[Message]:
    """What the owning modules say is left to finish before the record may be deactivated."""
    return [found for check in DEACTIVATION_CHECKS.get(catalog.label, {}).values()
            for found in check(session, record_id)]


def _refuse_deactivating_in_use(session: Session, catalog: Catalog, record: Record) -> None:
    holds = what_blocks_deactivation(session, catalog, record.id)
    if holds:
        raise DeactivationBlocked(
            Message("{kind} {record} still has {holds}: it cannot be deactivated until they are used up, finished "
                    "or closed", kind=Term(CATALOG_NAMES.get(catalog.label, catalog.label)),
                    record=Named.of(record), holds=holds),
            errors=[{"pointer": "/active", "detail": Message("still has stock or open documents")}])


def set_record_active(
    session: Session, actor: Actor, catalog: Catalog, record_id: int, active: bool, *, reason: str | None = None
) -> Record:
    """Deactivate (or reactivate) a record: it stays for history but takes no new business."""
    _require_writer(catalog, actor, N_("deactivating") if not active else N_("reactivating"))
    record = get_record(session, actor, catalog, record_id)
    before = {"active": record.active}
    if not active and record.active:
        _refuse_deactivating_in_use(session, catalog, record)
    record.active = active
    session.flush()
    _audit(session, actor, catalog, record, audit.REACTIVATE if active else audit.DEACTIVATE, before,
           {"active": active}, reason)
    return record


def delete_record(
    session: Session, actor: Actor, catalog: Catalog, record_id: int, *, reason: str | None = None
) -> None:
    """Delete a record nobody uses yet; a record in use must be deactivated instead (409)."""
    _require_writer(catalog, actor, N_("deleting"))
    record = get_record(session, actor, catalog, record_id)
    before = audit.snapshot(record)
    try:
        with session.begin_nested():
            session.delete(record)
            session.flush()
    except IntegrityError as exc:
        raise RecordInUse(
            Message("{kind} {code} is used by other records; deactivate it instead",
                    kind=Term(CATALOG_NAMES.get(catalog.label, catalog.label)), code=record.code),
        ) from exc
    _audit(session, actor, catalog, record, audit.DELETE, before, None, reason)


def record_by_code(session: Session, actor: Actor, catalog: Catalog, code: str, field: str) -> Record:
    """A record the caller may see, by its code; 422 on ``field`` when there is none."""
    model: Any = catalog.model
    record = session.scalars(select(model).where(model.code == code.strip(), _visible(catalog, actor))).one_or_none()
    if record is None:
        raise ValidationFailed.for_field(field, Message("no {kind} with code {code}",
                                                        kind=Term(CATALOG_NAMES.get(catalog.label, catalog.label)),
                                                        code=code))
    return record


def text_match(catalog: Catalog, text: str) -> ColumnElement[bool]:
    """The condition a list's search box puts on the catalog's records: ``text`` anywhere in
    their code or names (``catalog.searchable``), upper or lower case alike."""
    return contains_text(text, *(getattr(catalog.model, c) for c in catalog.searchable))


def list_records(
    session: Session,
    actor: Actor,
    catalog: Catalog,
    filters: Mapping[str, Any],
    *,
    offset: int,
    limit: int,
) -> tuple[list[Record], int]:
    """Records the caller may see, filtered by exact fields and a free-text ``q``, by code."""
    model: Any = catalog.model
    query: Select[Any] = select(model).where(_visible(catalog, actor))
    for name, value in filters.items():
        if name == "q":
            query = query.where(text_match(catalog, value))
        else:
            query = query.where(getattr(model, name) == value)
    return page(session, query.order_by(model.code), offset=offset, limit=limit, entities=True)


@dataclass(frozen=True, slots=True)
class UnitFacts:
    code: str
    decimals: int

    def admits(self, quantity: Decimal) -> bool:
        return quantity_fits(quantity, self.decimals)


@dataclass(frozen=True, slots=True)
class MaterialFacts:
    """What postings read of a material, loaded without the ORM (receipts are the hot path)."""

    id: int
    code: str
    material_type: MaterialType
    unit: UnitFacts
    storage_temp_min: Decimal | None
    storage_temp_max: Decimal | None
    storage_max_humidity: Decimal | None
    shelf_life_days: int | None
    min_remaining_shelf_life_days: int | None
    batch_managed: bool
    inspection_required: bool
    over_receipt_tolerance_pct: Decimal
    name_zh: str = ""
    name_en: str = ""


@dataclass(frozen=True, slots=True)
class WarehouseFacts:
    """What postings read of a warehouse."""

    id: int
    code: str
    company_id: int
    temp_min: Decimal
    temp_max: Decimal
    max_humidity: Decimal
    name_zh: str = ""
    name_en: str = ""


# Sent to the driver as compiled SQL on PostgreSQL (erp.db.DriverRead): every receipt runs it.
_FACTS = DriverRead(
    select(
        Material.id, Material.code, Material.material_type, UnitOfMeasure.code, UnitOfMeasure.decimals,
        Material.storage_temp_min, Material.storage_temp_max, Material.storage_max_humidity,
        Material.shelf_life_days, Material.min_remaining_shelf_life_days, Material.batch_managed,
        Material.inspection_required, Material.over_receipt_tolerance_pct,
        Warehouse.id, Warehouse.code, Warehouse.company_id, Warehouse.temp_min, Warehouse.temp_max,
        Warehouse.max_humidity, Material.name_zh, Material.name_en, Warehouse.name_zh, Warehouse.name_en,
    )
    .join(UnitOfMeasure, UnitOfMeasure.id == Material.unit_id)
    .join(Warehouse, Warehouse.id == bindparam("warehouse_id"))  # two lookups by key, one round trip
    .where(Material.id == bindparam("material_id"))
)


def material_and_warehouse_facts(
    session: Session, material_id: int, warehouse_id: int
) -> tuple[MaterialFacts, WarehouseFacts] | None:
    """A material's and a warehouse's facts in one round trip (None if either is unknown)."""
    found = _FACTS.rows(session.connection(), {"material_id": material_id, "warehouse_id": warehouse_id})
    if not found:
        return None
    row = found[0]
    material = MaterialFacts(row[0], row[1], MaterialType(row[2]), UnitFacts(row[3], row[4]), *row[5:13],
                             name_zh=row[19], name_en=row[20])
    return material, WarehouseFacts(*row[13:19], name_zh=row[21], name_en=row[22])


def can_store(warehouse: Warehouse | WarehouseFacts, material: Material | MaterialFacts) -> tuple[bool, Message]:
    """Whether ``warehouse`` keeps the conditions ``material`` needs, and if not, why.

    The warehouse's whole temperature band must lie within the material's band (a cold
    room at 2-8 °C cannot hold a product labelled 8-15 °C, nor the reverse), and the
    warehouse's humidity ceiling must not exceed the material's.
    """
    # The names are looked up only for a refusal: every receipt and transfer asks this.
    if material.storage_temp_min is not None and warehouse.temp_min < material.storage_temp_min:
        return False, Message(
            "warehouse {warehouse} goes down to {low} °C; material {material} must stay at or above {limit} °C",
            warehouse=Named.of(warehouse), low=warehouse.temp_min, material=Named.of(material),
            limit=material.storage_temp_min)
    if material.storage_temp_max is not None and warehouse.temp_max > material.storage_temp_max:
        return False, Message(
            "warehouse {warehouse} goes up to {high} °C; material {material} must stay at or below {limit} °C",
            warehouse=Named.of(warehouse), high=warehouse.temp_max, material=Named.of(material),
            limit=material.storage_temp_max)
    if material.storage_max_humidity is not None and warehouse.max_humidity > material.storage_max_humidity:
        return False, Message(
            "warehouse {warehouse} allows {humidity}% humidity; material {material} needs at most {limit}%",
            warehouse=Named.of(warehouse), humidity=warehouse.max_humidity, material=Named.of(material),
            limit=material.storage_max_humidity)
    return True, Message("storage conditions met")


def company_for_customer(session: Session, customer_id: int) -> Company | None:
    """The group company a customer record stands for (intercompany sales), if any."""
    return session.scalars(select(Company).where(Company.customer_id == customer_id)).first()


def company_for_supplier(session: Session, supplier_id: int) -> Company | None:
    """The group company a supplier record stands for (intercompany purchases), if any."""
    return session.scalars(select(Company).where(Company.supplier_id == supplier_id)).first()


def unit_names(session: Session) -> dict[str, Named]:
    """Every unit of measure by code, with its names (KG: 千克 / kilogram): how pages say a
    quantity's unit (the ``with_unit`` filter), read once per page."""
    rows = session.execute(select(UnitOfMeasure.code, UnitOfMeasure.name_zh, UnitOfMeasure.name_en))
    return {row.code: Named(row.code, row.name_zh or "", row.name_en or "") for row in rows}


def names_by_id(session: Session, model: type[Any], ids: Iterable[int | None]) -> dict[int, Named]:
    """Records of ``model`` (any master-data table with ``code``, ``name_zh``, ``name_en``)
    by id, as pages name them (``Named``: code and name); ids that are None are left out.
    For lists that hold ids: the page shows ``names[id]|named``, never the bare code."""
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    rows = session.execute(select(model.id, model.code, model.name_zh, model.name_en).where(model.id.in_(wanted)))
    return {row.id: Named(row.code, row.name_zh or "", row.name_en or "") for row in rows}
