"""Sales' pages: the sales orders of the caller's companies (landing page), a new order with
the customer's credit position before saving, and an order's page with its confirmation
under the credit check, its cancellation with a reason and its shipment (what will ship
and its value shown before posting), the posted shipment and sales invoice after.

Views parse the request, call the services the API calls (``erp.credit.services``) or a
query of ``erp.credit.sales_desk`` and render; the rules are the services'.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask import current_app, redirect, render_template, request, url_for
from sqlalchemy.orm import Session

from erp.auth.roles import Actor, Role
from erp.clock import business_today
from erp.credit import queries, sales_desk, services
from erp.credit.exposure import CreditPolicy, open_order_value
from erp.credit.models import SalesOrderStatus
from erp.db import QUANTITY, UNIT_PRICE
from erp.masterdata.tax import line_amounts
from erp.errors import DomainError, ValidationFailed
from erp.messages import Message, N_
from erp.ui import nav
from erp.ui.forms import form_day, form_number
from erp.ui.listing import ListArgs
from erp.ui.pages import PageBlueprint, dry_run, form_refusal, line_refusals, require_role
from erp.web import transaction

bp = PageBlueprint("sales_pages", __name__, url_prefix="/sales")

nav.add("credit", "sales_pages.orders", N_("Sales orders"), {Role.SALES}, landing_for={Role.SALES})

STATUSES = [status for status in SalesOrderStatus]
# Rows a new order's form offers (one more with "add a line").
FORM_ROWS, MAX_ROWS = 3, 30


def _policy() -> CreditPolicy:
    return CreditPolicy.from_settings(current_app.extensions["erp"].settings)


def _int(text: str | None) -> int | None:
    text = (text or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 12 else None


@bp.route("/orders")
@transaction
def orders(db: Session, actor: Actor) -> str:
    """Sales orders of the caller's companies, newest first: search, status filter, totals."""
    require_role(Role.SALES)
    args = ListArgs.from_request(tuple(sales_desk.ORDER_SORTS), default_sort="date", default_desc=True)
    wanted = request.args.get("status", "")
    status = next((s for s in STATUSES if s.value == wanted), None)
    rows, total, totals = sales_desk.orders(db, actor, q=args.q or None, status=status, sort=args.sort,
                                            descending=args.desc, offset=args.offset, limit=args.page_size)
    return render_template("sales/orders.html", rows=rows, total=total, totals=totals, args=args,
                           status=status, statuses=STATUSES)


# --- a new order ---------------------------------------------------------------------------------

def _form_rows(form: Any) -> int:
    rows = _int(form.get("rows")) or FORM_ROWS
    if form.get("action") == "add":
        rows += 1
    return max(1, min(rows, MAX_ROWS))


def _order_request(form: Any, rows: int, partners: sales_desk.PartnerLines | None = None
                   ) -> tuple[dict[str, Any], list[int]]:
    """The order the form asks for (422 beside the field for what cannot be read) and the form
    row of each line sent (rows left empty send none). An intercompany order's row names the
    buyer's purchase order line it fills; left empty, its material and price are that line's."""
    company_id = _int(form.get("company_id"))
    if company_id is None:
        raise ValidationFailed.for_field("company_id", Message("required"))
    customer_id = _int(form.get("customer_id"))
    if customer_id is None:
        raise ValidationFailed.for_field("customer_id", Message("required"))
    day = form_day(form.get("order_date"), "order_date")
    lines: list[services.OrderLineRequest] = []
    used: list[int] = []
    offered = partners.by_id() if partners is not None else {}
    for row in range(rows):
        material = _int(form.get(f"material_id-{row}"))
        quantity_text, price_text = form.get(f"quantity-{row}", ""), form.get(f"unit_price-{row}", "")
        partner_line = _int(form.get(f"partner_po_line_id-{row}")) if partners is not None else None
        if partner_line is not None and partner_line in offered:
            material = material if material is not None else offered[partner_line].material_id
            price_text = price_text if price_text.strip() else str(offered[partner_line].unit_price)
        if material is None and not quantity_text.strip() and not price_text.strip() and partner_line is None:
            continue
        if material is None:
            raise ValidationFailed(Message("choose the material of line {line}", line=row + 1),
                                   errors=[{"pointer": f"lines/{row}/material_id", "detail": Message("required")}])
        warehouse = _int(form.get(f"warehouse_id-{row}"))
        if warehouse is None:
            raise ValidationFailed(Message("choose the warehouse of line {line}", line=row + 1),
                                   errors=[{"pointer": f"lines/{row}/warehouse_id", "detail": Message("required")}])
        quantity = form_number(quantity_text, f"lines/{row}/quantity", QUANTITY)
        price = form_number(price_text, f"lines/{row}/unit_price", UNIT_PRICE, strip=",¥")
        assert quantity is not None and price is not None
        if quantity <= 0:
            raise ValidationFailed(Message("the quantity of line {line} must be more than zero", line=row + 1),
                                   errors=[{"pointer": f"lines/{row}/quantity", "detail": Message("more than zero")}])
        if price <= 0:
            raise ValidationFailed(Message("the unit price of line {line} must be more than zero", line=row + 1),
                                   errors=[{"pointer": f"lines/{row}/unit_price", "detail": Message("more than zero")}])
        lines.append(services.OrderLineRequest(material_id=material, warehouse_id=warehouse, quantity=quantity,
                                               unit_price=price, tax_code_id=_int(form.get(f"tax_code_id-{row}")),
                                               partner_po_line_id=partner_line))
        used.append(row)
    reference = (form.get("customer_reference") or "").strip()[:64] or None
    return {"company_id": company_id, "customer_id": customer_id, "order_date": day, "lines": lines,
            "customer_reference": reference}, used


@dataclass(frozen=True)
class OrderPreview:
    """What the order would be (values read before the savepoint it was made in rolled back:
    erp.ui.pages.dry_run)."""

    line_values: dict[int, Decimal]  # form row -> value, VAT included
    value: Decimal
    credit: services.CreditPosition


@bp.route("/orders/new", methods=["GET", "POST"])
@transaction
def new_order(db: Session, actor: Actor) -> Any:
    """Take a customer's order: company (the caller's), customer and lines; the customer's
    credit position with what this order would make it before saving (a draft)."""
    require_role(Role.SALES)
    form: Any = request.form if request.method == "POST" else request.args
    rows = _form_rows(form)
    refusal: dict[str, Any] = {}
    preview: OrderPreview | None = None
    used: list[int] = []
    choices = sales_desk.form_choices(db, actor, None)
    company_id = _int(form.get("company_id"))
    if company_id is None and len(choices.companies) == 1:
        company_id = choices.companies[0].id
    partners = sales_desk.partner_lines(db, actor, company_id=company_id, customer_id=_int(form.get("customer_id")))
    if request.method == "POST" and form.get("action") in ("preview", "save"):
        try:
            order_request, used = _order_request(form, rows, partners)
            if form.get("action") == "save":
                with db.begin_nested():  # a refusal rolls back to here
                    result = services.create_order(db, actor, **order_request)
                    order_id = result.order.id
                return redirect(url_for("sales_pages.order", order_id=order_id, done="created"))

            def would_make() -> OrderPreview:
                # the order as it would be saved and the credit check it would face, rolled back
                result = services.create_order(db, actor, **order_request)
                value = open_order_value(result.order.lines)
                return OrderPreview(
                    {row: line_amounts(line.quantity, line.unit_price, line.tax_rate).gross
                     for row, line in zip(used, result.order.lines, strict=True)}, value,
                    services.credit_position(db, actor, order_request["customer_id"], policy=_policy(),
                                             amount=value))

            preview = dry_run(db, would_make)
        except DomainError as error:
            if error.status == 404:
                raise
            refusal = form_refusal(error)
    choices = sales_desk.form_choices(db, actor, company_id)
    status = refusal["error"].status if refusal else 200
    return render_template("sales/new_order.html", form=form, rows=rows, choices=choices, company_id=company_id,
                           preview=preview, today=business_today(), partners=partners,
                           line_errors=line_refusals(refusal.get("error"), used or None), **refusal), status


# --- an order ----------------------------------------------------------------------------------------

DONE = {"created": N_("Order saved as a draft: confirm it to run the credit check."),
        "confirmed": N_("Order confirmed: it passed the credit check and can be shipped."),
        "cancelled": N_("Order cancelled."), "shipped": N_("Shipment and sales invoice posted.")}


def _order_page(db: Session, actor: Actor, order_id: int, *, form: Any = None, refusal: dict[str, Any] | None = None,
                action: str | None = None, shipment: Any = None, rows: list[int] | None = None) -> tuple[str, int]:
    order = queries.get_order(db, actor, order_id)
    view = sales_desk.order_view(db, actor, order)
    credit = sales_desk.order_credit(db, actor, order, _policy())
    refusal = refusal or {}
    done = request.args.get("done")
    return render_template(
        "sales/order.html", view=view, order=order, credit=credit, form=form or {}, action=action,
        shipment=shipment, today=business_today(), done=DONE.get(done or ""), done_key=done,
        may_confirm=order.status in (SalesOrderStatus.DRAFT, SalesOrderStatus.BLOCKED),
        may_cancel=order.status not in (SalesOrderStatus.SHIPPED, SalesOrderStatus.CANCELLED),
        may_ship=order.status in (SalesOrderStatus.CONFIRMED, SalesOrderStatus.PARTIALLY_SHIPPED),
        line_errors=line_refusals(refusal.get("error"), rows) if action == "ship" else {},
        **refusal), (refusal["error"].status if refusal else 200)


@bp.route("/orders/<int:order_id>")
@transaction
def order(db: Session, actor: Actor, order_id: int) -> tuple[str, int]:
    """An order: lines, status, the credit check it faces, and what may be done with it."""
    require_role(Role.SALES)
    return _order_page(db, actor, order_id)


@bp.route("/orders/<int:order_id>/confirmation", methods=["POST"])
@transaction
def confirm(db: Session, actor: Actor, order_id: int) -> Any:
    """Confirm under the credit check: confirmed, or blocked for the credit controller."""
    require_role(Role.SALES)
    try:
        with db.begin_nested():  # a refusal rolls back to here
            result = services.confirm_order(db, actor, order_id, policy=_policy())
            blocked = result.order.status == SalesOrderStatus.BLOCKED
        return redirect(url_for("sales_pages.order", order_id=order_id, done="blocked" if blocked else "confirmed"))
    except DomainError as error:
        if error.status == 404:
            raise
        return _order_page(db, actor, order_id, refusal=form_refusal(error), action="confirm")


@bp.route("/orders/<int:order_id>/cancellation", methods=["POST"])
@transaction
def cancel(db: Session, actor: Actor, order_id: int) -> Any:
    """Cancel the order (what is still to ship of it) with a reason."""
    require_role(Role.SALES)
    reason = (request.form.get("reason") or "").strip()[:500]
    try:
        if not reason:
            raise ValidationFailed.for_field("reason", Message("say why"))
        with db.begin_nested():  # a refusal rolls back to here
            services.cancel_order(db, actor, order_id, reason=reason)
        return redirect(url_for("sales_pages.order", order_id=order_id, done="cancelled"))
    except DomainError as error:
        if error.status == 404:
            raise
        return _order_page(db, actor, order_id, form=request.form, refusal=form_refusal(error), action="cancel")


def _shipment_request(order: Any, form: Any) -> tuple[list[services.ShipmentLineRequest], list[int]]:
    """The quantities typed per order line (empty or zero: the line does not ship now), and
    the form row of each line sent."""
    lines, rows = [], []
    for index, line in enumerate(order.lines):
        quantity = form_number(form.get(f"quantity-{index}"), f"lines/{index}/quantity", QUANTITY, required=False)
        if quantity is None or quantity == 0:
            continue
        if quantity < 0:
            raise ValidationFailed(Message("the quantity of line {line} must be more than zero", line=line.line_no),
                                   errors=[{"pointer": f"lines/{index}/quantity", "detail": Message("more than zero")}])
        lines.append(services.ShipmentLineRequest(order_line_id=line.id, quantity=quantity,
                                                  batch_id=_int(form.get(f"batch_id-{index}"))))
        rows.append(index)
    if not lines:
        raise ValidationFailed.for_field("lines", Message("enter the quantity to ship of at least one line"))
    return lines, rows


@dataclass(frozen=True)
class ShipmentPreview:
    """What a shipment would post (read before its savepoint rolled back: erp.ui.pages.dry_run)."""

    lines: list[tuple[Any, Decimal, Decimal, str | None]]  # order line view, quantity, value with VAT, batch
    value: Decimal
    tax: Decimal
    credit: Any


@bp.route("/orders/<int:order_id>/shipment", methods=["POST"])
@transaction
def ship(db: Session, actor: Actor, order_id: int) -> Any:
    """Ship and invoice: ``action=preview`` shows what will ship, its value and the credit
    check (nothing written); ``action=post`` posts, after the same check."""
    require_role(Role.SALES)
    form = request.form
    rows: list[int] = []
    try:
        order = queries.get_order(db, actor, order_id)
        lines, rows = _shipment_request(order, form)
        day = form_day(form.get("posting_date"), "posting_date")
        assert day is not None
        if form.get("action") == "post":
            with db.begin_nested():  # a refusal rolls back to here
                result = services.ship_order(db, actor, order_id, posting_date=day, lines=lines, policy=_policy())
                number = result.invoice.document_number
            return redirect(url_for("sales_pages.order", order_id=order_id, done="shipped", invoice=number))
        view = sales_desk.order_view(db, actor, order)
        by_id = {line.line.id: line for line in view.lines}

        def would_ship() -> ShipmentPreview:
            # the shipment as it would post, rolled back: nothing is written
            result = services.ship_order(db, actor, order_id, posting_date=day, lines=lines, policy=_policy())
            amounts = {line.order_line_id: line.amount for line in result.invoice.lines}
            batch_numbers = {b.batch_id: b.batch_number for found in view.batches.values() for b in found}
            return ShipmentPreview([(by_id[r.order_line_id], r.quantity, amounts[r.order_line_id],
                                     batch_numbers.get(r.batch_id) if r.batch_id else None) for r in lines],
                                   result.invoice.amount, result.invoice.tax_amount, result.credit)

        shipment = dry_run(db, would_ship)
        return _order_page(db, actor, order_id, form=form, action="ship", shipment=shipment)
    except DomainError as error:
        if error.status == 404:
            raise
        return _order_page(db, actor, order_id, form=form, refusal=form_refusal(error), action="ship",
                           rows=rows or None)
