"""erp.web.plain_dump: the API's response bodies without marshmallow's per-field layers, the
same as marshmallow's dump (every API test also compares each response: tests/conftest.py)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import marshmallow as ma
from marshmallow import fields

from erp.schemas import Money, Quantity
from erp.web import plain_dump


class LineOut(ma.Schema):
    code = fields.String()
    amount = Money()
    note = fields.String(allow_none=True, dump_default="none given")


class DocumentOut(ma.Schema):
    id = fields.Integer(attribute="head.id")
    day = fields.Date(attribute="head.day", data_key="posting_date")
    quantity = Quantity(positive=False)
    lines = fields.List(fields.Nested(LineOut))
    first = fields.Nested(LineOut, allow_none=True)
    tags = fields.List(fields.String())
    label = fields.Function(lambda document: f"DOC-{document.head['id']}")
    secret = fields.String(load_only=True)


@dataclass
class Document:
    head: dict[str, Any]
    quantity: Decimal | None
    lines: list[Any]
    first: Any
    tags: list[str] | None
    secret: str = "never dumped"


def test_a_document_dumps_as_marshmallow_dumps_it() -> None:
    schema = DocumentOut()
    dump = plain_dump(schema)
    assert dump is not None
    documents = [
        Document({"id": 7, "day": dt.date(2026, 11, 20)}, Decimal("10"),
                 [{"code": "1403", "amount": Decimal("849.4")}, {"code": "2202.01", "amount": Decimal("-874.20"),
                                                                 "note": None}],
                 {"code": "1404", "amount": Decimal("24.8"), "note": "variance"}, ["a", "b"]),
        Document({"id": 8}, None, [], None, None),  # a missing day is left out, None stays None
    ]
    for document in documents:
        assert dump(document) == schema.dump(document)
    assert dump(documents, many=True) == schema.dump(documents, many=True)
    assert dump(documents[0])["posting_date"] == "2026-11-20" and dump(documents[0])["quantity"] == "10.0000"
    assert dump(documents[0])["lines"][0] == {"code": "1403", "amount": "849.40", "note": "none given"}


def test_a_schema_with_what_plain_dump_does_not_reproduce_is_left_to_marshmallow() -> None:
    class WithHook(ma.Schema):
        code = fields.String()

        @ma.post_dump
        def _upper(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
            return {"code": data["code"].upper()}

    class Plucked(ma.Schema):
        line = fields.Pluck(LineOut, "code")

    class ByName(ma.Schema):
        line = fields.Nested("LineOut")

    for schema in (WithHook(), Plucked(), ByName()):
        assert plain_dump(schema) is None


def test_plain_values_are_passed_through_as_marshmallow_would_dump_them() -> None:
    class Plain(ma.Schema):
        number = fields.Integer(allow_none=True)
        text = fields.String(allow_none=True)
        price = fields.Integer(as_string=True)

    schema = Plain()
    dump = plain_dump(schema)
    assert dump is not None
    for number, text in ((7, "x"), (True, 5), (None, None), (Decimal("3"), b"bytes"), (2**70, "")):
        item = {"number": number, "text": text, "price": 12}
        assert dump(item) == ma.Schema.dump(schema, item)
        assert [type(value) for value in dump(item).values()] == [
            type(value) for value in ma.Schema.dump(schema, item).values()]
    assert dump({"number": True, "text": 5, "price": 12}) == {"number": 1, "text": "5", "price": "12"}
