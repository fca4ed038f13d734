"""erp.ui.forms: a page form's numbers and dates are refused where the API's fields refuse them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from erp.db import MONEY, QUANTITY, UNIT_PRICE
from erp.errors import ValidationFailed
from erp.ui.forms import form_day, form_number


@pytest.mark.parametrize(("typed", "column", "read"), [
    ("1,234.5", QUANTITY, D("1234.5")),
    (" 99999999999999.9999 ", QUANTITY, D("99999999999999.9999")),
    ("9999999999999999.99", MONEY, D("9999999999999999.99")),
    ("-0.000001", UNIT_PRICE, D("-0.000001")),
])
def test_a_number_the_column_holds_is_read_exactly(typed: str, column: object, read: D) -> None:
    assert form_number(typed, "f", column) == read  # type: ignore[arg-type]


@pytest.mark.parametrize(("typed", "column"), [
    ("1e30", QUANTITY), ("NaN", QUANTITY), ("Infinity", MONEY), ("１２", QUANTITY), ("12 kg", QUANTITY),
    ("100000000000000", QUANTITY), ("10000000000000000", MONEY), ("0.00001", QUANTITY), ("1.001", MONEY), ("", MONEY),
])
def test_what_the_column_cannot_hold_is_the_fields_problem(typed: str, column: object) -> None:
    with pytest.raises(ValidationFailed) as refused:
        form_number(typed, "lines/0/quantity", column)  # type: ignore[arg-type]
    assert refused.value.errors[0]["pointer"] == "/lines/0/quantity"


def test_an_empty_optional_field_is_none() -> None:
    assert form_number("  ", "f", required=False) is None
    assert form_day("", "d", required=False) is None


@pytest.mark.parametrize("typed", ["9999-12-31", "1989-12-31", "2026-1-1", "2026-02-30", "tomorrow", ""])
def test_a_date_outside_the_apis_range_or_form_is_refused(typed: str) -> None:
    with pytest.raises(ValidationFailed):
        form_day(typed, "d")


def test_the_apis_first_and_last_days_are_read() -> None:
    assert form_day("1990-01-01", "d") == dt.date(1990, 1, 1)
    assert form_day(" 2199-12-31 ", "d") == dt.date(2199, 12, 31)
