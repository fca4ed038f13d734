"""Two imports that write the same unique value at the same moment.

Threaded, on PostgreSQL. Each import checks its unique values (an old invoice number, a
material code) against the database before it writes them; two imports running at once
would both pass that check. Imports of a kind that could collide run one at a time (a
transaction-level lock), so the second sees what the first committed and refuses the row
with its row error; and a unique value written by anything else in between (the API) ends
the import with the rule's problem, never an internal error.

A barrier holds each import at the point where it has read the database and is about to
write, so without the lock both would pass their checks before either commits.
"""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from erp.credit.models import Invoice
from erp.errors import DomainError
from erp.golive.errors import ImportHasErrors
from erp.golive.framework import ImportOutcome, execute_import
from erp.golive.kinds import KINDS
from erp.golive.opening import OpeningReceivablesImport
from erp.masterdata.models import Material, MaterialType, ProcurementScope, UnitOfMeasure
from tests.golive.helpers import Recorder, write_csv
from tests.world import World

pytestmark = pytest.mark.postgres

GO_LIVE = dt.date(2026, 12, 1)
RECEIVABLES = ["客户编码", "原发票号", "开票日期", "到期日", "未收金额"]


def _race(session_factory: sessionmaker[Session], runs: list[dict[str, Any]]) -> list[tuple[Any, Recorder]]:
    """Run the imports ``runs`` describe at once, each in its own thread; each one's outcome
    (or the exception it ended with) and what it reported."""
    results: list[tuple[Any, Recorder]] = [(None, Recorder()) for _ in runs]

    def run(slot: int, spec: dict[str, Any]) -> None:
        recorder = results[slot][1]
        with session_factory() as session:
            try:
                outcome: Any = execute_import(session, progress=recorder, **spec)
            except Exception as exc:  # noqa: BLE001 - the test looks at what each import ended with
                outcome = exc
        results[slot] = (outcome, recorder)

    threads = [threading.Thread(target=run, args=(slot, spec)) for slot, spec in enumerate(runs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "an import hung"
    return results


def _hold_before_writing(monkeypatch: pytest.MonkeyPatch, kind: type, parties: int) -> threading.Barrier:
    """Make each import of ``kind`` wait (up to 3 s) for the others once it has checked a
    chunk and before it writes it: without serialisation every import passes its checks
    before any commits."""
    barrier = threading.Barrier(parties)
    original = kind.process

    def process(self: Any, run: Any, rows: list[Any]) -> None:
        try:
            barrier.wait(timeout=3)
        except threading.BrokenBarrierError:
            pass  # the other import waits for this one's lock: go on alone
        original(self, run, rows)

    monkeypatch.setattr(kind, "process", process)
    return barrier


def test_two_imports_of_the_same_old_invoice_number_at_once_take_it_over_once(
        tmp_path: Path, session_factory: sessionmaker[Session], world: World,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Two different files (different checksums) for company A both carry old invoice OLD-1.
    first = write_csv(tmp_path / "first.csv", [RECEIVABLES, ["K0001", "OLD-1", "2026-11-01", "2026-12-01", "100.00"],
                                                 ["K0001", "OLD-2", "2026-11-01", "2026-12-01", "200.00"]])
    second = write_csv(tmp_path / "second.csv", [RECEIVABLES, ["K0002", "OLD-3", "2026-11-01", "2026-12-01", "300.00"],
                                                   ["K0002", "OLD-1", "2026-11-01", "2026-12-01", "400.00"]])
    _hold_before_writing(monkeypatch, OpeningReceivablesImport, 2)
    common = {"actor": world.actors["cost_a"], "kind": KINDS["opening_receivables"], "company_id": world.companies["A"],
              "dry_run": False, "go_live_date": GO_LIVE}
    results = _race(session_factory, [{**common, "path": first, "file_name": "first.csv"},
                                      {**common, "path": second, "file_name": "second.csv"}])
    outcomes = [outcome for outcome, _ in results]
    assert all(isinstance(o, (ImportOutcome, DomainError)) for o in outcomes), outcomes
    committed = [slot for slot, o in enumerate(outcomes) if isinstance(o, ImportOutcome) and o.committed]
    assert len(committed) == 1, outcomes
    loser = 1 - committed[0]
    # The one that came second is refused whole (409) on the row naming OLD-1: the number
    # is already taken over.
    refusal = outcomes[loser]
    assert isinstance(refusal, ImportHasErrors) and refusal.status == 409, refusal
    errors = results[loser][1].errors
    assert [(e["row"], e["column"], e["code"]) for e in errors] == [
        (2 if loser == 0 else 3, "reference", "already-taken-over")], errors
    with session_factory() as session:
        references = sorted(session.scalars(select(Invoice.reference)))
    assert references == (["OLD-1", "OLD-2"] if committed == [0] else ["OLD-1", "OLD-3"])


def test_a_material_created_while_its_import_runs_ends_the_import_with_the_duplicate_code_problem(
        tmp_path: Path, session_factory: sessionmaker[Session], world: World,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The master-data steward creates material NEW-1 (as the API would) after the import
    has checked its codes and before it writes them: the import ends with 409 duplicate-code,
    not an internal error, and writes nothing."""
    kind = KINDS["materials"]
    original = type(kind).check_unique

    def check_unique(self: Any, run: Any, rows: list[Any]) -> list[Any]:
        kept = original(self, run, rows)
        with session_factory() as other, other.begin():
            unit = other.scalar(select(UnitOfMeasure.id).where(UnitOfMeasure.code == "KG"))
            other.add(Material(code="NEW-1", name_zh="新物料", name_en="New", material_type=MaterialType.RAW,
                               unit_id=unit, procurement_scope=ProcurementScope.CENTRAL))
        return kept

    monkeypatch.setattr(type(kind), "check_unique", check_unique)
    path = write_csv(tmp_path / "materials.csv", [
        ["物料编码", "中文名称", "英文名称", "物料类型", "计量单位", "采购范围"],
        ["NEW-1", "新物料", "New material", "raw", "KG", "central"]])
    with session_factory() as session:
        try:
            outcome: Any = execute_import(session, world.actors["steward"], kind, path, file_name=path.name,
                                          company_id=None, dry_run=False, progress=Recorder())
        except Exception as exc:  # noqa: BLE001 - the test looks at what the import ended with
            outcome = exc
    assert isinstance(outcome, DomainError), outcome
    assert (outcome.status, outcome.slug) == (409, "duplicate-code"), outcome.to_problem()
    assert "NEW-1" in outcome.detail
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Material).where(Material.code == "NEW-1")) == 1


def _uscc(base17: str) -> str:
    from stdnum.cn import uscc

    return base17 + uscc.calc_check_digit(base17)


def test_two_companies_importing_the_same_new_customers_at_once_share_one_record_each(
        tmp_path: Path, session_factory: sessionmaker[Session], world: World,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Two subsidiaries' customer lists name the same two new hospitals (same USCCs, their own
    codes and names for them) and are imported at the same moment: one import creates them,
    the other matches them (with the differences as notices), as if it had come second."""
    from erp.golive.kinds import CustomersImport
    from erp.masterdata.models import Customer

    first_uscc, second_uscc = _uscc("91330100000000009"), _uscc("91330100000000010")
    header = ["code", "uscc", "name_zh", "name_en"]
    a = write_csv(tmp_path / "a.csv", [header, ["H-001", first_uscc, "第一人民医院", "First People's Hospital"],
                                       ["H-002", second_uscc, "中心医院", "Central Hospital"]])
    b = write_csv(tmp_path / "b.csv", [header, ["H-001", first_uscc, "市第一人民医院", "First People's Hospital"],
                                       ["H-002", second_uscc, "中心医院", "Central Hospital"]])
    _hold_before_writing(monkeypatch, CustomersImport, 2)
    common = {"actor": world.actors["steward"], "kind": KINDS["customers"], "company_id": None, "dry_run": False}
    results = _race(session_factory, [{**common, "path": a, "file_name": "a.csv"},
                                      {**common, "path": b, "file_name": "b.csv"}])
    outcomes = [outcome for outcome, _ in results]
    assert all(isinstance(o, ImportOutcome) and o.committed for o in outcomes), outcomes
    assert sorted(o.counts.get("created", 0) for o in outcomes) == [0, 2], [o.counts for o in outcomes]
    assert sorted(o.counts.get("matched", 0) for o in outcomes) == [0, 2], [o.counts for o in outcomes]
    second = next(o for o in outcomes if o.counts.get("matched"))
    assert [n["code"] for n in second.notices] == ["name-differs"], second.notices
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Customer)
                              .where(Customer.uscc.in_([first_uscc, second_uscc]))) == 2
