"""A unique value two users write at the same moment: the one who writes second is refused
with the rule's problem (409, its type), through the API, a job and a page, never a 500.

On PostgreSQL. Each service checks a unique value before writing it; the race is the other
user's write landing between that check and this write. The first test runs two requests in
threads held by a barrier just after their checks; the others let the other user's write
commit at exactly that point.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import threading
from pathlib import Path
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from erp.golive.kinds import KINDS
from erp.purchasing.models import ContractScope
from erp.masterdata import services as masterdata
from erp.masterdata.models import Material, MaterialType, ProcurementScope, UnitOfMeasure
from tests.golive.helpers import write_csv
from tests.api.test_purchasing_contracts import contract
from tests.world import ApiClient, World, problem

pytestmark = pytest.mark.postgres


def _material(world: World, code: str) -> dict[str, Any]:
    return {"code": code, "name_zh": "新物料", "name_en": "New material", "material_type": "raw",
            "unit_id": world.units["KG"], "procurement_scope": "central"}


def _other_user_creates(session_factory: sessionmaker[Session], code: str) -> None:
    """The steward at the next desk creates material ``code`` and commits."""
    with session_factory() as other, other.begin():
        unit = other.scalar(select(UnitOfMeasure.id).where(UnitOfMeasure.code == "KG"))
        other.add(Material(code=code, name_zh="另一个", name_en="Another", material_type=MaterialType.RAW,
                           unit_id=unit, procurement_scope=ProcurementScope.CENTRAL))


def _count(session_factory: sessionmaker[Session], code: str) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count()).select_from(Material).where(Material.code == code)) or 0


def test_two_stewards_creating_the_same_material_code_at_once_one_gets_duplicate_code(
        app: Flask, world: World, session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch) -> None:
    barrier = threading.Barrier(2)
    original = masterdata._check_unique

    def check_then_wait(*args: Any, **kwargs: Any) -> None:
        original(*args, **kwargs)
        barrier.wait(timeout=10)  # both have found the code free

    monkeypatch.setattr(masterdata, "_check_unique", check_then_wait)
    responses: list[Any] = [None, None]

    def steward(slot: int) -> None:
        api = ApiClient(app.test_client(), world, "steward")
        responses[slot] = api.post("/api/v1/materials", json=_material(world, "RACE-1"))

    threads = [threading.Thread(target=steward, args=(slot,)) for slot in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201, 409], [r.get_json() for r in responses]
    refused = next(r for r in responses if r.status_code == 409)
    body = problem(refused, 409, "duplicate-code")
    assert body["errors"][0]["pointer"] == "/code" and "RACE-1" in body["detail"]
    assert _count(session_factory, "RACE-1") == 1


def test_an_import_job_meeting_a_code_entered_meanwhile_fails_with_duplicate_code_not_an_internal_error(
        app: Flask, api: ApiClient, world: World, tmp_path: Path, session_factory: sessionmaker[Session],
        monkeypatch: pytest.MonkeyPatch) -> None:
    kind = type(KINDS["materials"])
    original = kind.check_unique

    def check_unique(self: Any, run: Any, rows: list[Any]) -> list[Any]:
        kept = original(self, run, rows)
        _other_user_creates(session_factory, "NEW-1")
        return kept

    monkeypatch.setattr(kind, "check_unique", check_unique)
    path = write_csv(tmp_path / "m.csv", [["code", "name_zh", "name_en", "material_type", "unit_code",
                                           "procurement_scope"], ["NEW-1", "新", "New", "raw", "KG", "central"]])
    steward = api.as_("steward")
    queued = steward.post("/api/v1/imports/materials?dry_run=false",
                          data={"file": (io.BytesIO(path.read_bytes()), path.name)}, content_type="multipart/form-data")
    assert queued.status_code == 202, queued.get_json()
    job = queued.get_json()
    app.extensions["erp_jobs"].wait(job["id"], timeout=60)
    body = steward.get(job["status_url"]).get_json()
    assert body["status"] == "failed", body
    assert body["result"]["problem"]["type"] == "/problems/duplicate-code", body
    assert body["result"]["problem"]["status"] == 409 and "NEW-1" in body["result"]["problem"]["detail"]
    assert "internal error" not in (body.get("message") or "")
    assert _count(session_factory, "NEW-1") == 1, "the import wrote nothing"


def test_a_contract_number_taken_meanwhile_is_refused_as_duplicate_number(
        api: ApiClient, world: World, session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch) -> None:
    from erp.purchasing import contracts

    buyer = api.as_("group_buyer")
    payload = contract(world, "GC-RACE")
    original = contracts._check_contract_overlap

    def overlap_then_other_buyer(*args: Any, **kwargs: Any) -> None:
        original(*args, **kwargs)
        # The other buyer's contract with the same number (another supplier) commits now.
        monkeypatch.setattr(contracts, "_check_contract_overlap", original)
        with session_factory() as other, other.begin():
            contracts.create_contract(
                other, world.actors["group_buyer"], number="GC-RACE", supplier_id=world.suppliers["sup2"],
                scope=ContractScope.GROUP, company_id=None, valid_from=dt.date.fromisoformat(payload["valid_from"]),
                valid_to=dt.date.fromisoformat(payload["valid_to"]),
                lines=[{"material_id": world.materials["api_central"], "unit_price": Decimal("800")}])

    monkeypatch.setattr(contracts, "_check_contract_overlap", overlap_then_other_buyer)
    body = problem(buyer.post("/api/v1/purchasing/contracts", json=payload), 409, "duplicate-number")
    assert "GC-RACE" in body["detail"] and body["errors"][0]["pointer"] == "/number"


def test_the_material_page_refuses_a_code_entered_meanwhile_beside_the_code_and_keeps_what_was_typed(
        app: Flask, world: World, session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch) -> None:
    original = masterdata._check_unique

    def check_then_other_creates(*args: Any, **kwargs: Any) -> None:
        original(*args, **kwargs)
        _other_user_creates(session_factory, "PAGE-1")

    client = app.test_client()
    with client.session_transaction() as session:
        session["token"] = world.tokens["steward"]
    form = client.get("/masterdata/materials/new").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    monkeypatch.setattr(masterdata, "_check_unique", check_then_other_creates)
    refused = client.post("/masterdata/materials/new", data={
        "code": "PAGE-1", "name_zh": "页面物料", "name_en": "Page material", "material_type": "raw",
        "unit_id": str(world.units["KG"]), "procurement_scope": "central", "csrf_token": token})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 409, page
    assert 'data-testid="error-code"' in page and 'value="页面物料"' in page
    assert _count(session_factory, "PAGE-1") == 1
