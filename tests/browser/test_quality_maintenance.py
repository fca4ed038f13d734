"""Quality's maintenance pages in a real browser, in Chinese: group QA records a new
specification version; QC attaches the supplier's certificate of analysis to a lot; quality
sets a warehouse's monitoring rules, uploads a sensor log, registers a data logger (its token shown once) and
withdraws it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import sessionmaker

from erp.clock import BUSINESS_TIME_ZONE, business_today
from erp.db import make_session_factory
from erp.inventory import queries
from erp.inventory import services as inventory
from erp.masterdata.models import Company, Material, Warehouse
from erp.quality.models import (
    CertificateOfAnalysis, DataLogger, InspectionLot, Specification, StorageMonitoring, StorageReading,
)
from tests.browser.conftest import demo_actor


@pytest.fixture
def fresh_lot(browser_engine: Engine) -> int:
    """A receipt's lot of FORM01 received today (its material has the demo's specification)."""
    factory: sessionmaker[Any] = make_session_factory(browser_engine)
    with factory() as session, session.begin():
        clerk = demo_actor(session, "clerk.form01")
        lines, _ = queries.lines_open_for_receipt(session, clerk, limit=500)
        line = next(row for row in lines if row.inspection_required and row.quantity - row.received_quantity >= 2)
        today = business_today()
        document = inventory.receive_goods(session, clerk, inventory.ReceiptRequest(
            po_line_id=line.po_line_id, quantity=D(1), posting_date=today, batch_number=f"COA-{line.po_line_id:05d}",
            manufacture_date=today - dt.timedelta(days=30), expiry_date=today + dt.timedelta(days=700)))
        return session.scalars(select(InspectionLot.id).where(InspectionLot.source_document_id == document)).one()


def test_group_qa_records_a_new_specification_version(signed_in: Any, shot: Any, browser_engine: Engine) -> None:
    with make_session_factory(browser_engine)() as session:
        material = session.scalars(select(Material).where(Material.inspection_required.is_(True))
                                   .order_by(Material.code)).first()
        assert material is not None
        versions = len(session.scalars(select(Specification).where(Specification.material_id == material.id)).all())
    page = signed_in("qa.group")
    page.goto("/quality/specifications")
    page.fill("input[name=q]", material.code)
    page.get_by_role("button", name="查询").click()
    assert "第 1 版" in page.locator(f"tr[data-material='{material.code}']").inner_text()
    shot(page, "specifications")
    page.get_by_test_id(f"spec-{material.code}").click()
    effective = business_today() + dt.timedelta(days=1 + versions)
    page.fill("#f-effective_from", effective.isoformat())
    page.fill("#f-reason", "2025年版药典修订")
    for name, value in (("code", "ASSAY"), ("name_zh", "含量"), ("name_en", "Assay"), ("unit", "%"),
                        ("minimum", "98.5"), ("maximum", "101.5")):
        page.fill(f"input[name=c0-{name}]", value)
    for name, value in (("code", "APPEARANCE"), ("name_zh", "性状"), ("name_en", "Appearance"),
                        ("expected_text", "符合规定")):
        page.fill(f"input[name=c1-{name}]", value)
    shot(page, "new-version-form")
    page.get_by_test_id("save-version").click()
    page.wait_for_selector("[data-testid=created]")
    newest = page.get_by_test_id(f"version-{versions + 1}").inner_text()
    assert "尚未生效" in newest and "98.5 – 101.5" in newest and "符合规定" in newest
    shot(page, "version-recorded")
    # a company's quality user reads the versions but has no form: specifications are the group's
    analyst = signed_in("quality.form01")
    analyst.goto(page.url.split("?")[0])
    assert analyst.get_by_test_id("version-form").count() == 0
    assert "集团 QA" in analyst.content()


def test_qc_attaches_the_certificate_of_analysis_to_a_lot(
    signed_in: Any, shot: Any, fresh_lot: int, browser_engine: Engine
) -> None:
    page = signed_in("quality.form01")
    page.goto(f"/quality/lots/{fresh_lot}")
    page.fill("#f-certificate_number", "COA-2026-1187")
    page.fill("#f-issued_on", (business_today() - dt.timedelta(days=3)).isoformat())
    page.set_input_files("#f-file", files=[{"name": "coa-2026-1187.pdf", "mimeType": "application/pdf",
                                             "buffer": b"%PDF-1.4 certificate of analysis"}])
    page.fill("input[name=cert-ASSAY]", "99.8")
    page.fill("input[name=cert-APPEARANCE]", "符合规定")
    shot(page, "certificate-form")
    page.get_by_test_id("record-certificate").click()
    page.wait_for_selector("[data-testid=certified]")
    assert "COA-2026-1187" in page.get_by_test_id("certificate").inner_text()
    assert "99.8" in page.get_by_test_id("result-ASSAY").inner_text()  # the certificate's column
    shot(page, "certificate-recorded")
    with make_session_factory(browser_engine)() as session:
        certificate = session.scalars(select(CertificateOfAnalysis).where(CertificateOfAnalysis.lot_id == fresh_lot)).one()
        assert (certificate.file_name, certificate.content) == ("coa-2026-1187.pdf", b"%PDF-1.4 certificate of analysis")


def test_quality_uploads_a_sensor_log_and_manages_a_logger(
    signed_in: Any, shot: Any, browser_engine: Engine, tmp_path: Any
) -> None:
    with make_session_factory(browser_engine)() as session:
        form01 = session.scalars(select(Company).where(Company.code == "FORM01")).one()
        room = session.scalars(select(Warehouse).where(Warehouse.company_id == form01.id).order_by(Warehouse.code)).first()
        assert room is not None
        inside = (room.temp_min + room.temp_max) / 2
    start = dt.datetime.combine(business_today(), dt.time(5, 0), BUSINESS_TIME_ZONE)
    csv = "read_at,temperature,humidity\n" + "".join(
        f"{(start + dt.timedelta(minutes=i)).isoformat()},{inside:.2f},40\n" for i in range(5))
    log = tmp_path / "sensor-log.csv"
    log.write_text(csv)
    page = signed_in("quality.form01")
    page.goto("/quality/warehouses")
    shot(page, "warehouses")
    page.get_by_test_id(f"monitor-{room.code}").click()
    page.fill("#f-allowance_minutes", "20")
    page.fill("#f-logging_interval_minutes", "2")
    page.get_by_test_id("save-rules").click()
    assert page.input_value("#f-allowance_minutes") == "20" and page.input_value("#f-logging_interval_minutes") == "2"
    page.set_input_files("#f-file", str(log))
    page.get_by_test_id("upload").click()
    assert "5" in page.get_by_test_id("imported").inner_text()
    shot(page, "sensor-log-uploaded")
    # a bad line: nothing stored, the line named
    bad = tmp_path / "bad.csv"
    bad.write_text("read_at,temperature,humidity\n2026-11-20T08:00:00,5.0,40\n")
    page.set_input_files("#f-file", str(bad))
    page.get_by_test_id("upload").click()
    assert "第 2 行" in page.get_by_test_id("row-errors").inner_text() or "2" in page.get_by_test_id("row-errors").inner_text()
    shot(page, "sensor-log-refused")
    code = f"LOG-{room.code}-BT"
    page.fill("#f-code", code)
    page.get_by_test_id("register").click()
    token = page.get_by_test_id("token-value").inner_text()
    assert len(token) > 30
    shot(page, "logger-registered")
    page.get_by_test_id(f"withdraw-{code}").click()
    assert "已停用" in page.locator(f"tr[data-logger='{code}']").inner_text()
    shot(page, "logger-withdrawn")
    with make_session_factory(browser_engine)() as session:
        rules = session.get(StorageMonitoring, room.id)
        assert rules is not None and (rules.allowance_minutes, rules.logging_interval_minutes) == (20, 2)
        logger = session.scalars(select(DataLogger).where(DataLogger.code == code)).one()
        assert not logger.active
        assert len(session.scalars(select(StorageReading).where(StorageReading.warehouse_id == room.id,
                                                                StorageReading.read_at >= start)).all()) == 5
