"""Reversing every document undoes it exactly (issue #13, Must show: the property test).

Random sequences over up to three months of receipts, issues, transfers between two
warehouses, partial returns to the supplier, issue reversals, new standard prices for the
next month and month-end closes. Then, in the month after, every document still standing
is undone in an order the rules allow (issues reversed in a random order, transferred stock
moved back, each receipt reversed, or, when part of it went back already, the rest
returned). Afterwards, for the company (each example has its own):
- every stock balance is zero, in quantity and value;
- every account's balance is zero (GR/IR, inventory, material cost variance and every
  consumption account that bore variance at a close);
and at every close, no variance rate divided amounts valued at two standard prices: the
opening stock and the receipts a rate divides are valued at the period's standard (up to
the half cent each posting rounds).
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from decimal import Decimal as D

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from erp import clock
from erp.auth.roles import Actor, Role
from erp.costing.close import close_period
from erp.costing.balances import period_balances
from erp.costing.models import JournalLine, StandardPrice
from erp.costing.standards import PriceChange, set_standard_prices
from erp.errors import DomainError
from erp.inventory import services
from erp.inventory.models import Batch, StockBalance, StockMovement
from erp.inventory.services import IssueDestination
from erp.masterdata.models import Company, Warehouse
from erp.posting.prices import price_in_force
from tests.stock import single_line_order
from tests.world import World

PERIODS = ["2026-11", "2026-12", "2027-01"]
UNWIND_DAY = dt.date(2027, 2, 10)
MATERIALS = ["exc_local", "pkg_loose"]  # raw (1403, batches) and packaging (1411, no batches)
_serial = itertools.count(1)

quantity = st.integers(min_value=1, max_value=120).map(D)
received = st.integers(min_value=20, max_value=300).map(D)
price = st.decimals(min_value=D("0.50"), max_value=D("30"), places=4)
material = st.sampled_from(MATERIALS)
operation = st.one_of(
    st.tuples(st.just("receive"), material, received, price),
    st.tuples(st.just("issue"), material, quantity, st.sampled_from(list(IssueDestination))),
    st.tuples(st.just("transfer"), material, quantity, st.sampled_from(["out", "back"])),
    st.tuples(st.just("return"), material, quantity, st.none()),
    st.tuples(st.just("reverse"), material, st.none(), st.none()),
)
period_plan = st.tuples(
    st.lists(operation, min_size=1, max_size=10),
    # a new standard for the next month, set before this one closes
    st.lists(st.tuples(material, price), max_size=2),
)


class Books:
    """One company with two ambient warehouses, its clerk and cost accountant."""

    def __init__(self, session_factory: sessionmaker[Session], world: World) -> None:
        self.sf, self.world = session_factory, world
        n = next(_serial)
        with session_factory() as session, session.begin():
            company = Company(code=f"R{n:03d}", name_zh="冲销", name_en=f"Reversal {n}",
                              segment_id=world.segments["FORM"])
            stores = [Warehouse(code=f"R{n:03d}-{k}", company=company, name_zh="常温", name_en="ambient",
                                temp_min=D(10), temp_max=D(30), max_humidity=D(75)) for k in (1, 2)]
            session.add_all([company, *stores])
            session.flush()
            self.company, self.stores = company.id, [w.id for w in stores]
            for code in MATERIALS:
                session.add(StandardPrice(company_id=self.company, material_id=world.materials[code],
                                          period=PERIODS[0], price=D("10.00")))
        companies = frozenset({self.company})
        self.clerk = Actor(world.users["clerk_a"], "clerk", Role.CLERK, False, companies, frozenset(self.stores))
        self.cost = Actor(world.users["cost_a"], "cost", Role.COST_ACCOUNTANT, False, companies)
        self.receipts: dict[str, list[int]] = {code: [] for code in MATERIALS}
        self.issues: dict[str, list[int]] = {code: [] for code in MATERIALS}  # not yet reversed

    def order_line(self, code: str, qty: D, unit_price: D) -> int:
        n = next(_serial)
        return single_line_order(self.sf, self.world, company_id=self.company, warehouse_id=self.stores[0],
                                 material=code, quantity=qty, unit_price=unit_price, contract_number=f"RK-{n}",
                                 order_number=f"RP-{n}")

    def batch(self, session: Session, code: str) -> int | None:
        if code != "exc_local":
            return None
        return session.scalar(select(Batch.id).where(Batch.material_id == self.world.materials[code],
                                                     Batch.batch_number == "LOT-1"))

    def on_hand(self, session: Session, code: str, store: int) -> D:
        return D(session.scalar(select(func.coalesce(func.sum(StockBalance.quantity), 0)).where(
            StockBalance.warehouse_id == store, StockBalance.material_id == self.world.materials[code])))

    def post(self, op: tuple, on: dt.date) -> None:
        kind, code, qty, extra = op
        material_id = self.world.materials[code]
        batched = code == "exc_local"
        with self.sf() as session, session.begin():
            if kind == "receive":
                line = self.order_line(code, qty, extra)
                self.receipts[code].append(services.receive_goods(session, self.clerk, services.ReceiptRequest(
                    po_line_id=line, quantity=qty, posting_date=on, batch_number="LOT-1" if batched else None,
                    manufacture_date=dt.date(2026, 10, 1) if batched else None,
                    expiry_date=dt.date(2029, 9, 30) if batched else None)))
            elif kind == "issue":
                self.issues[code].append(services.issue_goods(
                    session, self.clerk, warehouse_id=self.stores[0], material_id=material_id, quantity=qty,
                    posting_date=on, destination=extra, cost_center="CC1"))
            elif kind == "transfer":
                source, target = self.stores if extra == "out" else self.stores[::-1]
                services.transfer_stock(session, self.clerk, from_warehouse_id=source, to_warehouse_id=target,
                                        material_id=material_id, quantity=qty, posting_date=on,
                                        batch_id=self.batch(session, code))
            elif kind == "return":
                if not self.receipts[code]:
                    raise DomainError("nothing received yet")
                services.return_to_supplier(session, self.clerk, receipt_document_id=self.receipts[code][-1],
                                            posting_date=on, reason="property test", quantity=qty)
            else:
                if not self.issues[code]:
                    raise DomainError("nothing issued yet")
                services.reverse_issue(session, self.clerk, document_id=self.issues[code][-1], posting_date=on,
                                       reason="property test")
                self.issues[code].pop()

    def unwind(self, shuffle: random.Random) -> None:
        """Undo every document still standing, on UNWIND_DAY, in an order the rules allow."""
        issues = [(code, document) for code in MATERIALS for document in self.issues[code]]
        shuffle.shuffle(issues)
        for code, document in issues:
            with self.sf() as session, session.begin():
                services.reverse_issue(session, self.clerk, document_id=document, posting_date=UNWIND_DAY,
                                       reason="unwind")
        for code in MATERIALS:
            with self.sf() as session, session.begin():
                away = self.on_hand(session, code, self.stores[1])
                if away:
                    services.transfer_stock(session, self.clerk, from_warehouse_id=self.stores[1],
                                            to_warehouse_id=self.stores[0], material_id=self.world.materials[code],
                                            quantity=away, posting_date=UNWIND_DAY,
                                            batch_id=self.batch(session, code))
        receipts = [(code, document) for code in MATERIALS for document in self.receipts[code]]
        shuffle.shuffle(receipts)
        for code, document in receipts:
            with self.sf() as session, session.begin():
                try:
                    with session.begin_nested():
                        services.reverse_receipt(session, self.clerk, document_id=document,
                                                 posting_date=UNWIND_DAY, reason="unwind")
                except services.NotReversible:
                    # part of it went back already: the rest goes back too
                    try:
                        with session.begin_nested():
                            services.return_to_supplier(session, self.clerk, receipt_document_id=document,
                                                        posting_date=UNWIND_DAY, reason="unwind")
                    except services.InsufficientStock:
                        pass  # everything of it went back already

    def check_rates_divide_one_standard(self, period: str) -> None:
        """At the close of ``period``, the opening stock and the receipts its rate divides are
        valued at the period's standard (up to the half cent each posting rounds)."""
        with self.sf() as session:
            for code in MATERIALS:
                material_id = self.world.materials[code]
                balances = period_balances(session, [self.company], period).subquery()
                row = session.execute(select(balances).where(balances.c.material_id == material_id)).one_or_none()
                if row is None:
                    continue
                standard = session.scalar(select(price_in_force(self.company, material_id, period)))
                postings = session.scalar(select(func.count(StockMovement.id)).where(
                    StockMovement.company_id == self.company, StockMovement.material_id == material_id,
                    StockMovement.period <= period)) or 0
                tolerance = D("0.005") * (postings + 1)
                assert abs(row.opening_value - row.opening_quantity * standard) <= tolerance
                assert abs(row.receipts_value - row.receipts_quantity * standard) <= tolerance


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plans=st.lists(period_plan, min_size=1, max_size=3), shuffle=st.randoms(use_true_random=False))
# Always tried: issue 7 of the issue (standard 10.00, 100 received at 11.00, 50 issued,
# November closed, standard 20.00 from December, the issue reversed in December) with a
# second issue to the same account, so the reversal takes the share posted for it.
@example(plans=[
    ([("receive", "exc_local", D(100), D("11.00")), ("issue", "exc_local", D(30), IssueDestination.PRODUCTION),
      ("issue", "exc_local", D(20), IssueDestination.PRODUCTION)], [("exc_local", D("20.00"))]),
    ([("reverse", "exc_local", None, None)], []),
], shuffle=random.Random(1))
# and three issues to one account sharing a variance that does not divide by three
@example(plans=[
    ([("receive", "pkg_loose", D(7), D("10.0100")), ("issue", "pkg_loose", D(1), IssueDestination.PRODUCTION),
      ("issue", "pkg_loose", D(1), IssueDestination.PRODUCTION), ("issue", "pkg_loose", D(1),
                                                                   IssueDestination.PRODUCTION)], []),
], shuffle=random.Random(2))
def test_reversing_every_document_brings_every_balance_back_to_zero(
    session_factory: sessionmaker[Session], world: World, plans: list, shuffle: random.Random
) -> None:
    clock.pin_business_day(dt.date(2027, 3, 1))  # every month here has ended (conftest restores the day)
    books = Books(session_factory, world)
    for period, (operations, standards) in zip(PERIODS, plans, strict=False):
        day = dt.date(int(period[:4]), int(period[5:]), 15)
        for op in operations:
            try:
                books.post(op, day)
            except DomainError:
                continue  # refused (not enough stock, nothing to reverse ...): nothing was written
        following = PERIODS[PERIODS.index(period) + 1] if period != PERIODS[-1] else "2027-02"
        for code, new_price in standards:
            with session_factory() as session, session.begin():
                set_standard_prices(session, books.cost, company_id=books.company, period=following,
                                    prices=[PriceChange(world.materials[code], new_price)])
        with session_factory() as session, session.begin():
            close_period(session, books.cost, company_id=books.company, period=period)
        books.check_rates_divide_one_standard(period)

    books.unwind(shuffle)

    with session_factory() as session:
        left = session.execute(select(StockBalance.warehouse_id, StockBalance.material_id, StockBalance.status,
                                      StockBalance.quantity, StockBalance.value)
                               .where(StockBalance.company_id == books.company,
                                      (StockBalance.quantity != 0) | (StockBalance.value != 0))).all()
        assert left == []
        # summed to the cent: on SQLite a sum of amounts is a binary float (-0.00 is zero)
        accounts = session.execute(select(JournalLine.account_code, func.sum(JournalLine.amount))
                                   .where(JournalLine.company_id == books.company)
                                   .group_by(JournalLine.account_code)
                                   .having(func.round(func.sum(JournalLine.amount), 2) != 0)).all()
        assert accounts == []
