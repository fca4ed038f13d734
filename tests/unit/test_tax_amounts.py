"""VAT per line: excluding tax, tax and including tax, each rounded half-up to the cent."""

from __future__ import annotations

from decimal import Decimal as D

from erp.masterdata.tax import LineAmounts, amounts_from_gross, line_amounts


def test_line_of_100_kg_at_12_at_13_percent() -> None:
    # 100 x 12.00 = 1,200.00; 1,200.00 x 13 % = 156.00; 1,356.00 in all.
    assert line_amounts(D("100"), D("12.00"), D("13")) == LineAmounts(D("1200.00"), D("156.00"), D("1356.00"))


def test_each_amount_is_rounded_half_up_per_line() -> None:
    # 3 x 0.335 = 1.005 -> 1.01 (half-up, not to even); 1.01 x 13 % = 0.1313 -> 0.13.
    assert line_amounts(D("3"), D("0.335"), D("13")) == LineAmounts(D("1.01"), D("0.13"), D("1.14"))
    # 1 x 0.50 at 9 %: tax 0.045 -> 0.05 (half-up), gross 0.55.
    assert line_amounts(D("1"), D("0.50"), D("9")) == LineAmounts(D("0.50"), D("0.05"), D("0.55"))


def test_a_documents_tax_is_the_sum_of_its_lines_not_the_rate_on_the_total() -> None:
    # Two lines of 1 x 0.50 at 9 %: 0.05 + 0.05 = 0.10 although 1.00 x 9 % would be 0.09.
    lines = [line_amounts(D("1"), D("0.50"), D("9")) for _ in range(2)]
    assert sum(line.tax for line in lines) == D("0.10")


def test_zero_rate_and_exempt_lines_carry_no_tax() -> None:
    assert line_amounts(D("2.5"), D("40"), D("0")) == LineAmounts(D("100.00"), D("0.00"), D("100.00"))


def test_split_of_a_total_including_tax() -> None:
    # 1,130.00 / 1.13 = 1,000.00; tax 130.00.
    assert amounts_from_gross(D("1130.00"), D("13")) == LineAmounts(D("1000.00"), D("130.00"), D("1130.00"))
    # 100.00 / 1.06 = 94.339... -> 94.34; tax 5.66 so that the total stays 100.00.
    assert amounts_from_gross(D("100.00"), D("6")) == LineAmounts(D("94.34"), D("5.66"), D("100.00"))
