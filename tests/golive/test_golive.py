"""A subsidiary goes live from its spreadsheets (the checked-in samples in
tests/golive/samples, about 50 rows each, with deliberate bad rows): each dry run reports
exactly the bad rows and writes nothing; once they are fixed the commit loads everything,
and the loaded figures equal the files' totals (worked out by hand in
samples/make_samples.py, written here as numbers); the same file again is refused; a
second company's customers with the same USCCs are matched, not created again."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from erp.auth.models import User, UserCompany
from erp.auth.roles import Actor, Role
from erp.auth.services import actor_for_user
from erp.costing.reports import inventory_valuation, trial_balance
from erp.credit.exposure import CreditPolicy
from erp.credit.models import CreditLimit, CustomerExposure, Invoice
from erp.credit.receivables import receivables_by_customer
from erp.costing.models import StandardPrice
from erp.golive.framework import AlreadyImported, ImportOutcome
from erp.masterdata.models import Company, Customer, Group, Material, Segment, Supplier, UnitOfMeasure, Warehouse
from erp.posting.models import StockBalance, StockMovement, StockStatus
from erp.purchasing.models import ContractLine, PurchaseOrder, PurchaseOrderLine, PurchaseOrderStatus
from tests.golive.helpers import run_import

SAMPLES = Path(__file__).resolve().parent / "samples"
GO_LIVE = dt.date(2026, 12, 1)
pytestmark = pytest.mark.postgres


def _actors(session_factory: sessionmaker[Session]) -> dict[str, Any]:
    """An empty company GL1 (and GLB) of a group with units and the users who go live."""
    with session_factory() as session, session.begin():
        group = Group(code="HEYI", name_zh="合一", name_en="Heyi")
        session.add(group)
        session.flush()
        segment = Segment(code="FORM", name_zh="制剂", name_en="Formulations", group_id=group.id)
        session.add(segment)
        session.flush()
        gl1 = Company(code="GL1", name_zh="新公司", name_en="New subsidiary", segment_id=segment.id)
        glb = Company(code="GLB", name_zh="乙公司", name_en="Company B", segment_id=segment.id)
        session.add_all([gl1, glb])
        session.add_all([UnitOfMeasure(code="KG", name_zh="千克", name_en="kilogram", decimals=3),
                         UnitOfMeasure(code="EA", name_zh="个", name_en="each", decimals=0),
                         UnitOfMeasure(code="L", name_zh="升", name_en="litre", decimals=3)])
        session.flush()
        actors: dict[str, Any] = {"GL1": gl1.id, "GLB": glb.id}
        for name, role, company in (("steward", Role.STEWARD, None), ("cost", Role.COST_ACCOUNTANT, gl1),
                                    ("buyer", Role.BUYER, gl1), ("credit", Role.CREDIT_CONTROLLER, None)):
            user = User(username=name, display_name=name, password_hash="x", role=role, group_wide=company is None,
                        companies=[UserCompany(company_id=company.id)] if company else [])
            session.add(user)
            session.flush()
            actors[name] = actor_for_user(user)
    return actors


def _count(session_factory: sessionmaker[Session], model: Any, *where: Any) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _fixed_csv(tmp_path: Path, name: str, fix: Callable[[list[list[str]]], None], encoding: str = "utf-8-sig") -> Path:
    rows = list(csv.reader(io.StringIO((SAMPLES / name).read_bytes().decode(encoding))))
    fix(rows)
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    path = tmp_path / name
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def _dry_run_then_commit(session_factory: sessionmaker[Session], actor: Actor, kind: str, bad: Path, fixed: Path,
                         expected: set[tuple[int, str | None]], counted: Any, company_id: int | None = None,
                         go_live_date: dt.date | None = None) -> ImportOutcome:
    before = _count(session_factory, counted)
    outcome, seen = run_import(session_factory, actor, kind, bad, dry_run=True, company_id=company_id,
                               go_live_date=go_live_date)
    assert isinstance(outcome, ImportOutcome), outcome
    assert seen.at() == expected, seen.errors
    assert _count(session_factory, counted) == before, "a dry run writes nothing"
    outcome, seen = run_import(session_factory, actor, kind, fixed, company_id=company_id, go_live_date=go_live_date)
    assert isinstance(outcome, ImportOutcome) and outcome.committed, (outcome, seen.errors)
    assert seen.errors == []
    again, _ = run_import(session_factory, actor, kind, fixed, company_id=company_id, go_live_date=go_live_date)
    assert isinstance(again, AlreadyImported)
    return outcome


def test_a_subsidiary_goes_live_from_its_spreadsheets(tmp_path: Path, session_factory: sessionmaker[Session]) -> None:
    a = _actors(session_factory)
    gl1 = a["GL1"]

    # 1. Warehouses: nothing wrong in the file.
    warehouses = SAMPLES / "01_warehouses.csv"
    outcome, seen = run_import(session_factory, a["steward"], "warehouses", warehouses, company_id=gl1)
    assert isinstance(outcome, ImportOutcome) and outcome.committed and seen.errors == []
    assert _count(session_factory, Warehouse, Warehouse.company_id == gl1) == 8

    # 2. Materials (XLSX): row 13's unit BOX is unknown, row 31 repeats row 5's code.
    workbook = load_workbook(SAMPLES / "02_materials.xlsx")
    sheet = workbook.active
    sheet["E13"] = "KG"
    sheet["A31"] = "GL-M030"
    fixed = tmp_path / "02_materials.xlsx"
    workbook.save(fixed)
    outcome = _dry_run_then_commit(session_factory, a["steward"], "materials", SAMPLES / "02_materials.xlsx", fixed,
                                   {(13, "unit_code"), (31, "code")}, Material)
    assert outcome.counts == {"created": 48}
    assert _count(session_factory, Material) == 48
    assert _count(session_factory, Material, Material.storage_temp_max == 8) == 6  # the cold-chain ones

    # 3. Suppliers (GB18030 CSV): row 9's USCC has a wrong check character.
    def fix_suppliers(rows: list[list[str]]) -> None:
        rows[8][1] = "91330100000000008" + _check("91330100000000008")

    outcome = _dry_run_then_commit(session_factory, a["steward"], "suppliers", SAMPLES / "03_suppliers.csv",
                                   _fixed_csv(tmp_path, "03_suppliers.csv", fix_suppliers, "gb18030"),
                                   {(9, "uscc")}, Supplier)
    assert outcome.counts == {"created": 49} and _count(session_factory, Supplier) == 49

    # 4. Customers: row 17's USCC is invalid, row 40 repeats row 3's code.
    def fix_customers(rows: list[list[str]]) -> None:
        rows[16][1] = "91310000000000016" + _check("91310000000000016")
        rows[39][0] = "GL-K39"

    outcome = _dry_run_then_commit(session_factory, a["steward"], "customers", SAMPLES / "04_customers.csv",
                                   _fixed_csv(tmp_path, "04_customers.csv", fix_customers),
                                   {(17, "uscc"), (40, "code")}, Customer)
    assert outcome.counts == {"created": 49} and _count(session_factory, Customer) == 49

    # 5. Standard prices from December 2026, one per material.
    outcome, seen = run_import(session_factory, a["cost"], "standard_prices", SAMPLES / "05_standard_prices.csv",
                               company_id=gl1)
    assert isinstance(outcome, ImportOutcome) and outcome.committed and seen.errors == []
    with session_factory() as session:
        assert session.scalar(select(func.sum(StandardPrice.price))) == D("5170.00")  # sum of the 48 prices (make_samples.py)

    # 6. Company contracts: 6 contracts, 36 lines, in force.
    outcome, seen = run_import(session_factory, a["buyer"], "company_contracts", SAMPLES / "06_company_contracts.csv",
                               company_id=gl1)
    assert isinstance(outcome, ImportOutcome) and outcome.committed and seen.errors == []
    assert outcome.counts == {"contracts": 6, "contract_lines": 36}
    assert _count(session_factory, ContractLine) == 36

    # 7. Open purchase orders: row 7 sends cold-chain material GL-M007 to the ambient store.
    def fix_orders(rows: list[list[str]]) -> None:
        rows[6][4] = "GL1-COLD"

    outcome = _dry_run_then_commit(session_factory, a["buyer"], "purchase_orders", SAMPLES / "07_purchase_orders.csv",
                                   _fixed_csv(tmp_path, "07_purchase_orders.csv", fix_orders),
                                   {(7, "warehouse_code")}, PurchaseOrder, company_id=gl1)
    assert outcome.counts == {"orders": 6, "order_lines": 50}
    with session_factory() as session:
        line = PurchaseOrderLine
        total, ordered, received, outstanding = session.execute(select(
            func.sum(line.amount), func.sum(line.quantity), func.sum(line.received_quantity),
            func.sum(func.round((line.quantity - line.received_quantity) * line.unit_price, 2)))).one()
        # By hand (samples/make_samples.py): 50 lines ordering 10, 13, ..., 157; 120 received
        assert (total, ordered, received, outstanding) == (D("403138.75"), D("4175"), D("120"), D("391008.25"))
        statuses = dict(session.execute(select(PurchaseOrder.status, func.count()).group_by(PurchaseOrder.status)).all())
        assert statuses == {PurchaseOrderStatus.PARTIALLY_RECEIVED: 6}
        # Every order line is open to receive, at the contract's price.
        assert session.scalar(select(func.count()).select_from(line).where(
            line.received_quantity < line.quantity)) == 50

    # 8. Approved credit limits.
    outcome, seen = run_import(session_factory, a["credit"], "credit_limits", SAMPLES / "08_credit_limits.csv")
    assert isinstance(outcome, ImportOutcome) and outcome.committed and seen.errors == []
    with session_factory() as session:
        assert session.scalar(select(func.sum(CustomerExposure.credit_limit))) == D("11025000.00")
        assert session.scalar(select(func.count()).select_from(CreditLimit)) == 49

    # 9. Opening stock on the go-live date: row 12 expires before it was made, row 22 keeps
    #    cold-chain GL-M021 in the ambient store.
    def fix_stock(rows: list[list[str]]) -> None:
        rows[11][4] = "2029-01-10"  # made 2026-01-11, 1,095 days of shelf life
        rows[21][0] = "GL1-COLD"

    outcome = _dry_run_then_commit(session_factory, a["cost"], "opening_stock", SAMPLES / "09_opening_stock.csv",
                                   _fixed_csv(tmp_path, "09_opening_stock.csv", fix_stock),
                                   {(12, "expiry_date"), (22, "warehouse_code")}, StockMovement, company_id=gl1,
                                   go_live_date=GO_LIVE)
    assert outcome.counts == {"rows": 50, "documents": 1}
    with session_factory() as session:
        # By hand (samples/make_samples.py): quantities 4, 7, ..., 151; each row's quantity x
        # its material's standard price, to the cent; variances (k % 7 - 3) x 2.35.
        balances = session.execute(select(func.count(), func.sum(StockBalance.quantity), func.sum(StockBalance.value))
                                   .where(StockBalance.company_id == gl1)).one()
        assert tuple(balances) == (50, D("3875"), D("413445.50"))
        quarantined = session.scalar(select(func.count()).select_from(StockBalance).where(
            StockBalance.status == StockStatus.QUARANTINE))
        assert quarantined == 6
        valuation = inventory_valuation(session, a["cost"], company_id=gl1)
        assert (sum(r.standard_value for r in valuation), sum(r.variance for r in valuation),
                sum(r.actual_value for r in valuation)) == (D("413445.50"), D("-7.05"), D("413438.45"))

    # 10. Opening receivables: row 8 falls due before it was invoiced, row 30 repeats row 4's
    #     old number, row 45 names customer GL-K99, which does not exist.
    receivables_file = SAMPLES / "10_opening_receivables.csv"

    def fix_receivables(rows: list[list[str]]) -> None:
        rows[7][4] = "2026-10-15"  # invoiced 2026-08-16, 60 days' terms
        rows[29][2] = "GL1-INV-0029"
        rows[44][1] = "GL-K44"

    outcome = _dry_run_then_commit(session_factory, a["cost"], "opening_receivables", receivables_file,
                                   _fixed_csv(tmp_path, "10_opening_receivables.csv", fix_receivables),
                                   {(8, "due_date"), (30, "reference"), (45, "customer_code")}, Invoice,
                                   company_id=gl1, go_live_date=GO_LIVE)
    assert outcome.counts == {"invoices": 50}
    with session_factory() as session:
        # By hand: 800.00 + 913.07 + ... (800 + 113k + (7k mod 100) / 100 for k = 0..49).
        assert session.scalar(select(func.sum(Invoice.open_amount)).where(Invoice.company_id == gl1)) \
            == D("178447.75")
        assert session.scalar(select(func.sum(CustomerExposure.exposure))) == D("178447.75")
        rows, count = receivables_by_customer(session, a["credit"], as_of=GO_LIVE, policy=CreditPolicy(),
                                              company_id=gl1, limit=None)
        assert count == 49
        ageing = {name: sum((getattr(r, name) for r in rows), D(0))
                  for name in ("open_amount", "not_due", "days_1_30", "days_31_60", "days_61_90", "over_90")}
        # Each invoice's own due date against 2026-12-01 (make_samples.py's plain arithmetic).
        assert ageing == {"open_amount": D("178447.75"), "not_due": D("57451.16"), "days_1_30": D("31612.12"),
                          "days_31_60": D("41698.88"), "days_61_90": D("34879.64"), "over_90": D("12805.95")}
        # The books: stock and receivables against 4199, and the trial balance balances.
        tb = trial_balance(session, a["cost"], company_id=gl1, period="2026-12")
        lines = {line["account_code"]: line["debit"] - line["credit"] for line in tb.lines}
        assert lines["1122"] == D("178447.75")
        # The open orders' 120 received and not invoiced (contract prices in cents, whole
        # quantities: exact) are on GR/IR at what the lines ordered less what is outstanding,
        # 403,138.75 - 391,008.25 = 12,130.50, against 4199 (docs/go-live.md, finding 131).
        assert lines["2202.01"] == -(D("403138.75") - D("391008.25"))
        assert lines["4199"] == -(D("413445.50") - D("7.05") + D("178447.75")) + D("12130.50")
        assert lines["1404"] == D("-7.05")
        assert tb.balanced

    # A second company's customers: six share GL1's USCCs (other codes, other names), four are new.
    outcome, seen = run_import(session_factory, a["steward"], "customers", SAMPLES / "b_customers.csv")
    assert isinstance(outcome, ImportOutcome) and outcome.committed and seen.errors == [], seen.errors
    assert outcome.counts == {"matched": 6, "created": 4}
    assert {n["master_code"] for n in outcome.notices if n["code"] == "code-differs"} == {
        "GL-K02", "GL-K05", "GL-K09", "GL-K21", "GL-K33", "GL-K47"}
    assert _count(session_factory, Customer) == 53


def _check(base17: str) -> str:
    from stdnum.cn import uscc

    return uscc.calc_check_digit(base17)
