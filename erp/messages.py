"""Refusal messages that can be shown in any language.

A refusal is raised with a ``Message``: an English template with named ``{parameters}``
(the gettext message id) and the values that fill it. The API renders it in English; a
page renders the template's translation with the values formatted for the reader's
language (erp.ui.i18n). Records are named by code and name (``Named``), never by their
database id, so both a person and an API client can tell which one is meant.

Pure code: no Flask, no database. ``N_`` only marks a string for extraction into the
message catalogues (``make translations``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from typing import Any


def N_(template: str) -> str:
    """Mark ``template`` as a message id (extracted into the catalogues); returns it unchanged."""
    return template


class Term(str):
    """A word in a message that is itself a message id (a kind of record, a field's name):
    pages translate it, the API shows it as it is."""


# A field's name in a message a page renders, marked so that the page can put the label its
# form gives the field in its place once the whole page is rendered (erp.ui.pages.field_labels):
# the refusal at the top of a form is rendered before the fields that carry the labels.
# Private-use characters: nothing a user types or a template writes, and HTML escaping keeps them.
FIELD_MARK_START, FIELD_MARK_END = "\ue000", "\ue001"


class FieldName(str):
    """The name of a request field in a message (``unit_price``): the API shows it as it is,
    since a client sends it by that name; a page shows the label its form gives the field
    (erp.ui.pages), since a reader knows the field by its label (单价), not by its name."""


@dataclass(frozen=True)
class Named:
    """A master record as people know it: its code and its name in Chinese and English."""

    code: str
    name_zh: str
    name_en: str

    @classmethod
    def of(cls, record: Any) -> Named:
        """From any record with ``code``, ``name_zh`` and ``name_en``."""
        return cls(record.code, getattr(record, "name_zh", "") or "", getattr(record, "name_en", "") or "")

    def label(self, language: str = "en") -> str:
        name = self.name_zh if language.startswith("zh") else self.name_en
        return f"{self.code} {name}" if name else self.code

    def __str__(self) -> str:
        return self.label("en")


def plain_value(value: Any) -> str:
    """A parameter as the English (API) message shows it: quantities without trailing zeros,
    dates in ISO form, enums by their value, records by code and English name."""
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, (list, tuple, set, frozenset)):
        return ", ".join(plain_value(v) for v in value)
    return str(value)


@dataclass(frozen=True)
class Message:
    """A translatable sentence: an English ``template`` with ``{name}`` placeholders and the
    ``params`` that fill them."""

    template: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __init__(self, template: str, /, **params: Any) -> None:
        object.__setattr__(self, "template", template)
        object.__setattr__(self, "params", params)

    def render(self, translate: Callable[[str], str] = lambda s: s,
               format_value: Callable[[Any], str] = plain_value) -> str:
        """The sentence in the language ``translate`` gives, values formatted by ``format_value``."""
        if not self.params:
            return translate(self.template)
        values = {name: format_value(value) for name, value in self.params.items()}
        try:
            return translate(self.template).format_map(values)
        except (KeyError, IndexError, ValueError):
            # A translation with a broken placeholder must not hide the refusal.
            return self.template.format_map(values)

    def __str__(self) -> str:
        return self.render()


class FilledMessage(str):
    """A ``Message`` filled in in English, for a library that keeps only strings (marshmallow's
    field errors), which still carries the message: ``as_message`` gives it back, so that
    whoever shows the string to a reader can show it in the reader's language instead."""

    message: Message

    def __new__(cls, message: Message) -> FilledMessage:
        filled = super().__new__(cls, message.render())
        filled.message = message
        return filled


def as_message(text: str | Message) -> Message:
    """A ``Message`` for ``text`` (a plain string becomes a template without parameters; a
    ``FilledMessage`` gives back the message it was filled from)."""
    if isinstance(text, Message):
        return text
    if isinstance(text, FilledMessage):
        return text.message
    message = Message.__new__(Message)
    object.__setattr__(message, "template", text)
    object.__setattr__(message, "params", {})
    return message


def message_data(message: Message) -> dict[str, Any]:
    """A message as JSON (records by code and names, nested messages as messages), so that a
    refusal kept with a job can be shown later in the reader's language (``message_from_data``)."""
    def encode(value: Any) -> Any:
        if isinstance(value, Named):
            return {"$named": [value.code, value.name_zh, value.name_en]}
        if isinstance(value, Message):
            return message_data(value)
        if isinstance(value, Term):
            return {"$term": str(value)}
        if isinstance(value, FieldName):
            return {"$field": str(value)}
        if isinstance(value, (list, tuple, set, frozenset)):
            return [encode(v) for v in value]
        if value is None or isinstance(value, (str, int, bool)):
            return value
        return plain_value(value)

    return {"$message": message.template, "params": {name: encode(v) for name, v in message.params.items()}}


def message_from_data(data: Mapping[str, Any]) -> Message:
    """The message ``message_data`` kept (numbers and dates come back as their text)."""
    def decode(value: Any) -> Any:
        if isinstance(value, dict) and "$named" in value:
            return Named(*value["$named"])
        if isinstance(value, dict) and "$message" in value:
            return message_from_data(value)
        if isinstance(value, dict) and "$term" in value:
            return Term(value["$term"])
        if isinstance(value, dict) and "$field" in value:
            return FieldName(value["$field"])
        if isinstance(value, list):
            return [decode(v) for v in value]
        return value

    return Message(data["$message"], **{name: decode(v) for name, v in (data.get("params") or {}).items()})


# A field's refusal worded as a plain string (English, values filled in), read back into a
# template and its values so that the reason is in the reader's language: the first pattern
# that matches the whole text gives the template. The bound validators (erp.schemas: Range,
# Length, OneOf, Regexp) and the decimal fields raise ``FilledMessage``s, which carry their
# template and need no reading back; what is left here is the decimal fields' plain wording and the
# type errors of marshmallow's fields (and an Enum field's choices), which it words itself.
FIELD_MESSAGES: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(pattern), template) for pattern, template in (
    (r"must be a decimal number written with the digits 0-9 \(such as \"1234\.50\"\)",
     N_("must be a decimal number written with the digits 0-9 (such as \"1234.50\")")),
    (r"Must be one of: (?P<choices>.*)\.", N_("must be one of: {choices}")),
    # Go-live's row errors word a period that way (an API answer and a page say "must be YYYY-MM").
    (r"must be YYYY-MM", N_("must be a period written YYYY-MM")),
    (r"Not a valid number\.", N_("not a valid number")),
    (r"Not a valid integer\.", N_("not a whole number")),
    (r"Not a valid date\.", N_("not a valid date (YYYY-MM-DD)")),
    (r"Not a valid boolean\.", N_("not yes or no")),
    (r"Not a valid string\.", N_("not text")),
    (r"contains the (?:control character|invisible formatting character|separator) (?P<character>.*)",
     N_("contains a character that cannot be stored: {character}")),
    (r"text contains a NUL character", N_("contains a character that cannot be stored: {character}")),
))


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
