"""Sales order numbers: SO-<company code>-<year>-000001, per company and year of the order
date, from the purchase orders' numbering (erp.purchasing.services.next_in_series), taken
when the order is created and quoted wherever the order is named."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from erp import narration
from erp.credit import services
from erp.credit.errors import OrderNotBlocked, OrderStatusConflict
from erp.credit.models import SalesOrder
from erp.masterdata.services import WAREHOUSE_USE_CHECKS
from erp.posting.models import JournalEntry, StockDocument
from erp.purchasing.models import DocumentSequence
from tests.credit import NOV, POLICY, new_order, put_stock, ship
from tests.service.test_purchasing_concurrency import run_in_threads
from tests.tax import create_china_vat
from tests.world import World

SF = sessionmaker[Session]


def _take(session_factory: SF, world: World, *, company: str = "A", day: dt.date = dt.date(2026, 11, 3)) -> str:
    codes = create_china_vat(session_factory, world)
    with session_factory() as session, session.begin():
        return services.create_order(
            session, world.actors[f"sales_{company.lower()}"], company_id=world.companies[company],
            customer_id=world.customers["cust1"], order_date=day,
            lines=[services.OrderLineRequest(world.materials["exc_local"], world.warehouses[f"{company}-AMB"],
                                             D("1"), D("10.00"), tax_code_id=codes["VAT0"])]).order.number


def test_orders_count_from_one_per_company_and_year_of_the_order_date(session_factory: SF, world: World) -> None:
    taken = [_take(session_factory, world, company="A"), _take(session_factory, world, company="B"),
             _take(session_factory, world, company="A", day=dt.date(2025, 12, 31)),
             _take(session_factory, world, company="A")]
    assert taken == ["SO-CA-2026-000001", "SO-CB-2026-000001", "SO-CA-2025-000001", "SO-CA-2026-000002"]
    with session_factory() as session:
        rows = session.execute(select(DocumentSequence.series, DocumentSequence.next_value)
                               .where(DocumentSequence.series.like("SO-%"))).all()
        assert {series: next_value for series, next_value in rows} == {
            "SO-CA-2026": 3, "SO-CB-2026": 2, "SO-CA-2025": 2}


class _RolledBack(Exception):
    """Raised inside the transaction after the order took its number: what a request that
    failed later (its response, another posting in the same command) does to it."""


def test_a_rolled_back_order_gives_its_number_back(session_factory: SF, world: World) -> None:
    """The number is taken from a row locked in the order's own transaction: when that
    transaction rolls back after the order was numbered, the next order takes the same
    number, so the series keeps no gaps."""
    codes = create_china_vat(session_factory, world)
    with session_factory() as session, pytest.raises(_RolledBack):
        with session.begin():
            taken = services.create_order(
                session, world.actors["sales_a"], company_id=world.companies["A"],
                customer_id=world.customers["cust1"], order_date=dt.date(2026, 11, 3),
                lines=[services.OrderLineRequest(world.materials["exc_local"], world.warehouses["A-AMB"],
                                                 D("1"), D("10.00"), tax_code_id=codes["VAT0"])]).order.number
            assert taken == "SO-CA-2026-000001"
            raise _RolledBack
    assert _take(session_factory, world) == "SO-CA-2026-000001"
    with session_factory() as session:
        assert session.scalars(select(SalesOrder.number)).all() == ["SO-CA-2026-000001"]


def test_refusals_and_documents_name_the_order_by_its_number(session_factory: SF, world: World) -> None:
    """A refusal names the order as people quote it; the shipment's stock document and the
    invoice's journal entry carry the number; a warehouse with open orders lists them."""
    put_stock(session_factory, world)
    draft = new_order(session_factory, world)
    number = draft.order.number
    assert number == "SO-CA-2026-000001"
    with session_factory() as session, session.begin(), \
            pytest.raises(OrderStatusConflict, match=f"sales order {number} is draft; only confirmed orders ship"):
        services.ship_order(session, world.actors["sales_a"], draft.order.id, posting_date=NOV,
                            lines=[services.ShipmentLineRequest(draft.order.lines[0].id, D("1"))], policy=POLICY)
    with session_factory() as session, session.begin(), \
            pytest.raises(OrderNotBlocked, match=f"sales order {number} is draft and not held"):
        services.release_order(session, world.actors["credit"], draft.order.id, reason="try", policy=POLICY)
    with session_factory() as session:
        holds = [str(m) for check in WAREHOUSE_USE_CHECKS for m in check(session, world.warehouses["A-AMB"])]
        assert [hold for hold in holds if "sales" in hold] == [f"open sales orders {number}"]
    confirmed = new_order(session_factory, world, confirm=True)
    shipped = ship(session_factory, world, confirmed.order.id, ["10"])
    with session_factory() as session, session.begin():
        assert session.scalar(select(StockDocument.reference).where(
            StockDocument.id == shipped.invoice.lines[0].stock_document_id)) == "SO-CA-2026-000002"
        memo = session.scalar(select(JournalEntry.memo).where(JournalEntry.source_type == "invoice",
                                                              JournalEntry.source_id == shipped.invoice.id))
        assert narration.plain(memo) == f"invoice {shipped.invoice.document_number}, sales order SO-CA-2026-000002"
        with pytest.raises(OrderStatusConflict, match="sales order SO-CA-2026-000002 is partially_shipped; only "
                                                      "draft or blocked"):
            services.confirm_order(session, world.actors["sales_a"], confirmed.order.id, policy=POLICY)


@pytest.mark.postgres
def test_orders_taken_at_the_same_moment_get_distinct_numbers_without_gaps(session_factory: SF, world: World) -> None:
    """Four sales clerks of one company take five orders each at once: the series row's lock
    makes them wait for each other, so the twenty numbers are 1-20, none twice."""
    _take(session_factory, world)  # the series row and tax codes exist: the threads only number

    def five(_: int) -> list[str]:
        return [_take(session_factory, world) for _ in range(5)]

    results = run_in_threads(4, five)
    numbers = [number for result in results for number in result]  # an exception here fails the test
    assert sorted(numbers) == [f"SO-CA-2026-{n:06d}" for n in range(2, 22)]
    with session_factory() as session:
        assert session.scalar(select(SalesOrder.number).order_by(SalesOrder.id.desc()).limit(1)) in numbers
