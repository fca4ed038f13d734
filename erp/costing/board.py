"""The cost accountant's month end at a glance: every company's periods on one board, and
the variance allocation of an open period before it is closed.

``period_board`` reads the calendar of every company the caller acts for: a period is
closed up to the company's latest close, not yet begun after the business period, open
otherwise (erp.costing.calendar, the one rule).

``preview_close`` runs the close itself (``erp.costing.close``) inside a savepoint and rolls
it back: the figures shown are exactly the ones the close would post, computed by the same
statements under the same rules, and nothing is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from erp.auth.roles import Actor
from erp.costing import reports
from erp.costing import close
from erp.costing.errors import PeriodAlreadyClosed
from erp.costing.models import Account, PeriodEvent, VarianceAllocation
from erp.errors import NotFound
from erp.masterdata.models import Company, Material, Segment
from erp.messages import N_, Message, Named
from erp.posting.models import AccountingPeriod, PeriodStatus
from erp.costing.calendar import PeriodState
from erp.period import Period


# The states a board shows are the calendar's (one rule: erp.costing.close.period_states).
BoardState = PeriodState


@dataclass(frozen=True)
class BoardRow:
    company_id: int
    company: Named
    segment: Named
    states: dict[str, BoardState]
    latest_closed: str | None
    # The period this company closes next: the one after its latest close, else the oldest
    # open period it has, else (it has never posted) the last one that has ended.
    next_to_close: str


def board_periods(current: str, *, back: int = 5, ahead: int = 1) -> list[str]:
    """The periods a board shows: ``back`` months before ``current``, it, ``ahead`` after."""
    periods = [current]
    for _ in range(back):
        periods.insert(0, Period(periods[0]).previous())
    for _ in range(ahead):
        periods.append(Period(periods[-1]).next())
    return periods


def period_board(session: Session, actor: Actor, *, periods: Sequence[str], current: str) -> list[BoardRow]:
    """Every active company the caller acts for, by segment and code, with the state of each
    of ``periods`` (``current`` is the business period: later ones are future)."""
    actor.require_role(*reports.READERS, action="reading the period board")
    ap = AccountingPeriod
    companies = session.execute(
        select(Company.id, Company.code, Company.name_zh, Company.name_en, Segment.code.label("segment_code"),
               Segment.name_zh.label("segment_zh"), Segment.name_en.label("segment_en"))
        .join(Segment, Segment.id == Company.segment_id)
        .where(Company.active.is_(True), actor.company_scope(Company.id))
        .order_by(Segment.code, Company.code)
    ).all()
    ids = [row.id for row in companies]
    states = close.period_states(session, ids, periods, current=current)
    latest = dict(session.execute(
        select(ap.company_id, func.max(ap.period)).where(ap.company_id.in_(ids), ap.status == PeriodStatus.CLOSED)
        .group_by(ap.company_id)).all())
    oldest_open = dict(session.execute(
        select(ap.company_id, func.min(ap.period)).where(ap.company_id.in_(ids), ap.status == PeriodStatus.OPEN)
        .group_by(ap.company_id)).all())
    rows = []
    for company in companies:
        closed = latest.get(company.id)
        rows.append(BoardRow(
            company_id=company.id, company=Named(company.code, company.name_zh, company.name_en),
            segment=Named(company.segment_code, company.segment_zh, company.segment_en), states=states[company.id],
            latest_closed=closed,
            next_to_close=Period(closed).next() if closed else oldest_open.get(company.id, Period(current).previous()),
        ))
    return rows


@dataclass(frozen=True)
class CloseCandidate:
    """A period that companies can close now, and which ones (those whose next period to
    close it is)."""

    period: str
    company_ids: list[int]
    companies: list[Named]


def close_candidates(rows: Sequence[BoardRow], current: str) -> list[CloseCandidate]:
    """The periods the board's companies can close together, oldest first: the group close
    takes every company for which the period is next in turn (periods close in order).
    Only periods that have ended are offered (before ``current``, the business day's
    period): nothing is posted after the business day, a close included (erp.clock)."""
    by_period: dict[str, list[BoardRow]] = {}
    for row in rows:
        if row.next_to_close < current:
            by_period.setdefault(row.next_to_close, []).append(row)
    return [CloseCandidate(period, [r.company_id for r in group], [r.company for r in group])
            for period, group in sorted(by_period.items())]


def company_by_code(session: Session, actor: Actor, code: str) -> Company:
    """A company the caller acts for, by its code (404 otherwise)."""
    company = session.scalars(select(Company).where(Company.code == code)).one_or_none()
    if company is None or not actor.acts_for_company(company.id):
        raise NotFound(Message("company {code} not found", code=code))
    return company


@dataclass
class ClosePreview:
    """What closing a period would do: per material the rate and shares, the consumption
    lines that would bear variance, and the journal the close would post per account."""

    company_id: int
    period: str
    materials: list[Any] = field(default_factory=list)
    lines: list[Any] = field(default_factory=list)
    journal: list[dict[str, Any]] = field(default_factory=list)
    variance_allocated: Decimal = Decimal("0")
    variance_remaining: Decimal = Decimal("0")


def preview_close(session: Session, actor: Actor, *, company_id: int, period: str) -> ClosePreview:
    """The variance allocation closing ``period`` of a company would post, without posting
    it (cost accountants). The close itself runs inside a savepoint that is rolled back, so
    the figures are the close's own and a period the close would refuse is refused with the
    close's reason; a closed period is refused (its report is stored).

    While the request lasts, postings into the period wait (the close holds its row)."""
    reports._require_scope(session, actor, company_id)
    if close.period_state(session, actor, company_id=company_id, period=period).status.value == "closed":
        raise PeriodAlreadyClosed(Message("period {period} is closed; its allocation is in the report",
                                          period=period))
    savepoint = session.begin_nested()
    try:
        close.close_periods(session, actor, company_ids=[company_id], period=period, catch_up=False)
        preview = ClosePreview(company_id, period)
        preview.materials = reports.variance_allocation(session, actor, company_id=company_id, period=period)
        preview.lines = allocation_lines_named(session, company_id=company_id, period=period)
    finally:
        savepoint.rollback()
    preview.journal = close_journal(session, preview.lines)
    preview.variance_allocated = sum((Decimal(m.consumption_variance) for m in preview.materials), Decimal("0"))
    preview.variance_remaining = sum((Decimal(m.closing_variance) for m in preview.materials), Decimal("0"))
    return preview


def allocation_lines_named(session: Session, *, company_id: int, period: str) -> list[Any]:
    """The allocation lines of a company's period with material and account names."""
    va = VarianceAllocation
    return list(session.execute(
        select(va.material_id, Material.code.label("material_code"), Material.name_zh.label("material_name_zh"),
               Material.name_en.label("material_name_en"), va.account_code, Account.name_zh.label("account_name_zh"),
               Account.name_en.label("account_name_en"), va.consumed_value, va.allocated_variance)
        .join(Material, Material.id == va.material_id)
        .join(Account, Account.code == va.account_code)
        .where(va.company_id == company_id, va.period == period)
        .order_by(Material.code, va.account_code)
    ).all())


def close_journal(session: Session, lines: Sequence[Any]) -> list[dict[str, Any]]:
    """The close's journal by account, as ``_post_allocation`` posts it: each consumption
    account bears its lines' variance (debit when positive), the variance account gives up
    the total."""
    from erp.costing import accounts

    by_account: dict[str, dict[str, Any]] = {}
    total = Decimal("0")
    for line in lines:
        amount = Decimal(line.allocated_variance)
        if amount == 0:
            continue
        entry = by_account.setdefault(line.account_code, {
            "account_code": line.account_code, "name_zh": line.account_name_zh, "name_en": line.account_name_en,
            "amount": Decimal("0")})
        entry["amount"] += amount
        total += amount
    journal = [entry for _, entry in sorted(by_account.items()) if entry["amount"] != 0]
    if total != 0:
        variance = session.get(Account, accounts.MATERIAL_COST_VARIANCE)
        journal.append({"account_code": accounts.MATERIAL_COST_VARIANCE, "name_zh": variance.name_zh if variance else "",
                        "name_en": variance.name_en if variance else "", "amount": -total})
    return journal


def period_events(session: Session, actor: Actor, *, company_id: int, period: str) -> list[Any]:
    """Who closed and reopened a company's period, when and why, newest first."""
    from erp.auth.models import User

    reports._require_scope(session, actor, company_id)
    pe = PeriodEvent
    return list(session.execute(
        select(pe.action, pe.reason, pe.at, pe.journal_entry_id, User.username, User.display_name)
        .join(User, User.id == pe.user_id)
        .where(pe.company_id == company_id, pe.period == period)
        .order_by(pe.at.desc(), pe.id.desc())
    ).all())


# The sources of journal entries the journal browser filters by, with their words.
JOURNAL_SOURCES: dict[str, str] = {
    "stock_document": N_("stock document"),
    "period_close": N_("month-end close"),
    "period_reopen": N_("reopening"),
    "invoice": N_("invoice"),
    "payment": N_("payment"),
    "credit_application": N_("payment application"),
}


def chart(session: Session) -> list[Any]:
    """The group's chart of accounts, by code."""
    return list(session.execute(select(Account.code, Account.name_zh, Account.name_en).order_by(Account.code)).all())


def materials_named(session: Session, material_ids: Sequence[int]) -> dict[int, Any]:
    """Code, names and unit of these materials, by id."""
    if not material_ids:
        return {}
    return {row.id: row for row in session.execute(
        select(Material.id, Material.code, Material.name_zh, Material.name_en).where(Material.id.in_(material_ids)))}


def material_by_code(session: Session, code: str) -> Material | None:
    return session.scalars(select(Material).where(Material.code == code)).one_or_none()
