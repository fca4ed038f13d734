"""The month-end close by the planned-cost method (材料成本差异率), with worked examples.

Every expected number below is worked out by hand in the comments:

    rate = (opening variance + receipts' variance) / (opening at standard + receipts at standard)
    each consumption line bears round(consumed at standard x rate, 2); the rest stays with stock;
    with no stock left, the residue goes to the largest consumption line.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import weakref
from decimal import Decimal as D
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from erp.costing import close as closing
from erp.costing.balances import period_balances
from erp.costing.errors import PeriodClosed
from erp.costing.models import (
    AccountingPeriod,
    JournalEntry,
    JournalLine,
    MaterialPeriodBalance,
    PeriodEvent,
    VarianceAllocation,
)
from erp.costing.standards import PriceChange, set_standard_prices
from erp.errors import Forbidden
from erp.inventory import services
from erp.inventory.services import AdjustmentKind, IssueDestination
from erp.period import Period
from tests.stock import (
    account_balance,
    batch_id,
    open_order,
    receive,
    set_standard,
    variance_carried,
    variance_ledger,
)
from tests.world import World

# Per session factory (one per test): how each close through ``Books.close`` changed each
# material's variance in 1404's material ledger, by (company, period, material).
CLOSE_CHANGES: weakref.WeakKeyDictionary[sessionmaker[Session], dict[tuple[int, str, int], D]] = (
    weakref.WeakKeyDictionary())

NOV, DEC = "2026-11", "2026-12"


@pytest.fixture(autouse=True)
def _winter_2027(set_business_day) -> None:  # noqa: ANN001
    """These scenarios post into January 2027 and close December: they run on 1 March 2027."""
    set_business_day(dt.date(2027, 3, 1))


NOV_25, DEC_10 = dt.date(2026, 11, 25), dt.date(2026, 12, 10)
JAN, JAN_5 = "2027-01", dt.date(2027, 1, 5)


class Books:
    """Postings for company A's excipient (raw material, account 1403) in the ambient store."""

    def __init__(self, session_factory: sessionmaker[Session], world: World, material: str = "exc_local") -> None:
        self.sf, self.world, self.material = session_factory, world, material
        self.company = world.companies["A"]
        self.material_id = world.materials[material]
        self.warehouse = "A-COOL" if material == "api_central" else "A-AMB"

    def receive(self, quantity: str, price: str, *, batch: str, on: dt.date = dt.date(2026, 11, 20)) -> int:
        (line,) = open_order(self.sf, self.world, [(self.material, quantity, price, self.warehouse)])
        return receive(self.sf, self.world, line, quantity, batch=batch, on=on)

    def issue(self, quantity: str, destination: IssueDestination = IssueDestination.PRODUCTION,
              on: dt.date = NOV_25) -> int:
        with self.sf() as session, session.begin():
            return services.issue_goods(
                session, self.world.actors["clerk_a"], warehouse_id=self.world.warehouses[self.warehouse],
                material_id=self.material_id, quantity=D(quantity), posting_date=on, destination=destination,
                cost_center="QC-LAB" if destination == IssueDestination.COST_CENTER else None)

    def ship(self, quantity: str, on: dt.date = NOV_25) -> int:
        with self.sf() as session, session.begin():
            return services.ship_goods(
                session, self.world.actors["sales_a"], warehouse_id=self.world.warehouses[self.warehouse],
                material_id=self.material_id, quantity=D(quantity), posting_date=on,
                customer_id=self.world.customers["cust1"], reference="SO-1")

    def scrap(self, quantity: str, batch: str, on: dt.date = NOV_25) -> int:
        with self.sf() as session, session.begin():
            return services.adjust_stock(
                session, self.world.actors["cost_a"], warehouse_id=self.world.warehouses[self.warehouse],
                material_id=self.material_id, quantity=-D(quantity), posting_date=on, kind=AdjustmentKind.SCRAP,
                reason="damaged", batch_id=batch_id(self.sf, self.world, self.material, batch))

    def reverse(self, document: int, on: dt.date) -> int:
        """Reverse a receipt or an issue of this material."""
        from tests.stock import reverse

        return reverse(self.sf, self.world, document, on=on)

    def close(self, period: str = NOV, user: str = "cost_a") -> closing.CloseResult:
        """Close ``period``, noting how the close changed each material's variance in
        1404's material ledger (``close_lines``)."""
        with self.sf() as session:
            before = variance_ledger(session, self.company, period)
        with self.sf() as session, session.begin():
            result = closing.close_period(session, self.world.actors[user], company_id=self.company, period=period)
        with self.sf() as session:
            after = variance_ledger(session, self.company, period)
        changes = CLOSE_CHANGES.setdefault(self.sf, {})
        for material in before.keys() | after.keys():
            changes[self.company, period, material] = after.get(material, D(0)) - before.get(material, D(0))
        return result

    def reopen(self, period: str = NOV, user: str = "cost_group", reason: str = "late invoice") -> None:
        with self.sf() as session, session.begin():
            closing.reopen_period(session, self.world.actors[user], company_id=self.company, period=period,
                                  reason=reason)

    def row(self, period: str = NOV) -> Any:
        """The material's balance in a closed period (its latest close's when it did not move)."""
        with self.sf() as session:
            balances = period_balances(session, [self.company], period).subquery()
            return session.execute(select(balances).where(balances.c.material_id == self.material_id)).one()

    def variance_account(self) -> D:
        with self.sf() as session:
            return variance_carried(session, self.company, self.material_id)

    def balance(self, account: str) -> D:
        with self.sf() as session:
            return account_balance(session, self.company, account)

    def close_lines(self, period: str = NOV) -> dict[str, D]:
        """What the close gave each consumption account for this material (the allocation
        lines), and what the variance account gave up for it: the close posts 1404 in one
        line per company, so the material's part is how the close (``close``) changed the
        material's variance in 1404's material ledger, which ``variance_ledger`` ties to the
        journal's 1404."""
        with self.sf() as session:
            allocated = session.execute(
                select(VarianceAllocation.account_code, VarianceAllocation.allocated_variance).where(
                    VarianceAllocation.company_id == self.company, VarianceAllocation.period == period,
                    VarianceAllocation.material_id == self.material_id)).all()
            posted = session.execute(
                select(func.count(JournalLine.id), func.sum(JournalLine.amount))
                .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
                .where(JournalEntry.source_type == "period_close", JournalLine.period == period,
                       JournalLine.company_id == self.company, JournalLine.account_code == "1404")).one()
            every_material = session.scalar(
                select(func.sum(VarianceAllocation.allocated_variance)).where(
                    VarianceAllocation.company_id == self.company, VarianceAllocation.period == period))
        lines = {account: amount for account, amount in allocated if amount != 0}
        # the journal's 1404 line gives up what the allocation rows of every material bore
        # (no line when that nets to zero)
        assert (posted[1] or D(0)) == -(every_material or D(0)) and (posted[0] == 0) == (posted[1] in (None, 0))
        if lines:
            lines["1404"] = CLOSE_CHANGES[self.sf][self.company, period, self.material_id]
        return lines

    def close_entry(self, period: str = NOV) -> dict[str, D]:
        """The close entry's lines by account, over all materials."""
        with self.sf() as session:
            rows = session.execute(
                select(JournalLine.account_code, func.sum(JournalLine.amount))
                .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
                .where(JournalEntry.source_type == "period_close", JournalLine.period == period,
                       JournalLine.company_id == self.company)
                .group_by(JournalLine.account_code)).all()
        return {account: D(amount).quantize(D("0.01")) for account, amount in rows}


@pytest.fixture
def books(session_factory: sessionmaker[Session], world: World) -> Books:
    set_standard(session_factory, world, "exc_local", "10.00", period=NOV)
    return Books(session_factory, world)


# --- worked examples ------------------------------------------------------------------------

def test_receipts_at_several_prices_and_partial_consumption(books: Books) -> None:
    books.receive("100", "10.50", batch="R1")  # standard 1,000.00, contract 1,050.00, variance  +50.00
    books.receive("200", "9.80", batch="R2")  # standard 2,000.00, contract 1,960.00, variance  -40.00
    books.issue("150")  # production  1,500.00 at standard
    books.issue("30", IssueDestination.COST_CENTER)  # cost centre 300.00
    books.close()
    # rate = (0 + 10.00) / (0 + 3,000.00) = 1/300
    # production bears 1,500.00 / 300 = 5.00; the cost centre 300.00 / 300 = 1.00
    assert books.close_lines() == {"5001": D("5.00"), "5101": D("1.00"), "1404": D("-6.00")}
    assert books.close_entry() == {"5001": D("5.00"), "5101": D("1.00"), "1404": D("-6.00")}
    row = books.row()
    assert (row.receipts_value, row.receipts_variance) == (D("3000.00"), D("10.00"))
    assert row.variance_rate == D("0.0033333333")
    assert (row.consumption_value, row.consumption_variance) == (D("1800.00"), D("6.00"))
    # 120 kg remain at 1,200.00 and carry 10.00 - 6.00 = 4.00
    assert (row.closing_quantity, row.closing_value, row.closing_variance) == (D("120"), D("1200.00"), D("4.00"))
    assert books.variance_account() == D("4.00")


def test_full_consumption_sends_the_rounding_residue_to_the_largest_line(books: Books) -> None:
    books.receive("30", "10.0334", batch="R1")  # standard 300.00; contract 301.002 -> 301.00; variance 1.00
    books.issue("10")  # production 100.00
    books.issue("10", IssueDestination.COST_CENTER)  # cost centre 100.00
    books.scrap("10", batch="R1")  # scrap 100.00
    books.close()
    # rate = 1.00 / 300.00; each line: 100.00 / 300 = 0.333... -> 0.33; together 0.99
    # no stock remains, so the residue 0.01 goes to the largest line; all are equal, the
    # tie goes to the lowest account code, production (5001): 0.34
    assert books.close_lines() == {"5001": D("0.34"), "5101": D("0.33"), "6711": D("0.33"), "1404": D("-1.00")}
    assert books.row().closing_variance == D("0.00")
    assert books.variance_account() == D("0.00")


def test_a_continuing_close_sends_the_residue_to_the_largest_line_then_the_lowest_account(books: Books) -> None:
    """The same rule when the company's previous period is closed (the close then takes the
    consumption lines from the pass over the period's totals, not by ranking them apart)."""
    books.close()
    books.receive("30", "10.0334", batch="R2", on=DEC_10)  # standard 300.00, variance 1.00
    books.issue("7", on=DEC_10)  # production 70.00: 0.2333 -> 0.23
    books.issue("10", IssueDestination.COST_CENTER, on=DEC_10)  # cost centre 100.00: 0.33
    books.scrap("13", batch="R2", on=DEC_10)  # scrap 130.00: 0.4333 -> 0.43, the largest
    books.close(DEC)
    # together 0.99; no stock remains, so the residue 0.01 goes to the largest line, scrap
    # (6711), though its account is the highest
    assert books.close_lines(DEC) == {"5001": D("0.23"), "5101": D("0.33"), "6711": D("0.44"), "1404": D("-1.00")}
    # the entry the continuing close posted (its lines summed in the allocation statement
    # from the rows it wrote, not read back from them)
    assert books.close_entry(DEC) == {"5001": D("0.23"), "5101": D("0.33"), "6711": D("0.44"), "1404": D("-1.00")}
    assert books.row(DEC).closing_variance == D("0.00")
    books.receive("30", "10.0334", batch="R3", on=JAN_5)  # again 300.00 and 1.00
    books.issue("10", on=JAN_5)
    books.issue("10", IssueDestination.COST_CENTER, on=JAN_5)
    books.scrap("10", batch="R3", on=JAN_5)
    books.close(JAN)
    # three lines of 100.00, 0.33 each: the tie goes to the lowest account, production
    assert books.close_lines(JAN) == {"5001": D("0.34"), "5101": D("0.33"), "6711": D("0.33"), "1404": D("-1.00")}
    assert books.close_entry(JAN) == {"5001": D("0.34"), "5101": D("0.33"), "6711": D("0.33"), "1404": D("-1.00")}
    assert books.variance_account() == D("0.00")


def test_partial_consumption_leaves_the_rounding_residue_with_the_stock(books: Books) -> None:
    books.receive("30", "10.0334", batch="R1")  # standard 300.00, variance 1.00
    books.issue("10")  # 100.00 -> 100 / 300 = 0.333 -> 0.33
    books.close()
    assert books.close_lines() == {"5001": D("0.33"), "1404": D("-0.33")}
    # 20 kg remain and carry 1.00 - 0.33 = 0.67 (200.00 x 1/300 = 0.666..., the residue stays)
    assert books.row().closing_variance == D("0.67")
    assert books.variance_account() == D("0.67")


def test_favourable_variance_is_credited_to_consumption(books: Books) -> None:
    books.receive("100", "9.00", batch="R1")  # standard 1,000.00, contract 900.00, variance -100.00
    books.issue("25")  # 250.00
    books.close()
    # rate = -100 / 1,000 = -0.1: production is credited 25.00, the variance account debited
    assert books.close_lines() == {"5001": D("-25.00"), "1404": D("25.00")}
    assert books.row().closing_variance == D("-75.00")


def test_no_receipts_only_the_opening_variance(books: Books, session_factory: sessionmaker[Session],
                                               world: World) -> None:
    books.receive("100", "10.50", batch="R1")  # +50.00
    books.receive("200", "9.80", batch="R2")  # -40.00
    books.issue("180")  # 1,800.00 bears 6.00; 120 kg carry 4.00 into December
    books.close()
    books.issue("60", on=DEC_10)  # December price carried forward: 10.00; 600.00 at standard
    books.close(DEC)
    # December: rate = (4.00 + 0) / (1,200.00 + 0); production bears 600 x 4 / 1,200 = 2.00
    assert books.close_lines(DEC) == {"5001": D("2.00"), "1404": D("-2.00")}
    december = books.row(DEC)
    assert (december.opening_quantity, december.opening_value, december.opening_variance) == (
        D("120"), D("1200.00"), D("4.00"))
    assert (december.closing_quantity, december.closing_value, december.closing_variance) == (
        D("60"), D("600.00"), D("2.00"))


def test_shipments_bear_variance_in_cost_of_goods_sold(books: Books) -> None:
    books.receive("100", "11.00", batch="R1")  # standard 1,000.00, variance +100.00
    books.ship("40")  # 400.00 to cost of goods sold
    books.close()
    assert books.close_lines() == {"6401": D("40.00"), "1404": D("-40.00")}


def test_several_materials_close_independently_and_net_in_the_journal(
    books: Books, session_factory: sessionmaker[Session], world: World
) -> None:
    set_standard(session_factory, world, "pkg_loose", "2.00", period=NOV)
    loose = Books(session_factory, world, "pkg_loose")
    books.receive("100", "10.50", batch="R1")  # +50.00 on 1,000.00
    books.issue("50")  # 500.00 bears 25.00
    (line,) = open_order(session_factory, world, [("pkg_loose", "1000", "1.90", "A-AMB")])
    receive(session_factory, world, line, "1000", batch=None, made=None, expires=None)  # 2,000.00, -100.00
    loose.issue("250")  # 500.00 bears 500 x -100 / 2,000 = -25.00
    result = books.close()
    assert books.close_lines() == {"5001": D("25.00"), "1404": D("-25.00")}
    assert loose.close_lines() == {"5001": D("-25.00"), "1404": D("25.00")}
    # in the journal, production's two shares net to zero, and so does 1404: the close moves
    # nothing there and posts no entry; the allocation rows and 1404's material ledger keep
    # the two materials apart (close_lines above)
    assert books.close_entry() == {}
    assert result.materials == 2
    assert (result.variance_allocated, result.variance_remaining) == (D("0.00"), D("-50.00"))
    assert result.journal_entry_id is None
    with session_factory() as session:
        entries = session.scalars(select(JournalEntry.id).where(JournalEntry.source_type == "period_close")).all()
    assert entries == []


# --- standard price changes -------------------------------------------------------------------

def test_new_standard_for_a_closed_period_revalues_the_stock_to_variance(
    books: Books, session_factory: sessionmaker[Session], world: World
) -> None:
    books.receive("100", "10.50", batch="R1")
    books.receive("200", "9.80", batch="R2")
    books.issue("180")
    books.close()  # 120 kg at 1,200.00 carrying 4.00 into December, at 10.00 (still in force)
    with session_factory() as session, session.begin():
        set_standard_prices(session, world.actors["cost_a"], company_id=books.company, period=DEC,
                            prices=[PriceChange(books.material_id, D("11.00"))])
    # 120 kg x 11.00 = 1,320.00: inventory +120.00, variance -120.00 (actual cost unchanged)
    assert books.balance("1403") == D("1320.00")
    assert books.variance_account() == D("-116.00")
    books.issue("60", on=DEC_10)  # 660.00 at the new standard
    books.close(DEC)
    # rate = (4.00 - 120.00) / (1,200.00 + 120.00) = -116 / 1,320; production bears 660 x that = -58.00
    assert books.close_lines(DEC) == {"5001": D("-58.00"), "1404": D("58.00")}
    december = books.row(DEC)
    assert (december.opening_value, december.opening_variance) == (D("1320.00"), D("-116.00"))
    # the 60 kg left: 660.00 - 58.00 = 602.00 actual = 60 x (1,204.00 / 120), as before the change
    assert (december.closing_value, december.closing_variance) == (D("660.00"), D("-58.00"))


def test_new_standard_set_before_the_close_is_applied_by_the_close(
    books: Books, session_factory: sessionmaker[Session], world: World
) -> None:
    books.receive("100", "10.00", batch="R1")  # no variance
    set_standard(session_factory, world, "exc_local", "12.00", period=DEC)
    books.close()
    # the close restates the 100 kg at December's 12.00 on 1 December: +200.00 / -200.00
    assert books.balance("1403") == D("1200.00")
    assert books.variance_account() == D("-200.00")
    with session_factory() as session:
        assert session.scalar(select(JournalEntry.entry_date).where(
            JournalEntry.source_type == "stock_document", JournalEntry.period == DEC)) == dt.date(2026, 12, 1)


def test_the_close_restates_only_the_stock_held_when_the_next_period_opens(
    books: Books, session_factory: sessionmaker[Session], world: World
) -> None:
    set_standard(session_factory, world, "exc_local", "11.00", period=DEC)
    set_standard(session_factory, world, "exc_local", "12.00", period=JAN)
    books.receive("100", "10.00", batch="R1")  # November: 1,000.00
    books.receive("10", "12.00", batch="R2", on=JAN_5)  # posted ahead at January's 12.00: 120.00
    books.close()
    # only November's 100 kg are restated at December's 11.00 (+100.00); January's 10 kg
    # were never held in December and keep their 120.00
    assert books.balance("1403") == D("1220.00")
    assert books.variance_account() == D("-100.00")
    books.close(DEC)
    # December's closing 100 kg restated at January's 12.00 (+100.00): 110 kg x 12.00
    assert books.balance("1403") == D("1320.00")
    assert books.variance_account() == D("-200.00")


def test_a_price_changed_for_the_next_period_is_restated_whatever_other_materials_cost(
    books: Books, session_factory: sessionmaker[Session], world: World
) -> None:
    # exc_local goes from 10.00 (November) to 12.00 (January); the only price set for
    # December is the packaging's, also 12.00: exc_local's change is its own, against its own
    # price in force before, not against whichever price was set last for any material
    set_standard(session_factory, world, "pkg_loose", "12.00", period=DEC)
    set_standard(session_factory, world, "exc_local", "12.00", period=JAN)
    books.receive("100", "10.00", batch="R1")  # November: 1,000.00
    books.close()
    books.close(DEC)
    # December's closing 100 kg restated at January's 12.00 (+200.00)
    assert books.balance("1403") == D("1200.00")
    assert books.variance_account() == D("-200.00")


def test_a_price_set_after_later_postings_restates_only_the_stock_held_then(
    books: Books, session_factory: sessionmaker[Session], world: World
) -> None:
    books.receive("100", "10.00", batch="R1")
    books.close()  # November closed: 100 kg at 10.00 open December
    set_standard(session_factory, world, "exc_local", "12.00", period=JAN)
    books.receive("10", "12.00", batch="R2", on=JAN_5)  # January, with December still open
    with session_factory() as session, session.begin():
        set_standard_prices(session, world.actors["cost_a"], company_id=books.company, period=DEC,
                            prices=[PriceChange(books.material_id, D("11.00"))])
    # restated on 1 December: the 100 kg held then (+100.00), not January's 10 kg
    assert books.balance("1403") == D("1220.00")
    assert books.variance_account() == D("-100.00")
    # setting the same price again restates nothing more
    with session_factory() as session, session.begin():
        set_standard_prices(session, world.actors["cost_a"], company_id=books.company, period=DEC,
                            prices=[PriceChange(books.material_id, D("11.00"))])
    assert books.balance("1403") == D("1220.00")


def test_an_earlier_months_outflow_booked_after_a_later_months_leaves_at_its_own_standard(
    books: Books, session_factory: sessionmaker[Session], world: World
) -> None:
    set_standard(session_factory, world, "exc_local", "12.00", period=JAN)
    books.receive("100", "10.00", batch="R1")  # November: 100 kg, 1,000.00
    books.issue("30", on=JAN_5)  # January first, at January's 12.00: 360.00
    books.issue("70", on=DEC_10)  # then December: all the batch now holds, at December's 10.00
    with session_factory() as session:
        # 700.00, not the 640.00 left on the batch (which carries January's standard)
        assert account_balance(session, books.company, "5001", books.material_id) == D("1060.00")
    books.close()
    books.close(DEC)
    assert (books.row(DEC).closing_quantity, books.row(DEC).closing_value) == (D("30.0000"), D("300.00"))
    # the 30 kg December handed to January are restated at 12.00 (+60.00), and January's
    # issue took them out at that: nothing is left on the batch
    assert books.balance("1403") == D("0.00")


def test_the_last_units_leave_at_the_new_standard_while_its_restatement_waits(
    books: Books, session_factory: sessionmaker[Session], world: World
) -> None:
    set_standard(session_factory, world, "exc_local", "11.00", period=DEC)
    books.receive("100", "10.00", batch="R1")  # November: 1,000.00
    books.issue("100", on=DEC_10)  # December, November still open: all of it at 11.00
    with session_factory() as session:
        # 1,100.00, not the 1,000.00 the batch holds at November's standard
        assert account_balance(session, books.company, "5001", books.material_id) == D("1100.00")
    books.close()  # restates the 100 kg held as December opened: +100.00
    assert books.balance("1403") == D("0.00")
    assert books.variance_account() == D("-100.00")
    books.close(DEC)  # December's consumption bears that favourable variance
    assert books.close_lines(DEC) == {"5001": D("-100.00"), "1404": D("100.00")}
    assert books.variance_account() == D("0.00")


def stock_at(session_factory: sessionmaker[Session], books: Books) -> tuple[D, D]:
    """The material's balances: total quantity and value."""
    from erp.inventory.models import StockBalance

    with session_factory() as session:
        rows = session.execute(select(StockBalance.quantity, StockBalance.value).where(
            StockBalance.company_id == books.company, StockBalance.material_id == books.material_id)).all()
    return sum((D(q) for q, _ in rows), D(0)), sum((D(v) for _, v in rows), D(0))


def test_goods_put_back_in_the_next_period_are_restated_with_the_stock(
    books: Books, session_factory: sessionmaker[Session], world: World
) -> None:
    set_standard(session_factory, world, "exc_local", "11.00", period=DEC)
    books.receive("100", "10.00", batch="R1")  # November: 1,000.00
    issue = books.issue("50")  # November: 500.00
    # While November is open, the issue's share of November's variance is not known yet:
    # it is reversed in November, or in December once November is closed.
    with pytest.raises(services.NotReversible):
        books.reverse(issue, on=DEC_10)
    books.close()  # restates the 50 kg held as December opened: +50.00; the issue bore 0.00
    assert stock_at(session_factory, books) == (D("50"), D("550.00"))
    books.reverse(issue, on=DEC_10)  # back in December at 11.00: 550.00 (500.00 + 50.00 restated)
    assert stock_at(session_factory, books) == (D("100"), D("1100.00"))
    assert books.balance("1403") == D("1100.00")
    assert books.balance("5001") == D("0.00")


def test_reopening_undoes_every_restatement_at_the_next_periods_standards(
    books: Books, session_factory: sessionmaker[Session], world: World
) -> None:
    books.receive("100", "10.00", batch="R1")
    books.close()
    with session_factory() as session, session.begin():  # November closed: restated at once, +100.00
        set_standard_prices(session, world.actors["cost_a"], company_id=books.company, period=DEC,
                            prices=[PriceChange(books.material_id, D("11.00"))])
    assert books.balance("1403") == D("1100.00")
    books.reopen()  # back to November's standard until the close applies December's again
    assert books.balance("1403") == D("1000.00")
    with session_factory() as session, session.begin():  # December's price goes back to 10.00
        set_standard_prices(session, world.actors["cost_a"], company_id=books.company, period=DEC,
                            prices=[PriceChange(books.material_id, D("10.00"))])
    books.close()
    assert stock_at(session_factory, books) == (D("100"), D("1000.00"))
    assert books.balance("1403") == D("1000.00")
    assert books.variance_account() == D("0.00")


def test_the_close_restates_nothing_when_nothing_changed(
    books: Books, session_factory: sessionmaker[Session]
) -> None:
    books.receive("1", "10.00", batch="R1")
    books.issue("1")  # emptied
    # booked into December before November closes; on binary floats 0.30 - (0.10 + 0.20) is
    # not 0, which must not pass for value left on no stock
    books.receive("0.01", "10.00", batch="R1", on=DEC_10)
    books.receive("0.02", "10.00", batch="R1", on=DEC_10)
    books.close()
    with session_factory() as session:
        restated = session.scalar(select(PeriodEvent.stock_document_id).where(
            PeriodEvent.company_id == books.company, PeriodEvent.action == "close"))
    assert restated is None


def test_a_standard_price_in_use_cannot_change(books: Books, session_factory: sessionmaker[Session],
                                               world: World) -> None:
    from erp.errors import Conflict

    books.receive("10", "10.00", batch="R1")
    with session_factory() as session, pytest.raises(Conflict) as info, session.begin():
        set_standard_prices(session, world.actors["cost_a"], company_id=books.company, period=NOV,
                            prices=[PriceChange(books.material_id, D("10.50"))])
    assert info.value.slug == "standard-price-in-use"


def prices_listed(session_factory: sessionmaker[Session], world: World, books: Books, period: str) -> list[tuple]:
    from erp.costing.standards import list_standard_prices

    with session_factory() as session:
        rows, _ = list_standard_prices(session, world.actors["cost_a"], company_id=books.company, period=period,
                                       offset=0, limit=50)
    return [(r.period, r.price, r.effective_from, r.carried_forward) for r in rows
            if r.material_id == books.material_id]


def test_a_price_stays_in_force_so_december_posts_before_november_closes(
    books: Books, session_factory: sessionmaker[Session], world: World
) -> None:
    books.receive("100", "10.00", batch="R1")
    # November is still open and nobody set a December price: November's 10.00 is in force
    books.receive("50", "10.40", batch="R2", on=DEC_10)
    with session_factory() as session:
        assert account_balance(session, books.company, "1403", books.material_id) == D("1500.00")
        # 50 kg at 10.40 against 10.00: 20.00 unfavourable
        assert account_balance(session, books.company, "1404", books.material_id) == D("20.00")
    assert prices_listed(session_factory, world, books, DEC) == [(DEC, D("10.00"), NOV, True)]
    books.close()
    assert books.close(DEC).status == "closed"
    # December's rate = 20.00 / 1,500.00 with nothing consumed: all of it stays with the stock
    assert books.row(DEC).closing_variance == D("20.00")


def test_a_price_set_for_a_later_period_takes_over_from_that_period(
    books: Books, session_factory: sessionmaker[Session], world: World
) -> None:
    set_standard(session_factory, world, "exc_local", "12.00", period="2027-01")
    books.receive("10", "10.00", batch="R1", on=DEC_10)
    books.receive("10", "12.00", batch="R2", on=dt.date(2027, 1, 5))
    with session_factory() as session:
        # December at 10.00, January at 12.00; both at their contract price, no variance
        assert account_balance(session, books.company, "1403", books.material_id) == D("220.00")
        assert account_balance(session, books.company, "1404", books.material_id) == D("0.00")
    assert prices_listed(session_factory, world, books, DEC) == [(DEC, D("10.00"), NOV, True)]
    assert prices_listed(session_factory, world, books, "2027-01") == [("2027-01", D("12.00"), "2027-01", False)]
    assert prices_listed(session_factory, world, books, NOV) == [(NOV, D("10.00"), NOV, False)]


def test_a_price_used_by_a_later_period_cannot_change_from_an_earlier_one(
    books: Books, session_factory: sessionmaker[Session], world: World
) -> None:
    from erp.errors import Conflict

    books.receive("10", "10.00", batch="R1", on=DEC_10)  # December uses November's price
    with session_factory() as session, pytest.raises(Conflict) as info, session.begin():
        set_standard_prices(session, world.actors["cost_a"], company_id=books.company, period=NOV,
                            prices=[PriceChange(books.material_id, D("10.50"))])
    assert info.value.slug == "standard-price-in-use"
    assert "from 2026-11 to 2026-12" in info.value.detail and "2027-01 instead" in info.value.detail
    # setting the same price again changes nothing and is allowed
    with session_factory() as session, session.begin():
        set_standard_prices(session, world.actors["cost_a"], company_id=books.company, period=NOV,
                            prices=[PriceChange(books.material_id, D("10.00"))])
    # a price set for January leaves December's postings as they were
    with session_factory() as session, session.begin():
        set_standard_prices(session, world.actors["cost_a"], company_id=books.company, period="2027-01",
                            prices=[PriceChange(books.material_id, D("10.50"))])
    assert prices_listed(session_factory, world, books, DEC) == [(DEC, D("10.00"), NOV, True)]


def test_a_price_change_is_allowed_when_a_later_set_price_shields_the_postings(
    books: Books, session_factory: sessionmaker[Session], world: World
) -> None:
    set_standard(session_factory, world, "exc_local", "11.00", period=DEC)
    books.receive("10", "11.00", batch="R1", on=DEC_10)  # at December's own price
    with session_factory() as session, session.begin():
        set_standard_prices(session, world.actors["cost_a"], company_id=books.company, period=NOV,
                            prices=[PriceChange(books.material_id, D("10.50"))])
    assert prices_listed(session_factory, world, books, NOV) == [(NOV, D("10.50"), NOV, False)]
    assert prices_listed(session_factory, world, books, DEC) == [(DEC, D("11.00"), DEC, False)]


# --- the close's guarantees ---------------------------------------------------------------------

def entry_count(session_factory: sessionmaker[Session]) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count(JournalEntry.id))) or 0


def test_closing_twice_gives_the_same_result_and_posts_nothing_more(
    books: Books, session_factory: sessionmaker[Session]
) -> None:
    books.receive("100", "10.50", batch="R1")
    books.issue("40")
    first = books.close()
    entries = entry_count(session_factory)
    second = books.close()
    assert (first.closed_now, second.closed_now) == ((NOV,), ())
    assert second == dataclasses.replace(first, closed_now=())
    assert entry_count(session_factory) == entries


def test_a_fault_mid_close_leaves_nothing_posted(
    books: Books, session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    books.receive("100", "10.50", batch="R1")
    books.issue("40")
    entries = entry_count(session_factory)

    def fail(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    # the allocation entry is already written when finding the stock to restate fails
    monkeypatch.setattr(closing, "companies_to_restate", fail)
    with pytest.raises(RuntimeError):
        books.close()
    assert entry_count(session_factory) == entries
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(MaterialPeriodBalance)) == 0
        period = session.get(AccountingPeriod, (books.company, NOV))
        assert period is not None and period.status == "open"
    monkeypatch.undo()
    assert books.close().status == "closed"


@pytest.mark.parametrize("posting", ["receive", "issue", "ship", "scrap"])
def test_posting_into_a_closed_period_is_refused(books: Books, posting: str) -> None:
    books.receive("100", "10.50", batch="R1")
    books.close()
    post = {
        "receive": lambda: books.receive("1", "10.00", batch="R9", on=dt.date(2026, 11, 30)),
        "issue": lambda: books.issue("1"),
        "ship": lambda: books.ship("1"),
        "scrap": lambda: books.scrap("1", batch="R1"),
    }[posting]
    with pytest.raises(PeriodClosed) as info:
        post()
    assert info.value.slug == "period-closed" and NOV in info.value.detail


def test_reopening_reverses_the_close_exactly_and_is_recorded(
    books: Books, session_factory: sessionmaker[Session], world: World
) -> None:
    books.receive("100", "10.50", batch="R1")
    books.issue("40")
    before = {account: books.balance(account) for account in ("1403", "1404", "5001", "2202.01")}
    books.close()
    assert books.balance("5001") == D("420.00")  # 400.00 + 40% of the 50.00 variance
    books.reopen(reason="supplier credit note arrived late")
    assert {account: books.balance(account) for account in before} == before
    with session_factory() as session:
        event = session.scalars(select(PeriodEvent).where(PeriodEvent.action == "reopen")).one()
        assert (event.user_id, event.reason) == (world.users["cost_group"], "supplier credit note arrived late")
        assert session.get(AccountingPeriod, (books.company, NOV)).status == "open"  # type: ignore[union-attr]
    books.issue("10")  # postings are possible again
    assert books.close().status == "closed"


def test_only_a_group_cost_accountant_reopens(books: Books) -> None:
    books.receive("10", "10.00", batch="R1")
    books.close()
    with pytest.raises(Forbidden):
        books.reopen(user="cost_a")


def test_only_the_latest_closed_period_reopens(books: Books) -> None:
    books.receive("10", "10.00", batch="R1")
    books.close()
    books.close(DEC)
    with pytest.raises(closing.LaterPeriodClosed):
        books.reopen(NOV)


def test_a_later_period_cannot_close_before_an_earlier_one(books: Books) -> None:
    books.receive("10", "10.00", batch="R1")
    with pytest.raises(closing.EarlierPeriodOpen):
        books.close(DEC)


def test_other_companies_cost_accountants_cannot_close(books: Books, session_factory: sessionmaker[Session],
                                                       world: World) -> None:
    from erp.auth.roles import Actor, Role

    outsider = Actor(99, "cost_b", Role.COST_ACCOUNTANT, False, frozenset({world.companies["B"]}))
    with session_factory() as session, pytest.raises(Forbidden), session.begin():
        closing.close_period(session, outsider, company_id=books.company, period=NOV)


# --- the calendar: books close month by month, in order ---------------------------------------

def test_nothing_can_be_posted_behind_the_latest_closed_period(
    books: Books, session_factory: sessionmaker[Session], world: World
) -> None:
    books.receive("100", "10.50", batch="R1")
    books.close()
    set_standard(session_factory, world, "exc_local", "10.00", period="2026-10")
    # October was never posted to, but the books are closed up to November
    with pytest.raises(PeriodClosed) as info:
        books.receive("1", "10.00", batch="R2", on=dt.date(2026, 10, 15))
    assert "closed up to 2026-11" in info.value.detail
    with session_factory() as session, pytest.raises(PeriodClosed), session.begin():
        set_standard_prices(session, world.actors["cost_a"], company_id=books.company, period="2026-09",
                            prices=[PriceChange(books.material_id, D("11.00"))])


def test_periods_close_in_order(books: Books) -> None:
    books.receive("100", "10.50", batch="R1")
    books.close()
    with pytest.raises(closing.EarlierPeriodOpen) as info:
        books.close("2027-01")
    assert "close 2026-12 next" in info.value.detail
    # a period before the latest close is closed already: nothing to do
    assert (books.close("0001-01").status, books.close("0001-01").closed_now) == ("closed", ())
    assert books.close(DEC).status == "closed"


# --- backdating and corrections after a price change ------------------------------------------

def test_an_outflow_cannot_take_stock_that_had_not_arrived_on_its_date(books: Books) -> None:
    from erp.inventory.errors import InsufficientStock, NotReversible

    books.receive("100", "10.00", batch="R1", on=dt.date(2026, 11, 5))
    books.issue("100", on=dt.date(2026, 11, 20))
    books.receive("100", "10.00", batch="R1", on=dt.date(2026, 11, 28))
    # on 15 November there were 100 kg, but all of them left on the 20th: taking 50 on the
    # 15th would leave -50 kg between the 20th and the 28th
    with pytest.raises(InsufficientStock) as info:
        books.issue("50", on=dt.date(2026, 11, 15))
    assert "available on 2026-11-15" in info.value.detail
    books.issue("50", on=dt.date(2026, 11, 29))  # after the second receipt it is there
    late = books.receive("10", "10.00", batch="R2", on=dt.date(2026, 11, 25))
    with pytest.raises(NotReversible):
        books.reverse(late, on=dt.date(2026, 11, 24))  # a correction is not dated before what it corrects


def test_a_receipt_reversed_after_a_price_change_leaves_at_the_new_standard(
    books: Books, session_factory: sessionmaker[Session], world: World
) -> None:
    first = books.receive("100", "12.00", batch="R1")  # 1,000.00 at standard, 1,200.00 at contract: +200.00
    books.receive("100", "12.00", batch="R1")  # +200.00
    set_standard(session_factory, world, "exc_local", "11.00", period=DEC)
    books.close()  # restates the 200 kg at 11.00 on 1 December: inventory +200.00, variance -200.00
    books.reverse(first, on=DEC_10)
    # 100 kg leave at 11.00 = 1,100.00; goods received not invoiced back 1,200.00; variance -100.00
    assert books.balance("1403") == D("1100.00")
    assert books.variance_account() == D("100.00")  # 400.00 - 200.00 - 100.00
    # the 100 kg left: 1,100.00 + 100.00 = 1,200.00 actual, what they cost


def test_an_issue_reversed_after_a_price_change_comes_back_at_the_new_standard(
    books: Books, session_factory: sessionmaker[Session], world: World
) -> None:
    books.receive("100", "10.00", batch="R1")
    issued = books.issue("40")  # 400.00 to production
    set_standard(session_factory, world, "exc_local", "12.00", period=DEC)
    books.close()  # the 60 kg left are restated at 12.00: +120.00 inventory, -120.00 variance
    books.reverse(issued, on=DEC_10)
    # production is credited the 400.00 it was charged; the 40 kg come back at 480.00;
    # the 80.00 between them is a restatement against the variance account
    assert books.balance("5001") == D("0.00")
    assert books.balance("1403") == D("1200.00")  # 100 kg at 12.00
    assert books.variance_account() == D("-200.00")  # -120.00 - 80.00: actual cost 1,000.00 as received


def test_reopening_undoes_the_closes_restatement_so_a_new_price_applies_afresh(
    books: Books, session_factory: sessionmaker[Session], world: World
) -> None:
    books.receive("100", "10.00", batch="R1")  # 1,000.00, no variance
    set_standard(session_factory, world, "exc_local", "12.00", period=DEC)
    books.close()  # restated at 12.00: 1,200.00, variance -200.00
    assert books.balance("1403") == D("1200.00")
    books.reopen(reason="December's standard was a typo")
    assert (books.balance("1403"), books.variance_account()) == (D("1000.00"), D("0.00"))
    with session_factory() as session, session.begin():
        set_standard_prices(session, world.actors["cost_a"], company_id=books.company, period=DEC,
                            prices=[PriceChange(books.material_id, D("10.00"))])
    books.close()
    # nothing to restate any more: the stock stays at 10.00
    assert (books.balance("1403"), books.variance_account()) == (D("1000.00"), D("0.00"))


def test_stock_found_by_a_count_dilutes_the_rate(books: Books, session_factory: sessionmaker[Session],
                                                  world: World) -> None:
    books.receive("10", "11.00", batch="R1")  # 100.00 at standard, 110.00 at contract: +10.00
    with session_factory() as session, session.begin():
        services.adjust_stock(session, world.actors["cost_a"], warehouse_id=world.warehouses["A-AMB"],
                              material_id=books.material_id, quantity=D("1000"), posting_date=NOV_25,
                              kind=AdjustmentKind.COUNT, reason="stocktake found a pallet",
                              batch_id=batch_id(session_factory, world, "exc_local", "R1"))
    books.issue("1000")  # 10,000.00 at standard
    books.close()
    # rate = 10.00 / (100.00 + 10,000.00): production bears 10,000 x 10 / 10,100 = 9.90,
    # the 10 kg left keep 0.10 (not -990.00, as a rate of 10 / 100 would leave them)
    assert books.close_lines() == {"5001": D("9.90"), "1404": D("-9.90")}
    assert books.row().closing_variance == D("0.10")


# --- the group's close: several companies at once, all or none --------------------------------

def _post_in_company_b(session_factory: sessionmaker[Session], world: World, *, on: dt.date = NOV_25) -> None:
    """Company B: 200 kg received at 9.00 against a standard of 10.00, 50 kg issued."""
    set_standard(session_factory, world, "exc_local", "10.00", company="B", period=Period.of(on))
    (line,) = open_order(session_factory, world, [("exc_local", "200", "9.00", "B-AMB")], company="B")
    receive(session_factory, world, line, "200", user="clerk_b", on=on)
    with session_factory() as session, session.begin():
        services.issue_goods(session, world.actors["clerk_b"], warehouse_id=world.warehouses["B-AMB"],
                             material_id=world.materials["exc_local"], quantity=D("50"), posting_date=on,
                             destination=IssueDestination.PRODUCTION)


def close_group(session_factory: sessionmaker[Session], world: World, companies: list[str] | None,
                user: str = "cost_group", period: str = NOV) -> list[closing.CloseResult]:
    with session_factory() as session, session.begin():
        return closing.close_periods(
            session, world.actors[user], period=period,
            company_ids=None if companies is None else [world.companies[c] for c in companies])


def test_the_group_close_closes_each_company_by_its_own_figures(
    books: Books, session_factory: sessionmaker[Session], world: World
) -> None:
    books.receive("100", "10.50", batch="R1")
    books.issue("40")
    _post_in_company_b(session_factory, world)
    results = {r.company_id: r for r in close_group(session_factory, world, None)}
    a, b, c = (world.companies[k] for k in "ABC")
    assert set(results) == {a, b, c} and all(r.status == "closed" for r in results.values())
    # A: rate 50 / 1,000 = 5 %; the 400.00 issued bear 20.00, the stock keeps 30.00
    assert (results[a].variance_allocated, results[a].variance_remaining) == (D("20.00"), D("30.00"))
    # B: rate -200 / 2,000 = -10 %; the 500.00 issued bear -50.00, the stock keeps -150.00
    assert (results[b].variance_allocated, results[b].variance_remaining) == (D("-50.00"), D("-150.00"))
    # C posted nothing: closed with nothing to allocate and no entry
    assert (results[c].materials, results[c].journal_entry_id) == (0, None)
    with session_factory() as session:
        entries = session.execute(
            select(JournalEntry.company_id, JournalEntry.id, func.sum(JournalLine.amount))
            .join(JournalLine, JournalLine.entry_id == JournalEntry.id)
            .where(JournalEntry.source_type == "period_close")
            .group_by(JournalEntry.company_id, JournalEntry.id)).all()
        assert {(company, entry, total) for company, entry, total in entries} == {
            (a, results[a].journal_entry_id, 0), (b, results[b].journal_entry_id, 0)}
        lines = session.execute(
            select(JournalLine.company_id, JournalLine.account_code, JournalLine.amount)
            .where(JournalLine.entry_id.in_([results[a].journal_entry_id, results[b].journal_entry_id]))).all()
    assert sorted((company, account, D(amount)) for company, account, amount in lines) == sorted([
        (a, "5001", D("20.00")), (a, "1404", D("-20.00")), (b, "5001", D("-50.00")), (b, "1404", D("50.00"))])


def test_the_group_close_brings_a_company_behind_up_to_the_period(
    books: Books, session_factory: sessionmaker[Session], world: World
) -> None:
    books.receive("100", "10.50", batch="R1")
    _post_in_company_b(session_factory, world, on=dt.date(2026, 10, 20))  # B's October is still open
    results = {r.company_id: r for r in close_group(session_factory, world, ["A", "B"])}
    # B closes October, then November with A; A closes November
    assert results[world.companies["B"]].closed_now == ("2026-10", NOV)
    assert results[books.company].closed_now == (NOV,)
    assert all(r.status == "closed" for r in results.values())
    with session_factory() as session:
        closed = session.execute(select(AccountingPeriod.company_id, AccountingPeriod.period)
                                 .where(AccountingPeriod.status == "closed")).all()
    assert sorted(closed) == sorted([(books.company, NOV), (world.companies["B"], "2026-10"),
                                     (world.companies["B"], NOV)])


def test_the_group_close_is_all_or_none(
    books: Books, session_factory: sessionmaker[Session], world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    books.receive("100", "10.50", batch="R1")
    _post_in_company_b(session_factory, world, on=dt.date(2026, 10, 20))
    entries = entry_count(session_factory)
    real_close = closing._close

    def failing_in_november(session: Session, company_ids: list[int], first: list[int], period: str,
                            user_id: int, *rest: object) -> None:
        if period == NOV:
            raise RuntimeError("fault while closing November")
        real_close(session, company_ids, first, period, user_id, *rest)

    monkeypatch.setattr(closing, "_close", failing_in_november)
    with pytest.raises(RuntimeError):
        close_group(session_factory, world, ["A", "B"])
    # B's October had closed before the fault: rolled back with the rest
    assert entry_count(session_factory) == entries
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(MaterialPeriodBalance)) == 0
        assert session.scalar(select(func.count()).where(AccountingPeriod.status == "closed")) == 0


def test_the_group_close_leaves_companies_already_closed_as_they_are(
    books: Books, session_factory: sessionmaker[Session], world: World
) -> None:
    books.receive("100", "10.50", batch="R1")
    books.issue("40")
    alone = books.close()
    _post_in_company_b(session_factory, world)
    results = {r.company_id: r for r in close_group(session_factory, world, ["A", "B"])}
    assert results[books.company] == dataclasses.replace(alone, closed_now=())
    assert results[world.companies["B"]].variance_allocated == D("-50.00")
    assert results[world.companies["B"]].closed_now == (NOV,)
    with session_factory() as session:
        closes = session.scalars(select(PeriodEvent.company_id).where(PeriodEvent.action == "close")).all()
    assert sorted(closes) == sorted([books.company, world.companies["B"]])


def test_a_company_cost_accountant_closes_only_their_own_companies(
    books: Books, session_factory: sessionmaker[Session], world: World
) -> None:
    books.receive("100", "10.50", batch="R1")
    _post_in_company_b(session_factory, world)
    with pytest.raises(Forbidden):
        close_group(session_factory, world, ["A", "B"], user="cost_a")
    (only_a,) = close_group(session_factory, world, None, user="cost_a")
    assert (only_a.company_id, only_a.status) == (books.company, "closed")
    with session_factory() as session:
        assert session.get(AccountingPeriod, (world.companies["B"], NOV)).status == "open"  # type: ignore[union-attr]


def test_a_material_that_did_not_move_gets_no_row_and_keeps_its_closing(books: Books, session_factory) -> None:  # noqa: ANN001
    """A close writes a balance row only for the materials that moved (#18): an idle material's
    balance in a later period is its last closing carried, and the next movement opens from it."""
    books.receive("100", "10.50", batch="R1")  # +50.00 on 1,000.00
    books.issue("40")  # 400.00 bears 20.00; 60 kg carry 30.00
    november = books.close()
    books.close(DEC)  # nothing moved in December
    with session_factory() as session:
        written = session.scalars(select(MaterialPeriodBalance.period).where(
            MaterialPeriodBalance.company_id == books.company,
            MaterialPeriodBalance.material_id == books.material_id)).all()
    assert written == [NOV]
    december = books.row(DEC)
    assert (december.opening_quantity, december.opening_value, december.opening_variance, december.receipts_value,
            december.consumption_variance) == (D("60.0000"), D("600.00"), D("30.00"), D("0.00"), D("0.00"))
    assert (december.closing_quantity, december.closing_value, december.closing_variance) == (
        D("60.0000"), D("600.00"), D("30.00"))
    assert december.variance_rate == D("0.05")
    result = books.close(DEC)  # repeatable: the stored totals, the idle material counted
    assert (result.materials, result.variance_allocated, result.variance_remaining) == (
        november.materials, D("0.00"), D("30.00"))
    books.issue("30", on=JAN_5)  # January opens from November's closing: 300.00 bears 15.00
    books.close(JAN)
    assert books.close_lines(JAN) == {"5001": D("15.00"), "1404": D("-15.00")}
    january = books.row(JAN)
    assert (january.opening_variance, january.consumption_variance, january.closing_variance) == (
        D("30.00"), D("15.00"), D("15.00"))


@pytest.mark.parametrize("posted_later", [False, True])
def test_the_restatement_search_finds_value_left_on_no_quantity(
    books: Books, session_factory: sessionmaker[Session], posted_later: bool
) -> None:
    """The close's search for balances to restate finds a balance carrying value on no
    quantity as December opens, whether it is left so (read through the partial index of
    such balances) or brought to it by what was booked into December before November closed
    (read from those postings) (#18). The cent is set on the row directly: the state the
    rounding of postings booked out of date order leaves behind (test_close_properties)."""
    from erp.costing.revaluation import companies_to_restate
    from erp.inventory.models import StockBalance

    books.receive("1", "10.00", batch="R1")
    books.issue("1")  # emptied: 0 kg, 0.00
    with session_factory() as session, session.begin():
        assert companies_to_restate(session, [books.company], DEC) == []
        session.execute(update(StockBalance).where(StockBalance.company_id == books.company,
                                                   StockBalance.material_id == books.material_id)
                        .values(value=StockBalance.value + D("0.01")))
    if posted_later:
        books.receive("2", "10.00", batch="R1", on=DEC_10)  # 2 kg, 20.01 now; 0 kg, 0.01 as December opens
    with session_factory() as session:
        assert companies_to_restate(session, [books.company], DEC) == [books.company]


def test_no_restatement_of_a_period_while_the_one_before_it_is_open(
    books: Books, session_factory: sessionmaker[Session], world: World
) -> None:
    # docs/costing.md: a period's stock is restated when its price is set if the previous
    # period is closed, else by that period's close. December restated while November is
    # open (held by no close) would race November's postings (they hold only November) and
    # be restated again by November's close: erp.posting.post_restatement refuses it, even
    # with December held as a restatement needs. Once November is closed it restates.
    from erp.costing.revaluation import revalue_to_standard

    set_standard(session_factory, world, "exc_local", "11.00", period=DEC)
    books.receive("100", "10.00", batch="R1")  # November: 1,000.00
    with session_factory() as session, session.begin():
        with pytest.raises(RuntimeError, match="while 2026-11 is open"):
            revalue_to_standard(session, company_id=books.company, period=DEC, material_ids=None,
                                user_id=world.users["cost_a"])
    assert stock_at(session_factory, books) == (D("100"), D("1000.00"))
    books.close()  # its close restates December's opening stock: +100.00
    assert stock_at(session_factory, books) == (D("100"), D("1100.00"))
    with session_factory() as session, session.begin():  # and with November closed, nothing is left to restate
        assert revalue_to_standard(session, company_id=books.company, period=DEC, material_ids=None,
                                   user_id=world.users["cost_a"]) is None
