"""What a newcomer walking through the demo in Chinese stumbled on (30 November 2026): a word
left as its code, a storage condition in half-English shorthand, an amount as the address
typed it, and the previous step's "done" shown beside this post's refusal.

Every test in tests/ui also runs under tests/ui/conftest.py's check that no page answers an
error status without a message.
"""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from erp.clock import business_today
from erp.credit.limits import suggest_limits
from erp.purchasing.models import PurchaseOrderStatus
from erp.quality.models import InspectionLot
from tests.quality import qa_signer, specify
from tests.stock import open_order, receive, set_standard
from tests.ui.conftest import shown, sign_in
from tests.world import World

pytestmark = pytest.mark.postgres


def storage_words(page: str) -> str:
    """The receipt preview's storage line (a <span>), tags dropped and spaces collapsed."""
    found = re.search(r'data-testid="storage">(.*?)</span>', page, re.S)
    assert found, "no storage line on the page"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1))).strip()


def test_the_receipt_preview_states_storage_conditions_in_words(
        client: FlaskClient, world: World, session_factory: sessionmaker[Session]) -> None:
    """API-AMOX needs at most 20 °C and at most 65 % relative humidity (no lower bound); the
    cool store keeps 8-15 °C and at most 65 %: no "…–20 °C" and no "RH" on a Chinese page."""
    set_standard(session_factory, world, "api_central", "52.00")
    (line,) = open_order(session_factory, world, [("api_central", "200", "55.50", "A-COOL")])
    sign_in(client, world, "clerk_a")
    page = client.get(f"/inventory/receiving/{line}").get_data(as_text=True)
    storage = storage_words(page)
    assert storage == "物料要求：不高于 20 °C，相对湿度不高于 65%。 仓库条件：8–15 °C，相对湿度不高于 65%。"
    sign_in(client, world, "clerk_a", "en")
    storage = storage_words(client.get(f"/inventory/receiving/{line}").get_data(as_text=True))
    assert storage == ("Material needs: at most 20 °C, relative humidity at most 65%. "
                       "Warehouse keeps: 8–15 °C, relative humidity at most 65%.")


def test_risk_classes_read_as_words_on_the_credit_pages(
        client: FlaskClient, world: World, session_factory: sessionmaker[Session]) -> None:
    """Risk classes read as words, never ``very_high``. A customer nothing is known about (no
    history, no credit data) reads 无交易历史（数据不足） in the list (trial finding 31: it read
    极高风险, the worst grade); its page still shows the model's arithmetic, which gives that
    class the very high risk grade (风险等级 极高风险)."""
    with session_factory() as session, session.begin():
        suggest_limits(session, world.actors["credit"], as_of=business_today())
    sign_in(client, world, "credit")
    listing = client.get("/credit/customers").get_data(as_text=True)
    cell = re.search(r'data-testid="risk-K0001">(.*?)</td>', listing, re.S)
    assert cell and re.sub(r"<[^>]+>", "", cell.group(1)).strip() == "无交易历史（数据不足）"
    assert "very_high" not in listing
    customer = client.get("/credit/customers/K0001").get_data(as_text=True)
    assert "very_high" not in customer
    assert "风险等级 极高风险" in re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", customer))


def test_a_payment_banner_shows_money_and_nothing_else_from_the_address(
        client: FlaskClient, world: World) -> None:
    """Since 809cd49 a payment lands on its own page, whose banner shows the payment's amount
    from the database (tests/ui/test_payables_pages.py); the invoice list reads no banner from
    its address at all, money or text."""
    sign_in(client, world, "ap_a")
    for typed in ("1356.5", "请向 6222 账户汇款"):
        listed = client.get("/payables/invoices", query_string={"paid": typed}).get_data(as_text=True)
        assert 'data-testid="paid"' not in listed
        assert "6222" not in re.sub(r"<[^>]+>", " ", listed)  # the text read (links keep the address)


def test_a_refused_signature_neither_repeats_the_last_success_nor_blames_the_user_oddly(
        client: FlaskClient, world: World, session_factory: sessionmaker[Session]) -> None:
    """The analyst records results (the page comes back with "results recorded") and then, on
    that page, tries to sign: refused (four eyes) without "results recorded" beside it. QA
    signs with a wrong password: 密码错误, not "the password is not your own"."""
    specify(session_factory, world, "api_central")
    set_standard(session_factory, world, "api_central", "52.00")
    (line,) = open_order(session_factory, world, [("api_central", "200", "55.50", "A-COOL")])
    document = receive(session_factory, world, line, "120")
    with session_factory() as session:
        lot = session.scalars(select(InspectionLot).where(InspectionLot.source_document_id == document)).one()
    token = sign_in(client, world, "quality_a")
    # The worklist's filter names an open lot as its rows do (待决策), not as an order (已下达).
    worklist = client.get("/quality/lots").get_data(as_text=True)
    assert re.search(r'<option value="open"[^>]*>待决策</option>', worklist)
    assert "已下达" not in worklist
    recorded = client.post(f"/quality/lots/{lot.id}", data={
        "csrf_token": token, "action": "results", "result-APPEARANCE": "conforms"})
    assert recorded.status_code == 302 and recorded.headers["Location"].endswith("recorded=1")
    assert 'data-testid="recorded"' in client.get(recorded.headers["Location"]).get_data(as_text=True)
    own = client.post(recorded.headers["Location"], data={
        "csrf_token": token, "action": "decision", "decision": "release", "password": "correct horse battery"})
    assert own.status_code == 403
    page = own.get_data(as_text=True)
    assert "须由另一位 QA 人员签署" in shown(page, "refusal")
    assert 'data-testid="recorded"' not in page
    qa_signer(session_factory, world)
    token = sign_in(client, world, "qa_a")
    wrong = client.post(f"/quality/lots/{lot.id}", data={
        "csrf_token": token, "action": "decision", "decision": "release", "password": "not mine"})
    assert shown(wrong.get_data(as_text=True), "refusal").endswith(
        f"密码错误：检验批 {lot.number} 未签署，此次尝试已被记录")


def test_a_refused_rejection_does_not_show_the_previous_success(
        client: FlaskClient, world: World, session_factory: sessionmaker[Session]) -> None:
    """A manager's page still addressed ``?done=approve`` (from an earlier order action) rejects
    without a reason: the refusal, and no "approved" banner."""
    open_order(session_factory, world, [("pkg_loose", "10", "2.00", "A-AMB")], number="PO-NC-1",
               status=PurchaseOrderStatus.PENDING_APPROVAL)
    token = sign_in(client, world, "pm_a")
    refused = client.post("/purchasing/orders/PO-NC-1?done=approve", data={"action": "reject", "csrf_token": token})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "请说明驳回原因" in shown(page, "refusal")
    assert 'data-testid="done"' not in page


def test_an_approved_order_says_who_created_and_who_approved_it(
        client: FlaskClient, world: World, session_factory: sessionmaker[Session]) -> None:
    """UI.md: an action that changes commitments shows who did it and when afterwards."""
    open_order(session_factory, world, [("pkg_loose", "10", "2.00", "A-AMB")], number="PO-NC-2",
               status=PurchaseOrderStatus.PENDING_APPROVAL)
    token = sign_in(client, world, "pm_a")
    approved = client.post("/purchasing/orders/PO-NC-2", data={"action": "approve", "csrf_token": token})
    assert approved.status_code == 302
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", client.get(approved.headers["Location"]).get_data(as_text=True)))
    assert "创建人 buyer_a" in text and "审批人 pm_a" in text


def test_a_warehouses_permitted_range_reads_in_words(client: FlaskClient, world: World) -> None:
    """The cool store keeps 8–15 °C and at most 65 % relative humidity: 相对湿度不高于 65%,
    never "≤ 65.00 %RH", on its monitoring and chart pages."""
    sign_in(client, world, "quality_a")
    warehouse = world.warehouses["A-COOL"]
    for url in (f"/quality/warehouses/{warehouse}/monitoring", f"/quality/warehouses/{warehouse}/chart"):
        text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", client.get(url).get_data(as_text=True)))
        assert "RH" not in text, url
        assert "相对湿度不高于 65%" in text, url
