"""Goods receipts against purchase order lines: valuation, journal and every refusal."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from erp.costing.errors import NoStandardPrice
from erp.errors import DomainError
from erp.inventory import errors, services
from erp.inventory.models import StockMovement
from erp.purchasing.models import PurchaseOrder, PurchaseOrderLine, PurchaseOrderStatus
from tests.stock import EXPIRES, MADE, NOV_20, balances, entry_lines, open_order, receive, set_standard
from tests.world import World


@pytest.fixture
def amox_line(session_factory: sessionmaker[Session], world: World) -> int:
    """200 kg of the central API at 55.50/kg into A's cool store; standard 52.00/kg."""
    set_standard(session_factory, world, "api_central", "52.00")
    (line,) = open_order(session_factory, world, [("api_central", "200", "55.50", "A-COOL")])
    return line


def movements_count(session_factory: sessionmaker[Session]) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count(StockMovement.id))) or 0


def test_receipt_above_standard_posts_unfavourable_variance_and_balanced_journal(
    session_factory: sessionmaker[Session], world: World, amox_line: int
) -> None:
    document = receive(session_factory, world, amox_line, "120")
    # 120 kg x 52.00 = 6,240.00 at standard; 120 x 55.50 = 6,660.00 at contract; variance 420.00
    with session_factory() as session:
        lines = entry_lines(session, document)
        assert lines == {"1403": D("6240.00"), "1404": D("420.00"), "2202.01": D("-6660.00")}
        assert sum(lines.values()) == 0
        assert balances(session, warehouse_id=world.warehouses["A-COOL"]) == [
            ("B-001", "quarantine", D("120.0000"), D("6240.00"))
        ]
        line = session.get(PurchaseOrderLine, amox_line)
        assert line is not None and line.received_quantity == D("120")
        order = session.get(PurchaseOrder, line.order_id)
        assert order is not None and order.status == PurchaseOrderStatus.PARTIALLY_RECEIVED


def test_receipt_below_standard_posts_favourable_variance(
    session_factory: sessionmaker[Session], world: World
) -> None:
    set_standard(session_factory, world, "exc_local", "8.40")
    (line,) = open_order(session_factory, world, [("exc_local", "1000", "8.1234", "A-AMB")])
    document = receive(session_factory, world, line, "333.333")
    # standard 333.333 x 8.40 = 2,799.9972 -> 2,800.00
    # contract 333.333 x 8.1234 = 2,666.664 + 41.1332922 = 2,707.7972922 -> 2,707.80
    with session_factory() as session:
        assert entry_lines(session, document) == {
            "1403": D("2800.00"), "1404": D("-92.20"), "2202.01": D("-2707.80"),
        }
        # no inspection: straight to unrestricted
        assert balances(session, warehouse_id=world.warehouses["A-AMB"]) == [
            ("B-001", "unrestricted", D("333.3330"), D("2800.00"))
        ]


def test_receiving_the_full_quantity_marks_the_order_received(
    session_factory: sessionmaker[Session], world: World, amox_line: int
) -> None:
    receive(session_factory, world, amox_line, "150", batch="B-1")
    receive(session_factory, world, amox_line, "50", batch="B-2")
    with session_factory() as session:
        line = session.get(PurchaseOrderLine, amox_line)
        assert line is not None and line.received_quantity == D("200")
        assert session.get(PurchaseOrder, line.order_id).status == PurchaseOrderStatus.RECEIVED  # type: ignore[union-attr]


def test_a_second_receipt_of_the_same_batch_adds_to_its_balance(
    session_factory: sessionmaker[Session], world: World, amox_line: int
) -> None:
    receive(session_factory, world, amox_line, "20")
    receive(session_factory, world, amox_line, "30")
    with session_factory() as session:
        assert balances(session, warehouse_id=world.warehouses["A-COOL"]) == [
            ("B-001", "quarantine", D("50.0000"), D("2600.00"))
        ]


def test_material_without_batches_is_booked_without_one(
    session_factory: sessionmaker[Session], world: World
) -> None:
    set_standard(session_factory, world, "pkg_loose", "2.50")
    (line,) = open_order(session_factory, world, [("pkg_loose", "400", "2.60", "A-AMB")])
    receive(session_factory, world, line, "400", batch=None, made=None, expires=None)
    with session_factory() as session:
        assert balances(session, material_id=world.materials["pkg_loose"]) == [
            ("-", "unrestricted", D("400.0000"), D("1000.00"))
        ]


# --- refusals: each names its rule and writes nothing --------------------------------------

def refused(session_factory: sessionmaker[Session], world: World, error: type[DomainError], line: int,
            quantity: str = "10", **kwargs: object) -> DomainError:
    before = movements_count(session_factory)
    with pytest.raises(error) as info:
        receive(session_factory, world, line, quantity, **kwargs)  # type: ignore[arg-type]
    assert movements_count(session_factory) == before
    return info.value


@pytest.mark.parametrize(
    "status",
    [PurchaseOrderStatus.DRAFT, PurchaseOrderStatus.PENDING_APPROVAL, PurchaseOrderStatus.CLOSED,
     PurchaseOrderStatus.CANCELLED],
)
def test_receipt_refused_unless_the_order_is_open(
    session_factory: sessionmaker[Session], world: World, status: PurchaseOrderStatus
) -> None:
    set_standard(session_factory, world, "exc_local", "8.00")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "8.00", "A-AMB")], status=status)
    error = refused(session_factory, world, errors.OrderNotOpen, line)
    assert error.slug == "order-not-open" and status.value in error.detail


def test_over_receipt_within_tolerance_passes_and_beyond_is_refused(
    session_factory: sessionmaker[Session], world: World, amox_line: int
) -> None:
    # api_central allows 2 % over: 200 kg ordered -> at most 204 kg in all
    receive(session_factory, world, amox_line, "150")
    error = refused(session_factory, world, errors.OverReceipt, amox_line, "54.001")
    assert error.slug == "over-receipt"
    assert error.extensions["open_quantity"] == "54.0000"
    receive(session_factory, world, amox_line, "54")
    # the line has taken all its tolerance: nothing more can be received on it
    error = refused(session_factory, world, errors.OverReceipt, amox_line, "0.001")
    assert error.extensions["open_quantity"] == "0.0000"


def test_over_receipt_with_zero_tolerance(session_factory: sessionmaker[Session], world: World) -> None:
    set_standard(session_factory, world, "exc_local", "8.00")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "8.00", "A-AMB")])
    refused(session_factory, world, errors.OverReceipt, line, "100.001")


def test_warehouse_that_cannot_hold_the_material_is_refused(
    session_factory: sessionmaker[Session], world: World, amox_line: int
) -> None:
    # the ambient store reaches 30 °C; the API must stay at or below 20 °C
    error = refused(session_factory, world, errors.StorageConditionsNotMet, amox_line, warehouse="A-AMB")
    assert "20" in error.detail and "30" in error.detail


def test_warehouse_of_another_company_is_refused(
    session_factory: sessionmaker[Session], world: World, amox_line: int
) -> None:
    refused(session_factory, world, errors.WarehouseNotOfCompany, amox_line, warehouse="B-COOL")


def test_clerk_of_another_company_cannot_see_the_line(
    session_factory: sessionmaker[Session], world: World, amox_line: int
) -> None:
    from erp.errors import NotFound

    refused(session_factory, world, NotFound, amox_line, user="clerk_b")


def test_clerk_not_assigned_to_the_warehouse_is_refused(
    session_factory: sessionmaker[Session], world: World, amox_line: int
) -> None:
    from erp.auth.roles import Actor, Role

    only_ambient = Actor(world.users["clerk_a"], "clerk_a", Role.CLERK, False,
                         frozenset({world.companies["A"]}), frozenset({world.warehouses["A-AMB"]}))
    with session_factory() as session, pytest.raises(errors.ClerkNotOfWarehouse), session.begin():
        services.receive_goods(session, only_ambient, services.ReceiptRequest(
            po_line_id=amox_line, quantity=D("1"), posting_date=NOV_20, batch_number="X", manufacture_date=MADE,
            expiry_date=EXPIRES))


def test_only_clerks_book_receipts(session_factory: sessionmaker[Session], world: World, amox_line: int) -> None:
    from erp.errors import Forbidden

    refused(session_factory, world, Forbidden, amox_line, user="buyer_a")


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"batch": None}, errors.BatchRequired),
        ({"made": None}, errors.BatchRequired),
        ({"expires": None}, errors.BatchRequired),
        ({"made": dt.date(2026, 10, 1), "expires": dt.date(2026, 10, 1)}, errors.InvalidBatchDates),
        ({"made": dt.date(2026, 11, 21)}, errors.InvalidBatchDates),  # made after the receipt
        ({"made": dt.date(2024, 1, 1), "expires": dt.date(2026, 11, 20)}, errors.BatchExpired),
        # made 2026-10-01, the material keeps 1,095 days: 2029-09-30 at the latest
        ({"made": dt.date(2026, 10, 1), "expires": dt.date(2029, 10, 1)}, errors.InvalidBatchDates),
        # 29 days left; the default minimum is 30
        ({"made": dt.date(2024, 1, 1), "expires": dt.date(2026, 12, 19)}, errors.ShortRemainingShelfLife),
    ],
)
def test_batch_rules(
    session_factory: sessionmaker[Session], world: World, amox_line: int, kwargs: dict, error: type[DomainError]
) -> None:
    refused(session_factory, world, error, amox_line, **kwargs)


def test_exactly_the_minimum_remaining_shelf_life_passes(
    session_factory: sessionmaker[Session], world: World, amox_line: int
) -> None:
    receive(session_factory, world, amox_line, "1", made=dt.date(2024, 1, 1), expires=dt.date(2026, 12, 20))


def test_batch_dates_must_match_the_recorded_batch(
    session_factory: sessionmaker[Session], world: World, amox_line: int
) -> None:
    receive(session_factory, world, amox_line, "10")
    refused(session_factory, world, errors.BatchDatesMismatch, amox_line, expires=dt.date(2029, 9, 29))


def test_batch_given_for_a_material_without_batches_is_refused(
    session_factory: sessionmaker[Session], world: World
) -> None:
    set_standard(session_factory, world, "pkg_loose", "2.50")
    (line,) = open_order(session_factory, world, [("pkg_loose", "400", "2.60", "A-AMB")])
    refused(session_factory, world, errors.BatchNotApplicable, line)


def test_quantity_must_respect_the_units_decimals(session_factory: sessionmaker[Session], world: World) -> None:
    set_standard(session_factory, world, "pkg_loose", "2.50")
    (line,) = open_order(session_factory, world, [("pkg_loose", "400", "2.60", "A-AMB")])
    refused(session_factory, world, errors.InvalidQuantity, line, "1.5", batch=None, made=None, expires=None)


def test_receipt_without_a_standard_price_is_refused(session_factory: sessionmaker[Session], world: World) -> None:
    (line,) = open_order(session_factory, world, [("exc_local", "100", "8.00", "A-AMB")])
    error = refused(session_factory, world, NoStandardPrice, line)
    assert "EXC-STAR" in error.detail and "2026-11" in error.detail


def test_standard_price_of_the_posting_period_is_used(session_factory: sessionmaker[Session], world: World) -> None:
    set_standard(session_factory, world, "exc_local", "8.00", period="2026-11")
    set_standard(session_factory, world, "exc_local", "9.00", period="2026-12")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "8.50", "A-AMB")])
    document = receive(session_factory, world, line, "10", on=dt.date(2026, 12, 1))
    with session_factory() as session:
        assert entry_lines(session, document)["1403"] == D("90.00")
