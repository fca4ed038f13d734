"""Quality over HTTP: a specification, a receipt's lot, results, the certificate, and the
signed usage decision with its refusals."""

from __future__ import annotations

import base64
import datetime as dt
import io

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from erp.audit.models import AuditEvent
from erp.auth.models import User, UserCompany
from erp.auth.roles import Role
from erp.auth.services import issue_token
from erp.clock import business_day
from erp.quality.models import InspectionLot
from tests.quality import group_qa
from tests.stock import open_order, receive, set_standard
from tests.world import PASSWORD, PASSWORD_HASH, ApiClient, World, problem

SPEC = {
    "effective_from": "2026-11-01", "reason": "Ch.P. 2025 monograph",
    "characteristics": [
        {"code": "ASSAY", "name_zh": "含量", "name_en": "Assay", "unit": "%", "minimum": "98.0", "maximum": "102.0"},
        {"code": "APPEARANCE", "name_zh": "性状", "name_en": "Appearance", "expected_text": "conforms"},
    ],
}


def _qa(session_factory: sessionmaker[Session], world: World) -> None:
    with session_factory() as session, session.begin():
        user = User(username="qa_a", display_name="QA Wang", password_hash=PASSWORD_HASH, role=Role.QUALITY,
                    group_wide=False, companies=[UserCompany(company_id=world.companies["A"])])
        session.add(user)
        session.flush()
        world.tokens["qa_a"] = issue_token(session, user.id, ttl_minutes=60).token
        world.users["qa_a"] = user.id


def _lot(session_factory: sessionmaker[Session], world: World) -> int:
    set_standard(session_factory, world, "api_central", "52.00")
    (line,) = open_order(session_factory, world, [("api_central", "200", "55.50", "A-COOL")])
    document = receive(session_factory, world, line, "80")
    with session_factory() as session:
        return session.scalars(select(InspectionLot.id).where(InspectionLot.source_document_id == document)).one()


def test_from_specification_to_signed_release_over_http(
    api: ApiClient, session_factory: sessionmaker[Session], world: World
) -> None:
    _qa(session_factory, world)
    analyst, qa = api.as_("quality_a"), api.as_("qa_a")
    group_qa(session_factory, world)
    with business_day(dt.date(2026, 11, 1)):  # group QA records it the day it takes effect
        created = api.as_("qa_group").post("/api/v1/quality/specifications",
                                           json={**SPEC, "material_id": world.materials["api_central"]})
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["version"] == 1
    lot_id = _lot(session_factory, world)

    lots = analyst.get("/api/v1/quality/lots?status=open").get_json()
    assert [row["id"] for row in lots] == [lot_id]

    recorded = analyst.post(f"/api/v1/quality/lots/{lot_id}/results", json={"results": [
        {"characteristic": "ASSAY", "value": "101.2"}, {"characteristic": "APPEARANCE", "text": "Conforms"}]})
    assert recorded.status_code == 201, recorded.get_json()
    body = recorded.get_json()
    assert [(r["code"], r["laboratory"]["conforms"]) for r in body["results"]] == [
        ("ASSAY", True), ("APPEARANCE", True)]
    assert body["complete"] and not body["out_of_specification"]

    certificate = analyst.post(f"/api/v1/quality/lots/{lot_id}/certificate", json={
        "number": "COA-77", "issued_on": "2026-11-12", "file_name": "coa-77.pdf",
        "content_base64": base64.b64encode(b"%PDF certificate").decode(),
        "results": [{"characteristic": "ASSAY", "value": "100.7"}]})
    assert certificate.status_code == 201, certificate.get_json()
    assert certificate.get_json()["results"][0]["difference"] == "0.500000"  # 101.2 - 100.7

    own = analyst.post(f"/api/v1/quality/lots/{lot_id}/usage-decision",
                       json={"decision": "release", "password": PASSWORD, "posting_date": "2026-11-20"})
    problem(own, 403, "signer-recorded-results")

    wrong = qa.post(f"/api/v1/quality/lots/{lot_id}/usage-decision",
                    json={"decision": "release", "password": "guess", "posting_date": "2026-11-20"})
    problem(wrong, 403, "signature-not-verified")
    with session_factory() as session:  # committed although the request was refused
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.entity == "inspection_lot")).all()
        assert actions == ["signature-refused"]

    signed = qa.post(f"/api/v1/quality/lots/{lot_id}/usage-decision",
                     json={"decision": "release", "password": PASSWORD, "posting_date": "2026-11-20"})
    assert signed.status_code == 201, signed.get_json()
    decision = signed.get_json()["decision"]
    assert (decision["meaning"], decision["signed_by"], decision["signer_name"]) == (
        "released", world.users["qa_a"], "QA Wang")
    assert "password" not in signed.get_data(as_text=True)
    assert signed.get_json()["status"] == "released"

    again = qa.post(f"/api/v1/quality/lots/{lot_id}/usage-decision",
                    json={"decision": "reject", "password": PASSWORD, "posting_date": "2026-11-20"})
    problem(again, 409, "lot-not-open")


def test_out_of_specification_release_is_refused_without_a_deviation_over_http(
    api: ApiClient, session_factory: sessionmaker[Session], world: World
) -> None:
    _qa(session_factory, world)
    group_qa(session_factory, world)
    with business_day(dt.date(2026, 11, 1)):
        api.as_("qa_group").post("/api/v1/quality/specifications",
                                 json={**SPEC, "material_id": world.materials["api_central"]})
    lot_id = _lot(session_factory, world)
    api.as_("quality_a").post(f"/api/v1/quality/lots/{lot_id}/results", json={"results": [
        {"characteristic": "ASSAY", "value": "96.0"}, {"characteristic": "APPEARANCE", "text": "conforms"}]})
    refused = api.as_("qa_a").post(f"/api/v1/quality/lots/{lot_id}/usage-decision",
                                   json={"decision": "release", "password": PASSWORD, "posting_date": "2026-11-20"})
    problem(refused, 409, "out-of-specification")
    released = api.as_("qa_a").post(f"/api/v1/quality/lots/{lot_id}/usage-decision", json={
        "decision": "release", "password": PASSWORD, "posting_date": "2026-11-20",
        "deviation_reference": "DEV-12", "reason": "reworked; assay confirmed by contract lab"})
    assert released.status_code == 201, released.get_json()
    assert released.get_json()["decision"]["out_of_specification"] is True


def test_clerks_cannot_record_results_or_sign(
    api: ApiClient, session_factory: sessionmaker[Session], world: World
) -> None:
    lot_id = _lot(session_factory, world)
    problem(api.as_("clerk_a").post(f"/api/v1/quality/lots/{lot_id}/results", json={"results": [
        {"characteristic": "ASSAY", "value": "99"}]}), 403, "role-not-allowed")
    problem(api.as_("quality_a").get("/api/v1/quality/lots/999999"), 404, "not-found")


def _cold_room_log(warm_minutes: int) -> str:
    lines = ["read_at,temperature,humidity"]
    for i in range(120):
        at = f"2026-11-20T{8 + i // 60:02d}:{i % 60:02d}:00+08:00"
        lines.append(f"{at},{'9.5' if 30 <= i < 30 + warm_minutes else '4.8'},52")
    return "\n".join(lines) + "\n"


def test_sensor_log_upload_and_excursions_over_http(
    api: ApiClient, session_factory: sessionmaker[Session], world: World
) -> None:
    quality = api.as_("quality_a")
    cold = world.warehouses["A-COLD"]
    configured = quality.put(f"/api/v1/quality/warehouses/{cold}/monitoring",
                             json={"allowance_minutes": 15, "logging_interval_minutes": 2})
    assert configured.status_code == 200, configured.get_json()
    assert configured.get_json()["temp_max"] == "8.0"
    # 10 kg of the 2-8 °C insulin received into the cold room that morning: in quarantine under its lot
    set_standard(session_factory, world, "cold_central", "300.00")
    (line,) = open_order(session_factory, world, [("cold_central", "10", "300.00", "A-COLD")])
    receive(session_factory, world, line, "10", batch="INS-1")
    uploaded = quality.post(f"/api/v1/quality/warehouses/{cold}/readings", content_type="multipart/form-data",
                            data={"file": (io.BytesIO(_cold_room_log(20).encode()), "cold.csv")})
    assert uploaded.status_code == 201, uploaded.get_json()
    body = uploaded.get_json()
    assert body["stored"] == 120
    # 20 minutes at 9.5 °C from 08:30 against a 15-minute allowance: nothing to hold (the insulin is in
    # quarantine already), but the excursion references it so QA knows when deciding its lot
    assert [(e["kind"], e["started_at"], e["minutes"]) for e in body["excursions"]] == [
        ("out_of_range", "2026-11-20T00:30:00+00:00", "20.00")]
    (touched,) = body["excursions"][0]["touched_batches"]
    assert (touched["material_id"], touched["stock_status"], touched["quantity"], touched["lot_id"]) == (
        world.materials["cold_central"], "quarantine", "10.0000", None)
    assert body["hold_document_ids"] == []
    listed = quality.get("/api/v1/quality/excursions").get_json()
    assert [e["reference"] for e in listed] == [f"EXC-{body['excursions'][0]['id']}"]
    chart = quality.get(f"/api/v1/quality/warehouses/{cold}/readings",
                        query_string={"start": "2026-11-20T08:29:00+08:00", "end": "2026-11-20T08:31:00+08:00"})
    assert [(r["temperature"], r["humidity"]) for r in chart.get_json()] == [("4.80", "52.00"), ("9.50", "52.00")]

    bad = quality.post(f"/api/v1/quality/warehouses/{cold}/readings", content_type="multipart/form-data",
                       data={"file": (io.BytesIO(b"read_at,temperature\nyesterday,5\n"), "bad.csv")})
    problem(bad, 422, "readings-invalid")
    problem(api.as_("clerk_b").post(f"/api/v1/quality/warehouses/{cold}/readings",
                                    content_type="multipart/form-data",
                                    data={"file": (io.BytesIO(_cold_room_log(0).encode()), "cold.csv")}), 404,
            "not-found")


def test_a_data_logger_posts_with_its_own_token_only(
    api: ApiClient, session_factory: sessionmaker[Session], world: World
) -> None:
    registered = api.as_("quality_a").post(f"/api/v1/quality/warehouses/{world.warehouses['A-COLD']}/loggers",
                                           json={"code": "LOG-A-COLD-1"})
    assert registered.status_code == 201, registered.get_json()
    token = registered.get_json()["token"]
    again = api.as_("quality_a").post(f"/api/v1/quality/warehouses/{world.warehouses['A-COLD']}/loggers",
                                      json={"code": "LOG-A-COLD-1"})  # a code already taken: refused, not a 500
    assert problem(again, 422, "validation-error")["errors"][0]["pointer"] == "/code"
    readings = {"readings": [{"read_at": "2026-11-20T08:00:00+08:00", "temperature": "5.1", "humidity": "50"},
                             {"read_at": "2026-11-20T08:01:00+08:00", "temperature": "5.2"}]}
    posted = api.post("/api/v1/quality/logger-readings", json=readings, headers={"Authorization": f"Bearer {token}"})
    assert posted.status_code == 201, posted.get_json()
    assert posted.get_json()["stored"] == 2
    problem(api.post("/api/v1/quality/logger-readings", json=readings,
                     headers={"Authorization": "Bearer forged"}), 401, "logger-not-recognised")
    # a user's token is not a logger's
    problem(api.as_("quality_a").post("/api/v1/quality/logger-readings", json=readings), 401,
            "logger-not-recognised")
    # an instant that cannot even be put in UTC is refused as invalid, not a server error
    for extreme in ("0001-01-01T00:00:00+08:00", "9999-12-31T23:59:00-08:00"):
        far = {"readings": [{"read_at": extreme, "temperature": "5.1"}]}
        problem(api.post("/api/v1/quality/logger-readings", json=far, headers={"Authorization": f"Bearer {token}"}),
                422, "validation-error")


def test_a_specification_is_kept_by_group_qa_and_never_back_dated_over_http(
    api: ApiClient, session_factory: sessionmaker[Session], world: World
) -> None:
    group_qa(session_factory, world)
    body = {**SPEC, "material_id": world.materials["api_central"]}
    problem(api.as_("quality_a").post("/api/v1/quality/specifications", json=body), 403, "role-not-allowed")
    refused = api.as_("qa_group").post("/api/v1/quality/specifications", json=body)  # 1 Nov, today is 15 Dec
    problem(refused, 422, "specification-back-dated")
    assert refused.get_json()["errors"][0]["pointer"] == "/effective_from"
    created = api.as_("qa_group").post("/api/v1/quality/specifications",
                                       json={**body, "effective_from": "2026-12-15"})
    assert created.status_code == 201 and created.get_json()["version"] == 1
