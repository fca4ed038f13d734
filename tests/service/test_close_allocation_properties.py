"""The month-end close's ALLOCATION, against a reference computed here from the events.

``test_close_properties.py`` checks that the books agree with themselves after a close (1404
equals the variance left with the stock); a close that put a price difference on the wrong
side would pass it as long as it did so consistently (it did: before 8ba0e1f a credit memo of
goods never received took its difference off October's production instead of 1404). This
test generates small random months of one company (three materials, two warehouses), runs
them through the real services and the real close (``close_period``), and compares what the
close allocated with a reference that knows only the events and the rules, in plain Decimal.
Besides purchases and the warehouse's own postings, the months hold opening stock taken over at
go-live, production orders of an intermediate made of the two bought materials (component
issues to work in process, deliveries of output, the reversal of either, completion),
customer returns of shipments, and quality's decisions on what came back (released by QA's
signature, rejected to blocked, then scrapped):

- *docs/costing.md* (and ``erp.costing.close``), per material and period:
  rate = (opening variance + variance of the period's receipts)
       / (opening stock at standard + the period's receipts at standard + other stock entering
          at standard: found by counts, delivered by production orders);
  receipts are purchases net of receipt reversals and returns to the supplier (each with its
  own variance: contract value rounded to the cent less the value at standard; the last
  return of a receipt takes what is left of its contract value; a return takes blocked
  stock first), opening stock at go-live (at standard, with the variance its row carries,
  docs/go-live.md), issue reversals after their period's close (the goods back at the
  standard now in force, carrying the variance the issue bore), and the part of each
  supplier invoice's or credit memo's price difference that went to 1404. A production
  delivery enters at standard with no variance (docs/production.md), its reversal takes it
  back out. A customer return is consumption's reversal: cost of goods sold net of the value
  the goods left with, whatever the period (docs/credit.md); at a standard changed since, the
  goods come back at today's and the difference is restated against 1404, counting with the
  stock like the price change's restatement of the opening. Quality's decisions (release,
  reject) move stock between statuses at its value and change nothing in the rate. Each
  consumption line (issues to production 5001, to production orders' work in process
  5001.01 and to cost centres 5101, shipments 6401, scrap 6711, count losses 1901, net of
  reversals and customer returns in the period) bears
  round_half_up(consumed at standard x variance / base, 0.01), rounded there only; the rest
  stays with the stock. With no stock left the rounding residue goes to the largest line
  (ties: lowest account), and with no stock and no consumption a variance is written off
  to 5101. A new standard for the next period restates the stock at its close (inventory
  takes the difference, 1404 gives it).
- *docs/payables.md* ("Where the price difference goes"), per invoice or credit memo line:
  held = the company's stock of the material + the part not received (an invoice: beyond
  what was received and not yet invoiced; a credit memo: of what it credits, first what was
  invoiced and never received); consumed in closed periods = quantity - held - consumed in
  the open period, between 0 and the quantity; to consumption = round(difference x that /
  quantity), split over the accounts by what each consumed in closed periods (the last, in
  account order, takes what the others' rounding left; production orders' work in process
  5001.01 booked as 6405.02 input price variance); the rest to 1404, where the close
  picks it up as variance of the period's receipts. An ordinary (non-deductible) invoice's
  VAT is part of its difference. A reversal of an invoice or credit memo posts the mirror of
  its lines and of its 1404 ledger row in its own (open) month ("Reversing an invoice or
  credit memo"), whose close spreads it by that month's rate.

After every close: the close's allocation rows (per material and consumption account:
consumed value and variance borne), each material's closing quantity and variance, the
close's totals, and what the invoices put on 1404 and on consumption accounts per material,
all equal the reference to the cent.

Standard prices are whole cents and quantities whole units, so every value at standard is
exact (no cent left on a balance by per-posting rounding; contract prices have four places,
so receipts, returns and invoices do round).

Not generated: a close while goods invoiced ahead of their arrival (or invoiced and then
returned to the supplier) are still owed. Their price difference waits on 1404 and the close
spreads it over the stock received, whose rate has no goods-not-yet-received in its
denominator: known, documented and not built (docs/payables.md, "Credited before the goods
arrive": "Not built: keeping the not-yet-received part out of the rate until its goods
arrive"). So before every close each order line with more invoiced than received is settled,
its goods arriving or their invoice credited (a choice drawn per period); invoices ahead of
arrival, arrivals and credit memos of goods not received within a month are generated.
Each example runs in a company of its own.

Also not generated: a new standard for the made intermediate (its deliveries' reversals
then restate, which tests/service/test_production_delivery_reversal.py covers); transfers,
counts, scrap and customer returns of it (their batch is whichever FEFO took, which the
reference does not follow; a delivery's reversal is tried and, refused as its batch was used
since, ``OutputBatchUsed``, leaves nothing posted); holds by storage excursions (a hold is
posted on the business day it is found, not in the generated months: docs/quality.md); a
receipt reversed while its warehouse holds returned goods of the batch in quarantine or
blocked.

Examples: ``examples(ci=20, nightly=400)`` (tests/profiles.py); with
``--hypothesis-show-statistics`` the events show what the months really posted.
"""

from __future__ import annotations

import datetime as dt
import itertools
import tempfile
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP
from decimal import Decimal as D
from pathlib import Path

from hypothesis import HealthCheck, event, example, given, note, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from erp.auth.roles import Actor, Role
from erp.costing import accounts
from erp.costing.balances import period_balances
from erp.costing.close import close_period
from erp.costing.models import JournalEntry, JournalLine, StandardPrice, VarianceAllocation
from erp.costing.standards import PriceChange, set_standard_prices
from erp.golive.framework import execute_import
from erp.golive.kinds import KINDS
from erp.inventory import services
from erp.inventory.models import Batch
from erp.inventory.services import AdjustmentKind, IssueDestination
from erp.masterdata.models import Company, MaterialType, Warehouse
from erp.masterdata.tax import line_amounts
from erp.payables import services as payables
from erp.payables.models import DocumentKind, InvoiceKind
from erp.posting.models import NO_BATCH, StockStatus
from erp.production import boms, orders
from erp.production.errors import OutputBatchUsed
from erp.quality import services as quality
from erp.quality.models import InspectionLot, LotStatus, UsageDecisionKind
from tests.golive.helpers import Recorder, write_csv
from tests.payables import vat13_on_materials
from tests.production import add_material
from tests.quality import group_qa
from tests.profiles import examples
from tests.stock import single_line_order
from tests.world import PASSWORD, World

PERIODS = ["2026-11", "2026-12", "2027-01"]
GO_LIVE = dt.date(2026, 11, 1)
# raw (1403, KG, batch LOT-1) and packaging (1411, EA, no batches), bought; and an
# intermediate made of them (1405.01, KG, a batch per production order, Q-OPEN at go-live)
BOUGHT = ["exc_local", "pkg_loose"]
MADE = "q_made"
MATERIALS = [*BOUGHT, MADE]
FIRST_STANDARD = D("10.00")
MADE_STANDARD = D("40.00")  # never changed here (see the module's docstring)
BOM = {"exc_local": D("2"), "pkg_loose": D("3")}  # per 1 kg of q_made, no scrap; 1 h at Q-CC
BATCHES = {"exc_local": ("LOT-1", "2026-01-01", "2028-06-30"), "pkg_loose": ("", "", ""),
           MADE: ("Q-OPEN", "2026-01-01", "2027-12-31")}
ZERO = D("0")
# every account consumption goes to, production orders' work in process included: an invoice's
# price difference of goods consumed in closed periods goes to each by what it consumed
CONSUMING = (accounts.PRODUCTION, accounts.WORK_IN_PROCESS, accounts.OVERHEAD, accounts.COST_OF_GOODS_SOLD,
             accounts.SCRAP, accounts.STOCK_DIFFERENCES)
_serial = itertools.count(1)


def cents(amount: D) -> D:
    """Half-up to 0.01 CNY: the only rounding, at posting."""
    return amount.quantize(D("0.01"), rounding=ROUND_HALF_UP)


# --- the reference ------------------------------------------------------------------------

@dataclass
class Line:
    """A purchase order line: its material, contract price, ordered, received and invoiced."""
    material: str
    contract: D
    ordered: D
    received: D = ZERO
    invoiced: D = ZERO
    price: D = ZERO  # the latest invoice's unit price (settling credits at it)


@dataclass
class Receipt:
    line: int
    material: str
    quantity: D
    contract: D
    returned: D = ZERO
    returned_value: D = ZERO  # contract value the returns took off GR/IR
    reversed: bool = False


@dataclass
class Issue:
    material: str
    period: str
    warehouse: int
    account: str
    quantity: D
    value: D  # at standard, as charged
    reversed: bool = False
    order: int | None = None  # the production order a component issue went to


@dataclass
class Order:
    """A production order of q_made: its warehouse, its output batch, whether completed."""
    warehouse: int
    batch: str
    completed: bool = False


@dataclass
class Delivery:
    order: int
    quantity: D
    value: D
    reversed: bool = False


@dataclass
class Shipment:
    material: str
    warehouse: int
    quantity: D
    value: D  # at the standard it left at
    returned: D = ZERO
    returned_value: D = ZERO


@dataclass
class Month:
    """One material's period totals, as the close reads them."""
    receipts_value: D = ZERO
    receipts_variance: D = ZERO
    inflow_value: D = ZERO
    # restatements to the standard now in force (of goods customers returned): stock at
    # standard and its variance, like the price change's restatement of the opening stock
    restated_value: D = ZERO
    restated_variance: D = ZERO
    consumed_value: dict[str, D] = field(default_factory=dict)
    consumed_quantity: dict[str, D] = field(default_factory=dict)
    net_quantity: D = ZERO
    net_value: D = ZERO

    def consume(self, account: str, quantity: D, value: D) -> None:
        self.consumed_value[account] = self.consumed_value.get(account, ZERO) + value
        self.consumed_quantity[account] = self.consumed_quantity.get(account, ZERO) + quantity
        self.net_quantity -= quantity
        self.net_value -= value

    def receive(self, quantity: D, value: D, variance: D) -> None:
        self.receipts_value += value
        self.receipts_variance += variance
        self.net_quantity += quantity
        self.net_value += value


@dataclass
class Stock:
    """One material: the standard in force, stock per warehouse, what the closes carried."""
    standard: D = FIRST_STANDARD
    on_hand: list[D] = field(default_factory=lambda: [ZERO, ZERO])  # unrestricted, per warehouse
    quarantine: list[D] = field(default_factory=lambda: [ZERO, ZERO])
    blocked: list[D] = field(default_factory=lambda: [ZERO, ZERO])
    opening: tuple[D, D, D] = (ZERO, ZERO, ZERO)  # quantity, value at standard, variance
    month: Month = field(default_factory=Month)
    consumed_closed: dict[str, D] = field(default_factory=dict)  # quantity per account, closed periods
    lot: bool = False  # the batch stock lives in exists (LOT-1; pkg_loose's no-batch batch once received)

    @property
    def quantity(self) -> D:
        return sum((*self.on_hand, *self.quarantine, *self.blocked), ZERO)


class Reference:
    """The events as they happened, and what the rules make of them."""

    def __init__(self) -> None:
        self.stock = {material: Stock() for material in MATERIALS}
        self.stock[MADE].standard = MADE_STANDARD
        self.orders: dict[int, Order] = {}
        self.deliveries: dict[int, Delivery] = {}
        self.shipments: dict[int, Shipment] = {}
        self.lines: dict[int, Line] = {}
        self.receipts: dict[int, Receipt] = {}
        self.issues: dict[int, Issue] = {}
        self.closed: list[str] = []
        # what closes allocated: (period, material, account) -> (consumed value, allocated)
        self.allocations: dict[tuple[str, str, str], tuple[D, D]] = {}
        # what invoices and credit memos posted per (material, account): 1404 and consumption
        self.invoice_lines: dict[tuple[str, str], D] = {}
        # each close's closing per (period, material): quantity and variance left with the stock
        self.closings: dict[tuple[str, str], tuple[D, D]] = {}
        self.period = PERIODS[0]
        self.reversed_within: set[int] = set()  # issues reversed in their own month
        # invoices and credit memos not reversed: id -> (line, signed quantity, their lines per account)
        self.documents: dict[int, tuple[int, D, dict[str, D]]] = {}

    # price differences (docs/payables.md)
    def price_difference(self, material: str, quantity: D, difference: D, not_received: D) -> dict[str, D]:
        """Where an invoice line's difference goes, per account, signed as on an invoice."""
        if difference == 0:
            return {}
        s = self.stock[material]
        held = s.quantity + not_received
        if not self.closed:
            return {accounts.MATERIAL_COST_VARIANCE: difference}
        consumed_open = sum(s.month.consumed_quantity.values(), ZERO)
        by_account = {a: q for a, q in s.consumed_closed.items() if q > 0}
        consumed_closed = min(max(quantity - held - consumed_open, ZERO), quantity)
        if consumed_closed == 0 or not by_account:
            return {accounts.MATERIAL_COST_VARIANCE: difference}
        to_consumption = cents(difference * consumed_closed / quantity)
        total = sum(by_account.values(), ZERO)
        out: dict[str, D] = {}
        given = ZERO
        ordered = sorted(by_account.items())
        for number, (account, consumed) in enumerate(ordered):
            share = (to_consumption - given if number == len(ordered) - 1
                     else cents(to_consumption * consumed / total))
            given += share
            # production orders' share is an input price variance: no order's settlement would
            # take it off work in process (docs/payables.md)
            out[accounts.INPUT_PRICE_VARIANCE if account == accounts.WORK_IN_PROCESS else account] = share
        out[accounts.MATERIAL_COST_VARIANCE] = difference - to_consumption
        return out

    def book_invoice(self, invoice_id: int, line_id: int, kind: DocumentKind, quantity: D, unit_price: D,
                     ordinary: bool) -> None:
        line = self.lines[line_id]
        amounts = line_amounts(quantity, unit_price, D("13"))
        difference = amounts.net - cents(quantity * line.contract) + (amounts.tax if ordinary else ZERO)
        open_received = line.received - line.invoiced
        if kind == DocumentKind.CREDIT_MEMO:
            not_received = min(quantity, max(-open_received, ZERO))
            sign = D(-1)
            line.invoiced -= quantity
        else:
            not_received = max(quantity - max(open_received, ZERO), ZERO)
            sign = D(1)
            line.invoiced += quantity
            line.price = unit_price
        posted = {account: sign * amount for account, amount
                  in self.price_difference(line.material, quantity, difference, not_received).items()}
        self.documents[invoice_id] = (line_id, sign * quantity, posted)
        self.post_lines(line.material, posted)

    def post_lines(self, material: str, posted: dict[str, D]) -> None:
        for account, amount in posted.items():
            key = (material, account)
            self.invoice_lines[key] = self.invoice_lines.get(key, ZERO) + amount
            if account == accounts.MATERIAL_COST_VARIANCE:
                # its value-only ledger row: variance of the period's receipts
                self.stock[material].month.receive(ZERO, ZERO, amount)

    def reverse_invoice(self, invoice_id: int) -> None:
        """The mirror of every line, and of its 1404 ledger row, in the open period
        (docs/payables.md, "Reversing an invoice or credit memo"); its quantity is no longer invoiced."""
        line_id, quantity, posted = self.documents.pop(invoice_id)
        line = self.lines[line_id]
        line.invoiced -= quantity
        self.post_lines(line.material, {account: -amount for account, amount in posted.items()})

    # goods moving
    def receive(self, receipt_id: int, line_id: int, quantity: D) -> None:
        line = self.lines[line_id]
        s = self.stock[line.material]
        value = quantity * s.standard
        s.month.receive(quantity, value, cents(quantity * line.contract) - value)
        s.on_hand[0] += quantity
        s.lot = True
        line.received += quantity
        self.receipts[receipt_id] = Receipt(line_id, line.material, quantity, line.contract)

    def send_back(self, receipt_id: int, quantity: D) -> None:
        """A return (or, for all of it, a reversal): GR/IR back at the contract price, the
        last part taking what is left of the receipt's contract value."""
        r = self.receipts[receipt_id]
        s = self.stock[r.material]
        value = quantity * s.standard
        contract_value = cents(quantity * r.contract)
        if r.returned + quantity == r.quantity:
            contract_value = cents(r.quantity * r.contract) - r.returned_value
        s.month.receive(-quantity, -value, -(contract_value - value))
        # blocked stock of the batch first, then unrestricted (docs/inventory.md); a reversal
        # is generated only while the receipt's warehouse holds nothing blocked
        from_blocked = min(quantity, s.blocked[0])
        s.blocked[0] -= from_blocked
        s.on_hand[0] -= quantity - from_blocked
        r.returned += quantity
        r.returned_value += contract_value
        self.lines[r.line].received -= quantity

    def issue(self, issue_id: int | None, material: str, warehouse: int, account: str, quantity: D,
              order: int | None = None) -> None:
        s = self.stock[material]
        value = quantity * s.standard
        s.month.consume(account, quantity, value)
        s.on_hand[warehouse] -= quantity
        if issue_id is not None:
            self.issues[issue_id] = Issue(material, self.period, warehouse, account, quantity, value, order=order)

    def ship(self, shipment_id: int, material: str, warehouse: int, quantity: D) -> None:
        self.issue(None, material, warehouse, accounts.COST_OF_GOODS_SOLD, quantity)
        value = quantity * self.stock[material].standard
        self.shipments[shipment_id] = Shipment(material, warehouse, quantity, value)

    def take_back(self, shipment_id: int, quantity: D) -> None:
        """A customer return (docs/credit.md, docs/inventory.md): into quarantine where the
        goods left, cost of goods sold credited the value they left with (the last of the
        shipment all that is left of it): consumption net of its reversal. At a standard
        changed since, the goods enter at today's and the difference is restated against
        1404, as the price change did for the stock that stayed (docs/costing.md)."""
        sh = self.shipments[shipment_id]
        s = self.stock[sh.material]
        if sh.returned + quantity == sh.quantity:
            back = sh.value - sh.returned_value
        else:
            back = cents(quantity * sh.value / sh.quantity)
        sh.returned += quantity
        sh.returned_value += back
        s.month.consume(accounts.COST_OF_GOODS_SOLD, -quantity, -back)
        restated = cents(quantity * s.standard) - back
        s.month.restated_value += restated
        s.month.restated_variance -= restated
        s.month.net_value += restated
        s.quarantine[sh.warehouse] += quantity

    def decide(self, material: str, warehouse: int, release: bool) -> None:
        """A quality decision on everything in quarantine there: a status move that keeps
        its value (docs/costing.md: quality status changes net to zero)."""
        s = self.stock[material]
        moved, s.quarantine[warehouse] = s.quarantine[warehouse], ZERO
        if release:
            s.on_hand[warehouse] += moved
        else:
            s.blocked[warehouse] += moved

    def open_stock(self, rows: dict[tuple[str, int], tuple[D, D]]) -> None:
        """Opening stock at go-live (docs/go-live.md): ledger rows of close class receipt,
        each at standard carrying its variance, so the first close spreads it like a
        purchase's."""
        for (material, warehouse), (quantity, variance) in rows.items():
            s = self.stock[material]
            s.month.receive(quantity, quantity * s.standard, variance)
            s.on_hand[warehouse] += quantity
            s.lot = True

    def deliver(self, delivery_id: int, order_id: int, quantity: D) -> None:
        """Production output enters at standard with no variance of its own (close class
        inflow, docs/production.md): stock the variance spreads over, like stock found by a
        count (docs/costing.md)."""
        s = self.stock[MADE]
        value = cents(quantity * s.standard)
        s.month.inflow_value += value
        s.month.net_quantity += quantity
        s.month.net_value += value
        s.on_hand[self.orders[order_id].warehouse] += quantity
        self.deliveries[delivery_id] = Delivery(order_id, quantity, value)

    def reverse_delivery(self, delivery_id: int) -> None:
        """The inflow undone (the standard of q_made never changes here, so nothing is
        restated): out of the order's warehouse at the value it came in at."""
        d = self.deliveries[delivery_id]
        s = self.stock[MADE]
        s.month.inflow_value -= d.value
        s.month.net_quantity -= d.quantity
        s.month.net_value -= d.value
        s.on_hand[self.orders[d.order].warehouse] -= d.quantity
        d.reversed = True

    def reverse_issue(self, issue_id: int) -> None:
        i = self.issues[issue_id]
        s = self.stock[i.material]
        s.on_hand[i.warehouse] += i.quantity
        i.reversed = True
        if i.period == self.period:  # the issue negated
            s.month.consume(i.account, -i.quantity, -i.value)
            return
        # after its period's close: back at today's standard, with the variance it bore
        back = i.quantity * s.standard
        s.month.receive(i.quantity, back, i.value + self.share_borne(issue_id) - back)

    def share_borne(self, issue_id: int) -> D:
        """The issue's part of what its account bore at its period's close: each issue of the
        account and month still standing then (not reversed within the month) bears its
        part by consumed value, rounded, the cents left to the largest (ties: lowest id)."""
        i = self.issues[issue_id]
        allocated = self.allocations.get((i.period, i.material, i.account), (ZERO, ZERO))[1]
        if not allocated:
            return ZERO
        documents = {n: d.value for n, d in self.issues.items()
                     if (d.period, d.material, d.account) == (i.period, i.material, i.account)
                     and n not in self.reversed_within}
        total = sum(documents.values(), ZERO)
        parts = {n: cents(allocated * v / total) for n, v in documents.items()}
        largest = min(documents, key=lambda n: (-abs(documents[n]), n))
        parts[largest] += allocated - sum(parts.values(), ZERO)
        return parts.get(issue_id, ZERO)

    def adjust(self, material: str, warehouse: int, quantity: D, account: str, blocked: bool = False) -> None:
        s = self.stock[material]
        value = abs(quantity) * s.standard
        if quantity > 0:
            s.month.inflow_value += value
            s.month.net_quantity += quantity
            s.month.net_value += value
        else:
            s.month.consume(account, -quantity, value)
        if blocked:
            s.blocked[warehouse] += quantity
        else:
            s.on_hand[warehouse] += quantity

    # the close (docs/costing.md)
    def close(self, period: str, next_standards: dict[str, D]) -> None:
        for material, s in self.stock.items():
            m = s.month
            q0, v0, w0 = s.opening
            # the rate: (opening variance + the period's receipts' variance) / (opening stock
            # + receipts + other inflows, at standard); a restatement within the period
            # counts with the stock it restated
            base = v0 + m.restated_value + m.receipts_value + m.inflow_value
            to_allocate = w0 + m.restated_variance + m.receipts_variance
            lines = {a: v for a, v in m.consumed_value.items() if v != 0}
            closing_quantity = q0 + m.net_quantity
            assert closing_quantity == s.quantity  # the reference agrees with itself
            shares = {a: (cents(v * to_allocate / base) if base else ZERO) for a, v in lines.items()}
            consumed = dict(lines)
            if closing_quantity == 0 and lines:
                largest = min(lines, key=lambda a: (-abs(lines[a]), a))
                shares[largest] += to_allocate - sum(shares.values(), ZERO)
            elif closing_quantity == 0 and to_allocate:
                shares, consumed = {accounts.OVERHEAD: to_allocate}, {accounts.OVERHEAD: ZERO}
            for account, share in shares.items():
                self.allocations[(period, material, account)] = (consumed[account], share)
            closing_value = v0 + m.net_value
            closing_variance = to_allocate - sum(shares.values(), ZERO)
            self.closings[(period, material)] = (closing_quantity, closing_variance)
            for account, quantity in m.consumed_quantity.items():
                s.consumed_closed[account] = s.consumed_closed.get(account, ZERO) + quantity
            # the next period opens restated at its standard: inventory takes the difference
            # and 1404 gives it (actual cost unchanged)
            new = next_standards.get(material, s.standard)
            restated = closing_quantity * new - closing_value
            s.opening = (closing_quantity, closing_value + restated, closing_variance - restated)
            s.standard = new
            s.month = Month()
        self.closed.append(period)


# --- the generator --------------------------------------------------------------------------

quantity = st.integers(min_value=1, max_value=40).map(D)
contract = st.decimals(min_value=D("8"), max_value=D("12"), places=4)
off_contract = st.decimals(min_value=D("-2"), max_value=D("2"), places=2)
# which of the candidates, latest first (modulo their number): mostly the latest, as the
# events that interact (an invoice ahead and its credit) are usually each other's neighbours
pick = st.one_of(st.just(0), st.integers(min_value=0, max_value=7))
warehouse = st.sampled_from([0, 1])
material = st.sampled_from(BOUGHT)
ordinary = st.booleans()
operation = st.one_of(
    st.tuples(st.just("receive"), material, st.integers(10, 80).map(D), contract),
    st.tuples(st.just("issue"), material, quantity, st.sampled_from(list(IssueDestination)), warehouse),
    st.tuples(st.just("ship"), st.sampled_from(MATERIALS), quantity, warehouse),
    st.tuples(st.just("scrap"), material, quantity, warehouse),
    st.tuples(st.just("count"), material, st.integers(-20, 20).filter(bool).map(D), warehouse),
    st.tuples(st.just("transfer"), material, quantity, warehouse),
    # everything of the material issued, over two accounts (the residue rule's case)
    st.tuples(st.just("drain"), material),
    st.tuples(st.just("reverse_issue"), material, pick),
    st.tuples(st.just("reverse_receipt"), material, pick),
    st.tuples(st.just("return"), material, quantity, pick),
    # invoice what a line received and is not yet invoiced (at most this much), at the
    # contract price plus this
    st.tuples(st.just("invoice"), material, pick, quantity, off_contract, ordinary),
    # credit what a line invoiced (at most this much)
    st.tuples(st.just("credit"), material, pick, quantity, off_contract, ordinary),
    # reverse an invoice or credit memo (its mirror, in this month)
    st.tuples(st.just("reverse_invoice"), material, pick),
    # a new order line invoiced before its goods arrive
    st.tuples(st.just("ahead"), material, st.integers(10, 80).map(D), contract, off_contract, ordinary),
    # goods of a line invoiced ahead arrive (at most this much of what is owed)
    st.tuples(st.just("arrive"), material, pick, quantity),
    # production (docs/production.md): an order of q_made released in a warehouse; a
    # component issued to an open order from its warehouse (5001.01); output delivered into
    # the order's batch; a delivery reversed (refused once its batch was used); an order
    # completed (its issues and deliveries then stay)
    # completed (its issues and deliveries then stay). Issues and deliveries open an order
    # in this warehouse when none is running, and issue at most what the warehouse holds.
    st.tuples(st.just("order"), st.just(MADE), warehouse),
    st.tuples(st.just("produce"), material, quantity, warehouse, pick),
    st.tuples(st.just("produce"), material, quantity, warehouse, pick),
    st.tuples(st.just("deliver"), st.just(MADE), st.integers(1, 15).map(D), warehouse, pick),
    st.tuples(st.just("deliver"), st.just(MADE), st.integers(1, 15).map(D), warehouse, pick),
    st.tuples(st.just("reverse_delivery"), st.just(MADE), pick),
    st.tuples(st.just("complete"), st.just(MADE), pick),
    st.tuples(st.just("ship"), st.just(MADE), quantity, warehouse),
    # a customer returns goods of a shipment (at most this much of what is returnable) into
    # quarantine; quality rejects (to blocked) or releases (QA's signature on the return's
    # lot) what is in quarantine (in this warehouse, else the other); blocked stock scrapped
    st.tuples(st.just("take_back"), material, quantity, pick),
    st.tuples(st.just("take_back"), material, quantity, pick),
    st.tuples(st.just("decide"), material, warehouse, st.booleans()),
    st.tuples(st.just("scrap_blocked"), material, warehouse),
)
standard = st.sampled_from([D("9.50"), D("10.00"), D("11.00"), D("12.25")])
period_plan = st.tuples(
    st.lists(operation, min_size=1, max_size=14),
    # a new standard for the next period, set before this one closes
    st.dictionaries(material, standard, max_size=2),
    # before the close, lines owed goods: True, the goods arrive; False, the rest is credited
    st.lists(st.booleans(), min_size=4, max_size=4),
)


# opening stock at go-live (docs/go-live.md): per material and warehouse, quantity and the
# variance it carries
opening_stock = st.dictionaries(st.tuples(st.sampled_from(MATERIALS), warehouse),
                                st.tuples(st.integers(1, 60).map(D),
                                          st.decimals(min_value=D("-20"), max_value=D("20"), places=2)),
                                max_size=3)


class Month_:  # noqa: N801 - a test-local fixture object
    """One company's months, posted through the services and mirrored in the reference."""

    def __init__(self, session_factory: sessionmaker[Session], world: World) -> None:
        self.sf, self.world = session_factory, world
        n = next(_serial)
        with session_factory() as session, session.begin():
            company = Company(code=f"Q{n:03d}", name_zh="分配", name_en=f"Allocation {n}",
                              segment_id=world.segments["FORM"])
            stores = [Warehouse(code=f"Q{n:03d}-{name}", company=company, name_zh="常温", name_en=name,
                                temp_min=D(10), temp_max=D(30), max_humidity=D(75)) for name in ("A", "B")]
            session.add_all([company, *stores])
            session.flush()
            self.company, self.warehouses = company.id, [w.id for w in stores]
            if MADE not in world.materials:  # the group's material, once per test
                world.materials[MADE] = add_material(session, world, "Q-MADE", MaterialType.INTERMEDIATE)
            for name in MATERIALS:
                session.add(StandardPrice(company_id=self.company, material_id=world.materials[name],
                                          period=PERIODS[0], price=MADE_STANDARD if name == MADE else FIRST_STANDARD))
        companies = frozenset({self.company})
        self.clerk = Actor(world.users["clerk_a"], "clerk", Role.CLERK, False, companies,
                           frozenset(self.warehouses))
        self.cost = Actor(world.users["cost_a"], "cost", Role.COST_ACCOUNTANT, False, companies)
        self.sales = Actor(world.users["sales_a"], "sales", Role.SALES, False, companies)
        self.ap = Actor(world.users["ap_a"], "ap", Role.ACCOUNTS_PAYABLE, False, companies)
        self.quality = Actor(world.users["quality_a"], "quality", Role.QUALITY, False, companies)
        self.signer = group_qa(session_factory, world)  # signs usage decisions for every company
        with session_factory() as session, session.begin():
            boms.set_cost_center_rates(session, self.cost, company_id=self.company, period=PERIODS[0],
                                       rates=[boms.RateIn("Q-CC", D("5"), D("3"))])
            boms.create_bom(session, self.cost, company_id=self.company, material_id=world.materials[MADE],
                            valid_from=GO_LIVE, base_quantity=D("1"), cost_center="Q-CC", hours=D("1"),
                            components=[boms.ComponentIn(world.materials[name], per) for name, per in BOM.items()])
        vat13_on_materials(session_factory, world)
        self.ref = Reference()

    def open_stock(self, rows: dict[tuple[str, int], tuple[D, D]]) -> None:
        """The go-live import of opening stock (docs/go-live.md) on the first period's first day."""
        if not rows:
            return
        codes = {MATERIALS[0]: "EXC-STAR", MATERIALS[1]: "PKG-SHIP", MADE: "Q-MADE"}
        with self.sf() as session:
            warehouse_codes = [session.get(Warehouse, w).code for w in self.warehouses]  # type: ignore[union-attr]
        header = ["仓库编码", "物料编码", "批号", "生产日期", "有效期至", "库存状态", "数量", "标准成本金额", "材料成本差异"]
        table = [header] + [[warehouse_codes[where], codes[name], *BATCHES[name], "", str(qty), "", str(variance)]
                            for (name, where), (qty, variance) in sorted(rows.items())]
        with tempfile.TemporaryDirectory() as folder:
            path = write_csv(Path(folder) / "opening.csv", table)
            with self.sf() as session:
                outcome = execute_import(session, self.cost, KINDS["opening_stock"], path, file_name=path.name,
                                         company_id=self.company, dry_run=False, progress=Recorder(),
                                         go_live_date=GO_LIVE)
        assert outcome.committed, outcome
        self.ref.open_stock(rows)

    def order_line(self, name: str, qty: D, unit_price: D) -> int:
        n = next(_serial)
        line = single_line_order(self.sf, self.world, company_id=self.company, warehouse_id=self.warehouses[0],
                                 material=name, quantity=qty, unit_price=unit_price, contract_number=f"QK-{n}",
                                 order_number=f"QP-{n}")
        self.ref.lines[line] = Line(name, unit_price, qty)
        return line

    def receive(self, session: Session, line: int, qty: D, on: dt.date) -> None:
        batched = self.ref.lines[line].material == "exc_local"
        receipt = services.receive_goods(session, self.clerk, services.ReceiptRequest(
            po_line_id=line, quantity=qty, posting_date=on, batch_number="LOT-1" if batched else None,
            manufacture_date=dt.date(2026, 1, 1) if batched else None,
            expiry_date=dt.date(2028, 6, 30) if batched else None))
        self.ref.receive(receipt, line, qty)

    def enter(self, session: Session, kind: DocumentKind, line: int, qty: D, unit_price: D, on: dt.date,
              is_ordinary: bool) -> None:
        amounts = line_amounts(qty, unit_price, D("13"))
        invoice = payables.enter_invoice(session, self.ap, payables.InvoiceRequest(
            company_id=self.company, supplier_id=self.world.suppliers["sup1"], number=f"QI-{next(_serial)}",
            invoice_date=on, net_total=amounts.net, tax_total=amounts.tax, gross_total=amounts.net + amounts.tax,
            lines=[payables.LineRequest(po_line_id=line, quantity=qty, unit_price=unit_price)],
            invoice_kind=InvoiceKind.ORDINARY if is_ordinary else InvoiceKind.SPECIAL), kind)
        self.ref.book_invoice(invoice.id, line, kind, qty, unit_price, is_ordinary)

    def batch(self, session: Session, name: str) -> int | None:
        if name != "exc_local":
            return None
        return session.scalar(select(Batch.id).where(Batch.material_id == self.world.materials[name],
                                                     Batch.batch_number == "LOT-1"))

    def batch_of(self, session: Session, name: str) -> int:
        """The batch a bought material's stock lives in (pkg_loose's: the one without a number)."""
        number = BATCHES[name][0] or NO_BATCH
        batch_id = session.scalar(select(Batch.id).where(Batch.material_id == self.world.materials[name],
                                                         Batch.batch_number == number))
        assert batch_id is not None
        return batch_id

    def post(self, op: tuple, on: dt.date) -> None:
        """Post one generated event if the reference says it can be posted (else skip it):
        the services must then accept it."""
        kind, name = op[0], op[1]
        ref, s = self.ref, self.ref.stock[op[1]]
        material_id = self.world.materials[name]
        if kind == "reverse_delivery":
            self.reverse_delivery(op, on)
            return
        with self.sf() as session, session.begin():
            if kind == "receive":
                _, _, qty, price = op
                line = self.order_line(name, qty, price)
                self.receive(session, line, qty, on)
            elif kind in ("issue", "ship"):
                qty, where = op[2], op[-1]
                if s.on_hand[where] < qty:
                    return
                if kind == "issue":
                    destination = op[3]
                    issued = services.issue_goods(
                        session, self.clerk, warehouse_id=self.warehouses[where], material_id=material_id,
                        quantity=qty, posting_date=on, destination=destination, cost_center="CC1")
                    ref.issue(issued, name, where, services.ISSUE_ACCOUNT[destination], qty)
                else:
                    shipped = services.ship_goods(session, self.sales, warehouse_id=self.warehouses[where],
                                                  material_id=material_id, quantity=qty, posting_date=on,
                                                  customer_id=self.world.customers["cust1"], reference="SO")
                    ref.ship(shipped, name, where, qty)
            elif kind in ("scrap", "count"):
                qty, where = op[2], op[3]
                change = -qty if kind == "scrap" else qty
                if not s.lot or s.on_hand[where] + change < 0:
                    return
                services.adjust_stock(session, self.cost, warehouse_id=self.warehouses[where],
                                      material_id=material_id, quantity=change, posting_date=on,
                                      kind=AdjustmentKind.SCRAP if kind == "scrap" else AdjustmentKind.COUNT,
                                      reason="property test", batch_id=self.batch(session, name))
                ref.adjust(name, where, change, accounts.SCRAP if kind == "scrap" else accounts.STOCK_DIFFERENCES)
            elif kind == "transfer":
                qty, where = op[2], op[3]
                if s.on_hand[where] < qty:
                    return
                services.transfer_stock(session, self.clerk, from_warehouse_id=self.warehouses[where],
                                        to_warehouse_id=self.warehouses[1 - where], material_id=material_id,
                                        quantity=qty, posting_date=on)
                s.on_hand[where] -= qty
                s.on_hand[1 - where] += qty
            elif kind == "drain":
                for where, on_hand in enumerate(list(s.on_hand)):
                    half = (on_hand / 2).to_integral_value(rounding="ROUND_FLOOR")
                    for part, destination in ((half, IssueDestination.PRODUCTION),
                                              (on_hand - half, IssueDestination.COST_CENTER)):
                        if part > 0:
                            issued = services.issue_goods(
                                session, self.clerk, warehouse_id=self.warehouses[where], material_id=material_id,
                                quantity=part, posting_date=on, destination=destination, cost_center="CC1")
                            ref.issue(issued, name, where, services.ISSUE_ACCOUNT[destination], part)
            elif kind == "reverse_issue":
                # an issue to a completed order is not reversed (production-order-closed)
                open_issues = [n for n, i in reversed(ref.issues.items()) if i.material == name and not i.reversed
                               and (i.order is None or not ref.orders[i.order].completed)]
                if not open_issues:
                    return
                issue_id = open_issues[op[2] % len(open_issues)]
                services.reverse_issue(session, self.clerk, document_id=issue_id, posting_date=on,
                                       reason="property test")
                if ref.issues[issue_id].period == ref.period:
                    ref.reversed_within.add(issue_id)
                ref.reverse_issue(issue_id)
            elif kind == "reverse_receipt":
                # only while all its goods are where they arrived, none returned
                whole = [n for n, r in reversed(ref.receipts.items()) if r.material == name and not r.reversed
                         and r.returned == 0 and r.quantity <= s.on_hand[0]
                         and s.quarantine[0] == s.blocked[0] == 0]
                if not whole:
                    return
                receipt_id = whole[op[2] % len(whole)]
                services.reverse_receipt(session, self.clerk, document_id=receipt_id, posting_date=on,
                                         reason="property test")
                ref.send_back(receipt_id, ref.receipts[receipt_id].quantity)
                ref.receipts[receipt_id].reversed = True
            elif kind == "return":
                returnable = [n for n, r in reversed(ref.receipts.items()) if r.material == name and not r.reversed
                              and r.returned < r.quantity]
                if not returnable or s.on_hand[0] + s.blocked[0] == 0:
                    return
                receipt_id = returnable[op[3] % len(returnable)]
                r = ref.receipts[receipt_id]
                qty = min(op[2], r.quantity - r.returned, s.on_hand[0] + s.blocked[0])
                services.return_to_supplier(session, self.clerk, receipt_document_id=receipt_id, posting_date=on,
                                            reason="property test", quantity=qty)
                ref.send_back(receipt_id, qty)
            elif kind == "invoice":
                _, _, which, qty, off, is_ordinary = op
                lines = [n for n, line in reversed(ref.lines.items()) if line.material == name and line.received > line.invoiced]
                if not lines:
                    return
                line_id = lines[which % len(lines)]
                line = ref.lines[line_id]
                price = max(line.contract + off, D("0.01"))
                self.enter(session, DocumentKind.INVOICE, line_id, min(qty, line.received - line.invoiced), price, on,
                           is_ordinary)
            elif kind == "credit":
                _, _, which, qty, off, is_ordinary = op
                lines = [n for n, line in reversed(ref.lines.items()) if line.material == name and line.invoiced > 0]
                if not lines:
                    return
                line_id = lines[which % len(lines)]
                line = ref.lines[line_id]
                price = max(line.contract + off, D("0.01"))
                self.enter(session, DocumentKind.CREDIT_MEMO, line_id, min(qty, line.invoiced), price, on,
                           is_ordinary)
            elif kind == "reverse_invoice":
                # an invoice or credit memo not reversed yet, while what stays invoiced on its
                # line is between nothing (credit memos of what it invoiced go first) and the
                # ordered quantity (a credit memo's goods may have been invoiced again)
                documents = [n for n, (line_id, qty, _) in reversed(ref.documents.items())
                             if ref.lines[line_id].material == name
                             and 0 <= ref.lines[line_id].invoiced - qty <= ref.lines[line_id].ordered]
                if not documents:
                    return
                invoice_id = documents[op[2] % len(documents)]
                payables.reverse_invoice(session, self.ap, invoice_id, reason="property test", reversal_date=on)
                ref.reverse_invoice(invoice_id)
            elif kind == "ahead":
                _, _, qty, price, off, is_ordinary = op
                line_id = self.order_line(name, qty, price)
                self.enter(session, DocumentKind.INVOICE, line_id, qty, max(price + off, D("0.01")), on, is_ordinary)
            elif kind == "arrive":
                owed = [n for n, line in reversed(ref.lines.items()) if line.material == name and line.invoiced > line.received]
                if not owed:
                    return
                line_id = owed[op[2] % len(owed)]
                line = ref.lines[line_id]
                self.receive(session, line_id, min(op[3], line.invoiced - line.received, line.ordered - line.received),
                             on)
            elif kind == "order":
                self.new_order(session, op[2], on)
            elif kind in ("produce", "deliver", "complete"):
                running = [n for n, o in reversed(ref.orders.items()) if not o.completed]
                if not running and kind == "complete":
                    return
                if not running:
                    running = [self.new_order(session, op[3], on)]
                order_id = running[op[-1] % len(running)]
                where = ref.orders[order_id].warehouse
                if kind == "produce":
                    qty = min(op[2], s.on_hand[where])
                    if qty == 0:
                        return
                    (issued,) = orders.issue_components(
                        session, self.clerk, order_id, warehouse_id=self.warehouses[where], posting_date=on,
                        items=[orders.IssueItem(material_id, qty)], over_issue_reason="generated month")
                    ref.issue(issued, name, where, accounts.WORK_IN_PROCESS, qty, order=order_id)
                elif kind == "deliver":
                    # Always into the order's own batch, also after its deliveries there were all
                    # reversed (the batch then holds nothing and is no longer linked to the order):
                    # a batch whose only history is the order's is the order's own.
                    if any(d.order == order_id for d in ref.deliveries.values()) and not any(
                            d.order == order_id and not d.reversed for d in ref.deliveries.values()):
                        event("posted: deliver (into its batch again, its deliveries all reversed)")
                    delivered = orders.deliver_output(session, self.clerk, order_id, quantity=op[2], posting_date=on,
                                                      batch_number=ref.orders[order_id].batch)
                    ref.deliver(delivered, order_id, op[2])
                else:
                    orders.complete_order(session, self.clerk, order_id, on)
                    ref.orders[order_id].completed = True
            elif kind == "take_back":
                returnable = [n for n, sh in reversed(ref.shipments.items())
                              if sh.material == name and sh.returned < sh.quantity]
                if not returnable:
                    return
                shipment_id = returnable[op[3] % len(returnable)]
                sh = ref.shipments[shipment_id]
                qty = min(op[2], sh.quantity - sh.returned)
                services.take_back_goods(session, self.sales, shipment_document_id=shipment_id, quantity=qty,
                                         posting_date=on, reason="property test")
                ref.take_back(shipment_id, qty)
            elif kind == "decide":
                where, release = op[2], op[3]
                if s.quarantine[where] == 0:
                    where = 1 - where
                if s.quarantine[where] == 0:
                    return
                batch_id = self.batch_of(session, name)
                if release:  # QA's signed decision on each open lot there (customer returns' lots)
                    lots = session.scalars(select(InspectionLot.id).where(
                        InspectionLot.warehouse_id == self.warehouses[where], InspectionLot.batch_id == batch_id,
                        InspectionLot.status == LotStatus.OPEN).order_by(InspectionLot.id)).all()
                    for lot_id in lots:
                        quality.decide_usage(session, self.signer, lot_id=lot_id, decision=UsageDecisionKind.RELEASE,
                                             password=PASSWORD, posting_date=on).signed()
                else:
                    services.decide_quarantine(session, self.quality, warehouse_id=self.warehouses[where],
                                               batch_id=batch_id, decision=services.QualityDecision.REJECT,
                                               posting_date=on)
                ref.decide(name, where, release)
            elif kind == "scrap_blocked":
                where = op[2] if s.blocked[op[2]] else 1 - op[2]
                qty = s.blocked[where]
                if qty == 0:
                    return
                services.adjust_stock(session, self.quality, warehouse_id=self.warehouses[where],
                                      material_id=material_id, quantity=-qty, posting_date=on,
                                      kind=AdjustmentKind.SCRAP, reason="rejected return", status=StockStatus.BLOCKED,
                                      batch_id=self.batch(session, name))
                ref.adjust(name, where, -qty, accounts.SCRAP, blocked=True)
            else:  # pragma: no cover - the generator makes no other
                raise AssertionError(kind)
        event(f"posted: {kind}")  # what the months really posted (--hypothesis-show-statistics)

    def new_order(self, session: Session, where: int, on: dt.date) -> int:
        """An order for 100 kg of q_made out of this warehouse, released for production."""
        order = orders.create_order(session, self.clerk, company_id=self.company, material_id=self.world.materials[MADE],
                                    quantity=D(100), order_date=on, warehouse_id=self.warehouses[where])
        orders.release_order(session, self.clerk, order.id)
        self.ref.orders[order.id] = Order(where, f"QB-{next(_serial)}")
        return order.id

    def reverse_delivery(self, op: tuple, on: dt.date) -> None:
        """A delivery of an order not completed, reversed unless its batch was used since
        (shipped first-expiry-first-out: the reference does not follow batches of q_made):
        then it is refused, ``OutputBatchUsed``, and nothing is posted."""
        ref = self.ref
        open_deliveries = [n for n, d in reversed(ref.deliveries.items())
                           if not d.reversed and not ref.orders[d.order].completed]
        if not open_deliveries:
            return
        delivery_id = open_deliveries[op[2] % len(open_deliveries)]
        try:
            with self.sf() as session, session.begin():
                orders.reverse_delivery(session, self.clerk, ref.deliveries[delivery_id].order, delivery_id,
                                        posting_date=on, reason="property test")
        except OutputBatchUsed:
            event("refused: reverse_delivery (batch used)")
            return
        ref.reverse_delivery(delivery_id)
        event("posted: reverse_delivery")

    def settle(self, arrive: list[bool], on: dt.date) -> None:
        """Before the close, no line may be owed goods (see the module's docstring)."""
        owed = [n for n, line in self.ref.lines.items() if line.invoiced > line.received]
        for number, line_id in enumerate(owed):
            line = self.ref.lines[line_id]
            with self.sf() as session, session.begin():
                if arrive[number % len(arrive)] and line.received + (line.invoiced - line.received) <= line.ordered:
                    self.receive(session, line_id, line.invoiced - line.received, on)
                else:
                    self.enter(session, DocumentKind.CREDIT_MEMO, line_id, line.invoiced - line.received,
                               line.price or line.contract, on, False)
        assert all(line.invoiced <= line.received for line in self.ref.lines.values())

    def check(self, period: str, result_allocated: D, result_remaining: D) -> None:
        ref = self.ref
        names = {self.world.materials[name]: name for name in MATERIALS}
        with self.sf() as session:
            va = VarianceAllocation
            rows = session.execute(select(va.material_id, va.account_code, va.consumed_value, va.allocated_variance)
                                   .where(va.company_id == self.company, va.period == period)).all()
            allocated = {(period, names[r.material_id], r.account_code): (D(r.consumed_value), D(r.allocated_variance))
                         for r in rows}
            expected = {key: value for key, value in ref.allocations.items() if key[0] == period}
            assert allocated == expected
            balances = period_balances(session, [self.company], period).subquery()
            closing = {names[r.material_id]: (D(r.closing_quantity), D(r.closing_variance))
                       for r in session.execute(select(balances.c.material_id, balances.c.closing_quantity,
                                                       balances.c.closing_variance)
                                                .where(balances.c.material_id.in_(list(names))))}
            expected_closing = {name: ref.closings[(period, name)] for name in MATERIALS}
            assert {name: closing.get(name, (ZERO, ZERO)) for name in MATERIALS} == expected_closing
            assert result_allocated == sum((a for _, a in expected.values()), ZERO)
            assert result_remaining == sum((w for _, w in expected_closing.values()), ZERO)
            invoiced = session.execute(
                select(JournalLine.material_id, JournalLine.account_code, func.sum(JournalLine.amount))
                .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
                .where(JournalEntry.company_id == self.company,
                       JournalEntry.source_type.in_([payables.SOURCE_INVOICE, payables.SOURCE_REVERSAL]),
                       JournalLine.account_code.in_([accounts.MATERIAL_COST_VARIANCE, accounts.INPUT_PRICE_VARIANCE,
                                                     *CONSUMING]))
                .group_by(JournalLine.material_id, JournalLine.account_code)).all()
            assert {(names[m], a): D(amount) for m, a, amount in invoiced if amount} == {
                key: amount for key, amount in ref.invoice_lines.items() if amount}

    def set_standards(self, period: str, prices: dict[str, D]) -> None:
        with self.sf() as session, session.begin():
            set_standard_prices(session, self.cost, company_id=self.company, period=period,
                                prices=[PriceChange(self.world.materials[name], price)
                                        for name, price in sorted(prices.items())])


@settings(max_examples=examples(ci=20, nightly=400), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plans=st.lists(period_plan, min_size=2, max_size=3), opening=opening_stock)
# Always tried: docs/payables.md's credit memo of goods invoiced ahead, after part arrived,
# in the month after a close that consumed other goods: the 60 kg not delivered are credited
# off 1404, not off November's production (before 8ba0e1f, Cr 5001 for goods it never had).
@example(plans=[
    ([("receive", "exc_local", D(100), D("10.0000")), ("drain", "exc_local")], {}, [True] * 4),
    ([("ahead", "exc_local", D(100), D("10.0000"), D("0.30"), False), ("arrive", "exc_local", 0, D(40)),
      ("credit", "exc_local", 0, D(60), D("0.30"), False), ("issue", "exc_local", D(10), IssueDestination.PRODUCTION, 0)],
     {}, [True] * 4),
], opening={})
# Always tried: an issue reversed after its period's close under a new standard, and a
# drained material whose rounding residue goes to its largest line.
@example(plans=[
    ([("receive", "pkg_loose", D(30), D("10.0334")), ("issue", "pkg_loose", D(10), IssueDestination.PRODUCTION, 0),
      ("ship", "pkg_loose", D(10), 0), ("scrap", "pkg_loose", D(7), 0)], {"pkg_loose": D("11.00")}, [True] * 4),
    ([("reverse_issue", "pkg_loose", 0), ("invoice", "pkg_loose", 0, D(30), D("0.17"), True),
      ("drain", "pkg_loose")], {}, [True] * 4),
], opening={})
# Always tried: opening stock carrying variance, a production order issued to (5001.01) and
# delivering (an inflow of q_made, which carries opening variance), an issue to it reversed
# after its close under a new standard, a delivery reversed, a shipment returned by the
# customer after a standard change (restated), rejected and scrapped, another released.
@example(plans=[
    ([("order", MADE, 0), ("produce", "exc_local", D(20), 0, 0), ("produce", "pkg_loose", D(30), 0, 0),
      ("deliver", MADE, D(10), 0, 0), ("ship", MADE, D(4), 0), ("ship", "exc_local", D(5), 0),
      ("ship", "pkg_loose", D(4), 0), ("deliver", MADE, D(3), 0, 0)], {"exc_local": D("11.00")}, [True] * 4),
    ([("reverse_issue", "exc_local", 0), ("reverse_delivery", MADE, 0), ("take_back", "exc_local", D(2), 0),
      ("take_back", "pkg_loose", D(4), 0), ("decide", "exc_local", 0, False), ("scrap_blocked", "exc_local", 0),
      ("decide", "pkg_loose", 1, True), ("produce", "pkg_loose", D(3), 0, 0), ("complete", MADE, 0),
      ("ship", MADE, D(2), 0)], {}, [True] * 4),
], opening={("exc_local", 0): (D(50), D("7.31")), ("pkg_loose", 0): (D(40), D("-2.05")),
            (MADE, 0): (D(5), D("3.33"))})
# Found by CI's random months (1 December): an order's only delivery reversed, then delivered
# again the next month into the same batch number, which its reversal had left unlinked: it
# was refused output-batch-taken until the order could deliver again into a batch whose only
# history is its own.
@example(plans=[
    ([("deliver", MADE, D(1), 0, 0), ("reverse_delivery", MADE, 0)], {}, [False] * 4),
    ([("deliver", MADE, D(1), 0, 0)], {}, [False] * 4),
], opening={})
# Always tried: an invoice's price difference of goods consumed in a closed period, partly by a
# production order's work in process (docs/payables.md): 10 kg received at 8.00 in November,
# 4 kg issued to an order (5001.01), 3 kg to production (5001) and 3 kg to a cost centre
# (5101); invoiced in December at 8.30, difference 3.00, all consumed in closed November:
# 5001 0.90, the order's 1.20 to 6405.02 input price variance (since 1 December: on 5001.01
# no settlement took it off), 5101 0.90, nothing to 1404. Before, the check read the
# invoices' journal lines on every consumption account but 5001.01 and saw 1.20 missing.
@example(plans=[
    ([("receive", "exc_local", D(10), D("8.0000")), ("produce", "exc_local", D(4), 0, 0), ("drain", "exc_local")],
     {}, [True] * 4),
    ([("invoice", "exc_local", 0, D(10), D("0.30"), False)], {}, [True] * 4),
], opening={})
# Found by random months (1 December, seed 269954649087588491256632309077811327599), the same
# cause: January's invoice of 10 kg, of which 4 kg were consumed in closed months, put 0.41 of
# its difference on 5001.01 (24 of the 176 kg consumed there; 6405.02 since 1 December),
# which the check did not read.
@example(plans=[
    ([("reverse_invoice", "exc_local", 0), ("take_back", "exc_local", D("39"), 0), ("complete", MADE, 0),
      ("receive", "exc_local", D("41"), D("9.9441")), ("drain", "pkg_loose"),
      ("receive", "exc_local", D("26"), D("8.0000"))], {}, [False] * 4),
    ([("reverse_delivery", MADE, 0), ("receive", "exc_local", D("10"), D("8.0000")), ("drain", "pkg_loose"),
      ("take_back", "exc_local", D("13"), 0), ("reverse_delivery", MADE, 0),
      ("receive", "exc_local", D("53"), D("9.4414")), ("receive", "exc_local", D("36"), D("8.0000")),
      ("produce", "exc_local", D("24"), 0, 0), ("receive", "exc_local", D("10"), D("8.0000")),
      ("drain", "exc_local"), ("deliver", MADE, D("3"), 0, 0), ("reverse_receipt", "exc_local", 0),
      ("decide", "pkg_loose", 0, True), ("take_back", "exc_local", D("12"), 0)], {}, [False, True, True, True]),
    ([("take_back", "exc_local", D("25"), 3), ("ship", MADE, D("31"), 0), ("count", "exc_local", D("6"), 1),
      ("drain", "exc_local"), ("return", "pkg_loose", D("35"), 0), ("receive", "pkg_loose", D("29"), D("8.8111")),
      ("invoice", "exc_local", 3, D("12"), D("-0.26"), True), ("order", MADE, 1), ("arrive", "pkg_loose", 1, D("13")),
      ("take_back", "pkg_loose", D("11"), 0), ("take_back", "pkg_loose", D("39"), 0),
      ("receive", "exc_local", D("67"), D("9.1509")), ("produce", "pkg_loose", D("21"), 1, 0)],
     {"pkg_loose": D("12.25"), "exc_local": D("9.50")}, [False, True, False, False]),
], opening={})
def test_the_close_allocates_as_the_variance_rate_says(
    session_factory: sessionmaker[Session], world: World, plans: list, opening: dict
) -> None:
    from erp import clock

    clock.pin_business_day(dt.date(2027, 2, 1))  # every period here has ended (conftest restores the day)
    note(f"plans: {plans!r}, opening: {opening!r}")
    month = Month_(session_factory, world)
    ref = month.ref
    month.open_stock(opening)
    for number, (period, (operations, standards, arrive)) in enumerate(zip(PERIODS, plans, strict=False)):
        ref.period = period
        year, mon = int(period[:4]), int(period[5:])
        for day, op in enumerate(operations, start=1):
            month.post(op, dt.date(year, mon, day))
        month.settle(arrive, dt.date(year, mon, 28))
        following = PERIODS[number + 1] if number + 1 < len(PERIODS) else None
        new = {name: price for name, price in standards.items() if following and price != ref.stock[name].standard}
        if new:
            assert following is not None
            month.set_standards(following, new)
        ref.close(period, new)
        with session_factory() as session, session.begin():
            result = close_period(session, month.cost, company_id=month.company, period=period)
        month.check(period, result.variance_allocated, result.variance_remaining)
