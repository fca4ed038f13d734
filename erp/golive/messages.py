"""Row errors in the user's language.

A row error is stored as data (in the job): ``{row, column, header, value, code, message,
params}``. ``message`` is the English template of the rule (the gettext message id, as for
every refusal: erp/messages.py) and ``params`` its values, kept as JSON (records by code and
names, words to translate as nested messages). Rendering turns it into ``reason`` in the
reader's language through the same catalogues as the pages (erp/translations).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal
from enum import Enum
from typing import Any

from erp.messages import N_, Message, Named

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"

# code -> the English template (message id); a rule's own message replaces it (code "rule").
MESSAGES: dict[str, str] = {
    "unknown-column": N_('the header "{header}" is not a column of this template'),
    "duplicate-column": N_('the column "{header}" appears twice'),
    "missing-column": N_("the required column {column} is missing"),
    "empty-file": N_("the file has no data rows"),
    "required": N_("a value is required"),
    "not-a-number": N_('"{value}" is not a number'),
    "not-a-whole-number": N_('"{value}" is not a whole number'),
    "not-a-date": N_('"{value}" is not a date (YYYY-MM-DD)'),
    "not-yes-no": N_('"{value}" is not yes or no'),
    "not-one-of": N_("must be one of: {choices}"),
    "invalid-uscc": N_("not a valid unified social credit code ({reason})"),
    "invalid-value": N_("invalid value: {detail}"),
    "duplicate-in-file": N_("{value} already appears in row {first_row}"),
    "duplicate-code": N_("{value} is already used by the {record} {name}"),
    "code-uscc-mismatch": N_("code {value} already belongs to the {record} with unified social credit code {uscc}"),
    "unknown-reference": N_("no {record} with code {value}"),
    "inactive-reference": N_("the {record} {value} is inactive"),
    "not-of-company": N_("the {record} {value} is not of company {company}"),
    "already-set": N_("{what} is already set; change it in the system instead"),
    "different-in-document": N_("differs from row {first_row} of the same document ({expected})"),
    "received-above-ordered": N_("more received ({received}) than ordered ({ordered})"),
    "order-not-open": N_("an order that is {status} is not open: only open orders are taken over; leave it out"),
    "fully-received": N_("order {reference} is fully received: it is not open; leave it out"),
    "already-taken-over": N_("invoice {value} of this company has already been taken over"),
    "rule": N_("{detail}"),
}

# Why python-stdnum finds a unified social credit code invalid (its exceptions' messages).
USCC_REASONS = frozenset({
    N_("The number's checksum or check digit is invalid."), N_("The number has an invalid length."),
    N_("The number has an invalid format."), N_("One of the parts of the number are invalid or unknown."),
})


def uscc_reason(reason: str) -> Message | str:
    """The reason a USCC is invalid, as a message to translate when it is one of stdnum's."""
    return Message(reason) if reason in USCC_REASONS else reason


# Words that fill {record}: translated like the message around them.
RECORDS: dict[str, str] = {
    "unit": N_("unit"), "material": N_("material"), "supplier": N_("supplier"), "customer": N_("customer"),
    "warehouse": N_("warehouse"), "company": N_("company"), "contract": N_("contract"),
}


def encode(value: Any) -> Any:
    """A message parameter as JSON (``decode`` gives it back for rendering)."""
    if isinstance(value, Named):
        return {"$named": [value.code, value.name_zh, value.name_en]}
    if isinstance(value, Message):
        return {"$message": value.template, "params": {k: encode(v) for k, v in value.params.items()}}
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (list, tuple, set, frozenset)):
        return [encode(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def decode(value: Any) -> Any:
    if isinstance(value, dict) and "$named" in value:
        return Named(*value["$named"])
    if isinstance(value, dict) and "$message" in value:
        return Message(value["$message"], **{k: decode(v) for k, v in (value.get("params") or {}).items()})
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


def record_word(record: str) -> dict[str, Any]:
    """``{record}`` as a word to translate."""
    return encode(Message(RECORDS.get(record, record)))


def error_message(error: Mapping[str, Any]) -> Message:
    """The stored error as a translatable message."""
    template = error.get("message") or MESSAGES.get(error.get("code", ""), "{detail}")
    params = {k: decode(v) for k, v in (error.get("params") or {}).items()}
    params.setdefault("value", error.get("value") if error.get("value") is not None else "")
    params.setdefault("detail", error.get("detail", ""))
    return Message(template, **params)


def language(accept: Any = None, cookie: str | None = None, requested: str | None = None) -> str:
    """The reader's language: asked for, else the pages' remembered choice, else the best of
    Accept-Language, else Chinese (the product's default)."""
    for choice in (requested, cookie):
        if choice in LANGUAGES:
            return choice  # type: ignore[return-value]
    if accept is not None:
        best = accept.best_match(["zh", "zh-CN", "en"])
        if best:
            return "zh" if best.startswith("zh") else "en"
    return DEFAULT_LANGUAGE


@contextmanager
def _in_language(lang: str) -> Iterator[None]:
    from flask_babel import force_locale

    with force_locale(lang):
        yield


def render_all(errors: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    """The errors with ``reason`` in ``lang`` (needs an application context for the catalogues)."""
    from erp.ui.i18n import translate_message

    with _in_language(lang):
        return [{**error, "reason": translate_message(error_message(error))} for error in errors]
