"""A field's refusal by a bound validator (a length, a range, a list of choices, a pattern)
reads in Chinese from the project's own template (erp.schemas: Length, Range, Between,
OneOf, Regexp raise a FilledMessage), never from marshmallow's English read back into one.

Each case is checked with marshmallow's own wording changed (as a release that rewords a
message would): there is nothing to read English back with (erp.schemas.FIELD_MESSAGES gives
marshmallow's own fields our templates too, tests/api/test_field_refusals.py): with
marshmallow's validators, the Chinese reader would get the English sentence.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path
from typing import Any

import marshmallow as ma
import pytest
from flask import Flask
from marshmallow import validate

from erp import messages
from erp import schemas
from erp.auth.schemas import UserSchema
from erp.credit.schemas import OrderQuery, ScoreFactorSchema
from erp.masterdata.schemas import MaterialSchema
from erp.production.schemas import IssuesIn, ProductionOrderQuery
from erp.ui.i18n import LANGUAGE_COOKIE, translate_message

ERP = Path(__file__).resolve().parents[2] / "erp"
VALIDATORS = ("Length", "OneOf", "Range", "Regexp")


@pytest.fixture
def reworded(monkeypatch: pytest.MonkeyPatch) -> None:
    """marshmallow's validators worded differently, and no read-back table."""
    for name in ("message_min", "message_max", "message_all", "message_equal"):
        monkeypatch.setattr(validate.Length, name, f"Length reworded ({name}).", raising=False)
    for name in ("message_min", "message_max", "message_all"):
        monkeypatch.setattr(validate.Range, name, f"Range reworded ({name}).", raising=False)
    monkeypatch.setattr(validate.OneOf, "default_message", "Pick from {choices}.")
    monkeypatch.setattr(validate.Regexp, "default_message", "Pattern reworded.")


def refusal(schema: ma.Schema, data: dict[str, Any], field: str) -> Any:
    (error,) = schema.validate(data)[field]
    return error


def in_language(app: Flask, text: Any, language: str) -> str:
    with app.test_request_context(headers={"Cookie": f"{LANGUAGE_COOKIE}={language}"}):
        return translate_message(text)


MATERIAL = {"code": "M-1", "name_zh": "甲", "name_en": "A", "material_type": "raw", "unit_id": 1,
            "procurement_scope": "local"}

CASES: list[tuple[str, Callable[[], Any], str, str]] = [
    ("Length (a name of 1-200 characters)",
     lambda: refusal(MaterialSchema(), {**MATERIAL, "name_zh": "乙" * 201}, "name_zh"),
     "长度须为 1 至 200 个字符", "must be 1 to 200 characters long"),
    ("Length, at least", lambda: _validated(schemas.Length(min=3), "ab"), "长度须至少 3 个字符",
     "must be at least 3 characters long"),
    ("Length, at most", lambda: _validated(schemas.Length(max=2), "abc"), "长度须不超过 2 个字符",
     "must be at most 2 characters long"),
    ("Length, exactly", lambda: _validated(schemas.Length(equal=18), "abc"), "长度须为 18 个字符",
     "must be 18 characters long"),
    ("Count (the items of an issue, 1-200)", lambda: refusal(IssuesIn(), {"warehouse_id": 1, "posting_date":
                                                                      "2026-11-20", "items": []}, "items"),
     "须有 1 至 200 项", "must have 1 to 200 entries"),
    ("Count, at least", lambda: _validated(schemas.Count(min=2), [1]), "须至少有 2 项", "must have at least 2 entries"),
    ("Count, at most", lambda: _validated(schemas.Count(max=1), [1, 2]), "须至多有 1 项",
     "must have at most 1 entries"),
    ("Count, exactly", lambda: _validated(schemas.Count(equal=3), [1]), "须有 3 项", "must have 3 entries"),
    ("Range (a key in a query)", lambda: refusal(OrderQuery(), {"customer_id": "0"}, "customer_id"),
     "须在 1 与 2147483647 之间", "must be between 1 and 2147483647"),
    ("Range, at least", lambda: _validated(schemas.Range(min=1), 0), "须不小于 1", "must be at least 1"),
    ("Range, above", lambda: _validated(schemas.Range(min=1, min_inclusive=False), 1), "须大于 1",
     "must be above 1"),
    ("Range, at most", lambda: _validated(schemas.Range(max=5), 6), "须不超过 5", "must be at most 5"),
    ("Range, below", lambda: _validated(schemas.Range(max=5, max_inclusive=False), 5), "须小于 5",
     "must be below 5"),
    ("Range, above and at most", lambda: _validated(schemas.Range(1, 5, min_inclusive=False), 1),
     "须大于 1 且不超过 5", "must be above 1 and at most 5"),
    ("Range, at least and below", lambda: _validated(schemas.Range(1, 5, max_inclusive=False), 5),
     "须不小于 1 且小于 5", "must be at least 1 and below 5"),
    ("Range, above and below", lambda: _validated(schemas.Range(1, 5, min_inclusive=False, max_inclusive=False), 5),
     "须大于 1 且小于 5", "must be above 1 and below 5"),
    ("Between (a factor's weight)",
     lambda: refusal(ScoreFactorSchema(), {"factor": "rating", "weight": 101}, "weight"),
     "须在 0 与 100 之间", "must be between 0 and 100"),
    ("OneOf (an order status)", lambda: refusal(ProductionOrderQuery(), {"status": "lost"}, "status"),
     "必须是以下之一：created, released, completed, cancelled",
     "must be one of: created, released, completed, cancelled"),
    ("Regexp, its own message (a code)", lambda: refusal(MaterialSchema(), {**MATERIAL, "code": "m 1"}, "code"),
     "须为 1-32 个字符：A-Z、0-9、“.”、“_”或“-”，以字母或数字开头",
     "must be 1-32 characters: A-Z, 0-9, '.', '_' or '-', starting with a letter or digit"),
    ("Regexp, the default (a user name)",
     lambda: refusal(UserSchema(), {"username": "-x", "display_name": "X", "role": "clerk", "password": "p" * 12},
                     "username"),
     "格式不符合要求", "not in the expected form"),
]


def _validated(validator: Any, value: Any) -> Any:
    with pytest.raises(ma.ValidationError) as info:
        validator(value)
    (error,) = info.value.messages
    return error


@pytest.mark.parametrize("produce, zh, en", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_a_bound_validators_refusal_reads_in_chinese_whatever_marshmallow_words_it(
        app: Flask, reworded: None, produce: Callable[[], Any], zh: str, en: str) -> None:
    error = produce()
    assert isinstance(error, messages.FilledMessage), repr(error)
    assert (in_language(app, error, "zh"), in_language(app, error, "en")) == (zh, en)


def test_no_module_uses_marshmallows_own_bound_validators() -> None:
    """Each module words its fields' bounds through erp.schemas' validators, so a new field
    cannot bring marshmallow's English back (the cases above hold for it)."""
    found = []
    for path in sorted(ERP.rglob("*.py")):
        if path == ERP / "schemas.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in VALIDATORS and (
                    (isinstance(node.value, ast.Name) and node.value.id == "validate")
                    or (isinstance(node.value, ast.Attribute) and node.value.attr == "validate")):
                found.append(f"{path.relative_to(ERP.parent)}:{node.lineno} validate.{node.attr}")
            if isinstance(node, ast.ImportFrom) and node.module == "marshmallow.validate":
                found += [f"{path.relative_to(ERP.parent)}:{node.lineno} {a.name}" for a in node.names
                          if a.name in VALIDATORS]
    assert found == []


def _is_fields_call(node: ast.AST, names: tuple[str, ...]) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in names and (
        (isinstance(node.func.value, ast.Name) and node.func.value.id == "fields")
        or (isinstance(node.func.value, ast.Attribute) and node.func.value.attr == "fields"))


def test_a_list_counts_its_entries_and_a_text_its_characters() -> None:
    """``Count`` bounds how many entries a list field takes ("须有 1 至 200 项"), ``Length``
    how many characters a text takes: a list bounded by ``Length`` would be told it has too
    many characters, a text bounded by ``Count`` too many entries."""
    found = []
    for path in sorted(ERP.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            for keyword in node.keywords:
                bound = keyword.value
                if keyword.arg != "validate" or not isinstance(bound, ast.Call) or not isinstance(bound.func, ast.Name):
                    continue
                where = f"{path.relative_to(ERP.parent)}:{node.lineno}"
                if _is_fields_call(node, ("List",)) and bound.func.id != "Count":
                    found.append(f"{where} a list bounded by {bound.func.id}")
                if not _is_fields_call(node, ("List",)) and bound.func.id == "Count":
                    found.append(f"{where} Count on a {node.func.attr}")
    assert found == []
