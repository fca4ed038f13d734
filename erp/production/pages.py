"""Production's pages: the orders of a company with the form for a new one, one order
with its release, cancellation, issue and delivery forms, the bills of materials with the
form for a new one or a new version, a bill of materials with its cost breakdown, the
standard cost roll-ups (run, breakdown, release), and a batch's genealogy.

Who: production reads are open to whoever acts for the company (as the API's), and the
navigation offers them to clerks and cost accountants, who run orders (there is no
production planner role): they create, release, cancel and complete them. BOMs and
roll-ups are cost accountants' (as the API's). Issues and
deliveries are clerks' (of the order's warehouse): the services refuse anyone else. Views
parse the form, call one service and render."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from flask import redirect, render_template, request, url_for
from sqlalchemy import Numeric, select
from sqlalchemy.orm import Session

from erp.auth.roles import Actor, Role
from erp.clock import business_today
from erp.db import QUANTITY, UNIT_PRICE
from erp.errors import DomainError, ValidationFailed
from erp.masterdata.models import Company, Material, UnitOfMeasure, Warehouse
from erp.masterdata.services import names_by_id
from erp.messages import Message, N_
from erp.period import NOT_A_PERIOD, Period
from erp.posting.models import Batch
from erp.inventory import queries
from erp.production import boms, genealogy, orders, rollup, variances
from erp.production.models import (
    FINE, HOURS, PERCENT, CostEstimate, CostRollup, OrderDocumentKind, ProductionOrderDocument, RollupStatus,
)
from erp.ui import nav
from erp.ui.listing import ListArgs
from erp.ui.pages import PageBlueprint, confirmed, dry_run, form_refusal, not_found, require_role
from erp.ui.forms import form_day, form_number
from erp.web import transaction

bp = PageBlueprint("production_pages", __name__, url_prefix="/production")

nav.add("production", "production_pages.order_list", N_("Production orders"), {Role.CLERK, Role.COST_ACCOUNTANT})
nav.add("production", "production_pages.bom_list", N_("Bills of materials"), {Role.CLERK, Role.COST_ACCOUNTANT})
nav.add("production", "production_pages.rollups", N_("Standard cost roll-up"), {Role.COST_ACCOUNTANT})
nav.add("production", "production_pages.cost_center_rates", N_("Cost centre rates"), {Role.COST_ACCOUNTANT})


def _day(text: str | None, field: str) -> dt.date:
    return form_day(text, field)  # type: ignore[return-value]


def _quantity(text: str | None, field: str = "quantity", column: Numeric = QUANTITY) -> Decimal:
    return form_number(text, field, column)  # type: ignore[return-value]


def _choice(text: str | None, field: str) -> int:
    """A record chosen in a form's list, by id (a tampered or empty value is the field's problem)."""
    value = (text or "").strip()
    if not value.isdigit():
        raise ValidationFailed.for_field(field, Message("choose one from the list"))
    return int(value)


@bp.route("/orders", methods=["GET", "POST"])
@transaction
def order_list(db: Session, actor: Actor) -> Any:
    """The production orders of the companies the user acts for, newest first, a page at a
    time (the one pager), and a new order from the BOM in force (created, to be released on
    its page)."""
    refusal: dict[str, Any] = {}
    form = request.form if request.method == "POST" else {}
    if request.method == "POST":
        try:
            with db.begin_nested():  # a refusal rolls back to here
                created = orders.create_order(
                    db, actor, company_id=_choice(form.get("company_id"), "company_id"),
                    material_id=_choice(form.get("material_id"), "material_id"),
                    quantity=_quantity(form.get("quantity")), order_date=_day(form.get("order_date"), "order_date"),
                    warehouse_id=_choice(form.get("warehouse_id"), "warehouse_id"))
            return redirect(url_for("production_pages.order", order_id=created.id, created=1))
        except DomainError as error:
            refusal = form_refusal(error)
    args = ListArgs.from_request()
    rows, total = orders.list_orders(db, actor, offset=args.offset, limit=args.page_size)
    codes = names_by_id(db, Material, (o.material_id for o in rows))
    may_plan = actor.role in orders.ORDER_ROLES
    status = refusal["error"].status if refusal else 200
    return render_template("production/orders.html", rows=rows, total=total, args=args, codes=codes, form=form,
                           today=business_today(),
                           choices=orders.order_choices(db, actor) if may_plan else None, **refusal), status


@bp.route("/orders/<int:order_id>", methods=["GET", "POST"])
@transaction
def order(db: Session, actor: Actor, order_id: int) -> Any:
    """One order: its plan, what was issued and delivered, and the forms to do either."""
    refusal: dict[str, Any] = {}
    pending: _Pending | None = None
    form = request.form if request.method == "POST" else {}
    if request.method == "POST":
        current = orders.get_order(db, actor, order_id)
        try:
            with db.begin_nested():  # a refusal rolls back to here
                action = form.get("action")
                if action == "release":
                    orders.release_order(db, actor, order_id)
                    return redirect(url_for("production_pages.order", order_id=order_id, released=1))
                if action == "cancel":
                    orders.cancel_order(db, actor, order_id)
                    return redirect(url_for("production_pages.order", order_id=order_id, cancelled=1))
                day = _day(form.get("posting_date"), "posting_date")
                if action == "issue_preview":
                    raise _ShowPreview
                if action == "issue":
                    batch = (form.get("batch_id") or "").strip()
                    orders.issue_components(
                        db, actor, order_id, warehouse_id=_choice(form.get("warehouse_id") or str(current.warehouse_id),
                                                                  "warehouse_id"),
                        posting_date=day, items=[orders.IssueItem(
                            _choice(form.get("material_id"), "material_id"), _quantity(form.get("quantity")),
                            _choice(batch, "batch_id") if batch else None)],
                        over_issue_reason=(form.get("over_issue_reason") or "").strip()[:500] or None)
                elif action == "complete":
                    if form.get("edit") == "1":  # back from the confirmation step, as typed
                        raise _ShowPreview
                    if not confirmed(form):
                        # Checked first (the service's own refusals, rolled back), then confirmed.
                        dry_run(db, lambda: orders.complete_order(db, actor, order_id, day))
                        raise _Pending("completion", None)
                    orders.complete_order(db, actor, order_id, day)
                elif action == "reverse_delivery":
                    if form.get("edit") == "1":
                        raise _ShowPreview
                    reason = (form.get("reason") or "").strip()
                    if not reason:
                        raise ValidationFailed.for_field("reason", Message("a reversal needs a reason"))
                    delivery_id = _choice(form.get("document_id"), "document_id")

                    def reverse() -> int:
                        return orders.reverse_delivery(db, actor, order_id, delivery_id, posting_date=day,
                                                       reason=reason[:500])

                    if not confirmed(form):
                        # What the reversal will post, as the service posts it (rolled back).
                        raise _Pending("reversal", dry_run(db, lambda: queries.get_document(
                            db, actor, reverse(), just_posted=True)))
                    reversal = queries.get_document(db, actor, reverse(), just_posted=True)
                    delivery = queries.get_document(db, actor, delivery_id)
                    return redirect(url_for("production_pages.order", order_id=order_id,
                                            reversed=delivery.document.number, by=reversal.document.number))
                else:
                    orders.deliver_output(db, actor, order_id, quantity=_quantity(form.get("output_quantity"),
                                                                                  "output_quantity"),
                                          posting_date=day, batch_number=(form.get("batch_number") or "").strip()
                                          or None)
            return redirect(url_for("production_pages.order", order_id=order_id, posted=1))
        except _ShowPreview:
            pass
        except _Pending as step:
            pending = step
        except DomainError as error:
            if error.status == 404:
                raise
            refusal = form_refusal(error, {"completed_on": "posting_date"})
    current = orders.get_order(db, actor, order_id)
    postings = orders.order_postings(db, actor, order_id)
    issuing = form.get("action") in ("issue", "issue_preview")
    warehouses = [w for w in queries.warehouses_acted_for(db, actor) if w.company_id == current.company_id]
    preview = _issue_preview(db, actor, current, form if issuing else {})
    over_issue = _over_issue(db, current, form if issuing else {}, preview)
    codes = names_by_id(db, Material, [current.material_id, *(c.material_id for c in current.components),
                                        *(p.material_id for p in postings)])
    issued: dict[int, Decimal] = {}
    for p in postings:
        if p.kind == OrderDocumentKind.ISSUE:
            issued[p.material_id] = issued.get(p.material_id, Decimal("0")) - p.quantity
    output_batches = sorted({(p.batch_id, p.batch_number) for p in postings if p.kind == OrderDocumentKind.DELIVERY
                             and p.quantity > 0}, key=lambda b: b[0])
    warehouse = db.get(Warehouse, current.warehouse_id)
    units = _units(db, codes)
    conversion = dict(db.execute(
        select(ProductionOrderDocument.document_id, ProductionOrderDocument.labour + ProductionOrderDocument.overhead)
        .where(ProductionOrderDocument.order_id == order_id, ProductionOrderDocument.kind == OrderDocumentKind.DELIVERY)
    ).all())
    status = refusal["error"].status if refusal else 200
    return render_template(
        "production/order.html", order=current, postings=postings, codes=codes, issued=issued, units=units,
        conversion=conversion, pending=pending,
        output_batches=output_batches, warehouse=warehouse, variances=variances.order_variances(db, order_id),
        wip=variances.order_work_in_process(db, order_id),
        form=form, today=business_today(), may_plan=actor.role in orders.ORDER_ROLES,
        warehouses=warehouses, preview=preview, issuing=issuing, over_issue=over_issue,
        # a success banner is the redirect's, after a posting: never beside a later refusal
        done=None if request.method == "POST" else next(
            (what for what in ("posted", "created", "released", "cancelled") if request.args.get(what) == "1"), None),
        reversed=None if request.method == "POST" else (request.args.get("reversed"), request.args.get("by")),
        **refusal), status


def _units(db: Session, materials: Any) -> dict[int, str]:
    """The unit codes of materials by id (quantities are shown with their unit)."""
    return dict(db.execute(select(Material.id, UnitOfMeasure.code).join(UnitOfMeasure,
                                                                         UnitOfMeasure.id == Material.unit_id)
                           .where(Material.id.in_(list(materials)))).all())


class _Pending(Exception):
    """A reversal or a completion checked and shown for confirmation, not yet posted
    (``what``: reversal or completion; ``document``: what a reversal would post)."""

    def __init__(self, what: str, document: Any) -> None:
        super().__init__(what)
        self.what, self.document = what, document


class _ShowPreview(Exception):
    """The issue form's 'show the cost': render the page with the preview, post nothing."""


def _issue_preview(db: Session, actor: Actor, order: Any, form: Any) -> Any:
    """What the issue form's choice would take (batches, value at standard) from the chosen
    warehouse (default: the order's), for the chosen component (default: the first); None
    when the clerk cannot see the warehouse."""
    warehouse = form.get("warehouse_id") or ""
    material = form.get("material_id") or ""
    batch = form.get("batch_id") or ""
    try:
        day = form_day(form.get("posting_date"), "posting_date") or business_today()
    except ValidationFailed:
        day = business_today()
    try:
        quantity = form_number(form.get("quantity"), "quantity", QUANTITY, required=False)
    except ValidationFailed:
        quantity = None
    material_id = int(material) if material.isdigit() else (order.components[0].material_id if order.components
                                                            else None)
    if material_id is None:
        return None
    try:
        return queries.preview_outflow(db, actor, warehouse_id=int(warehouse) if warehouse.isdigit()
                                       else order.warehouse_id, material_id=material_id, posting_date=day,
                                       quantity=quantity, batch_id=int(batch) if batch.isdigit() else None)
    except DomainError:  # a warehouse the caller cannot see: the posting says why
        return None


def _over_issue(db: Session, order: Any, form: Any, preview: Any) -> Any:
    """The issue form's quantity beyond the order's bill of materials (``orders.OverIssue``),
    for the preview's warning (finding 133); None when within the plan or not typed."""
    if preview is None or order.status.value != "released":
        return None
    try:
        quantity = form_number(form.get("quantity"), "quantity", QUANTITY, required=False)
    except ValidationFailed:
        return None
    if not quantity or quantity <= 0:
        return None
    material = form.get("material_id") or ""
    material_id = int(material) if material.isdigit() else order.components[0].material_id
    found = orders.over_issues(db, order, [orders.IssueItem(material_id, quantity)])
    return found[0] if found else None


def _period(text: str | None) -> Period:
    try:
        return Period((text or "").strip())
    except ValueError:
        raise ValidationFailed.for_field("period", Message(NOT_A_PERIOD)) from None


@bp.route("/rollups", methods=["GET", "POST"])
@transaction
def rollups(db: Session, actor: Actor) -> Any:
    """The standard cost roll-ups of the user's companies, latest period first, and a run for
    a company and period (cost accountants; an unreleased run of the period is replaced)."""
    refusal: dict[str, Any] = {}
    form = request.form if request.method == "POST" else {}
    if request.method == "POST":
        try:
            with db.begin_nested():  # a refusal rolls back to here
                run = rollup.run_rollup(db, actor, company_id=_choice(form.get("company_id"), "company_id"),
                                        period=_period(form.get("period")))
            return redirect(url_for("production_pages.rollup_run", rollup_id=run.id, ran=1))
        except DomainError as error:
            refusal = form_refusal(error)
    may_run = actor.role == Role.COST_ACCOUNTANT
    status = refusal["error"].status if refusal else 200
    return render_template("production/rollups.html", rows=rollup.list_rollups(db, actor), form=form,
                           companies=orders.company_choices(db, actor) if may_run else None,
                           period=Period.of(business_today()), **refusal), status


@bp.route("/rollups/<int:rollup_id>", methods=["GET", "POST"])
@transaction
def rollup_run(db: Session, actor: Actor, rollup_id: int) -> Any:
    """A roll-up run: every estimate with its cost breakdown (a page at a time) beside the
    standard price its release would replace, and the release (cost accountants)."""
    refusal: dict[str, Any] = {}
    if request.method == "POST":
        try:
            with db.begin_nested():  # a refusal rolls back to here
                rollup.release_rollup(db, actor, rollup_id, reason=(request.form.get("reason") or "")[:500])
            return redirect(url_for("production_pages.rollup_run", rollup_id=rollup_id, released=1))
        except DomainError as error:
            if error.status == 404:
                raise
            refusal = form_refusal(error)
    run = rollup.rollup_summary(db, actor, rollup_id)
    args = ListArgs.from_request()
    estimates = rollup.cost_breakdown(db, actor, rollup_id, offset=args.offset, limit=args.page_size)
    replaced = rollup.prices_a_release_replaces(db, actor, rollup_id, [e.material_id for e in estimates]) \
        if run.status == RollupStatus.COMPUTED else {}
    status = refusal["error"].status if refusal else 200
    materials = names_by_id(db, Material, [*(e.material_id for e in estimates),
                                           *(line.component_id for e in estimates for line in e.lines)])
    return render_template(
        "production/rollup.html", run=run, estimates=estimates, replaced=replaced, args=args, materials=materials,
        company_id=rollup.get_rollup(db, actor, rollup_id).company_id, may_run=actor.role == Role.COST_ACCOUNTANT,
        computed=RollupStatus.COMPUTED,
        done=next((what for what in ("ran", "released") if request.args.get(what) == "1"), None), **refusal), status


@bp.route("/cost-center-rates", methods=["GET", "POST"])
@transaction
def cost_center_rates(db: Session, actor: Actor) -> Any:
    """A company's cost-centre rates (成本中心费率): those in force in a period, every rate
    set, and the form to set a cost centre's labour and overhead rates per hour from a period
    on (cost accountants; a new cost centre is one whose rates are set for the first time)."""
    require_role(Role.COST_ACCOUNTANT)
    companies = orders.company_choices(db, actor)
    refusal: dict[str, Any] = {}
    form: Any = request.form if request.method == "POST" else request.args
    if request.method == "POST":
        try:
            with db.begin_nested():  # a refusal rolls back to here
                company_id = _choice(form.get("company_id"), "company_id")
                period = _period(form.get("period"))
                centre = (form.get("cost_center") or "").strip()
                if not centre:
                    raise ValidationFailed.for_field("cost_center", Message("required"))
                boms.set_cost_center_rates(db, actor, company_id=company_id, period=str(period), rates=[
                    boms.RateIn(centre[:32], _quantity(form.get("labour_rate"), "labour_rate", UNIT_PRICE),
                                _quantity(form.get("overhead_rate"), "overhead_rate", UNIT_PRICE))])
            return redirect(url_for("production_pages.cost_center_rates", company_id=company_id, period=str(period),
                                    saved=centre))
        except DomainError as error:
            refusal = form_refusal(error)
    chosen = request.args.get("company_id") or form.get("company_id") or ""
    company_id = int(chosen) if chosen.isdigit() and any(c.id == int(chosen) for c in companies) else \
        (companies[0].id if companies else None)
    try:
        period = Period((request.args.get("period") or "").strip())
    except ValueError:
        period = Period.of(business_today())
    in_force = boms.cost_center_rates(db, actor, company_id=company_id, period=str(period)) if company_id else []
    history = boms.cost_center_rates(db, actor, company_id=company_id) if company_id else []
    status = refusal["error"].status if refusal else 200
    return render_template("production/cost_center_rates.html", companies=companies, company_id=company_id,
                           period=period, in_force=in_force, history=history, form=form,
                           saved=request.args.get("saved"), **refusal), status


@bp.route("/boms")
@transaction
def bom_list(db: Session, actor: Actor) -> str:
    """The BOM versions of the user's companies, by company and material, newest version first."""
    return render_template("production/boms.html", rows=boms.bom_rows(db, actor),
                           may_edit=actor.role == Role.COST_ACCOUNTANT)


def _plain(value: Decimal) -> str:
    """A decimal as typed: 1000, 0.05 (not 1E+3, 0.0500)."""
    return format(value.normalize(), "f")


def _bom_form(db: Session, actor: Actor, from_id: str | None) -> dict[str, str]:
    """A new version's form filled from an existing version (``?from=<id>``), or empty."""
    if not (from_id or "").isdigit():
        return {}
    current = boms.get_bom(db, actor, int(from_id or 0))
    codes = dict(db.execute(select(Material.id, Material.code).where(
        Material.id.in_([current.material_id, *(c.material_id for c in current.components)]))).all())
    form = {"company_id": str(current.company_id), "material": codes[current.material_id],
            "base_quantity": _plain(current.base_quantity), "cost_center": current.cost_center or "",
            "hours": _plain(current.hours), "rows": str(len(current.components) + 2)}
    for n, c in enumerate(current.components):
        form.update({f"c{n}_material": codes[c.material_id], f"c{n}_quantity": _plain(c.quantity),
                     f"c{n}_scrap": _plain(c.scrap_pct)})
    return form


def _components(db: Session, form: Any, rows: int) -> list[boms.ComponentIn]:
    """The filled component rows of the form (blank rows skipped), materials named by code."""
    filled = [n for n in range(rows) if (form.get(f"c{n}_material") or "").strip() or (form.get(f"c{n}_quantity")
                                                                                       or "").strip()]
    ids = boms.material_ids_by_code(db, [(form.get(f"c{n}_material") or "").strip() for n in filled])
    components = []
    for n in filled:
        code = (form.get(f"c{n}_material") or "").strip()
        if code not in ids:
            raise ValidationFailed.for_field(f"c{n}_material", Message("no material {code}", code=code))
        scrap = (form.get(f"c{n}_scrap") or "").strip()
        components.append(boms.ComponentIn(ids[code], _quantity(form.get(f"c{n}_quantity"), f"c{n}_quantity", FINE),
                                           _quantity(scrap, f"c{n}_scrap", PERCENT) if scrap else Decimal("0")))
    return components


BOM_ROWS_MIN, BOM_ROWS_MAX = 6, 60


@bp.route("/boms/new", methods=["GET", "POST"])
@transaction
def new_bom(db: Session, actor: Actor) -> Any:
    """A new BOM, or the next version of one (``?from=<id>`` fills the form from it): the
    material, validity, base quantity, conversion and components by code (cost accountants)."""
    require_role(Role.COST_ACCOUNTANT)
    refusal: dict[str, Any] = {}
    form: Any = request.form if request.method == "POST" else _bom_form(db, actor, request.args.get("from"))
    rows = (form.get("rows") or "").strip()
    rows = min(max(int(rows) if rows.isdigit() else 0, BOM_ROWS_MIN), BOM_ROWS_MAX)
    if request.method == "POST":
        try:
            with db.begin_nested():  # a refusal rolls back to here
                code = (form.get("material") or "").strip()
                found = boms.material_ids_by_code(db, [code])
                if code not in found:
                    raise ValidationFailed.for_field("material", Message("no material {code}", code=code))
                hours = (form.get("hours") or "").strip()
                created = boms.create_bom(
                    db, actor, company_id=_choice(form.get("company_id"), "company_id"), material_id=found[code],
                    valid_from=_day(form.get("valid_from"), "valid_from"),
                    base_quantity=_quantity(form.get("base_quantity"), "base_quantity"),
                    components=_components(db, form, rows), cost_center=(form.get("cost_center") or "").strip()[:32]
                    or None, hours=_quantity(hours, "hours", HOURS) if hours else Decimal("0"),
                    note=(form.get("note") or "").strip()[:500] or None)
            return redirect(url_for("production_pages.bom", bom_id=created.id, created=1))
        except DomainError as error:
            refusal = form_refusal(error)
    status = refusal["error"].status if refusal else 200
    companies = orders.company_choices(db, actor)
    centres = {c.id: boms.cost_centers(db, c.id) for c in companies}
    return render_template("production/new_bom.html", form=form, rows=rows, today=business_today(),
                           companies=companies, centres=centres,
                           known_centres={name for names in centres.values() for name in names}, **refusal), status


@bp.route("/boms/<int:bom_id>")
@transaction
def bom(db: Session, actor: Actor, bom_id: int) -> str:
    """A BOM version with its components and the cost breakdown of the latest roll-up that
    costed this version (not another version of the same material: each version's cost is
    its own)."""
    current = boms.get_bom(db, actor, bom_id)
    run = db.scalar(
        select(CostRollup).join(CostEstimate, CostEstimate.rollup_id == CostRollup.id)
        .where(CostRollup.company_id == current.company_id, CostEstimate.material_id == current.material_id,
               CostEstimate.bom_id == current.id)
        .order_by(CostRollup.period.desc(), CostRollup.id.desc()).limit(1))
    estimate = None
    if run is not None:
        found = rollup.cost_breakdown(db, actor, run.id, current.material_id)
        estimate = found[0] if found else None
    codes = names_by_id(db, Material, [current.material_id, *(c.material_id for c in current.components),
                                        *(line.component_id for line in (estimate.lines if estimate else []))])
    return render_template("production/bom.html", bom=current, codes=codes, run=run, estimate=estimate,
                           units=_units(db, codes),
                           company=names_by_id(db, Company, [current.company_id])[current.company_id],
                           released=RollupStatus.RELEASED, created=request.args.get("created") == "1",
                           may_edit=actor.role == Role.COST_ACCOUNTANT)


@bp.route("/batches/<int:batch_id>/genealogy")
@transaction
def batch_genealogy(db: Session, actor: Actor, batch_id: int) -> str:
    """A batch's genealogy: down to what went into it, or up to what was made from it and
    the customers who received it (the recall question)."""
    direction = genealogy.Direction(request.args.get("direction", "down")
                                    if request.args.get("direction") in ("down", "up") else "down")
    batch = db.get(Batch, batch_id)
    if batch is None:
        raise not_found("batch", batch_id)
    traced = genealogy.trace(db, actor, batch_id, direction)
    material = db.get(Material, batch.material_id)
    names = names_by_id(db, Material, (b.material_id for b in traced.batches))
    return render_template("production/genealogy.html", batch=batch, material=material, traced=traced, names=names,
                           direction=direction.value)
