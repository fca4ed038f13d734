"""Marshmallow building blocks shared by every module's edge.

Decimals travel as strings in JSON. Input may be a string of ASCII digits ("1234.50") or a
JSON number (numbers are parsed as ``Decimal``, never float, by the argument parser).
Excess precision is refused rather than rounded: rounding happens at posting time only.
Every decimal field's places and largest value come from the column it is stored in
(``erp.db.largest_value``), so what passes validation fits the database; on SQLite a
decimal is also refused beyond the 15 significant digits SQLite stores exactly
(``read_exact_digits_from``), instead of being stored rounded.

Parsing is strict: decimals and ids in ASCII digits only (``Decimal("１")`` and ``int("１")``
would accept full-width digits), dates as ISO 8601 ``YYYY-MM-DD`` only (Python's
``date.fromisoformat`` also takes ``20261129``), codes and names in NFC without invisible
or direction-changing characters (``erp.text``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
import decimal
import re
from decimal import Decimal
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate
from sqlalchemy import Numeric
from stdnum.cn import uscc as stdnum_uscc
from stdnum.exceptions import ValidationError as StdnumValidationError

from erp import text as text_rules
from erp.db import MONEY, QUANTITY, UNIT_PRICE, SQLITE_EXACT_DIGITS, largest_value
from erp.messages import N_, FieldTemplate, FilledMessage, Message
from erp.period import NOT_A_PERIOD

MAX_ID = 2**31 - 1
CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9._-]{0,31}$")
# Years 1990-2199 in ASCII digits (``\d`` would also match full-width digits).
PERIOD_PATTERN = re.compile(r"^(199[0-9]|2[01][0-9][0-9])-(0[1-9]|1[0-2])$")
# A decimal written out in ASCII digits: no exponent, no sign but minus, no spaces.
DECIMAL_TEXT = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")
ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
ISO_DATETIME = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}:[0-9]{2})$")


def _no_limit() -> int | None:
    return None


# How many significant digits the database in use stores exactly: None for PostgreSQL
# (numeric keeps every digit its column's precision allows), SQLITE_EXACT_DIGITS on SQLite.
# Asked of the running app (the app factory installs the source: one process may hold apps
# on either database, as the tests do); no limit outside an app.
_exact_digits: Callable[[], int | None] = _no_limit


def read_exact_digits_from(source: Callable[[], int | None]) -> None:
    """Where decimal fields learn the significant digits the database in use stores exactly."""
    global _exact_digits
    _exact_digits = source


def exact_digits_of(dialect_name: str) -> int | None:
    """The significant digits a database of ``dialect_name`` stores exactly (None: no limit
    beyond the column's precision)."""
    return SQLITE_EXACT_DIGITS if dialect_name == "sqlite" else None


# marshmallow's own messages, worded by the project: every key a marshmallow field or schema
# refuses with, for the fields this project uses, as a message id of our catalogues (a
# ``FieldTemplate``: filled in by marshmallow, it stays a template with its values). So the
# reason a Chinese reader gets is the catalogue's Chinese, never marshmallow's English read
# back, and a marshmallow release that rewords its messages changes nothing here. Each field
# a schema of ours binds takes them (``Schema.on_bind_field``, also into the fields of a List,
# a Tuple or a Dict); tests/api/test_field_refusals.py holds every request schema of the app to it.
FIELD_REQUIRED = FieldTemplate(N_("a required field is missing"))
FIELD_NULL = FieldTemplate(N_("may not be null"))
NOT_AN_OBJECT = FieldTemplate(N_("must be a JSON object"))
NOT_A_DATE = FieldTemplate(N_("not a valid date (YYYY-MM-DD)"))
NOT_AN_INSTANT = FieldTemplate(N_("not a valid date and time with a time zone (YYYY-MM-DDThh:mm:ss+08:00)"))
NOT_A_NUMBER = FieldTemplate(N_("not a valid number"))
NOT_A_LIST = FieldTemplate(N_("must be a list"))
FIELD_MESSAGES: dict[type[fields.Field], dict[str, FieldTemplate]] = {
    fields.Field: {"required": FIELD_REQUIRED, "null": FIELD_NULL,
                   "validator_failed": FieldTemplate(N_("not a valid value"))},
    fields.String: {"invalid": FieldTemplate(N_("not text")), "invalid_utf8": FieldTemplate(N_("not text"))},
    fields.Number: {"invalid": NOT_A_NUMBER, "too_large": FieldTemplate(N_("too large a number"))},
    fields.Integer: {"invalid": FieldTemplate(N_("not a whole number"))},
    fields.Float: {"special": NOT_A_NUMBER},
    fields.Decimal: {"special": NOT_A_NUMBER},
    fields.Boolean: {"invalid": FieldTemplate(N_("not yes or no"))},
    fields.DateTime: {"invalid": NOT_AN_INSTANT, "invalid_awareness": NOT_AN_INSTANT, "format": NOT_AN_INSTANT},
    fields.Date: {"invalid": NOT_A_DATE, "format": NOT_A_DATE, "invalid_awareness": NOT_A_DATE},
    fields.Nested: {"type": FieldTemplate(N_("must be a list of JSON objects"))},
    fields.List: {"invalid": NOT_A_LIST},
    fields.Tuple: {"invalid": NOT_A_LIST},
    fields.Mapping: {"invalid": NOT_AN_OBJECT},
    fields.Enum: {"unknown": FieldTemplate(N_("must be one of: {choices}"))},
    fields.Email: {"invalid": FieldTemplate(N_("not a valid email address"))},
}
SCHEMA_MESSAGES: dict[str, str] = {
    "type": NOT_AN_OBJECT,
    "unknown": FieldTemplate(N_("unknown field")),
}


def with_project_messages(field: fields.Field) -> fields.Field:
    """``field`` (and the fields a List, Tuple or Dict holds) refusing with the project's
    templates (``FIELD_MESSAGES``) wherever marshmallow would use its own English; a message
    the project set itself (a ``FieldTemplate``) is kept."""
    for key, text in list(field.error_messages.items()):
        if isinstance(text, FieldTemplate):
            continue
        for cls in type(field).__mro__:
            ours = FIELD_MESSAGES.get(cls, {}).get(key)
            if ours is not None:
                field.error_messages[key] = ours
                break
    contained = [getattr(field, "inner", None), getattr(field, "key_field", None),
                 getattr(field, "value_field", None), *(getattr(field, "tuple_fields", None) or ())]
    for inner in contained:
        if isinstance(inner, fields.Field):
            with_project_messages(inner)
    return field


def in_project_words(schema: ma.Schema) -> ma.Schema:
    """A schema not of ours (flask-smorest's pager: its page and page size) refusing in the
    project's words: its own and its fields' messages, and marshmallow's Range as ours."""
    schema.error_messages = {**schema.error_messages, **SCHEMA_MESSAGES}
    for field in schema.fields.values():
        with_project_messages(field)
        field.validators = [Range(v.min, v.max, min_inclusive=v.min_inclusive, max_inclusive=v.max_inclusive)
                            if type(v) is validate.Range else v for v in field.validators]
    return schema


class Schema(ma.Schema):
    """Base schema: unknown fields are refused (marshmallow's RAISE); every refusal, the
    schema's and its fields', is worded by the project (``FIELD_MESSAGES``)."""

    error_messages = SCHEMA_MESSAGES

    class Meta:
        unknown = ma.RAISE

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        with_project_messages(field_obj)


# Text no database can store (erp.web refuses a JSON body holding it as malformed).
UNSTORABLE = FieldTemplate(N_("contains a character that cannot be stored: {character}"))


class Query(Schema):
    """Base of query-string schemas. Unknown parameters are refused like unknown fields: a
    misspelt filter must not quietly return everything. The pager's own parameters (read
    by flask-smorest's paginate) are let through."""

    PAGER = ("page", "page_size")

    @ma.pre_load
    def _without_pager(self, data: Any, **kwargs: Any) -> Any:
        values = {key: data[key] for key in data if key not in self.PAGER}
        for key, value in values.items():
            texts = value if isinstance(value, list) else [value]
            if "\x00" in key or any("\x00" in str(text) for text in texts):
                raise ma.ValidationError(UNSTORABLE.format(character="NUL"), field_name=key)
        return values


# The bound validators below word their refusals with the project's own templates (message
# ids in the catalogues), each raised as a ``FilledMessage`` carrying its template and values:
# a page or an API answer in Chinese translates the template, never marshmallow's English read
# back (a release that rewords a message would then leak English). Modules use these, never
# marshmallow's own (tests/ui/test_field_messages.py holds them to it).

class Range(validate.Range):
    """marshmallow's Range with the project's templates, one per kind of bound (``error``:
    a template of its own, with ``{min}`` and ``{max}``)."""

    def __init__(self, min: Any = None, max: Any = None, *,  # noqa: A002 - marshmallow's names
                 min_inclusive: bool = True, max_inclusive: bool = True, error: str | None = None) -> None:
        super().__init__(min, max, min_inclusive=min_inclusive, max_inclusive=max_inclusive, error=error)
        self.message_min = N_("must be at least {min}") if min_inclusive else N_("must be above {min}")
        self.message_max = N_("must be at most {max}") if max_inclusive else N_("must be below {max}")
        self.message_all = {
            (True, True): N_("must be between {min} and {max}"),
            (False, True): N_("must be above {min} and at most {max}"),
            (True, False): N_("must be at least {min} and below {max}"),
            (False, False): N_("must be above {min} and below {max}"),
        }[(min_inclusive, max_inclusive)]

    def _format_error(self, value: Any, message: str) -> str:
        return FilledMessage(Message(self.error or message, min=self.min, max=self.max))


def Between(low: Any, high: Any) -> Range:  # noqa: N802
    """A closed range worded as the decimal fields word theirs: "must be between {min} and {max}"."""
    return Range(low, high, error=N_("must be between {min} and {max}"))


class Length(validate.Length):
    """marshmallow's Length with the project's templates ("must be {min} to {max} characters
    long"; ``error``: a template of its own, with ``{min}``, ``{max}``, ``{equal}``)."""

    message_min = N_("must be at least {min} characters long")
    message_max = N_("must be at most {max} characters long")
    message_all = N_("must be {min} to {max} characters long")
    message_equal = N_("must be {equal} characters long")

    def _format_error(self, value: Any, message: str) -> str:
        return FilledMessage(Message(self.error or message, min=self.min, max=self.max, equal=self.equal))


class Count(validate.Length):
    """How many entries a list takes ("must have {min} to {max} entries"): ``Length`` counts
    a text's characters, this a list's entries (tests/ui/test_field_messages.py: every list
    field bounds its length with it, no text field does)."""

    message_min = N_("must have at least {min} entries")
    message_max = N_("must have at most {max} entries")
    message_all = N_("must have {min} to {max} entries")
    message_equal = N_("must have {equal} entries")

    def _format_error(self, value: Any, message: str) -> str:
        return FilledMessage(Message(self.error or message, min=self.min, max=self.max, equal=self.equal))


class OneOf(validate.OneOf):
    """marshmallow's OneOf with the project's template "must be one of: {choices}" (the
    choices listed as they are sent)."""

    default_message = N_("must be one of: {choices}")

    def _format_error(self, value: Any) -> str:
        return FilledMessage(Message(self.error, choices=self.choices_text))


class Regexp(validate.Regexp):
    """marshmallow's Regexp whose refusal is the project's: ``error`` (a template of ours, no
    values), else "not in the expected form"."""

    default_message = N_("not in the expected form")

    def _format_error(self, value: str | bytes) -> str:
        return FilledMessage(Message(self.error))


class DecimalString(fields.Decimal):
    """A Decimal with at most ``places`` decimal places and a bounded magnitude, dumped as a string.

    ``column`` (a ``Numeric`` column type) gives the places and the largest magnitude the
    column can store; ``max_value``/``min_value`` may narrow them, never widen them. An
    input field must have one or the other.
    """

    default_error_messages = {
        "places": FieldTemplate(N_("at most {places} decimal places are allowed")),
        "bounds": FieldTemplate(N_("must be between {min} and {max}")),
        # A strictly positive field refuses its lower bound: "between 0 and ..." would not say why.
        "bounds_above": FieldTemplate(N_("must be above {min} and at most {max}")),
        "text": FieldTemplate(N_("must be a decimal number written with the digits 0-9 (such as \"1234.50\")")),
        "digits": FieldTemplate(N_(
            "has more than {digits} significant digits, more than this database (SQLite) stores exactly")),
    }

    def __init__(
        self,
        *,
        places: int | None = None,
        column: Numeric | None = None,
        min_value: Decimal | int | None = None,
        max_value: Decimal | int | None = None,
        min_inclusive: bool = True,
        **kwargs: Any,
    ) -> None:
        metadata = {"type": "string", "format": "decimal", "example": "1.5", **kwargs.pop("metadata", {})}
        super().__init__(as_string=True, allow_nan=False, metadata=metadata, **kwargs)
        if column is not None:
            places = column.scale if places is None else min(places, column.scale)
            largest = largest_value(column)
            max_value = largest if max_value is None else min(Decimal(max_value), largest)
            min_value = -largest if min_value is None else max(Decimal(min_value), -largest)
        if places is None:
            raise ValueError("a decimal field needs its places or its column")
        if max_value is None and not self.dump_only:
            raise ValueError("an input decimal field needs its column or explicit bounds")
        self.max_places = places
        self.max_value = Decimal(max_value) if max_value is not None else Decimal(0)
        self.min_value = Decimal(min_value) if min_value is not None else -self.max_value
        self.min_inclusive = min_inclusive

    def _validated(self, value: Any) -> Decimal:
        if isinstance(value, bool) or (isinstance(value, float)):
            raise self.make_error("invalid")
        if isinstance(value, str) and not DECIMAL_TEXT.match(value):
            raise self.make_error("text")
        number = super()._validated(value)
        if not number.is_finite():
            raise self.make_error("special")
        # Bounds first: a number beyond them may have more digits than the decimal context
        # holds, and quantizing it would fail.
        below = number < self.min_value if self.min_inclusive else number <= self.min_value
        if below or number > self.max_value:
            raise self.make_error("bounds" if self.min_inclusive else "bounds_above",
                                  min=self.min_value, max=self.max_value)
        exponent = number.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -self.max_places:
            # Trailing zeros beyond the allowed places are harmless ("1.50000").
            try:
                exact = number == number.quantize(Decimal(1).scaleb(-self.max_places), rounding=decimal.ROUND_DOWN)
            except decimal.InvalidOperation:
                exact = False
            if not exact:
                raise self.make_error("places", places=self.max_places)
            number = number.quantize(Decimal(1).scaleb(-self.max_places))
        exact = _exact_digits()
        if exact is not None and len(number.normalize().as_tuple().digits) > exact:
            # Refused rather than stored rounded (erp.db.SQLITE_EXACT_DIGITS).
            raise self.make_error("digits", digits=exact)
        return number

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        number = Decimal(value)
        exponent = number.as_tuple().exponent
        if isinstance(exponent, int) and exponent > -self.max_places:
            # Pad to the field's scale so that "2" and "2.00" never both appear for one field.
            number = number.quantize(Decimal(1).scaleb(-self.max_places))
        return format(number, "f")


def Money(**kwargs: Any) -> DecimalString:  # noqa: N802 - a field factory reads like a type
    """An amount in CNY, as a Money column holds it (two decimal places)."""
    return DecimalString(column=MONEY, **kwargs)


def Quantity(*, positive: bool = True, **kwargs: Any) -> DecimalString:  # noqa: N802
    """A stock quantity, as a Quantity column holds it (four decimal places), strictly
    positive unless told otherwise."""
    if positive:
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("min_inclusive", False)
    return DecimalString(column=QUANTITY, **kwargs)


def UnitPrice(**kwargs: Any) -> DecimalString:  # noqa: N802
    """A price per unit, as a UnitPrice column holds it (six decimal places), strictly positive."""
    kwargs.setdefault("min_value", 0)
    kwargs.setdefault("min_inclusive", False)
    return DecimalString(column=UNIT_PRICE, **kwargs)


class _Key(fields.Integer):
    """A whole number that is never a fraction, a float or a boolean (which fields.Integer
    would coerce silently). In query strings and paths a string of digits is accepted."""

    def __init__(self, *, from_text: bool, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.from_text = from_text

    def _validated(self, value: Any) -> int:
        if isinstance(value, bool):
            raise self.make_error("invalid")
        if isinstance(value, int):
            return value
        if self.from_text and isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 12:
            return int(value)
        raise self.make_error("invalid")


def Id(**kwargs: Any) -> fields.Integer:  # noqa: N802
    """A surrogate key in a JSON body: a positive 32-bit JSON integer (JSON integers are
    unbounded; keys are not)."""
    return _Key(from_text=False, validate=Range(1, MAX_ID), **kwargs)


def QueryId(**kwargs: Any) -> fields.Integer:  # noqa: N802
    """A surrogate key in a query string, where every value arrives as text ("7")."""
    return _Key(from_text=True, validate=Range(1, MAX_ID), **kwargs)


def QueryInt(low: int, high: int, **kwargs: Any) -> fields.Integer:  # noqa: N802
    """A whole number in a query string, in ASCII digits, between ``low`` and ``high``."""
    return _Key(from_text=True, validate=Range(low, high), **kwargs)


class Text(fields.String):
    """Text as Heyi stores it: NFC, without control, invisible or direction-changing
    characters (``erp.text``); ``single_line`` text (codes, names) also without line breaks
    and tabs, and without surrounding spaces. A refusal is ``erp.text.refused_character``'s
    catalogue message, naming the character by its code point."""

    def __init__(self, *, single_line: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.single_line = single_line

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = text_rules.normalise(super()._deserialize(value, attr, data, **kwargs))
        why = text_rules.refused_character(text, single_line=self.single_line)
        if why:
            raise ma.ValidationError(FilledMessage(why))
        return text.strip() if self.single_line else text


def Code(**kwargs: Any) -> fields.String:  # noqa: N802
    """A group-wide code: upper-case letters, digits, dot, dash, underscore; up to 32 characters."""
    return Text(
        validate=Regexp(CODE_PATTERN, error=N_(
            "must be 1-32 characters: A-Z, 0-9, '.', '_' or '-', starting with a letter or digit")),
        **kwargs,
    )


def Name(max_length: int = 200, **kwargs: Any) -> fields.String:  # noqa: N802
    """A non-empty display name on one line (surrounding spaces are dropped)."""
    return Text(validate=Length(1, max_length), **kwargs)


# Business dates: far enough back for any history, far enough ahead for any expiry, and
# away from the ends of Python's calendar (date arithmetic on 0001-01-01 overflows).
EARLIEST_DAY = dt.date(1990, 1, 1)
LATEST_DAY = dt.date(2199, 12, 31)


class IsoDate(fields.Date):
    """A date written ``YYYY-MM-DD`` in ASCII digits, and nothing else."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dt.date:
        if not isinstance(value, str) or not ISO_DATE.match(value):
            raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE)
        return super()._deserialize(value, attr, data, **kwargs)


class IsoInstant(fields.AwareDateTime):
    """An instant written in ISO 8601 with a time zone (``2026-11-29T10:00:00+08:00``), on
    a day between 1990 and 2199 like a ``Day``."""

    default_error_messages = {"range": FieldTemplate(N_("must be between {min} and {max}"))}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dt.datetime:
        if not isinstance(value, str) or not ISO_DATETIME.match(value):
            raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE)
        instant = super()._deserialize(value, attr, data, **kwargs)
        # Within the days a Day takes: an instant of year 1 or 9999 cannot even be put in UTC.
        if not EARLIEST_DAY <= instant.date() <= LATEST_DAY:
            raise self.make_error("range", min=EARLIEST_DAY, max=LATEST_DAY)
        return instant


def Day(**kwargs: Any) -> fields.Date:  # noqa: N802
    """A calendar date, ``YYYY-MM-DD``, between 1990 and 2199."""
    return IsoDate(
        validate=Range(EARLIEST_DAY, LATEST_DAY), **kwargs
    )


def Period(**kwargs: Any) -> fields.String:  # noqa: N802
    """An accounting period, ``YYYY-MM``."""
    return fields.String(validate=Regexp(PERIOD_PATTERN, error=NOT_A_PERIOD), **kwargs)


class USCC(fields.String):
    """A unified social credit code (GB 32100-2015), validated and normalised by python-stdnum."""

    default_error_messages = {
        "uscc": FieldTemplate(N_("not a valid unified social credit code ({reason})")),
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return stdnum_uscc.validate(text)
        except StdnumValidationError as exc:
            raise self.make_error("uscc", reason=Message(exc.message)) from exc


class PageQuery(Schema):
    """Common list filter: free-text search on code and names."""

    q = fields.String(validate=Length(1, 100), metadata={"description": "code or name contains"})
