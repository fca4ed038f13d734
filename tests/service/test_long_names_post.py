"""A posting never fails over its 摘要: master data allows a supplier (or warehouse) names of
200 characters in each language, and the journal entry's memo (300 characters) names the
supplier; the narration shortens the names (erp.narration.narrate). Before, an invoice of
such a supplier could not be posted at all (ValueError, a 500)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from erp import narration
from erp.masterdata.models import Supplier
from erp.payables.models import SupplierInvoice
from erp.posting.models import JournalEntry
from tests.payables import enter, vat13_on_materials
from tests.stock import open_order, receive, set_standard
from tests.world import World

pytestmark = pytest.mark.postgres


def test_an_invoice_of_a_supplier_with_the_longest_names_posts(
        session_factory: sessionmaker[Session], world: World) -> None:
    vat13_on_materials(session_factory, world)
    set_standard(session_factory, world, "exc_local", "12.30")
    with session_factory() as session, session.begin():
        supplier = session.get(Supplier, world.suppliers["sup1"])
        assert supplier is not None
        supplier.name_zh, supplier.name_en = "华康医药原料" * 33 + "华康", "Huakang Pharma " * 13 + "Huakang"[:5]
        assert len(supplier.name_zh) == len(supplier.name_en) == 200
    (line,) = open_order(session_factory, world, [("exc_local", "100", "12.30", "A-AMB")])
    receive(session_factory, world, line, "100")
    invoice_id = enter(session_factory, world, "INV-2026-000123", [(line, "100", "12.30")], net="1230.00",
                       tax="159.90")
    with session_factory() as session:
        invoice = session.get(SupplierInvoice, invoice_id)
        assert invoice is not None
        (memo,) = session.scalars(select(JournalEntry.memo).where(JournalEntry.source_type == "supplier_invoice",
                                                                   JournalEntry.source_id == invoice_id)).all()
    said = narration.read(memo)
    assert isinstance(said, narration.Message)
    assert (said.params["supplier"].code, said.params["number"]) == ("S0001", "INV-2026-000123")
