"""A supplier invoice's price difference on goods production orders consumed: where each
journal line lands, and that work in process (5001.01) comes back to 0.00 once the orders are
settled (docs/payables.md, "Where the price difference goes"; docs/costing.md).

The plant of tests/production.py, company A. Standards (November, carried into December):
R-ACID 50.00/kg, R-SOLV 20.00/kg; API-X rolled up at 110.40/kg (per 10 kg: 12 kg acid, 5 kg
solvent + 4 % scrap = 5.2 kg, 2 h at API-REACT, labour 80.00 + overhead 120.00 per hour).
Every purchase is received at its contract price = the standard (no purchase price variance),
so the only variance is the invoice's: the supplier invoices the acid at 50.50, 0.50/kg more
than the contract. VAT 13 % (special invoice: deductible).

An API order for 100 kg issues exactly its plan (120 kg acid = 6,000.00, 52 kg solvent =
1,040.00), absorbs 20 h x (80.00 + 120.00) = 4,000.00 of conversion and delivers 100 kg at
110.40 = 11,040.00: 7,040.00 + 4,000.00 - 11,040.00 = 0.00 on 5001.01, an order without variance.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from erp.costing import accounts
from erp.costing import close as closing
from erp.costing.models import JournalLine
from erp.masterdata.models import Material
from erp.payables.models import DocumentKind
from erp.production import variances
from tests.payables import enter, vat13_on_materials
from tests.production import build_plant, complete, deliver, issue, new_order, release_rollup
from tests.stock import batch_id, entry_lines, open_order, receive, variance_carried
from tests.world import World

pytestmark = pytest.mark.postgres
NOV, DEC = "2026-11", "2026-12"
NOV_2, NOV_25 = dt.date(2026, 11, 2), dt.date(2026, 11, 25)
DEC_5, DEC_8, DEC_10 = dt.date(2026, 12, 5), dt.date(2026, 12, 8), dt.date(2026, 12, 10)
GRIR, VAT, AP, PPV = "2202.01", "2221.01.01", "2202", "1404"
WIP, PRICE_VARIANCE = accounts.WORK_IN_PROCESS, accounts.INPUT_PRICE_VARIANCE


def _close(sf: sessionmaker[Session], world: World, period: str) -> None:
    with sf() as session, session.begin():
        closing.close_period(session, world.actors["cost_a"], company_id=world.companies["A"], period=period)


def _books(sf: sessionmaker[Session], world: World) -> dict[str, D]:
    """Company A's balance per account (signed, debit positive), accounts at 0.00 left out."""
    with sf() as session:
        rows = session.execute(select(JournalLine.account_code, func.sum(JournalLine.amount))
                               .where(JournalLine.company_id == world.companies["A"])
                               .group_by(JournalLine.account_code)).all()
    return {account: D(amount).quantize(D("0.01")) for account, amount in rows if D(amount) != 0}


def _wip_by_material(sf: sessionmaker[Session], world: World) -> dict[str | None, D]:
    """5001.01 per material code (None: no material), materials at 0.00 left out."""
    with sf() as session:
        rows = session.execute(
            select(Material.code, func.sum(JournalLine.amount))
            .select_from(JournalLine).outerjoin(Material, Material.id == JournalLine.material_id)
            .where(JournalLine.company_id == world.companies["A"], JournalLine.account_code == WIP)
            .group_by(Material.code)).all()
    return {code: D(amount).quantize(D("0.01")) for code, amount in rows if D(amount) != 0}


def _split(sf: sessionmaker[Session], order: int) -> dict[tuple[str, str | None], D]:
    with sf() as session:
        codes = dict(session.execute(select(Material.id, Material.code)).all())
        return {(row.category.value, codes.get(row.component_id)): row.amount
                for row in variances.order_variances(session, order) if row.amount}


def _plant(sf: sessionmaker[Session], world: World, acid: str, solvent: str) -> int:
    """The plant, its roll-up released, VAT13 on every material; ``acid`` kg of acid and
    ``solvent`` kg of solvent received on 2 November at their standards. The acid's order line."""
    build_plant(sf, world)
    release_rollup(sf, world)
    vat13_on_materials(sf, world)
    (acid_line,) = open_order(sf, world, [("acid", acid, "50.00", "A-AMB")])
    receive(sf, world, acid_line, acid, batch="ACID-1", on=NOV_2)
    (solvent_line,) = open_order(sf, world, [("solvent", solvent, "20.00", "A-AMB")], supplier="sup2")
    receive(sf, world, solvent_line, solvent, batch="SOLV-1", on=NOV_2)
    return acid_line


def _api_order(sf: sessionmaker[Session], world: World, kg: str, acid: str, solvent: str, *, on: dt.date,
               delivered: str | None = None, completed: dt.date | None = None) -> int:
    """An API order for ``kg`` kg issuing its plan on ``on`` and delivering ``delivered`` (all)."""
    order = new_order(sf, world, "api", kg, on=on)
    issue(sf, world, order, [("acid", acid, batch_id(sf, world, "acid", "ACID-1")), ("solvent", solvent, None)], on=on)
    deliver(sf, world, order, delivered or kg, batch=f"API-{order}", on=on)
    if completed is not None:
        complete(sf, world, order, completed)
    return order


def test_the_price_difference_of_goods_an_order_consumed_in_a_closed_period_is_an_input_price_variance(
        session_factory: sessionmaker[Session], world: World, set_business_day: Callable[[dt.date], dt.date]) -> None:
    """November: 120 kg of acid received at 50.00 and all issued to the API order, which
    delivers and is completed on 2 November; November's close settles it (no variance:
    5001.01 0.00). December 8: the invoice for the 120 kg at 50.50, net 6,060.00, VAT 787.80,
    difference 60.00. Nothing is held (no stock, nothing on its way) and nothing was consumed
    in December, so all 120 kg were consumed in closed November, by the order (5001.01): the
    60.00 can no longer go into the order, settled in November; it is the input price variance
    of December, on the acid: Dr 2202.01 6,000.00, Dr 6405.02 60.00, Dr 2221.01.01 787.80,
    Cr 2202 6,847.80. Before, it went to 5001.01, and no order's settlement ever took it off:
    5001.01 kept 60.00 after December's close for good.

    The books after December's close: 1405.01 11,040.00 (the API), 2202.01 -1,040.00 (the
    solvent, not invoiced), 5101.01 -1,600.00 and 5101.02 -2,400.00 (conversion absorbed),
    6405.02 60.00, 2221.01.01 787.80, 2202 -6,847.80; 1403, 1404 and 5001.01 0.00."""
    acid_line = _plant(session_factory, world, "120", "52")
    order = _api_order(session_factory, world, "100", "120", "52", on=NOV_2, completed=NOV_2)
    _close(session_factory, world, NOV)
    assert _wip_by_material(session_factory, world) == {}
    invoice = enter(session_factory, world, "INV-ACID-1", [(acid_line, "120", "50.50")], net="6060.00", tax="787.80",
                    on=DEC_8)
    with session_factory() as session:
        assert entry_lines(session, invoice, "supplier_invoice") == {
            GRIR: D("6000.00"), PRICE_VARIANCE: D("60.00"), VAT: D("787.80"), AP: D("-6847.80")}
    set_business_day(dt.date(2027, 1, 4))
    _close(session_factory, world, DEC)
    assert _wip_by_material(session_factory, world) == {}
    assert _books(session_factory, world) == {
        "1405.01": D("11040.00"), GRIR: D("-1040.00"), accounts.LABOUR_ABSORBED: D("-1600.00"),
        accounts.OVERHEAD_ABSORBED: D("-2400.00"), PRICE_VARIANCE: D("60.00"), VAT: D("787.80"),
        AP: D("-6847.80")}
    # the order's own split is November's, and stays so: nothing to explain in it
    assert _split(session_factory, order) == {}


def test_the_price_difference_invoiced_before_the_close_of_the_month_that_consumed_the_goods_is_settled_with_the_order(
        session_factory: sessionmaker[Session], world: World) -> None:
    """The same month, invoiced on 25 November before November's close (no period closed
    yet): the 60.00 goes to 1404 with its ledger row (Dr 1404 60.00), variance of November's
    receipts. November's close: acid receipts 6,000.00 at standard carrying 60.00, all
    consumed by the order (6,000.00), none left: the order's issue bears 60.00 (Dr 5001.01
    60.00 on the acid, Cr 1404 60.00), and the order's settlement in the same close explains
    it as the acid's input price variance: (6,000.00 + 60.00) - 120 kg x 50.00 = 60.00, Dr
    6405.02 60.00. 5001.01 and 1404 end at 0.00: not a gap, the close and the settlement
    carry it (this test passes with and without the rule of the test above)."""
    acid_line = _plant(session_factory, world, "120", "52")
    order = _api_order(session_factory, world, "100", "120", "52", on=NOV_2, completed=NOV_2)
    invoice = enter(session_factory, world, "INV-ACID-1", [(acid_line, "120", "50.50")], net="6060.00", tax="787.80",
                    on=NOV_25)
    with session_factory() as session:
        assert entry_lines(session, invoice, "supplier_invoice") == {
            GRIR: D("6000.00"), PPV: D("60.00"), VAT: D("787.80"), AP: D("-6847.80")}
    _close(session_factory, world, NOV)
    assert _split(session_factory, order) == {("input_price", "R-ACID"): D("60.00")}
    assert _wip_by_material(session_factory, world) == {}
    books = _books(session_factory, world)
    assert books[PRICE_VARIANCE] == D("60.00")
    assert PPV not in books and WIP not in books


def test_the_price_difference_of_goods_partly_consumed_in_a_closed_period_and_partly_held_leaves_no_work_in_process(
        session_factory: sessionmaker[Session], world: World, set_business_day: Callable[[dt.date], dt.date]) -> None:
    """200 kg of acid received in November at 50.00 (10,000.00); order 1 (100 kg of API)
    consumes 120 kg in November and is settled by November's close; 80 kg (4,000.00) open
    December carrying 0.00. December 5: order 2 (50 kg of API) issues its plan, 60 kg of acid
    (3,000.00) and 26 kg of solvent (520.00), absorbs 10 h x 200.00 = 2,000.00 and delivers 50
    kg (5,520.00); completed on 10 December.

    December 8: the invoice for the 200 kg at 50.50, difference 100.00. Held 20 kg, consumed
    in open December 60 kg, so consumed in closed November 200 - 20 - 60 = 120 kg: 100.00 x
    120 / 200 = 60.00 to the accounts that consumed them there, only order 1's work in process:
    Dr 6405.02 60.00 (not 5001.01); the rest, 40.00, to 1404 with its ledger row. December's
    close: acid rate = (0.00 + 40.00) / (4,000.00 + 0.00) = 1 %; order 2's 60 kg (3,000.00)
    bear 30.00 (Dr 5001.01 30.00 on the acid); the 20 kg left keep 10.00 = 20 x 0.50. Order
    2's settlement: the acid's input price variance (3,000.00 + 30.00) - 60 x 50.00 = 30.00,
    Dr 6405.02. So 6405.02 60.00 + 30.00 = 90.00, 1404 10.00 (the acid's variance carried),
    5001.01 0.00 on every material: the 100.00 is 120 kg x 0.50 + 60 kg x 0.50 + 20 kg x 0.50."""
    acid_line = _plant(session_factory, world, "200", "78")
    _api_order(session_factory, world, "100", "120", "52", on=NOV_2, completed=NOV_2)
    _close(session_factory, world, NOV)
    second = _api_order(session_factory, world, "50", "60", "26", on=DEC_5)
    invoice = enter(session_factory, world, "INV-ACID-2", [(acid_line, "200", "50.50")], net="10100.00",
                    tax="1313.00", on=DEC_8)
    complete(session_factory, world, second, DEC_10)
    with session_factory() as session:
        assert entry_lines(session, invoice, "supplier_invoice") == {
            GRIR: D("10000.00"), PPV: D("40.00"), PRICE_VARIANCE: D("60.00"), VAT: D("1313.00"),
            AP: D("-11413.00")}
    set_business_day(dt.date(2027, 1, 4))
    _close(session_factory, world, DEC)
    assert _split(session_factory, second) == {("input_price", "R-ACID"): D("30.00")}
    assert _wip_by_material(session_factory, world) == {}
    books = _books(session_factory, world)
    assert books[PRICE_VARIANCE] == D("90.00")
    assert books[PPV] == D("10.00")
    assert WIP not in books
    with session_factory() as session:
        assert variance_carried(session, world.companies["A"], world.materials["acid"]) == D("10.00")


def test_the_price_difference_of_goods_issued_to_an_order_still_running_when_their_period_closed_is_not_left_on_it(
        session_factory: sessionmaker[Session], world: World, set_business_day: Callable[[dt.date], dt.date]) -> None:
    """The order issues all 120 kg of acid and 52 kg of solvent in November and delivers 50 kg
    (5,520.00, absorbing 2,000.00): its work in process after November's close is 7,040.00 +
    2,000.00 - 5,520.00 = 3,520.00. December 5 it delivers the other 50 kg; December 8 the
    invoice at 50.50 (60.00, all 120 kg consumed in closed November: Dr 6405.02 60.00, the
    input price variance of the month it is booked in, on the acid); completed December 10.
    December's close settles the order with no variance (7,040.00 + 4,000.00 - 11,040.00):
    5001.01 0.00, 6405.02 60.00. Left on 5001.01, the 60.00 would outlive the settlement: the
    order's variance is computed from its own issues, deliveries and the closes' allocations."""
    acid_line = _plant(session_factory, world, "120", "52")
    order = _api_order(session_factory, world, "100", "120", "52", on=NOV_2, delivered="50")
    _close(session_factory, world, NOV)
    assert sum(_wip_by_material(session_factory, world).values(), D(0)) == D("3520.00")
    deliver(session_factory, world, order, "50", batch=f"API-{order}", on=DEC_5)
    invoice = enter(session_factory, world, "INV-ACID-1", [(acid_line, "120", "50.50")], net="6060.00", tax="787.80",
                    on=DEC_8)
    complete(session_factory, world, order, DEC_10)
    with session_factory() as session:
        assert entry_lines(session, invoice, "supplier_invoice") == {
            GRIR: D("6000.00"), PRICE_VARIANCE: D("60.00"), VAT: D("787.80"), AP: D("-6847.80")}
    set_business_day(dt.date(2027, 1, 4))
    _close(session_factory, world, DEC)
    assert _split(session_factory, order) == {}
    assert _wip_by_material(session_factory, world) == {}
    assert _books(session_factory, world)[PRICE_VARIANCE] == D("60.00")


def test_a_credit_memo_of_goods_an_order_consumed_in_a_closed_period_takes_the_difference_off_input_price_variance(
        session_factory: sessionmaker[Session], world: World) -> None:
    """The first test's December: the invoice at 50.50 (Dr 6405.02 60.00), then on 10
    December the supplier's credit memo for the same 120 kg at 50.50 reducing it (it will
    invoice again at the contract price): nothing held, nothing consumed in December, the 120
    kg credited were consumed in closed November, so its difference comes off where the
    invoice put it: Cr 6405.02 60.00, Cr 2202.01 6,000.00, Cr 2221.01.01 787.80, Dr 2202
    6,847.80. The new invoice at 50.00 has no difference. 6405.02, 5001.01 and 1404 end at
    0.00, and GR/IR holds only the solvent not invoiced (-1,040.00)."""
    acid_line = _plant(session_factory, world, "120", "52")
    _api_order(session_factory, world, "100", "120", "52", on=NOV_2, completed=NOV_2)
    _close(session_factory, world, NOV)
    invoice = enter(session_factory, world, "INV-ACID-1", [(acid_line, "120", "50.50")], net="6060.00", tax="787.80",
                    on=DEC_8)
    memo = enter(session_factory, world, "CM-ACID-1", [(acid_line, "120", "50.50")], net="6060.00", tax="787.80",
                 on=DEC_10, kind=DocumentKind.CREDIT_MEMO, credits=invoice)
    with session_factory() as session:
        assert entry_lines(session, memo, "supplier_invoice") == {
            GRIR: D("-6000.00"), PRICE_VARIANCE: D("-60.00"), VAT: D("-787.80"), AP: D("6847.80")}
    enter(session_factory, world, "INV-ACID-2", [(acid_line, "120", "50.00")], net="6000.00", tax="780.00", on=DEC_10)
    books = _books(session_factory, world)
    assert PRICE_VARIANCE not in books and WIP not in books and PPV not in books
    assert books[GRIR] == D("-1040.00")
