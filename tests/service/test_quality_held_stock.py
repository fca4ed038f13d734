"""Held stock that leaves quarantine other than by QA's usage decision (scrapped, counted
short, rejected by a plain decision) takes what it took off the excursion lot that held it,
so the lot never covers goods that are gone; and every change to a lot's quantity or status
that is not the signed decision is in the audit trail (who, when, before, after, why).

The cold room (tests/service/test_quality_monitoring.py): 45 minutes at 9.5 °C hold the
10 units of INS-1 (2-8 °C) in quarantine under one excursion lot of 10.
"""

from __future__ import annotations

from decimal import Decimal as D

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from erp.audit.models import AuditEvent
from erp.inventory import services as inventory
from erp.posting.models import StockStatus
from erp.quality.models import InspectionLot, LotOrigin, LotStatus
from tests.service.test_quality_monitoring import cold_room, cold_room_morning, ingest, log  # noqa: F401
from tests.stock import balances, decide
from tests.world import World


def excursion_lot(session: Session) -> InspectionLot:
    (lot,) = session.scalars(select(InspectionLot).where(InspectionLot.origin == LotOrigin.EXCURSION)).all()
    return lot


def lot_events(session: Session, lot_id: int) -> list[tuple[str, str, dict, str]]:
    return [(e.action, e.actor_name, e.changes, e.reason) for e in session.scalars(
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
