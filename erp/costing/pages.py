"""The cost accountant's pages: the period board of every company, the close of a period
(preview of its variance allocation, the close as a job with its progress, the allocation
report and the trial balance afterwards, reopening with a reason), standard prices,
valuation, the journal and the trial balance.

Views parse the request, call one service or report of this module and render; the rules
(which period may close, what the allocation is, who may reopen) are the services'.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from flask import current_app, redirect, render_template, request, url_for
from werkzeug.wrappers import Response
from sqlalchemy.orm import Session

from erp.clock import business_today
from erp.auth.roles import Actor, Role
from erp.costing import board, close, jobs, reports, standards
from erp.costing.calendar import PeriodState
from erp.costing.close import CLOSE_STEPS
from erp.costing.errors import PeriodNotEnded
from erp.errors import DomainError, ValidationFailed
from erp.jobs.api import job_runner, job_view
from erp.jobs.services import get_job
from erp.masterdata.models import Company
from erp.masterdata.services import names_by_id
from erp.messages import Message, N_, message_from_data
from erp.period import Period
from erp.period import NOT_A_PERIOD
from erp.schemas import PERIOD_PATTERN
from erp.ui import nav
from erp.ui.listing import ListArgs
from erp.ui.pages import PageBlueprint, confirmed, dry_run, form_refusal, page_actor, page_session, require_role
from erp.db import UNIT_PRICE
from erp.ui.forms import form_number
from erp.web import after_commit, transaction

bp = PageBlueprint("costing_pages", __name__, url_prefix="/costing")

ACCOUNTANTS = {Role.COST_ACCOUNTANT}
READERS = set(reports.READERS)
nav.add("costing", "costing_pages.period_board", N_("Month-end close"), ACCOUNTANTS,
        landing_for={Role.COST_ACCOUNTANT})
nav.add("costing", "costing_pages.standard_prices", N_("Standard prices"), ACCOUNTANTS)
nav.add("costing", "costing_pages.valuation", N_("Inventory valuation"), READERS)
nav.add("costing", "costing_pages.journal", N_("Journal"), READERS)
nav.add("costing", "costing_pages.trial_balance", N_("Trial balance"), READERS)


def _current_period() -> str:
    """The period of the business day (erp.clock: Beijing's date, pinned in tests)."""
    return Period.of(business_today())


def _period_arg(name: str = "period", default: str | None = None) -> str:
    text = request.args.get(name, "").strip()
    if text and PERIOD_PATTERN.match(text):
        return text
    return default or _current_period()


def _companies() -> list[board.BoardRow]:
    return board.period_board(page_session(), page_actor(), periods=[], current=_current_period())


def _company_arg(default_first: bool = True) -> Any:
    """The company of ``?company=CODE`` (None when the caller asks for the whole group, or
    for the first of their companies when they may not)."""
    code = request.args.get("company", "").strip()
    actor = page_actor()
    if code:
        return board.company_by_code(page_session(), actor, code)
    if actor.group_wide and not default_first:
        return None
    rows = _companies()
    return board.company_by_code(page_session(), actor, rows[0].company.code) if rows else None


@bp.route("/periods")
@transaction
def period_board(db: Session, actor: Actor) -> str:
    """Every company's periods (open, closed, future) for the group at a glance, and the
    group close."""
    require_role(*READERS)
    current = _current_period()
    periods = board.board_periods(current)
    rows = board.period_board(db, actor, periods=periods, current=current)
    candidates = board.close_candidates(rows, current)
    return render_template("costing/board.html", rows=rows, periods=periods, current=current,
                           candidates=candidates, BoardState=board.BoardState)


@bp.route("/periods/<company>/<period>")
@transaction
def period(db: Session, actor: Actor, company: str, period: str) -> Any:
    """One company's period: the preview of its allocation while open; the allocation report,
    the trial balance and who closed it once closed; reopening for group accountants."""
    require_role(*READERS)
    _check_period(period)
    found = board.company_by_code(db, actor, company)
    return _period_page(db, actor, found, period, reopened=request.args.get("reopened") == "1")


def _rate_watch() -> board.RateWatch:
    """The thresholds the close's confirmation flags variance rates by (erp.config)."""
    return board.RateWatch.from_settings(current_app.extensions["erp"].settings)


def _period_page(db: Session, actor: Actor, found: Company, period: str, **shown: Any) -> str:
    """The period page: ``shown`` adds a confirmation step (``confirming`` the close,
    ``pending_reopen``), a refusal or the reopening form as typed."""
    preview, preview_refusal, report, lines, balance, journal = None, None, None, None, None, None
    state = close.period_state(db, actor, company_id=found.id, period=period)
    if state.status.value == "closed":
        report = reports.variance_allocation(db, actor, company_id=found.id, period=period)
        lines = board.allocation_lines_named(db, company_id=found.id, period=period)
        balance = reports.trial_balance(db, actor, company_id=found.id, period=period)
        journal = board.close_journal(db, lines)
    elif actor.has_role(Role.COST_ACCOUNTANT):
        try:
            preview = board.preview_close(db, actor, company_id=found.id, period=period, watch=_rate_watch())
        except DomainError as refusal:
            if refusal.status in (403, 404):
                raise
            preview_refusal = refusal
    # An open period without a preview (not ended yet, an earlier period open, a reader who
    # does not close) shows what it holds so far.
    to_date = board.period_to_date(db, actor, company_id=found.id, period=period) \
        if state.status.value != "closed" and preview is None else None
    events = board.period_events(db, actor, company_id=found.id, period=period)
    context: dict[str, Any] = dict(
        to_date=to_date, not_ended=isinstance(preview_refusal, PeriodNotEnded),
        ends_on=Period(period).last_day, closes_from=Period(period).last_day + dt.timedelta(days=1),
        company=found, period=period, state=state, preview=preview, preview_refusal=preview_refusal, report=report,
        lines=lines, balance=balance, events=events, journal=journal,
        # A period closes only once it has ended (its close is dated its last day, erp.clock).
        can_close=actor.has_role(Role.COST_ACCOUNTANT) and Period(period).last_day < business_today(),
        can_reopen=actor.has_role(Role.COST_ACCOUNTANT) and actor.group_wide,
        reopen_form={}, next_period=Period(period).next(), reopened=False, confirming=False, pending_reopen=None,
        watch=_rate_watch())
    context.update(shown)
    return render_template("costing/period.html", **context)


@bp.route("/periods/<company>/<period>/close", methods=["POST"])
@transaction
def close_one(db: Session, actor: Actor, company: str, period: str) -> Any:
    """Close one company's period: first what the close will post (the preview, its rate
    checked against the previous month's), then, confirmed, queued as a job whose page
    shows the progress."""
    require_role(*ACCOUNTANTS)
    _check_period(period)
    found = board.company_by_code(db, actor, company)
    if not confirmed(request.form):
        return _period_page(db, actor, found, period, confirming=request.form.get("edit") != "1")
    job = jobs.queue_close(db, actor, period=period, company_ids=[found.id])
    after_commit(lambda: job_runner().submit(job.id))  # its worker must see the committed job
    return redirect(url_for("costing_pages.close_job", job_id=job.id))


@bp.route("/close", methods=["POST"])
@transaction
def close_group(db: Session, actor: Actor) -> Any:
    """Close a period, as a job, for every company of the accountant's whose next period to
    close it is (all of them or none): first what it will post per company (the close run
    and rolled back), the variance rates to check flagged; then, confirmed, the job."""
    require_role(*ACCOUNTANTS)
    period = request.form.get("period", "").strip()
    _check_period(period)
    current = _current_period()
    rows = board.period_board(db, actor, periods=[], current=current)
    found = next((c for c in board.close_candidates(rows, current) if c.period == period), None)
    if found is None:
        raise ValidationFailed.for_field("period", Message("no company closes {period} next", period=period))
    if request.form.get("edit") == "1":
        return redirect(url_for("costing_pages.period_board"))
    if not confirmed(request.form):
        watch = _rate_watch()
        checks = dry_run(db, lambda: board.close_and_check(db, actor, company_ids=found.company_ids, period=period,
                                                            watch=watch))
        return render_template("costing/close_confirm.html", period=period, checks=checks, watch=watch,
                               form=request.form)
    job = jobs.queue_close(db, actor, period=period, company_ids=found.company_ids)
    after_commit(lambda: job_runner().submit(job.id))  # its worker must see the committed job
    return redirect(url_for("costing_pages.close_job", job_id=job.id))


def _job_context(db: Session, actor: Actor, job_id: int) -> dict[str, Any]:
    job = get_job(db, actor, job_id)
    view = job_view(job)
    if job.kind != jobs.CLOSE:
        from erp.ui.pages import not_found

        raise not_found("job", job_id)
    problem = (view.get("result") or {}).get("problem") if view["status"] == "failed" else None
    # Why it failed, in the reader's language: a refusal, or the runner's own reason (erp.jobs.runner).
    kept = (view.get("result") or {}).get("message_data") if view["status"] == "failed" else None
    if not kept and problem:
        kept = problem.get("message_data")  # where jobs that failed before 86fb6ee kept it
    refusal = message_from_data(kept) if kept else None
    # The result keeps each company's id, code and status value: the page names the company
    # and words the status (the period board's tag).
    done = (view.get("result") or {}).get("companies") or [] if view["status"] == "succeeded" else []
    names = names_by_id(db, Company, (c.get("company_id") for c in done))
    states = {c.get("company_id"): PeriodState(c["status"]) for c in done if c.get("status") in set(PeriodState)}
    return {"job": view, "steps": CLOSE_STEPS, "period": (job.params or {}).get("period"), "refusal": refusal,
            "refusal_title": problem.get("title") if problem else None, "names": names, "states": states}


@bp.route("/jobs/<int:job_id>")
@transaction
def close_job(db: Session, actor: Actor, job_id: int) -> str:
    """A close running in the background: its steps as they finish, then every company's
    result (the page can be left and come back to)."""
    require_role(*ACCOUNTANTS)
    return render_template("costing/close_job.html", **_job_context(db, actor, job_id))


@bp.route("/jobs/<int:job_id>/progress")
@transaction
def close_job_progress(db: Session, actor: Actor, job_id: int) -> str:
    """The progress part of the job page (polled by htmx until the job has finished)."""
    require_role(*ACCOUNTANTS)
    return render_template("costing/_close_progress.html", **_job_context(db, actor, job_id))


@bp.route("/periods/<company>/<period>/reopen", methods=["POST"])
@transaction
def reopen(db: Session, actor: Actor, company: str, period: str) -> Any:
    """Reopen a closed period with a reason (group cost accountants): first what the
    reopening reverses, then, confirmed, the close is reversed."""
    require_role(*ACCOUNTANTS)
    _check_period(period)
    form = request.form
    reason = form.get("reason", "").strip()[:500]
    found = board.company_by_code(db, actor, company)
    if form.get("edit") == "1":  # back from the confirmation step, the reason as typed
        return _period_page(db, actor, found, period, reopen_form=form)
    try:
        if not confirmed(form):
            pending = dry_run(db, lambda: board.reopen_and_check(db, actor, company_id=found.id, period=period,
                                                                 reason=reason))
            return _period_page(db, actor, found, period, reopen_form=form, pending_reopen=pending)
        with db.begin_nested():  # a refusal rolls back to here
            close.reopen_period(db, actor, company_id=found.id, period=period, reason=reason)
        return redirect(url_for("costing_pages.period", company=company, period=period, reopened=1))
    except DomainError as error:
        if error.status == 404:
            raise
        refusal = form_refusal(error)
    return _period_page(db, actor, found, period, reopen_form=form, **refusal), refusal["error"].status


@bp.route("/trial-balance")
@transaction
def trial_balance(db: Session, actor: Actor) -> str:
    """Trial balance at the end of a period, for a company or (group-wide readers) the group."""
    require_role(*READERS)
    period = _period_arg()
    company = _company_arg(default_first=False)
    rows = _companies()
    balance = reports.trial_balance(db, actor, company_id=company.id if company else None, period=period)
    return render_template("costing/trial_balance.html", balance=balance, company=company, companies=rows,
                           period=period)


@bp.route("/journal")
@transaction
def journal(db: Session, actor: Actor) -> str:
    """Journal lines of a company with filters (period, account, source), in posting order."""
    require_role(*READERS)
    args = ListArgs.from_request()
    period = request.args.get("period", "").strip()
    account = request.args.get("account", "").strip()[:16] or None
    source = request.args.get("source", "").strip()[:32] or None
    # Group-wide readers start on every company they act for (a first company of the group's
    # list may have posted nothing); the others on their first company.
    company = _company_arg(default_first=False)
    companies = _companies()
    rows, total = reports.journal(
        db, actor, company_id=company.id if company else None, period=period if PERIOD_PATTERN.match(period) else None,
        account_code=account, source_type=source, offset=args.offset, limit=args.page_size) \
        if company is not None or actor.group_wide else ([], 0)
    accounts = board.chart(db)
    return render_template("costing/journal.html", rows=rows, total=total, args=args, company=company,
                           companies=companies, period=period, account=account, source=source, accounts=accounts,
                           sources=board.JOURNAL_SOURCES)


@bp.route("/valuation")
@transaction
def valuation(db: Session, actor: Actor) -> str:
    """Stock at standard, the variance it carries and its actual cost, per company and material."""
    require_role(*READERS)
    q = request.args.get("q", "").strip()[:100]
    company = _company_arg(default_first=False)
    companies = _companies()
    rows = reports.inventory_valuation(db, actor, company_id=company.id if company else None)
    if q:
        needle = q.lower()
        rows = [r for r in rows if needle in r.material_code.lower() or needle in (r.material_name_zh or "")
                or needle in (r.material_name_en or "").lower()]
    totals = {name: sum((Decimal(getattr(r, name)) for r in rows), Decimal("0"))
              for name in ("standard_value", "variance", "actual_value")}
    units = {m.id: m.unit for m in board.materials_named(db, sorted({r.material_id for r in rows})).values()}
    return render_template("costing/valuation.html", rows=rows, totals=totals, company=company,
                           companies=companies, q=q, units=units)


@bp.route("/standard-prices", methods=["GET", "POST"])
@transaction
def standard_prices(db: Session, actor: Actor) -> Any:
    """A company's standard prices in force for a period (set for it, or carried forward),
    and setting a price (refused when postings already use the price it would change)."""
    require_role(*ACCOUNTANTS)
    args = ListArgs.from_request()
    form: Any = request.form if request.method == "POST" else {}
    period = (form.get("period") or "").strip() if request.method == "POST" else _period_arg()
    refusal: dict[str, Any] = {}
    saved = request.args.get("saved", "").strip()[:40] or None if request.method == "GET" else None
    company = _company_arg()
    if request.method == "POST":
        try:
            with db.begin_nested():  # a refusal rolls back to here
                code = (form.get("material") or "").strip()
                change = _price_change(db, code, form.get("price"))
                if not PERIOD_PATTERN.match(period):
                    raise ValidationFailed.for_field("period", Message(NOT_A_PERIOD))
                standards.set_standard_prices(db, actor, company_id=company.id, period=period, prices=[change])
            # Post/Redirect/Get: the list of the period with the price set; a refresh posts nothing again.
            return redirect(url_for("costing_pages.standard_prices", company=company.code, period=period, saved=code))
        except DomainError as error:
            if error.status == 404:
                raise
            refusal = form_refusal(error)
    companies = _companies()
    rows, total = standards.list_standard_prices(db, actor, company_id=company.id, period=period,
                                                 offset=args.offset, limit=args.page_size)
    materials = board.materials_named(db, [row.material_id for row in rows])
    status = refusal["error"].status if refusal else 200
    return render_template("costing/standard_prices.html", rows=rows, total=total, args=args, company=company,
                           companies=companies, period=period, materials=materials, form=form, saved=saved,
                           **refusal), status


def _price_change(db: Any, code: str, text: str | None) -> standards.PriceChange:
    if not code:
        raise ValidationFailed.for_field("material", Message("enter a material code"))
    value: Decimal = form_number(text, "price", UNIT_PRICE)  # type: ignore[assignment]
    if value <= 0:
        raise ValidationFailed.for_field("price", Message("a standard price must be above zero"))
    material = board.material_by_code(db, code)
    if material is None:
        raise ValidationFailed.for_field("material", Message("no material {code}", code=code))
    return standards.PriceChange(material.id, value)


def _check_period(period: str) -> None:
    if not PERIOD_PATTERN.match(period):
        raise ValidationFailed.for_field("period", Message(NOT_A_PERIOD))

