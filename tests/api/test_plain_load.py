"""erp.web.plain_load: the API's request bodies loaded without marshmallow's per-schema layers,
to the same values as marshmallow's load, and every refusal left to marshmallow itself (every
API test also compares each load: tests/conftest.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import marshmallow as ma
import pytest
from marshmallow import fields

from erp.inventory.schemas import ReceiptIn
from erp.schemas import Day, Id, Quantity, Schema
from erp import web
from erp.web import plain_load


class LineIn(Schema):
    code = fields.String(required=True)
    quantity = Quantity(required=True)
    note = fields.String(load_default=None)


class OrderIn(Schema):
    supplier_id = Id(required=True, data_key="supplier")
    delivery_date = Day(load_default=None, attribute="deliver_on")
    lines = fields.List(fields.Nested(LineIn), required=True)
    tags = fields.List(fields.String(), load_default=list)


def _refusal(load: Any, data: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ma.ValidationError) as refused:
        load(data, **kwargs)
    return refused.value.messages  # type: ignore[return-value]


def test_a_body_loads_to_what_marshmallow_loads() -> None:
    schema = OrderIn()
    load = plain_load(schema)
    assert load is not None
    bodies = [
        {"supplier": 7, "delivery_date": "2026-11-20", "lines": [{"code": "M-1", "quantity": "10"}]},
        {"supplier": 8, "lines": [], "tags": ["a"]},  # defaults filled in, a callable one called
    ]
    for body in bodies:
        loaded = load(body)
        assert loaded == ma.Schema.load(schema, body)
        assert list(loaded) == list(ma.Schema.load(schema, body))
    first = load(bodies[0])
    assert first == {"supplier_id": 7, "deliver_on": dt.date(2026, 11, 20),
                     "lines": [{"code": "M-1", "quantity": Decimal("10"), "note": None}], "tags": []}
    assert load(bodies[1]) == {"supplier_id": 8, "deliver_on": None, "lines": [], "tags": ["a"]}


def test_every_refusal_is_marshmallows_own() -> None:
    schema = OrderIn()
    load = plain_load(schema)
    assert load is not None
    refused = [
        {"lines": []},  # a required field missing
        {"supplier": "x", "lines": [{"code": "M-1"}]},  # two fields refused at once, one nested
        {"supplier": 7, "lines": [], "colour": "red"},  # an unknown key
        ["not", "an", "object"],
        {"supplier": None, "lines": []},
    ]
    for body in refused:
        assert _refusal(load, body) == _refusal(lambda data, **kw: ma.Schema.load(schema, data, **kw), body)
    # What the caller asks for is honoured as marshmallow honours it.
    assert load({"supplier": 7, "lines": [], "colour": "red"}, unknown=ma.EXCLUDE) == {
        "supplier_id": 7, "deliver_on": None, "lines": [], "tags": []}
    assert load({"supplier": 7, "lines": [], "colour": "red"}, unknown=ma.INCLUDE)["colour"] == "red"
    assert load({"lines": []}, partial=True) == ma.Schema.load(schema, {"lines": []}, partial=True)
    assert load([{"supplier": 1, "lines": []}], many=True) == [
        {"supplier_id": 1, "deliver_on": None, "lines": [], "tags": []}]


def test_a_clean_body_is_not_loaded_through_marshmallows_schema_layers(monkeypatch: pytest.MonkeyPatch) -> None:
    schema = ReceiptIn()
    load = plain_load(schema)
    assert load is not None

    def layered(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("loaded through Schema._do_load")

    monkeypatch.setattr(ma.Schema, "_do_load", layered)
    monkeypatch.setattr(web, "plain_load_observers", [])  # the suite's check loads through marshmallow
    assert load({"po_line_id": 3, "quantity": "10", "posting_date": "2026-11-20"}) == {
        "po_line_id": 3, "quantity": Decimal("10"), "posting_date": dt.date(2026, 11, 20), "batch_number": None,
        "manufacture_date": None, "expiry_date": None, "warehouse_id": None, "delivery_note": None}


def test_a_schema_with_what_plain_load_does_not_reproduce_is_left_to_marshmallow() -> None:
    class WithHook(Schema):
        code = fields.String()

        @ma.post_load
        def _upper(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
            return {"code": data["code"].upper()}

    class Validated(Schema):
        code = fields.String()

        @ma.validates_schema
        def _check(self, data: dict[str, Any], **kwargs: Any) -> None:
            pass

    class Dotted(Schema):
        code = fields.String(attribute="head.code")

    for schema in (WithHook(), Validated(), Dotted(), OrderIn(partial=True), OrderIn(many=True)):
        assert plain_load(schema) is None


def test_the_receipt_route_loads_through_plain_load() -> None:
    from erp.inventory.api import blp

    receipt_bodies = [parameter["schema"] for parameter in
                      blp._docs["post_receipt"]["post"]["arguments"]["parameters"] if parameter["in"] == "json"]
    assert len(receipt_bodies) == 1 and isinstance(receipt_bodies[0], ReceiptIn)
    assert "load" in vars(receipt_bodies[0])  # the instance's own: plain_load's


def test_the_synchronous_view_memo_keeps_no_per_request_objects(app: Any, api: Any) -> None:
    """erp.web.ErpFlask.ensure_sync remembers the hooks and view functions it found
    synchronous; a class-based view's methods are bound to a view object made per request,
    so remembering them added two dead entries per request until the memo was full. After a
    first request, more requests to a MethodView endpoint leave the memo as it was."""
    assert api.as_("steward").get("/api/v1/materials").status_code == 200
    remembered = len(app._synchronous)
    for _ in range(20):
        assert api.as_("steward").get("/api/v1/materials").status_code == 200
    assert len(app._synchronous) == remembered
