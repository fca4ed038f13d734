"""The warehouse's pages: open order lines to receive, the receipt form with what it will
do, the posted document, stock on hand and a batch's flow.

Views parse the request, call one service or query of this module and render; the rules
(prices, storage, quarantine, tolerance, expiry) are the services'.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from flask import current_app, redirect, render_template, request, url_for
from werkzeug.wrappers import Response
from sqlalchemy.orm import Session

from erp.auth.roles import Actor, Role
from erp.errors import DomainError, ValidationFailed
from erp.inventory import queries, services
from erp.inventory.models import StockStatus
from erp.quality import services as quality
from erp.messages import Message, N_
from erp.clock import business_today
from erp.ui import nav
from erp.ui.listing import ListArgs
from erp.ui.pages import PageBlueprint, form_refusal, require_role
from erp.ui.forms import form_day, form_number
from erp.web import transaction

bp = PageBlueprint("inventory_pages", __name__, url_prefix="/inventory")

STOCK_READERS = {Role.CLERK, Role.QUALITY, Role.COST_ACCOUNTANT}
nav.add("warehouse", "inventory_pages.open_lines", N_("Goods receipt"), {Role.CLERK}, landing_for={Role.CLERK})
nav.add("warehouse", "inventory_pages.stock", N_("Stock on hand"), STOCK_READERS)
nav.add("warehouse", "inventory_pages.batch_lookup", N_("Batch flow"), STOCK_READERS)


def _settings() -> Any:
    return current_app.extensions["erp"].settings


@bp.route("/receiving")
@transaction
def open_lines(db: Session, actor: Actor) -> str:
    """Open order lines for the clerk's warehouses, searchable by order, supplier, material."""
    require_role(Role.CLERK)
    args = ListArgs.from_request(tuple(queries.OPEN_LINE_SORTS), default_sort="order")
    rows, total = queries.lines_open_for_receipt(db, actor, q=args.q or None, sort=args.sort,
                                           descending=args.desc, offset=args.offset, limit=args.page_size)
    return render_template("inventory/open_lines.html", rows=rows, total=total, args=args)


def _day(text: str | None, field: str) -> dt.date | None:
    return form_day(text, field, required=False)


def _quantity(text: str | None) -> Decimal:
    return form_number(text, "quantity")  # type: ignore[return-value]


def _receipt_request(line_id: int, form: Any) -> services.ReceiptRequest:
    """The receipt the form asks for (422 naming the field for what cannot be read)."""
    posting_date = _day(form.get("posting_date"), "posting_date") or business_today()
    return services.ReceiptRequest(
        po_line_id=line_id, quantity=_quantity(form.get("quantity")), posting_date=posting_date,
        batch_number=(form.get("batch_number") or "").strip()[:40] or None,
        manufacture_date=_day(form.get("manufacture_date"), "manufacture_date"),
        expiry_date=_day(form.get("expiry_date"), "expiry_date"),
        delivery_note=(form.get("delivery_note") or "").strip()[:64] or None,
    )


@bp.route("/receiving/<int:line_id>", methods=["GET", "POST"])
@transaction
def receive(db: Session, actor: Actor, line_id: int) -> Any:
    """The receipt form: what it will do before posting; refusals beside their fields."""
    require_role(Role.CLERK)
    min_days = _settings().default_min_remaining_shelf_life_days
    form = request.form if request.method == "POST" else {}
    refusal: dict[str, Any] = {}
    if request.method == "POST":
        try:
            receipt = _receipt_request(line_id, request.form)
            with db.begin_nested():  # a refusal rolls back to here
                document_id = services.receive_goods(db, actor, receipt, min_remaining_days=min_days)
                number = queries.get_document(db, actor, document_id).document.number
            return redirect(url_for("inventory_pages.document", number=number, posted=1))
        except DomainError as error:
            if error.status == 404:
                raise
            refusal = form_refusal(error)
    posting_date = business_today()
    try:
        posting_date = _day(form.get("posting_date"), "posting_date") or posting_date
    except ValidationFailed:
        pass
    preview = queries.preview_receipt(db, actor, line_id, posting_date=posting_date, min_remaining_days=min_days)
    status = 422 if refusal.get("error") is not None and refusal["error"].status == 422 else \
        (refusal["error"].status if refusal else 200)
    return render_template("inventory/receive.html", preview=preview, form=form, posting_date=posting_date,
                           **refusal), status


@bp.route("/documents/<number>")
@transaction
def document(db: Session, actor: Actor, number: str) -> str:
    """A posted stock document: header, where the stock went, and its journal entry."""
    view, header = queries.document_by_number(db, actor, number)
    return render_template("inventory/document.html", view=view, header=header,
                           posted=request.args.get("posted") == "1")


@bp.route("/stock")
@transaction
def stock(db: Session, actor: Actor) -> str:
    """Stock on hand in the caller's warehouses, by material, batch, status and expiry."""
    require_role(*STOCK_READERS)
    args = ListArgs.from_request(tuple(queries.STOCK_SORTS), default_sort="expiry")
    status_text = request.args.get("status", "")
    status = StockStatus(status_text) if status_text in {s.value for s in StockStatus} else None
    expiring = request.args.get("expiring") == "1"
    today = business_today()
    rows, total, value = queries.stock_by_batch(
        db, actor, q=args.q or None, status=status, today=today,
        expiring_within=queries.NEAR_EXPIRY_DAYS if expiring else None,
        sort=args.sort, descending=args.desc, offset=args.offset, limit=args.page_size)
    states = {row.batch_id: queries.expiry_state(row.expiry_date, today) for row in rows}
    return render_template("inventory/stock.html", rows=rows, total=total, value=value, args=args,
                           status=status, statuses=list(StockStatus), expiring=expiring, states=states,
                           today=today, near_days=queries.NEAR_EXPIRY_DAYS, ExpiryState=queries.ExpiryState)


@bp.route("/batches")
@transaction
def batch_lookup(db: Session, actor: Actor) -> Any:
    """Find a batch by material code and batch number, and show its flow."""
    require_role(*STOCK_READERS)
    material = request.args.get("material", "").strip()[:32]
    batch = request.args.get("batch", "").strip()[:40]
    flow = None
    error = None
    if material and batch:
        try:
            flow = queries.batch_flow(db, actor, queries.find_batch_by_codes(
                db, actor, material_code=material, batch_number=batch))
            numbers = queries.document_numbers(
                db, [m.document_id for m in flow.movements] + [p.document_id for p in flow.price_differences])
        except DomainError as refusal:
            if refusal.status != 404:
                raise
            error = refusal
    return render_template("inventory/batch_flow.html", flow=flow, material=material, batch=batch, error=error,
                           numbers=numbers if flow else {})


# --- quality: the quarantine list and its decisions -----------------------------------------

nav.add("quality", "inventory_pages.quarantine", N_("Quarantine"), {Role.QUALITY}, landing_for={Role.QUALITY})


@bp.route("/quarantine")
@transaction
def quarantine(db: Session, actor: Actor) -> str:
    """Stock waiting for quality's decision, oldest first (by age, material, batch)."""
    require_role(Role.QUALITY)
    args = ListArgs.from_request(tuple(queries.STOCK_SORTS), default_sort="since")
    today = business_today()
    rows, total, value = queries.stock_by_batch(
        db, actor, q=args.q or None, status=StockStatus.QUARANTINE, today=today, sort=args.sort,
        descending=args.desc, offset=args.offset, limit=args.page_size)
    # a batch under an open inspection lot is decided there, by QA's signature: link to it
    lots = quality.open_lots_of(db, [(r.warehouse_id, r.batch_id) for r in rows])
    return render_template("inventory/quarantine.html", rows=rows, total=total, value=value, args=args, today=today,
                           lots=lots)


@bp.route("/quarantine/<warehouse>/<material>/<path:batch>", methods=["GET", "POST"])
@transaction
def quality_decision(db: Session, actor: Actor, warehouse: str, material: str, batch: str) -> Any:
    """Release quarantined stock of a batch, or reject it (blocked), with a reason."""
    require_role(Role.QUALITY)
    today = business_today()
    refusal: dict[str, Any] = {}
    if request.method == "POST":
        try:
            decision = services.QualityDecision(request.form.get("decision", ""))
        except ValueError:
            decision = None
        reason = request.form.get("reason", "").strip()[:500]
        try:
            if decision is None:
                raise ValidationFailed.for_field("decision", Message("choose release or reject"))
            if not reason:
                raise ValidationFailed.for_field("reason", Message("give the reason for the decision"))
            with db.begin_nested():  # a refusal rolls back to here
                rows, _, _ = queries.stock_by_batch(db, actor, status=StockStatus.QUARANTINE, today=today,
                                                    batch_number=batch, material_code=material, limit=10)
                row = next((r for r in rows if r.warehouse_code == warehouse), None)
                if row is None:
                    raise queries_not_found(batch)
                document_id = services.decide_quarantine(
                    db, actor, warehouse_id=row.warehouse_id, batch_id=row.batch_id, decision=decision,
                    posting_date=today, reason=reason)
                number = queries.get_document(db, actor, document_id).document.number
            return redirect(url_for("inventory_pages.document", number=number, posted=1))
        except DomainError as error:
            if error.status == 404:
                raise
            refusal = form_refusal(error)
    rows, _, _ = queries.stock_by_batch(db, actor, status=StockStatus.QUARANTINE, today=today,
                                        batch_number=batch, material_code=material, limit=10)
    row = next((r for r in rows if r.warehouse_code == warehouse), None)
    if row is None:
        raise queries_not_found(batch)
    lot = quality.open_lots_of(db, [(row.warehouse_id, row.batch_id)]).get((row.warehouse_id, row.batch_id))
    if lot is not None and request.method == "GET":  # decided on its lot, with QA's signature
        return redirect(url_for("quality_pages.lot", lot_id=lot[0]))
    status = refusal["error"].status if refusal else 200
    return render_template("inventory/quality_decision.html", row=row, form=request.form, today=today,
                           **refusal), status


def queries_not_found(batch: str) -> DomainError:
    from erp.errors import NotFound

    return NotFound(Message("batch {batch} has nothing in quarantine here", batch=batch))
