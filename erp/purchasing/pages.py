"""Purchasing's pages: what I may order (with supplier and contract price), a new order,
my orders and their life, and the purchasing manager's approval queue.

The rules (purchasing rights, contract prices, the approval threshold, four eyes) are the
services'; a refusal is shown beside the field it concerns, naming the rule.
"""

from __future__ import annotations

from decimal import Decimal
from collections.abc import Callable
from typing import Any

from flask import current_app, redirect, render_template, request, url_for
from sqlalchemy.orm import Session

from erp.auth.models import User
from erp.auth.roles import Actor, Role
from erp.errors import DomainError, ValidationFailed
from erp.masterdata import services as masterdata
from erp.masterdata.models import Company
from erp.messages import Message, N_
from erp.purchasing import services
from erp.purchasing.models import PurchaseOrder, PurchaseOrderStatus
from erp.ui import nav
from erp.ui.listing import ListArgs
from erp.ui.pages import (
    PageBlueprint, confirmed, dry_run, form_refusal, line_refusals, not_found, page_actor, require_role,
)
from erp.ui.forms import form_number
from erp.web import transaction

bp = PageBlueprint("purchasing_pages", __name__, url_prefix="/purchasing")

BUYERS = {Role.BUYER, Role.GROUP_BUYER}
ORDER_READERS = BUYERS | {Role.PURCHASING_MANAGER}
nav.add("purchasing", "purchasing_pages.orderable", N_("Orderable materials"), BUYERS)
nav.add("purchasing", "purchasing_pages.new_order", N_("New purchase order"), BUYERS)
nav.add("purchasing", "purchasing_pages.orders", N_("Purchase orders"), ORDER_READERS, landing_for=BUYERS)
nav.add("purchasing", "purchasing_pages.approvals", N_("Approval queue"), {Role.PURCHASING_MANAGER},
        landing_for={Role.PURCHASING_MANAGER})


def _default_threshold() -> Decimal:
    return current_app.extensions["erp"].settings.default_approval_threshold  # type: ignore[no-any-return]


def _companies(db: Any) -> list[Company]:
    rows, _ = masterdata.list_records(db, page_actor(), masterdata.COMPANIES, {"active": True}, offset=0, limit=100)
    return rows


def _company_id(companies: list[Company]) -> int:
    wanted = request.values.get("company", "")
    for company in companies:
        if company.code == wanted:
            return company.id
    if not companies:
        raise not_found("company", wanted)
    return companies[0].id


@bp.route("/orderable")
@transaction
def orderable(db: Session, actor: Actor) -> str:
    """What I may order for my company: material, supplier and contract price."""
    require_role(*BUYERS)
    args = ListArgs.from_request()
    companies = _companies(db)
    company_id = _company_id(companies)
    rows, total = services.orderable(db, actor, company_id=company_id, offset=args.offset,
                                     limit=args.page_size)
    company = next(c for c in companies if c.id == company_id)
    return render_template("purchasing/orderable.html", rows=rows, total=total, args=args, companies=companies,
                           company=company)


def _quantity(text: str | None) -> Decimal:
    return form_number(text, "lines/0/quantity")  # type: ignore[return-value]


# The new-order form offers the (material, supplier) pairs the buyer may order for the
# receiving company today, one option each: "MATERIAL|SUPPLIER" (codes hold no "|").
OFFER_SEPARATOR = "|"
MAX_OFFERS = 500


def _offer_key(material: str, supplier: str) -> str:
    return f"{material}{OFFER_SEPARATOR}{supplier}"


def _chosen(form: Any) -> tuple[str, str]:
    """The material and supplier codes the form names: the chosen offer, else the two codes
    (a link from 可采购物料, or a client posting them)."""
    offer = form.get("offer", "")
    if OFFER_SEPARATOR in offer:
        material, supplier = offer.split(OFFER_SEPARATOR, 1)
        return material.strip(), supplier.strip()
    return form.get("material", "").strip(), form.get("supplier", "").strip()


@bp.route("/orders/new", methods=["GET", "POST"])
@transaction
def new_order(db: Session, actor: Actor) -> Any:
    """A draft order of one line: the receiving company (one the buyer orders for), one of
    the materials the buyer may order for it with its supplier and contract price, quantity
    and delivery warehouse. More lines are added on the draft's page."""
    require_role(*BUYERS)
    form = request.form if request.method == "POST" else request.args
    refusal: dict[str, Any] = {}
    material_code, supplier_code = _chosen(form)
    if request.method == "POST":
        try:
            with db.begin_nested():  # a refusal rolls back to here
                companies = _companies(db)
                company_id = _company_id(companies)
                material = masterdata.record_by_code(db, actor, masterdata.MATERIALS, material_code,
                                                     "lines/0/material_id")
                supplier = masterdata.record_by_code(db, actor, masterdata.SUPPLIERS, supplier_code,
                                                     "supplier_id")
                warehouse = masterdata.record_by_code(db, actor, masterdata.WAREHOUSES, form.get("warehouse", ""),
                                                      "lines/0/warehouse_id")
                order = services.create_purchase_order(
                    db, actor, receiving_company_id=company_id, supplier_id=supplier.id,
                    lines=[{"material_id": material.id, "quantity": _quantity(form.get("quantity")),
                            "warehouse_id": warehouse.id}])
                number = order.number
            return redirect(url_for("purchasing_pages.order", number=number))
        except DomainError as error:
            if error.status == 404:
                raise
            refusal = form_refusal(error)
    companies = _companies(db)
    company_id = _company_id(companies)
    company = next(c for c in companies if c.id == company_id)
    offers, offer_count = services.orderable(db, actor, company_id=company_id, limit=MAX_OFFERS)
    chosen = _offer_key(material_code, supplier_code) if material_code and supplier_code else ""
    offered = {_offer_key(o.material.code, o.supplier.code): o for o in offers}
    # A pair named by a link but not among what may be ordered stays chosen, so that creating
    # the order says why (the rule, beside the field) rather than silently choosing another.
    unlisted = chosen if chosen and chosen not in offered else ""
    warehouses, _ = masterdata.list_records(db, actor, masterdata.WAREHOUSES, {"company_id": company_id,
                                                                              "active": True}, offset=0, limit=50)
    wanted = offered[chosen].material if chosen in offered else None
    # Offer first the warehouse that can store the material (the rule is masterdata's can_store).
    suitable = [w for w in warehouses if wanted is not None and masterdata.can_store(w, wanted)[0]]
    values = dict(form.items())
    if suitable and not form.get("warehouse"):
        values["warehouse"] = suitable[0].code
    # Each offer names the first warehouse that can store its material: choosing it chooses that one.
    stores = {key: next((w.code for w in warehouses if masterdata.can_store(w, o.material)[0]), "")
              for key, o in offered.items()}
    status = refusal["error"].status if refusal else 200
    return render_template("purchasing/new_order.html", form=values, companies=companies, company=company,
                           warehouses=warehouses, offers=offers, offer_count=offer_count, chosen=chosen,
                           chosen_offer=offered.get(chosen), unlisted=unlisted, offer_key=_offer_key, stores=stores,
                           **refusal), status


ORDER_STATUSES = list(PurchaseOrderStatus)


@bp.route("/orders")
@transaction
def orders(db: Session, actor: Actor) -> str:
    """Orders of my companies, newest first (order date, then number), by status; searched by
    number, supplier or material; the value of all of them under the amounts."""
    require_role(*ORDER_READERS)
    args = ListArgs.from_request()
    status_text = request.args.get("status", "")
    filters: dict[str, Any] = {}
    if status_text in {s.value for s in PurchaseOrderStatus}:
        filters["status"] = PurchaseOrderStatus(status_text)
    if args.q:
        filters["text"] = args.q  # number, supplier or material
    rows, total = services.list_purchase_orders(db, actor, filters, offset=args.offset,
                                                limit=args.page_size)
    value = services.purchase_orders_total(db, actor, filters) if rows else None
    return render_template("purchasing/orders.html", rows=rows, total=total, args=args, statuses=ORDER_STATUSES,
                           status=filters.get("status"), title_key="orders", value=value)


@bp.route("/approvals")
@transaction
def approvals(db: Session, actor: Actor) -> str:
    """Orders waiting for my approval: value against the threshold."""
    require_role(Role.PURCHASING_MANAGER)
    args = ListArgs.from_request()
    filters: dict[str, Any] = {"status": PurchaseOrderStatus.PENDING_APPROVAL}
    if args.q:
        filters["text"] = args.q  # number, supplier or material
    rows, total = services.list_purchase_orders(db, actor, filters, offset=args.offset,
                                                limit=args.page_size)
    thresholds = {row.id: services.approval_threshold(row.receiving_company, _default_threshold()) for row in rows}
    value = services.purchase_orders_total(db, actor, filters) if rows else None
    return render_template("purchasing/approvals.html", rows=rows, total=total, args=args, thresholds=thresholds,
                           value=value)


def _order_by_number(db: Any, number: str, *, lock: bool = False) -> PurchaseOrder:
    order_id = services.order_id_for_number(db, number)
    if order_id is None:
        raise not_found(Message("purchase order"), number)
    return services.get_purchase_order(db, page_actor(), order_id, lock=lock)


# What cannot be undone on an order's page is checked first, then confirmed (docs/ui.md):
# cancelling ends the order, closing ends its receipts, rejecting sends it back to its buyer.
CONFIRMED_ACTIONS = ("cancel", "close", "reject")


def _order_change(db: Session, actor: Actor, order_id: int, action: str, form: Any) -> Callable[[], Any]:
    """The service call an order page's button asks for, with what it needs read from the form
    (a refusal for what is missing is raised now, before anything is checked or done)."""
    reason = form.get("reason", "").strip()[:500]
    if action == "submit":
        return lambda: services.submit_order(db, actor, order_id, default_threshold=_default_threshold())
    if action == "approve":
        return lambda: services.approve_order(db, actor, order_id)
    if action == "reject":
        if not reason:
            raise ValidationFailed.for_field("reason", Message("say why the order is rejected"))
        return lambda: services.reject_order(db, actor, order_id, reason)
    if action == "cancel":
        # The API takes an optional reason; the page asks for one, so the order's page can say
        # afterwards why it was cancelled, by whom and when.
        if not reason:
            raise ValidationFailed.for_field("reason", Message("say why the order is cancelled"))
        return lambda: services.cancel_order(db, actor, order_id, reason)
    if action == "close":
        return lambda: services.close_order(db, actor, order_id, reason or None)
    if action == "lines":
        lines = _draft_lines(db, actor, form)
        return lambda: services.replace_order_lines(db, actor, order_id, lines)
    raise ValidationFailed.for_field("action", Message("unknown action"))


# A draft's lines on its page: one form row per line (material, warehouse, quantity, a box to
# remove it) and a blank row to add one; saving replaces the lines (replace_order_lines), each
# checked and priced again as when an order is created.
MAX_LINE_ROWS = 200


def _line_rows(form: Any) -> int:
    text = form.get("rows", "")
    return min(int(text), MAX_LINE_ROWS + 1) if text.isdigit() else 0


def _kept_rows(form: Any) -> list[int]:
    """The form rows that send a line: not removed, and not the blank row left empty."""
    return [row for row in range(_line_rows(form)) if not form.get(f"remove-{row}")
            and (form.get(f"material-{row}", "").strip() or form.get(f"quantity-{row}", "").strip())]


def _draft_lines(db: Session, actor: Actor, form: Any) -> list[dict[str, Any]]:
    """The lines the draft's form asks for, in form order (a refusal names the line by its
    index among them: ``lines/<index>/<field>``; ``_kept_rows`` maps it back to its row)."""
    rows = _kept_rows(form)
    if not rows:
        raise ValidationFailed.for_field("lines", Message("an order needs at least one line; to drop it, cancel it"))
    if len(rows) > MAX_LINE_ROWS:
        raise ValidationFailed.for_field("lines", Message("at most {count} lines", count=MAX_LINE_ROWS))
    lines = []
    for index, row in enumerate(rows):
        material = masterdata.record_by_code(db, actor, masterdata.MATERIALS, form.get(f"material-{row}", ""),
                                             f"lines/{index}/material_id")
        warehouse = masterdata.record_by_code(db, actor, masterdata.WAREHOUSES, form.get(f"warehouse-{row}", ""),
                                              f"lines/{index}/warehouse_id")
        quantity = form_number(form.get(f"quantity-{row}"), f"lines/{index}/quantity")
        lines.append({"material_id": material.id, "quantity": quantity, "warehouse_id": warehouse.id})
    return lines


@bp.route("/orders/<number>", methods=["GET", "POST"])
@transaction
def order(db: Session, actor: Actor, number: str) -> Any:
    """An order with its lines, and what may be done with it now (submit, approve, reject,
    cancel while nothing is received, close)."""
    require_role(*ORDER_READERS)
    refusal: dict[str, Any] = {}
    pending = None
    done = None
    if request.method == "POST" and request.form.get("edit") != "1":  # edit: back to the forms as typed
        action = request.form.get("action", "")
        try:
            with db.begin_nested():  # a refusal rolls back to here
                order_id = _order_by_number(db, number).id
                change = _order_change(db, actor, order_id, action, request.form)
                if action in CONFIRMED_ACTIONS and not confirmed(request.form):
                    # Irreversible: first what it will do (the service's own result, rolled back).
                    before = services.order_standing(db, order_id)
                    after = dry_run(db, lambda: (change(), services.order_standing(db, order_id))[1])
                    pending = {"action": action, "before": before, "after": after}
                else:
                    change()
            if pending is None:
                return redirect(url_for("purchasing_pages.order", number=number, done=action))
        except DomainError as error:
            if error.status == 404:
                raise
            refusal = form_refusal(error)
            if action == "lines":  # beside the row of the line it concerns
                refusal["line_errors"] = line_refusals(error, _kept_rows(request.form))
    purchase_order = _order_by_number(db, number)
    threshold = services.approval_threshold(purchase_order.receiving_company, _default_threshold())
    done = None if refusal else request.args.get("done")  # never "approved" beside this post's refusal
    status = refusal["error"].status if refusal else 200
    # Who did it, beside when (UI.md): the buyer who created the order and the manager who approved it.
    creator = db.get(User, purchase_order.created_by)
    approver = db.get(User, purchase_order.approved_by) if purchase_order.approved_by is not None else None
    canceller = db.get(User, purchase_order.cancelled_by) if purchase_order.cancelled_by is not None else None
    # What the order's life lets it do now; the services still decide who may, and refuse with the rule.
    may_cancel = services.may_be_cancelled(purchase_order)
    may_close = services.may_be_closed(purchase_order)
    editing = _line_editor(db, actor, purchase_order) if (
        purchase_order.status == PurchaseOrderStatus.DRAFT and actor.role in BUYERS) else None
    return render_template("purchasing/order.html", order=purchase_order, threshold=threshold, done=done,
                           creator=creator, approver=approver, canceller=canceller, may_cancel=may_cancel,
                           may_close=may_close, form=request.form, pending=pending, editing=editing,
                           **refusal), status


def _line_editor(db: Session, actor: Actor, order: PurchaseOrder) -> dict[str, Any]:
    """What a draft's line form offers: the materials the buyer may order from the order's
    supplier for its receiving company today (with their contract price), the company's
    warehouses, and the form's rows (as posted, else the lines and a blank row)."""
    offers, _ = services.orderable(db, actor, company_id=order.receiving_company_id, supplier_id=order.supplier_id,
                                   limit=MAX_OFFERS)
    warehouses, _ = masterdata.list_records(db, actor, masterdata.WAREHOUSES, {
        "company_id": order.receiving_company_id, "active": True}, offset=0, limit=50)
    form = request.form
    if form.get("action") == "lines" and form.get("edit") != "1":
        rows = [{"material": form.get(f"material-{row}", ""), "warehouse": form.get(f"warehouse-{row}", ""),
                 "quantity": form.get(f"quantity-{row}", ""), "remove": bool(form.get(f"remove-{row}"))}
                for row in range(_line_rows(form))]
    else:
        rows = [{"material": line.material.code, "warehouse": line.warehouse.code,
                 "quantity": f"{line.quantity.normalize():f}", "remove": False}
                for line in order.lines] + [{"material": "", "warehouse": "", "quantity": "", "remove": False}]
    offered = {offer.material.code for offer in offers}
    # A line's material no longer offered stays chosen: saving says why (the rule, beside the row).
    unlisted = sorted({row["material"] for row in rows if row["material"] and row["material"] not in offered})
    return {"offers": offers, "warehouses": warehouses, "rows": rows, "unlisted": unlisted}
