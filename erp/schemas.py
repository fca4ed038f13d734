"""Marshmallow building blocks shared by every module's edge.

Decimals travel as strings in JSON. Input may be a string or a JSON number (numbers are
parsed as ``Decimal``, never float, by ``erp.web.DecimalJSONProvider``). Excess precision is
refused rather than rounded: rounding happens at posting time only.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from decimal import Decimal
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate
from stdnum.cn import uscc as stdnum_uscc
from stdnum.exceptions import ValidationError as StdnumValidationError

MAX_ID = 2**31 - 1
CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9._-]{0,31}$")
# Years 1990-2199 in ASCII digits (``\d`` would also match full-width digits).
PERIOD_PATTERN = re.compile(r"^(199[0-9]|2[01][0-9][0-9])-(0[1-9]|1[0-2])$")


class Schema(ma.Schema):
    """Base schema: unknown fields are refused (marshmallow's RAISE)."""

    class Meta:
        unknown = ma.RAISE


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
                raise ma.ValidationError("text contains a NUL character", field_name=key)
        return values


class DecimalString(fields.Decimal):
    """A Decimal with at most ``places`` decimal places and a bounded magnitude, dumped as a string."""

    default_error_messages = {
        "places": "at most {places} decimal places are allowed",
        "bounds": "must be between {min} and {max}",
    }

    def __init__(
        self,
        *,
        places: int,
        min_value: Decimal | int | None = None,
        max_value: Decimal | int = Decimal("1e12"),
        min_inclusive: bool = True,
        **kwargs: Any,
    ) -> None:
        metadata = {"type": "string", "format": "decimal", "example": "1.5", **kwargs.pop("metadata", {})}
        super().__init__(as_string=True, allow_nan=False, metadata=metadata, **kwargs)
        self.max_places = places
        self.min_value = Decimal(min_value) if min_value is not None else -Decimal(max_value)
        self.max_value = Decimal(max_value)
        self.min_inclusive = min_inclusive

    def _validated(self, value: Any) -> Decimal:
        if isinstance(value, bool):
            raise self.make_error("invalid")
        number = super()._validated(value)
        if not number.is_finite():
            raise self.make_error("special")
        # Bounds first: a number beyond them may have more digits than the decimal context
        # holds, and quantizing it would fail.
        below = number < self.min_value if self.min_inclusive else number <= self.min_value
        if below or number > self.max_value:
            raise self.make_error("bounds", min=self.min_value, max=self.max_value)
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
    """An amount in CNY: two decimal places."""
    return DecimalString(places=2, **kwargs)


def Quantity(*, positive: bool = True, **kwargs: Any) -> DecimalString:  # noqa: N802
    """A stock quantity: four decimal places, strictly positive unless told otherwise."""
    if positive:
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("min_inclusive", False)
    return DecimalString(places=4, **kwargs)


def UnitPrice(**kwargs: Any) -> DecimalString:  # noqa: N802
    """A price per unit: six decimal places, strictly positive."""
    kwargs.setdefault("min_value", 0)
    kwargs.setdefault("min_inclusive", False)
    return DecimalString(places=6, **kwargs)


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
    return _Key(from_text=False, validate=validate.Range(1, MAX_ID), **kwargs)


def QueryId(**kwargs: Any) -> fields.Integer:  # noqa: N802
    """A surrogate key in a query string, where every value arrives as text ("7")."""
    return _Key(from_text=True, validate=validate.Range(1, MAX_ID), **kwargs)


def Code(**kwargs: Any) -> fields.String:  # noqa: N802
    """A group-wide code: upper-case letters, digits, dot, dash, underscore; up to 32 characters."""
    return fields.String(
        validate=validate.Regexp(
            CODE_PATTERN, error="must be 1-32 characters: A-Z, 0-9, '.', '_' or '-', starting with a letter or digit"
        ),
        **kwargs,
    )


def Name(max_length: int = 200, **kwargs: Any) -> fields.String:  # noqa: N802
    """A non-empty display name."""
    return fields.String(validate=validate.Length(1, max_length), **kwargs)


# Business dates: far enough back for any history, far enough ahead for any expiry, and
# away from the ends of Python's calendar (date arithmetic on 0001-01-01 overflows).
EARLIEST_DAY = dt.date(1990, 1, 1)
LATEST_DAY = dt.date(2199, 12, 31)


def Day(**kwargs: Any) -> fields.Date:  # noqa: N802
    """A calendar date, ``YYYY-MM-DD``, between 1990 and 2199."""
    return fields.Date(
        validate=validate.Range(EARLIEST_DAY, LATEST_DAY, error="must be between {min} and {max}"), **kwargs
    )


def Period(**kwargs: Any) -> fields.String:  # noqa: N802
    """An accounting period, ``YYYY-MM``."""
    return fields.String(validate=validate.Regexp(PERIOD_PATTERN, error="must be YYYY-MM"), **kwargs)


class USCC(fields.String):
    """A unified social credit code (GB 32100-2015), validated and normalised by python-stdnum."""

    default_error_messages = {
        "uscc": "not a valid unified social credit code ({reason})",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return stdnum_uscc.validate(text)
        except StdnumValidationError as exc:
            raise self.make_error("uscc", reason=exc.message) from exc


class PageQuery(Schema):
    """Common list filter: free-text search on code and names."""

    q = fields.String(validate=validate.Length(1, 100), metadata={"description": "code or name contains"})
