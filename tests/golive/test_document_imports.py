"""Imports of contracts and open purchase orders: documents spread over rows, created through
the purchasing services with their rights and rules, errors pinned to the rows."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from erp.errors import Conflict, Forbidden
from erp.golive.framework import ImportOutcome, undo_import
from erp.golive.kinds import KINDS
from erp.purchasing.models import Contract, ContractLine, ContractStatus, PurchaseOrder, PurchaseOrderStatus
from tests.golive.helpers import run_import, write_csv
from tests.world import USCC_SUPPLIER_1, World

CONTRACT_HEADER = ["合同编号", "供应商统一社会信用代码", "供应商编码", "生效日期", "失效日期", "物料编码", "合同单价", "目标数量"]
ORDER_HEADER = ["原订单号", "供应商编码", "订单日期", "物料编码", "收货仓库", "订购数量", "已收数量"]


def test_group_contracts_are_created_in_force_and_errors_land_on_their_rows(
        tmp_path: Path, session_factory: sessionmaker[Session], world: World) -> None:
    path = write_csv(tmp_path / "gc.csv", [
        CONTRACT_HEADER,
        ["GC-1", USCC_SUPPLIER_1, "", "2026-01-01", "2026-12-31", "API-AMOX", "120", "1000"],
        ["GC-1", USCC_SUPPLIER_1, "", "2026-01-01", "2026-12-31", "API-INSU", "300.5", ""],
        ["GC-2", "", "S0002", "2026-01-01", "2026-12-31", "NOPE", "1", ""],  # row 4: unknown material
        ["GC-3", "", "S0002", "2026-12-31", "2026-01-01", "API-AMOX", "1", ""],  # row 5: validity inverted
        ["GC-1", "", "S0002", "2026-01-01", "2026-12-31", "EXC-STAR", "1", ""],  # row 6: another supplier on GC-1
        ["GC-4", "", "S0003", "2026-01-01", "2026-12-31", "EXC-STAR", "1", ""],  # row 7: blocked supplier
    ])
    outcome, seen = run_import(session_factory, world.actors["buyer_a"], "group_contracts", path, dry_run=True)
    assert isinstance(outcome, Forbidden)
    outcome, seen = run_import(session_factory, world.actors["group_buyer"], "group_contracts", path, dry_run=True)
    assert isinstance(outcome, ImportOutcome)
    assert sorted({(e["row"], e["column"]) for e in seen.errors}) == [
        (4, "material_code"), (5, None), (6, "supplier_id"), (7, None)]
    good = write_csv(tmp_path / "gc2.csv", [CONTRACT_HEADER] + [
        ["GC-1", USCC_SUPPLIER_1, "", "2026-01-01", "2026-12-31", "API-AMOX", "120", "1000"],
        ["GC-1", USCC_SUPPLIER_1, "", "2026-01-01", "2026-12-31", "API-INSU", "300.5", ""]])
    outcome, seen = run_import(session_factory, world.actors["group_buyer"], "group_contracts", good)
    assert seen.errors == [] and isinstance(outcome, ImportOutcome)
    assert outcome.counts == {"contracts": 1, "contract_lines": 2}
    with session_factory() as session:
        contract = session.scalars(select(Contract).where(Contract.number == "GC-1")).one()
        assert contract.status == ContractStatus.ACTIVE and contract.company_id is None
        assert sorted(str(line.unit_price) for line in contract.lines) == ["120.000000", "300.500000"]


def test_open_orders_are_priced_from_their_contracts_opened_and_partly_received(
        tmp_path: Path, session_factory: sessionmaker[Session], world: World) -> None:
    contracts = write_csv(tmp_path / "cc.csv", [
        CONTRACT_HEADER, ["CA-C-1", "", "S0001", "2026-01-01", "2026-12-31", "EXC-STAR", "10.5", "1000"]])
    outcome, seen = run_import(session_factory, world.actors["buyer_a"], "company_contracts", contracts,
                               company_id=world.companies["A"])
    assert seen.errors == [] and isinstance(outcome, ImportOutcome) and outcome.committed
    orders = write_csv(tmp_path / "po.csv", [
        ORDER_HEADER,
        ["OLD-1", "S0001", "2026-11-15", "EXC-STAR", "CA-AMB", "100", "40"],
        ["OLD-1", "S0001", "2026-11-15", "EXC-STAR", "CA-COOL", "50", "0"],
        ["OLD-2", "S0001", "2026-11-15", "API-AMOX", "CA-COOL", "5", ""],  # row 4: central material, local buyer
        ["OLD-3", "S0001", "2026-11-15", "EXC-STAR", "CA-AMB", "10", "12"],  # row 5: more received than ordered
        ["OLD-4", "S0002", "2026-11-15", "EXC-STAR", "CA-AMB", "10", ""],  # row 6: no contract with S0002
        ["OLD-5", "S0001", "2026-11-15", "EXC-STAR", "CB-AMB", "10", ""],  # row 7: another company's warehouse
        ["OLD-6", "S0001", "2026-11-15", "EXC-STAR", "CA-AMB", "10", "10"],  # row 8: fully received
    ])
    outcome, seen = run_import(session_factory, world.actors["buyer_a"], "purchase_orders", orders,
                               company_id=world.companies["A"], dry_run=True)
    assert isinstance(outcome, ImportOutcome)
    assert sorted((e["row"], e["column"]) for e in seen.errors) == [
        (4, "material_code"), (5, "received_quantity"), (6, "material_code"), (7, "warehouse_code"),
        (8, "received_quantity")]
    good = write_csv(tmp_path / "po2.csv", [ORDER_HEADER] + [
        ["OLD-1", "S0001", "2026-11-15", "EXC-STAR", "CA-AMB", "100", "40"],
        ["OLD-1", "S0001", "2026-11-15", "EXC-STAR", "CA-COOL", "50", "0"]])
    outcome, seen = run_import(session_factory, world.actors["buyer_a"], "purchase_orders", good,
                               company_id=world.companies["A"])
    assert seen.errors == [] and isinstance(outcome, ImportOutcome) and outcome.committed
    (notice,) = outcome.notices
    assert notice["code"] == "order-numbered" and notice["reference"] == "OLD-1"
    with session_factory() as session:
        order = session.scalars(select(PurchaseOrder).where(PurchaseOrder.number == notice["number"])).one()
        assert order.status == PurchaseOrderStatus.PARTIALLY_RECEIVED
        assert [(str(l.quantity), str(l.received_quantity), str(l.unit_price)) for l in order.lines] == [
            ("100.0000", "40.0000", "10.500000"), ("50.0000", "0.0000", "10.500000")]
        assert order.total_amount == D("1575.00")
        assert session.scalar(select(ContractLine.ordered_quantity)) == D("150")
    # The contract now has orders against it: its import cannot be undone; the orders' can.
    with session_factory() as session, session.begin():
        try:
            undo_import(session, world.actors["buyer_a"], KINDS["company_contracts"], 1)
            raise AssertionError("undo of a contract in use was not refused")
        except Conflict:
            pass
    with session_factory() as session, session.begin():
        undo_import(session, world.actors["buyer_a"], KINDS["purchase_orders"], outcome.batch_id)  # type: ignore[arg-type]
    with session_factory() as session:
        assert session.scalar(select(PurchaseOrder.id)) is None
        assert session.scalar(select(ContractLine.ordered_quantity)) == D("0"), "consumption released"


def _grir(session: Session, world: World) -> D:
    """2202.01's balance in company A's books (a credit negative)."""
    from sqlalchemy import func

    from erp.posting.models import JournalLine

    return D(session.scalar(select(func.coalesce(func.sum(JournalLine.amount), 0)).where(
        JournalLine.company_id == world.companies["A"], JournalLine.account_code == "2202.01"))).quantize(D("0.01"))


@pytest.mark.postgres
def test_goods_received_not_invoiced_in_the_old_system_clear_against_their_invoice(
        tmp_path: Path, session_factory: sessionmaker[Session], world: World) -> None:
    """Finding 131 (docs/go-live.md, *Open purchase orders*). OLD-1: 100 kg of EXC-STAR at the
    contract's 10.50, 40 kg received and not invoiced in the old system. The import credits
    GR/IR what a receipt of 40 kg would have: 40 x 10.50 = 420.00, Dr 4199 / Cr 2202.01. The
    supplier's invoice of the 40 kg at 10.50 (420.00 + VAT13 54.60 = 474.60) debits 2202.01
    420.00, so GR/IR is 0.00 and the clearing report shows nothing open; before 1 December
    2026 nothing was credited and 2202.01 kept the invoice's 420.00 debit for good. An undone
    import of OLD-2 (10 kg received: 105.00) posts the mirror entry: 2202.01 back to 0.00."""
    from erp.clock import business_today
    from erp.payables import queries as payables_queries
    from tests.payables import enter, vat13_on_materials

    vat13_on_materials(session_factory, world)
    contracts = write_csv(tmp_path / "cc.csv", [
        CONTRACT_HEADER, ["CA-C-1", "", "S0001", "2026-01-01", "2027-12-31", "EXC-STAR", "10.5", "1000"]])
    outcome, seen = run_import(session_factory, world.actors["buyer_a"], "company_contracts", contracts,
                               company_id=world.companies["A"])
    assert seen.errors == [] and isinstance(outcome, ImportOutcome) and outcome.committed
    orders = write_csv(tmp_path / "po.csv", [ORDER_HEADER, ["OLD-1", "S0001", "2026-11-15", "EXC-STAR", "CA-AMB",
                                                            "100", "40"]])
    outcome, seen = run_import(session_factory, world.actors["buyer_a"], "purchase_orders", orders,
                               company_id=world.companies["A"])
    assert seen.errors == [] and isinstance(outcome, ImportOutcome) and outcome.committed
    today = business_today()
    with session_factory() as session:
        line = session.scalars(select(PurchaseOrder)).one().lines[0]
        assert (line.received_quantity, line.opening_received_quantity) == (D("40"), D("40"))
        assert _grir(session, world) == D("-420.00")
        (open_line,) = payables_queries.grir_lines(session, world.actors["ap_a"], world.companies["A"], today)
        assert (open_line.received_quantity, open_line.received_value, open_line.balance) == (
            D("40"), D("420.00"), D("420.00"))
        assert payables_queries.grir_check(session, world.actors["ap_a"], world.companies["A"], today).agrees
        line_id = line.id
    enter(session_factory, world, "INV-O1", [(line_id, "40", "10.50")], net="420.00", tax="54.60", on=today)
    with session_factory() as session:
        assert _grir(session, world) == D("0.00")
        assert payables_queries.grir_lines(session, world.actors["ap_a"], world.companies["A"], today) == []
        assert payables_queries.grir_check(session, world.actors["ap_a"], world.companies["A"], today).agrees
    second = write_csv(tmp_path / "po2.csv", [ORDER_HEADER, ["OLD-2", "S0001", "2026-11-15", "EXC-STAR", "CA-AMB",
                                                             "20", "10"]])
    outcome, seen = run_import(session_factory, world.actors["buyer_a"], "purchase_orders", second,
                               company_id=world.companies["A"])
    assert seen.errors == [] and isinstance(outcome, ImportOutcome) and outcome.committed
    with session_factory() as session:
        assert _grir(session, world) == D("-105.00")
    with session_factory() as session, session.begin():
        undo_import(session, world.actors["buyer_a"], KINDS["purchase_orders"], outcome.batch_id)  # type: ignore[arg-type]
    with session_factory() as session:
        assert _grir(session, world) == D("0.00")
        assert payables_queries.grir_check(session, world.actors["ap_a"], world.companies["A"], today).agrees
