"""Languages: Chinese by default, English by a remembered switch; refusals and values
rendered in the reader's language.

The language is chosen by the ``heyi_lang`` cookie (set by the switch in the top bar),
else Chinese. Message ids are the English texts; both catalogues (``erp/translations``)
must translate every one of them (tests/ui/test_translations.py).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import Enum
from typing import Any

from flask import Flask, request
from flask_babel import Babel, force_locale, format_decimal, get_locale, gettext

from erp.messages import FIELD_MARK_END, FIELD_MARK_START, Amount, FieldName, Message, Named, Term, as_message

LANGUAGES = {"zh": "中文", "en": "English"}
DEFAULT_LANGUAGE = "zh"
LANGUAGE_COOKIE = "heyi_lang"
# A year: the choice is a preference, not a secret.
LANGUAGE_COOKIE_MAX_AGE = 365 * 24 * 3600


def select_language() -> str:
    """The reader's language: the remembered choice, else Chinese."""
    chosen = request.cookies.get(LANGUAGE_COOKIE, "")
    return chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE


def current_language() -> str:
    locale = get_locale()
    return locale.language if locale is not None else DEFAULT_LANGUAGE


def format_quantity_number(value: Decimal) -> str:
    """A quantity with thousands separators and no trailing zeros (120.5, 1,000)."""
    value = Decimal(value)
    places = max(0, -value.normalize().as_tuple().exponent)  # type: ignore[operator]
    pattern = "#,##0" + ("." + "0" * places if places else "")
    return format_decimal(value, format=pattern)


def format_money(value: Decimal) -> str:
    """¥1,234.50: two decimals, thousands separators, the yuan sign (-¥12.00 below zero)."""
    value = Decimal(value)
    text = format_decimal(abs(value), format="#,##0.00")
    return f"-¥{text}" if value < 0 else f"¥{text}"


def format_value(value: Any, *, mark_fields: bool = False) -> str:
    """A message parameter in the reader's language: records by code and name in that
    language, numbers with the locale's separators, dates in ISO form, statuses by their
    translated label. A field's name stays as it is, or is marked for the page to put the
    form's label in its place (``mark_fields``: erp.ui.pages.field_labels)."""
    from erp.ui.labels import label  # labels import the enums of every module

    if isinstance(value, Message):
        return translate_message(value, mark_fields=mark_fields)
    if isinstance(value, FieldName):
        return field_label_mark(value) if mark_fields else str(value)
    if isinstance(value, Term):
        return gettext(value)
    if isinstance(value, Named):
        return value.label(current_language())
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if isinstance(value, Amount):
        return format_money(value)
    if isinstance(value, Decimal):
        return format_quantity_number(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Enum):
        return label(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        return ("、" if current_language() == "zh" else ", ").join(
            format_value(v, mark_fields=mark_fields) for v in value)
    return str(value)


def field_label_mark(name: str) -> str:
    return f"{FIELD_MARK_START}{name}{FIELD_MARK_END}"


def translate_message(message: Message | str, *, mark_fields: bool = False) -> str:
    """A refusal's sentence in the reader's language (``mark_fields``: for a page, see
    ``format_value``)."""
    # A plain string is a message id; a FilledMessage (a field's refusal: erp.schemas) its
    # message. Nothing is read back from English: every field's refusal is a catalogue template.
    message = as_message(message)
    return message.render(gettext, lambda value: format_value(value, mark_fields=mark_fields))


def page_text(message: Message | str) -> str:
    """A message as a page shows it (the ``t`` filter): translated, fields by their labels."""
    return translate_message(message, mark_fields=True)


def render_in(message: Message, language: str) -> str:
    """``message`` in ``language``, whatever the page language of the request: the API's words
    in the language its Accept-Language asks for (erp.web.api_renderer)."""
    with force_locale(language):
        return translate_message(message)


def init_i18n(app: Flask) -> Babel:
    from erp.web import RENDER_MESSAGE

    app.extensions[RENDER_MESSAGE] = render_in
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai")
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")
    return Babel(app, locale_selector=select_language)
