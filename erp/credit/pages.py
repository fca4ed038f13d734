"""The credit controller's desk: orders held by credit control (with what releasing one
would do), the release with a reason, customers' limits beside the model's suggestion, and
a customer's credit page (exposure by company, hold, the suggestion explained step by step,
approve or override, limit history).

Views parse the request, call one service or query of this module and render; the rules
(who may release, what a release does, what the model suggests) are the services'.
"""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from flask import current_app, redirect, render_template, request, session, url_for
from sqlalchemy.orm import Session

from erp.auth.roles import Actor, Role
from erp.credit import desk, limits, queries, receivables, services
from erp.credit.exposure import CreditPolicy
from erp.credit.models import CreditRelease
from erp.credit.scorecard import CAPACITY_NAMES, CUSTOMER_TYPE_NAMES, FACTOR_NAMES, HOLD_RULE_NAMES
from erp.errors import DomainError, ValidationFailed
from erp.messages import Message, N_
from erp.clock import business_today
from erp.ui import nav
from erp.ui.listing import ListArgs
from erp.ui.pages import (PageBlueprint, confirmed, dry_run, form_refusal, not_found, page_actor, page_session,
                          require_role)
from erp.db import MONEY
from erp.ui.forms import form_number
from erp.web import transaction

bp = PageBlueprint("credit_pages", __name__, url_prefix="/credit")

CONTROLLER = {Role.CREDIT_CONTROLLER}
DESK = {Role.CREDIT_CONTROLLER, Role.CIO}
nav.add("credit", "credit_pages.blocked_orders", N_("Blocked orders"), CONTROLLER,
        landing_for={Role.CREDIT_CONTROLLER})
nav.add("credit", "credit_pages.customers", N_("Customer credit"), DESK)
# Words for the model's factors and capacities (their values overlap, so not in erp.ui.labels).
FACTORS, CAPACITIES, HOLD_RULES = FACTOR_NAMES, CAPACITY_NAMES, HOLD_RULE_NAMES
INPUTS = {
    "customer_type": N_("customer type"), "tangible_net_worth": N_("tangible net worth"),
    "annual_turnover": N_("annual turnover"), "registered_capital": N_("registered capital"),
    "statement_date": N_("financial statement of"), "rating_grade": N_("external rating"),
    "rating_score": N_("agency score"), "rating_date": N_("rated on"), "founded_on": N_("founded on"),
    "collateral": N_("collateral and guarantees"), "invoiced_12m": N_("group sales in 12 months"),
    "months_traded": N_("months traded"), "paid_12m": N_("paid in 12 months"),
    "average_days_late": N_("average days paid late"), "open_amount": N_("open items"),
    "overdue_amount": N_("overdue"), "over_90_amount": N_("more than 90 days overdue"),
    "disputed_12m": N_("disputed in 12 months"),
}
MONEY_INPUTS = {"tangible_net_worth", "annual_turnover", "registered_capital", "collateral", "invoiced_12m",
                "paid_12m", "open_amount", "overdue_amount", "over_90_amount", "disputed_12m"}
SHARE_FACTORS = {"overdue_share", "disputed_share"}
# Factors that judge an amount of money: shown as money (¥, two decimals), never as a quantity.
MONEY_FACTORS = {"net_worth", "registered_capital", "sales_volume"}
# Held orders a page lists at most (the queue of a credit desk is short; the API pages it).
HELD_ORDERS_SHOWN = 500


def _policy() -> CreditPolicy:
    return CreditPolicy.from_settings(current_app.extensions["erp"].settings)


def _held(order_id: int | None = None) -> tuple[list[Any], int]:
    db = page_session()
    rows, total = receivables.held_orders(db, page_actor(), policy=_policy(), limit=HELD_ORDERS_SHOWN)
    if order_id is not None:
        rows = [row for row in rows if row.order_id == order_id]
    return rows, total


@bp.route("/blocked-orders")
@transaction
def blocked_orders(db: Session, actor: Actor) -> str:
    """Orders held by credit control, oldest first, each with the customer's exposure, limit
    and utilisation, and what releasing it would do."""
    require_role(*DESK)
    rows, total = _held()
    return render_template("credit/blocked_orders.html", rows=rows, total=total, shown=HELD_ORDERS_SHOWN)


def _order_context(order_id: int) -> dict[str, Any]:
    db = page_session()
    actor = page_actor()
    rows, _ = _held(order_id)
    order = queries.get_order(db, actor, order_id)
    position = services.credit_position(db, actor, order.customer_id, policy=_policy())
    customer = position.customer
    return {"held": rows[0] if rows else None, "order": order, "position": position, "customer": customer,
            "by_company": desk.exposure_by_company(db, actor, order.customer_id, today=business_today()),
            "orders": desk.customer_orders(db, actor, order.customer_id)}


_RELEASE_EFFECT = "release_effect"


def _effect_data(effect: Any) -> dict[str, Any] | None:
    if effect is None:
        return None
    data = dataclasses.asdict(effect)
    return json.loads(json.dumps(data, default=str))


def _effect_of(data: dict[str, Any] | None) -> Any:
    """A release's effect back from the session (amounts as Decimal, as the page shows them)."""
    if not data:
        return None
    money = ("exposure_before", "exposure_after", "credit_limit", "above_limit_by")
    return SimpleNamespace(**{k: Decimal(v) if k in money else v for k, v in data.items() if k != "blocked_at_shipment"},
                           blocked_at_shipment=[SimpleNamespace(**{**o, "open_value": Decimal(o["open_value"])})
                                                for o in data.get("blocked_at_shipment", [])])


def _released_page(db: Session, order_id: int, release_id: int) -> Any:
    """The page of a release just made (the redirect after it), None when it is not this order's."""
    release = db.get(CreditRelease, release_id)
    if release is None or release.order_id != order_id:
        return None
    context = _order_context(order_id)  # the order read within the caller's scope (404 outside it)
    kept = session.get(_RELEASE_EFFECT) or {}
    effect = _effect_of(kept.get("effect")) if kept.get("release_id") == release_id else None
    return render_template("credit/released.html", release=release, effect=effect, **context)


@bp.route("/blocked-orders/<int:order_id>", methods=["GET", "POST"])
@transaction
def blocked_order(db: Session, actor: Actor, order_id: int) -> Any:
    """One held order: the customer's exposure by company, what a release would do to the
    customer's other confirmed orders, and the release with a required reason."""
    require_role(*DESK)
    refusal: dict[str, Any] = {}
    pending: Any = None
    if request.method == "POST" and request.form.get("edit") != "1":  # edit: back to the form as typed
        require_role(*CONTROLLER)
        reason = request.form.get("reason", "").strip()[:500]
        try:
            if not confirmed(request.form):
                # First what the release does (the service run and rolled back), then the release.
                pending = dry_run(db, lambda: services.release_order(db, actor, order_id, reason=reason,
                                                                     policy=_policy()).effect)
                context = _order_context(order_id)
                return render_template("credit/blocked_order.html", form=request.form, pending=pending, **context)
            with db.begin_nested():  # a refusal rolls back to here
                result = services.release_order(db, actor, order_id, reason=reason, policy=_policy())
                release = getattr(result, "release", result)
                effect = getattr(result, "effect", None)
            # Post/Redirect/Get: the released order's page; a refresh shows it again and never
            # posts the release twice. What the release did (its exposure before and the orders it
            # blocks) is of the moment it was made: carried to that page in the signed session.
            session[_RELEASE_EFFECT] = {"release_id": release.id, "effect": _effect_data(effect)}
            return redirect(url_for("credit_pages.blocked_order", order_id=order_id, released=release.id))
        except DomainError as error:
            if error.status == 404:
                raise
            refusal = form_refusal(error)
    elif request.method == "GET" and request.args.get("released", "").isdigit():
        shown = _released_page(db, order_id, int(request.args["released"]))
        if shown is not None:
            return shown
    context = _order_context(order_id)
    if context["held"] is None and not refusal:
        raise not_found("blocked order", order_id)
    status = refusal["error"].status if refusal else 200
    return render_template("credit/blocked_order.html", form=request.form, **context, **refusal), status


@bp.route("/customers")
@transaction
def customers(db: Session, actor: Actor) -> str:
    """Customers with exposure, the limit in force and the model's latest suggestion beside it."""
    require_role(*DESK)
    args = ListArgs.from_request(tuple(desk.CUSTOMER_SORTS), default_sort="utilisation", default_desc=True)
    only = request.args.get("only", "")
    only = only if only in ("over", "held", "differs") else ""
    rows, total = desk.customers(db, actor, _policy(), q=args.q or None, only=only or None,
                                 sort=args.sort, descending=args.desc, offset=args.offset, limit=args.page_size)
    return render_template("credit/customers.html", rows=rows, total=total, args=args, only=only,
                           starting_limit=_policy().starting_limit)


def _customer_context(code: str) -> dict[str, Any]:
    db = page_session()
    actor = page_actor()
    customer = desk.customer_by_code(db, actor, code)
    position = services.credit_position(db, actor, customer.id, policy=_policy())
    try:
        suggestion, run, explanation = limits.explained_suggestion(db, actor, customer_id=customer.id)
    except DomainError as error:
        if error.status not in (404, 409):
            raise
        suggestion = run = explanation = None
    return {"customer": customer, "position": position, "suggestion": suggestion, "run": run,
            "explanation": explanation, "history": desk.limit_history(db, actor, customer.id),
            "by_company": desk.exposure_by_company(db, actor, customer.id, today=business_today()),
            "orders": desk.customer_orders(db, actor, customer.id), "policy": _policy(),
            "FACTORS": FACTORS, "CAPACITIES": CAPACITIES, "CUSTOMER_TYPES": CUSTOMER_TYPE_NAMES, "HOLD_RULES": HOLD_RULES, "INPUTS": INPUTS,
            "MONEY_INPUTS": MONEY_INPUTS, "SHARE_FACTORS": SHARE_FACTORS, "MONEY_FACTORS": MONEY_FACTORS}


@bp.route("/customers/<code>")
@transaction
def customer(db: Session, actor: Actor, code: str) -> str:
    """A customer's credit: exposure by company, limit and hold, the model's suggestion
    explained, approve or override, and the limit's history."""
    require_role(*DESK)
    context = _customer_context(code)
    return render_template("credit/customer.html", form={}, done=request.args.get("done"), **context)


@bp.route("/customers/<code>/limit", methods=["POST"])
@transaction
def set_limit(db: Session, actor: Actor, code: str) -> Any:
    """Approve the suggestion as it is, or set another limit with a reason (a new version):
    first what it does (the exposure, the new limit, the headroom after and the orders it would
    hold, from the service run and rolled back), then, confirmed, the new version."""
    require_role(*CONTROLLER)
    form = request.form
    if form.get("edit") == "1":  # back from the confirmation step to the form, as typed
        return render_template("credit/customer.html", form=form, done=None, **_customer_context(code))
    try:
        suggestion_id = int(form["suggestion_id"]) if form.get("suggestion_id") else None
        credit_limit = None
        if form.get("decision") == "override":
            credit_limit = _amount(form.get("credit_limit"))
        found = desk.customer_by_code(db, actor, code)

        def save() -> Any:
            return limits.set_credit_limit(db, actor, found.id, credit_limit=credit_limit,
                                           suggestion_id=suggestion_id,
                                           reason=(form.get("reason") or "").strip()[:500] or None)

        if not confirmed(form):
            limit_before = services.credit_position(db, actor, found.id, policy=_policy()).check.credit_limit

            def change() -> desk.LimitChange:
                save()
                return desk.limit_change(db, actor, found.id, limit_before=limit_before)

            pending = dry_run(db, change)
            context = _customer_context(code)
            return render_template("credit/customer.html", form=form, done=None, pending=pending, **context)
        with db.begin_nested():  # a refusal rolls back to here
            save()
        return redirect(url_for("credit_pages.customer", code=code, done="limit"))
    except DomainError as error:
        if error.status == 404:
            raise
        refusal = form_refusal(error)
    context = _customer_context(code)
    return render_template("credit/customer.html", form=form, done=None, **context, **refusal), \
        refusal["error"].status


@bp.route("/customers/<code>/hold", methods=["POST"])
@transaction
def set_hold(db: Session, actor: Actor, code: str) -> Any:
    """Put the customer on credit hold or lift it, with a reason."""
    require_role(*CONTROLLER)
    form = request.form
    try:
        with db.begin_nested():  # a refusal rolls back to here
            found = desk.customer_by_code(db, actor, code)
            services.set_credit_hold(db, actor, found.id, on_hold=form.get("on_hold") == "1",
                                     reason=(form.get("hold_reason") or "").strip()[:500])
        return redirect(url_for("credit_pages.customer", code=code, done="hold"))
    except DomainError as error:
        if error.status == 404:
            raise
        # the hold's reason is hold_reason on the page: the limit form beside it has its own reason
        refusal = form_refusal(error, {"reason": "hold_reason"})
    context = _customer_context(code)
    return render_template("credit/customer.html", form=form, done=None, **context, **refusal), \
        refusal["error"].status


def _amount(text: str | None) -> Decimal:
    value: Decimal = form_number(text, "credit_limit", MONEY, strip=",¥")  # type: ignore[assignment]
    if value < 0:
        raise ValidationFailed.for_field("credit_limit", Message("a credit limit is zero or more"))
    return value

