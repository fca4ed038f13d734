"""Intercompany trade in the group's figures: goods in transit between companies, the
unrealised profit in stock the buying company still holds, and the group trial balance
with its eliminations.

A company sells to another company of the group through the customer record that stands
for the buyer (``companies.customer_id``); each line of such a sales order fills a purchase
order line of the buyer placed with the seller's supplier record (``companies.supplier_id``)
at the intercompany contract price. The seller's shipment and the buyer's receipts on
that purchase order line are the two halves of one movement of goods; what the seller
shipped and the buyer has not received is in transit.

The companies' own books keep every intercompany posting. The group's figures eliminate
them (docs/intercompany.md), as consolidation under CAS 33 (企业会计准则第33号——合并财务报表)
requires:

    revenue (6001)            + intercompany revenue R (the seller's, net of credit notes)
    cost of goods sold (6401) - the seller's cost of the goods it shipped to the group
    the buyer's consumption   - the seller's margin on what the buyer consumed, on the
      accounts that bore it     account that bore it (5001 production, 6401, 6711 scrap ...);
                                all of the cost side together is R - U
    unrealised profit in stock - U   (the seller's margin on goods still in the group:
                                      held by the buyer at the key date, or in transit)
    receivables (1122, 2203)  - the seller's balances with group customers
    GR/IR (2202.01) and       - the buyer's balances with group suppliers, whatever posted
      payables (2202)           them: receipts and returns, the suppliers' invoices and credit
                                memos, payments, reversals (VAT is not eliminated: it is
                                owed to or by the tax authority, not the other company)
    goods in transit and unmatched intercompany balances: the difference of the two

The elimination lines add up to zero by construction, so the consolidated trial balance
balances whenever the companies' does. U is the seller's margin per unit (the order's
price less the value at standard its shipments took out per unit) times the quantity
still in the group: shipped less received (in transit) plus the line's share of what the
buyer still holds of the batches it received on it. A batch the buyer received on several
lines is one stock: its holding and its consumption are shared out among those lines first
in, first out (per buyer company and batch), so that together they never hold more than
the buyer holds and a consumption realises margin once (trial finding 143).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from erp.messages import Message
from erp.auth.roles import Actor, Role
from erp.costing import accounts
from erp.costing.models import Account, JournalEntry, JournalLine
from erp.costing.reports import trial_balance
from erp.credit.models import CreditNote, CreditNoteLine, Invoice, InvoiceLine, SalesOrder, SalesOrderLine
from erp.auth.errors import CompanyOutOfScope
from erp.credit.intercompany import PartnerLineFlows, group_customer_ids, group_supplier_ids
from erp.masterdata.models import Company, Material
from erp.money import round_money
from erp.payables.services import supplier_entries
from erp.posting import STOCK_DOCUMENT
from erp.posting.models import CloseClass, MovementType, StockDocument, StockMovement
from erp.period import Period

ZERO = Decimal("0")
CENT = Decimal("0.01")
QUANTITY_PLACES = Decimal("0.0001")  # stock quantities are stored to 4 places
READERS = (Role.COST_ACCOUNTANT, Role.CIO, Role.CREDIT_CONTROLLER, Role.ADMIN)
# Lines of the elimination column that are not accounts of the chart.
UNREALISED_PROFIT = "IC-UNREALISED"
IN_TRANSIT = "IC-TRANSIT"
SYNTHETIC_LINES = {
    UNREALISED_PROFIT: ("未实现内部销售利润（存货抵减）", "Unrealised intercompany profit in stock", "asset"),
    IN_TRANSIT: ("内部在途及未达往来", "Intercompany goods in transit and unmatched balances", "asset"),
}
# The buyers' accounts that hold what they owe suppliers: GR/IR until the invoice, then payables.
PAYABLES_ACCOUNTS = (accounts.GOODS_RECEIVED_NOT_INVOICED, accounts.PAYABLES)
RECEIPT_TYPES = (MovementType.RECEIPT, MovementType.RECEIPT_REVERSAL, MovementType.RETURN_TO_SUPPLIER)


def _require_group_reader(actor: Actor) -> None:
    actor.require_role(*READERS, action="reading the group's intercompany figures")
    if not actor.group_wide:
        raise CompanyOutOfScope(Message("the group's intercompany figures need a group-wide role"))


@dataclass
class TradeLine:
    """One intercompany order line on a key date: what the seller shipped, what the buyer
    received, what is in transit and what the buyer still holds, and the seller's margin."""

    order_line_id: int
    order_id: int
    order_number: str
    seller_id: int
    seller_code: str
    buyer_id: int
    buyer_code: str
    po_line_id: int
    material_id: int
    material_code: str
    unit_price: Decimal
    shipped_quantity: Decimal = ZERO  # net of what the seller took back (customer returns)
    shipped_cost: Decimal = ZERO  # the seller's value at standard of what left
    received_quantity: Decimal = ZERO  # net of the receipts' reversals and the buyer's returns
    held_quantity: Decimal = ZERO
    seller_returned_quantity: Decimal = ZERO  # taken back by the seller (customer returns)
    buyer_returned_quantity: Decimal = ZERO  # sent back by the buyer (returns to the supplier)
    # what the buyer consumed of it, by the account that bore the consumption
    consumed: dict[str, Decimal] = field(default_factory=dict)

    @property
    def in_transit_quantity(self) -> Decimal:
        """On its way to the buyer: shipped and not received. Goods the buyer returned are not
        (trial finding 125): they are ``returning_quantity`` until the seller takes them back,
        and then gone from both sides; goods the seller took back that the buyer never
        received (refused on delivery) are no longer on their way either."""
        flows = PartnerLineFlows(shipped=self.shipped_quantity + self.seller_returned_quantity,
                                 seller_returned=self.seller_returned_quantity,
                                 received=self.received_quantity + self.buyer_returned_quantity,
                                 buyer_returned=self.buyer_returned_quantity)
        return flows.to_buyer

    @property
    def returning_quantity(self) -> Decimal:
        """Returned by the buyer and not yet taken back by the seller: on its way back, still
        in the group."""
        return max(self.buyer_returned_quantity - self.seller_returned_quantity, ZERO)

    @property
    def in_transit_value(self) -> Decimal:
        return round_money(self.in_transit_quantity * self.unit_price)

    @property
    def unit_cost(self) -> Decimal | None:
        return self.shipped_cost / self.shipped_quantity if self.shipped_quantity else None

    @property
    def unit_margin(self) -> Decimal:
        return self.unit_price - self.unit_cost if self.unit_cost is not None else ZERO

    @property
    def unrealised_profit(self) -> Decimal:
        """The seller's margin on what is still in the group: in transit or held by the buyer."""
        return round_money((self.in_transit_quantity + self.returning_quantity + self.held_quantity)
                           * self.unit_margin)

    def realised_margin(self) -> dict[str, Decimal]:
        """The seller's margin on what the buyer consumed, by the account that bore it."""
        return {account: round_money(quantity * self.unit_margin) for account, quantity in self.consumed.items()}


def trade_lines(session: Session, actor: Actor, *, as_of: dt.date) -> list[TradeLine]:
    """Every intercompany order line with movement by ``as_of``: shipped, received, in
    transit, held by the buyer (its share of each batch, first in, first out), what the buyer
    consumed of it and the unrealised profit. Five queries, whatever the number of lines."""
    _require_group_reader(actor)
    seller, buyer = Company.__table__.alias("seller"), Company.__table__.alias("buyer")
    lines = {row.order_line_id: TradeLine(**row._mapping) for row in session.execute(
        select(SalesOrderLine.id.label("order_line_id"), SalesOrder.id.label("order_id"),
               SalesOrder.number.label("order_number"), SalesOrder.company_id.label("seller_id"), seller.c.code.label("seller_code"),
               SalesOrder.partner_company_id.label("buyer_id"), buyer.c.code.label("buyer_code"),
               SalesOrderLine.partner_po_line_id.label("po_line_id"), SalesOrderLine.material_id,
               Material.code.label("material_code"), SalesOrderLine.unit_price)
        .join(SalesOrder, SalesOrder.id == SalesOrderLine.order_id)
        .join(seller, seller.c.id == SalesOrder.company_id)
        .join(buyer, buyer.c.id == SalesOrder.partner_company_id)
        .join(Material, Material.id == SalesOrderLine.material_id)
        .where(SalesOrderLine.partner_po_line_id.is_not(None), SalesOrderLine.shipped_quantity > 0)
        .order_by(SalesOrderLine.id)
    )}
    if not lines:
        return []
    # shipped by the key date, at the seller's standard value (shipment movements are negative)
    for order_line_id, quantity, value in session.execute(
        select(InvoiceLine.order_line_id, func.sum(-StockMovement.quantity), func.sum(-StockMovement.value))
        .join(StockMovement, StockMovement.document_id == InvoiceLine.stock_document_id)
        .where(InvoiceLine.order_line_id.in_(sorted(lines)), StockMovement.posting_date <= as_of,
               StockMovement.movement_type == MovementType.SHIPMENT)
        .group_by(InvoiceLine.order_line_id)
    ):
        lines[order_line_id].shipped_quantity = Decimal(quantity)
        lines[order_line_id].shipped_cost = Decimal(value)
    # returned to the seller by the key date (customer returns against those shipments)
    for order_line_id, quantity, value in session.execute(
        select(InvoiceLine.order_line_id, func.sum(StockMovement.quantity), func.sum(StockMovement.value))
        .join(CreditNoteLine, CreditNoteLine.invoice_line_id == InvoiceLine.id)
        .join(StockMovement, and_(StockMovement.document_id == CreditNoteLine.stock_document_id,
                                  StockMovement.movement_type == MovementType.SHIPMENT_REVERSAL))
        .where(InvoiceLine.order_line_id.in_(sorted(lines)), StockMovement.posting_date <= as_of)
        .group_by(InvoiceLine.order_line_id)
    ):
        lines[order_line_id].shipped_quantity -= Decimal(quantity)
        lines[order_line_id].shipped_cost -= Decimal(value)
        lines[order_line_id].seller_returned_quantity = Decimal(quantity)
    by_po_line = {line.po_line_id: line for line in lines.values()}
    # returned by the buyer to the seller by the key date (returns to the supplier on the line)
    for po_line_id, quantity in session.execute(
        select(StockDocument.po_line_id, func.sum(-StockMovement.quantity))
        .join(StockDocument, StockDocument.id == StockMovement.document_id)
        .where(StockDocument.po_line_id.in_(sorted(by_po_line)),
               StockDocument.doc_type == MovementType.RETURN_TO_SUPPLIER, StockMovement.posting_date <= as_of)
        .group_by(StockDocument.po_line_id)
    ):
        by_po_line[po_line_id].buyer_returned_quantity = _quantity(quantity)
    # what the buyer received on each line, per batch: receipts less reversals and returns
    received = (select(StockDocument.po_line_id, StockMovement.batch_id, StockMovement.company_id,
                       func.sum(StockMovement.quantity).label("quantity"),
                       func.min(StockMovement.posting_date).label("first_received"))
                .join(StockDocument, StockDocument.id == StockMovement.document_id)
                .where(StockDocument.po_line_id.in_(sorted(by_po_line)), StockDocument.doc_type.in_(RECEIPT_TYPES),
                       StockMovement.posting_date <= as_of)
                .group_by(StockDocument.po_line_id, StockMovement.batch_id, StockMovement.company_id)
                .subquery("received"))
    # A batch the buyer received on several lines (a production batch sold on several orders)
    # is one stock in its company: what it still holds of it and what it consumed are shared
    # out among those lines first in, first out. In receipt order (first receipt date, then
    # purchase order line) each line takes the range [start, end) of the batch's intercompany
    # receipts; what left the batch goes out of the earliest ranges first.
    net = case((received.c.quantity > 0, received.c.quantity), else_=0)
    batch_key = (received.c.company_id, received.c.batch_id)
    fifo = func.sum(net).over(partition_by=batch_key, order_by=(received.c.first_received, received.c.po_line_id),
                              rows=(None, 0))
    ranges = select(received.c.po_line_id, received.c.company_id, received.c.batch_id,
                    received.c.quantity, (fifo - net).label("start"), fifo.label("end"),
                    func.sum(net).over(partition_by=batch_key).label("total")).subquery("ranges")
    # what the buyer holds of each received batch on the key date, anywhere in its company
    held = (select(StockMovement.company_id, StockMovement.batch_id, func.sum(StockMovement.quantity).label("quantity"))
            .where(StockMovement.posting_date <= as_of,
                   StockMovement.batch_id.in_(select(received.c.batch_id)))
            .group_by(StockMovement.company_id, StockMovement.batch_id).subquery("held"))
    # The buyer's holding is taken as intercompany goods first, up to what it received from the
    # group (never below nothing): the rest of the receipts is gone, and a line's part of it
    # ends at ``gone_end`` (start <= gone_end <= end); the line still holds end - gone_end.
    gone = ranges.c.total - _clip(func.coalesce(held.c.quantity, 0), 0, ranges.c.total)
    allocation = (select(ranges.c.po_line_id, ranges.c.company_id, ranges.c.batch_id, ranges.c.quantity,
                         ranges.c.start, ranges.c.end, _clip(gone, ranges.c.start, ranges.c.end).label("gone_end"))
                  .outerjoin(held, and_(held.c.company_id == ranges.c.company_id,
                                        held.c.batch_id == ranges.c.batch_id))
                  .subquery("allocation"))
    # The buyer's consumption of the batch (issues, its own sales, scrap), in date order, runs
    # through the gone parts of the lines' ranges: each movement's cumulative range
    # [after - quantity, after) is attributed to the line whose gone part it overlaps (signed,
    # so a reversal gives back what its issue took), once for the batch, whatever the number of
    # lines; consumption beyond the gone parts is of goods from outside the group.
    outflow = -StockMovement.quantity
    consumption = (select(StockMovement.company_id, StockMovement.batch_id, StockMovement.offset_account,
                          outflow.label("quantity"),
                          func.sum(outflow).over(partition_by=(StockMovement.company_id, StockMovement.batch_id),
                                                 order_by=(StockMovement.posting_date, StockMovement.id),
                                                 rows=(None, 0)).label("after"))
                   .where(StockMovement.close_class == CloseClass.CONSUMPTION, StockMovement.posting_date <= as_of,
                          StockMovement.offset_account.is_not(None),
                          StockMovement.batch_id.in_(select(received.c.batch_id)))
                   .subquery("consumption"))
    attributed = (_clip(consumption.c.after, allocation.c.start, allocation.c.gone_end)
                  - _clip(consumption.c.after - consumption.c.quantity, allocation.c.start, allocation.c.gone_end))
    for po_line_id, account, quantity in session.execute(
        select(allocation.c.po_line_id, consumption.c.offset_account, func.sum(attributed))
        .join(consumption, and_(consumption.c.company_id == allocation.c.company_id,
                                consumption.c.batch_id == allocation.c.batch_id))
        .group_by(allocation.c.po_line_id, consumption.c.offset_account)
    ):
        if quantity and _quantity(quantity):
            by_po_line[po_line_id].consumed[account] = _quantity(quantity)
    for po_line_id, received_quantity, held_quantity in session.execute(
        select(allocation.c.po_line_id, func.sum(allocation.c.quantity),
               func.sum(allocation.c.end - allocation.c.gone_end))
        .group_by(allocation.c.po_line_id)
    ):
        line = by_po_line[po_line_id]
        line.received_quantity = _quantity(received_quantity)
        line.held_quantity = _quantity(held_quantity)
    return [line for line in lines.values()
            if line.shipped_quantity or line.received_quantity or line.returning_quantity]


def _clip(value: Any, low: Any, high: Any) -> Any:
    """``value`` held within [low, high] (low <= high), as SQL."""
    return case((value < low, low), (value > high, high), else_=value)


def _quantity(value: Any) -> Decimal:
    """A summed quantity as stored (4 places): SQLite sums in binary floats."""
    return Decimal(str(value or 0)).quantize(QUANTITY_PLACES)


@dataclass
class ConsolidatedTrialBalance:
    period: str
    as_of: dt.date
    lines: list[dict[str, Any]] = field(default_factory=list)
    totals: dict[str, Decimal] = field(default_factory=dict)
    intercompany_revenue: Decimal = ZERO
    intercompany_receivables: Decimal = ZERO
    intercompany_payables: Decimal = ZERO
    unrealised_profit: Decimal = ZERO
    in_transit: Decimal = ZERO
    trade: list[TradeLine] = field(default_factory=list)

    @property
    def balanced(self) -> bool:
        t = self.totals
        return t["debit"] == t["credit"] and t["consolidated_debit"] == t["consolidated_credit"]


def _sum(session: Session, query: Any) -> Decimal:
    return Decimal(session.scalar(query) or 0).quantize(CENT)


def consolidated_trial_balance(session: Session, actor: Actor, *, period: str) -> ConsolidatedTrialBalance:
    """The group trial balance at the end of ``period`` (``YYYY-MM``): per account the
    companies' own balances summed, the eliminations, and the consolidated balance; the
    companies' own books are not touched. Group-wide readers only."""
    _require_group_reader(actor)
    as_of = Period(period).last_day
    companies = trial_balance(session, actor, company_id=None, period=period)
    in_period = JournalLine.period <= period
    group_customer = JournalLine.customer_id.in_(group_customer_ids())
    revenue = _sum(session, select(func.sum(JournalLine.amount))
                   .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
                   .outerjoin(Invoice, and_(JournalEntry.source_type == "invoice", Invoice.id == JournalEntry.source_id))
                   .outerjoin(CreditNote, and_(JournalEntry.source_type == "credit_note",
                                               CreditNote.id == JournalEntry.source_id))
                   .where(in_period, JournalLine.account_code == accounts.REVENUE,
                          or_(Invoice.customer_id.in_(group_customer_ids()),
                              CreditNote.customer_id.in_(group_customer_ids()))))
    receivables = {code: _sum(session, select(func.sum(JournalLine.amount))
                              .where(in_period, group_customer, JournalLine.account_code == code))
                   for code in (accounts.RECEIVABLES, accounts.CUSTOMER_ADVANCES)}
    # The buyers' balances with group suppliers, whatever document posted them: receipts and
    # returns (stock documents), the suppliers' invoices and credit memos, payments, and their
    # reversals: on GR/IR until the invoice clears it, then on accounts payable until paid.
    group_suppliers = group_supplier_ids()
    with_group_supplier = or_(
        JournalEntry.id.in_(supplier_entries(group_suppliers)),
        and_(JournalEntry.source_type == STOCK_DOCUMENT,
             JournalEntry.source_id.in_(select(StockDocument.id).where(StockDocument.supplier_id.in_(group_suppliers)))))
    payables = {code: _sum(session, select(func.sum(JournalLine.amount))
                           .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
                           .where(in_period, JournalLine.account_code == code, with_group_supplier))
                for code in PAYABLES_ACCOUNTS}
    trade = trade_lines(session, actor, as_of=as_of)
    unrealised = sum((line.unrealised_profit for line in trade), ZERO)
    sold = -revenue  # revenue is a credit balance
    receivable_total = receivables[accounts.RECEIVABLES] + receivables[accounts.CUSTOMER_ADVANCES]
    eliminations: dict[str, Decimal] = defaultdict(lambda: ZERO)
    eliminations[accounts.REVENUE] += sold
    # The cost side: the seller's cost of goods sold on the goods it shipped to the group,
    # and the seller's margin where the buyer consumed them (production, its own cost of
    # sales, scrap); whatever remains (price corrections without goods) stays with cost
    # of goods sold. Together they are the revenue less the profit still unrealised.
    cost_side: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for line in trade:
        cost_side[accounts.COST_OF_GOODS_SOLD] += line.shipped_cost
        for account, margin in line.realised_margin().items():
            cost_side[account] += margin
    cost_side[accounts.COST_OF_GOODS_SOLD] += sold - unrealised - sum(cost_side.values(), ZERO)
    for account, amount in cost_side.items():
        eliminations[account] -= amount
    eliminations[UNREALISED_PROFIT] -= unrealised
    for code, balance in receivables.items():
        eliminations[code] -= balance
    for code, balance in payables.items():
        eliminations[code] -= balance
    payable_total = sum(payables.values(), ZERO)
    eliminations[IN_TRANSIT] += receivable_total + payable_total
    assert sum(eliminations.values(), ZERO) == 0

    report = ConsolidatedTrialBalance(period, as_of, intercompany_revenue=sold, intercompany_receivables=receivable_total,
                                      intercompany_payables=-payable_total, unrealised_profit=unrealised,
                                      in_transit=receivable_total + payable_total, trade=trade)
    own = {line["account_code"]: line for line in companies.lines}
    codes = sorted(set(own) | {code for code, amount in eliminations.items() if amount})
    totals = dict.fromkeys(("debit", "credit", "elimination_debit", "elimination_credit", "consolidated_debit",
                            "consolidated_credit"), ZERO)
    names = {a.code: (a.name_zh, a.name_en, a.kind) for a in session.scalars(select(Account))} | SYNTHETIC_LINES
    for code in codes:
        balance = own[code]["debit"] - own[code]["credit"] if code in own else ZERO
        elimination = eliminations.get(code, ZERO)
        consolidated = balance + elimination
        name_zh, name_en, kind = names[code]
        line = {
            "account_code": code, "name_zh": name_zh, "name_en": name_en, "kind": kind,
            "debit": max(balance, ZERO), "credit": max(-balance, ZERO),
            "elimination_debit": max(elimination, ZERO), "elimination_credit": max(-elimination, ZERO),
            "consolidated_debit": max(consolidated, ZERO), "consolidated_credit": max(-consolidated, ZERO),
        }
        for name in totals:
            totals[name] += line[name]
        report.lines.append(line)
    report.totals = totals
    return report
