"""Invoices posted before the stock ledger carried their price difference (migration 0040,
30 November 2026): find them, and write the missing value-only ledger rows as a dated
correction in the open period (docs/payables.md, *Invoices entered before 0040*).

Before 0040 an invoice's (or credit memo's) price difference went to 1404 in its journal
entry and nowhere else: the close computes its rates from the stock ledger, so that part of
1404 was never spread and the close's ``variance_remaining`` stays short of 1404 by it. The
journal is right (what the supplier charged is on 1404); only the ledger row the close reads
is missing. So the correction writes no journal entry: one ``price_difference`` document per
invoice, linked by ``supplier_invoice_id``, dated in the open period (never a closed one:
``lock_open_period``), with per material the invoice entry's 1404 amount as ``variance``
(quantity 0, value 0, close class receipt), where the invoice of today would have put it
(the latest receipt of its first line of that material, else that line's warehouse and the
no-batch batch). The next close spreads it like any other receipt variance.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, and_, exists, func, select
from sqlalchemy.orm import Session

from erp.auth.roles import Actor, Role
from erp.costing import accounts
from erp.masterdata.models import Company, Material, Supplier
from erp.payables.models import SupplierInvoice, SupplierInvoiceLine
from erp.payables.services import receipt_place  # where an invoice's own row goes, the same rule
from erp.period import Period
from erp.posting import Document, Movement, Posting, lock_open_period, post
from erp.posting.models import CloseClass, JournalEntry, JournalLine, MovementType, StockDocument
from erp.narration import narrate

READERS = (Role.COST_ACCOUNTANT, Role.CIO, Role.ADMIN)
WRITERS = (Role.COST_ACCOUNTANT,)


@dataclass(frozen=True)
class MissingPriceDifference:
    """One invoice or credit memo whose 1404 amount (signed as in its journal entry: a credit
    memo's negative) has no ledger row, per material."""

    company_id: int
    company_code: str
    period: str  # the invoice's posting period
    invoice_id: int
    document_kind: str
    number: str
    supplier_id: int
    supplier_code: str
    posting_date: dt.date
    material_id: int
    material_code: str
    amount: Decimal
    document_number: str = ""  # ours, AP-…
    supplier_name_zh: str = ""
    supplier_name_en: str = ""
    material_name_zh: str = ""
    material_name_en: str = ""


def invoice_amounts_on(account: str, condition: Any, *, entries: tuple[str, ...] | None = None,
                       company_ids: list[int] | None = None, invoice_ids: list[int] | None = None) -> Select[Any]:
    """The query both repair listings read: per company, invoice (or credit memo) and
    material, the sum of the journal lines on ``account`` of the invoice's own entry
    (``entries`` None) or of its entries whose ``source_type`` is in ``entries`` (source the
    invoice), where ``condition`` holds, non-zero sums only, by company code, posting date,
    invoice and material code. Its rows: company id and code, invoice id, document kind,
    number, supplier id and code, posting date, material id and code, amount, then the names
    a page shows (our document number ``AP-…``, the supplier's and the material's names in
    Chinese and English). ``company_ids``, ``invoice_ids`` None: every one."""
    i, j = SupplierInvoice, JournalLine
    amount = func.sum(j.amount)
    query = select(i.company_id, Company.code, i.id, i.document_kind, i.number, i.supplier_id, Supplier.code,
                   i.posting_date, j.material_id, Material.code, amount, i.document_number, Supplier.name_zh,
                   Supplier.name_en, Material.name_zh, Material.name_en)
    if entries is None:
        query = query.join(j, j.entry_id == i.entry_id)
    else:
        e = JournalEntry
        query = (query.join(e, and_(e.source_id == i.id, e.company_id == i.company_id, e.source_type.in_(entries)))
                 .join(j, and_(j.entry_id == e.id, j.company_id == e.company_id, j.period == e.period)))
    query = (
        query.join(Company, Company.id == i.company_id)
        .join(Supplier, Supplier.id == i.supplier_id)
        .join(Material, Material.id == j.material_id)
        .where(j.account_code == account, condition)
        .group_by(i.company_id, Company.code, i.id, i.document_kind, i.number, i.supplier_id, Supplier.code,
                  i.posting_date, j.material_id, Material.code, i.document_number, Supplier.name_zh,
                  Supplier.name_en, Material.name_zh, Material.name_en)
        .having(amount != 0)
        .order_by(Company.code, i.posting_date, i.id, Material.code)
    )
    if company_ids is not None:
        query = query.where(i.company_id.in_(company_ids))
    if invoice_ids is not None:
        query = query.where(i.id.in_(invoice_ids))
    return query


def missing_price_differences(session: Session, company_ids: list[int] | None = None,
                              invoice_ids: list[int] | None = None) -> list[MissingPriceDifference]:
    """Invoices and credit memos with a 1404 amount in their journal entry and no
    ``price_difference`` document naming them, per company, period, invoice and material
    (in that order). Empty once every invoice's difference is in the ledger."""
    i = SupplierInvoice
    query = invoice_amounts_on(
        accounts.MATERIAL_COST_VARIANCE,
        and_(~exists().where(StockDocument.supplier_invoice_id == i.id),
             # a reversed one: its reversal took the 1404 amount off again, and no close spread it
             i.reversed_at.is_(None)),
        company_ids=company_ids, invoice_ids=invoice_ids)
    return [MissingPriceDifference(company_id, company_code, str(Period.of(posting_date)), invoice_id, kind.value,
                                   number, supplier_id, supplier_code, posting_date, material_id, material_code,
                                   Decimal(total), *names)
            for (company_id, company_code, invoice_id, kind, number, supplier_id, supplier_code, posting_date,
                 material_id, material_code, total, *names) in session.execute(query)]


def list_missing(session: Session, actor: Actor, company_id: int) -> list[MissingPriceDifference]:
    """``missing_price_differences`` of one of the caller's companies. Refuses 403: not a
    reader of costing (cost accountants, CIO, admin), or another company's."""
    actor.require_role(*READERS, action="reading invoice price differences missing from the stock ledger")
    actor.require_company(company_id)
    return missing_price_differences(session, [company_id])


def write_missing_price_differences(session: Session, actor: Actor, company_id: int,
                                    on: dt.date) -> list[tuple[MissingPriceDifference, int]]:
    """Write the missing ledger rows of the company's invoices as corrections dated ``on``
    (one ``price_difference`` document per invoice, no journal entry); returns each missing
    amount with the document written for it.

    Refuses: 403 (cost accountants of the company); 409 ``period-closed`` when ``on`` is in
    a closed period, 422 after the business day: nothing written. The invoices are locked
    first and read again, so two runs at once write each row once."""
    actor.require_role(*WRITERS, action="correcting the stock ledger's invoice price differences")
    actor.require_company(company_id)
    lock_open_period(session, company_id, on)
    candidates = sorted({m.invoice_id for m in missing_price_differences(session, [company_id])})
    if not candidates:
        return []
    session.execute(select(SupplierInvoice.id).where(SupplierInvoice.id.in_(candidates))
                    .order_by(SupplierInvoice.id).with_for_update()).all()
    missing = missing_price_differences(session, [company_id], candidates)  # what is still missing, locked
    written: list[tuple[MissingPriceDifference, int]] = []
    for invoice_id in sorted({m.invoice_id for m in missing}):
        rows = [m for m in missing if m.invoice_id == invoice_id]
        first = rows[0]
        movements = []
        for m in rows:
            po_line_id = session.scalar(
                select(SupplierInvoiceLine.po_line_id).where(SupplierInvoiceLine.invoice_id == invoice_id,
                                                             SupplierInvoiceLine.material_id == m.material_id)
                .order_by(SupplierInvoiceLine.line_no).limit(1))
            assert po_line_id is not None  # its journal line came from one of its lines
            warehouse_id, batch_id, status = receipt_place(session, company_id, po_line_id, m.material_id,
                                                            m.supplier_id)
            movements.append(Movement(MovementType.PRICE_DIFFERENCE, CloseClass.RECEIPT, warehouse_id, m.material_id,
                                      batch_id, status, Decimal(0), Decimal(0), m.amount))
        # A system's words, stored as a narration so that each reader reads them in their language.
        reason = narrate("price-difference-correction", number=first.number, day=first.posting_date)
        posted = post(session, Posting(
            company_id=company_id, posting_date=on, user_id=actor.user_id,
            document=Document(MovementType.PRICE_DIFFERENCE, supplier_id=first.supplier_id,
                              reference=first.number[:64], supplier_invoice_id=invoice_id, reason=reason),
            movements=movements, memo=reason,
        ))
        assert posted.document_id is not None
        written += [(m, posted.document_id) for m in rows]
    return written
