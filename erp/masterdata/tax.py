"""China VAT (增值税) on document lines: which tax code applies, and the line's amounts.

Every module that taxes a line (supplier invoices, customer invoices, credit notes) uses
these two steps, so input and output VAT follow one rule:

1. **Which code.** ``tax_code_for`` picks, in this order: the code given on the line; the
   partner's default (a supplier's or customer's own status decides first: a small-scale
   taxpayer supplier invoices 3 %, an export customer is taxed at zero rate); the
   material's default (the rate the law sets for the goods: 13 % for most goods, 9 % for
   agricultural products, 6 % for services). No code at all is refused (``no-tax-code``);
   a code not in force on the document's date is refused (``tax-code-not-in-force``).
2. **The amounts.** ``line_amounts`` computes, per line, the amount excluding tax
   (quantity x unit price excluding tax), the tax on it and the total including tax, each
   rounded half-up to 0.01 CNY (erp.money.round_money) *per line*, as the Golden Tax
   system prints them on a 增值税专用发票: a document's tax is the sum of its lines' taxes,
   not the rate applied to its total. ``amounts_from_gross`` does the same from a total
   including tax (a price list with tax).

Pure master-data rules: no Flask, no module above master data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from erp.errors import ValidationFailed
from erp.masterdata.errors import NoTaxCode, TaxCodeNotInForce
from erp.masterdata.models import Customer, Material, Supplier, TaxCode, TaxKind
from erp.messages import Message, Named
from erp.money import round_money

HUNDRED = Decimal(100)

# The statutory China VAT codes since 2019-04-01 (财政部 税务总局 海关总署公告2019年第39号
# for 13 % and 9 %; 6 % services; 3 % the small-scale taxpayers' collection rate; 0 % exports;
# exempt goods such as some medicines for rare diseases). (code, name_zh, name_en, kind, rate)
CHINA_VAT = (
    ("VAT13", "增值税 13%", "VAT 13%", TaxKind.STANDARD, Decimal("13")),
    ("VAT9", "增值税 9%", "VAT 9%", TaxKind.STANDARD, Decimal("9")),
    ("VAT6", "增值税 6%", "VAT 6%", TaxKind.STANDARD, Decimal("6")),
    ("VAT3", "增值税 3% (小规模纳税人)", "VAT 3% (small-scale taxpayer)", TaxKind.STANDARD, Decimal("3")),
    ("VAT0", "增值税 零税率", "VAT zero rate", TaxKind.ZERO, Decimal("0")),
    ("VATEX", "增值税 免税", "VAT exempt", TaxKind.EXEMPT, Decimal("0")),
)
CHINA_VAT_SINCE = dt.date(2019, 4, 1)


@dataclass(frozen=True, slots=True)
class LineAmounts:
    """One line's amounts in CNY, each rounded to the cent: ``net + tax == gross``."""

    net: Decimal  # excluding tax (不含税金额)
    tax: Decimal  # VAT (税额)
    gross: Decimal  # including tax (价税合计)


@dataclass(frozen=True, slots=True)
class TaxRate:
    """What a line needs of its tax code."""

    tax_code_id: int
    code: str
    kind: TaxKind
    rate: Decimal  # percent


def line_amounts(quantity: Decimal, unit_price: Decimal, rate: Decimal) -> LineAmounts:
    """Amounts of a line of ``quantity`` at ``unit_price`` excluding tax, taxed at ``rate``
    percent: net = round(quantity x unit price), tax = round(net x rate / 100), gross = net +
    tax (half-up to 0.01 each, per line). Example: 100 kg at 12.00 at 13 %: 1,200.00 +
    156.00 = 1,356.00; 3 at 0.333 at 13 %: net round(0.999) = 1.00, tax 0.13, gross 1.13."""
    net = round_money(quantity * unit_price)
    tax = round_money(net * rate / HUNDRED)
    return LineAmounts(net, tax, net + tax)


def amounts_from_gross(gross: Decimal, rate: Decimal) -> LineAmounts:
    """Split a line total including tax: net = round(gross / (1 + rate/100)), tax = gross -
    net, so the printed total is kept to the cent. Example: 1,130.00 at 13 %: 1,000.00 +
    130.00."""
    gross = round_money(gross)
    net = round_money(gross / (1 + rate / HUNDRED))
    return LineAmounts(net, gross - net, gross)


def _rate_of(code: TaxCode) -> TaxRate:
    return TaxRate(code.id, code.code, code.kind, code.rate)


def tax_code_in_force(session: Session, tax_code_id: int, day: dt.date, *, field: str = "tax_code_id") -> TaxRate:
    """The tax code ``tax_code_id`` if it may tax a document dated ``day``; 422 on ``field``
    when it does not exist, is inactive, or is not valid on that day (``tax-code-not-in-force``)."""
    code = session.get(TaxCode, tax_code_id)
    if code is None:
        raise ValidationFailed.for_field(field, Message("no tax code with id {id}", id=tax_code_id))
    if not code.in_force(day):
        raise TaxCodeNotInForce(
            Message("tax code {code} is not in force on {day} (valid from {valid_from} to {valid_to})",
                    code=Named.of(code), day=day, valid_from=code.valid_from, valid_to=code.valid_to or "-")
            if code.active else Message("tax code {code} is inactive", code=Named.of(code)),
            errors=[{"pointer": f"/{field}", "detail": Message("not in force on {day}", day=day)}],
        )
    return _rate_of(code)


def tax_code_for(
    session: Session,
    *,
    day: dt.date,
    material_id: int | None = None,
    supplier_id: int | None = None,
    customer_id: int | None = None,
    tax_code_id: int | None = None,
    field: str = "tax_code_id",
) -> TaxRate:
    """The VAT code of a line dated ``day``: ``tax_code_id`` when given, else the
    supplier's or customer's default, else the material's default (see the module's
    docstring for why the partner comes first). Refuses 422 ``no-tax-code`` when none
    applies and ``tax-code-not-in-force`` when the code found is not valid on ``day``."""
    if tax_code_id is None:
        partner_default = None
        if supplier_id is not None:
            partner_default = session.scalar(select(Supplier.default_tax_code_id).where(Supplier.id == supplier_id))
        elif customer_id is not None:
            partner_default = session.scalar(select(Customer.default_tax_code_id).where(Customer.id == customer_id))
        tax_code_id = partner_default
        if tax_code_id is None and material_id is not None:
            tax_code_id = session.scalar(select(Material.default_tax_code_id).where(Material.id == material_id))
    if tax_code_id is None:
        material = session.get(Material, material_id) if material_id is not None else None
        raise NoTaxCode(
            Message("no tax code: give one on the line, or set a default on material {material} or its partner",
                    material=Named.of(material) if material else "-"),
            errors=[{"pointer": f"/{field}", "detail": Message("required: no default applies")}],
        )
    return tax_code_in_force(session, tax_code_id, day, field=field)
