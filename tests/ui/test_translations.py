"""Every text a page shows and every refusal message has a translation in both catalogues,
and refusals are raised as translatable messages (a template with named parameters)."""

from __future__ import annotations

import ast
import gc
import importlib
import pkgutil
import sys

import pytest

import erp
from erp.config import PROJECT_ROOT
from erp.errors import DomainError

sys.path.insert(0, str(PROJECT_ROOT / "scripts"))
import i18n  # noqa: E402

ERP = PROJECT_ROOT / "erp"


@pytest.fixture(scope="module")
def used_ids() -> set[str]:
    """Every message id of the code and templates (extracted once: it takes seconds)."""
    return {message.id for message in i18n.extracted() if message.id}


def test_every_extracted_message_is_translated_in_both_catalogues(used_ids: set[str]) -> None:
    gaps = i18n.missing(used_ids)
    assert gaps == {"zh": [], "en": []}, "run `make translations` and translate the new entries"


def test_every_catalogue_entry_is_used_by_the_code(used_ids: set[str]) -> None:
    """An entry no code or template uses is a translation nobody reads, and the next reader
    of the catalogue cannot tell it from a live one (``extract`` keeps them, for another
    branch's ids: ``prune`` drops them before landing)."""
    spare = i18n.unused(used_ids)
    assert spare == {"zh": [], "en": []}, "`python scripts/i18n.py prune` drops the entries no code uses"


def _refusal_classes() -> set[type[DomainError]]:
    for module in pkgutil.walk_packages(erp.__path__, "erp."):
        importlib.import_module(module.name)
    # A class a test defined for itself (test_problem_types' Undeclared) is a subclass until
    # the cyclic collector frees it, which happens at no fixed time: free it now.
    gc.collect()
    found: set[type[DomainError]] = set()
    todo = [DomainError]
    while todo:
        cls = todo.pop()
        found.add(cls)
        todo.extend(cls.__subclasses__())
    return found


def test_every_refusal_title_is_translated_in_both_catalogues() -> None:
    catalogues = {language: i18n.read(language) for language in i18n.LANGUAGES}
    untranslated = []
    for cls in _refusal_classes():
        for language, catalogue in catalogues.items():
            entry = catalogue.get(cls.title)
            if not (entry and entry.string):
                untranslated.append((language, cls.__name__, cls.title))
    assert not untranslated


def _domain_error_names() -> set[str]:
    return {cls.__name__ for cls in _refusal_classes()}


def test_refusals_are_raised_with_translatable_messages() -> None:
    """``raise SomeRefusal(...)`` and ``ValidationFailed.for_field(field, ...)`` take a
    ``Message`` (or a name bound to one), never a plain or formatted string: a sentence built
    with an f-string cannot be translated, and a plain one is never extracted."""
    names = _domain_error_names()
    offenders = []
    for path in sorted(ERP.rglob("*.py")):
        relative = path.relative_to(ERP)
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "for_field"
                    and len(node.args) > 1 and isinstance(node.args[1], (ast.Constant, ast.JoinedStr, ast.BinOp))):
                offenders.append(f"{relative}:{node.lineno}")
            if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)):
                continue
            func = node.exc.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name not in names or not node.exc.args:
                continue
            first = node.exc.args[0]
            if isinstance(first, (ast.Constant, ast.JoinedStr, ast.BinOp)):
                offenders.append(f"{relative}:{node.lineno}")
    assert not offenders, f"raise these with Message(template, **params): {offenders}"


def test_refusals_made_anywhere_carry_translatable_messages() -> None:
    """Not only at ``raise``: a refusal made to be returned or raised later (a credit
    decision's refusal, the edge's answer to a lost connection) and a field's problem
    (``{"pointer": ..., "detail": ...}``) take a ``Message`` too; a plain string is never
    extracted, so a page or an API reader asking for Chinese would get English."""
    names = _domain_error_names()
    offenders = []
    literal = (ast.Constant, ast.JoinedStr, ast.BinOp)
    for path in sorted(ERP.rglob("*.py")):
        relative = path.relative_to(ERP)
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], literal):
                func = node.func
                if (func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")) in names:
                    offenders.append(f"{relative}:{node.lineno}")
            if isinstance(node, ast.Dict):
                keys = {key.value: value for key, value in zip(node.keys, node.values) if isinstance(key, ast.Constant)}
                if "pointer" in keys and isinstance(keys.get("detail"), literal):
                    offenders.append(f"{relative}:{node.lineno}")
    assert not offenders, f"make these with Message(template, **params): {offenders}"
