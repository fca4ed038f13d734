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
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from erp.auth.roles import Actor
from erp.costing import reports
from erp.costing import close
from erp.costing.errors import PeriodAlreadyClosed
from erp.costing.models import Account, MaterialPeriodBalance, PeriodEvent, VarianceAllocation
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
    # The company-level check (rate and its flags), when the caller gave a ``RateWatch``.
    check: CloseCheck | None = None
    # Every journal entry the close posts (``close_postings``): the allocation, the production
    # orders' settlement, the restatement at the next period's standards; ``journal`` is
    # their sum per account, what the confirmation shows; ``allocation_journal`` the
    # allocation's alone (the allocation report's).
    entries: list[ClosePosting] = field(default_factory=list)
    allocation_journal: list[dict[str, Any]] = field(default_factory=list)


def preview_close(session: Session, actor: Actor, *, company_id: int, period: str,
                  watch: RateWatch | None = None) -> ClosePreview:
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
        since = last_entry_id(session)
        close.close_periods(session, actor, company_ids=[company_id], period=period, catch_up=False)
        preview = ClosePreview(company_id, period)
        preview.entries = close_postings(session, actor, [company_id], since).get(company_id, [])
        preview.materials = reports.variance_allocation(session, actor, company_id=company_id, period=period)
        preview.lines = allocation_lines_named(session, company_id=company_id, period=period)
        if watch is not None:
            (preview.check,) = close_checks(session, [company_id], period=period, watch=watch)
    finally:
        savepoint.rollback()
    preview.allocation_journal = close_journal(session, preview.lines)
    preview.journal = journal_by_account(preview.entries)
    preview.variance_allocated = sum((Decimal(m.consumption_variance) for m in preview.materials), Decimal("0"))
    preview.variance_remaining = sum((Decimal(m.closing_variance) for m in preview.materials), Decimal("0"))
    return preview


@dataclass(frozen=True)
class ClosePosting:
    """One journal entry a close posts for a company: where it comes from (``source_type``
    and the kind of its stock document, for erp.ui.labels.journal_source), its date, its
    narration and its lines per account (signed, debit positive, with the account's names)."""

    entry_id: int
    source_type: str
    document_kind: str | None
    entry_date: Any
    memo: str
    lines: tuple[dict[str, Any], ...]

    @property
    def debit(self) -> Decimal:
        return sum((line["amount"] for line in self.lines if line["amount"] > 0), Decimal("0"))


def last_entry_id(session: Session) -> int:
    """The newest journal entry's id: what a close posts after it is what ``close_postings`` reads."""
    from erp.posting.models import JournalEntry

    return session.scalar(select(func.max(JournalEntry.id))) or 0


def close_postings(session: Session, actor: Actor, company_ids: Sequence[int],
                   since: int) -> dict[int, list[ClosePosting]]:
    """Per company, every journal entry the actor posted after entry ``since`` (a close just
    run in this transaction, to be rolled back: what it will post), oldest first, each with
    its lines summed per account. One query."""
    from erp.posting.models import JournalEntry, JournalLine, StockDocument

    if not company_ids:
        return {}
    e, line = JournalEntry, JournalLine
    rows = session.execute(
        select(e.id, e.company_id, e.source_type, e.entry_date, e.memo, StockDocument.doc_type, line.account_code,
               Account.name_zh, Account.name_en, func.sum(line.amount).label("amount"))
        .join(line, line.entry_id == e.id)
        .join(Account, Account.code == line.account_code)
        .outerjoin(StockDocument, (e.source_type == "stock_document") & (StockDocument.id == e.source_id))
        .where(e.id > since, e.company_id.in_(sorted(set(company_ids))), e.created_by == actor.user_id)
        .group_by(e.id, e.company_id, e.source_type, e.entry_date, e.memo, StockDocument.doc_type, line.account_code,
                  Account.name_zh, Account.name_en)
        .order_by(e.company_id, e.id, line.account_code)
    ).all()
    entries: dict[int, dict[int, dict[str, Any]]] = {}
    for row in rows:
        entry = entries.setdefault(row.company_id, {}).setdefault(row.id, {
            "entry_id": row.id, "source_type": row.source_type,
            "document_kind": row.doc_type.value if row.doc_type is not None else None,
            "entry_date": row.entry_date, "memo": row.memo, "lines": []})
        if row.amount:
            entry["lines"].append({"account_code": row.account_code, "name_zh": row.name_zh, "name_en": row.name_en,
                                   "account_name_zh": row.name_zh, "account_name_en": row.name_en,
                                   "amount": Decimal(row.amount)})
    return {company_id: [ClosePosting(**{**entry, "lines": tuple(entry["lines"])}) for entry in by_id.values()
                         if entry["lines"]]
            for company_id, by_id in entries.items()}


def journal_by_account(entries: Sequence[ClosePosting]) -> list[dict[str, Any]]:
    """The lines of ``entries`` summed per account, by account code (zero sums left out)."""
    by_account: dict[str, dict[str, Any]] = {}
    for entry in entries:
        for line in entry.lines:
            total = by_account.setdefault(line["account_code"], {**line, "amount": Decimal("0")})
            total["amount"] += line["amount"]
    return [line for _, line in sorted(by_account.items()) if line["amount"] != 0]


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
            "account_name_zh": line.account_name_zh, "account_name_en": line.account_name_en, "amount": Decimal("0")})
        entry["amount"] += amount
        total += amount
    journal = [entry for _, entry in sorted(by_account.items()) if entry["amount"] != 0]
    if total != 0:
        variance = session.get(Account, accounts.MATERIAL_COST_VARIANCE)
        name_zh, name_en = (variance.name_zh, variance.name_en) if variance else ("", "")
        journal.append({"account_code": accounts.MATERIAL_COST_VARIANCE, "name_zh": name_zh, "name_en": name_en,
                        "account_name_zh": name_zh, "account_name_en": name_en, "amount": -total})
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


# The journal's sources a reader filters by (the page's list): every ``source_type`` a
# module posts with, named in words (erp.ui.labels.journal_source names each entry's, the
# stock document's kind and the supplier document's included).
JOURNAL_SOURCES: dict[str, str] = {
    "stock_document": N_("stock document"),
    "period_close": N_("month-end close"),
    "period_reopen": N_("reopening"),
    "production_settlement": N_("production order settlement"),
    "production_settlement_reversal": N_("reversal of a production order settlement"),
    "invoice": N_("invoice"),
    "payment": N_("payment"),
    "credit_application": N_("payment application"),
    "credit_note": N_("credit note"),
    "credit_note_application": N_("credit note application"),
    "opening_receivables": N_("opening receivables"),
    "opening_received": N_("opening goods received not invoiced"),
    "payment_reversal": N_("reversal of a customer payment"),
    "supplier_invoice": N_("supplier invoice"),
    "supplier_invoice_reversal": N_("reversal of a supplier invoice"),
    "supplier_payment": N_("supplier payment"),
    "supplier_payment_reversal": N_("reversal of a supplier payment"),
    "invoice_wip_correction": N_("correction of a price difference on work in process"),
    "invoice_wip_correction_reversal": N_("reversal of a price difference correction"),
}


def chart(session: Session) -> list[Any]:
    """The group's chart of accounts, by code."""
    return list(session.execute(select(Account.code, Account.name_zh, Account.name_en).order_by(Account.code)).all())


def materials_named(session: Session, material_ids: Sequence[int]) -> dict[int, Any]:
    """Code, names and unit (``unit``: its code) of these materials, by id."""
    from erp.masterdata.models import UnitOfMeasure

    if not material_ids:
        return {}
    return {row.id: row for row in session.execute(
        select(Material.id, Material.code, Material.name_zh, Material.name_en, UnitOfMeasure.code.label("unit"))
        .join(UnitOfMeasure, UnitOfMeasure.id == Material.unit_id)
        .where(Material.id.in_(material_ids)))}


def material_by_code(session: Session, code: str) -> Material | None:
    return session.scalars(select(Material).where(Material.code == code)).one_or_none()


# --- checking a close before it is posted ---------------------------------------------------

@dataclass(frozen=True)
class RateWatch:
    """When a company's variance rate needs a second look before its close is confirmed
    (settings ``close_rate_limit_percent`` and ``close_rate_move_points``, docs/costing.md):
    a rate beyond ±``limit``, or one that moved more than ``move`` (both fractions: 0.10 is
    10 %, 0.05 is 5 percentage points) from the previous closed month's. The accountant may
    still confirm: a jump has causes a close cannot see (a late invoice, a price error)."""

    limit: Decimal
    move: Decimal

    @classmethod
    def from_settings(cls, settings: Any) -> RateWatch:
        hundred = Decimal(100)
        return cls(Decimal(settings.close_rate_limit_percent) / hundred,
                   Decimal(settings.close_rate_move_points) / hundred)

    def flags(self, rate: Decimal | None, previous: Decimal | None) -> tuple[str, ...]:
        """Which of ``limit`` and ``move`` the rate breaks (none for a rate with no base)."""
        if rate is None:
            return ()
        found = []
        if abs(rate) > self.limit:
            found.append("limit")
        if previous is not None and abs(rate - previous) > self.move:
            found.append("move")
        return tuple(found)


@dataclass(frozen=True)
class CloseCheck:
    """One company's close as it will be posted, at company level: over the materials that
    moved in the period (only those spread variance; the others keep theirs), the variance
    to spread (opening variance + the period's receipts' variance), the stock at standard it
    spreads over, the variance rate (材料成本差异率, the one over the other), what goes to
    consumption and what stays with the stock; the previous closed month's rate the same
    way, and the ``RateWatch`` flags."""

    company_id: int
    company: Named
    period: str
    variance_to_spread: Decimal
    standard_base: Decimal
    variance_rate: Decimal | None
    to_consumption: Decimal
    to_stock: Decimal
    previous_period: str
    previous_rate: Decimal | None
    flags: tuple[str, ...]
    # Every journal entry the close posts for the company (``close_postings``), when read.
    postings: tuple[ClosePosting, ...] = ()

    @property
    def rate_change(self) -> Decimal | None:
        if self.variance_rate is None or self.previous_rate is None:
            return None
        return self.variance_rate - self.previous_rate


def close_checks(session: Session, company_ids: Sequence[int], *, period: str, watch: RateWatch) -> list[CloseCheck]:
    """The ``CloseCheck`` of each company whose ``period`` has just been closed in this
    transaction (the confirmation step runs the close and rolls it back, erp.ui.pages.dry_run),
    by company code. One GROUP BY over the balance rows the close wrote for the period and
    those of the month before (rows exist only for materials that moved in a closed period)."""
    b = MaterialPeriodBalance
    previous = Period(period).previous()
    ids = sorted(set(company_ids))
    rows = session.execute(
        select(b.company_id, b.period,
               func.sum(b.opening_variance + b.receipts_variance).label("to_spread"),
               func.sum(b.opening_value + b.receipts_value + b.other_inflow_value).label("base"),
               func.sum(b.consumption_variance).label("consumed"), func.sum(b.closing_variance).label("kept"))
        .where(b.company_id.in_(ids), b.period.in_([previous, period]))
        .group_by(b.company_id, b.period)
    ).all()
    figures = {(row.company_id, row.period): row for row in rows}
    companies = session.execute(
        select(Company.id, Company.code, Company.name_zh, Company.name_en).where(Company.id.in_(ids))
        .order_by(Company.code)).all()
    zero = Decimal("0")

    def rate(row: Any) -> Decimal | None:
        if row is None or not row.base:
            return None
        return Decimal(row.to_spread) / Decimal(row.base)

    checks = []
    for company in companies:
        now, before = figures.get((company.id, period)), figures.get((company.id, previous))
        current_rate, previous_rate = rate(now), rate(before)
        checks.append(CloseCheck(
            company_id=company.id, company=Named(company.code, company.name_zh, company.name_en), period=period,
            variance_to_spread=Decimal(now.to_spread if now else zero), standard_base=Decimal(now.base if now else zero),
            variance_rate=current_rate, to_consumption=Decimal(now.consumed if now else zero),
            to_stock=Decimal(now.kept if now else zero), previous_period=previous, previous_rate=previous_rate,
            flags=watch.flags(current_rate, previous_rate)))
    return checks


def close_and_check(session: Session, actor: Actor, *, company_ids: Sequence[int], period: str, watch: RateWatch,
                    catch_up: bool = True) -> list[CloseCheck]:
    """Close ``period`` for these companies as the close job would (``close_periods``; one
    company's own close without ``catch_up``, strictly in order) and read each one's
    ``CloseCheck``. Posts: the pages run it inside erp.ui.pages.dry_run to show what the
    close will post before the accountant confirms it."""
    since = last_entry_id(session)
    close.close_periods(session, actor, company_ids=company_ids, period=period, catch_up=catch_up)
    postings = close_postings(session, actor, company_ids, since)
    return [replace(check, postings=tuple(postings.get(check.company_id, ())))
            for check in close_checks(session, company_ids, period=period, watch=watch)]


@dataclass(frozen=True)
class ReopenCheck:
    """What reopening a period posts: the reversal of its close entry and of the stock
    restatements at the next period's standards, per account (signed, debit positive)."""

    company_id: int
    period: str
    journal: list[dict[str, Any]]
    restatements: int


def reopen_and_check(session: Session, actor: Actor, *, company_id: int, period: str, reason: str) -> ReopenCheck:
    """Reopen a period (``close.reopen_period``) and read what the reopening posted. Posts:
    the period page runs it inside erp.ui.pages.dry_run for the confirmation step."""
    from erp.costing.revaluation import restatements_of
    from erp.posting.models import JournalEntry, JournalLine

    restated = len(restatements_of(session, company_id, Period(period).next()))
    last = session.scalar(select(func.max(JournalEntry.id))) or 0
    close.reopen_period(session, actor, company_id=company_id, period=period, reason=reason)
    rows = session.execute(
        select(JournalLine.account_code, Account.name_zh, Account.name_en, func.sum(JournalLine.amount))
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .join(Account, Account.code == JournalLine.account_code)
        .where(JournalEntry.id > last, JournalEntry.company_id == company_id,
               JournalEntry.created_by == actor.user_id)
        .group_by(JournalLine.account_code, Account.name_zh, Account.name_en)
        .order_by(JournalLine.account_code)
    ).all()
    journal = [{"account_code": code, "account_name_zh": name_zh, "account_name_en": name_en, "amount": Decimal(amount)}
               for code, name_zh, name_en, amount in rows if amount]
    return ReopenCheck(company_id, period, journal, restated)


@dataclass
class PeriodToDate:
    """What an open period holds so far, before it can be closed (or while its close would
    be refused): per material the period's receipts, other inflows and consumption with the
    receipts' variance, from the totals every posting keeps current
    (``period_movement_totals``, never the ledger); the opening carried from the previous
    close where that period is closed, and so the variance rate to date; the number of
    journal entries posted into the period."""

    company_id: int
    period: str
    materials: list[Any] = field(default_factory=list)
    entries: int = 0
    opening_known: bool = False

    def total(self, name: str) -> Decimal:
        return sum((Decimal(getattr(m, name)) for m in self.materials), Decimal("0"))

    @property
    def variance_rate(self) -> Decimal | None:
        """(opening variance + receipts' variance) / (opening + receipts + inflows at
        standard) over the materials that moved, as the close would compute it today."""
        if not self.opening_known:
            return None
        base = self.total("opening_value") + self.total("receipts_value") + self.total("other_inflow_value")
        if base == 0:
            return None
        return (self.total("opening_variance") + self.total("receipts_variance")) / base


def period_to_date(session: Session, actor: Actor, *, company_id: int, period: str) -> PeriodToDate:
    """The ``PeriodToDate`` of a company's open period (readers of costing reports). One
    GROUP BY over the period's totals, the materials' openings looked up along the balance
    key (erp.costing.balances.latest_balances), and a count of the period's entries."""
    from erp.costing.balances import latest_balances
    from erp.posting.models import CloseClass, JournalEntry, PeriodMovementTotal
    from erp.masterdata.models import UnitOfMeasure

    reports._require_scope(session, actor, company_id)
    t = PeriodMovementTotal
    zero = Decimal("0")

    def total(column: Any, close_class: CloseClass) -> Any:
        return func.coalesce(func.sum(case((t.close_class == close_class, column))), zero)

    moved = (
        select(t.material_id,
               total(t.quantity, CloseClass.RECEIPT).label("receipts_quantity"),
               total(t.value, CloseClass.RECEIPT).label("receipts_value"),
               (total(t.variance, CloseClass.RECEIPT) + total(t.variance, CloseClass.REVALUATION))
               .label("receipts_variance"),
               total(t.quantity, CloseClass.INFLOW).label("other_inflow_quantity"),
               total(t.value, CloseClass.INFLOW).label("other_inflow_value"),
               total(-t.quantity, CloseClass.CONSUMPTION).label("consumption_quantity"),
               total(-t.value, CloseClass.CONSUMPTION).label("consumption_value"),
               total(t.value, CloseClass.REVALUATION).label("revalued_value"))
        .where(t.company_id == company_id, t.period == period)
        .group_by(t.material_id)
        .subquery("moved")
    )
    previous = Period(period).previous()
    # The opening is the previous close's: known once the month before is the latest closed.
    latest_closed = session.scalar(select(func.max(AccountingPeriod.period)).where(
        AccountingPeriod.company_id == company_id, AccountingPeriod.status == PeriodStatus.CLOSED))
    opening_known = latest_closed == previous
    latest = latest_balances(session, [company_id], previous)
    opening_value = func.coalesce(latest.c.closing_value, zero) + moved.c.revalued_value
    rows = session.execute(
        select(moved, Material.code.label("material_code"), Material.name_zh.label("material_name_zh"),
               Material.name_en.label("material_name_en"), UnitOfMeasure.code.label("unit"),
               func.coalesce(latest.c.closing_quantity, zero).label("opening_quantity"),
               opening_value.label("opening_value"),
               func.coalesce(latest.c.closing_variance, zero).label("opening_variance"))
        .join(Material, Material.id == moved.c.material_id)
        .join(UnitOfMeasure, UnitOfMeasure.id == Material.unit_id)
        .outerjoin(latest, latest.c.material_id == moved.c.material_id)
        .order_by(Material.code)
    ).all()
    entries = session.scalar(select(func.count()).select_from(JournalEntry).where(
        JournalEntry.company_id == company_id, JournalEntry.period == period)) or 0
    return PeriodToDate(company_id, period, list(rows), entries, bool(opening_known))
