"""Every request schema of the app refuses in the catalogue's words: each field given a wrong
type, null, nothing where it is required, and a field no schema knows, reads in Chinese for a
Chinese reader (no English word in the reason) and in the project's English for an English
one; a malformed body, a body that is not an object and a bad page number too.

The schemas are found the way the app serves them: every operation's arguments in the
app's blueprints (flask-smorest's ``_docs``), so a new endpoint's schema is held to it
without being listed here. marshmallow's own English is never read back into a template
(erp.schemas.FIELD_MESSAGES gives every field our own): each field's and schema's messages
are checked to be the project's, whether or not a case below reaches them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import marshmallow as ma
import pytest
from flask import Flask
from marshmallow import fields

from erp.messages import FieldTemplate, as_message, plain_value
from erp.schemas import Text
from erp.ui.i18n import render_in
from erp.web import _flatten_messages
from tests.world import ApiClient, problem

# Format hints a reason shows as they are typed, in either language.
FORMATS = ("YYYY-MM-DDThh:mm:ss+08:00", "YYYY-MM-DD", "YYYY-MM", "0-9")
UNKNOWN = "zz_no_such_field"


def request_schemas(app: Flask) -> Iterator[tuple[str, ma.Schema]]:
    """(operation, schema) for every argument schema of every operation the app serves."""
    seen = False
    for blueprint in app.blueprints.values():
        for endpoint, methods in getattr(blueprint, "_docs", {}).items():
            for method, doc in methods.items():
                if method == "parameters" or not isinstance(doc, dict):
                    continue  # the route's own path parameters
                for parameter in (doc.get("arguments") or {}).get("parameters", []):
                    schema = parameter.get("schema") if isinstance(parameter, dict) else None
                    if isinstance(schema, type) and issubclass(schema, ma.Schema):
                        schema = schema()
                    if isinstance(schema, ma.Schema):
                        seen = True
                        yield f"{method.upper()} {blueprint.name}.{endpoint} ({parameter['in']})", schema
    assert seen, "no request schema found: the way operations are walked no longer matches flask-smorest"


def wrong_value(field: fields.Field) -> Any:
    """A value of the wrong JSON type for ``field``."""
    if isinstance(field, (fields.Number, fields.Boolean)):
        return "一二三"
    return 12345


def cases(schema: ma.Schema) -> Iterator[tuple[str, dict[str, Any]]]:
    loaded = dict(schema.load_fields)
    keys = {name: field.data_key or name for name, field in loaded.items()}
    yield "missing", {}
    yield "null", {keys[name]: None for name in loaded}
    yield "wrong type", {keys[name]: wrong_value(field) for name, field in loaded.items()}
    yield "unknown field", {UNKNOWN: 1}
    lists = {keys[name]: [wrong_value(field.inner)] for name, field in loaded.items() if isinstance(field, fields.List)}
    if lists:
        yield "wrong type in a list", lists
    nested = {keys[name]: [{UNKNOWN: 1}] if field.many else {UNKNOWN: 1}
              for name, field in loaded.items() if isinstance(field, fields.Nested)}
    if nested:
        yield "unknown field in a nested object", nested
    texts = {keys[name]: "甲\u202e乙" for name, field in loaded.items() if isinstance(field, Text)}
    if texts:
        yield "a character text may not hold", texts


def refusals(schema: ma.Schema, data: dict[str, Any]) -> list[dict[str, Any]]:
    try:
        schema.load(data)
    except ma.ValidationError as error:
        return _flatten_messages(error.messages)
    return []


def english_words(text: str, values: list[str]) -> list[str]:
    """Words of English in a Chinese reason: what is left once the values it names (choices,
    codes) and the format hints are taken out; acronyms (JSON, NUL) are not words."""
    for value in sorted({*values, *FORMATS}, key=len, reverse=True):
        text = text.replace(value, "")
    text = re.sub(r"/[^\s：:;]*", "", text)  # a JSON pointer (/lines/0/unit_price) is the field's name
    return [word for word in re.findall(r"[A-Za-z]{2,}", text) if not word.isupper()]


def values_of(message: Any) -> list[str]:
    found: list[str] = []
    for value in as_message(message).params.values():
        found.extend(part.strip() for part in plain_value(value).split(","))
        if hasattr(value, "params"):
            found.extend(values_of(value))
    return found


def test_every_field_of_every_request_schema_refuses_in_the_catalogues_words(app: Flask) -> None:
    checked, leaks = 0, []
    with app.test_request_context():
        for operation, schema in request_schemas(app):
            for case, data in cases(schema):
                for item in refusals(schema, data):
                    detail = item["detail"]
                    chinese, english = render_in(as_message(detail), "zh"), render_in(as_message(detail), "en")
                    checked += 1
                    words = english_words(chinese, values_of(detail))
                    if words or "{" in chinese:
                        leaks.append(f"{operation} {case} {item['pointer']}: {chinese!r} ({words})")
                    if english != as_message(detail).render() or "{" in english or not re.search("[a-z]{3}", english):
                        leaks.append(f"{operation} {case} {item['pointer']} in English: {english!r}")
    assert checked > 1000, checked
    assert not leaks, "\n".join(leaks[:40]) + f"\n... {len(leaks)} in all"


def _fields_within(field: fields.Field) -> Iterator[fields.Field]:
    yield field
    for inner in (getattr(field, "inner", None), getattr(field, "key_field", None),
                  getattr(field, "value_field", None), *(getattr(field, "tuple_fields", None) or ())):
        if isinstance(inner, fields.Field):
            yield from _fields_within(inner)
    if isinstance(field, fields.Nested) and isinstance(field.schema, ma.Schema):
        yield from _schema_fields(field.schema)


def _schema_fields(schema: ma.Schema) -> Iterator[fields.Field]:
    for field in schema.load_fields.values():
        yield from _fields_within(field)


def test_every_message_a_request_schema_can_refuse_with_is_the_projects(app: Flask) -> None:
    """Whether or not a case above reaches it: marshmallow's English is nowhere (a
    ``FieldTemplate`` is a message id of our catalogues, filled in as a template)."""
    foreign = set()
    for operation, schema in request_schemas(app):
        for key, text in schema.error_messages.items():
            if not isinstance(text, FieldTemplate):
                foreign.add(f"{operation}: schema {key}: {text!r}")
        for field in _schema_fields(schema):
            for key, text in field.error_messages.items():
                if not isinstance(text, FieldTemplate):
                    foreign.add(f"{operation}: {type(field).__name__} {key}: {text!r}")
    assert not foreign, "\n".join(sorted(foreign)[:40]) + f"\n... {len(foreign)} in all"


ZH = {"Accept-Language": "zh-CN"}


@pytest.mark.parametrize(("body", "status", "slug"), [
    ('{"code": ', 400, "malformed-request"),
    ('[1, 2]', 422, "validation-error"),
    ('"text"', 422, "validation-error"),
])
def test_a_body_that_is_not_a_json_object_is_refused_in_chinese(api: ApiClient, body: str, status: int,
                                                                 slug: str) -> None:
    refused = problem(api.as_("admin").post("/api/v1/segments", data=body, content_type="application/json",
                                            headers=ZH), status, slug)
    texts = [refused["title"], refused["detail"], *(error["detail"] for error in refused.get("errors", []))]
    assert refused.get("errors"), refused
    assert not [text for text in texts if english_words(text, [])], refused


def test_a_bad_page_and_an_unknown_parameter_are_refused_in_chinese(api: ApiClient) -> None:
    steward = api.as_("steward")
    refused = problem(steward.get("/api/v1/materials", query_string={"page": "x", "page_size": "0"}, headers=ZH), 422)
    assert {error["pointer"]: error["detail"] for error in refused["errors"]} == {
        "/page": "不是整数", "/page_size": "须在 1 与 500 之间"}
    assert "查询参数 /page：不是整数" in refused["detail"] and not english_words(refused["detail"], [])
    unknown = problem(steward.get("/api/v1/materials", query_string={UNKNOWN: "1"}, headers=ZH), 422)
    assert unknown["errors"] == [{"pointer": f"/{UNKNOWN}", "in": "query", "detail": "未知字段"}]
    english = problem(steward.get("/api/v1/materials", query_string={"page": "x"}), 422)
    assert english["errors"] == [{"pointer": "/page", "in": "query", "detail": "not a whole number"}]
    assert english["detail"] == "query /page: not a whole number"
