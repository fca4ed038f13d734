"""Reversing a delivery of an order's output (issue #21's review, C8): the journal of the
delivery negated, the batch and the genealogy as if it had not happened, refused once the
batch was used or the order settled.

Figures of tests/production.py: TAB-X at 0.018080 per tablet, 0.05 h per 1,000 tablets at
TAB-PRESS 60.00 + 40.00 per hour. 2,000 tablets more delivered: 2,000 x 0.018080 = 36.16 at
standard, absorbing 0.1 h x 60.00 = 6.00 labour and 0.1 h x 40.00 = 4.00 overhead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal as D

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from erp.costing import accounts
from erp.costing import close as closing
from erp.inventory import services as inventory
from erp.inventory.errors import InsufficientStock, ProductionOrderClosed
from erp.masterdata.models import MaterialType
from erp.posting.models import Batch, StockBalance, StockDocument, StockMovement, StockStatus
from erp.production import boms, genealogy, orders, variances
from erp.production.errors import OutputBatchTaken, OutputBatchUsed
from erp.production.models import OrderDocumentKind, ProductionOrder, ProductionOrderDocument
from erp.quality import monitoring
from erp.quality.models import ExcursionBatch, InspectionLot
from tests.production import (
    NOV,
    NOV_1,
    NOV_20,
    add_material,
    build_plant,
    buy,
    complete,
    deliver,
    issue,
    make_tablets,
    new_order,
    refused_in,
    release_rollup,
)
from tests.quality import release_lot
from tests.stock import (
    account_balance,
    batch_id,
    decide,
    open_order,
    receive,
    reverse,
    set_standard,
    variance_carried,
)
from tests.world import World

NOV_21, NOV_22, DEC, DEC_3, DEC_10 = (dt.date(2026, 11, 21), dt.date(2026, 11, 22), "2026-12", dt.date(2026, 12, 3),
                                      dt.date(2026, 12, 10))


def _reverse(sf: sessionmaker[Session], world: World, order: int, document: int, on: dt.date) -> int:
    with sf() as session, session.begin():
        return orders.reverse_delivery(session, world.actors["clerk_a"], order, document, posting_date=on,
                                       reason="counted twice")


def _close(sf: sessionmaker[Session], world: World, period: str) -> None:
    with sf() as session, session.begin():
        closing.close_period(session, world.actors["cost_a"], company_id=world.companies["A"], period=period)


def _held(session: Session, batch: int) -> tuple[D, D]:
    rows = session.execute(select(StockBalance.quantity, StockBalance.value).where(StockBalance.batch_id == batch)).all()
    return (sum((r.quantity for r in rows), D("0")), sum((r.value for r in rows), D("0")))


def test_a_reversed_delivery_takes_back_its_value_and_conversion_and_leaves_the_genealogy(
        session_factory: sessionmaker[Session], world: World) -> None:
    plant = build_plant(session_factory, world)
    release_rollup(session_factory, world)
    made = make_tablets(session_factory, world, plant, complete_order=False)
    company = world.companies["A"]
    extra = deliver(session_factory, world, made.tablet_order, "2000", batch="TAB-B2", on=NOV_21)
    extra_batch = batch_id(session_factory, world, "tablet", "TAB-B2")
    with session_factory() as session:
        # 48.24 of the worked example + 10.00 conversion - 36.16 output
        assert account_balance(session, company, accounts.WORK_IN_PROCESS) == D("22.08")
    _reverse(session_factory, world, made.tablet_order, extra, NOV_22)
    with session_factory() as session:
        assert account_balance(session, company, accounts.WORK_IN_PROCESS) == D("48.24")
        assert account_balance(session, company, accounts.FINISHED_GOODS) == D("1771.84")
        # the API order's 20 h x 80.00 / x 120.00 and the tablets' 4.9 h x 60.00 / x 40.00
        assert account_balance(session, company, accounts.LABOUR_ABSORBED) == D("-1894.00")
        assert account_balance(session, company, accounts.OVERHEAD_ABSORBED) == D("-2596.00")
        assert _held(session, extra_batch) == (D("0"), D("0"))
        order = session.get(ProductionOrder, made.tablet_order)
        assert order is not None and order.delivered_quantity == D("98000")
        up = genealogy.trace(session, world.actors["clerk_a"], made.api_batch, genealogy.Direction.UP)
        assert {b.batch_number for b in up.batches} == {"API-B1", "TAB-B1"}
    complete(session_factory, world, made.tablet_order)
    _close(session_factory, world, NOV)
    with session_factory() as session:
        split = {(v.category.value, v.component_id): v.amount for v in variances.order_variances(session, order.id)}
        assert sum(split.values()) == D("48.24")
        assert split[("input_quantity", plant.api)] == D("44.16")
        assert account_balance(session, company, accounts.WORK_IN_PROCESS) == D("0.00")


def test_a_delivery_reversed_after_a_standard_change_restates_the_difference_and_the_order_nets(
        session_factory: sessionmaker[Session], world: World, set_business_day: Callable[[dt.date], dt.date]) -> None:
    """The 2,000 extra tablets (36.16) stay in stock through November's close, which restates
    them at December's standard 0.020000: 40.00, 1404 -3.84 (and TAB-B1's 98,000: 1,960.00,
    -188.16). Reversed on 3 December, they leave at 40.00; 5001.01 takes back the 36.16 they
    were delivered at, and 1404 the 3.84: 5001.01 at 48.24 again, and December's close
    settles the order's 48.24."""
    plant = build_plant(session_factory, world)
    release_rollup(session_factory, world)
    made = make_tablets(session_factory, world, plant, complete_order=False)
    company = world.companies["A"]
    extra = deliver(session_factory, world, made.tablet_order, "2000", batch="TAB-B2", on=NOV_21)
    set_standard(session_factory, world, "tablet", "0.020000", period=DEC)
    _close(session_factory, world, NOV)
    with session_factory() as session:
        assert variance_carried(session, company, plant.tablet) == D("-192.00")
    _reverse(session_factory, world, made.tablet_order, extra, DEC_3)
    with session_factory() as session:
        assert account_balance(session, company, accounts.WORK_IN_PROCESS) == D("48.24")
        assert account_balance(session, company, accounts.FINISHED_GOODS, plant.tablet) == D("1960.00")
        assert variance_carried(session, company, plant.tablet) == D("-188.16")
    complete(session_factory, world, made.tablet_order, DEC_10)
    set_business_day(dt.date(2027, 1, 4))
    _close(session_factory, world, DEC)
    with session_factory() as session:
        amounts = [v.amount for v in variances.order_variances(session, made.tablet_order)]
        assert sum(amounts, D("0")) == D("48.24")
        assert account_balance(session, company, accounts.WORK_IN_PROCESS) == D("0.00")


def test_a_delivery_is_not_reversed_once_its_batch_was_used_or_its_order_settled(
        session_factory: sessionmaker[Session], world: World) -> None:
    plant = build_plant(session_factory, world)
    release_rollup(session_factory, world)
    made = make_tablets(session_factory, world, plant)
    with session_factory() as session:
        (api_delivery,) = session.scalars(select(ProductionOrderDocument.document_id).where(
            ProductionOrderDocument.order_id == made.api_order,
            ProductionOrderDocument.kind == OrderDocumentKind.DELIVERY)).all()
        (tablet_delivery,) = session.scalars(select(ProductionOrderDocument.document_id).where(
            ProductionOrderDocument.order_id == made.tablet_order,
            ProductionOrderDocument.kind == OrderDocumentKind.DELIVERY)).all()
    # API-B1 went into the tablets.
    with refused_in(session_factory, OutputBatchUsed) as session:
        orders.reverse_delivery(session, world.actors["clerk_a"], made.api_order, api_delivery,
                                posting_date=dt.date(2026, 11, 2), reason="counted twice")
    _close(session_factory, world, NOV)
    with refused_in(session_factory, ProductionOrderClosed) as session:
        orders.reverse_delivery(session, world.actors["clerk_a"], made.tablet_order, tablet_delivery,
                                posting_date=dt.date(2026, 11, 28), reason="counted twice")


def test_a_backdated_reversal_takes_only_what_the_batch_held_on_its_date(
        session_factory: sessionmaker[Session], world: World) -> None:
    """Inspected tablets: 2,000 more delivered into quarantine on 21 November and released
    by quality on 25 November. A reversal dated 22 November would take unrestricted stock
    that only arrived on the 25th (and quarantine holds none now): refused. Dated the 26th,
    it takes them from unrestricted stock."""
    plant = build_plant(session_factory, world, tablet_inspection=True)
    release_rollup(session_factory, world)
    made = make_tablets(session_factory, world, plant, complete_order=False)
    extra = deliver(session_factory, world, made.tablet_order, "2000", batch="TAB-B2", on=NOV_21)
    extra_batch = batch_id(session_factory, world, "tablet", "TAB-B2")
    # released by QA's signed usage decision on the delivery's inspection lot (#20: the only release)
    decide(session_factory, world, "A-AMB", extra_batch, on=dt.date(2026, 11, 25))
    with refused_in(session_factory, InsufficientStock) as session:
        orders.reverse_delivery(session, world.actors["clerk_a"], made.tablet_order, extra, posting_date=NOV_22,
                                reason="counted twice")
    _reverse(session_factory, world, made.tablet_order, extra, dt.date(2026, 11, 26))
    with session_factory() as session:
        assert _held(session, extra_batch) == (D("0"), D("0"))
        assert account_balance(session, world.companies["A"], accounts.WORK_IN_PROCESS) == D("48.24")


def test_a_delivery_of_a_material_without_batches_is_reversed_while_the_stock_is_there(
        session_factory: sessionmaker[Session], world: World) -> None:
    """PREMIX (no batches) made from 1 kg of excipient per kg (10.00/kg, no conversion): all
    its stock shares one batch, so scrap of some of it is no use of "the order's batch".
    Two orders deliver 10 kg each (100.00 each); 5 kg are scrapped; the second delivery is
    reversed (15 kg on hand cover its 10), the first is then refused (5 kg left)."""
    plant = build_plant(session_factory, world)
    with session_factory() as session, session.begin():
        premix = add_material(session, world, "PREMIX", MaterialType.INTERMEDIATE, batch_managed=False)
        boms.create_bom(session, world.actors["cost_a"], company_id=world.companies["A"], material_id=premix,
                        valid_from=NOV_1, base_quantity=D("1"), components=[boms.ComponentIn(plant.excipient, D("1"))])
    world.materials["premix"] = premix
    release_rollup(session_factory, world)
    buy(session_factory, world, "exc_local", "50", "10.00", "EXC-1")
    first, second = new_order(session_factory, world, "premix", "10"), new_order(session_factory, world, "premix", "10")
    for order in (first, second):
        issue(session_factory, world, order, [("exc_local", "10", None)])
    delivered = [deliver(session_factory, world, order, "10", on=NOV_21) for order in (first, second)]
    with session_factory() as session, session.begin():
        (batch,) = session.scalars(select(Batch.id).where(Batch.material_id == premix)).all()
        inventory.adjust_stock(session, world.actors["cost_a"], warehouse_id=world.warehouses["A-AMB"],
                               material_id=premix, quantity=D("-5"), posting_date=NOV_21,
                               kind=inventory.AdjustmentKind.SCRAP, reason="spilt", batch_id=batch)
    _reverse(session_factory, world, second, delivered[1], NOV_22)
    with refused_in(session_factory, InsufficientStock) as session:
        orders.reverse_delivery(session, world.actors["clerk_a"], first, delivered[0], posting_date=NOV_22,
                                reason="counted twice")
    with session_factory() as session:
        assert _held(session, batch) == (D("5"), D("50.00"))


def _heat_wave(sf: sessionmaker[Session], world: World) -> int:
    """A-AMB (10-30 °C) at 35 °C from 08:00 to 08:45 Beijing time on 21 November, read every
    minute: a 45-minute excursion (30 allowed). TAB-X states no temperature limit, so it is
    judged against the room's 30 °C and held. Returns the excursion's id."""
    start = dt.datetime(2026, 11, 21, 0, 0, tzinfo=dt.UTC)
    rows = [(start + dt.timedelta(minutes=i), "35.00" if 0 <= i < 45 else "20.00") for i in range(-30, 90)]
    content = "read_at,temperature,humidity\n" + "".join(f"{at.isoformat()},{t},50\n" for at, t in rows)
    with sf() as session, session.begin():
        outcome = monitoring.import_readings(session, world.actors["quality_a"],
                                             warehouse_id=world.warehouses["A-AMB"], content=content)
        (excursion,) = outcome.excursions
        return excursion.id


def _tablet_lots(session: Session, batch: int) -> list[tuple[str, str, D]]:
    lots = session.scalars(select(InspectionLot).where(InspectionLot.batch_id == batch).order_by(InspectionLot.id))
    return [(lot.origin.value, lot.status.value, lot.quantity) for lot in lots]


def _deliveries(session: Session, order: int) -> list[int]:
    return list(session.scalars(select(ProductionOrderDocument.document_id).where(
        ProductionOrderDocument.order_id == order, ProductionOrderDocument.kind == OrderDocumentKind.DELIVERY)
        .order_by(ProductionOrderDocument.document_id)))


def test_a_delivery_an_excursion_put_on_hold_is_reversed_out_of_quarantine_and_its_lot_cancelled(
        session_factory: sessionmaker[Session], world: World, set_business_day: Callable[[dt.date], dt.date]) -> None:
    """TAB-B1's 98,000 tablets (1,771.84), delivered unrestricted on 20 November, are held by
    the excursion of 21 November, found on the 22nd: quality_hold to quarantine that day, an
    inspection lot (origin excursion) for QA. The delivery was a mistake: reversed on the
    22nd, the tablets leave quarantine (where the hold put them) at their 1,771.84, the batch
    holds nothing, the lot is cancelled (nothing left to decide) and the excursion still names
    the batch it held (the GMP record). Dated the 21st, before the hold, the reversal would
    take unrestricted stock the hold moved away on the 22nd: refused. 5001.01 takes back
    the output less its conversion: 48.24 + 1,771.84 - 490.00 = 1,330.08."""
    plant = build_plant(session_factory, world)
    release_rollup(session_factory, world)
    made = make_tablets(session_factory, world, plant, complete_order=False)
    set_business_day(NOV_22)
    excursion = _heat_wave(session_factory, world)
    with session_factory() as session:
        (delivery,) = _deliveries(session, made.tablet_order)
        assert _by_status(session, made.tablet_batch) == {"quarantine": (D("98000"), D("1771.84"))}
        assert _tablet_lots(session, made.tablet_batch) == [("excursion", "open", D("98000"))]
    with refused_in(session_factory, InsufficientStock) as session:
        orders.reverse_delivery(session, world.actors["clerk_a"], made.tablet_order, delivery, posting_date=NOV_21,
                                reason="counted twice")
    reversal = _reverse(session_factory, world, made.tablet_order, delivery, NOV_22)
    company = world.companies["A"]
    with session_factory() as session:
        assert _held(session, made.tablet_batch) == (D("0"), D("0"))
        (row,) = session.execute(select(StockMovement.status, StockMovement.quantity, StockMovement.value)
                                 .where(StockMovement.document_id == reversal)).all()
        assert (row.status.value, row.quantity, row.value) == ("quarantine", D("-98000"), D("-1771.84"))
        assert _tablet_lots(session, made.tablet_batch) == [("excursion", "cancelled", D("98000"))]
        held = session.scalars(select(ExcursionBatch.batch_id).where(ExcursionBatch.excursion_id == excursion)).all()
        assert made.tablet_batch in held
        assert account_balance(session, company, accounts.FINISHED_GOODS) == D("0.00")
        assert account_balance(session, company, accounts.WORK_IN_PROCESS) == D("1330.08")
        order = session.get(ProductionOrder, made.tablet_order)
        assert order is not None and order.delivered_quantity == D("0")


def test_a_partial_reversal_of_held_output_leaves_the_excursion_lot_only_what_stays_on_hold(
        session_factory: sessionmaker[Session], world: World, set_business_day: Callable[[dt.date], dt.date]) -> None:
    """Two deliveries into TAB-B1 on 20 November, 50,000 and 48,000 tablets, held together
    by the excursion (one lot of 98,000). The 48,000 are reversed on the 22nd: 50,000 stay in
    quarantine (904.00) and the lot covers those 50,000, so QA's release moves exactly them."""
    plant = build_plant(session_factory, world)
    release_rollup(session_factory, world)
    made = make_tablets(session_factory, world, plant, tablets_delivered="50000", complete_order=False)
    second = deliver(session_factory, world, made.tablet_order, "48000", batch="TAB-B1")
    set_business_day(NOV_22)
    _heat_wave(session_factory, world)
    with session_factory() as session:
        assert _tablet_lots(session, made.tablet_batch) == [("excursion", "open", D("98000"))]
        (lot_id,) = session.scalars(select(InspectionLot.id).where(InspectionLot.batch_id == made.tablet_batch))
    _reverse(session_factory, world, made.tablet_order, second, NOV_22)
    with session_factory() as session:
        assert _by_status(session, made.tablet_batch) == {"quarantine": (D("50000"), D("904.00"))}
        assert _tablet_lots(session, made.tablet_batch) == [("excursion", "open", D("50000"))]
    release_lot(session_factory, world, lot_id, on=NOV_22)
    with session_factory() as session:
        assert _by_status(session, made.tablet_batch) == {"unrestricted": (D("50000"), D("904.00"))}


def _by_status(session: Session, batch: int) -> dict[str, tuple[D, D]]:
    rows = session.execute(select(StockBalance.status, StockBalance.quantity, StockBalance.value)
                           .where(StockBalance.batch_id == batch, StockBalance.quantity != 0)).all()
    return {r.status.value: (r.quantity, r.value) for r in rows}


def test_reversing_held_output_never_leaves_its_excursion_lot_to_release_another_lots_stock(
        session_factory: sessionmaker[Session], world: World, set_business_day: Callable[[dt.date], dt.date]) -> None:
    """Inspected tablets. The first 50,000 into TAB-B1 are released by QA on 20 November; 48,000
    more arrive that day into quarantine under their own receipt lot. The excursion holds the
    50,000 released ones (lot of 50,000) and only names the 48,000 already in quarantine. The
    first delivery is reversed on the 22nd, out of quarantine (98,000 there): the excursion
    lot has nothing left to cover and is cancelled. Left open, it would have let QA's release
    move the 48,000 that no one has tested yet; they stay in quarantine under their own lot."""
    plant = build_plant(session_factory, world, tablet_inspection=True)
    release_rollup(session_factory, world)
    made = make_tablets(session_factory, world, plant, tablets_delivered="50000", complete_order=False)
    decide(session_factory, world, "A-AMB", made.tablet_batch, on=NOV_20)
    deliver(session_factory, world, made.tablet_order, "48000", batch="TAB-B1")
    set_business_day(NOV_22)
    _heat_wave(session_factory, world)
    with session_factory() as session:
        first, _ = _deliveries(session, made.tablet_order)
        assert _tablet_lots(session, made.tablet_batch) == [
            ("receipt", "released", D("50000")), ("receipt", "open", D("48000")), ("excursion", "open", D("50000"))]
    _reverse(session_factory, world, made.tablet_order, first, NOV_22)
    with session_factory() as session:
        assert _by_status(session, made.tablet_batch) == {"quarantine": (D("48000"), D("867.84"))}
        assert _tablet_lots(session, made.tablet_batch) == [
            ("receipt", "released", D("50000")), ("receipt", "open", D("48000")), ("excursion", "cancelled", D("50000"))]


def test_reversing_released_output_takes_it_from_released_stock_not_another_deliverys_quarantine(
        session_factory: sessionmaker[Session], world: World) -> None:
    """Inspected tablets into TAB-B1: 50,000 released by QA on 20 November, then 60,000 more
    into quarantine under their own receipt lot. Reversing the first delivery takes its 50,000
    out of unrestricted stock, where QA's release put them: the 60,000 no one has tested yet
    stay in quarantine, all of them under their lot (taken from quarantine, 50,000 of them
    would count as released)."""
    plant = build_plant(session_factory, world, tablet_inspection=True)
    release_rollup(session_factory, world)
    made = make_tablets(session_factory, world, plant, tablets_delivered="50000", complete_order=False)
    decide(session_factory, world, "A-AMB", made.tablet_batch, on=NOV_20)
    deliver(session_factory, world, made.tablet_order, "60000", batch="TAB-B1")
    with session_factory() as session:
        first, _ = _deliveries(session, made.tablet_order)
    _reverse(session_factory, world, made.tablet_order, first, NOV_22)
    with session_factory() as session:
        assert _by_status(session, made.tablet_batch) == {"quarantine": (D("60000"), D("1084.80"))}
        assert _tablet_lots(session, made.tablet_batch) == [("receipt", "released", D("50000")),
                                                            ("receipt", "open", D("60000"))]


def test_reversing_a_delivery_whose_lot_moved_away_leaves_that_lot_and_takes_what_left_off_the_lot_here(
        session_factory: sessionmaker[Session], world: World) -> None:
    """PREMIX (no batches, inspected): its stock shares one batch, so a transfer is no use of
    the output. The first order's 10 kg arrive in A-AMB's quarantine under lot L1 and all of
    them go to A-COOL, L1 with them; the second order's 10 kg arrive under lot L2. Reversing
    the first delivery takes 10 kg of the second's goods from A-AMB: L1 stays open on its
    10 kg in A-COOL, and L2, with nothing left in quarantine here, is cancelled (left open,
    QA's decision would move goods that are gone)."""
    plant = build_plant(session_factory, world)
    with session_factory() as session, session.begin():
        premix = add_material(session, world, "PREMIX", MaterialType.INTERMEDIATE, batch_managed=False,
                              inspection_required=True)
        boms.create_bom(session, world.actors["cost_a"], company_id=world.companies["A"], material_id=premix,
                        valid_from=NOV_1, base_quantity=D("1"), components=[boms.ComponentIn(plant.excipient, D("1"))])
    world.materials["premix"] = premix
    release_rollup(session_factory, world)
    buy(session_factory, world, "exc_local", "20", "10.00", "EXC-1")
    first, second = new_order(session_factory, world, "premix", "10"), new_order(session_factory, world, "premix", "10")
    for order in (first, second):
        issue(session_factory, world, order, [("exc_local", "10", None)])
    amb, cool = world.warehouses["A-AMB"], world.warehouses["A-COOL"]
    delivered = deliver(session_factory, world, first, "10", on=NOV_21)
    with session_factory() as session, session.begin():
        (batch,) = session.scalars(select(Batch.id).where(Batch.material_id == premix)).all()
        inventory.transfer_stock(session, world.actors["clerk_a"], from_warehouse_id=amb, to_warehouse_id=cool,
                                 material_id=premix, quantity=D("10"), posting_date=NOV_21, batch_id=batch,
                                 status=StockStatus.QUARANTINE)
    other = deliver(session_factory, world, second, "10", on=NOV_21)
    _reverse(session_factory, world, first, delivered, NOV_22)
    with session_factory() as session:
        lots = {lot.source_document_id: (lot.warehouse_id, lot.status.value, lot.quantity)
                for lot in session.scalars(select(InspectionLot).where(InspectionLot.batch_id == batch))}
        assert lots == {delivered: (cool, "open", D("10")), other: (amb, "cancelled", D("10"))}
        rows = session.execute(select(StockBalance.warehouse_id, StockBalance.status, StockBalance.quantity)
                               .where(StockBalance.batch_id == batch, StockBalance.quantity != 0)).all()
        assert [(r.warehouse_id, r.status.value, r.quantity) for r in rows] == [(cool, "quarantine", D("10"))]


def _order_number(sf: sessionmaker[Session], order: int) -> str:
    with sf() as session:
        found = session.get(ProductionOrder, order)
        assert found is not None
        return found.number


def _document_number(sf: sessionmaker[Session], document: int) -> str:
    with sf() as session:
        number = session.scalar(select(StockDocument.number).where(StockDocument.id == document))
    assert number is not None
    return number


def test_an_order_delivers_again_into_its_own_batch_whose_only_delivery_was_reversed(
        session_factory: sessionmaker[Session], world: World) -> None:
    """The tablet order's 2,000 extra tablets in TAB-B2 reversed (the batch leaves the
    genealogy: it holds nothing from the order), then 1,500 delivered into TAB-B2 again: the
    batch's only history is the order's, so it is the order's own. 1,500 x 0.018080 = 27.12
    at standard, absorbing 0.075 h x (60.00 + 40.00) = 7.50: 5001.01 at 48.24 + 7.50 - 27.12
    = 28.62, and TAB-B2 is the order's output in the genealogy again. Another order is
    refused TAB-B2, the refusal naming the order it is the output of."""
    plant = build_plant(session_factory, world)
    release_rollup(session_factory, world)
    made = make_tablets(session_factory, world, plant, complete_order=False)
    extra = deliver(session_factory, world, made.tablet_order, "2000", batch="TAB-B2", on=NOV_21)
    extra_batch = batch_id(session_factory, world, "tablet", "TAB-B2")
    _reverse(session_factory, world, made.tablet_order, extra, NOV_22)
    with session_factory() as session:
        up = genealogy.trace(session, world.actors["clerk_a"], made.api_batch, genealogy.Direction.UP)
        assert {b.batch_number for b in up.batches} == {"API-B1", "TAB-B1"}
    again = deliver(session_factory, world, made.tablet_order, "1500", batch="TAB-B2", on=NOV_22)
    with session_factory() as session:
        assert session.scalar(select(StockMovement.batch_id).where(StockMovement.document_id == again)) == extra_batch
        assert _held(session, extra_batch) == (D("1500"), D("27.12"))
        assert account_balance(session, world.companies["A"], accounts.WORK_IN_PROCESS) == D("28.62")
        order = session.get(ProductionOrder, made.tablet_order)
        assert order is not None and order.delivered_quantity == D("99500")
        up = genealogy.trace(session, world.actors["clerk_a"], made.api_batch, genealogy.Direction.UP)
        assert {b.batch_number for b in up.batches} == {"API-B1", "TAB-B1", "TAB-B2"}
    other = new_order(session_factory, world, "tablet", "1000")
    # read before the refused posting: a second connection inside its write transaction
    # waits for the first on SQLite ("database is locked")
    owner = _order_number(session_factory, made.tablet_order)
    with refused_in(session_factory, OutputBatchTaken) as session:
        try:
            orders.deliver_output(session, world.actors["clerk_a"], other, quantity=D("1"), posting_date=NOV_22,
                                  batch_number="TAB-B2")
        except OutputBatchTaken as refusal:
            assert refusal.detail == f"batch TAB-B2 of TAB-X is the output of production order {owner}"
            raise


def test_a_batch_with_another_history_is_refused_saying_whose_it_was(
        session_factory: sessionmaker[Session], world: World) -> None:
    """Neither another order's reversed batch nor a purchased batch whose receipt was reversed
    takes an order's output: each holds nothing now, but its history is not the order's, and
    the refusal names the first posting that is not."""
    plant = build_plant(session_factory, world)
    release_rollup(session_factory, world)
    make_tablets(session_factory, world, plant, complete_order=False)
    first, second = new_order(session_factory, world, "tablet", "1000"), new_order(session_factory, world, "tablet", "1000")
    delivered = deliver(session_factory, world, first, "100", batch="TAB-B3", on=NOV_21)
    _reverse(session_factory, world, first, delivered, NOV_22)
    (line,) = open_order(session_factory, world, [("tablet", "10", "0.02", "A-AMB")])
    received = receive(session_factory, world, line, "10", batch="TAB-P1", made=NOV_1, on=NOV_21)
    reverse(session_factory, world, received, on=NOV_22)
    for batch, document in (("TAB-B3", delivered), ("TAB-P1", received)):
        number = _document_number(session_factory, document)  # before the refused posting, as above
        with refused_in(session_factory, OutputBatchTaken) as session:
            try:
                orders.deliver_output(session, world.actors["clerk_a"], second, quantity=D("1"), posting_date=NOV_22,
                                      batch_number=batch)
            except OutputBatchTaken as refusal:
                assert refusal.detail == (f"batch {batch} of TAB-X has postings that are not this order's, the first "
                                          f"by document {number}")
                raise
