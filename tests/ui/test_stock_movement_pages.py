"""The clerk's goods issue, stock transfer, reversal and return pages post what the services
post, show what they will take before posting, show a refusal beside the form in the
reader's language with what was typed kept and nothing written, never offer or accept
another company's warehouse, and are closed to read-only roles.

Company A's ambient store holds the excipient EXC-STAR at a standard of 10.00 per kg in two
batches: EXC-A-0 (300 kg, expires 2028-01-31) and EXC-A-1 (1,000 kg, expires 2029-09-30),
both unrestricted (the excipient needs no inspection)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal as D

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from erp.inventory.models import StockDocument
from tests.credit import put_stock
from tests.stock import books, document_movements, entry_lines, open_order, receive, set_standard
from tests.ui.conftest import shown, sign_in
from tests.world import World

DAY = "2026-11-20"


@pytest.fixture
def stock(session_factory: sessionmaker[Session], world: World) -> int:
    """The two batches; returns the id of EXC-A-0's receipt."""
    put_stock(session_factory, world)  # EXC-A-1: 1,000 kg at 10.00, received 2026-11-02
    (line,) = open_order(session_factory, world, [("exc_local", "300", "10.00", "A-AMB")])
    return receive(session_factory, world, line, "300", batch="EXC-A-0", expires=dt.date(2028, 1, 31),
                   on=dt.date(2026, 11, 3))


def _ids(world: World) -> dict[str, str]:
    return {"warehouse_id": str(world.warehouses["A-AMB"]), "material_id": str(world.materials["exc_local"])}


def _posted(session_factory: sessionmaker[Session], location: str) -> StockDocument:
    number = re.search(r"/inventory/documents/([^?]+)\?posted=1$", location)
    assert number, location
    with session_factory() as session:
        document = session.scalar(select(StockDocument).where(StockDocument.number == number.group(1)))
        assert document is not None
        session.expunge(document)
        return document


def _facts(page: str) -> str:
    """The text of the confirmation step's facts (what will be posted)."""
    found = re.search(r'data-testid="confirm-posting-facts"[^>]*>(.*?)</dl>', page, re.S)
    assert found, "no confirmation step on the page"
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())


def _value_of(page: str, testid: str) -> str:
    found = re.search(rf'data-testid="{testid}"[^>]*>([^<]*)<', page)
    assert found, testid
    return found.group(1).strip()


# --- goods issue ---------------------------------------------------------------------------

def test_the_issue_form_shows_first_expiry_first_and_the_cost_before_posting_then_posts_it(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session], stock: int,
) -> None:
    token = sign_in(client, world, "clerk_a")
    page = client.get("/inventory/issues", query_string=_ids(world)).get_data(as_text=True)
    # the batch list, first expiry first, with the standard price in force
    assert page.index("EXC-A-0") < page.index("EXC-A-1")
    assert "¥10.00" in shown(page, "standard-price")
    form = {**_ids(world), "quantity": "350", "posting_date": DAY, "destination": "cost_center",
            "cost_center": "QC-LAB", "reference": "REQ-7", "csrf_token": token}
    preview = client.post("/inventory/issues", data={**form, "action": "preview"})
    assert preview.status_code == 200
    page = preview.get_data(as_text=True)
    # 300 kg of EXC-A-0 (expires first) and 50 kg of EXC-A-1, at 10.00: 3,000.00 + 500.00
    assert 'data-testid="planned-EXC-A-0"' in page and 'data-testid="planned-EXC-A-1"' in page
    assert _value_of(page, "preview-value") == "¥3,500.00"
    assert "5101" in shown(page, "journal-preview")
    with session_factory() as session:
        assert session.scalar(select(StockDocument.id).where(StockDocument.doc_type == "issue")) is None

    posted = client.post("/inventory/issues", data={**form, "action": "post"})
    assert posted.status_code == 302
    document = _posted(session_factory, posted.headers["Location"])
    assert (document.doc_type, document.destination, document.cost_center, document.reference) == (
        "issue", "cost_center", "QC-LAB", "REQ-7")
    with session_factory() as session:
        assert document_movements(session, document.id) == [
            ("CA-AMB", "EXC-A-0", "unrestricted", D("-300"), D("-3000.00")),
            ("CA-AMB", "EXC-A-1", "unrestricted", D("-50"), D("-500.00"))]
        assert entry_lines(session, document.id) == {"5101": D("3500.00"), "1403": D("-3500.00")}
    page = client.get(posted.headers["Location"]).get_data(as_text=True)
    assert 'data-testid="posted"' in page and 'data-testid="journal"' in page
    assert 'data-testid="reversal-card"' in page and 'data-testid="return-card"' not in page


def test_an_issue_beyond_the_stock_is_refused_beside_the_form_with_what_was_typed(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session], stock: int,
) -> None:
    token = sign_in(client, world, "clerk_a")
    before = books(session_factory)
    refused = client.post("/inventory/issues", data={
        **_ids(world), "quantity": "1400", "posting_date": DAY, "destination": "cost_center", "cost_center": "QC-LAB",
        "reference": "REQ-8",
        "action": "post", "csrf_token": token})
    assert refused.status_code == 409
    page = refused.get_data(as_text=True)
    assert "可用" in shown(page, "refusal") and "1,300" in shown(page, "refusal")
    assert 'value="1400"' in page and 'value="REQ-8"' in page and 'data-testid="issue-form"' in page
    assert '{"type"' not in page
    assert books(session_factory) == before


def test_an_issue_to_production_outside_a_production_order_is_refused_beside_its_field(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session], stock: int,
) -> None:
    """Finding 138: production costs (5001) are charged through production orders only."""
    token = sign_in(client, world, "clerk_a")
    page = client.get("/inventory/issues").get_data(as_text=True)
    assert 'value="production"' not in page and 'value="cost_center"' in page
    before = books(session_factory)
    refused = client.post("/inventory/issues", data={
        **_ids(world), "quantity": "5", "posting_date": DAY, "destination": "production", "action": "post",
        "csrf_token": token})
    assert refused.status_code == 422
    assert "生产订单" in shown(refused.get_data(as_text=True), "error-destination")
    assert books(session_factory) == before


def test_an_issue_to_a_cost_centre_needs_the_cost_centre_named_beside_its_field(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session], stock: int,
) -> None:
    token = sign_in(client, world, "clerk_a")
    before = books(session_factory)
    refused = client.post("/inventory/issues", data={
        **_ids(world), "quantity": "5", "posting_date": DAY, "destination": "cost_center", "action": "post",
        "csrf_token": token})
    assert refused.status_code == 422
    assert shown(refused.get_data(as_text=True), "error-cost_center")
    assert books(session_factory) == before


def test_another_companys_warehouse_is_neither_offered_nor_accepted(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session], stock: int,
) -> None:
    put_stock(session_factory, world, company="B")
    token = sign_in(client, world, "clerk_a")
    page = client.get("/inventory/issues").get_data(as_text=True)
    assert "CA-AMB" in page and "CB-AMB" not in page
    before = books(session_factory)
    refused = client.post("/inventory/issues", data={
        "warehouse_id": str(world.warehouses["B-AMB"]), "material_id": str(world.materials["exc_local"]),
        "quantity": "5", "posting_date": DAY, "destination": "cost_center", "cost_center": "QC-LAB", "action": "post",
        "csrf_token": token})
    assert refused.status_code == 404 and 'data-testid="refusal"' in refused.get_data(as_text=True)
    assert books(session_factory) == before
    transfer_page = client.get("/inventory/transfers").get_data(as_text=True)
    assert "CA-COOL" in transfer_page and "CB-" not in transfer_page
    # A destination typed into the address is not judged either: its storage check told
    # whether the other company's warehouse keeps the material (and named it when not).
    typed = client.get("/inventory/transfers", query_string={
        **_ids(world), "from_warehouse_id": str(world.warehouses["A-AMB"]),
        "to_warehouse_id": str(world.warehouses["B-AMB"]), "quantity": "5"}).get_data(as_text=True)
    assert 'data-testid="preview"' in typed and 'data-testid="available"' in typed
    assert 'data-testid="storage"' not in typed and "CB-" not in typed


@pytest.mark.parametrize("user, status", [("cio", 403), ("auditor", 403), ("quality_a", 403), ("cost_a", 403)])
def test_roles_other_than_the_clerk_cannot_issue_or_transfer(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session], stock: int, user: str, status: int,
) -> None:
    token = sign_in(client, world, user)
    before = books(session_factory)
    for path in ("/inventory/issues", "/inventory/transfers"):
        assert client.get(path).status_code == status
        answer = client.post(path, data={**_ids(world), "from_warehouse_id": str(world.warehouses["A-AMB"]),
                                         "to_warehouse_id": str(world.warehouses["A-COOL"]), "quantity": "5",
                                         "posting_date": DAY, "destination": "production", "action": "post",
                                         "csrf_token": token})
        assert answer.status_code == status
    assert books(session_factory) == before


# --- reversal (冲销) of an issue and a receipt, return (退货) of a receipt -----------------------

def test_an_issue_is_reversed_from_its_page_with_a_reason(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session], stock: int,
) -> None:
    token = sign_in(client, world, "clerk_a")
    posted = client.post("/inventory/issues", data={
        **_ids(world), "quantity": "20", "posting_date": DAY, "destination": "cost_center", "cost_center": "QC-LAB",
        "action": "post", "csrf_token": token})
    issue = _posted(session_factory, posted.headers["Location"])
    before = books(session_factory)
    without_reason = client.post(f"/inventory/documents/{issue.number}/reversal",
                                 data={"posting_date": DAY, "reason": "  ", "csrf_token": token})
    assert without_reason.status_code == 422
    assert shown(without_reason.get_data(as_text=True), "error-reason")
    assert books(session_factory) == before
    # First what it will post, as the service posts it, and nothing written ...
    check = client.post(f"/inventory/documents/{issue.number}/reversal",
                        data={"posting_date": DAY, "reason": "领错批次", "csrf_token": token})
    assert check.status_code == 200
    page = check.get_data(as_text=True)
    facts = _facts(page)
    # 20 kg of EXC-A-0 back into unrestricted stock at 10.00: 200.00; Dr 1403, Cr 5101
    assert issue.number in facts and "20 千克" in facts and "¥200.00" in facts
    journal = shown(page, "confirm-posting-journal")
    assert "1403" in journal and "5101" in journal and journal.count("¥200.00") == 2
    assert 'name="confirmed" value="1"' in page and 'value="领错批次"' in page
    assert books(session_factory) == before
    # ... "back" shows the form again as typed, still nothing written ...
    back = client.post(f"/inventory/documents/{issue.number}/reversal",
                       data={"posting_date": DAY, "reason": "领错批次", "confirmed": "1", "edit": "1",
                             "csrf_token": token})
    assert back.status_code == 200 and 'data-testid="reversal-form"' in back.get_data(as_text=True)
    assert 'value="领错批次"' in back.get_data(as_text=True) and books(session_factory) == before
    # ... then the confirmed post.
    reversed_ = client.post(f"/inventory/documents/{issue.number}/reversal",
                            data={"posting_date": DAY, "reason": "领错批次", "confirmed": "1", "csrf_token": token})
    assert reversed_.status_code == 302
    reversal = _posted(session_factory, reversed_.headers["Location"])
    assert (reversal.doc_type, reversal.reverses_document_id, reversal.reason) == ("issue_reversal", issue.id, "领错批次")
    with session_factory() as session:
        assert document_movements(session, reversal.id) == [
            ("CA-AMB", "EXC-A-0", "unrestricted", D("20"), D("200.00"))]
        assert entry_lines(session, reversal.id) == {"5101": D("-200.00"), "1403": D("200.00")}
    page = client.get(f"/inventory/documents/{issue.number}").get_data(as_text=True)
    assert "已冲销" in page and 'data-testid="reversal-card"' not in page
    again = client.post(f"/inventory/documents/{issue.number}/reversal",
                        data={"posting_date": DAY, "reason": "again", "confirmed": "1", "csrf_token": token})
    assert again.status_code == 409 and "已被" in shown(again.get_data(as_text=True), "refusal")


def test_a_receipt_goes_back_to_its_supplier_from_its_page_and_an_excess_is_refused(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session], stock: int,
) -> None:
    with session_factory() as session:
        number = session.scalar(select(StockDocument.number).where(StockDocument.id == stock))
    token = sign_in(client, world, "clerk_a")
    page = client.get(f"/inventory/documents/{number}").get_data(as_text=True)
    assert 'data-testid="return-card"' in page and 'data-testid="reversal-card"' in page
    before = books(session_factory)
    refused = client.post(f"/inventory/documents/{number}/return",
                          data={"quantity": "301", "posting_date": DAY, "reason": "外箱破损", "csrf_token": token})
    assert refused.status_code == 409
    page = refused.get_data(as_text=True)
    assert "300" in shown(page, "refusal") and 'value="外箱破损"' in page and 'value="301"' in page
    assert books(session_factory) == before
    check = client.post(f"/inventory/documents/{number}/return",
                        data={"quantity": "30", "posting_date": DAY, "reason": "外箱破损", "csrf_token": token})
    assert check.status_code == 200 and books(session_factory) == before
    # 30 kg of EXC-A-0 out of unrestricted stock at 10.00: 300.00; Dr 2202.01, Cr 1403
    facts = _facts(check.get_data(as_text=True))
    assert "-30 千克" in facts and "¥300.00" in facts
    assert "2202.01" in shown(check.get_data(as_text=True), "confirm-posting-journal")
    returned = client.post(f"/inventory/documents/{number}/return",
                           data={"quantity": "30", "posting_date": DAY, "reason": "外箱破损", "confirmed": "1",
                                 "csrf_token": token})
    assert returned.status_code == 302
    document = _posted(session_factory, returned.headers["Location"])
    assert (document.doc_type, document.source_document_id) == ("return_to_supplier", stock)
    with session_factory() as session:
        assert document_movements(session, document.id) == [
            ("CA-AMB", "EXC-A-0", "unrestricted", D("-30"), D("-300.00"))]
        assert entry_lines(session, document.id) == {"2202.01": D("300.00"), "1403": D("-300.00")}


def test_a_return_of_goods_still_in_quarantine_names_the_quality_rule_not_a_shortage(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session],
) -> None:
    # 120 kg of the inspected API received into quarantine: they are there, but quality has
    # not decided on them, and that is what the refusal must say (not 「库存不足」).
    set_standard(session_factory, world, "api_central", "52.00")
    (line,) = open_order(session_factory, world, [("api_central", "200", "55.50", "A-COOL")])
    receipt = receive(session_factory, world, line, "120")
    with session_factory() as session:
        number = session.scalar(select(StockDocument.number).where(StockDocument.id == receipt))
    token = sign_in(client, world, "clerk_a")
    before = books(session_factory)
    refused = client.post(f"/inventory/documents/{number}/return",
                          data={"quantity": "120", "posting_date": DAY, "reason": "包装破损", "csrf_token": token})
    assert refused.status_code == 409
    text = shown(refused.get_data(as_text=True), "refusal")
    assert "待检隔离" in text and "质量部门" in text and "放行或判不合格" in text
    assert "库存不足" not in text and "已无可退" not in text
    assert books(session_factory) == before


def test_read_only_roles_are_not_offered_and_cannot_post_a_reversal(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session], stock: int,
) -> None:
    with session_factory() as session:
        number = session.scalar(select(StockDocument.number).where(StockDocument.id == stock))
    token = sign_in(client, world, "cio")
    page = client.get(f"/inventory/documents/{number}").get_data(as_text=True)
    assert 'data-testid="reversal-card"' not in page and 'data-testid="return-card"' not in page
    before = books(session_factory)
    answer = client.post(f"/inventory/documents/{number}/reversal",
                         data={"posting_date": DAY, "reason": "x", "csrf_token": token})
    assert answer.status_code == 403
    assert books(session_factory) == before


# --- stock transfer ----------------------------------------------------------------------------

def test_a_transfer_shows_what_moves_then_posts_it_without_a_journal(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session], stock: int,
) -> None:
    token = sign_in(client, world, "clerk_a")
    form = {"from_warehouse_id": str(world.warehouses["A-AMB"]), "to_warehouse_id": str(world.warehouses["A-COOL"]),
            "material_id": str(world.materials["exc_local"]), "status": "unrestricted", "quantity": "120",
            "posting_date": DAY, "reference": "TR-1", "csrf_token": token}
    page = client.post("/inventory/transfers", data={**form, "action": "preview"}).get_data(as_text=True)
    assert _value_of(page, "preview-value") == "¥1,200.00" and 'data-testid="planned-EXC-A-0"' in page
    assert 'data-testid="storage"' in page
    posted = client.post("/inventory/transfers", data={**form, "action": "post"})
    assert posted.status_code == 302
    document = _posted(session_factory, posted.headers["Location"])
    with session_factory() as session:
        assert document_movements(session, document.id) == [
            ("CA-AMB", "EXC-A-0", "unrestricted", D("-120"), D("-1200.00")),
            ("CA-COOL", "EXC-A-0", "unrestricted", D("120"), D("1200.00"))]
        assert entry_lines(session, document.id) == {}
    page = client.get(posted.headers["Location"]).get_data(as_text=True)
    assert "CA-COOL" in page and 'data-testid="reversal-card"' not in page


@pytest.mark.parametrize("target, status, field", [("B-AMB", 422, None), ("A-AMB", 422, "to_warehouse_id")])
def test_a_transfer_out_of_the_company_or_to_itself_is_refused_and_nothing_moves(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session], stock: int, target: str,
    status: int, field: str | None,
) -> None:
    token = sign_in(client, world, "clerk_a")
    before = books(session_factory)
    refused = client.post("/inventory/transfers", data={
        "from_warehouse_id": str(world.warehouses["A-AMB"]), "to_warehouse_id": str(world.warehouses[target]),
        "material_id": str(world.materials["exc_local"]), "status": "unrestricted", "quantity": "12",
        "posting_date": DAY, "reference": "TR-2", "action": "post", "csrf_token": token})
    assert refused.status_code == status
    page = refused.get_data(as_text=True)
    assert 'data-testid="refusal"' in page and 'value="TR-2"' in page and 'value="12"' in page
    if field:
        assert shown(page, f"error-{field}")
    assert books(session_factory) == before


def test_the_clerks_navigation_offers_the_new_pages(client: FlaskClient, world: World) -> None:
    sign_in(client, world, "clerk_a")
    page = client.get("/inventory/receiving").get_data(as_text=True)
    assert 'href="/inventory/issues"' in page and 'href="/inventory/transfers"' in page
    assert 'href="/inventory/adjustments"' not in page
    sign_in(client, world, "quality_a")
    page = client.get("/inventory/quarantine").get_data(as_text=True)
    assert 'href="/inventory/issues"' not in page and 'href="/inventory/adjustments"' in page


# --- stock adjustment (盘点调整): cost accountants and quality, never clerks -------------------

def _adjustment(world: World, batch: int, **fields: str) -> dict[str, str]:
    return {**_ids(world), "status": "unrestricted", "batch_id": str(batch), "kind": "count",
            "posting_date": DAY, **fields}


def test_a_count_loss_shows_its_value_then_posts_it_with_its_reason(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session], stock: int,
) -> None:
    from tests.stock import batch_id

    batch = batch_id(session_factory, world, "exc_local", "EXC-A-1")
    token = sign_in(client, world, "cost_a")
    form = _adjustment(world, batch, quantity="-5", reason="年度盘点", csrf_token=token)
    page = client.post("/inventory/adjustments", data={**form, "action": "preview"}).get_data(as_text=True)
    assert _value_of(page, "adjustment-value") == "-¥50.00"  # 5 kg at 10.00 leave
    gain = client.post("/inventory/adjustments", data={**form, "quantity": "2.5", "action": "preview"})
    assert _value_of(gain.get_data(as_text=True), "adjustment-value") == "¥25.00"
    posted = client.post("/inventory/adjustments", data={**form, "action": "post"})
    assert posted.status_code == 302
    document = _posted(session_factory, posted.headers["Location"])
    assert (document.doc_type, document.reason) == ("adjustment", "年度盘点")
    with session_factory() as session:
        assert document_movements(session, document.id) == [
            ("CA-AMB", "EXC-A-1", "unrestricted", D("-5"), D("-50.00"))]
        assert entry_lines(session, document.id) == {"1901": D("50.00"), "1403": D("-50.00")}


@pytest.mark.parametrize("fields, status, field", [
    ({"kind": "scrap", "quantity": "5", "reason": "破损"}, 422, None),  # scrap takes out
    ({"quantity": "-5", "reason": " "}, 422, "reason"),
])
def test_an_adjustment_the_service_refuses_is_shown_beside_the_form_and_nothing_is_written(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session], stock: int, fields: dict[str, str],
    status: int, field: str | None,
) -> None:
    from tests.stock import batch_id

    token = sign_in(client, world, "quality_a")
    before = books(session_factory)
    refused = client.post("/inventory/adjustments", data={
        **_adjustment(world, batch_id(session_factory, world, "exc_local", "EXC-A-1"), **fields),
        "action": "post", "csrf_token": token})
    assert refused.status_code == status
    page = refused.get_data(as_text=True)
    assert 'data-testid="refusal"' in page and f'value="{fields["quantity"]}"' in page
    if field:
        assert shown(page, f"error-{field}")
    assert books(session_factory) == before


@pytest.mark.parametrize("user", ["clerk_a", "cio"])
def test_clerks_and_read_only_roles_cannot_adjust(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session], stock: int, user: str,
) -> None:
    token = sign_in(client, world, user)
    before = books(session_factory)
    assert client.get("/inventory/adjustments").status_code == 403
    assert client.post("/inventory/adjustments", data={**_ids(world), "quantity": "-1", "kind": "count",
                                                      "reason": "x", "posting_date": DAY, "action": "post",
                                                      "csrf_token": token}).status_code == 403
    assert books(session_factory) == before


def test_another_companys_warehouse_is_not_offered_for_an_adjustment_nor_accepted(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session], stock: int,
) -> None:
    put_stock(session_factory, world, company="B")
    token = sign_in(client, world, "cost_a")
    page = client.get("/inventory/adjustments").get_data(as_text=True)
    assert "CA-AMB" in page and "CB-AMB" not in page
    before = books(session_factory)
    refused = client.post("/inventory/adjustments", data={
        "warehouse_id": str(world.warehouses["B-AMB"]), "material_id": str(world.materials["exc_local"]),
        "quantity": "-1", "kind": "count", "reason": "x", "posting_date": DAY, "action": "post", "csrf_token": token})
    assert refused.status_code == 404 and 'data-testid="refusal"' in refused.get_data(as_text=True)
    assert books(session_factory) == before
