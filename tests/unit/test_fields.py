"""Edge validation of numbers and codes: refused, never rounded or truncated silently."""

from __future__ import annotations

from decimal import Decimal

import pytest
from marshmallow import ValidationError

from erp.schemas import USCC, Id, Money, Quantity, Schema, UnitPrice


class Sample(Schema):
    qty = Quantity()
    amount = Money(min_value=0)
    price = UnitPrice()
    ref = Id()
    uscc = USCC()


def load(**data: object) -> dict[str, object]:
    return Sample().load(data)


def test_decimal_from_string_and_json_number() -> None:
    assert load(qty="12.5")["qty"] == Decimal("12.5")
    assert load(qty=Decimal("0.0001"))["qty"] == Decimal("0.0001")


@pytest.mark.parametrize("value", ["0", "-1", "1e13", "NaN", "Infinity", "abc", True, "0.00001"])
def test_quantity_refuses(value: object) -> None:
    with pytest.raises(ValidationError) as info:
        load(qty=value)
    assert "qty" in info.value.messages


def test_excess_zeros_are_not_excess_precision() -> None:
    assert load(amount="10.5000")["amount"] == Decimal("10.50")


def test_money_with_three_places_is_refused_not_rounded() -> None:
    with pytest.raises(ValidationError) as info:
        load(amount="10.005")
    assert info.value.messages["amount"] == ["at most 2 decimal places are allowed"]


def test_decimals_dump_as_strings() -> None:
    assert Sample().dump({"amount": Decimal("1234.50")}) == {"amount": "1234.50"}


@pytest.mark.parametrize("value", [0, -5, 2**31, 10**30, "7", 1.5])
def test_ids_are_positive_32_bit_integers(value: object) -> None:
    with pytest.raises(ValidationError):
        load(ref=value)


def test_uscc_is_validated_and_normalised() -> None:
    assert load(uscc="91330100 00000000 1C".lower())["uscc"] == "91330100000000001C"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("91330100000000001D", "checksum"),
        ("9133010000000001C", "length"),
        ("A1330100000000001C", "format"),
    ],
)
def test_uscc_refusals_say_why(value: str, reason: str) -> None:
    with pytest.raises(ValidationError) as info:
        load(uscc=value)
    assert reason in info.value.messages["uscc"][0].lower()


def test_base_schema_refuses_unknown_fields() -> None:
    with pytest.raises(ValidationError) as info:
        load(qty="1", unexpected=1)
    assert "unexpected" in info.value.messages



def test_query_ids_accept_digit_strings_but_body_ids_do_not() -> None:
    from erp.schemas import QueryId

    class Query(Schema):
        ref = QueryId()

    assert Query().load({"ref": "42"}) == {"ref": 42}
    for bad in ("4.2", "-1", "0x10", "", "1" * 13):
        with pytest.raises(ValidationError):
            Query().load({"ref": bad})
    with pytest.raises(ValidationError):
        load(ref="42")
