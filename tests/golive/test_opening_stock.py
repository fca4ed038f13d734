"""Opening stock: checked as a receipt, valued at the standard in force on the go-live date,
posted through the ledger and the journal against the opening balances account."""

from __future__ import annotations

import datetime as dt
import threading
import time
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from erp.clock import business_day
from erp.costing.reports import inventory_valuation, trial_balance
from erp.golive.errors import ImportHasErrors
from erp.golive.framework import ImportOutcome
from erp.inventory import services as inventory
from erp.masterdata.models import Warehouse
from erp.posting.models import StockBalance, StockMovement, StockStatus
from erp.quality import services as quality
from erp.quality.errors import InspectionLotHoldsStock
from erp.quality.models import InspectionLot, LotOrigin, LotStatus, UsageDecision
from tests.golive.helpers import write_csv
from tests.quality import release_lots, specify
from tests.stock import balances, batch_id, set_standard
from tests.world import World

GO_LIVE = dt.date(2026, 12, 1)
HEADER = ["仓库编码", "物料编码", "批号", "生产日期", "有效期至", "库存状态", "数量", "标准成本金额", "材料成本差异"]
GOOD = [
    ["CA-AMB", "EXC-STAR", "B1", "2026-06-01", "2028-06-01", "", "100", "1000.00", "20.00"],
    ["CA-COLD", "API-INSU", "B2", "2026-10-01", "2027-10-01", "quarantine", "5", "", "-3.00"],
]


def _import(session_factory: sessionmaker[Session], world: World, path: Path, dry_run: bool) -> object:
    from erp.golive.framework import execute_import
    from erp.golive.kinds import KINDS
    from tests.golive.helpers import Recorder

    recorder = Recorder()
    with session_factory() as session:
        try:
            outcome: object = execute_import(session, world.actors["cost_a"], KINDS["opening_stock"], path,
                                             file_name=path.name, company_id=world.companies["A"], dry_run=dry_run,
                                             progress=recorder, go_live_date=GO_LIVE)
        except Exception as exc:  # noqa: BLE001
            outcome = exc
    return outcome, recorder


def test_opening_stock_is_checked_as_a_receipt_and_posted_against_opening_balances(
        tmp_path: Path, session_factory: sessionmaker[Session], world: World) -> None:
    set_standard(session_factory, world, "exc_local", "10.00", period="2026-12")
    set_standard(session_factory, world, "cold_central", "100.00", period="2026-12")
    bad = write_csv(tmp_path / "bad.csv", [HEADER, *GOOD,
        ["CA-AMB", "EXC-STAR", "B3", "2026-06-01", "2026-05-01", "", "1", "", ""],  # row 4: expiry before manufacture
        ["CA-AMB", "API-INSU", "B4", "2026-10-01", "2027-10-01", "", "1", "", ""],  # row 5: ambient store, cold material
        ["CA-AMB", "EXC-STAR", "B5", "2026-06-01", "2028-06-01", "", "3", "31.00", ""],  # row 6: 3 x 10.00 is 30.00
        ["CB-AMB", "EXC-STAR", "B6", "2026-06-01", "2028-06-01", "", "1", "", ""],  # row 7: company B's warehouse
        ["CA-AMB", "EXC-STAR", "", "", "", "", "1", "", ""],  # row 8: batch-managed without a batch
    ])
    outcome, seen = _import(session_factory, world, bad, dry_run=True)
    assert isinstance(outcome, ImportOutcome), outcome
    assert {(e["row"], e["column"]) for e in seen.errors} == {
        (4, "expiry_date"), (5, "warehouse_code"), (6, "value"), (7, "warehouse_code"), (8, "batch_number")}
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(StockMovement)) == 0
    outcome, _ = _import(session_factory, world, bad, dry_run=False)
    assert isinstance(outcome, ImportHasErrors)
    good = write_csv(tmp_path / "good.csv", [HEADER, *GOOD])
    outcome, seen = _import(session_factory, world, good, dry_run=False)
    assert seen.errors == [] and isinstance(outcome, ImportOutcome) and outcome.committed, (outcome, seen.errors)
    with session_factory() as session:
        balances = {(b.quantity, b.value, b.status.value) for b in session.scalars(select(StockBalance))}
        assert balances == {(D("100"), D("1000.00"), "unrestricted"), (D("5"), D("500.00"), "quarantine")}
        valuation = {r.material_code: (r.standard_value, r.variance, r.actual_value)
                     for r in inventory_valuation(session, world.actors["cost_a"], company_id=world.companies["A"])}
        # By hand: 100 kg at 10.00 carrying +20.00; 5 kg at 100.00 carrying -3.00.
        assert valuation == {"EXC-STAR": (D("1000.00"), D("20.00"), D("1020.00")),
                             "API-INSU": (D("500.00"), D("-3.00"), D("497.00"))}
        tb = trial_balance(session, world.actors["cost_a"], company_id=world.companies["A"], period="2026-12")
        lines = {line["account_code"]: (line["debit"], line["credit"]) for line in tb.lines}
        assert lines == {"1403": (D("1500.00"), D("0")), "1404": (D("17.00"), D("0")),
                         "4199": (D("0"), D("1517.00"))}
        assert tb.balanced
    again, _ = _import(session_factory, world, good, dry_run=False)
    assert type(again).__name__ == "AlreadyImported"


def test_opening_stock_of_an_inspected_material_in_quarantine_gets_lots_that_qa_releases(
        tmp_path: Path, session_factory: sessionmaker[Session], world: World) -> None:
    set_standard(session_factory, world, "api_central", "52.00", period="2026-12")
    set_standard(session_factory, world, "exc_local", "10.00", period="2026-12")
    with business_day(dt.date(2026, 11, 20)):  # a specification in force before the go-live date
        spec = specify(session_factory, world, "api_central")
    path = write_csv(tmp_path / "quarantine.csv", [HEADER,
        # one batch of an inspected material in quarantine in two warehouses: a lot each
        ["CA-COOL", "API-AMOX", "Q1", "2026-08-01", "2028-08-01", "quarantine", "30", "", ""],
        ["CA-COLD", "API-AMOX", "Q1", "2026-08-01", "2028-08-01", "quarantine", "20", "", ""],
        # the same material unrestricted, and a material without inspection in quarantine: no lot
        ["CA-COOL", "API-AMOX", "Q2", "2026-08-01", "2028-08-01", "", "7", "", ""],
        ["CA-AMB", "EXC-STAR", "Q3", "2026-06-01", "2028-06-01", "quarantine", "4", "", ""],
    ])
    outcome, seen = _import(session_factory, world, path, dry_run=False)
    assert seen.errors == [] and isinstance(outcome, ImportOutcome) and outcome.committed, (outcome, seen.errors)
    assert outcome.counts == {"rows": 4, "documents": 1, "inspection_lots": 2}
    q1 = batch_id(session_factory, world, "api_central", "Q1")
    with session_factory() as session:
        (document,) = session.scalars(select(StockMovement.document_id).distinct())
        lots = {session.get(Warehouse, lot.warehouse_id).code: lot  # type: ignore[union-attr]
                for lot in session.scalars(select(InspectionLot))}
        assert {code: (lot.origin, lot.status, lot.batch_id, lot.quantity, lot.inspection_date, lot.specification_id,
                       lot.source_document_id, lot.company_id)
                for code, lot in lots.items()} == {
            "CA-COOL": (LotOrigin.OPENING_STOCK, LotStatus.OPEN, q1, D("30"), GO_LIVE, spec, document,
                        world.companies["A"]),
            "CA-COLD": (LotOrigin.OPENING_STOCK, LotStatus.OPEN, q1, D("20"), GO_LIVE, spec, document,
                        world.companies["A"])}
    # QC (quality_a) records results, QA (qa_a) signs the release: quarantine -> unrestricted
    release_lots(session_factory, world, [lots["CA-COOL"].id, lots["CA-COLD"].id], on=GO_LIVE)
    with session_factory() as session:
        assert {lot.status for lot in session.scalars(select(InspectionLot))} == {LotStatus.RELEASED}
        # 30 kg and 20 kg at 52.00: 1,560.00 and 1,040.00 now unrestricted; Q2 was never held
        assert balances(session, warehouse_id=world.warehouses["A-COOL"]) == [
            ("Q1", "quarantine", D("0"), D("0.00")), ("Q1", "unrestricted", D("30"), D("1560.00")),
            ("Q2", "unrestricted", D("7"), D("364.00"))]
        assert balances(session, warehouse_id=world.warehouses["A-COLD"]) == [
            ("Q1", "quarantine", D("0"), D("0.00")), ("Q1", "unrestricted", D("20"), D("1040.00"))]
        signed = {tuple(r) for r in session.execute(select(UsageDecision.lot_id, UsageDecision.meaning))}
        assert signed == {(lots["CA-COOL"].id, "released"), (lots["CA-COLD"].id, "released")}


def test_an_opening_stock_lot_is_not_moved_where_its_document_has_a_lot_on_the_batch(
        tmp_path: Path, session_factory: sessionmaker[Session], world: World) -> None:
    """Opening stock has one lot per batch and warehouse of one document: transferring the
    cold room's Q1 (lot of 20) into the cool room, where the document's lot of 30 on Q1 is,
    is refused (409 inspection-lot-holds-stock), not a unique-constraint failure; nothing moves."""
    set_standard(session_factory, world, "api_central", "52.00", period="2026-12")
    path = write_csv(tmp_path / "quarantine.csv", [HEADER,
        ["CA-COOL", "API-AMOX", "Q1", "2026-08-01", "2028-08-01", "quarantine", "30", "", ""],
        ["CA-COLD", "API-AMOX", "Q1", "2026-08-01", "2028-08-01", "quarantine", "20", "", ""],
    ])
    outcome, seen = _import(session_factory, world, path, dry_run=False)
    assert seen.errors == [] and isinstance(outcome, ImportOutcome) and outcome.committed, (outcome, seen.errors)
    q1 = batch_id(session_factory, world, "api_central", "Q1")
    with session_factory() as session:
        before = {(lot.number, lot.warehouse_id, lot.quantity) for lot in session.scalars(select(InspectionLot))}
        cool_lot = session.scalars(select(InspectionLot).where(
            InspectionLot.warehouse_id == world.warehouses["A-COOL"])).one().number
    with pytest.raises(InspectionLotHoldsStock) as info, business_day(GO_LIVE), session_factory() as session, \
            session.begin():
        inventory.transfer_stock(session, world.actors["clerk_a"], from_warehouse_id=world.warehouses["A-COLD"],
                                 to_warehouse_id=world.warehouses["A-COOL"], material_id=world.materials["api_central"],
                                 quantity=D("20"), posting_date=GO_LIVE, batch_id=q1, status=StockStatus.QUARANTINE)
    assert info.value.status == 409 and info.value.slug == "inspection-lot-holds-stock"
    assert f"already has lot {cool_lot} of the same document" in str(info.value), str(info.value)
    with session_factory() as session:
        assert {(lot.number, lot.warehouse_id, lot.quantity) for lot in session.scalars(select(InspectionLot))} == before
        assert [(b, s, q) for b, s, q, _ in balances(session, warehouse_id=world.warehouses["A-COLD"])] == [
            ("Q1", "quarantine", D("20"))]


@pytest.mark.postgres
def test_two_opening_stock_lots_of_one_batch_moved_into_one_warehouse_at_once_one_is_refused(
        tmp_path: Path, session_factory: sessionmaker[Session], world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """The document's lots on Q1 in the cool room (30) and the cold room (20) are transferred
    into a second cool room at the same moment. The first transfer has moved its lot and is
    held back before it commits until the second waits on a lock; the second is then refused
    409 inspection-lot-holds-stock naming the lot the first brought, as it would be one after
    the other (without a lock it passed the check and the unique constraint on document,
    batch and warehouse refused it: an IntegrityError, a 500 outside the API's handler)."""
    set_standard(session_factory, world, "api_central", "52.00", period="2026-12")
    path = write_csv(tmp_path / "quarantine.csv", [HEADER,
        ["CA-COOL", "API-AMOX", "Q1", "2026-08-01", "2028-08-01", "quarantine", "30", "", ""],
        ["CA-COLD", "API-AMOX", "Q1", "2026-08-01", "2028-08-01", "quarantine", "20", "", ""],
    ])
    outcome, seen = _import(session_factory, world, path, dry_run=False)
    assert seen.errors == [] and isinstance(outcome, ImportOutcome) and outcome.committed, (outcome, seen.errors)
    q1 = batch_id(session_factory, world, "api_central", "Q1")
    cool, cold = world.warehouses["A-COOL"], world.warehouses["A-COLD"]
    with session_factory() as session, session.begin():
        first = session.get(Warehouse, cool)
        assert first is not None
        other = Warehouse(code="CA-COOL2", company_id=first.company_id, name_zh="备用阴凉库", name_en="second cool room",
                          temp_min=first.temp_min, temp_max=first.temp_max, max_humidity=first.max_humidity)
        session.add(other)
        session.flush()
        other_id = other.id
    with session_factory() as session:
        lot_of = {lot.warehouse_id: lot.number for lot in session.scalars(select(InspectionLot))}
    moved, go_on = threading.Event(), threading.Event()
    real_move = quality.move_open_lots

    def move_then_wait_for_the_other(*args: Any, **kwargs: Any) -> int:
        count = real_move(*args, **kwargs)
        if not moved.is_set():  # the first transfer to get here waits, its lot moved, before committing
            moved.set()
            go_on.wait(30)
        return count

    monkeypatch.setattr(quality, "move_open_lots", move_then_wait_for_the_other)
    outcomes: dict[int, object] = {}

    def transfer(source: int) -> None:
        try:
            with business_day(GO_LIVE), session_factory() as session, session.begin():
                outcomes[source] = inventory.transfer_stock(
                    session, world.actors["clerk_a"], from_warehouse_id=source, to_warehouse_id=other_id,
                    material_id=world.materials["api_central"], quantity=D("30") if source == cool else D("20"),
                    posting_date=GO_LIVE, batch_id=q1, status=StockStatus.QUARANTINE)
        except Exception as exc:  # noqa: BLE001 - recorded, asserted below
            outcomes[source] = exc

    threads = [threading.Thread(target=transfer, args=(source,)) for source in (cool, cold)]
    try:
        threads[0].start()
        assert moved.wait(30), f"the first transfer never moved its lot: {outcomes}"
        threads[1].start()
        with session_factory() as watcher:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not watcher.scalar(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'")):
                time.sleep(0.05)
                watcher.rollback()  # a fresh snapshot of pg_stat_activity
    finally:
        go_on.set()  # never leave the first transfer held back
        for thread in threads:
            if thread.ident is not None:  # started
                thread.join(60)
    assert not any(thread.is_alive() for thread in threads)
    assert isinstance(outcomes[cool], int), outcomes
    refused = outcomes[cold]
    assert isinstance(refused, InspectionLotHoldsStock), outcomes
    assert refused.status == 409 and refused.slug == "inspection-lot-holds-stock"
    assert f"already has lot {lot_of[cool]} of the same document" in str(refused), str(refused)
    with session_factory() as session:
        assert {lot.number: lot.warehouse_id for lot in session.scalars(select(InspectionLot))} == {
            lot_of[cool]: other_id, lot_of[cold]: cold}
        assert [(b, s, q) for b, s, q, _ in balances(session, warehouse_id=cold)] == [("Q1", "quarantine", D("20"))]


@pytest.mark.parametrize("chunk_rows", [2, 2000])
def test_a_balance_given_twice_is_a_row_error_naming_the_first_row_within_a_chunk_and_across_chunks(
        tmp_path: Path, session_factory: sessionmaker[Session], world: World, monkeypatch: pytest.MonkeyPatch,
        chunk_rows: int) -> None:
    from erp.golive import framework

    # Two rows a chunk: the file's rows 2-3, 4-5, 6-7 and 8-9 are read together.
    monkeypatch.setattr(framework, "CHUNK_ROWS", chunk_rows)
    set_standard(session_factory, world, "exc_local", "10.00", period="2026-12")
    made, expires = "2026-06-01", "2028-06-01"
    path = write_csv(tmp_path / "twice.csv", [HEADER,
        ["CA-AMB", "EXC-STAR", "D1", made, expires, "", "10", "", ""],  # row 2
        ["CA-AMB", "EXC-STAR", "D2", made, expires, "", "10", "", ""],  # row 3
        ["CA-AMB", "EXC-STAR", "D1", made, expires, "unrestricted", "1", "", ""],  # row 4: row 2 again
        ["CA-AMB", "EXC-STAR", "D1", made, expires, "quarantine", "1", "", ""],  # row 5: another status
        ["CA-COOL", "EXC-STAR", "D1", made, expires, "", "1", "", ""],  # row 6: another warehouse
        ["CA-AMB", "EXC-STAR", "D1", made, expires, "quarantine", "2", "", ""],  # row 7: row 5 again
        ["CA-COOL", "EXC-STAR", "D3", made, expires, "", "1", "", ""],  # row 8
        ["CA-COOL", "EXC-STAR", "D3", made, expires, "", "1", "", ""],  # row 9: row 8 again
    ])
    for dry_run in (True, False):
        outcome, seen = _import(session_factory, world, path, dry_run=dry_run)
        assert isinstance(outcome, ImportOutcome if dry_run else ImportHasErrors), outcome
        assert sorted((e["row"], e["column"], e["code"], e["params"]["first_row"]) for e in seen.errors) == [
            (4, "batch_number", "duplicate-in-file", 2), (7, "batch_number", "duplicate-in-file", 5),
            (9, "batch_number", "duplicate-in-file", 8)]
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(StockMovement)) == 0
    # Without the repeated rows the same file loads, and again on the same connection.
    fixed = write_csv(tmp_path / "once.csv", [HEADER,
        ["CA-AMB", "EXC-STAR", "D1", made, expires, "", "10", "", ""],
        ["CA-AMB", "EXC-STAR", "D1", made, expires, "quarantine", "1", "", ""],
        ["CA-COOL", "EXC-STAR", "D1", made, expires, "", "1", "", ""]])
    outcome, seen = _import(session_factory, world, fixed, dry_run=False)
    assert seen.errors == [] and isinstance(outcome, ImportOutcome) and outcome.committed, (outcome, seen.errors)


def test_a_value_off_by_rounding_joins_the_variance_and_more_than_that_is_refused(
        tmp_path: Path, session_factory: sessionmaker[Session], world: World) -> None:
    """docs/go-live.md, *A recorded value off by rounding cents*: EXC-STAR at 10.00, 3 kg are
    30.00 at standard. Recorded at 30.51 (0.51 off, more than a hundred postings' rounding of
    half a cent each) the row is refused; at 30.50 carrying 1.00 of variance it is taken over
    at 30.00 carrying 1.50: 31.50 actual, as recorded; 4199 -31.50."""
    set_standard(session_factory, world, "exc_local", "10.00", period="2026-12")
    row = ["CA-AMB", "EXC-STAR", "B1", "2026-06-01", "2028-06-01", "", "3"]
    outcome, seen = _import(session_factory, world, write_csv(tmp_path / "off.csv", [HEADER, row + ["30.51", "1.00"]]),
                            dry_run=True)
    assert [(e["row"], e["column"]) for e in seen.errors] == [(2, "value")]
    params = seen.errors[0]["params"]
    assert (D(str(params["expected"])), D(str(params["difference"])), D(str(params["tolerance"]))) == (
        D("30.00"), D("0.51"), D("0.50")), params
    outcome, seen = _import(session_factory, world, write_csv(tmp_path / "rounded.csv", [HEADER, row + ["30.50", "1.00"]]),
                            dry_run=False)
    assert seen.errors == [] and isinstance(outcome, ImportOutcome) and outcome.committed, (outcome, seen.errors)
    with session_factory() as session:
        assert {(b.quantity, b.value) for b in session.scalars(select(StockBalance))} == {(D("3"), D("30.00"))}
        valuation = {r.material_code: (r.standard_value, r.variance, r.actual_value)
                     for r in inventory_valuation(session, world.actors["cost_a"], company_id=world.companies["A"])}
        assert valuation == {"EXC-STAR": (D("30.00"), D("1.50"), D("31.50"))}
        tb = trial_balance(session, world.actors["cost_a"], company_id=world.companies["A"], period="2026-12")
        assert {line["account_code"]: line["debit"] - line["credit"] for line in tb.lines} == {
            "1403": D("30.00"), "1404": D("1.50"), "4199": D("-31.50")}
