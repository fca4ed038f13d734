"""Pages of purchase contracts and purchasing exceptions.

Buyers and central purchasing (group buyers) find contracts, make new ones as drafts, put
them in force and terminate them; purchasing managers read them. The master-data steward
grants a company a dated exception to order a central material itself, and revokes it.

The views parse the form, call one service of erp.purchasing and render. Who may make which
contract, the state machine, the overlap of validities and the central-material rule are the
services' (erp.purchasing.contracts, erp.purchasing.exceptions); a refusal is shown beside
the field it concerns, with the rule's message at the top, and what was typed is kept.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import redirect, render_template, request, url_for
from sqlalchemy import Numeric
from sqlalchemy.orm import Session

from erp.auth.roles import Actor, Role
from erp.clock import business_today
from erp.db import QUANTITY, UNIT_PRICE, largest_value
from erp.errors import DomainError, ValidationFailed
from erp.masterdata import services as masterdata
from erp.masterdata.models import Company
from erp.messages import Message, N_
from erp.purchasing import services
from erp.purchasing.models import Contract, ContractScope, ContractStatus, PurchasingException
from erp.purchasing.schemas import CONTRACT_NUMBER
from erp.ui import nav
from erp.ui.forms import form_day, form_number
from erp.ui.listing import ListArgs
from erp.ui.pages import PageBlueprint, form_refusal, line_refusals, not_found, page_actor, require_role
from erp.web import transaction

bp = PageBlueprint("contract_pages", __name__, url_prefix="/purchasing")

CONTRACT_MAKERS = {Role.BUYER, Role.GROUP_BUYER}
CONTRACT_READERS = CONTRACT_MAKERS | {Role.PURCHASING_MANAGER}
EXCEPTION_KEEPERS = {Role.STEWARD}
nav.add("purchasing", "contract_pages.contracts", N_("Contracts"), CONTRACT_READERS)
nav.add("purchasing", "contract_pages.new_contract", N_("New contract"), CONTRACT_MAKERS)
nav.add("purchasing", "contract_pages.exceptions", N_("Purchasing exceptions"), EXCEPTION_KEEPERS)
nav.add("purchasing", "contract_pages.new_exception", N_("Grant an exception"), EXCEPTION_KEEPERS)

# Rows of lines the new-contract form shows at first, and at most (the API takes up to 500).
FIRST_LINE_ROWS = 3
MOST_LINE_ROWS = 50


def _companies(db: Session) -> list[Company]:
    rows, _ = masterdata.list_records(db, page_actor(), masterdata.COMPANIES, {"active": True}, offset=0, limit=100)
    return rows


def _by_code(rows: list[Any], code: str) -> Any:
    return next((row for row in rows if row.code == code), None)


# --- contracts -----------------------------------------------------------------------------

CONTRACT_STATUSES = list(ContractStatus)


@bp.route("/contracts")
@transaction
def contracts(db: Session, actor: Actor) -> Any:
    """Contracts I may see (the group's and my companies'): status, supplier, materials with
    their prices, validity and whom they serve; filtered by status, scope, company, number
    and part of a supplier's or material's code or name (as other lists' search boxes)."""
    require_role(*CONTRACT_READERS)
    args = ListArgs.from_request()
    companies = _companies(db)
    filters: dict[str, Any] = {}
    refusal: dict[str, Any] = {}
    status_text, scope_text = request.args.get("status", ""), request.args.get("scope", "")
    if status_text in {s.value for s in ContractStatus}:
        filters["status"] = ContractStatus(status_text)
    if scope_text in {s.value for s in ContractScope}:
        filters["scope"] = ContractScope(scope_text)
    company = _by_code(companies, request.args.get("company", ""))
    if company is not None:
        filters["company_id"] = company.id
    if args.q:
        filters["q"] = args.q[:40]
    # Master data's names are at most 200 characters: a longer text matches nothing anyway.
    for name in ("supplier", "material"):
        text = request.args.get(name, "").strip()[:200]
        if text:
            filters[f"{name}_text"] = text
    rows: list[Contract] = []
    total = 0
    try:
        rows, total = services.list_contracts(db, actor, filters, offset=args.offset, limit=args.page_size,
                                              with_lines=True)
    except DomainError as error:
        if error.status != 422:
            raise
        refusal = form_refusal(error)
    return render_template("purchasing/contracts.html", rows=rows, total=total, args=args, companies=companies,
                           statuses=CONTRACT_STATUSES, scopes=list(ContractScope), filters=filters,
                           may_make=actor.role in CONTRACT_MAKERS, **refusal), 200


def _required_text(form: Any, name: str, field: str, limit: int) -> str:
    text = (form.get(name) or "").strip()
    if not text:
        raise ValidationFailed.for_field(field, Message("required"))
    return text[:limit]


def _positive(text: str | None, field: str, column: Numeric, *, required: bool) -> Decimal | None:
    """A price or quantity typed in the form, strictly positive as the API's fields take it."""
    value = form_number(text, field, column, required=required)
    if value is not None and value <= 0:
        raise ValidationFailed.for_field(field, Message("must be above {min} and at most {max}", min=0,
                                                        max=largest_value(column)))
    return value


def _line_rows(form: Any) -> int:
    """How many rows of lines the form shows: what it had, one more on "add a line"."""
    try:
        rows = int(form.get("line_rows", FIRST_LINE_ROWS))
    except (TypeError, ValueError):
        rows = FIRST_LINE_ROWS
    if form.get("action") == "more":
        rows += 1
    return min(max(rows, 1), MOST_LINE_ROWS)


def _contract_request(db: Session, actor: Actor, form: Any, row_count: int) -> tuple[dict[str, Any], list[int]]:
    """The contract the form describes, as ``create_contract`` takes it, and the form row of
    each line (rows left empty send none). A value the form cannot read is refused on its
    field (lines by their form row)."""
    number = _required_text(form, "number", "number", 40)
    if not CONTRACT_NUMBER.match(number):
        raise ValidationFailed.for_field("number", Message("1-40 characters: A-Z, 0-9, '.', '/', '_' or '-'"))
    supplier = masterdata.record_by_code(db, actor, masterdata.SUPPLIERS, _required_text(form, "supplier", "supplier_id", 40),
                                         "supplier_id")
    scope_text = form.get("scope", "")
    if scope_text not in {s.value for s in ContractScope}:
        raise ValidationFailed.for_field("scope", Message("required"))
    scope = ContractScope(scope_text)
    company_id = None
    if scope == ContractScope.COMPANY:
        company = masterdata.record_by_code(db, actor, masterdata.COMPANIES,
                                            _required_text(form, "company", "company_id", 40), "company_id")
        company_id = company.id
    valid_from = form_day(form.get("valid_from"), "valid_from")
    valid_to = form_day(form.get("valid_to"), "valid_to")
    lines: list[dict[str, Any]] = []
    rows: list[int] = []
    for row in range(row_count):
        code = (form.get(f"material_id-{row}") or "").strip()
        price_text, target_text = form.get(f"unit_price-{row}"), form.get(f"target_quantity-{row}")
        if not code and not (price_text or "").strip() and not (target_text or "").strip():
            continue
        if not code:
            raise ValidationFailed.for_field(f"lines/{row}/material_id", Message("required"))
        material = masterdata.record_by_code(db, actor, masterdata.MATERIALS, code, f"lines/{row}/material_id")
        lines.append({
            "material_id": material.id,
            "unit_price": _positive(price_text, f"lines/{row}/unit_price", UNIT_PRICE, required=True),
            "target_quantity": _positive(target_text, f"lines/{row}/target_quantity", QUANTITY, required=False),
        })
        rows.append(row)
    if not lines:
        raise ValidationFailed.for_field("lines", Message("give at least one material with its unit price"))
    return {"number": number, "supplier_id": supplier.id, "scope": scope, "company_id": company_id,
            "valid_from": valid_from, "valid_to": valid_to, "lines": lines}, rows


@bp.route("/contracts/new", methods=["GET", "POST"])
@transaction
def new_contract(db: Session, actor: Actor) -> Any:
    """A new contract with a supplier, as a draft: its number, whom it serves (the group or
    one company), validity and one unit price per material with an optional target."""
    require_role(*CONTRACT_MAKERS)
    form = request.form if request.method == "POST" else request.args
    row_count = _line_rows(form)
    refusal: dict[str, Any] = {}
    line_errors: dict[str, Any] = {}
    if request.method == "POST" and form.get("action") != "more":
        rows: list[int] | None = None
        try:
            with db.begin_nested():  # a refusal rolls back to here
                values, request_rows = _contract_request(db, actor, form, row_count)
                rows = request_rows  # from here on a line's pointer is its place in the request
                number = services.create_contract(db, actor, **values).number
            return redirect(url_for("contract_pages.contract", number=number, done="create"))
        except DomainError as error:
            if error.status == 404:
                raise
            refusal = form_refusal(error)
            line_errors = line_refusals(error, rows)
    companies = _companies(db)
    # The scopes this user may make a contract for (the rule is the service's).
    scopes = [scope for scope in ContractScope if services.may_make_contract(actor, scope)]
    defaults = {"scope": scopes[0].value if scopes else "", "valid_from": business_today().isoformat()}
    values = form if request.method == "POST" else {**defaults, **form}
    status = refusal["error"].status if refusal else 200
    return render_template("purchasing/new_contract.html", form=values, companies=companies, scopes=scopes,
                           row_count=row_count, line_errors=line_errors, **refusal), status


def _contract_id(db: Session, number: str) -> int:
    contract_id = services.contract_id_for_number(db, number)
    if contract_id is None:
        raise not_found(Message("contract"), number)
    return contract_id


@bp.route("/contracts/<path:number>", methods=["GET", "POST"])
@transaction
def contract(db: Session, actor: Actor, number: str) -> Any:
    """A contract: whom it serves, its validity, each material's price with what has been
    ordered against its target, who made, activated or terminated it; activation and
    termination (with a reason) for those who may."""
    require_role(*CONTRACT_READERS)
    refusal: dict[str, Any] = {}
    line_errors: dict[str, Any] = {}
    if request.method == "POST":
        action = request.form.get("action", "")
        try:
            with db.begin_nested():  # a refusal rolls back to here
                contract_id = _contract_id(db, number)
                if action == "activate":
                    services.activate_contract(db, actor, contract_id)
                elif action == "terminate":
                    # The API requires a reason too (ReasonSchema); the page says so beside the field.
                    reason = request.form.get("reason", "").strip()[:500]
                    if not reason:
                        raise ValidationFailed.for_field("reason", Message("say why the contract is terminated"))
                    services.terminate_contract(db, actor, contract_id, reason)
                else:
                    raise ValidationFailed.for_field("action", Message("unknown action"))
            return redirect(url_for("contract_pages.contract", number=number, done=action))
        except DomainError as error:
            if error.status == 404:
                raise
            refusal = form_refusal(error)
            # An activation refused on a line (a central material no exception covers any
            # more) points at it by its place among the contract's lines, as they are listed.
            line_errors = line_refusals(error)
    found = services.get_contract(db, actor, _contract_id(db, number))
    actions = services.contract_actions(actor, found)
    passed_over = services.lines_passed_over(db, found, business_today())
    names = services.user_names(db, [found.created_by, found.terminated_by])
    done = None if refusal else request.args.get("done")
    status = refusal["error"].status if refusal else 200
    return render_template("purchasing/contract.html", contract=found, actions=actions, names=names, done=done,
                           form=request.form, line_errors=line_errors, passed_over=passed_over, **refusal), status


# --- purchasing exceptions -------------------------------------------------------------------

@bp.route("/exceptions")
@transaction
def exceptions(db: Session, actor: Actor) -> Any:
    """The steward's purchasing exceptions, newest first: company, central material,
    validity, where each stands today (a revoked one: why it was revoked), why and who granted
    it; filtered by company, part of a material's code or name, a day they cover, and revoked
    ones on request."""
    require_role(*EXCEPTION_KEEPERS)
    args = ListArgs.from_request()
    companies = _companies(db)
    filters: dict[str, Any] = {"include_revoked": request.args.get("revoked") == "1"}
    company = _by_code(companies, request.args.get("company", ""))
    if company is not None:
        filters["company_id"] = company.id
    refusal: dict[str, Any] = {}
    rows: list[PurchasingException] = []
    total = 0
    try:
        # Part of a material's code or name, as the contracts list; names are at most 200 characters.
        material = request.args.get("material", "").strip()[:200]
        if material:
            filters["material_text"] = material
        valid_on = form_day(request.args.get("valid_on"), "valid_on", required=False)
        if valid_on is not None:
            filters["valid_on"] = valid_on
        rows, total = services.list_exceptions(db, actor, filters, offset=args.offset, limit=args.page_size)
    except DomainError as error:
        if error.status != 422:
            raise
        refusal = form_refusal(error)
    names = services.user_names(db, [row.granted_by for row in rows] + [row.revoked_by for row in rows])
    revoked_because = services.revocation_reasons(db, [row.id for row in rows if row.revoked_at])
    return render_template("purchasing/exceptions.html", rows=rows, total=total, args=args, companies=companies,
                           filters=filters, names=names, revoked_because=revoked_because, today=business_today(),
                           **refusal), 200


@bp.route("/exceptions/new", methods=["GET", "POST"])
@transaction
def new_exception(db: Session, actor: Actor) -> Any:
    """Grant a company's buyers a dated exception to order a central material themselves:
    company, material, first and last day, and why."""
    require_role(*EXCEPTION_KEEPERS)
    form = request.form if request.method == "POST" else request.args
    refusal: dict[str, Any] = {}
    if request.method == "POST":
        try:
            with db.begin_nested():  # a refusal rolls back to here
                company = masterdata.record_by_code(db, actor, masterdata.COMPANIES,
                                                    _required_text(form, "company", "company_id", 40), "company_id")
                material = masterdata.record_by_code(db, actor, masterdata.MATERIALS,
                                                     _required_text(form, "material", "material_id", 40), "material_id")
                valid_from = form_day(form.get("valid_from"), "valid_from")
                valid_to = form_day(form.get("valid_to"), "valid_to")
                reason = (form.get("reason") or "").strip()[:500]
                if not reason:
                    raise ValidationFailed.for_field("reason", Message("say why the exception is granted"))
                granted = services.grant_exception(db, actor, company_id=company.id, material_id=material.id,
                                                   valid_from=valid_from, valid_to=valid_to, reason=reason)
                exception_id = granted.id
            return redirect(url_for("contract_pages.exception", exception_id=exception_id, done="grant"))
        except DomainError as error:
            if error.status == 404:
                raise
            refusal = form_refusal(error)
    values = form if request.method == "POST" else {"valid_from": business_today().isoformat(), **form}
    status = refusal["error"].status if refusal else 200
    return render_template("purchasing/new_exception.html", form=values, companies=_companies(db),
                           **refusal), status


@bp.route("/exceptions/<int:exception_id>", methods=["GET", "POST"])
@transaction
def exception(db: Session, actor: Actor, exception_id: int) -> Any:
    """One exception: company, material, validity, why, who granted it and when, and its
    revocation with a reason (ended now; orders already submitted under it stand); a revoked
    one shows who revoked it, when and why (the reason from the audit trail)."""
    require_role(*EXCEPTION_KEEPERS)
    refusal: dict[str, Any] = {}
    if request.method == "POST":
        try:
            with db.begin_nested():  # a refusal rolls back to here
                if request.form.get("action") != "revoke":
                    raise ValidationFailed.for_field("action", Message("unknown action"))
                # The service refuses a blank reason at /reason; the page shows it beside the field.
                services.revoke_exception(db, actor, exception_id, reason=request.form.get("reason", "")[:500])
            return redirect(url_for("contract_pages.exception", exception_id=exception_id, done="revoke"))
        except DomainError as error:
            if error.status == 404:
                raise
            refusal = form_refusal(error)
    found = services.get_exception(db, actor, exception_id)
    names = services.user_names(db, [found.granted_by, found.revoked_by])
    revoked_because = services.revocation_reason(db, found.id) if found.revoked_at else None
    done = None if refusal else request.args.get("done")
    status = refusal["error"].status if refusal else 200
    return render_template("purchasing/exception.html", exception=found, names=names, done=done,
                           revoked_because=revoked_because, today=business_today(), form=request.form,
                           **refusal), status
