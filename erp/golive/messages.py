"""Row errors in the user's language.

A row error is stored as data (in the job): ``{row, column, header, value, code, message,
params}``. ``message`` is the English template of the rule (the gettext message id, as for
every refusal: erp/messages.py) and ``params`` its values, kept as JSON (records by code and
names, words to translate as nested messages). Rendering turns it into ``reason`` in the
reader's language through the same catalogues as the pages (erp/translations).
"""

from __future__ import annotations

import datetime as dt
import re
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
    "already-set": N_("{what} is already set; change it in the system instead"),
    "different-in-document": N_("differs from row {first_row} of the same document ({expected})"),
    "received-above-ordered": N_("more received ({received}) than ordered ({ordered})"),
    "fully-received": N_("order {reference} is fully received: it is not open; leave it out"),
    "already-taken-over": N_("invoice {value} of this company has already been taken over"),
    "rule": N_("{detail}"),
}

# A field's refusal as marshmallow and erp.schemas word it (English, values filled in), read
# back into a template and its values so that the reason is in the reader's language: the
# first pattern that matches the whole text gives the template.
FIELD_MESSAGES: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(pattern), template) for pattern, template in (
    (r"must be 1-32 characters: A-Z, 0-9, '\.', '_' or '-', starting with a letter or digit",
     N_("must be 1-32 characters: A-Z, 0-9, '.', '_' or '-', starting with a letter or digit")),
    (r"Length must be between (?P<min>\d+) and (?P<max>\d+)\.", N_("must be {min} to {max} characters long")),
    (r"Shorter than minimum length (?P<min>\d+)\.", N_("must be at least {min} characters long")),
    (r"Longer than maximum length (?P<max>\d+)\.", N_("must be at most {max} characters long")),
    (r"Length must be (?P<equal>\d+)\.", N_("must be {equal} characters long")),
    (r"at most (?P<places>\d+) decimal places are allowed", N_("at most {places} decimal places are allowed")),
    (r"has more than (?P<digits>\d+) significant digits, more than this database \(SQLite\) stores exactly",
     N_("has more than {digits} significant digits, more than this database (SQLite) stores exactly")),
    (r"must be a decimal number written with the digits 0-9 \(such as \"1234\.50\"\)",
     N_("must be a decimal number written with the digits 0-9 (such as \"1234.50\")")),
    (r"(?:M|m)ust be between (?P<min>\S+) and (?P<max>\S+?)\.?", N_("must be between {min} and {max}")),
    (r"Must be greater than or equal to (?P<min>\S+) and less than or equal to (?P<max>\S+)\.",
     N_("must be between {min} and {max}")),
    (r"Must be greater than (?P<min>\S+) and less than or equal to (?P<max>\S+)\.",
     N_("must be above {min} and at most {max}")),
    (r"Must be greater than or equal to (?P<min>\S+)\.", N_("must be at least {min}")),
    (r"Must be greater than (?P<min>\S+)\.", N_("must be above {min}")),
    (r"Must be less than or equal to (?P<max>\S+)\.", N_("must be at most {max}")),
    (r"Must be less than (?P<max>\S+)\.", N_("must be below {max}")),
    (r"Must be one of: (?P<choices>.*)\.", N_("must be one of: {choices}")),
    (r"must be YYYY-MM", N_("must be a period written YYYY-MM")),
    (r"Not a valid number\.", N_("not a valid number")),
    (r"Not a valid integer\.", N_("not a whole number")),
    (r"Not a valid date\.", N_("not a valid date (YYYY-MM-DD)")),
    (r"Not a valid boolean\.", N_("not yes or no")),
    (r"Not a valid string\.", N_("not text")),
    (r"String does not match expected pattern\.", N_("not in the expected form")),
    (r"contains the (?:control character|invisible formatting character|separator) (?P<character>.*)",
     N_("contains a character that cannot be stored: {character}")),
    (r"text contains a NUL character", N_("contains a character that cannot be stored: {character}")),
))


# Why python-stdnum finds a unified social credit code invalid (its exceptions' messages).
USCC_REASONS = frozenset({
    N_("The number's checksum or check digit is invalid."), N_("The number has an invalid length."),
    N_("The number has an invalid format."), N_("One of the parts of the number are invalid or unknown."),
})


def uscc_reason(reason: str) -> Message | str:
    """The reason a USCC is invalid, as a message to translate when it is one of stdnum's."""
    return Message(reason) if reason in USCC_REASONS else reason


def field_message(text: str) -> tuple[str, dict[str, str]] | None:
    """The template and values of a field's refusal (``FIELD_MESSAGES``), or None for a text
    no pattern reads (then it is shown as it is)."""
    for pattern, template in FIELD_MESSAGES:
        match = pattern.fullmatch(text.strip())
        if match is not None:
            params = match.groupdict()
            if "{character}" in template:
                params.setdefault("character", "NUL")
            return template, params
    return None


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
