"""Released stock goes back to the supplier in part, and a receipt whose goods stand partly
released, partly in quarantine, can still be reversed (issue #13, item 6)."""

from __future__ import annotations

from decimal import Decimal as D

from sqlalchemy.orm import Session, sessionmaker

from erp.inventory.errors import InsufficientStock
from erp.purchasing.models import PurchaseOrderLine
from tests.stock import (
    balances,
    batch_id,
    decide,
    entry_lines,
    issue,
    open_order,
    receive,
    refused,
    return_goods,
    reverse,
    set_standard,
)
from tests.world import World


def hundred_kg_released(session_factory: sessionmaker[Session], world: World) -> tuple[int, int]:
    """100 kg of the excipient (no inspection: straight to unrestricted) at contract 12.00,
    standard 10.00; returns (order line, receipt)."""
    set_standard(session_factory, world, "exc_local", "10.00")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "12.00", "A-AMB")])
    return line, receive(session_factory, world, line, "100")


def on_hand(session: Session, world: World, warehouse: str) -> list[tuple[str, str, D, D]]:
    """The warehouse's balances that hold stock (emptied rows stay behind at zero)."""
    return [row for row in balances(session, warehouse_id=world.warehouses[warehouse]) if row[2]]


def received_quantity(session_factory: sessionmaker[Session], line: int) -> D:
    with session_factory() as session:
        return session.get(PurchaseOrderLine, line).received_quantity  # type: ignore[union-attr]


def test_returning_part_of_released_stock_at_the_contract_price(
    session_factory: sessionmaker[Session], world: World
) -> None:
    line, receipt = hundred_kg_released(session_factory, world)
    returned = return_goods(session_factory, world, receipt, "30")
    with session_factory() as session:
        # 30 x 12.00 = 360.00 owed back; 30 x 10.00 = 300.00 out of stock; 60.00 off the variance
        assert entry_lines(session, returned) == {"2202.01": D("360.00"), "1403": D("-300.00"), "1404": D("-60.00")}
        assert on_hand(session, world, "A-AMB") == [
            ("B-001", "unrestricted", D("70.0000"), D("700.00"))]
    # the order line is open for 30 again
    assert received_quantity(session_factory, line) == D("70")


def test_returning_what_is_left_after_an_issue(session_factory: sessionmaker[Session], world: World) -> None:
    line, receipt = hundred_kg_released(session_factory, world)
    issue(session_factory, world, "exc_local", "60")
    returned = return_goods(session_factory, world, receipt, "40")
    with session_factory() as session:
        # 40 x 12.00 = 480.00; 40 x 10.00 = 400.00; 80.00
        assert entry_lines(session, returned) == {"2202.01": D("480.00"), "1403": D("-400.00"), "1404": D("-80.00")}
        assert on_hand(session, world, "A-AMB") == []
    assert received_quantity(session_factory, line) == D("60")
    # nothing more is there to return
    with refused(session_factory, InsufficientStock):
        return_goods(session_factory, world, receipt, "1")


def test_blocked_stock_goes_back_before_unrestricted(session_factory: sessionmaker[Session], world: World) -> None:
    # 100 kg of the inspected API into quarantine; quality rejects 20, QA's signature releases the 80 left.
    set_standard(session_factory, world, "api_central", "52.00")
    (line,) = open_order(session_factory, world, [("api_central", "100", "55.50", "A-COOL")])
    receipt = receive(session_factory, world, line, "100")
    batch = batch_id(session_factory, world, "api_central", "B-001")
    from erp.inventory.services import QualityDecision

    decide(session_factory, world, "A-COOL", batch, "20", decision=QualityDecision.REJECT)
    decide(session_factory, world, "A-COOL", batch)
    returned = return_goods(session_factory, world, receipt, "30")
    with session_factory() as session:
        # 30 x 55.50 = 1,665.00; 30 x 52.00 = 1,560.00; 105.00
        assert entry_lines(session, returned) == {"2202.01": D("1665.00"), "1403": D("-1560.00"),
                                                  "1404": D("-105.00")}
        # the 20 blocked went first, then 10 of the released
        assert on_hand(session, world, "A-COOL") == [
            ("B-001", "unrestricted", D("70.0000"), D("3640.00"))]
    assert received_quantity(session_factory, line) == D("70")


def test_a_receipt_partly_released_partly_blocked_is_reversed_whole(
    session_factory: sessionmaker[Session], world: World
) -> None:
    set_standard(session_factory, world, "api_central", "52.00")
    (line,) = open_order(session_factory, world, [("api_central", "100", "55.50", "A-COOL")])
    receipt = receive(session_factory, world, line, "100")
    batch = batch_id(session_factory, world, "api_central", "B-001")
    from erp.inventory.services import QualityDecision

    decide(session_factory, world, "A-COOL", batch, "60", decision=QualityDecision.REJECT)
    decide(session_factory, world, "A-COOL", batch)  # the 40 left, by QA's signed usage decision
    reversal = reverse(session_factory, world, receipt)
    with session_factory() as session:
        # exactly the receipt's entry, negated: 5,200.00 at standard, 350.00 variance, 5,550.00 owed
        assert entry_lines(session, reversal) == {"2202.01": D("5550.00"), "1403": D("-5200.00"),
                                                  "1404": D("-350.00")}
        assert on_hand(session, world, "A-COOL") == []
    assert received_quantity(session_factory, line) == D("0")


def test_a_receipt_whose_goods_have_partly_left_cannot_be_reversed(
    session_factory: sessionmaker[Session], world: World
) -> None:
    _, receipt = hundred_kg_released(session_factory, world)
    issue(session_factory, world, "exc_local", "60")
    with refused(session_factory, InsufficientStock) as info:
        reverse(session_factory, world, receipt)
    assert "only 40 of its batch are still there" in str(info.value)


# --- item 7: reversing an issue after a standard price change ------------------------------------

def test_reversing_an_issue_after_a_standard_change_undoes_it_exactly(
    session_factory: sessionmaker[Session], world: World
) -> None:
    import datetime as dt

    from erp.costing.close import close_period
    from erp.costing.standards import PriceChange, set_standard_prices
    from tests.stock import account_balance, variance_carried

    company = world.companies["A"]
    material = world.materials["exc_local"]
    set_standard(session_factory, world, "exc_local", "10.00", period="2026-09")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "11.00", "A-AMB")])
    receive(session_factory, world, line, "100", on=dt.date(2026, 9, 5), made=dt.date(2026, 9, 1),
            expires=dt.date(2029, 8, 31))  # variance +100.00
    issued = issue(session_factory, world, "exc_local", "50", on=dt.date(2026, 9, 10))
    with session_factory() as session, session.begin():
        close_period(session, world.actors["cost_a"], company_id=company, period="2026-09")
    with session_factory() as session:
        # rate 100 / 1,000 = 0.1: production bears 500.00 x 0.1 = 50.00
        assert account_balance(session, company, "5001") == D("550.00")
    with session_factory() as session, session.begin():
        set_standard_prices(session, world.actors["cost_a"], company_id=company, period="2026-10",
                            prices=[PriceChange(material, D("20.00"))])
    reverse(session_factory, world, issued, on=dt.date(2026, 10, 5))
    other = issue(session_factory, world, "exc_local", "10", on=dt.date(2026, 10, 20))
    with session_factory() as session, session.begin():
        october = close_period(session, world.actors["cost_a"], company_id=company, period="2026-10")
    with session_factory() as session:
        # The 100 units at 20.00 = 2,000.00 at standard, 1,100.00 actual: variance -900.00,
        # a rate of -0.45 in October. The other issue of 10 (200.00 at standard) bears
        # -90.00 and the 90 units left keep -810.00.
        assert october.variance_allocated == D("-90.00") and october.variance_remaining == D("-810.00")
        # production: 550.00 charged in September, 550.00 back with the reversal, then the
        # October issue at 200.00 less its share of 90.00
        assert account_balance(session, company, "5001") == D("110.00")
        assert account_balance(session, company, "1403", material) == D("1800.00")
        assert variance_carried(session, company, material) == D("-810.00")
        assert entry_lines(session, other) == {"5001": D("200.00"), "1403": D("-200.00")}
