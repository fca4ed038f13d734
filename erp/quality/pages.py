"""Quality's pages: the inspection-lot worklist, a lot (QC records results, QA signs the
usage decision) and a warehouse's temperature chart with its excursions marked.

Views parse the request, call one service of this module and render; the rules
(judging, four eyes, the signature, deviations, excursions) are the services'.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from typing import Any

from flask import redirect, render_template, request, url_for
from sqlalchemy.orm import Session

from erp.auth.roles import Actor, Role
from erp.clock import BUSINESS_TIME_ZONE, business_today
from erp.errors import DomainError, ValidationFailed
from erp.messages import Message, N_
from erp.masterdata.models import Warehouse
from erp.masterdata.services import names_by_id
from erp.quality import monitoring, services
from erp.quality.models import LotStatus, UsageDecisionKind
from erp.ui import nav
from erp.ui.listing import ListArgs
from erp.ui.pages import PageBlueprint, form_refusal, require_role
from erp.quality.models import MEASURE
from erp.ui.forms import form_day, form_number
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
    return form_number(text, f"result-{code}", MEASURE)  # type: ignore[return-value]


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
    elif action == "certificate":
        try:
            with db.begin_nested():  # a refusal rolls back to here
                view = services.lot_view(db, actor, lot_id)
                upload = request.files.get("file")
                if upload is None or not upload.filename:
                    raise ValidationFailed.for_field("file", Message("attach the certificate's file"))
                number = request.form.get("certificate_number", "").strip()[:60]
                if not number:
                    raise ValidationFailed.for_field("certificate_number", Message("give the certificate's number"))
                issued_on = form_day(request.form.get("issued_on"), "issued_on")
                stated = []
                for r in view.results:
                    typed = request.form.get(f"cert-{r.code}", "").strip()
                    if typed:
                        stated.append(services.ResultInput(r.code, value=_measure(typed, r.code))
                                      if r.minimum is not None or r.maximum is not None
                                      else services.ResultInput(r.code, text=typed[:200]))
                services.record_certificate(db, actor, lot_id=lot_id, number=number, issued_on=issued_on,
                                            file_name=(upload.filename or "certificate")[:200],
                                            content_type=(upload.mimetype or "application/octet-stream")[:100],
                                            content=upload.read(), results=stated)
            return redirect(url_for("quality_pages.lot", lot_id=lot_id, certified=1))
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
    # A form posts back to the address it was shown at, which may still carry the previous
    # step's ``recorded=1``: beside a refusal that "results recorded" would read as this post's.
    done = request.args if not refusal else {}
    return render_template("quality/lot.html", view=view, form=form, signer=signer, action=action,
                           recorded=done.get("recorded") == "1", signed=done.get("signed") == "1",
                           certified=done.get("certified") == "1",
                           can_work=actor.role == Role.QUALITY and view.lot.status == LotStatus.OPEN,
                           tz=BUSINESS_TIME_ZONE, **refusal), status


@bp.route("/excursions")
@transaction
def excursions(db: Session, actor: Actor) -> str:
    """Excursions and gaps in the caller's warehouses, newest first, each with its chart."""
    require_role(Role.QUALITY, Role.CLERK)
    args = ListArgs.from_request(("started",), default_sort="started")
    rows, total = monitoring.list_excursions(db, actor, offset=args.offset, limit=args.page_size)
    names = names_by_id(db, Warehouse, (r.warehouse_id for r in rows))
    return render_template("quality/excursions.html", rows=rows, total=total, args=args, names=names,
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


# --- specifications ------------------------------------------------------------------------------

nav.add("quality", "quality_pages.specifications", N_("Specifications"), {Role.QUALITY, Role.AUDITOR})
CHARACTERISTIC_ROWS = 6


@bp.route("/specifications")
@transaction
def specifications(db: Session, actor: Actor) -> str:
    """Materials that need inspection, with the specification version in force today."""
    require_role(Role.QUALITY, Role.AUDITOR)
    args = ListArgs.from_request(("code",), default_sort="code")
    rows, total = services.specification_overview(db, actor, q=args.q or None, offset=args.offset,
                                                   limit=args.page_size)
    return render_template("quality/specifications.html", rows=rows, total=total, args=args)


def _optional_measure(text: str, pointer: str) -> Decimal | None:
    return form_number(text, pointer, MEASURE, required=False)


# A specification's characteristics as the version form's rows name them: the service's
# ``characteristics/<n>/minimum`` (the n-th characteristic sent) is the input ``c<row>-minimum``
# of the form row it was typed in, which the page labels "最小值 3" (trial finding 127: the
# refusal printed the API's field path to the reader).
_CHARACTERISTIC_POINTER = re.compile(r"^/characteristics/(\d+)(?:/(\w+))?$")


def _on_form_rows(error: DomainError, rows: list[int]) -> DomainError:
    """A refusal of the service, its characteristics' pointers turned into the form's inputs."""
    if not isinstance(error, ValidationFailed) or len(error.errors) != 1:
        return error
    found = _CHARACTERISTIC_POINTER.match(str(error.errors[0].get("pointer", "")))
    if not found:
        return error
    index, name = int(found.group(1)), found.group(2) or "code"
    row = rows[index] if index < len(rows) else index
    return ValidationFailed.for_field(f"c{row}-{name}", error.errors[0]["detail"])


def _characteristic_rows() -> list[int]:
    """The form row of each characteristic typed (rows with a code), in order."""
    return [i for i in range(CHARACTERISTIC_ROWS) if request.form.get(f"c{i}-code", "").strip()]


def _characteristics_typed() -> list[services.CharacteristicInput]:
    """The characteristic rows of the version form that have a code."""
    typed = []
    for i in range(CHARACTERISTIC_ROWS):
        code = request.form.get(f"c{i}-code", "").strip().upper()[:40]
        if not code:
            continue
        text = request.form.get(f"c{i}-expected_text", "").strip()[:200] or None
        typed.append(services.CharacteristicInput(
            code=code, name_zh=request.form.get(f"c{i}-name_zh", "").strip()[:200] or code,
            name_en=request.form.get(f"c{i}-name_en", "").strip()[:200] or code,
            unit=request.form.get(f"c{i}-unit", "").strip()[:20] or None,
            minimum=_optional_measure(request.form.get(f"c{i}-minimum", ""), f"c{i}-minimum"),
            maximum=_optional_measure(request.form.get(f"c{i}-maximum", ""), f"c{i}-maximum"),
            expected_text=text))
    return typed


@bp.route("/specifications/<int:material_id>", methods=["GET", "POST"])
@transaction
def specification(db: Session, actor: Actor, material_id: int) -> Any:
    """A material's specification versions, newest first, and (for group QA) the form for
    a new version, in force from today or later."""
    require_role(Role.QUALITY, Role.AUDITOR)
    refusal: dict[str, Any] = {}
    if request.method == "POST":
        try:
            effective = form_day(request.form.get("effective_from"), "effective_from")
            with db.begin_nested():  # a refusal rolls back to here
                created = services.create_specification(
                    db, actor, material_id=material_id, effective_from=effective,
                    reason=request.form.get("reason", "")[:500], characteristics=_characteristics_typed())
            return redirect(url_for("quality_pages.specification", material_id=material_id, created=created.version))
        except DomainError as error:
            if error.status == 404:
                raise
            refusal = form_refusal(_on_form_rows(error, _characteristic_rows()))
    material = services.material_or_404(db, material_id)
    versions = services.list_specifications(db, actor, material_id)
    status = refusal["error"].status if refusal else 200
    return render_template("quality/specification.html", material=material, versions=versions, form=request.form,
                           today=business_today(), rows=range(CHARACTERISTIC_ROWS),
                           in_force=services.specification_in_force(db, material_id, business_today()),
                           can_write=actor.role == Role.QUALITY and actor.group_wide,
                           created=request.args.get("created"), tz=BUSINESS_TIME_ZONE, **refusal), status


# --- storage monitoring: sensor logs and data loggers -------------------------------------------

nav.add("quality", "quality_pages.warehouses", N_("Temperature monitoring"), {Role.QUALITY, Role.CLERK})


@bp.route("/warehouses")
@transaction
def warehouses(db: Session, actor: Actor) -> str:
    """The caller's warehouses with their permitted range, rules, latest reading and loggers."""
    require_role(Role.QUALITY, Role.CLERK)
    return render_template("quality/warehouses.html", rows=monitoring.monitored_warehouses(db, actor),
                           tz=BUSINESS_TIME_ZONE)


@bp.route("/warehouses/<int:warehouse_id>/monitoring", methods=["GET", "POST"])
@transaction
def warehouse_monitoring(db: Session, actor: Actor, warehouse_id: int) -> Any:
    """A warehouse's monitoring: upload a sensor log (CSV), and (quality) register a data
    logger (its token shown once) or withdraw one."""
    require_role(Role.QUALITY, Role.CLERK)
    refusal: dict[str, Any] = {}
    action = request.form.get("action") if request.method == "POST" else None
    imported = token = None
    try:
        with db.begin_nested():  # a refusal rolls back to here
            if action == "upload":
                upload = request.files.get("file")
                if upload is None or not upload.filename:
                    raise ValidationFailed.for_field("file", Message("choose the sensor log (CSV) to upload"))
                try:
                    content = upload.read().decode("utf-8-sig")
                except UnicodeDecodeError:
                    raise ValidationFailed.for_field("file", Message("the sensor log must be UTF-8 text")) from None
                imported = monitoring.import_readings(db, actor, warehouse_id=warehouse_id, content=content)
            elif action == "register":
                code = request.form.get("code", "").strip()[:40]
                if not code:
                    raise ValidationFailed.for_field("code", Message("give the logger's code"))
                _, token = monitoring.register_logger(db, actor, warehouse_id=warehouse_id, code=code)
            elif action == "rules":
                minutes = {}
                for name in ("allowance_minutes", "logging_interval_minutes"):
                    typed = request.form.get(name, "").strip()
                    if not typed.isdigit() or not 0 <= int(typed) <= 1440 or (
                            name == "logging_interval_minutes" and int(typed) == 0):
                        raise ValidationFailed.for_field(name, Message("enter whole minutes, at most 1440 (a day)"))
                    minutes[name] = int(typed)
                monitoring.configure_monitoring(db, actor, warehouse_id=warehouse_id, **minutes)
            elif action == "deactivate":
                logger_id = request.form.get("logger_id", "")
                if not logger_id.isdigit():
                    raise ValidationFailed.for_field("logger_id", Message("choose a logger"))
                monitoring.deactivate_logger(db, actor, logger_id=int(logger_id))
        # Post/Redirect/Get: a refresh of the page after an upload, the rules or a withdrawal
        # shows it again and posts nothing twice. A registration alone answers its page: the
        # logger's token is shown this once and never put in an address (posted again, the
        # logger's code is refused as taken).
        if imported is not None:
            return redirect(url_for("quality_pages.warehouse_monitoring", warehouse_id=warehouse_id,
                                    stored=imported.stored, received=imported.received,
                                    excursions=len(imported.excursions), holds=len(imported.hold_document_ids)))
        if action in ("rules", "deactivate"):
            return redirect(url_for("quality_pages.warehouse_monitoring", warehouse_id=warehouse_id, saved=action))
    except DomainError as error:
        if error.status == 404:
            raise
        refusal = form_refusal(error)
    if request.method == "GET" and request.args.get("stored", "").isdigit():
        # what the upload just stored, as its redirect carries it
        imported = {name: int(request.args.get(name, "0")) if request.args.get(name, "0").isdigit() else 0
                    for name in ("stored", "received", "excursions", "holds")}
    rules = [w for w in monitoring.monitored_warehouses(db, actor) if w.warehouse.id == warehouse_id]
    if not rules:
        from erp.errors import NotFound

        raise NotFound(Message("warehouse {key} not found", key=warehouse_id))
    status = refusal["error"].status if refusal else 200
    return render_template("quality/monitoring.html", row=rules[0],
                           loggers=monitoring.loggers_of(db, actor, warehouse_id=warehouse_id),
                           imported=imported, token=token, action=action, form=request.form,
                           saved=request.args.get("saved") if request.method == "GET" else None,
                           can_manage=actor.role == Role.QUALITY, tz=BUSINESS_TIME_ZONE, **refusal), status
