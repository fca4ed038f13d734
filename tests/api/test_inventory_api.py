"""The warehouse through HTTP: postings, refusals as problem+json, Idempotency-Key, scoping,
the stock queries, and standard prices."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from erp.inventory import queries
from erp.inventory.models import StockDocument, StockMovement
from erp.purchasing.models import PurchaseOrderLine, PurchaseOrderStatus
from tests.stock import batch_id, issue, open_order, receive, set_standard, transfer
from tests.world import ApiClient, World, problem

RECEIPTS = "/api/v1/inventory/receipts"
STANDARD_PRICES = "/api/v1/costing/standard-prices"


def receipt_body(line: int, **overrides: Any) -> dict[str, Any]:
    body = {"po_line_id": line, "quantity": "120", "posting_date": "2026-11-20", "batch_number": "B-001",
            "manufacture_date": "2026-10-01", "expiry_date": "2029-09-30", "delivery_note": "DN-881"}
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def postings(session_factory: sessionmaker[Session]) -> tuple[int, int]:
    with session_factory() as session:
        return (session.scalar(select(func.count(StockDocument.id))) or 0,
                session.scalar(select(func.count(StockMovement.id))) or 0)


def received(session_factory: sessionmaker[Session], line: int) -> D:
    with session_factory() as session:
        return session.get(PurchaseOrderLine, line).received_quantity  # type: ignore[union-attr]


@pytest.fixture
def amox_line(session_factory: sessionmaker[Session], world: World) -> int:
    """200 kg of the central API at 55.50/kg into A's cool store; standard 52.00/kg."""
    set_standard(session_factory, world, "api_central", "52.00")
    (line,) = open_order(session_factory, world, [("api_central", "200", "55.50", "A-COOL")])
    return line


# --- receipts -------------------------------------------------------------------------------

def test_a_receipt_posts_and_returns_the_document_with_movements_and_journal(
    api: ApiClient, world: World, amox_line: int
) -> None:
    response = api.as_("clerk_a").post(RECEIPTS, json=receipt_body(amox_line))
    assert response.status_code == 201, response.get_json()
    document = response.get_json()
    assert (document["doc_type"], document["period"], document["po_line_id"], document["delivery_note"]) == (
        "receipt", "2026-11", amox_line, "DN-881"
    )
    assert (document["unit_price"], document["standard_price"]) == ("55.500000", "52.000000")
    # 120 kg x 52.00 = 6,240.00 into quarantine; 120 x 55.50 = 6,660.00 owed; 420.00 variance
    (movement,) = document["movements"]
    assert {k: movement[k] for k in ("warehouse_code", "batch_number", "status", "quantity", "value", "variance")} == {
        "warehouse_code": "CA-COOL", "batch_number": "B-001", "status": "quarantine", "quantity": "120.0000",
        "value": "6240.00", "variance": "420.00",
    }
    assert {line["account_code"]: line["amount"] for line in document["journal"]} == {
        "1403": "6240.00", "1404": "420.00", "2202.01": "-6660.00",
    }
    again = api.as_("clerk_a").get(f"/api/v1/inventory/documents/{document['id']}")
    assert again.status_code == 200 and again.get_json() == document


def test_a_receipt_without_batch_or_variance_answers_what_a_fresh_read_shows(
    api: ApiClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    # The 201 is built from what the posting wrote, not read back: it must still be the
    # document a GET shows, here for stock without a batch ("-") and a receipt at standard,
    # whose zero variance line is not written (two journal lines, not three).
    set_standard(session_factory, world, "pkg_loose", "2.50")
    (line,) = open_order(session_factory, world, [("pkg_loose", "400", "2.50", "A-AMB")])
    response = api.as_("clerk_a").post(RECEIPTS, json=receipt_body(
        line, quantity="400", batch_number=None, manufacture_date=None, expiry_date=None, delivery_note=None))
    assert response.status_code == 201, response.get_json()
    document = response.get_json()
    (movement,) = document["movements"]
    assert (movement["batch_number"], movement["status"], movement["value"], movement["variance"]) == (
        "-", "unrestricted", "1000.00", "0.00")  # 400 x 2.50
    assert [(j["account_code"], j["amount"]) for j in document["journal"]] == [
        ("1411", "1000.00"), ("2202.01", "-1000.00")]
    again = api.as_("clerk_a").get(f"/api/v1/inventory/documents/{document['id']}")
    assert again.status_code == 200 and again.get_json() == document


# What one receipt over HTTP sends to the database, with an Idempotency-Key, once its
# period is open and its order already partly received (issue #18): the token check (one
# SELECT), the key claimed, the order line locked, material and warehouse, the period held,
# the standard price (after the period's lock, on purpose: erp.posting.prices), a new batch,
# the posting (one statement), its period totals, the order line's received quantity, the
# inspection lot, the key's document recorded. 15 while the 201 read back the document, its
# ledger rows and journal lines; now it is built from what the posting wrote.
HTTP_RECEIPT_STATEMENTS = 12


@pytest.mark.postgres  # the count of PostgreSQL's one-statement posting (SQLite writes table by table)
def test_a_receipt_over_http_sends_no_statement_more_than_it_needs(
    api: ApiClient, world: World, amox_line: int, engine: Any
) -> None:
    from tests.statements import statements

    clerk = api.as_("clerk_a")
    # The period's first posting opens it (a few statements once a month) and the order's first
    # receipt changes its status (one more): neither is counted.
    assert clerk.post(RECEIPTS, json=receipt_body(amox_line, quantity="20")).status_code == 201
    with statements(engine) as sent:
        response = clerk.post(RECEIPTS, json=receipt_body(amox_line, batch_number="B-002"),
                              headers={"Idempotency-Key": "count-1"})
    assert response.status_code == 201, response.get_json()
    sent = [statement for statement in sent if not statement.startswith("BEGIN")]  # SQLite's own
    assert len(sent) <= HTTP_RECEIPT_STATEMENTS, "\n\n".join(sent)
    # Nothing the posting wrote is read back.
    assert not any(statement.lstrip().startswith("SELECT") and ("FROM stock_movements" in statement
                                                               or "FROM journal_lines" in statement)
                   for statement in sent), "\n\n".join(sent)


def test_returns_issues_transfers_and_adjustments_answer_what_a_fresh_read_shows(
    api: ApiClient, world: World, session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Like a receipt, each posting answers with the document built from what it wrote,
    without reading it back (the read is not even there to call), and that answer is the
    document a GET shows: several batches (an issue across two), both sides of a transfer,
    stock without a batch ("-"), a return's zero variance line not written."""
    set_standard(session_factory, world, "exc_local", "8.125")
    set_standard(session_factory, world, "pkg_loose", "2.50")
    (starch, boxes) = open_order(session_factory, world, [("exc_local", "1000", "8.125", "A-AMB"),
                                                          ("pkg_loose", "10", "2.50", "A-AMB")])
    receive(session_factory, world, starch, "100", on=dt.date(2026, 11, 10))
    second = receive(session_factory, world, starch, "40", batch="B-002", on=dt.date(2026, 11, 20))
    receive(session_factory, world, boxes, "10", batch=None, made=None, expires=None, on=dt.date(2026, 11, 12))
    b002 = batch_id(session_factory, world, "exc_local", "B-002")
    day = "2026-11-20"
    amb, cool = world.warehouses["A-AMB"], world.warehouses["A-COOL"]
    starch_id, boxes_id = world.materials["exc_local"], world.materials["pkg_loose"]
    posts = [
        ("clerk_a", "returns", {"receipt_document_id": second, "posting_date": day, "reason": "torn sacks",
                                "quantity": "5"}),
        ("clerk_a", "issues", {"warehouse_id": amb, "material_id": starch_id, "quantity": "110", "posting_date": day,
                               "destination": "cost_center", "cost_center": "QC-LAB"}),  # FEFO: 100 of B-001,
        # then 10 of B-002
        ("clerk_a", "transfers", {"from_warehouse_id": amb, "to_warehouse_id": cool, "material_id": starch_id,
                                  "quantity": "10", "posting_date": day, "batch_id": b002}),
        ("cost_a", "adjustments", {"warehouse_id": amb, "material_id": boxes_id, "quantity": "5", "posting_date": day,
                                   "kind": "count", "reason": "found on the shelf"}),
        ("cost_a", "adjustments", {"warehouse_id": amb, "material_id": starch_id, "quantity": "-3",
                                   "posting_date": day, "kind": "scrap", "reason": "wet", "batch_id": b002}),
    ]
    answered = []
    with monkeypatch.context() as patched:
        def read_back(*args: Any, **kwargs: Any) -> Any:
            raise AssertionError("a posting read its document back")

        patched.setattr(queries, "get_document", read_back)
        for user, path, body in posts:
            response = api.as_(user).post(f"/api/v1/inventory/{path}", json=body)
            assert response.status_code == 201, (path, response.get_json())
            answered.append((user, response.get_json()))
    returned, issued, moved, counted, scrapped = (document for _, document in answered)
    assert [(m["batch_number"], m["quantity"]) for m in issued["movements"]] == [
        ("B-001", "-100.0000"), ("B-002", "-10.0000")]
    assert [(m["warehouse_code"], m["quantity"]) for m in moved["movements"]] == [
        ("CA-AMB", "-10.0000"), ("CA-COOL", "10.0000")]
    assert [(m["batch_number"], m["value"]) for m in counted["movements"]] == [("-", "12.50")]  # 5 x 2.50
    assert [m["value"] for m in scrapped["movements"]] == ["-24.38"]  # 3 x 8.125 = 24.375, half up
    # 5 kg at 8.125 both at contract and standard: 40.63 back, no variance line.
    assert [(j["account_code"], j["amount"]) for j in returned["journal"]] == [
        ("2202.01", "40.63"), ("1403", "-40.63")]
    for user, document in answered:
        again = api.as_(user).get(f"/api/v1/inventory/documents/{document['id']}")
        assert again.status_code == 200 and again.get_json() == document


def test_reversals_and_quality_decisions_answer_what_a_fresh_read_shows(
    api: ApiClient, world: World, session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """As the other postings: a receipt's reversal, an issue's reversal (two batches) and a
    plain quality decision (a part of an inspected batch rejected to blocked) each answer with
    the document built from what they wrote, without reading it back, and that answer is the
    document a GET shows (reverses_document_id, reference and reason included)."""
    set_standard(session_factory, world, "exc_local", "8.125")
    set_standard(session_factory, world, "api_central", "52.00")
    (starch,) = open_order(session_factory, world, [("exc_local", "1000", "8.125", "A-AMB")])
    (amox,) = open_order(session_factory, world, [("api_central", "200", "55.50", "A-COOL")])
    receive(session_factory, world, starch, "100", on=dt.date(2026, 11, 10))
    receive(session_factory, world, starch, "40", batch="B-002", on=dt.date(2026, 11, 12))
    mistaken = receive(session_factory, world, starch, "7", batch="B-003", on=dt.date(2026, 11, 14))
    receive(session_factory, world, amox, "120")
    issued = issue(session_factory, world, "exc_local", "110")  # FEFO: 100 of B-001, 10 of B-002
    day = "2026-11-20"
    posts = [
        ("clerk_a", f"receipts/{mistaken}/reversal", {"posting_date": day, "reason": "booked twice"}),
        ("clerk_a", f"issues/{issued}/reversal", {"posting_date": day, "reason": "wrong order"}),
        ("quality_a", "quality-decisions", {"warehouse_id": world.warehouses["A-COOL"],
                                            "batch_id": batch_id(session_factory, world, "api_central", "B-001"),
                                            "decision": "reject", "posting_date": day, "quantity": "20",
                                            "reason": "drums dented"}),
    ]
    answered = []
    with monkeypatch.context() as patched:
        def read_back(*args: Any, **kwargs: Any) -> Any:
            raise AssertionError("a posting read its document back")

        patched.setattr(queries, "get_document", read_back)
        for user, path, body in posts:
            response = api.as_(user).post(f"/api/v1/inventory/{path}", json=body)
            assert response.status_code == 201, (path, response.get_json())
            answered.append((user, response.get_json()))
    reversed_receipt, reversed_issue, rejected = (document for _, document in answered)
    assert reversed_receipt["reverses_document_id"] == mistaken
    assert [(m["batch_number"], m["quantity"]) for m in reversed_receipt["movements"]] == [("B-003", "-7.0000")]
    assert [(m["batch_number"], m["quantity"]) for m in reversed_issue["movements"]] == [
        ("B-001", "100.0000"), ("B-002", "10.0000")]
    assert [(m["status"], m["quantity"]) for m in rejected["movements"]] == [
        ("quarantine", "-20.0000"), ("blocked", "20.0000")]
    for user, document in answered:
        again = api.as_(user).get(f"/api/v1/inventory/documents/{document['id']}")
        assert again.status_code == 200 and again.get_json() == document


@pytest.mark.parametrize(
    ("overrides", "status", "slug"),
    [
        ({"quantity": "204.001"}, 409, "over-receipt"),  # 200 kg + 2 % = 204 at most
        ({"warehouse_id": "A-AMB"}, 422, "storage-conditions-not-met"),
        ({"warehouse_id": "B-COOL"}, 422, "warehouse-not-of-company"),
        ({"batch_number": None}, 422, "batch-required"),
        ({"expiry_date": "2026-10-01"}, 422, "invalid-batch-dates"),
        ({"manufacture_date": "2024-01-01", "expiry_date": "2026-11-20"}, 422, "batch-expired"),
        ({"expiry_date": "2026-12-19"}, 422, "short-remaining-shelf-life"),  # 29 days left, 30 needed
    ],
)
def test_refused_receipts_come_back_as_problems_naming_the_rule(
    api: ApiClient, world: World, session_factory: sessionmaker[Session], amox_line: int,
    overrides: dict[str, Any], status: int, slug: str,
) -> None:
    if "warehouse_id" in overrides:
        overrides["warehouse_id"] = world.warehouses[overrides["warehouse_id"]]
    before = postings(session_factory)
    problem(api.as_("clerk_a").post(RECEIPTS, json=receipt_body(amox_line, **overrides)), status, slug)
    assert postings(session_factory) == before


def test_a_receipt_before_the_first_standard_price_is_refused(
    api: ApiClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    # priced from December on: November's receipt has no price in force
    set_standard(session_factory, world, "api_central", "52.00", period="2026-12")
    (line,) = open_order(session_factory, world, [("api_central", "200", "55.50", "A-COOL")])
    before = postings(session_factory)
    body = problem(api.as_("clerk_a").post(RECEIPTS, json=receipt_body(line)), 422, "no-standard-price")
    assert "2026-11" in body["detail"]
    assert postings(session_factory) == before


def test_receipt_on_an_order_not_open_is_refused(
    api: ApiClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    set_standard(session_factory, world, "exc_local", "8.00")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "8.00", "A-AMB")],
                         status=PurchaseOrderStatus.DRAFT)
    problem(api.as_("clerk_a").post(RECEIPTS, json=receipt_body(line, quantity="10")), 409, "order-not-open")


@pytest.mark.parametrize("field", ["unit_price", "price"])
def test_a_client_cannot_send_a_price_the_contract_price_is_stored(
    api: ApiClient, session_factory: sessionmaker[Session], amox_line: int, field: str
) -> None:
    body = problem(api.as_("clerk_a").post(RECEIPTS, json=receipt_body(amox_line, **{field: "1.00"})),
                   422, "validation-error")
    assert [e["pointer"] for e in body["errors"]] == [f"/{field}"]
    assert postings(session_factory) == (0, 0)
    document = api.as_("clerk_a").post(RECEIPTS, json=receipt_body(amox_line)).get_json()
    assert document["unit_price"] == "55.500000"


# --- Idempotency-Key ---------------------------------------------------------------------------

def test_the_same_post_twice_with_one_key_posts_once_and_replays_the_response(
    api: ApiClient, session_factory: sessionmaker[Session], amox_line: int
) -> None:
    key = {"Idempotency-Key": "clerk-a-receipt-1"}
    first = api.as_("clerk_a").post(RECEIPTS, json=receipt_body(amox_line), headers=key)
    second = api.as_("clerk_a").post(RECEIPTS, json=receipt_body(amox_line), headers=key)
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.get_json() == first.get_json()
    assert "Idempotent-Replayed" not in first.headers
    assert second.headers["Idempotent-Replayed"] == "true"
    assert postings(session_factory) == (1, 1)
    assert received(session_factory, amox_line) == 120


def test_one_key_for_a_different_request_is_refused(
    api: ApiClient, session_factory: sessionmaker[Session], amox_line: int
) -> None:
    key = {"Idempotency-Key": "clerk-a-receipt-1"}
    api.as_("clerk_a").post(RECEIPTS, json=receipt_body(amox_line), headers=key)
    problem(api.as_("clerk_a").post(RECEIPTS, json=receipt_body(amox_line, quantity="10"), headers=key),
            422, "idempotency-key-reused")
    assert received(session_factory, amox_line) == 120


def test_idempotency_keys_belong_to_their_user(
    api: ApiClient, world: World, session_factory: sessionmaker[Session], amox_line: int
) -> None:
    set_standard(session_factory, world, "api_central", "52.00", company="B")
    (line_b,) = open_order(session_factory, world, [("api_central", "200", "55.50", "B-COOL")], company="B")
    key = {"Idempotency-Key": "receipt-1"}
    mine = api.as_("clerk_a").post(RECEIPTS, json=receipt_body(amox_line), headers=key)
    theirs = api.as_("clerk_b").post(RECEIPTS, json=receipt_body(line_b), headers=key)
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert "Idempotent-Replayed" not in theirs.headers
    assert theirs.get_json()["id"] != mine.get_json()["id"]
    assert received(session_factory, line_b) == 120


# --- malformed requests: 4xx, never 500 --------------------------------------------------------

@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ('{"po_line_id": 1, "quantity": ', 400),  # not JSON
        ("[1, 2, 3]", 422),
        ('{"po_line_id": 1, "quantity": 1e400, "posting_date": "2026-11-20"}', 422),
        ('{"po_line_id": 1, "quantity": "1e30", "posting_date": "2026-11-20"}', 422),
        ('{"po_line_id": 1, "quantity": "NaN", "posting_date": "2026-11-20"}', 422),
        ('{"po_line_id": 1, "quantity": "12.00001", "posting_date": "2026-11-20"}', 422),
        ('{"po_line_id": 99999999999999999999, "quantity": "1", "posting_date": "2026-11-20"}', 422),
        ('{"po_line_id": 1, "quantity": "1", "posting_date": "2026-13-45"}', 422),
        ('{"po_line_id": 1, "quantity": "1", "posting_date": "yesterday"}', 422),
        ('{"po_line_id": "1", "quantity": true, "posting_date": "2026-11-20"}', 422),
    ],
)
def test_malformed_receipts_are_client_errors(
    api: ApiClient, session_factory: sessionmaker[Session], amox_line: int, raw: str, status: int
) -> None:
    response = api.as_("clerk_a").post(RECEIPTS, data=raw.replace('"po_line_id": 1,', f'"po_line_id": {amox_line},'),
                                       content_type="application/json")
    problem(response, status)
    assert postings(session_factory) == (0, 0)


def test_unknown_order_line_is_404(api: ApiClient) -> None:
    problem(api.as_("clerk_a").post(RECEIPTS, json=receipt_body(2**31 - 1)), 404, "not-found")


# --- scoping ---------------------------------------------------------------------------------

def test_another_companys_clerk_sees_nothing_of_company_a(
    api: ApiClient, world: World, session_factory: sessionmaker[Session], amox_line: int
) -> None:
    document = receive(session_factory, world, amox_line, "120")
    clerk_b = api.as_("clerk_b")
    problem(clerk_b.get(f"/api/v1/inventory/documents/{document}"), 404, "not-found")
    for path in ("stock", "movements", "receivable-lines", "lines-open-for-receipt"):
        assert clerk_b.get(f"/api/v1/inventory/{path}").get_json() == [], path
        assert len(api.as_("clerk_a").get(f"/api/v1/inventory/{path}").get_json()) == 1, path
    batch = batch_id(session_factory, world, "api_central", "B-001")
    problem(clerk_b.get(f"/api/v1/inventory/batches/{batch}/flow"), 404, "not-found")
    problem(clerk_b.post(f"/api/v1/inventory/receipts/{document}/reversal",
                         json={"posting_date": "2026-11-21", "reason": "not mine"}), 404, "not-found")


# --- stock and movement queries ----------------------------------------------------------------

@pytest.fixture
def starch_history(session_factory: sessionmaker[Session], world: World) -> None:
    """Excipient at 8.125/kg: 100 kg of B-001 received 10 Nov and 40 kg of B-002 on 20 Nov
    into the ambient store; 30 kg of B-001 moved to the cool store on 21 Nov; 20 kg issued
    (FEFO; equal expiry, so the older batch B-001) on 25 Nov. Packaging: 10 EA at 2.50 on 12 Nov."""
    set_standard(session_factory, world, "exc_local", "8.125")
    set_standard(session_factory, world, "pkg_loose", "2.50")
    (starch, boxes) = open_order(session_factory, world, [("exc_local", "1000", "8.125", "A-AMB"),
                                                          ("pkg_loose", "10", "2.50", "A-AMB")])
    receive(session_factory, world, starch, "100", on=dt.date(2026, 11, 10))
    receive(session_factory, world, boxes, "10", batch=None, made=None, expires=None, on=dt.date(2026, 11, 12))
    receive(session_factory, world, starch, "40", batch="B-002", on=dt.date(2026, 11, 20))
    transfer(session_factory, world, "exc_local", "30", "A-AMB", "A-COOL",
             batch=batch_id(session_factory, world, "exc_local", "B-001"), on=dt.date(2026, 11, 21))
    issue(session_factory, world, "exc_local", "20", on=dt.date(2026, 11, 25))


def stock(api: ApiClient, **params: Any) -> list[tuple[Any, ...]]:
    rows = api.as_("cost_a").get("/api/v1/inventory/stock", query_string=params).get_json()
    return [tuple(row[k] for k in ("material_code", "warehouse_code", "quantity", "value") if k in row)
            for row in rows]


def test_stock_grouped_by_material_now_and_as_of_a_past_date(
    api: ApiClient, starch_history: None
) -> None:
    # now: 100 + 40 - 20 = 120 kg, 812.50 + 325.00 - 162.50 = 975.00; 10 EA x 2.50 = 25.00
    assert stock(api, group_by="material") == [("EXC-STAR", "120.0000", "975.00"), ("PKG-SHIP", "10.0000", "25.00")]
    # end of 20 Nov: 140 kg (1,137.50) and the boxes
    assert stock(api, group_by="material", as_of="2026-11-20") == [
        ("EXC-STAR", "140.0000", "1137.50"), ("PKG-SHIP", "10.0000", "25.00"),
    ]
    # end of 11 Nov: only the first 100 kg (812.50)
    assert stock(api, group_by="material", as_of="2026-11-11") == [("EXC-STAR", "100.0000", "812.50")]


def test_stock_grouped_by_warehouse_and_material(api: ApiClient, world: World, starch_history: None) -> None:
    # ambient: 100 - 30 + 40 - 20 = 90 kg (731.25); cool: 30 kg (243.75)
    assert stock(api, group_by=["material", "warehouse"], material_id=world.materials["exc_local"]) == [
        ("EXC-STAR", "CA-AMB", "90.0000", "731.25"), ("EXC-STAR", "CA-COOL", "30.0000", "243.75"),
    ]


def test_movement_history_filters(api: ApiClient, world: World, starch_history: None) -> None:
    def movements(**params: Any) -> list[tuple[str, str, str, str]]:
        rows = api.as_("clerk_a").get("/api/v1/inventory/movements", query_string=params).get_json()
        return [(r["posting_date"], r["movement_type"], r["warehouse_code"], r["quantity"]) for r in rows]

    assert movements(movement_type="issue") == [("2026-11-25", "issue", "CA-AMB", "-20.0000")]
    assert movements(warehouse_id=world.warehouses["A-COOL"]) == [("2026-11-21", "transfer", "CA-COOL", "30.0000")]
    assert movements(material_id=world.materials["exc_local"], date_from="2026-11-11", date_to="2026-11-21") == [
        ("2026-11-20", "receipt", "CA-AMB", "40.0000"),
        ("2026-11-21", "transfer", "CA-AMB", "-30.0000"),
        ("2026-11-21", "transfer", "CA-COOL", "30.0000"),
    ]


def test_receivable_lines_show_what_is_still_due(
    api: ApiClient, world: World, session_factory: sessionmaker[Session], amox_line: int
) -> None:
    receive(session_factory, world, amox_line, "120")
    (line,) = api.as_("clerk_a").get("/api/v1/inventory/receivable-lines").get_json()
    assert (line["po_line_id"], line["material_code"], line["warehouse_code"]) == (amox_line, "API-AMOX", "CA-COOL")
    # 200 ordered - 120 received
    assert (line["quantity"], line["received_quantity"], line["open_quantity"]) == ("200.0000", "120.0000", "80.0000")
    # the same lines by the name that says what they are: open for receipt
    assert api.as_("clerk_a").get("/api/v1/inventory/lines-open-for-receipt").get_json() == [line]
    receive(session_factory, world, amox_line, "80", batch="B-002")
    assert api.as_("clerk_a").get("/api/v1/inventory/receivable-lines").get_json() == []
    assert api.as_("clerk_a").get("/api/v1/inventory/lines-open-for-receipt").get_json() == []


def test_batch_flow_through_the_api(
    api: ApiClient, world: World, session_factory: sessionmaker[Session], amox_line: int
) -> None:
    receive(session_factory, world, amox_line, "120")
    batch = batch_id(session_factory, world, "api_central", "B-001")
    flow = api.as_("quality_a").get(f"/api/v1/inventory/batches/{batch}/flow").get_json()
    assert flow["batch"]["supplier_code"] == "S0001"
    assert [(r["order_number"], r["quantity"]) for r in flow["receipts"]] == [("PO-A-0001", "120.0000")]
    assert flow["totals"] == {"receipt": "120.0000"}


# --- standard prices ---------------------------------------------------------------------------

def price_body(world: World, price: str, *, company: str = "A", period: str = "2026-11") -> dict[str, Any]:
    return {"company_id": world.companies[company], "period": period,
            "prices": [{"material_id": world.materials["exc_local"], "price": price}]}


def test_cost_accountant_sets_and_reads_standard_prices(api: ApiClient, world: World) -> None:
    put = api.as_("cost_a").put(STANDARD_PRICES, json=price_body(world, "8.125"))
    assert put.status_code == 200, put.get_json()
    assert [(p["material_id"], p["price"]) for p in put.get_json()] == [(world.materials["exc_local"], "8.125000")]
    got = api.as_("cost_a").get(STANDARD_PRICES, query_string={"company_id": world.companies["A"],
                                                               "period": "2026-11"}).get_json()
    assert [(p["period"], p["price"], p["carried_forward"]) for p in got] == [("2026-11", "8.125000", False)]
    # the price stays in force for later periods until one is set for them
    later = api.as_("cost_a").get(STANDARD_PRICES, query_string={"company_id": world.companies["A"],
                                                                 "period": "2027-02"}).get_json()
    assert [(p["period"], p["price"], p["effective_from"], p["carried_forward"]) for p in later] == [
        ("2027-02", "8.125000", "2026-11", True)]


def test_clerks_and_other_companies_cost_accountants_cannot_set_prices(api: ApiClient, world: World) -> None:
    refused = problem(api.as_("clerk_a").put(STANDARD_PRICES, json=price_body(world, "8.00")), 403, "role-not-allowed")
    assert "standard price" in refused["detail"], refused["detail"]
    refused = problem(api.as_("cost_a").put(STANDARD_PRICES, json=price_body(world, "8.00", company="B")), 403,
                      "company-out-of-scope")
    assert "CB" in refused["detail"] or str(world.companies["B"]) in refused["detail"], refused["detail"]
    for company in ("A", "B"):  # nothing written
        prices = api.as_("cost_group").get(STANDARD_PRICES, query_string={"company_id": world.companies[company],
                                                                           "period": "2026-11"}).get_json()
        assert all(p["price"] != "8.000000" for p in prices), prices
    problem(api.as_("cost_a").get(STANDARD_PRICES, query_string={"company_id": world.companies["B"],
                                                                 "period": "2026-11"}), 403)


def test_a_price_already_used_in_its_period_cannot_change(
    api: ApiClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    cost_a = api.as_("cost_a")
    assert cost_a.put(STANDARD_PRICES, json=price_body(world, "8.00")).status_code == 200
    (line,) = open_order(session_factory, world, [("exc_local", "100", "8.00", "A-AMB")])
    receive(session_factory, world, line, "10")
    body = problem(cost_a.put(STANDARD_PRICES, json=price_body(world, "8.10")), 409, "standard-price-in-use")
    assert "2026-12" in body["detail"]
    # the same price again changes nothing and is accepted; next month's price is free
    assert cost_a.put(STANDARD_PRICES, json=price_body(world, "8.00")).status_code == 200
    assert cost_a.put(STANDARD_PRICES, json=price_body(world, "8.10", period="2026-12")).status_code == 200


def test_a_receipt_over_http_is_one_transaction_with_its_token_check(
    api: ApiClient, world: World, amox_line: int, engine: Any
) -> None:
    # Issue #18's profile: the token check ran in a transaction of its own (a second BEGIN and
    # COMMIT per request). It is now read in the transaction the receipt commits.
    from sqlalchemy import event

    commits: list[int] = []
    statements: list[str] = []

    def on_commit(_conn: Any) -> None:
        commits.append(1)

    def on_statement(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "commit", on_commit)
    event.listen(engine, "before_cursor_execute", on_statement)
    try:
        response = api.as_("clerk_a").post(RECEIPTS, json=receipt_body(amox_line))
    finally:
        event.remove(engine, "commit", on_commit)
        event.remove(engine, "before_cursor_execute", on_statement)
    assert response.status_code == 201, response.get_json()
    assert len(commits) == 1
    reads = [statement for statement in statements if not statement.startswith("BEGIN")]  # SQLite's own
    assert "api_tokens" in reads[0]  # the token is read first, inside that transaction
    # A refused token reads nothing else and commits nothing.
    commits.clear()
    event.listen(engine, "commit", on_commit)
    try:
        refused = api.client.post(RECEIPTS, json=receipt_body(amox_line), headers={"Authorization": "Bearer nope"})
    finally:
        event.remove(engine, "commit", on_commit)
    assert refused.status_code == 401
    assert commits == []
