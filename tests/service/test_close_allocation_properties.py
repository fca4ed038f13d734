"""The month-end close's ALLOCATION, against a reference computed here from the events.

``test_close_properties.py`` checks that the books agree with themselves after a close (1404
equals the variance left with the stock); a close that put a price difference on the wrong
side would pass it as long as it did so consistently (it did: before 8ba0e1f a credit memo of
goods never received took its difference off October's production instead of 1404). This
test generates small random months of one company (two materials, two warehouses), runs
them through the real services and the real close (``close_period``), and compares what the
close allocated with a reference that knows only the events and the rules, in plain Decimal:

- *docs/costing.md* (and ``erp.costing.close``), per material and period:
  rate = (opening variance + variance of the period's receipts)
       / (opening stock at standard + the period's receipts at standard + stock found by counts);
  receipts are purchases net of receipt reversals and returns to the supplier (each with its
  own variance: contract value rounded to the cent less the value at standard; the last
  return of a receipt takes what is left of its contract value), issue reversals after
  their period's close (the goods back at the standard now in force, carrying the variance
  the issue bore), and the part of each supplier invoice's or credit memo's price difference
  that went to 1404. Each consumption line (issues to production 5001 and cost centres 5101,
  shipments 6401, scrap 6711, count losses 1901, net of reversals in the period) bears
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
  account order, takes what the others' rounding left); the rest to 1404, where the close
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
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP
from decimal import Decimal as D

from hypothesis import HealthCheck, example, given, note, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from erp.auth.roles import Actor, Role
from erp.costing import accounts
from erp.costing.balances import period_balances
from erp.costing.close import close_period
from erp.costing.models import JournalEntry, JournalLine, StandardPrice, VarianceAllocation
from erp.costing.standards import PriceChange, set_standard_prices
from erp.inventory import services
from erp.inventory.models import Batch
from erp.inventory.services import AdjustmentKind, IssueDestination
from erp.masterdata.models import Company, Warehouse
from erp.masterdata.tax import line_amounts
from erp.payables import services as payables
from erp.payables.models import DocumentKind, InvoiceKind
from tests.payables import vat13_on_materials
from tests.stock import single_line_order
from tests.world import World

PERIODS = ["2026-11", "2026-12", "2027-01"]
MATERIALS = ["exc_local", "pkg_loose"]  # raw (1403, KG, batch LOT-1) and packaging (1411, EA, no batches)
FIRST_STANDARD = D("10.00")
ZERO = D("0")
CONSUMING = (accounts.PRODUCTION, accounts.OVERHEAD, accounts.COST_OF_GOODS_SOLD, accounts.SCRAP,
             accounts.STOCK_DIFFERENCES)
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


@dataclass
class Month:
    """One material's period totals, as the close reads them."""
    receipts_value: D = ZERO
    receipts_variance: D = ZERO
    inflow_value: D = ZERO
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
    on_hand: list[D] = field(default_factory=lambda: [ZERO, ZERO])
    opening: tuple[D, D, D] = (ZERO, ZERO, ZERO)  # quantity, value at standard, variance
    month: Month = field(default_factory=Month)
    consumed_closed: dict[str, D] = field(default_factory=dict)  # quantity per account, closed periods
    lot: bool = False  # the batch stock lives in exists (LOT-1; pkg_loose's no-batch batch once received)

    @property
    def quantity(self) -> D:
        return sum(self.on_hand, ZERO)


class Reference:
    """The events as they happened, and what the rules make of them."""

    def __init__(self) -> None:
        self.stock = {material: Stock() for material in MATERIALS}
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
            out[account] = share
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
        s.on_hand[0] -= quantity
        r.returned += quantity
        r.returned_value += contract_value
        self.lines[r.line].received -= quantity

    def issue(self, issue_id: int | None, material: str, warehouse: int, account: str, quantity: D) -> None:
        s = self.stock[material]
        value = quantity * s.standard
        s.month.consume(account, quantity, value)
        s.on_hand[warehouse] -= quantity
        if issue_id is not None:
            self.issues[issue_id] = Issue(material, self.period, warehouse, account, quantity, value)

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

    def adjust(self, material: str, warehouse: int, quantity: D, account: str) -> None:
        s = self.stock[material]
        value = abs(quantity) * s.standard
        if quantity > 0:
            s.month.inflow_value += value
            s.month.net_quantity += quantity
            s.month.net_value += value
        else:
            s.month.consume(account, -quantity, value)
        s.on_hand[warehouse] += quantity

    # the close (docs/costing.md)
    def close(self, period: str, next_standards: dict[str, D]) -> None:
        for material, s in self.stock.items():
            m = s.month
            q0, v0, w0 = s.opening
            base = v0 + m.receipts_value + m.inflow_value
            to_allocate = w0 + m.receipts_variance
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
material = st.sampled_from(MATERIALS)
ordinary = st.booleans()
operation = st.one_of(
    st.tuples(st.just("receive"), material, st.integers(10, 80).map(D), contract),
    st.tuples(st.just("issue"), material, quantity, st.sampled_from(list(IssueDestination)), warehouse),
    st.tuples(st.just("ship"), material, quantity, warehouse),
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
)
standard = st.sampled_from([D("9.50"), D("10.00"), D("11.00"), D("12.25")])
period_plan = st.tuples(
    st.lists(operation, min_size=1, max_size=12),
    # a new standard for the next period, set before this one closes
    st.dictionaries(material, standard, max_size=2),
    # before the close, lines owed goods: True, the goods arrive; False, the rest is credited
    st.lists(st.booleans(), min_size=4, max_size=4),
)


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
            for name in MATERIALS:
                session.add(StandardPrice(company_id=self.company, material_id=world.materials[name],
                                          period=PERIODS[0], price=FIRST_STANDARD))
        companies = frozenset({self.company})
        self.clerk = Actor(world.users["clerk_a"], "clerk", Role.CLERK, False, companies,
                           frozenset(self.warehouses))
        self.cost = Actor(world.users["cost_a"], "cost", Role.COST_ACCOUNTANT, False, companies)
        self.sales = Actor(world.users["sales_a"], "sales", Role.SALES, False, companies)
        self.ap = Actor(world.users["ap_a"], "ap", Role.ACCOUNTS_PAYABLE, False, companies)
        vat13_on_materials(session_factory, world)
        self.ref = Reference()

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

    def post(self, op: tuple, on: dt.date) -> None:
        """Post one generated event if the reference says it can be posted (else skip it):
        the services must then accept it."""
        kind, name = op[0], op[1]
        ref, s = self.ref, self.ref.stock[op[1]]
        material_id = self.world.materials[name]
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
                    services.ship_goods(session, self.sales, warehouse_id=self.warehouses[where],
                                        material_id=material_id, quantity=qty, posting_date=on,
                                        customer_id=self.world.customers["cust1"], reference="SO")
                    ref.issue(None, name, where, accounts.COST_OF_GOODS_SOLD, qty)
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
                open_issues = [n for n, i in reversed(ref.issues.items()) if i.material == name and not i.reversed]
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
                         and r.returned == 0 and r.quantity <= s.on_hand[0]]
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
                if not returnable or s.on_hand[0] == 0:
                    return
                receipt_id = returnable[op[3] % len(returnable)]
                r = ref.receipts[receipt_id]
                qty = min(op[2], r.quantity - r.returned, s.on_hand[0])
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
            else:  # pragma: no cover - the generator makes no other
                raise AssertionError(kind)

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
                       JournalLine.account_code.in_([accounts.MATERIAL_COST_VARIANCE, *CONSUMING]))
                .group_by(JournalLine.material_id, JournalLine.account_code)).all()
            assert {(names[m], a): D(amount) for m, a, amount in invoiced if amount} == {
                key: amount for key, amount in ref.invoice_lines.items() if amount}

    def set_standards(self, period: str, prices: dict[str, D]) -> None:
        with self.sf() as session, session.begin():
            set_standard_prices(session, self.cost, company_id=self.company, period=period,
                                prices=[PriceChange(self.world.materials[name], price)
                                        for name, price in sorted(prices.items())])


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plans=st.lists(period_plan, min_size=2, max_size=3))
# Always tried: docs/payables.md's credit memo of goods invoiced ahead, after part arrived,
# in the month after a close that consumed other goods: the 60 kg not delivered are credited
# off 1404, not off November's production (before 8ba0e1f, Cr 5001 for goods it never had).
@example(plans=[
    ([("receive", "exc_local", D(100), D("10.0000")), ("drain", "exc_local")], {}, [True] * 4),
    ([("ahead", "exc_local", D(100), D("10.0000"), D("0.30"), False), ("arrive", "exc_local", 0, D(40)),
      ("credit", "exc_local", 0, D(60), D("0.30"), False), ("issue", "exc_local", D(10), IssueDestination.PRODUCTION, 0)],
     {}, [True] * 4),
])
# Always tried: an issue reversed after its period's close under a new standard, and a
# drained material whose rounding residue goes to its largest line.
@example(plans=[
    ([("receive", "pkg_loose", D(30), D("10.0334")), ("issue", "pkg_loose", D(10), IssueDestination.PRODUCTION, 0),
      ("ship", "pkg_loose", D(10), 0), ("scrap", "pkg_loose", D(7), 0)], {"pkg_loose": D("11.00")}, [True] * 4),
    ([("reverse_issue", "pkg_loose", 0), ("invoice", "pkg_loose", 0, D(30), D("0.17"), True),
      ("drain", "pkg_loose")], {}, [True] * 4),
])
def test_the_close_allocates_as_the_variance_rate_says(
    session_factory: sessionmaker[Session], world: World, plans: list
) -> None:
    from erp import clock

    clock.pin_business_day(dt.date(2027, 2, 1))  # every period here has ended (conftest restores the day)
    note(f"plans: {plans!r}")
    month = Month_(session_factory, world)
    ref = month.ref
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
