"""Group-wide organisation and master data: one code per record for the whole group."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import CheckConstraint, Enum, ForeignKey, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from erp.db import Base, Code, Money, utcnow

TEMPERATURE = Numeric(5, 1)
PERCENT = Numeric(5, 2)


def str_enum(enum_cls: type[StrEnum], name: str) -> Enum:
    """A portable enum column: VARCHAR plus a CHECK constraint, no native PG type to migrate."""
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class MaterialType(StrEnum):
    RAW = "raw"
    PACKAGING = "packaging"
    INTERMEDIATE = "intermediate"
    FINISHED = "finished"
    TRADE = "trade"


class ProcurementScope(StrEnum):
    """Who buys a material: the group's central purchasing, or each company locally."""

    CENTRAL = "central"
    LOCAL = "local"


class TaxKind(StrEnum):
    """How a VAT code taxes a line: at its rate, at zero rate (零税率: exports, input VAT still
    deductible), or exempt (免税: no VAT charged, none deductible)."""

    STANDARD = "standard"
    ZERO = "zero"
    EXEMPT = "exempt"


class Timestamped:
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CreatedByImport:
    """A master record a go-live import may create in bulk: the import (``import_batches``)
    and the file row it came from. That is the import's record of what it wrote (its undo
    deletes the rows that carry it) and the record's provenance in the audit trail, which
    presents it as the record's creation (``erp.audit.services.record_history``): one
    audit row for the import instead of one per record. NULL for records created one by
    one. No index: the columns are read with the record; only an undo looks for an import's
    records, and an index would be written for every imported row."""

    # use_alter: an import batch names its company, and a company its customer and supplier.
    import_batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id", use_alter=True))
    import_row: Mapped[int | None]


class Group(Base, Timestamped):
    """The holding: one row. Central purchasing is the group's own purchasing organisation."""

    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[Code] = mapped_column(unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))


class Segment(Base, Timestamped):
    """A business segment (APIs, finished formulations, distribution)."""

    __tablename__ = "segments"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    code: Mapped[Code] = mapped_column(unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)


class Company(Base, Timestamped):
    """A subsidiary: a legal entity, a costing unit and a local purchasing organisation."""

    __tablename__ = "companies"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[Code] = mapped_column(unique=True)
    segment_id: Mapped[int] = mapped_column(ForeignKey("segments.id"), index=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    uscc: Mapped[str | None] = mapped_column(String(18), unique=True)
    # Purchase orders above this value wait for a purchasing manager; NULL means the
    # group default from settings.
    approval_threshold: Mapped[Money | None]
    active: Mapped[bool] = mapped_column(default=True)
    # Intercompany trade: the group-master customer and supplier records that stand for
    # this company when another company of the group sells to it or buys from it.
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), unique=True)
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("suppliers.id"), unique=True)
    # The day the company went live: its opening balances (erp.golive) are posted on it, and
    # nothing is posted before it (erp.posting.periods.refuse_before_go_live). NULL: not yet.
    go_live_date: Mapped[dt.date | None]

    segment: Mapped[Segment] = relationship(lazy="joined")


class Warehouse(Base, Timestamped, CreatedByImport):
    """A storage location of one company, with the conditions it can hold."""

    __tablename__ = "warehouses"
    __table_args__ = (
        CheckConstraint("temp_min <= temp_max", name="temp_range"),
        CheckConstraint("max_humidity > 0 AND max_humidity <= 100", name="humidity_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[Code] = mapped_column(unique=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), index=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    # The temperature band the warehouse keeps, in °C, and its maximum relative humidity (%).
    temp_min: Mapped[Decimal] = mapped_column(TEMPERATURE)
    temp_max: Mapped[Decimal] = mapped_column(TEMPERATURE)
    max_humidity: Mapped[Decimal] = mapped_column(PERCENT)
    active: Mapped[bool] = mapped_column(default=True)

    company: Mapped[Company] = relationship(lazy="raise")


class UnitOfMeasure(Base, Timestamped):
    __tablename__ = "units"
    __table_args__ = (CheckConstraint("decimals BETWEEN 0 AND 4", name="decimals_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[Code] = mapped_column(unique=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    # How many decimal places a quantity in this unit may have (0 for pieces).
    decimals: Mapped[int] = mapped_column(default=3)
    active: Mapped[bool] = mapped_column(default=True)

    def admits(self, quantity: Decimal) -> bool:
        """Whether ``quantity`` has no more decimal places than this unit allows."""
        return quantity_fits(quantity, self.decimals)


def quantity_fits(quantity: Decimal, decimals: int) -> bool:
    """Whether ``quantity`` has at most ``decimals`` decimal places (trailing zeros do not
    count: 2.500 kg is fine in a unit of 1 decimal)."""
    return quantity == quantity.quantize(Decimal(1).scaleb(-decimals))


class TaxCode(Base, Timestamped):
    """A China VAT code (增值税税码): a rate in percent, valid over a range of dates.

    When the state changes a rate (17% -> 16% on 2018-05-01, 16% -> 13% on 2019-04-01) the
    old code gets a ``valid_to`` and a new code takes over, so a document is always taxed at
    the code in force on its date. Amounts are computed per line by ``erp.masterdata.tax``.
    """

    __tablename__ = "tax_codes"
    __table_args__ = (
        CheckConstraint("rate >= 0 AND rate <= 100", name="rate_range"),
        CheckConstraint("kind = 'standard' OR rate = 0", name="zero_rate"),
        CheckConstraint("valid_to IS NULL OR valid_from <= valid_to", name="validity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[Code] = mapped_column(unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    kind: Mapped[TaxKind] = mapped_column(str_enum(TaxKind, "tax_kind"))
    # Percent of the amount excluding tax (13.00 for 13 %).
    rate: Mapped[Decimal] = mapped_column(PERCENT)
    valid_from: Mapped[dt.date]
    valid_to: Mapped[dt.date | None]
    active: Mapped[bool] = mapped_column(default=True)

    def in_force(self, day: dt.date) -> bool:
        """Whether the code may tax a document dated ``day``."""
        return self.active and self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


class Material(Base, Timestamped, CreatedByImport):
    """A material of the group master: what it is, who buys it, how it must be stored."""

    __tablename__ = "materials"
    __table_args__ = (
        CheckConstraint(
            "storage_temp_min IS NULL OR storage_temp_max IS NULL "
            "OR storage_temp_min <= storage_temp_max",
            name="storage_temp_range",
        ),
        CheckConstraint(
            "over_receipt_tolerance_pct >= 0 AND over_receipt_tolerance_pct <= 100",
            name="tolerance_range",
        ),
        CheckConstraint("shelf_life_days IS NULL OR shelf_life_days > 0", name="shelf_life"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[Code] = mapped_column(unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    material_type: Mapped[MaterialType] = mapped_column(str_enum(MaterialType, "material_type"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    procurement_scope: Mapped[ProcurementScope] = mapped_column(
        str_enum(ProcurementScope, "procurement_scope")
    )
    # Storage requirement: the warehouse's whole band must lie inside this band, and its
    # humidity limit must not exceed this one. NULL bounds mean "no requirement".
    storage_temp_min: Mapped[Decimal | None] = mapped_column(TEMPERATURE)
    storage_temp_max: Mapped[Decimal | None] = mapped_column(TEMPERATURE)
    storage_max_humidity: Mapped[Decimal | None] = mapped_column(PERCENT)
    shelf_life_days: Mapped[int | None]
    # A receipt must leave at least this many days of shelf life (NULL: settings default).
    min_remaining_shelf_life_days: Mapped[int | None]
    batch_managed: Mapped[bool] = mapped_column(default=True)
    inspection_required: Mapped[bool] = mapped_column(default=False)
    # How far a receipt may exceed the ordered quantity, in percent (0: not at all).
    over_receipt_tolerance_pct: Mapped[Decimal] = mapped_column(PERCENT, default=Decimal("0"))
    # The VAT code the goods are taxed at unless the partner's own code applies (erp.masterdata.tax).
    default_tax_code_id: Mapped[int | None] = mapped_column(ForeignKey("tax_codes.id"))
    active: Mapped[bool] = mapped_column(default=True, index=True)

    unit: Mapped[UnitOfMeasure] = relationship(lazy="joined")


class Supplier(Base, Timestamped, CreatedByImport):
    """A supplier of the group master, identified by its unified social credit code."""

    __tablename__ = "suppliers"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[Code] = mapped_column(unique=True)
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    # Blocked suppliers stay in the master (history) but no new order may be placed.
    blocked: Mapped[bool] = mapped_column(default=False)
    # A supplier's own VAT code overrides the material's (a small-scale taxpayer invoices 3 %).
    default_tax_code_id: Mapped[int | None] = mapped_column(ForeignKey("tax_codes.id"))
    active: Mapped[bool] = mapped_column(default=True)


class Customer(Base, Timestamped, CreatedByImport):
    """A customer of the group master: the same customer seen by five companies is one row."""

    __tablename__ = "customers"
    __table_args__ = (
        CheckConstraint("payment_terms_days >= 0 AND payment_terms_days <= 365", name="terms"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[Code] = mapped_column(unique=True)
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    payment_terms_days: Mapped[int] = mapped_column(default=30)
    blocked: Mapped[bool] = mapped_column(default=False)
    # A customer's own VAT code overrides the material's (an exporter's sales at zero rate).
    default_tax_code_id: Mapped[int | None] = mapped_column(ForeignKey("tax_codes.id"))
    active: Mapped[bool] = mapped_column(default=True)
