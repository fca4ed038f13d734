"""Invoice price differences left on work in process by the rule before 1 December 2026:
find them, and move them to 6405.02 input price variance as a dated correction in the open
period (docs/payables.md, *Price differences left on work in process*).

Before commits fc124f3/e254d18 (1 December 2026) ``price_difference_lines`` booked the share
of an invoice's (or credit memo's) price difference on goods that production orders had
consumed in an already-closed period to 5001.01 work in process, the consumption movements'
own offset account. No order's settlement takes such an amount off (an order is settled
from its own issues, deliveries and the closes' allocations to its issues), so 5001.01 kept
it after every order was settled. The rule today books that share on 6405.02, on the
material, and never puts an invoice's difference on 5001.01.

What the faulty rule left, per invoice or credit memo and material (``orphans``): the
5001.01 lines of the invoice's own journal entry (``source_type`` ``supplier_invoice``,
``source_id`` the invoice), for a material production orders consumed in a period before the
invoice's that is closed (the only way that rule reached 5001.01), net of what the entries
about the same invoice since took off 5001.01 for the material: its reversal (the mirror of
its entry), the corrections below and their reversals. Nothing else is read: 5001.01 lines
of other entries (issues, deliveries, the closes' allocations to orders' issues, the
settlements) are the orders' own and never listed, and an invoice posted by today's rule has
no 5001.01 line at all. A reversed invoice whose reversal mirrored the faulty line nets to
0.00 and is not listed; reversing an invoice after its correction reverses the correction in
the same transaction (``services.reverse_invoice``), so both net to 0.00.

The correction (``correct_orphans``): one journal entry per invoice, ``source_type``
``invoice_wip_correction``, ``source_id`` the invoice, dated by the accountant in an open
period, with per material Dr 6405.02 / Cr 5001.01 the amount left (a credit memo's, negative,
mirrored: Dr 5001.01 / Cr 6405.02). The original entries are never touched; a correction is
undone only by its reversal (``reverse_correction``), after which the amount is listed again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import String, and_, cast, exists, func, select
from sqlalchemy.orm import Session, aliased

from erp.audit import services as audit
from erp.auth.roles import Actor, Role
from erp.clock import refuse_after_business_day
from erp.costing import accounts
from erp.errors import Conflict, NotFound, ValidationFailed
from erp.masterdata.models import Supplier
from erp.messages import N_, Message, Named
from erp.narration import narrate
from erp.payables.models import SupplierInvoice, SupplierInvoiceLine
from erp.payables.price_differences import invoice_amounts_on
from erp.clock import refuse_before_source
from erp.payables.services import (
    SOURCE_INVOICE,
    SOURCE_REVERSAL,
    SOURCE_WIP_CORRECTION as SOURCE_CORRECTION,
    SOURCE_WIP_CORRECTION_REVERSAL as SOURCE_CORRECTION_REVERSAL,
)
from erp.period import Period
from erp.posting import Line, Posting, lock_open_period, negated_lines, post
from erp.posting.models import (
    AccountingPeriod,
    CloseClass,
    JournalEntry,
    JournalLine,
    PeriodStatus,
    StockDocument,
    StockMovement,
)

# Every entry about an invoice that may carry 5001.01 for it: the amount left is their sum.
_ABOUT_THE_INVOICE = (SOURCE_INVOICE, SOURCE_REVERSAL, SOURCE_CORRECTION, SOURCE_CORRECTION_REVERSAL)

READERS = (Role.COST_ACCOUNTANT, Role.CIO, Role.ADMIN)
WRITERS = (Role.COST_ACCOUNTANT,)
ZERO = Decimal(0)


class CorrectionReversed(Conflict):
    """A correction of an invoice's price difference left on work in process is reversed at
    most once: its reversal already took it off."""

    slug = "correction-reversed"
    title = N_("The correction is already reversed")
    remedy = N_("List what is left on work in process again: the amount is there to be corrected anew.")


@dataclass(frozen=True)
class Orphan:
    """What an invoice's (or credit memo's) price difference left on 5001.01 for one material,
    signed as on 5001.01 (an invoice's debit positive, a credit memo's credit negative), with
    the production orders that consumed the material in closed periods before the invoice
    (``MO-…`` numbers) and the invoice's line numbers of the material."""

    company_id: int
    company_code: str
    invoice_id: int
    document_kind: str
    number: str
    supplier_id: int
    supplier_code: str
    posting_date: dt.date
    material_id: int
    material_code: str
    invoice_lines: tuple[int, ...]
    orders: tuple[str, ...]
    amount: Decimal
    document_number: str = ""  # ours, AP-…
    supplier_name_zh: str = ""
    supplier_name_en: str = ""
    material_name_zh: str = ""
    material_name_en: str = ""


@dataclass(frozen=True)
class Correction:
    """A correction posted (or, in a dry run, that would be posted): its entry (None in a dry
    run), date and the orphans it clears."""

    company_id: int
    invoice_id: int
    number: str
    posting_date: dt.date
    entry_id: int | None
    orphans: tuple[Orphan, ...]

    @property
    def amount(self) -> Decimal:
        return sum((o.amount for o in self.orphans), ZERO)


def _orders(company_id: Any, material_id: Any, before: Any) -> Any:
    """The production orders that consumed the material in the company's closed periods
    before ``before`` (columns of the enclosing query): their issues (offset 5001.01, which
    only production orders' issues have), net of the issues' reversals, by the order number
    the issue document carries (``MO-…``; payables does not import production, a sibling
    module), as one text, the numbers separated by ``|`` in no particular order."""
    m, d = StockMovement, StockDocument
    issued = aliased(StockDocument)  # a reversal's original issue, which names the order
    order = func.coalesce(issued.reference, d.reference).label("number")
    closed = select(AccountingPeriod.period).where(AccountingPeriod.company_id == company_id,
                                                   AccountingPeriod.status == PeriodStatus.CLOSED
                                                   ).correlate(SupplierInvoice)
    consumed = (select(order).select_from(m).join(d, d.id == m.document_id)
                .outerjoin(issued, issued.id == d.reverses_document_id)
                .where(m.company_id == company_id, m.material_id == material_id,
                       m.close_class == CloseClass.CONSUMPTION, m.offset_account == accounts.WORK_IN_PROCESS,
                       m.period < before, m.period.in_(closed))
                .group_by(order).having(func.sum(m.quantity) < 0)
                .correlate(SupplierInvoice, JournalLine, JournalEntry).subquery())
    return select(func.aggregate_strings(consumed.c.number, "|")).scalar_subquery()


def _split(text: str | None) -> list[str]:
    return text.split("|") if text else []


def orphans(session: Session, company_ids: list[int] | None = None,
            invoice_ids: list[int] | None = None) -> list[Orphan]:
    """What invoices' price differences left on 5001.01 under the rule before 1 December 2026,
    per company, invoice and material (in that order; the module docstring says which lines
    count). Empty once every amount is corrected. ``company_ids`` None: every company.
    One query: each row's orders and invoice lines are read by subqueries of it."""
    i, j = SupplierInvoice, JournalLine
    own = aliased(JournalLine)
    posted = aliased(JournalEntry)  # the invoice's own entry: its period is the invoice's
    # The invoice's own entry put a price difference on 5001.01 for the material (ix_journal_lines_entry).
    faulty = exists().where(own.entry_id == i.entry_id, own.company_id == i.company_id,
                            own.account_code == accounts.WORK_IN_PROCESS, own.material_id == j.material_id)
    invoice_period = select(posted.period).where(posted.id == i.entry_id).correlate(i).scalar_subquery()
    lines = (select(func.aggregate_strings(cast(SupplierInvoiceLine.line_no, String), "|"))
             .where(SupplierInvoiceLine.invoice_id == i.id, SupplierInvoiceLine.material_id == j.material_id)
             .scalar_subquery())
    query = invoice_amounts_on(accounts.WORK_IN_PROCESS, and_(i.entry_id.is_not(None), faulty),
                               entries=_ABOUT_THE_INVOICE, company_ids=company_ids, invoice_ids=invoice_ids)
    query = query.add_columns(lines, _orders(i.company_id, j.material_id, invoice_period))
    found: list[Orphan] = []
    for (company_id, company_code, invoice_id, kind, number, supplier_id, supplier_code, posting_date, material_id,
         material_code, total, document_number, supplier_zh, supplier_en, material_zh, material_en, line_nos,
         order_numbers) in session.execute(query):
        orders = tuple(sorted(_split(order_numbers)))
        if not orders:
            continue  # not what the faulty rule posted: it reached 5001.01 only through orders' consumption
        found.append(Orphan(company_id, company_code, invoice_id, kind.value, number, supplier_id, supplier_code,
                            posting_date, material_id, material_code, tuple(sorted(map(int, _split(line_nos)))),
                            orders, Decimal(total), document_number, supplier_zh, supplier_en, material_zh,
                            material_en))
    return found


def list_orphans(session: Session, actor: Actor, company_id: int | None = None) -> list[Orphan]:
    """``orphans`` of the caller's companies (``company_id``: that one only). Refuses 403:
    not a reader of costing (cost accountants, CIO, admin), or another company's."""
    actor.require_role(*READERS, action="reading invoice price differences left on work in process")
    if company_id is not None:
        actor.require_company(company_id)
        return orphans(session, [company_id])
    return orphans(session, None if actor.group_wide else sorted(actor.company_ids))


def _refuse_closed_or_later(session: Session, company_id: int, on: dt.date) -> None:
    """422 at ``/posting_date`` when ``on`` is after the business day or in a closed period of
    the company (a closed period's books are corrected in an open one)."""
    refuse_after_business_day(on, field="posting_date", what=N_("a correction"))
    closed = session.scalar(select(func.max(AccountingPeriod.period)).where(
        AccountingPeriod.company_id == company_id, AccountingPeriod.status == PeriodStatus.CLOSED))
    if closed is not None and str(Period.of(on)) <= str(closed):
        raise ValidationFailed.for_field("posting_date", Message(
            "the books are closed up to {closed}: a correction is dated in an open period, not {day}",
            closed=str(closed), day=on))


def correct_orphans(session: Session, actor: Actor, company_id: int, on: dt.date, *,
                    dry_run: bool = False) -> list[Correction]:
    """Move what invoices' price differences left on 5001.01 (``orphans``) to 6405.02 input
    price variance, dated ``on``: one journal entry per invoice (``invoice_wip_correction``,
    its source the invoice), per material Dr 6405.02 / Cr 5001.01 the amount left (CNY,
    signed; a credit memo's mirrored), narrated ``wip-price-difference-correction``, audited
    on the invoice (``wip-price-difference-corrected``). ``dry_run``: what would be posted,
    posting nothing (entry_id None). Returns the corrections in invoice order.

    Refuses: 403 (cost accountants of the company); 422 ``on`` after the business day or in a
    closed period (at ``/posting_date``), ``dated-before-source`` before an invoice it
    corrects (or the latest entry about it), nothing written; 409 ``period-closed`` if the period
    is closed while this runs. Concurrency: the invoices are locked (``FOR UPDATE``, the lock
    a reversal and payments take) in id order and what is left read again once they are held,
    so of two runs at once the second finds nothing left and posts nothing."""
    actor.require_role(*WRITERS, action="correcting invoice price differences left on work in process")
    actor.require_company(company_id)
    _refuse_closed_or_later(session, company_id, on)
    if dry_run:
        found = orphans(session, [company_id])
    else:
        lock_open_period(session, company_id, on)
        candidates = sorted({o.invoice_id for o in orphans(session, [company_id])})
        if not candidates:
            return []
        session.execute(select(SupplierInvoice.id).where(SupplierInvoice.id.in_(candidates))
                        .order_by(SupplierInvoice.id).with_for_update()).all()
        found = orphans(session, [company_id], candidates)  # what is still left, the invoices held
    for o in found:  # not before what it corrects (the invoice, its latest correction's reversal)
        latest = session.scalar(select(func.max(JournalEntry.entry_date)).where(
            JournalEntry.source_id == o.invoice_id, JournalEntry.company_id == company_id,
            JournalEntry.source_type.in_(_ABOUT_THE_INVOICE)))
        refuse_before_source(on, latest or o.posting_date, field="posting_date", what=N_("a correction"),
                             source=N_("invoice"), source_name=o.number)
    corrections: list[Correction] = []
    for invoice_id in sorted({o.invoice_id for o in found}):
        rows = tuple(o for o in found if o.invoice_id == invoice_id)
        first = rows[0]
        if dry_run:
            corrections.append(Correction(company_id, invoice_id, first.number, on, None, rows))
            continue
        supplier = session.get(Supplier, first.supplier_id)
        assert supplier is not None
        memo = narrate("wip-price-difference-correction", supplier=Named.of(supplier), number=first.number,
                       day=first.posting_date)
        journal: list[Line] = []
        for o in rows:
            journal += [Line(accounts.INPUT_PRICE_VARIANCE, o.amount, o.material_id),
                        Line(accounts.WORK_IN_PROCESS, -o.amount, o.material_id)]
        entry_id = post(session, Posting(company_id=company_id, posting_date=on, user_id=actor.user_id,
                                         source_type=SOURCE_CORRECTION, source_id=invoice_id, memo=memo,
                                         journal=journal)).entry_id
        assert entry_id is not None  # every orphan is non-zero
        audit.record_change(session, actor, entity="supplier_invoice", entity_id=invoice_id,
                            action="wip-price-difference-corrected", before=None,
                            after={"entry_id": entry_id, "posting_date": on.isoformat(),
                                   "lines": [{"material": o.material_code, "amount": str(o.amount),
                                              "orders": list(o.orders)} for o in rows]},
                            reason=f"{accounts.WORK_IN_PROCESS} -> {accounts.INPUT_PRICE_VARIANCE}",
                            company_id=company_id)
        corrections.append(Correction(company_id, invoice_id, first.number, on, entry_id, rows))
    return corrections


def reverse_correction(session: Session, actor: Actor, entry_id: int, on: dt.date, *, reason: str) -> int:
    """Reverse a correction entry dated ``on`` (its lines negated, ``reverses_entry_id`` it,
    ``invoice_wip_correction_reversal``): the amount is back on 5001.01 and listed again.
    Returns the reversal's entry id; audited on the invoice (``wip-price-difference-correction-reversed``).

    Refuses: 403; 404 (no correction entry of the caller's companies); 409
    ``correction-reversed`` (already); 422 no reason, ``on`` before the correction, after the
    business day or in a closed period. The invoice is locked first, as the correction locks it."""
    actor.require_role(*WRITERS, action="reversing corrections of invoice price differences")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed.for_field("reason", Message("a reversal needs a reason"))
    entry = session.get(JournalEntry, entry_id)
    if entry is None or entry.source_type != SOURCE_CORRECTION or not actor.acts_for_company(entry.company_id):
        raise NotFound(Message("correction {key} not found", key=entry_id))
    _refuse_closed_or_later(session, entry.company_id, on)
    if on < entry.entry_date:
        raise ValidationFailed.for_field("posting_date", Message(
            "the correction was posted on {posted}; its reversal cannot be dated {day}", posted=entry.entry_date,
            day=on))
    lock_open_period(session, entry.company_id, on)
    invoice = session.get(SupplierInvoice, entry.source_id, with_for_update=True, populate_existing=True)
    assert invoice is not None
    if session.scalar(select(JournalEntry.id).where(JournalEntry.reverses_entry_id == entry_id)) is not None:
        raise CorrectionReversed(Message("correction {key} of {number} is already reversed", key=entry_id,
                                         number=invoice.number))
    supplier = session.get(Supplier, invoice.supplier_id)
    assert supplier is not None
    memo = narrate("wip-price-difference-correction-reversal", supplier=Named.of(supplier), number=invoice.number,
                   reason=reason)
    reversal = post(session, Posting(company_id=entry.company_id, posting_date=on, user_id=actor.user_id,
                                     source_type=SOURCE_CORRECTION_REVERSAL, source_id=invoice.id,
                                     reverses_entry_id=entry_id, memo=memo,
                                     journal=negated_lines(session, entry_id))).entry_id
    assert reversal is not None
    audit.record_change(session, actor, entity="supplier_invoice", entity_id=invoice.id,
                        action="wip-price-difference-correction-reversed", before={"entry_id": entry_id},
                        after={"reversal_entry_id": reversal, "posting_date": on.isoformat()}, reason=reason,
                        company_id=invoice.company_id)
    return reversal


@dataclass(frozen=True)
class PostedCorrection:
    """A correction entry of the company (posted by ``correct_orphans``): its date, the
    invoice it corrects (our ``AP-…`` number, the supplier's number, the supplier's names), the
    amount moved from 5001.01 to 6405.02 (signed: a credit memo's negative) and, when it is
    reversed, the reversal's entry and date."""

    entry_id: int
    company_id: int
    posting_date: dt.date
    invoice_id: int
    document_number: str
    number: str
    supplier_code: str
    supplier_name_zh: str
    supplier_name_en: str
    amount: Decimal
    reversal_entry_id: int | None
    reversal_date: dt.date | None

    @property
    def reversed(self) -> bool:
        return self.reversal_entry_id is not None


def list_corrections(session: Session, actor: Actor, company_id: int) -> list[PostedCorrection]:
    """The corrections posted in the company, newest first, with their reversals, in one
    query. Refuses 403: not a reader (cost accountants, CIO, admin), or another company's."""
    actor.require_role(*READERS, action="reading invoice price differences left on work in process")
    actor.require_company(company_id)
    e, i = JournalEntry, SupplierInvoice
    reversal = aliased(JournalEntry)
    moved = (select(func.coalesce(func.sum(JournalLine.amount), ZERO))
             .where(JournalLine.entry_id == e.id, JournalLine.company_id == e.company_id,
                    JournalLine.period == e.period, JournalLine.account_code == accounts.INPUT_PRICE_VARIANCE)
             .correlate(e).scalar_subquery())
    rows = session.execute(
        select(e.id, e.company_id, e.entry_date, i.id, i.document_number, i.number, Supplier.code,
               Supplier.name_zh, Supplier.name_en, moved, reversal.id, reversal.entry_date)
        .join(i, i.id == e.source_id)
        .join(Supplier, Supplier.id == i.supplier_id)
        .outerjoin(reversal, and_(reversal.reverses_entry_id == e.id,
                                  reversal.source_type == SOURCE_CORRECTION_REVERSAL))
        .where(e.company_id == company_id, e.source_type == SOURCE_CORRECTION)
        .order_by(e.entry_date.desc(), e.id.desc()))
    return [PostedCorrection(*row[:9], Decimal(row[9]), row[10], row[11]) for row in rows]
