"""Held stock that leaves quarantine other than by QA's usage decision (scrapped, counted
short, rejected by a plain decision) takes what it took off the lot that held it (an
excursion's, a receipt's), so no lot covers goods that are gone; held stock transferred to
another warehouse takes its lot with it, whole, or stays; and every change to a lot's
quantity, status or place that is not the signed decision is in the audit trail (who, when,
before, after, why).

The cold room (tests/service/test_quality_monitoring.py): 45 minutes at 9.5 °C hold the
10 units of INS-1 (2-8 °C) in quarantine under one excursion lot of 10.
"""

from __future__ import annotations

from decimal import Decimal as D

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from erp.audit.models import AuditEvent
from erp.inventory import services as inventory
from erp.masterdata.models import Warehouse
from erp.narration import plain
from erp.posting.models import StockStatus
from erp.quality.errors import InspectionLotHoldsStock
from erp.quality.models import InspectionLot, LotOrigin, LotStatus
from tests.quality import release_lot
from tests.service.test_quality_monitoring import cold_room, cold_room_morning, ingest, log  # noqa: F401
from tests.stock import NOV_20, balances, batch_id, decide, open_order, receive, refused, set_standard
from tests.world import World


def excursion_lot(session: Session) -> InspectionLot:
    (lot,) = session.scalars(select(InspectionLot).where(InspectionLot.origin == LotOrigin.EXCURSION)).all()
    return lot


def lot_events(session: Session, lot_id: int) -> list[tuple[str, str, dict, str]]:
    return [(e.action, e.actor_name, e.changes, plain(e.reason)) for e in session.scalars(
        select(AuditEvent).where(AuditEvent.entity == "inspection_lot", AuditEvent.entity_id == lot_id)
        .order_by(AuditEvent.id))]


def scrap(session_factory: sessionmaker[Session], world: World, batch: int, quantity: str, reason: str) -> None:
    """Scrap held stock on the day the hold was posted."""
    with session_factory() as session, session.begin():
        day = excursion_lot(session).inspection_date
        inventory.adjust_stock(session, world.actors["quality_a"], warehouse_id=world.warehouses["A-COLD"],
                               material_id=world.materials["cold_central"], quantity=D(quantity), posting_date=day,
                               kind=inventory.AdjustmentKind.SCRAP, reason=reason, batch_id=batch,
                               status=StockStatus.QUARANTINE)


def test_scrapping_held_stock_takes_it_off_the_excursion_lot_with_an_audit_row(
    session_factory: sessionmaker[Session], world: World, cold_room: dict[str, int]  # noqa: F811
) -> None:
    ingest(session_factory, world, log(cold_room_morning(60, 45)))
    scrap(session_factory, world, cold_room["INS-1"], "-4", "vials cracked in the warm room")
    with session_factory() as session:
        lot = excursion_lot(session)
        assert (lot.status, lot.quantity) == (LotStatus.OPEN, D("6"))  # 10 held - 4 scrapped
        assert lot_events(session, lot.id) == [
            ("lot-quantity-reduced", "quality_a", {"quantity": {"before": "10.0000", "after": "6.0000"}},
             "scrap adjustment: vials cracked in the warm room")]
    scrap(session_factory, world, cold_room["INS-1"], "-6", "the rest too")
    with session_factory() as session:
        lot = excursion_lot(session)
        assert lot.status == LotStatus.CANCELLED  # nothing left for QA to decide
        assert [e[0] for e in lot_events(session, lot.id)] == ["lot-quantity-reduced", "lot-cancelled"]
        held = {(b, s): q for b, s, q, _ in balances(session, warehouse_id=world.warehouses["A-COLD"]) if q}
        assert ("INS-1", "quarantine") not in held


def test_a_plain_rejection_of_held_stock_cancels_the_excursion_lot_with_an_audit_row(
    session_factory: sessionmaker[Session], world: World, cold_room: dict[str, int]  # noqa: F811
) -> None:
    ingest(session_factory, world, log(cold_room_morning(60, 45)))
    with session_factory() as session:
        day = excursion_lot(session).inspection_date
    decide(session_factory, world, "A-COLD", cold_room["INS-1"], decision=inventory.QualityDecision.REJECT, on=day)
    with session_factory() as session:
        lot = excursion_lot(session)
        assert lot.status == LotStatus.CANCELLED and lot.quantity == D("10")
        ((action, who, changes, _),) = lot_events(session, lot.id)
        assert (action, who, changes) == ("lot-cancelled", "quality_a",
                                          {"status": {"before": "open", "after": "cancelled"}})
        held = {(b, s): q for b, s, q, _ in balances(session, warehouse_id=world.warehouses["A-COLD"]) if q}
        assert held[("INS-1", "blocked")] == D("10")


def received_in_quarantine(session_factory: sessionmaker[Session], world: World) -> tuple[int, int]:
    """Two receipts of the inspected API into the cool room as one batch: 120 and 30 kg in
    quarantine under two receipt lots. Returns the batch and the second receipt's lot."""
    set_standard(session_factory, world, "api_central", "52.00")
    (line,) = open_order(session_factory, world, [("api_central", "200", "52.00", "A-COOL")])
    receive(session_factory, world, line, "120", batch="AMX-7")
    second = receive(session_factory, world, line, "30", batch="AMX-7")
    with session_factory() as session:
        lot = session.scalars(select(InspectionLot).where(InspectionLot.source_document_id == second)).one()
    return batch_id(session_factory, world, "api_central", "AMX-7"), lot.id


def receipt_lots(session: Session) -> list[tuple[D, LotStatus]]:
    return [(lot.quantity, lot.status) for lot in session.scalars(
        select(InspectionLot).where(InspectionLot.origin == LotOrigin.RECEIPT).order_by(InspectionLot.id))]


def test_scrapping_quarantined_stock_takes_it_off_the_receipt_lots_newest_first_with_audit_rows(
    session_factory: sessionmaker[Session], world: World
) -> None:
    batch, newest = received_in_quarantine(session_factory, world)
    with session_factory() as session, session.begin():
        inventory.adjust_stock(session, world.actors["quality_a"], warehouse_id=world.warehouses["A-COOL"],
                               material_id=world.materials["api_central"], quantity=D("-40"), posting_date=NOV_20,
                               kind=inventory.AdjustmentKind.SCRAP, reason="drums crushed on the dock",
                               batch_id=batch, status=StockStatus.QUARANTINE)
    with session_factory() as session:
        # 150 kg under lots of 120 and 30; 40 scrapped: the 30 kg lot is cancelled, 10 come off the 120.
        assert receipt_lots(session) == [(D("110"), LotStatus.OPEN), (D("30"), LotStatus.CANCELLED)]
        oldest = newest - 1
        assert lot_events(session, newest) == [
            ("lot-cancelled", "quality_a", {"status": {"before": "open", "after": "cancelled"}},
             "scrap adjustment: drums crushed on the dock")]
        assert lot_events(session, oldest) == [
            ("lot-quantity-reduced", "quality_a", {"quantity": {"before": "120.0000", "after": "110.0000"}},
             "scrap adjustment: drums crushed on the dock")]
        held = {(b, s): q for b, s, q, _ in balances(session, warehouse_id=world.warehouses["A-COOL"]) if q}
        assert held[("AMX-7", "quarantine")] == D("110")  # what the open lot covers, no more, no less


def second_cold_room(session_factory: sessionmaker[Session], world: World) -> int:
    """Company A's standby cold room (2-8 °C), where held stock goes while the first is repaired."""
    with session_factory() as session, session.begin():
        first = session.get(Warehouse, world.warehouses["A-COLD"])
        assert first is not None
        standby = Warehouse(code="CA-COLD2", company_id=first.company_id, name_zh="备用冷库", name_en="standby cold room",
                            temp_min=D("2"), temp_max=D("8"), max_humidity=D("60"))
        session.add(standby)
        session.flush()
        return standby.id


def transfer_held(session_factory: sessionmaker[Session], world: World, batch: int, quantity: str,
                  to_warehouse: int) -> int:
    with session_factory() as session, session.begin():
        day = excursion_lot(session).inspection_date
        return inventory.transfer_stock(
            session, world.actors["clerk_a"], from_warehouse_id=world.warehouses["A-COLD"],
            to_warehouse_id=to_warehouse, material_id=world.materials["cold_central"], quantity=D(quantity),
            posting_date=day, batch_id=batch, status=StockStatus.QUARANTINE)


def test_part_of_held_stock_is_not_transferred_away_from_its_lot(
    session_factory: sessionmaker[Session], world: World, cold_room: dict[str, int]  # noqa: F811
) -> None:
    ingest(session_factory, world, log(cold_room_morning(60, 45)))
    standby = second_cold_room(session_factory, world)
    with session_factory() as session:
        number = excursion_lot(session).number
    with refused(session_factory, InspectionLotHoldsStock) as info:
        transfer_held(session_factory, world, cold_room["INS-1"], "4", standby)
    assert info.value.status == 409 and info.value.slug == "inspection-lot-holds-stock"
    assert str(info.value) == (f"batch INS-1 in CA-COLD COLD is held by inspection lot {number}: transfer all 10 of "
                               "it in quarantine (the lot goes with it), or let QA decide the lot first")
    with session_factory() as session:
        lot = excursion_lot(session)
        assert (lot.warehouse_id, lot.quantity, lot.status) == (world.warehouses["A-COLD"], D("10"), LotStatus.OPEN)


def test_held_stock_transferred_whole_takes_its_lot_along_and_qa_decides_it_there(
    session_factory: sessionmaker[Session], world: World, cold_room: dict[str, int]  # noqa: F811
) -> None:
    ingest(session_factory, world, log(cold_room_morning(60, 45)))
    standby = second_cold_room(session_factory, world)
    transfer_held(session_factory, world, cold_room["INS-1"], "10", standby)
    with session_factory() as session:
        lot = excursion_lot(session)
        assert (lot.warehouse_id, lot.quantity, lot.status) == (standby, D("10"), LotStatus.OPEN)
        assert lot_events(session, lot.id) == [
            ("lot-moved", "clerk_a", {"warehouse": {"before": "CA-COLD", "after": "CA-COLD2"}},
             "transferred from CA-COLD to CA-COLD2")]
        lot_id, day = lot.id, lot.inspection_date
        assert {(b, s): q for b, s, q, _ in balances(session, warehouse_id=standby) if q} == {
            ("INS-1", "quarantine"): D("10")}
    release_lot(session_factory, world, lot_id, on=day)
    with session_factory() as session:
        assert {(b, s): q for b, s, q, _ in balances(session, warehouse_id=standby) if q} == {
            ("INS-1", "unrestricted"): D("10")}
        assert not [q for b, s, q, _ in balances(session, warehouse_id=world.warehouses["A-COLD"])
                    if b == "INS-1" and q]


def test_scrapping_a_customer_returns_quarantined_goods_takes_them_off_its_lot(
    session_factory: sessionmaker[Session], world: World
) -> None:
    """20 kg of the excipient come back from the First Hospital into quarantine under the
    return's lot; 8 kg are scrapped from quarantine: the lot covers 12, recorded."""
    from tests.credit import NOV
    from tests.service.test_returns import _return, _sale

    _, shipment = _sale(session_factory, world)
    batch = _return(session_factory, world, shipment, "20").lines[0].batch_id
    assert batch is not None
    with session_factory() as session, session.begin():
        inventory.adjust_stock(session, world.actors["quality_a"], warehouse_id=world.warehouses["A-AMB"],
                               material_id=world.materials["exc_local"], quantity=D("-8"), posting_date=NOV,
                               kind=inventory.AdjustmentKind.SCRAP, reason="cartons soaked", batch_id=batch,
                               status=StockStatus.QUARANTINE)
    with session_factory() as session:
        (lot,) = session.scalars(select(InspectionLot).where(InspectionLot.origin == LotOrigin.CUSTOMER_RETURN))
        assert (lot.quantity, lot.status) == (D("12"), LotStatus.OPEN)
        assert lot_events(session, lot.id) == [
            ("lot-quantity-reduced", "quality_a", {"quantity": {"before": "20.0000", "after": "12.0000"}},
             "scrap adjustment: cartons soaked")]
