"""Properties of the close that must hold after any sequence of postings and closes.

Postings into the next two periods, and new standard prices for them, may come before P
closes. After every close of a period P, for each company:
- the journal balances (its trial balance has equal debits and credits);
- per material, the variance account through P equals the variance the remaining stock
  carries (the close's closing variance), and is zero when no stock remains;
- the close's variance_remaining equals the company's 1404 balance through P (supplier
  invoices and credit memos at prices off the contract put part of their price difference
  on 1404: it must reach the close's rate like a receipt's variance);
- per material, the inventory account through P equals the closing stock value, which is
  the closing quantity at P's standard price (up to the half cent each posting may round).
Each example runs in a company of its own, so examples do not disturb each other.
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal as D

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from erp.auth.roles import Actor, Role
from erp.costing import accounts
from erp.costing.close import close_period
from erp.costing.balances import period_balances
from erp.costing.models import JournalLine, StandardPrice
from erp.costing.standards import PriceChange, set_standard_prices
from erp.posting.prices import price_in_force
from erp.inventory.models import StockBalance, StockMovement
from erp.errors import DomainError
from erp.inventory import services
from erp.inventory.services import AdjustmentKind, IssueDestination
from erp.masterdata.models import Company, Warehouse
from erp.masterdata.tax import line_amounts
from erp.payables.models import DocumentKind
from tests.payables import vat13_on_materials
from tests.stock import single_line_order, variance_carried
from tests.world import World

PERIODS = ["2026-11", "2026-12", "2027-01"]
MATERIALS = ["exc_local", "pkg_loose"]  # raw (1403, KG) and packaging (1411, EA, no batches)
_serial = itertools.count(1)

quantity = st.integers(min_value=1, max_value=120).map(D)
received = st.integers(min_value=50, max_value=400).map(D)
price = st.decimals(min_value=D("0.50"), max_value=D("30"), places=4)
operation = st.one_of(
    st.tuples(st.just("receive"), st.sampled_from(MATERIALS), received, price),
    st.tuples(st.just("issue"), st.sampled_from(MATERIALS), quantity, st.sampled_from(list(IssueDestination))),
    st.tuples(st.just("ship"), st.sampled_from(MATERIALS), quantity, st.none()),
    st.tuples(st.just("scrap"), st.sampled_from(MATERIALS), quantity, st.none()),
    st.tuples(st.just("count"), st.sampled_from(MATERIALS), st.integers(-50, 50).filter(bool).map(D), st.none()),
    # use up all stock of a material, over two consumption lines (the residue rule's case)
    st.tuples(st.just("drain"), st.sampled_from(MATERIALS), st.none(), st.none()),
    # put back the material's latest issue (at the standard in force on the day)
    st.tuples(st.just("reverse"), st.sampled_from(MATERIALS), st.none(), st.none()),
    # the supplier's invoice for the material's latest receipt not yet invoiced, at the
    # contract price plus this (a price difference, on 1404 for what is held)
    st.tuples(st.just("invoice"), st.sampled_from(MATERIALS), st.none(),
              st.decimals(min_value=D("-2"), max_value=D("2"), places=2)),
    # a credit memo for part of the material's latest invoice, at the invoice's price (of
    # goods received, or of goods invoiced ahead and not yet, or only partly, arrived)
    st.tuples(st.just("credit"), st.sampled_from(MATERIALS), quantity, st.none()),
    # a new order line invoiced before its goods arrive, at the contract price 10.00 plus
    # this (its difference waits on 1404 for the goods: R2)
    st.tuples(st.just("ahead"), st.sampled_from(MATERIALS), received,
              st.decimals(min_value=D("-2"), max_value=D("2"), places=2)),
    # the goods of the material's latest order line invoiced ahead arrive (this many, at most
    # what is still due on the line)
    st.tuples(st.just("arrive"), st.sampled_from(MATERIALS), quantity, st.none()),
)
months_ahead = st.sampled_from([1, 2])
period_plan = st.tuples(
    st.lists(operation, min_size=1, max_size=12),
    # new standards for one of the next two periods, set before this one closes
    st.lists(st.tuples(st.sampled_from(MATERIALS), price, months_ahead), max_size=2),
    # postings into the next two periods before this one closes (at the price in force there)
    st.lists(st.tuples(operation, months_ahead), max_size=4),
)


class Company_:  # noqa: N801 - a test-local fixture object
    def __init__(self, session_factory: sessionmaker[Session], world: World) -> None:
        self.sf, self.world = session_factory, world
        n = next(_serial)
        with session_factory() as session, session.begin():
            company = Company(code=f"P{n:03d}", name_zh="性质", name_en=f"Property {n}",
                              segment_id=world.segments["FORM"])
            warehouse = Warehouse(code=f"P{n:03d}-AMB", company=company, name_zh="常温", name_en="ambient",
                                  temp_min=D(10), temp_max=D(30), max_humidity=D(75))
            session.add_all([company, warehouse])
            session.flush()
            self.company, self.warehouse = company.id, warehouse.id
            for material in MATERIALS:
                session.add(StandardPrice(company_id=self.company, material_id=world.materials[material],
                                          period=PERIODS[0], price=D("10.00")))
        companies = frozenset({self.company})
        self.clerk = Actor(world.users["clerk_a"], "clerk", Role.CLERK, False, companies, frozenset({warehouse.id}))
        self.cost = Actor(world.users["cost_a"], "cost", Role.COST_ACCOUNTANT, False, companies)
        self.sales = Actor(world.users["sales_a"], "sales", Role.SALES, False, companies)
        self.ap = Actor(world.users["ap_a"], "ap", Role.ACCOUNTS_PAYABLE, False, companies)
        vat13_on_materials(session_factory, world)
        # (order line, quantity, contract price) received and not yet invoiced; invoiced
        # (order line, quantity, invoice price, invoice id) not yet credited
        self.uninvoiced: dict[str, list[tuple[int, D, D]]] = {material: [] for material in MATERIALS}
        self.invoiced: dict[str, list[tuple[int, D, D, int]]] = {material: [] for material in MATERIALS}
        self.booked_ahead: set[str] = set()  # materials with postings booked before an earlier month's
        self.issues: dict[str, list[int]] = {material: [] for material in MATERIALS}  # not yet reversed
        # (order line, quantity still due) invoiced ahead of its goods
        self.on_the_way: dict[str, list[tuple[int, D]]] = {material: [] for material in MATERIALS}

    def order_line(self, material: str, qty: D, unit_price: D) -> int:
        n = next(_serial)
        return single_line_order(self.sf, self.world, company_id=self.company, warehouse_id=self.warehouse,
                                 material=material, quantity=qty, unit_price=unit_price, contract_number=f"PK-{n}",
                                 order_number=f"PP-{n}")

    def post(self, op: tuple, on: dt.date) -> None:
        kind, material, qty, extra = op
        material_id = self.world.materials[material]
        batched = material == "exc_local"
        with self.sf() as session, session.begin():
            if kind == "receive":
                line = self.order_line(material, qty, extra)
                services.receive_goods(session, self.clerk, services.ReceiptRequest(
                    po_line_id=line, quantity=qty, posting_date=on, batch_number="LOT-1" if batched else None,
                    manufacture_date=dt.date(2026, 1, 1) if batched else None,
                    expiry_date=dt.date(2028, 6, 30) if batched else None))
                session.flush()
                self.uninvoiced[material].append((line, qty, extra))
            elif kind == "invoice":
                if not self.uninvoiced[material]:
                    raise DomainError("nothing received and not invoiced")
                line, received_qty, contract = self.uninvoiced[material][-1]
                unit_price = max(contract + extra, D("0.01"))
                invoice_id = self.enter(session, DocumentKind.INVOICE, line, received_qty, unit_price, on)
                self.uninvoiced[material].pop()
                self.invoiced[material].append((line, received_qty, unit_price, invoice_id))
            elif kind == "ahead":
                line = self.order_line(material, qty, D("10.00"))
                unit_price = max(D("10.00") + extra, D("0.01"))
                invoice_id = self.enter(session, DocumentKind.INVOICE, line, qty, unit_price, on)
                self.invoiced[material].append((line, qty, unit_price, invoice_id))
                self.on_the_way[material].append((line, qty))
            elif kind == "arrive":
                if not self.on_the_way[material]:
                    raise DomainError("nothing on its way")
                line, due = self.on_the_way[material][-1]
                arriving = min(qty, due)
                services.receive_goods(session, self.clerk, services.ReceiptRequest(
                    po_line_id=line, quantity=arriving, posting_date=on, batch_number="LOT-1" if batched else None,
                    manufacture_date=dt.date(2026, 1, 1) if batched else None,
                    expiry_date=dt.date(2028, 6, 30) if batched else None))
                session.flush()
                if arriving == due:
                    self.on_the_way[material].pop()
                else:
                    self.on_the_way[material][-1] = (line, due - arriving)
            elif kind == "credit":
                if not self.invoiced[material]:
                    raise DomainError("nothing invoiced")
                line, invoiced_qty, unit_price, invoice_id = self.invoiced[material][-1]
                self.enter(session, DocumentKind.CREDIT_MEMO, line, min(qty, invoiced_qty), unit_price, on,
                           credits=invoice_id)
                self.invoiced[material].pop()
            elif kind == "drain":
                on_hand = D(session.scalar(select(func.coalesce(func.sum(StockBalance.quantity), 0)).where(
                    StockBalance.warehouse_id == self.warehouse, StockBalance.material_id == material_id,
                    StockBalance.status == "unrestricted")))
                half = (on_hand / 2).to_integral_value(rounding="ROUND_FLOOR")
                for part, destination in ((half, IssueDestination.PRODUCTION),
                                          (on_hand - half, IssueDestination.COST_CENTER)):
                    if part > 0:
                        services.issue_goods(session, self.clerk, warehouse_id=self.warehouse,
                                             material_id=material_id, quantity=part, posting_date=on,
                                             destination=destination, cost_center="CC1")
            elif kind == "issue":
                self.issues[material].append(services.issue_goods(
                    session, self.clerk, warehouse_id=self.warehouse, material_id=material_id, quantity=qty,
                    posting_date=on, destination=extra, cost_center="CC1"))
            elif kind == "reverse":
                if not self.issues[material]:
                    raise DomainError("nothing issued yet")
                services.reverse_issue(session, self.clerk, document_id=self.issues[material][-1],
                                       posting_date=on, reason="property test")
                self.issues[material].pop()
            elif kind == "ship":
                services.ship_goods(session, self.sales, warehouse_id=self.warehouse, material_id=material_id,
                                    quantity=qty, posting_date=on, customer_id=self.world.customers["cust1"],
                                    reference="SO")
            else:
                batch = None
                if batched:
                    from erp.inventory.models import Batch

                    batch = session.scalar(select(Batch.id).where(Batch.material_id == material_id,
                                                                  Batch.batch_number == "LOT-1"))
                    if batch is None:
                        raise DomainError("no batch yet")
                services.adjust_stock(session, self.cost, warehouse_id=self.warehouse, material_id=material_id,
                                      quantity=-qty if kind == "scrap" else qty, posting_date=on,
                                      kind=AdjustmentKind.SCRAP if kind == "scrap" else AdjustmentKind.COUNT,
                                      reason="property test", batch_id=batch)

    def enter(self, session: Session, kind: DocumentKind, line: int, qty: D, unit_price: D, on: dt.date,
              credits: int | None = None) -> int:
        """An invoice or credit memo of one order line at ``unit_price``, its totals as computed."""
        from erp.payables import services as payables

        amounts = line_amounts(qty, unit_price, D("13"))
        invoice = payables.enter_invoice(session, self.ap, payables.InvoiceRequest(
            company_id=self.company, supplier_id=self.world.suppliers["sup1"], number=f"PI-{next(_serial)}",
            invoice_date=on, net_total=amounts.net, tax_total=amounts.tax, gross_total=amounts.net + amounts.tax,
            lines=[payables.LineRequest(po_line_id=line, quantity=qty, unit_price=unit_price)],
            credits_invoice_id=credits), kind)
        return invoice.id

    def set_standard(self, period: str, material: str, new_price: D) -> None:
        with self.sf() as session, session.begin():
            set_standard_prices(session, self.cost, company_id=self.company, period=period,
                                prices=[PriceChange(self.world.materials[material], new_price)])

    def check_after_close(self, period: str, remaining: D) -> None:
        with self.sf() as session:
            through = (JournalLine.company_id == self.company, JournalLine.period <= period)
            assert D(session.scalar(select(func.coalesce(func.sum(JournalLine.amount), 0)).where(*through))) == 0
            # the variance the close leaves with the stock is what 1404 holds, to the cent
            assert D(session.scalar(select(func.coalesce(func.sum(JournalLine.amount), 0)).where(
                *through, JournalLine.account_code == accounts.MATERIAL_COST_VARIANCE))) == remaining
            for material in MATERIALS:
                material_id = self.world.materials[material]
                balances = period_balances(session, [self.company], period).subquery()
                row = session.execute(select(balances).where(balances.c.material_id == material_id)).one_or_none()
                closing_quantity = row.closing_quantity if row else D(0)
                closing_value = row.closing_value if row else D(0)
                closing_variance = row.closing_variance if row else D(0)

                def account(code: str) -> D:
                    total = session.scalar(select(func.coalesce(func.sum(JournalLine.amount), 0)).where(
                        *through, JournalLine.account_code == code, JournalLine.material_id == material_id))
                    return D(total).quantize(D("0.01"))

                # 1404 per material is its material ledger (the close posts 1404 in one line
                # per company), tied to the journal's 1404 balance by variance_carried
                assert variance_carried(session, self.company, material_id, period) == closing_variance
                inventory = accounts.RAW_MATERIALS if material == "exc_local" else accounts.PACKAGING
                assert account(inventory) == closing_value
                # ... and that is the closing stock at P's standard, up to the half cent each
                # posting's rounding may leave
                standard = session.scalar(select(price_in_force(self.company, material_id, period)))
                postings = session.scalar(select(func.count(StockMovement.id)).where(
                    StockMovement.company_id == self.company, StockMovement.material_id == material_id,
                    StockMovement.period <= period)) or 0
                assert abs(closing_value - closing_quantity * standard) <= D("0.005") * postings
                if closing_quantity == 0:
                    assert closing_variance == 0
                    # Booked in date order, the last unit out takes the last cent. Booked
                    # out of order (a later month first), the cents rounding left may stay
                    # on no stock until the next close restates them (bounded above).
                    if material not in self.booked_ahead:
                        assert closing_value == 0


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plans=st.lists(period_plan, min_size=1, max_size=3))
# Always tried: new prices for December and January set in November, and a January receipt
# booked before November closes (November's close must not restate it at December's price).
@example(plans=[
    ([("receive", "exc_local", D(100), D("10.00"))], [("exc_local", D("11.00"), 1), ("exc_local", D("12.50"), 2)],
     [(("receive", "exc_local", D(50), D("12.50")), 2)]),
    ([("issue", "exc_local", D(30), IssueDestination.PRODUCTION)], [], []),
    ([("drain", "exc_local", None, None)], [], []),
])
# Always tried: docs/payables.md's case. An invoice after the close of the month its goods
# were mostly consumed in: the held part of its difference goes to 1404 and the next close,
# with the rest consumed, must spread it all; a credit memo's difference likewise.
@example(plans=[
    ([("receive", "exc_local", D(100), D("10.00")), ("issue", "exc_local", D(80), IssueDestination.PRODUCTION)],
     [], []),
    ([("invoice", "exc_local", None, D("0.30")), ("drain", "exc_local", None, None)], [], []),
])
@example(plans=[
    ([("receive", "pkg_loose", D(100), D("10.00")), ("invoice", "pkg_loose", None, D("0.30")),
      ("credit", "pkg_loose", D(20), None), ("issue", "pkg_loose", D(50), IssueDestination.PRODUCTION)], [], []),
])
# Always tried: credit memos of goods invoiced ahead (R2's mirror): one before any of them
# arrive, in the month of the invoice; one of the part not delivered after part arrived and
# a close, with some consumed in the next month.
@example(plans=[
    ([("ahead", "pkg_loose", D(100), D("0.30")), ("credit", "pkg_loose", D(100), None)], [], []),
])
@example(plans=[
    ([("receive", "exc_local", D(100), D("10.00")), ("issue", "exc_local", D(100), IssueDestination.PRODUCTION),
      ("ahead", "exc_local", D(100), D("0.30")), ("arrive", "exc_local", D(40), None)], [], []),
    ([("credit", "exc_local", D(60), None), ("issue", "exc_local", D(10), IssueDestination.PRODUCTION)], [], []),
])
def test_books_balance_and_variance_stays_with_the_stock(
    session_factory: sessionmaker[Session], world: World, plans: list
) -> None:
    from erp import clock

    clock.pin_business_day(dt.date(2027, 2, 1))  # every period here has ended (conftest restores the day)
    company = Company_(session_factory, world)

    def post_all(operations: list[tuple[tuple, str]], *, day: int, ahead: bool = False) -> None:
        for op, period in operations:
            try:
                company.post(op, dt.date(int(period[:4]), int(period[5:]), day))
            except DomainError:
                continue  # refused (e.g. not enough stock): nothing was written
            if ahead:
                company.booked_ahead.add(op[1])

    def later(period: str, months: int) -> str | None:
        index = PERIODS.index(period) + months
        return PERIODS[index] if index < len(PERIODS) else None

    for period, (operations, standards, ahead) in zip(PERIODS, plans, strict=False):
        post_all([(op, period) for op in operations], day=15)
        for material, new_price, months in standards:
            target = later(period, months)
            if target:
                try:
                    company.set_standard(target, material, new_price)
                except DomainError:
                    pass  # refused: postings there already use the price in force
        post_all([(op, target) for op, months in ahead if (target := later(period, months))], day=5, ahead=True)
        with session_factory() as session, session.begin():
            result = close_period(session, company.cost, company_id=company.company, period=period)
        company.check_after_close(period, result.variance_remaining)
