from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

from sqlalchemy.orm import Session, sessionmaker

from erp.inventory import services
from tests.stock import balances, entry_lines, open_order, set_standard
from tests.world import World


def test_receipt_above_standard_posts_exact_variance(session_factory: sessionmaker[Session], world: World) -> None:
    set_standard(session_factory, world, "api_central", "52.00")
    (line,) = open_order(session_factory, world, [("api_central", "200", "55.50", "A-COOL")])
    with session_factory() as session, session.begin():
        doc = services.receive_goods(session, world.actors["clerk_a"], services.ReceiptRequest(
            po_line_id=line, quantity=D("120"), posting_date=dt.date(2026, 11, 20), batch_number="AMX-2611-01",
            manufacture_date=dt.date(2026, 10, 1), expiry_date=dt.date(2029, 9, 30)))
    with session_factory() as session:
        assert entry_lines(session, doc) == {"1403": D("6240.00"), "1404": D("420.00"), "2202.01": D("-6660.00")}
        assert balances(session, warehouse_id=world.warehouses["A-COOL"]) == [
            ("AMX-2611-01", "quarantine", D("120.0000"), D("6240.00"))]
