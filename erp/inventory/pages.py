"""The warehouse's pages: open order lines to receive, the receipt form with what it will
do, the goods issue and stock transfer forms with what they will take, the posted document
(with its reversal or its return to the supplier), stock on hand and a batch's flow.

Views parse the request, call one service or query of this module and render; the rules
(prices, storage, quarantine, tolerance, expiry) are the services'.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from flask import current_app, redirect, render_template, request, url_for
from sqlalchemy.orm import Session

from erp.auth.roles import Actor, Role
from erp.errors import DomainError, ValidationFailed
from erp.inventory import queries, services
from erp.inventory.errors import NotReversible
from erp.inventory.models import StockStatus
from erp.posting.models import MovementType
from erp.quality import services as quality
from erp.messages import Message, N_
from erp.clock import business_today
from erp.ui import nav
from erp.ui.listing import ListArgs
from erp.ui.pages import PageBlueprint, confirmed, dry_run, form_refusal, require_role
from erp.ui.forms import form_day, form_number
from erp.web import transaction

bp = PageBlueprint("inventory_pages", __name__, url_prefix="/inventory")

STOCK_READERS = {Role.CLERK, Role.QUALITY, Role.COST_ACCOUNTANT}
nav.add("warehouse", "inventory_pages.open_lines", N_("Goods receipt"), {Role.CLERK}, landing_for={Role.CLERK})
nav.add("warehouse", "inventory_pages.issue", N_("Goods issue"), {Role.CLERK})
nav.add("warehouse", "inventory_pages.transfer", N_("Stock transfer"), {Role.CLERK})
nav.add("warehouse", "inventory_pages.stock", N_("Stock on hand"), STOCK_READERS)
nav.add("warehouse", "inventory_pages.adjust", N_("Stock adjustment"), set(services.ADJUSTING_ROLES))
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
    """The receipt form: what it will do before posting; then, checked, what it will post (the
    quantity at the contract price, the value at standard, the price difference and the
    journal, the service's own figures rolled back) to confirm; refusals beside their fields."""
    require_role(Role.CLERK)
    min_days = _settings().default_min_remaining_shelf_life_days
    form = request.form if request.method == "POST" else {}
    refusal: dict[str, Any] = {}
    pending = amounts = None
    if request.method == "POST" and form.get("edit") != "1":  # edit: back to the form as typed
        try:
            receipt = _receipt_request(line_id, request.form)

            def post() -> int:
                return services.receive_goods(db, actor, receipt, min_remaining_days=min_days)

            if not confirmed(form):
                def posted() -> tuple[Any, Any]:  # read before the savepoint is rolled back
                    view = queries.get_document(db, actor, post(), just_posted=True)
                    return view, queries.receipt_amounts(view)

                pending, amounts = dry_run(db, posted)
            else:
                with db.begin_nested():  # a refusal rolls back to here
                    number = queries.get_document(db, actor, post()).document.number
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
                           pending=pending, amounts=amounts, **refusal), status


# Who is offered what on a posted document's page (the services refuse anyone else): a
# receipt's or an issue's reversal (冲销), a receipt's return to its supplier (退货).
REVERSALS = {MovementType.RECEIPT: services.reverse_receipt, MovementType.ISSUE: services.reverse_issue}
REVERSING_ROLES = {Role.CLERK}
RETURNING_ROLES = {Role.CLERK, Role.QUALITY}
# Where an issue went, in words (a stock document's ``destination``).
DESTINATIONS = {"production": N_("production"), "cost_center": N_("cost centre"),
                "production_order": N_("production order")}


# The header fields each kind of stock document has (beside number, dates, company, who
# posted it, its reason and the documents it is linked to): a receipt names its supplier and
# order, an issue where it went, a transfer its two warehouses; nothing shown as "—" that the
# kind never has.
RECEIVING_FIELDS = ("supplier", "order", "contract_price", "standard_price")
HEADER_FIELDS: dict[MovementType, tuple[str, ...]] = {
    MovementType.RECEIPT: RECEIVING_FIELDS + ("delivery_note",),
    MovementType.RECEIPT_REVERSAL: RECEIVING_FIELDS,
    MovementType.RETURN_TO_SUPPLIER: RECEIVING_FIELDS,
    MovementType.ISSUE: ("issued_to", "standard_price"),
    MovementType.ISSUE_REVERSAL: ("issued_to", "standard_price"),
    MovementType.TRANSFER: ("route", "standard_price", "reference"),
    MovementType.ADJUSTMENT: ("standard_price",),
    MovementType.SCRAP: ("standard_price",),
    MovementType.SHIPMENT: ("customer", "reference", "standard_price"),
    MovementType.SHIPMENT_REVERSAL: ("customer", "reference", "standard_price"),
    MovementType.PRODUCTION_RECEIPT: ("reference", "standard_price"),
    MovementType.PRODUCTION_RECEIPT_REVERSAL: ("reference", "standard_price"),
    MovementType.PRICE_DIFFERENCE: ("supplier", "order", "supplier_invoice"),
}
ORDER_READERS = {Role.BUYER, Role.GROUP_BUYER, Role.PURCHASING_MANAGER}


def _order_link(actor: Actor, number: str | None) -> str | None:
    """Where a document's purchase order opens for the reader: the order's page for those who
    read orders, the order's lines still to receive for a clerk; None for others."""
    if not number:
        return None
    if actor.role in ORDER_READERS:
        return url_for("purchasing_pages.order", number=number)
    if actor.role == Role.CLERK:
        return url_for("inventory_pages.open_lines", q=number)
    return None


def _supplier_link(actor: Actor, code: str | None) -> str | None:
    """Where a document's supplier opens for the reader: its record for stewards, its
    contracts for buyers, its deliveries still open for a clerk; None for others."""
    if not code:
        return None
    if actor.role == Role.STEWARD:
        return url_for("masterdata_pages.suppliers", q=code)
    if actor.role in ORDER_READERS:
        return url_for("contract_pages.contracts", supplier=code)
    if actor.role == Role.CLERK:
        return url_for("inventory_pages.open_lines", q=code)
    return None


def _document_page(db: Session, actor: Actor, number: str, *, form: Any = None,
                   refusal: dict[str, Any] | None = None, action: str | None = None,
                   pending: Any = None) -> tuple[str, int]:
    view, header = queries.document_by_number(db, actor, number)
    doc_type = MovementType(view.document.doc_type)
    # A receipt returned in full stands, but nothing of it is left to reverse or return.
    standing = header.reversed_by_number is None and not header.fully_returned
    refusal = refusal or {}
    return render_template(
        "inventory/document.html", view=view, header=header, posted=request.args.get("posted") == "1",
        fields=HEADER_FIELDS.get(doc_type, ()), order_link=_order_link(actor, header.order_number),
        supplier_link=_supplier_link(actor, header.supplier.code if header.supplier else None),
        form=form or {}, today=business_today(), action=action, pending=pending,
        destination=DESTINATIONS.get(view.document.destination or "", view.document.destination),
        may_reverse=standing and doc_type in REVERSALS and actor.role in REVERSING_ROLES,
        may_trace=actor.role in STOCK_READERS,  # the batch flow's readers: others see the batch unlinked
        may_return=standing and doc_type == MovementType.RECEIPT and actor.role in RETURNING_ROLES,
        **refusal), (refusal["error"].status if refusal else 200)


@bp.route("/documents/<number>")
@transaction
def document(db: Session, actor: Actor, number: str) -> tuple[str, int]:
    """A posted stock document: header, where the stock went, its journal entry, and the
    forms that correct it (a reversal, a return to the supplier) while it stands."""
    return _document_page(db, actor, number)


def _reason(form: Any) -> str:
    reason = (form.get("reason") or "").strip()[:500]
    if not reason:
        raise ValidationFailed.for_field("reason", Message("a reversal needs a reason"))
    return reason


@bp.route("/documents/<number>/reversal", methods=["POST"])
@transaction
def reverse_document(db: Session, actor: Actor, number: str) -> Any:
    """Reverse a posted receipt or issue (冲销) with a reason; the reversal's page after, or
    the refusal beside the form with what was typed."""
    return _correct_document(db, actor, number, "reversal")


@bp.route("/documents/<number>/return", methods=["POST"])
@transaction
def return_document(db: Session, actor: Actor, number: str) -> Any:
    """Return a posted receipt's goods to the supplier (退货), in whole or in part, with a
    reason; the return's page after, or the refusal beside the form with what was typed."""
    return _correct_document(db, actor, number, "return")


def _correct_document(db: Session, actor: Actor, number: str, action: str) -> Any:
    view, _ = queries.document_by_number(db, actor, number)
    document_id, doc_type = view.document_id, MovementType(view.document.doc_type)
    form = request.form
    if form.get("edit") == "1":  # back from the confirmation step to the form, as typed
        return _document_page(db, actor, number, form=form, action=action)
    try:
        day = _day(form.get("posting_date"), "posting_date") or business_today()
        reason = _reason(form)

        def post() -> int:
            if action == "reversal":
                reverse = REVERSALS.get(doc_type)
                if reverse is None:
                    raise NotReversible(Message("document {document} cannot be reversed here",
                                                         document=number))
                return reverse(db, actor, document_id=document_id, posting_date=day, reason=reason)
            quantity = form_number(form.get("quantity"), "quantity", required=False)
            return services.return_to_supplier(db, actor, receipt_document_id=document_id, posting_date=day,
                                               reason=reason, quantity=quantity)

        if not confirmed(form):
            # First what it will post (the service's own figures, rolled back), then the post.
            pending = dry_run(db, lambda: queries.get_document(db, actor, post(), just_posted=True))
            return _document_page(db, actor, number, form=form, action=action, pending=pending)
        with db.begin_nested():  # a refusal rolls back to here
            new_number = services.document_number_of(db, post())
        return redirect(url_for("inventory_pages.document", number=new_number, posted=1))
    except DomainError as error:
        refusal = form_refusal(error)
    return _document_page(db, actor, number, form=form, refusal=refusal, action=action)


# --- taking stock out and moving it: the issue and transfer forms -----------------------------

def _choice(text: str | None, field: str, *, required: bool = True) -> int | None:
    """A record chosen in a form's list, by id (a tampered or empty value is the field's problem)."""
    value = (text or "").strip()
    if not value and not required:
        return None
    if not value.isdigit() or len(value) > 18:
        raise ValidationFailed.for_field(field, Message("choose one from the list"))
    return int(value)


def _chosen(form: Any, field: str) -> int | None:
    """What a form's list has chosen, for showing the form again (nothing when unreadable)."""
    try:
        return _choice(form.get(field), field, required=False)
    except ValidationFailed:
        return None


def _form_day(form: Any) -> dt.date:
    try:
        return _day(form.get("posting_date"), "posting_date") or business_today()
    except ValidationFailed:
        return business_today()


def _form_quantity(form: Any) -> Decimal | None:
    try:
        return form_number(form.get("quantity"), "quantity", required=False)
    except ValidationFailed:
        return None


def _text(form: Any, field: str, length: int) -> str | None:
    return (form.get(field) or "").strip()[:length] or None


def _preview(db: Session, actor: Actor, form: Any, warehouse_field: str, **options: Any) -> Any:
    """What the form's choice would take out of its warehouse, or None until one is chosen."""
    warehouse_id, material_id = _chosen(form, warehouse_field), _chosen(form, "material_id")
    if warehouse_id is None or material_id is None:
        return None
    try:
        return queries.preview_outflow(db, actor, warehouse_id=warehouse_id, material_id=material_id,
                                       posting_date=_form_day(form), quantity=_form_quantity(form),
                                       batch_id=_chosen(form, "batch_id"), **options)
    except DomainError:  # a warehouse or material the caller cannot see: the post says why
        return None


@bp.route("/issues", methods=["GET", "POST"])
@transaction
def issue(db: Session, actor: Actor) -> Any:
    """The goods issue form (领料出库): warehouse, material, batch (first expiry first unless
    one is chosen), quantity, where it goes (production or a cost centre); what it will take
    and cost at standard before posting; the posted document after."""
    require_role(Role.CLERK)
    form = request.form if request.method == "POST" else request.args
    refusal: dict[str, Any] = {}
    if request.method == "POST" and form.get("action") == "post":
        try:
            destination_text = form.get("destination", "")
            if destination_text not in {d.value for d in services.IssueDestination}:
                raise ValidationFailed.for_field("destination", Message("choose one from the list"))
            services.refuse_issue_outside_production_order(services.IssueDestination(destination_text))
            with db.begin_nested():  # a refusal rolls back to here
                document_id = services.issue_goods(
                    db, actor, warehouse_id=_choice(form.get("warehouse_id"), "warehouse_id"),
                    material_id=_choice(form.get("material_id"), "material_id"),
                    quantity=_quantity(form.get("quantity")),
                    posting_date=_day(form.get("posting_date"), "posting_date") or business_today(),
                    destination=services.IssueDestination(destination_text),
                    cost_center=_text(form, "cost_center", 32),
                    batch_id=_choice(form.get("batch_id"), "batch_id", required=False),
                    reference=_text(form, "reference", 64))
                number = services.document_number_of(db, document_id)
            return redirect(url_for("inventory_pages.document", number=number, posted=1))
        except DomainError as error:
            refusal = form_refusal(error)
    warehouse_id = _chosen(form, "warehouse_id")
    accounts = {d.value: account for d, account in services.ISSUE_ACCOUNT.items()}
    return render_template(
        "inventory/issue.html", form=form, today=business_today(),
        warehouses=queries.warehouses_acted_for(db, actor),
        materials=queries.materials_in_stock(db, actor, warehouse_id=warehouse_id),
        preview=_preview(db, actor, form, "warehouse_id"), destinations=list(services.CLERK_ISSUE_DESTINATIONS),
        accounts=accounts, account_names=queries.account_names(db, list(accounts.values())),
        **refusal), (refusal["error"].status if refusal else 200)


@bp.route("/transfers", methods=["GET", "POST"])
@transaction
def transfer(db: Session, actor: Actor) -> Any:
    """The stock transfer form (调拨): from one of the clerk's warehouses to another
    warehouse of the same company, a material, a batch (or every batch, first expiry first),
    its stock status and quantity; what it will move at standard and whether the destination
    can store it, before posting; the posted document after."""
    require_role(Role.CLERK)
    form = request.form if request.method == "POST" else request.args
    refusal: dict[str, Any] = {}
    status_text = form.get("status") or StockStatus.UNRESTRICTED.value
    status = StockStatus(status_text) if status_text in {s.value for s in StockStatus} else StockStatus.UNRESTRICTED
    if request.method == "POST" and form.get("action") == "post":
        try:
            if status_text not in {s.value for s in StockStatus}:
                raise ValidationFailed.for_field("status", Message("choose one from the list"))
            with db.begin_nested():  # a refusal rolls back to here
                document_id = services.transfer_stock(
                    db, actor, from_warehouse_id=_choice(form.get("from_warehouse_id"), "from_warehouse_id"),
                    to_warehouse_id=_choice(form.get("to_warehouse_id"), "to_warehouse_id"),
                    material_id=_choice(form.get("material_id"), "material_id"),
                    quantity=_quantity(form.get("quantity")),
                    posting_date=_day(form.get("posting_date"), "posting_date") or business_today(),
                    batch_id=_choice(form.get("batch_id"), "batch_id", required=False), status=status,
                    reference=_text(form, "reference", 64))
                number = services.document_number_of(db, document_id)
            return redirect(url_for("inventory_pages.document", number=number, posted=1))
        except DomainError as error:
            refusal = form_refusal(error)
    sources = queries.warehouses_acted_for(db, actor)
    from_id, to_id, material_id = (_chosen(form, "from_warehouse_id"), _chosen(form, "to_warehouse_id"),
                                   _chosen(form, "material_id"))
    destinations = queries.warehouses_of_companies(db, [w.company_id for w in sources])
    # Only a destination the form offers is described: the id comes from the address, and
    # another company's warehouse must not be named on this page.
    offered = to_id in {w.id for w in destinations}
    storage = queries.storage_check(db, to_id, material_id) if offered and material_id else None
    return render_template(
        "inventory/transfer.html", form=form, today=business_today(), sources=sources,
        destinations=destinations,
        materials=queries.materials_in_stock(db, actor, warehouse_id=from_id, status=status),
        statuses=list(StockStatus), status=status, storage=storage,
        preview=_preview(db, actor, form, "from_warehouse_id", status=status, skip_expired=False),
        **refusal), (refusal["error"].status if refusal else 200)


@bp.route("/adjustments", methods=["GET", "POST"])
@transaction
def adjust(db: Session, actor: Actor) -> Any:
    """The stock adjustment form (盘点调整, 报废): a warehouse of the user's company, the stock
    status, a material and batch held there, a signed quantity (a count gain or loss; scrap
    takes out), always with a reason; the value it posts at standard before posting; the
    posted document after. Cost accountants and quality, as the service."""
    require_role(*services.ADJUSTING_ROLES)
    form = request.form if request.method == "POST" else request.args
    refusal: dict[str, Any] = {}
    status_text = form.get("status") or StockStatus.UNRESTRICTED.value
    status = StockStatus(status_text) if status_text in {s.value for s in StockStatus} else StockStatus.UNRESTRICTED
    if request.method == "POST" and form.get("action") == "post":
        try:
            kind_text = form.get("kind", "")
            if kind_text not in {k.value for k in services.AdjustmentKind}:
                raise ValidationFailed.for_field("kind", Message("choose one from the list"))
            if status_text not in {s.value for s in StockStatus}:
                raise ValidationFailed.for_field("status", Message("choose one from the list"))
            with db.begin_nested():  # a refusal rolls back to here
                document_id = services.adjust_stock(
                    db, actor, warehouse_id=_choice(form.get("warehouse_id"), "warehouse_id"),
                    material_id=_choice(form.get("material_id"), "material_id"),
                    quantity=_quantity(form.get("quantity")),
                    posting_date=_day(form.get("posting_date"), "posting_date") or business_today(),
                    kind=services.AdjustmentKind(kind_text), reason=(form.get("reason") or "").strip()[:500],
                    batch_id=_choice(form.get("batch_id"), "batch_id", required=False), status=status)
                number = services.document_number_of(db, document_id)
            return redirect(url_for("inventory_pages.document", number=number, posted=1))
        except DomainError as error:
            refusal = form_refusal(error)
    warehouse_id, material_id = _chosen(form, "warehouse_id"), _chosen(form, "material_id")
    preview, value = None, None
    if warehouse_id is not None and material_id is not None:
        try:
            preview, value = queries.preview_adjustment(
                db, actor, warehouse_id=warehouse_id, material_id=material_id, posting_date=_form_day(form),
                quantity=_form_quantity(form), batch_id=_chosen(form, "batch_id"), status=status)
        except DomainError:  # a warehouse or material the user cannot see: the post says why
            pass
    return render_template(
        "inventory/adjust.html", form=form, today=business_today(),
        warehouses=queries.warehouses_acted_for(db, actor),
        materials=queries.materials_in_stock(db, actor, warehouse_id=warehouse_id, status=status),
        statuses=list(StockStatus), status=status, kinds=list(services.AdjustmentKind), preview=preview,
        value=value, **refusal), (refusal["error"].status if refusal else 200)


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
