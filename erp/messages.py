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
import string
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


class Amount(Decimal):
    """An amount of money (CNY) in a message: the reader sees it as money, ``¥1,389.90``
    (erp.ui.i18n.format_value, pages and the API's words alike); plain, ``1389.90``."""


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
    dates in ISO form, enums by their value, records by code and English name; an amount
    with its two decimals."""
    if isinstance(value, Amount):
        return format(value.quantize(Decimal("0.01")), "f")
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


class FieldTemplate(str):
    """A message id that a library fills in with ``str.format`` (marshmallow's
    ``Field.make_error`` does, with whatever values it has: the input, the choices): filled,
    it is a ``FilledMessage`` carrying the template and the values the template names, so a
    field's refusal reaches the reader from the catalogue, never as English to be read back."""

    def format(self, *args: Any, **kwargs: Any) -> str:  # noqa: A003 - str.format, as marshmallow calls it
        names = {name for _, name, _, _ in string.Formatter().parse(self) if name}
        return FilledMessage(Message(str(self), **{name: kwargs[name] for name in names if name in kwargs}))
