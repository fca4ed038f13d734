"""The steward's pages: find, create and edit materials, suppliers and customers.

Uniqueness (codes, unified social credit codes), references and consistency are the
services' rules (erp.masterdata.services); a duplicate is refused beside its field,
naming the record that already holds the value.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import abort, redirect, render_template, request, url_for
from sqlalchemy.orm import Session

from erp.schemas import DECIMAL_TEXT, ISO_DATE
from erp.auth.roles import Actor, Role
from erp.errors import DomainError, ValidationFailed
from erp.masterdata import services
from erp.masterdata.models import MaterialType, ProcurementScope, TaxKind
from stdnum.cn import uscc as stdnum_uscc
from stdnum.exceptions import ValidationError as StdnumValidationError
from erp.messages import Message, N_
from erp.ui import nav
from erp.ui.listing import ListArgs
from erp.ui.pages import PageBlueprint, form_refusal, require_role
from erp.web import transaction

bp = PageBlueprint("masterdata_pages", __name__, url_prefix="/masterdata")
STEWARDS = {Role.STEWARD, Role.ADMIN}


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: str = "text"  # text, number, integer, bool, choice, unit, taxcode, date
    required: bool = False
    choices: tuple[Any, ...] = ()
    editable: bool = True


COMMON = (Field("code", N_("Code"), required=True, editable=False), Field("name_zh", N_("Name (Chinese)"), required=True),
          Field("name_en", N_("Name (English)"), required=True))
KINDS = {
    "materials": (services.MATERIALS, N_("Materials"), COMMON + (
        Field("material_type", N_("Material type"), "choice", True, tuple(MaterialType)),
        Field("unit_id", N_("Unit of measure"), "unit", True),
        Field("procurement_scope", N_("Procurement scope"), "choice", True, tuple(ProcurementScope)),
        Field("storage_temp_min", N_("Storage from (°C)"), "number"),
        Field("storage_temp_max", N_("Storage up to (°C)"), "number"),
        Field("storage_max_humidity", N_("Max. relative humidity (percent)"), "number"),
        Field("shelf_life_days", N_("Shelf life (days)"), "integer"),
        Field("batch_managed", N_("Batch-managed"), "bool"),
        Field("inspection_required", N_("Incoming inspection"), "bool"),
        Field("over_receipt_tolerance_pct", N_("Over-receipt tolerance (percent)"), "number"),
        Field("default_tax_code_id", N_("Default tax code"), "taxcode"),
    )),
    "suppliers": (services.SUPPLIERS, N_("Suppliers"), COMMON[:1] + (
        Field("uscc", N_("Unified social credit code"), required=True),) + COMMON[1:] + (
        Field("blocked", N_("Blocked for new orders"), "bool"),
        Field("default_tax_code_id", N_("Own tax code (overrides the material's)"), "taxcode"),)),
    "customers": (services.CUSTOMERS, N_("Customers"), COMMON[:1] + (
        Field("uscc", N_("Unified social credit code"), required=True),) + COMMON[1:] + (
        Field("payment_terms_days", N_("Payment terms (days)"), "integer", True),
        Field("blocked", N_("Blocked"), "bool"),
        Field("default_tax_code_id", N_("Own tax code (overrides the material's)"), "taxcode"),)),
    "tax-codes": (services.TAX_CODES, N_("Tax codes"), COMMON + (
        Field("kind", N_("Taxation"), "choice", True, tuple(TaxKind)),
        Field("rate", N_("Rate (percent)"), "number", True),
        Field("valid_from", N_("Valid from"), "date", True),
        Field("valid_to", N_("Valid to"), "date"),
    )),
}
nav.add("masterdata", "masterdata_pages.materials", N_("Materials"), STEWARDS, landing_for={Role.STEWARD})
nav.add("masterdata", "masterdata_pages.suppliers", N_("Suppliers"), STEWARDS)
nav.add("masterdata", "masterdata_pages.customers", N_("Customers"), STEWARDS)
nav.add("masterdata", "masterdata_pages.tax_codes", N_("Tax codes"), STEWARDS)


def _kind(kind: str) -> tuple[services.Catalog, str, tuple[Field, ...]]:
    if kind not in KINDS:
        abort(404)
    return KINDS[kind]


def _values(fields: tuple[Field, ...], form: Any, *, creating: bool) -> dict[str, Any]:
    """The record's values from the form (422 naming the field for what cannot be read)."""
    values: dict[str, Any] = {}
    for field in fields:
        if not creating and not field.editable:
            continue
        raw = (form.get(field.name) or "").strip()
        if field.kind == "bool":
            values[field.name] = form.get(field.name) == "on"
        elif not raw:
            if field.required:
                raise ValidationFailed.for_field(field.name, Message("required"))
            if field.kind in ("number", "integer", "taxcode", "date"):
                values[field.name] = None
        elif field.kind == "number":
            if not DECIMAL_TEXT.match(raw):  # ASCII digits only: Decimal() also reads full-width ones
                raise ValidationFailed.for_field(field.name, Message("enter a number"))
            try:
                values[field.name] = Decimal(raw)
            except InvalidOperation:
                raise ValidationFailed.for_field(field.name, Message("enter a number")) from None
        elif field.kind == "date":
            try:
                if not ISO_DATE.match(raw):
                    raise ValueError(raw)
                values[field.name] = dt.date.fromisoformat(raw)
            except ValueError:
                raise ValidationFailed.for_field(field.name, Message("enter a date as YYYY-MM-DD")) from None
        elif field.kind in ("integer", "unit", "taxcode"):
            if not (raw.isascii() and raw.isdigit()):
                raise ValidationFailed.for_field(field.name, Message("enter a whole number"))
            values[field.name] = int(raw)
        elif field.kind == "choice":
            values[field.name] = type(field.choices[0])(raw)
        elif field.name == "uscc":
            try:
                values[field.name] = stdnum_uscc.validate(raw)
            except StdnumValidationError:
                raise ValidationFailed.for_field("uscc", Message(
                    "not a valid unified social credit code (18 characters with a check character)")) from None
        else:
            values[field.name] = raw[:200]
    if "over_receipt_tolerance_pct" in values and values["over_receipt_tolerance_pct"] is None:
        values["over_receipt_tolerance_pct"] = Decimal(0)
    return values


def _listing(db: Session, actor: Actor, kind: str) -> str:
    require_role(*STEWARDS)
    catalog, label, fields = _kind(kind)
    args = ListArgs.from_request()
    rows, total = services.list_records(db, actor, catalog, {"q": args.q} if args.q else {},
                                        offset=args.offset, limit=args.page_size)
    return render_template("masterdata/list.html", kind=kind, label=label, rows=rows, total=total, args=args,
                           fields=fields)


@bp.route("/materials")
@transaction
def materials(db: Session, actor: Actor) -> str:
    """Find materials by code or name."""
    return _listing(db, actor, "materials")


@bp.route("/suppliers")
@transaction
def suppliers(db: Session, actor: Actor) -> str:
    """Find suppliers by code or name."""
    return _listing(db, actor, "suppliers")


@bp.route("/customers")
@transaction
def customers(db: Session, actor: Actor) -> str:
    """Find customers by code or name."""
    return _listing(db, actor, "customers")


@bp.route("/tax-codes")
@transaction
def tax_codes(db: Session, actor: Actor) -> str:
    """China VAT codes: rates and the dates they are in force."""
    return _listing(db, actor, "tax-codes")


@bp.route("/<kind>/new", methods=["GET", "POST"])
@bp.route("/<kind>/<code>/edit", methods=["GET", "POST"])
@transaction
def edit(db: Session, actor: Actor, kind: str, code: str | None = None) -> Any:
    """Create a record, or change one (the code is permanent)."""
    require_role(*STEWARDS)
    catalog, label, fields = _kind(kind)
    refusal: dict[str, Any] = {}
    if request.method == "POST":
        try:
            values = _values(fields, request.form, creating=code is None)
            with db.begin_nested():  # a refusal rolls back to here
                if code is None:
                    record = services.create_record(db, actor, catalog, values)
                else:
                    record = services.record_by_code(db, actor, catalog, code, "code")
                    record = services.update_record(db, actor, catalog, record.id, values)
                saved = record.code
            return redirect(url_for(f"masterdata_pages.{kind.replace('-', '_')}", q=saved, saved=saved))
        except DomainError as error:
            if error.status == 404:
                raise
            refusal = form_refusal(error)
    record = None
    if code is not None:
        record = services.record_by_code(db, actor, catalog, code, "code")
    units, _ = services.list_records(db, actor, services.UNITS, {"active": True}, offset=0, limit=100)
    tax_codes, _ = services.list_records(db, actor, services.TAX_CODES, {"active": True}, offset=0, limit=100)
    current = request.form if request.method == "POST" else {
        f.name: (getattr(record, f.name) if record is not None else ("on" if f.name == "batch_managed" else ""))
        for f in fields}
    status = refusal["error"].status if refusal else 200
    return render_template("masterdata/edit.html", kind=kind, label=label, fields=fields, record=record,
                           values=current, units=units, tax_codes=tax_codes, **refusal), status
