"""Taking stock out of a balance (shipments, issues, transfers) lowers the balance row in place."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

from sqlalchemy.orm import Session, sessionmaker

from erp.inventory import services
from tests.stock import balances, entry_lines, open_order, set_standard
from tests.world import World


def test_shipment_lowers_the_balance_it_takes_from(session_factory: sessionmaker[Session], world: World) -> None:
    set_standard(session_factory, world, "exc_local", "10.00")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "10.00", "A-AMB")])
    with session_factory() as session, session.begin():
        services.receive_goods(session, world.actors["clerk_a"], services.ReceiptRequest(
            po_line_id=line, quantity=D("100"), posting_date=dt.date(2026, 11, 2), batch_number="EXC-1",
            manufacture_date=dt.date(2026, 10, 1), expiry_date=dt.date(2029, 9, 30)))
    with session_factory() as session, session.begin():
        shipment = services.ship_goods(
            session, world.actors["sales_a"], warehouse_id=world.warehouses["A-AMB"],
            material_id=world.materials["exc_local"], quantity=D("40"), posting_date=dt.date(2026, 11, 5),
            customer_id=world.customers["cust1"], reference="SO-1")
    with session_factory() as session:
        # 100 - 40 = 60 kg left, at 10.00: 600.00; the 40 kg shipped cost 400.00
        assert balances(session, warehouse_id=world.warehouses["A-AMB"]) == [
            ("EXC-1", "unrestricted", D("60.0000"), D("600.00"))]
        assert entry_lines(session, shipment) == {"6401": D("400.00"), "1403": D("-400.00")}
