"""HTTP endpoints of costing: ``/api/v1/costing/...``."""

from __future__ import annotations

from typing import Any

from flask_smorest.pagination import PaginationParameters
from sqlalchemy.orm import Session

from erp.messages import Message
from erp.auth.errors import CompanyOutOfScope, RoleNotAllowed
from erp.costing import board, calendar, close, jobs, reports, standards
from erp.costing import errors as e
from erp.costing import schemas as s
from erp.errors import DatedAfterBusinessDay, NotFound, ValidationFailed
from erp.jobs.api import started
from erp.jobs.errors import JobUserInactive, UnknownJobKind
from erp.jobs.schemas import JobOut
from erp.period import NOT_A_PERIOD
from erp.schemas import PERIOD_PATTERN
from erp.auth.roles import Actor
from erp.web import Blueprint, paged, reads_in_transaction, reporting, transaction

blp = Blueprint("costing", __name__, url_prefix="/api/v1/costing",
                description="Standard prices, the journal and the month-end close")

# The reports are open to their readers' roles, for companies they act for (group-wide
# figures for group-wide roles); an unknown company is not found.
READ_REFUSALS = (RoleNotAllowed, CompanyOutOfScope, NotFound)


@blp.route("/standard-prices", methods=["PUT"])
@blp.arguments(s.StandardPricesIn)
@blp.response(200, s.StandardPriceOut(many=True))
@blp.refuses(RoleNotAllowed, CompanyOutOfScope, e.PeriodClosed, DatedAfterBusinessDay, e.StandardPriceInUse)
@transaction
def put_standard_prices(session: Session, actor: Actor, data: dict[str, Any]) -> list[Any]:
    """Set standard prices of materials for a company from a period on (cost accountants);
    returns the prices now in force for that period."""
    changes = [standards.PriceChange(p["material_id"], p["price"]) for p in data["prices"]]
    return standards.set_standard_prices(
        session, actor, company_id=data["company_id"], period=data["period"], prices=changes
    )


@blp.route("/standard-prices", methods=["GET"])
@blp.arguments(s.StandardPriceQuery, location="query")
@blp.response(200, s.StandardPriceOut(many=True))
@blp.paginate()
@blp.refuses(CompanyOutOfScope)
def get_standard_prices(query: dict[str, Any], pagination_parameters: PaginationParameters) -> list[Any]:
    """A company's standard prices in force for a period (set for it or an earlier one)."""
    return paged(pagination_parameters, standards.list_standard_prices, **query)


@blp.route("/periods/<int:company_id>/<string:period>/close", methods=["POST"])
@blp.response(200, s.CloseResultOut)
@blp.refuses(
    RoleNotAllowed, CompanyOutOfScope, NotFound, e.EarlierPeriodOpen, e.PeriodNotEnded, e.PeriodClosed,
    DatedAfterBusinessDay,
)
@transaction
def post_close(session: Session, actor: Actor, company_id: int, period: str) -> close.CloseResult:
    """Close a company's period: allocate variance, post, carry balances forward, lock (repeatable)."""
    _check_period(period)
    return close.close_period(session, actor, company_id=company_id, period=period)


@blp.route("/periods/<int:company_id>/<string:period>/close-preview", methods=["GET"])
@reads_in_transaction  # the preview runs the close in a savepoint it rolls back
@blp.response(200, s.ClosePreviewOut)
@blp.refuses(
    ValidationFailed, RoleNotAllowed, CompanyOutOfScope, NotFound, e.EarlierPeriodOpen, e.PeriodNotEnded,
    e.PeriodClosed,
    DatedAfterBusinessDay, e.PeriodAlreadyClosed,
)
@transaction
def get_close_preview(session: Session, actor: Actor, company_id: int, period: str) -> board.ClosePreview:
    """What closing a company's open period would post, posting nothing (cost accountants): per
    material the rate and shares, the consumption lines that would bear variance, the journal
    by account. A closed period is refused: its variance allocation report holds what was posted."""
    _check_period(period)
    return board.preview_close(session, actor, company_id=company_id, period=period)


@blp.route("/closes", methods=["POST"])
@blp.arguments(s.GroupCloseIn)
@blp.response(200, s.CloseResultOut(many=True))
@blp.refuses(
    RoleNotAllowed, CompanyOutOfScope, NotFound, e.EarlierPeriodOpen, e.PeriodNotEnded, e.PeriodClosed,
    DatedAfterBusinessDay,
)
@transaction
def post_group_close(session: Session, actor: Actor, data: dict[str, Any]) -> list[close.CloseResult]:
    """Bring several companies' books up to a period, all or none (default: every active
    company the caller acts for): each company's open periods up to it close in order;
    companies already closed through it are left as they are. Each result names the
    periods this call closed (``closed_now``)."""
    return close.close_periods(session, actor, company_ids=data.get("company_ids"),
                               period=data["period"])


@blp.route("/close-jobs", methods=["POST"])
@blp.arguments(s.GroupCloseIn)
@blp.response(202, JobOut)
@blp.refuses(RoleNotAllowed, CompanyOutOfScope, in_job=(
    RoleNotAllowed, CompanyOutOfScope, NotFound, e.EarlierPeriodOpen, e.PeriodNotEnded, e.PeriodClosed,
    DatedAfterBusinessDay,
    JobUserInactive, UnknownJobKind))
@transaction
def post_close_job(session: Session, actor: Actor, data: dict[str, Any]) -> Any:
    """Queue the close of a period for several companies as a background job (all or none;
    default: every active company the caller acts for): poll its status_url for the steps
    done and, at the end, every company's result."""
    return started(jobs.queue_close(session, actor, period=data["period"], company_ids=data.get("company_ids")))


@blp.route("/periods/<int:company_id>/<string:period>/reopen", methods=["POST"])
@blp.arguments(s.ReopenIn)
@blp.response(200, s.CloseResultOut)
@blp.refuses(
    RoleNotAllowed, e.GroupCostAccountantOnly, e.PeriodNotClosed, e.LaterPeriodClosed, e.PeriodClosed,
    DatedAfterBusinessDay,
)
@transaction
def post_reopen(session: Session, actor: Actor, data: dict[str, Any], company_id: int,
                period: str) -> close.CloseResult:
    """Reopen the latest closed period with a reason (group cost accountants); reverses the close."""
    _check_period(period)
    return close.reopen_period(session, actor, company_id=company_id, period=period, **data)


@blp.route("/periods", methods=["GET"])
@blp.arguments(s.CalendarQuery, location="query")
@blp.response(200, s.CompanyCalendarOut(many=True))
@blp.refuses(ValidationFailed)
@transaction
def get_calendars(session: Session, actor: Actor, query: dict[str, Any]) -> list[calendar.CompanyCalendar]:
    """Where every company's books stand: each visible company's periods over a range of
    months (default: twelve months back to next month), each closed, open or not yet begun."""
    company_id = query.get("company_id")
    return calendar.company_calendars(session, actor, from_period=query.get("from_"), to_period=query.get("to"),
                                      company_ids=[company_id] if company_id is not None else None)


@blp.route("/periods/<int:company_id>/<string:period>", methods=["GET"])
@blp.response(200, s.CloseResultOut)
@blp.refuses(ValidationFailed, CompanyOutOfScope, NotFound)
@transaction
def get_period(session: Session, actor: Actor, company_id: int, period: str) -> close.CloseResult:
    """The state of a company's period and the result of its close."""
    _check_period(period)
    return close.period_state(session, actor, company_id=company_id, period=period)


@blp.route("/variance-allocation", methods=["GET"])
@blp.arguments(s.PeriodPath, location="query")
@blp.response(200, s.VarianceReportOut)
@blp.refuses(*READ_REFUSALS)
@reporting
@transaction
def get_variance_allocation(session: Session, actor: Actor, query: dict[str, Any]) -> dict[str, Any]:
    """Variance allocation of a closed period per material, and the lines that bore it."""
    return {"materials": reports.variance_allocation(session, actor, **query),
            "allocations": reports.allocation_lines(session, actor, **query)}


@blp.route("/valuation", methods=["GET"])
@blp.arguments(s.ValuationQuery, location="query")
@blp.response(200, s.ValuationRowOut(many=True))
@blp.refuses(*READ_REFUSALS)
@reporting
@transaction
def get_valuation(session: Session, actor: Actor, query: dict[str, Any]) -> list[Any]:
    """Inventory at standard, the variance it carries, and at actual cost, per material."""
    return reports.inventory_valuation(session, actor, **query)


@blp.route("/journal", methods=["GET"])
@blp.arguments(s.JournalQuery, location="query")
@blp.response(200, s.JournalRowOut(many=True))
@blp.paginate()
@blp.refuses(*READ_REFUSALS)
def get_journal(query: dict[str, Any], pagination_parameters: PaginationParameters) -> list[Any]:
    """Journal lines of a company, in posting order, with filters."""
    return paged(pagination_parameters, reports.journal, **query)


@blp.route("/trial-balance", methods=["GET"])
@blp.arguments(s.TrialBalanceQuery, location="query")
@blp.response(200, s.TrialBalanceOut)
@blp.refuses(*READ_REFUSALS)
@reporting
@transaction
def get_trial_balance(session: Session, actor: Actor, query: dict[str, Any]) -> reports.TrialBalance:
    """Trial balance at the end of a period, for a company or the whole group."""
    return reports.trial_balance(session, actor, **query)


def _check_period(period: str) -> None:
    if not PERIOD_PATTERN.match(period):
        raise ValidationFailed.for_field("period", Message(NOT_A_PERIOD))
