"""Quality in a real browser, in Chinese: the analyst records results of a receipt's lot
(one out of specification) and cannot sign it; QA is refused a release without a
deviation and with a wrong password, then signs it under a deviation; the temperature
chart of a cold room shows its permitted range and marks an excursion and a gap."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import sessionmaker

from erp.auth.models import User, UserCompany
from erp.auth.roles import Role
from erp.auth.services import hash_password
from erp.clock import BUSINESS_TIME_ZONE, business_today
from erp.db import make_session_factory
from erp.demo.loader import DEMO_PASSWORD
from erp.masterdata.models import Company, Warehouse
from erp.inventory import queries
from erp.inventory import services as inventory
from erp.quality import monitoring, services
from erp.quality.models import InspectionLot, Specification, UsageDecision
from tests.browser.conftest import demo_actor

C = services.CharacteristicInput


@pytest.fixture
def quality_world(browser_engine: Engine) -> dict[str, int]:
    """A receipt's lot of FORM01 (stock in quarantine) and a specification of its material;
    a second QA person; a new empty cold room with yesterday's readings (a 45-minute
    warm-up to 9.5 °C at 09:00 and no readings from 10:30 to 10:49)."""
    factory: sessionmaker[Any] = make_session_factory(browser_engine)
    with factory() as session, session.begin():
        form01 = session.scalars(select(Company).where(Company.code == "FORM01")).one()
        analyst = demo_actor(session, "quality.form01")
        # the demo released what quality had; a clerk receives 1 unit of an inspected material now
        clerk = demo_actor(session, "clerk.form01")
        lines, _ = queries.lines_open_for_receipt(session, clerk, limit=500)
        line = next(row for row in lines if row.inspection_required and row.quantity - row.received_quantity >= 2)
        today = business_today()
        document = inventory.receive_goods(session, clerk, inventory.ReceiptRequest(
            po_line_id=line.po_line_id, quantity=D(1), posting_date=today, batch_number=f"QC-{today:%y%m%d}-B",
            manufacture_date=today - dt.timedelta(days=30), expiry_date=today + dt.timedelta(days=700)))
        lot = session.scalars(select(InspectionLot).where(InspectionLot.source_document_id == document)).one()
        if session.scalar(select(Specification.id).where(Specification.material_id == lot.material_id)) is None:
            group_qa = demo_actor(session, "qa.group")
            services.create_specification(session, group_qa, material_id=lot.material_id,
                                          effective_from=today, reason="Ch.P. 2025", characteristics=[
                C("ASSAY", "含量", "Assay", "%", minimum=D("98.0"), maximum=D("102.0")),
                C("APPEARANCE", "性状", "Appearance", expected_text="符合规定")])
        if session.scalar(select(User.id).where(User.username == "qa.form01")) is None:
            session.add(User(username="qa.form01", display_name="QA 王敏", password_hash=hash_password(DEMO_PASSWORD),
                             role=Role.QUALITY, group_wide=False, companies=[UserCompany(company_id=form01.id)]))
        room = session.scalars(select(Warehouse).where(Warehouse.code == "FORM01-QA-COLD")).first()
        if room is None:
            room = Warehouse(code="FORM01-QA-COLD", company_id=form01.id, name_zh="质检冷库", name_en="QC cold room",
                             temp_min=D(2), temp_max=D(8), max_humidity=D(60))
            session.add(room)
            session.flush()
        yesterday = business_today() - dt.timedelta(days=1)
        start = dt.datetime.combine(yesterday, dt.time(8), BUSINESS_TIME_ZONE)
        lines = ["read_at,temperature,humidity"] + [
            f"{(start + dt.timedelta(minutes=i)).isoformat()},{'9.5' if 60 <= i < 105 else '4.8'},52"
            for i in range(240) if not 150 <= i < 170]
        monitoring.import_readings(session, analyst, warehouse_id=room.id, content="\n".join(lines) + "\n")
        return {"lot": lot.id, "room": room.id}


def test_qc_records_results_and_qa_signs_the_release_under_a_deviation(
    signed_in: Any, shot: Any, quality_world: dict[str, int], browser_engine: Engine
) -> None:
    lot_id = quality_world["lot"]
    analyst = signed_in("quality.form01")
    analyst.goto("/quality/lots")
    assert analyst.get_by_test_id(f"lot-{lot_id}").is_visible()
    shot(analyst, "lots")
    analyst.get_by_test_id(f"lot-{lot_id}").click()
    analyst.fill("input[name=result-ASSAY]", "97.1")
    analyst.fill("input[name=result-APPEARANCE]", "符合规定")
    analyst.get_by_test_id("record-results").click()
    analyst.wait_for_selector("[data-testid=recorded]")
    assert analyst.get_by_test_id("oos-ASSAY").inner_text() == "不符合标准"
    assert "符合" in analyst.get_by_test_id("result-APPEARANCE").inner_text()
    shot(analyst, "results-recorded")
    analyst.fill("#f-password", DEMO_PASSWORD)
    analyst.get_by_test_id("sign").click()
    assert "您记录了该检验批的结果，不能再签署其决策" in analyst.get_by_test_id("refusal").inner_text()
    shot(analyst, "analyst-cannot-sign")

    qa = signed_in("qa.form01")
    qa.goto(f"/quality/lots/{lot_id}")
    qa.fill("#f-password", DEMO_PASSWORD)
    qa.get_by_test_id("sign").click()
    assert "结果超出质量标准：放行需要偏差" in qa.get_by_test_id("refusal").inner_text()
    qa.fill("#f-deviation_reference", "DEV-2026-031")
    qa.fill("#f-reason", "复检含量 98.6%，经偏差调查批准放行")
    qa.fill("#f-password", "不是我的密码")
    qa.get_by_test_id("sign").click()
    assert "签名所输入的密码错误" in qa.get_by_test_id("refusal").inner_text()
    assert qa.input_value("#f-deviation_reference") == "DEV-2026-031"  # nothing typed is lost but the password
    assert qa.input_value("#f-password") == ""
    shot(qa, "wrong-password")
    qa.fill("#f-password", DEMO_PASSWORD)
    qa.get_by_test_id("sign").click()
    decision = qa.get_by_test_id("decision").inner_text()
    assert "已放行" in decision and "QA 王敏" in decision and "DEV-2026-031" in decision
    with make_session_factory(browser_engine)() as session:  # the signing time in Beijing, not UTC
        signed_at = session.scalars(select(UsageDecision.signed_at).where(UsageDecision.lot_id == lot_id)).one()
    beijing = (signed_at.astimezone(dt.UTC) + dt.timedelta(hours=8)).strftime("%Y-%m-%d %H:%M:%S")
    assert f"{beijing} (UTC+8)" in decision and "UTC)" not in decision.replace("(UTC+8)", "")
    shot(qa, "released")


def test_the_cold_room_chart_marks_the_excursion_and_the_gap(
    signed_in: Any, shot: Any, quality_world: dict[str, int]
) -> None:
    page = signed_in("quality.form01")
    page.goto("/quality/excursions")
    table = page.get_by_test_id("excursions").inner_text()
    assert "超出范围" in table and "读数中断" in table
    assert "\t45\t" in table and ".00" not in table  # whole minutes, not 45.00
    shot(page, "excursions")
    yesterday = (business_today() - dt.timedelta(days=1)).isoformat()
    page.goto(f"/quality/warehouses/{quality_world['room']}/chart?day={yesterday}")
    page.wait_for_selector("body[data-charts-ready='1']")
    option = page.evaluate("() => { const o = echarts.getInstanceByDom(document.getElementById('chart-temperature'))"
                           ".getOption(); return {points: o.series[0].data.length, marks: o.series[0].markArea.data"
                           ".length, band: o.series[0].markLine.data.map(d => d.yAxis)}; }")
    assert option == {"points": 220, "marks": 2, "band": [2, 8]}
    day = page.get_by_test_id("day-excursions").inner_text()
    assert "09:00" in day and "09:45" in day and "\t45\t" in day and "45.00" not in day and "9.50" in day
    shot(page, "chart")


def test_the_quality_pages_in_english(signed_in: Any, shot: Any, quality_world: dict[str, int]) -> None:
    page = signed_in("quality.form01", language="en")
    page.goto("/quality/lots?status=all")
    assert page.locator("h1").inner_text() == "Inspection lots"
    assert "goods receipt" in page.get_by_test_id("lots").inner_text()
    shot(page, "lots-en")
    page.goto("/quality/excursions")
    assert "out of range" in page.get_by_test_id("excursions").inner_text()
    page.locator("a[data-testid^=excursion-]").first.click()
    page.wait_for_selector("body[data-charts-ready='1']")
    assert "Permitted range" in page.locator("dl").inner_text()
    shot(page, "chart-en")
