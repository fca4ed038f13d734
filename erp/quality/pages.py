"""Quality's pages: the inspection-lot worklist, a lot (QC records results, QA signs the
usage decision) and a warehouse's temperature chart with its excursions marked.

Views parse the request, call one service of this module and render; the rules
(judging, four eyes, the signature, deviations, excursions) are the services'.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import redirect, render_template, request, url_for
from sqlalchemy.orm import Session

from erp.auth.roles import Actor, Role
from erp.clock import BUSINESS_TIME_ZONE, business_today
from erp.errors import DomainError, ValidationFailed
from erp.messages import Message, N_
from erp.quality import monitoring, services
from erp.quality.models import LotStatus, UsageDecisionKind
from erp.ui import nav
from erp.ui.listing import ListArgs
from erp.ui.pages import PageBlueprint, form_refusal, require_role
from erp.web import transaction

bp = PageBlueprint("quality_pages", __name__, url_prefix="/quality")

LOT_READERS = {Role.QUALITY, Role.CLERK, Role.AUDITOR}
nav.add("quality", "quality_pages.lots", N_("Inspection lots"), LOT_READERS)
nav.add("quality", "quality_pages.excursions", N_("Storage conditions"), {Role.QUALITY, Role.CLERK})


@bp.route("/lots")
@transaction
def lots(db: Session, actor: Actor) -> str:
    """Inspection lots of the caller's warehouses (open ones by default), oldest first."""
    require_role(*LOT_READERS)
    args = ListArgs.from_request(("date",), default_sort="date")
    status_text = request.args.get("status", LotStatus.OPEN.value)
    status = LotStatus(status_text) if status_text in {s.value for s in LotStatus} else None
    rows, total = services.lot_rows(db, actor, status=status, offset=args.offset, limit=args.page_size)
    return render_template("quality/lots.html", rows=rows, total=total, args=args, status=status,
                           statuses=list(LotStatus))


def _measure(text: str, code: str) -> Decimal:
    try:
        value = Decimal(text.replace(",", "").strip())
    except InvalidOperation:
        raise ValidationFailed.for_field(f"result-{code}", Message("enter a number")) from None
    if not value.is_finite():
        raise ValidationFailed.for_field(f"result-{code}", Message("enter a number"))
    return value


@bp.route("/lots/<int:lot_id>", methods=["GET", "POST"])
@transaction
def lot(db: Session, actor: Actor, lot_id: int) -> Any:
    """A lot: its specification and results (laboratory beside certificate), the results
    form for QC and the usage decision, signed with the password, for QA."""
    require_role(*LOT_READERS)
    refusal: dict[str, Any] = {}
    action = request.form.get("action") if request.method == "POST" else None
    if action == "results":
        try:
            with db.begin_nested():  # a refusal rolls back to here
                view = services.lot_view(db, actor, lot_id)
                results = []
                for r in view.results:
                    typed = request.form.get(f"result-{r.code}", "").strip()
                    if not typed:
                        continue
                    results.append(services.ResultInput(r.code, value=_measure(typed, r.code)) if r.minimum is not None
                                   or r.maximum is not None else services.ResultInput(r.code, text=typed[:200]))
                services.record_results(db, actor, lot_id=lot_id, results=results)
            return redirect(url_for("quality_pages.lot", lot_id=lot_id, recorded=1))
        except DomainError as error:
            if error.status == 404:
                raise
            refusal = form_refusal(error)
    elif action == "decision":
        try:
            try:
                decision = UsageDecisionKind(request.form.get("decision", ""))
            except ValueError:
                raise ValidationFailed.for_field("decision", Message("choose release or reject")) from None
            with db.begin_nested():  # a refusal rolls back to here
                outcome = services.decide_usage(
                    db, actor, lot_id=lot_id, decision=decision, password=request.form.get("password", ""),
                    posting_date=business_today(),
                    deviation_reference=request.form.get("deviation_reference", "").strip()[:60] or None,
                    reason=request.form.get("reason", "").strip()[:500] or None)
            outcome.signed()  # a wrong password: its record is kept (committed with the page), then refused
            return redirect(url_for("quality_pages.lot", lot_id=lot_id, signed=1))
        except DomainError as error:
            if error.status == 404:
                raise
            refusal = form_refusal(error)
    view = services.lot_view(db, actor, lot_id)
    signer = None
    if view.decision is not None:
        signer = view.decision.signer_name
    form = {k: v for k, v in request.form.items() if k != "password"}
    status = refusal["error"].status if refusal else 200
    return render_template("quality/lot.html", view=view, form=form, signer=signer, action=action,
                           recorded=request.args.get("recorded") == "1", signed=request.args.get("signed") == "1",
                           can_work=actor.role == Role.QUALITY and view.lot.status == LotStatus.OPEN,
                           **refusal), status


@bp.route("/excursions")
@transaction
def excursions(db: Session, actor: Actor) -> str:
    """Excursions and gaps in the caller's warehouses, newest first, each with its chart."""
    require_role(Role.QUALITY, Role.CLERK)
    args = ListArgs.from_request(("started",), default_sort="started")
    rows, total = monitoring.list_excursions(db, actor, offset=args.offset, limit=args.page_size)
    codes = monitoring.warehouse_codes(db, {r.warehouse_id for r in rows})
    return render_template("quality/excursions.html", rows=rows, total=total, args=args, codes=codes,
                           tz=BUSINESS_TIME_ZONE)


@bp.route("/warehouses/<int:warehouse_id>/chart")
@transaction
def chart(db: Session, actor: Actor, warehouse_id: int) -> str:
    """A warehouse's temperature and humidity over a day (ECharts), its permitted range as a
    band and its excursions marked."""
    require_role(Role.QUALITY, Role.CLERK)
    try:
        day = dt.date.fromisoformat(request.args.get("day", ""))
    except ValueError:
        day = business_today()
    start = dt.datetime.combine(day, dt.time(), BUSINESS_TIME_ZONE)
    end = start + dt.timedelta(days=1)
    data = monitoring.chart_data(db, actor, warehouse_id=warehouse_id, start=start, end=end)
    return render_template("quality/chart.html", data=data, day=day, chart_json=json.dumps(data.as_json()),
                           tz=BUSINESS_TIME_ZONE,
                           previous=day - dt.timedelta(days=1), next=day + dt.timedelta(days=1))
