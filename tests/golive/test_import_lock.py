"""An import waits a bounded time for another import of its kind: refused with 409
import-in-progress when the other is still running, instead of waiting without end."""

from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from erp.golive import framework
from erp.golive.errors import ImportInProgress
from erp.golive.framework import ImportOutcome, import_lock_key
from erp.golive.kinds import KINDS
from erp.masterdata.models import Material
from tests.golive.helpers import run_import, write_csv
from tests.golive.test_master_imports import MATERIAL_HEADER, material
from tests.world import World

pytestmark = pytest.mark.postgres


def test_an_import_is_refused_when_another_of_its_kind_is_still_running_after_the_wait(
        tmp_path: Path, session_factory: sessionmaker[Session], world: World,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(framework, "IMPORT_LOCK_WAIT", dt.timedelta(milliseconds=300))
    path = write_csv(tmp_path / "m.csv", [MATERIAL_HEADER, material("M-LOCK")])
    ended: list[object] = []
    with session_factory() as running, running.begin():
        # Another materials import holds the turn (its transaction is open).
        running.execute(select(func.pg_advisory_xact_lock(*import_lock_key(KINDS["materials"], 0))))
        started = time.monotonic()
        waiting = threading.Thread(target=lambda: ended.append(
            run_import(session_factory, world.actors["steward"], "materials", path)[0]))
        waiting.start()
        waiting.join(timeout=30)
        waited = time.monotonic() - started
        assert ended, "the import still waits for the other one"
    (outcome,) = ended
    assert isinstance(outcome, ImportInProgress) and outcome.status == 409, outcome
    assert outcome.slug == "import-in-progress"
    assert 0.3 <= waited < 30
    with session_factory() as session:
        assert session.scalar(select(Material.id).where(Material.code == "M-LOCK")) is None
    # Once the other has ended, the same file imports, and the wait did not outlive the lock.
    outcome, seen = run_import(session_factory, world.actors["steward"], "materials", path)
    assert isinstance(outcome, ImportOutcome) and outcome.committed, seen.errors
    with session_factory() as session:
        assert session.scalar(select(func.current_setting("lock_timeout"))) == "0"


def test_an_import_of_another_company_does_not_wait_for_this_one(
        tmp_path: Path, session_factory: sessionmaker[Session], world: World,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(framework, "IMPORT_LOCK_WAIT", dt.timedelta(milliseconds=300))
    path = write_csv(tmp_path / "r.csv", [["客户编码", "原发票号", "开票日期", "到期日", "未收金额"],
                                          ["K0001", "OLD-LOCK", "2026-11-01", "2026-12-01", "100.00"]])
    kind = KINDS["opening_receivables"]
    with session_factory() as running, running.begin():
        running.execute(select(func.pg_advisory_xact_lock(*import_lock_key(kind, world.companies["B"]))))
        outcome, seen = run_import(session_factory, world.actors["cost_a"], "opening_receivables", path,
                                   company_id=world.companies["A"], go_live_date=dt.date(2026, 12, 1),
                                   dry_run=True)
    assert isinstance(outcome, ImportOutcome) and outcome.error_count == 0, (outcome, seen.errors)
