"""Quality's own tables: specifications, inspection lots with their results, certificates
of analysis and signed usage decisions; storage monitoring (loggers, readings, excursions).

Stock itself (quarantine, unrestricted, blocked) is moved by ``erp.posting``; these rows
say why: the lot a status change decided, the excursion a hold answered.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, LargeBinary, Numeric, String, UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from erp.db import Base, BigId, Quantity, utcnow
from erp.masterdata.models import str_enum
from erp.posting.models import StockStatus

# Results and limits in the characteristic's own unit (%, CFU/g, ppm ...): six decimals
# cover trace impurities without rounding what the laboratory reported.
MEASURE = Numeric(18, 6)
READING = Numeric(5, 2)


class LotOrigin(StrEnum):
    RECEIPT = "receipt"  # a goods receipt of a material that needs inspection
    CUSTOMER_RETURN = "customer_return"  # goods a customer sent back (GSP: quarantine, then decide)
    EXCURSION = "excursion"  # stock a storage-condition excursion put on hold
    OPENING_STOCK = "opening_stock"  # stock on hand taken over at go-live in quarantine (erp.golive.opening)


class LotStatus(StrEnum):
    OPEN = "open"
    RELEASED = "released"
    REJECTED = "rejected"
    CANCELLED = "cancelled"  # the receipt it inspected was reversed
    EXPIRED = "expired"  # the batch reached its expiry date and was blocked (erp.quality.expiry): nothing to decide


class ResultSource(StrEnum):
    LABORATORY = "laboratory"  # the company's own QC laboratory: what the decision is judged on
    CERTIFICATE = "certificate"  # the supplier's certificate of analysis, for comparison


class UsageDecisionKind(StrEnum):
    RELEASE = "release"
    REJECT = "reject"


# The meaning an electronic signature carries (21 CFR 11.50(a)(3)): what the signer attests.
SIGNATURE_MEANING = {UsageDecisionKind.RELEASE: "released", UsageDecisionKind.REJECT: "rejected"}


class ExcursionKind(StrEnum):
    OUT_OF_RANGE = "out_of_range"  # readings outside the warehouse's permitted range for too long
    GAP = "gap"  # no readings for longer than the logging interval: state unknown


class Specification(Base):
    """One version of a material's specification (质量标准), in force from ``effective_from``
    until the next version's date. Versions are never edited: a change is a new version."""

    __tablename__ = "quality_specifications"
    __table_args__ = (
        UniqueConstraint("material_id", "version"),
        UniqueConstraint("material_id", "effective_from"),
        CheckConstraint("version > 0", name="version_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    material_id: Mapped[int] = mapped_column(ForeignKey("materials.id"))
    version: Mapped[int] = mapped_column(Integer)
    effective_from: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(500))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    characteristics: Mapped[list[Characteristic]] = relationship(
        order_by="Characteristic.position", lazy="selectin")


class Characteristic(Base):
    """A test characteristic of a specification: numeric limits (minimum and/or maximum,
    inclusive) in ``unit``, or a text criterion the result must match ("conforms",
    "white crystalline powder")."""

    __tablename__ = "quality_characteristics"
    __table_args__ = (
        UniqueConstraint("specification_id", "code"),
        CheckConstraint("(minimum IS NULL AND maximum IS NULL) <> (expected_text IS NULL)",
                        name="numeric_or_text"),
        CheckConstraint("minimum IS NULL OR maximum IS NULL OR minimum <= maximum", name="limits_ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    specification_id: Mapped[int] = mapped_column(ForeignKey("quality_specifications.id"))
    position: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(40))
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str | None] = mapped_column(String(20))
    minimum: Mapped[Decimal | None] = mapped_column(MEASURE)
    maximum: Mapped[Decimal | None] = mapped_column(MEASURE)
    expected_text: Mapped[str | None] = mapped_column(String(200))

    @property
    def numeric(self) -> bool:
        return self.expected_text is None

    def judge(self, value: Decimal | None, text: str | None) -> bool:
        """Whether a result conforms: within the inclusive limits, or the expected text
        (compared without case or surrounding blanks)."""
        if self.numeric:
            assert value is not None
            return (self.minimum is None or value >= self.minimum) and (self.maximum is None or value <= self.maximum)
        assert text is not None and self.expected_text is not None
        return text.strip().casefold() == self.expected_text.strip().casefold()


class InspectionLot(Base):
    """What quality inspects and decides on: a quantity of one batch in one warehouse, from
    a receipt, a customer return, an excursion hold or opening stock. The specification is
    the version in force on ``inspection_date`` (the receipt's date), fixed when the lot is
    opened."""

    __tablename__ = "inspection_lots"
    __table_args__ = (
        # One opening stock document can hold the same batch in quarantine in two warehouses.
        UniqueConstraint("source_document_id", "batch_id", "warehouse_id"),
        Index("ix_inspection_lots_status", "status", "company_id"),
        Index("ix_inspection_lots_batch", "batch_id", "warehouse_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    origin: Mapped[LotOrigin] = mapped_column(str_enum(LotOrigin, "lot_origin"))
    status: Mapped[LotStatus] = mapped_column(str_enum(LotStatus, "lot_status"), default=LotStatus.OPEN)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    material_id: Mapped[int] = mapped_column(ForeignKey("materials.id"))
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    quantity: Mapped[Quantity]
    inspection_date: Mapped[dt.date] = mapped_column(Date)
    specification_id: Mapped[int | None] = mapped_column(ForeignKey("quality_specifications.id"))
    # The receipt, customer return, hold or opening stock document that put the stock in quarantine.
    source_document_id: Mapped[BigId] = mapped_column(ForeignKey("stock_documents.id"))
    excursion_id: Mapped[int | None] = mapped_column(ForeignKey("storage_excursions.id"))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    @property
    def number(self) -> str:
        """What people quote: IL-00000042 (from the key, like stock documents' numbers)."""
        return lot_number(self.id)


def lot_number(lot_id: int) -> str:
    return f"IL-{lot_id:08d}"


class InspectionResult(Base):
    """One result of a characteristic, from the laboratory or the supplier's certificate.
    Append-only: a corrected result is a new row; the latest per characteristic and
    source counts, and the earlier ones stay as the audit trail."""

    __tablename__ = "inspection_results"
    __table_args__ = (
        Index("ix_inspection_results_lot", "lot_id", "characteristic_id", "source"),
        CheckConstraint("(value IS NULL) <> (text_value IS NULL)", name="value_or_text"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("inspection_lots.id"))
    characteristic_id: Mapped[int] = mapped_column(ForeignKey("quality_characteristics.id"))
    source: Mapped[ResultSource] = mapped_column(str_enum(ResultSource, "result_source"))
    value: Mapped[Decimal | None] = mapped_column(MEASURE)
    text_value: Mapped[str | None] = mapped_column(String(200))
    conforms: Mapped[bool] = mapped_column(Boolean)
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CertificateOfAnalysis(Base):
    """The supplier's certificate of analysis for a lot: its number, date and the file."""

    __tablename__ = "certificates_of_analysis"

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("inspection_lots.id"), unique=True)
    number: Mapped[str] = mapped_column(String(60))
    issued_on: Mapped[dt.date] = mapped_column(Date)
    file_name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class UsageDecision(Base):
    """QA's signed decision on a lot (使用决策): who signed, when, and what the signature
    means; a release of a lot with results out of specification names its deviation."""

    __tablename__ = "usage_decisions"
    __table_args__ = (
        CheckConstraint("NOT out_of_specification OR decision = 'reject' OR "
                        "(deviation_reference IS NOT NULL AND reason IS NOT NULL)", name="oos_release_deviation"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("inspection_lots.id"), unique=True)
    decision: Mapped[UsageDecisionKind] = mapped_column(str_enum(UsageDecisionKind, "usage_decision_kind"))
    meaning: Mapped[str] = mapped_column(String(40))
    signed_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    signer_name: Mapped[str] = mapped_column(String(200))
    signed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    out_of_specification: Mapped[bool] = mapped_column(Boolean)
    deviation_reference: Mapped[str | None] = mapped_column(String(60))
    reason: Mapped[str | None] = mapped_column(String(500))
    # The stock document that moved the lot's stock (None if nothing was left in quarantine).
    document_id: Mapped[BigId | None] = mapped_column(ForeignKey("stock_documents.id"))


class StorageMonitoring(Base):
    """How a warehouse's readings are judged: how long it may stay outside its permitted
    range before that is an excursion, and how often its loggers read (a longer silence is
    a gap). The permitted range itself is the warehouse's (temperature band, humidity)."""

    __tablename__ = "storage_monitoring"
    __table_args__ = (
        CheckConstraint("allowance_minutes >= 0", name="allowance_not_negative"),
        CheckConstraint("logging_interval_minutes > 0", name="interval_positive"),
    )

    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"), primary_key=True)
    allowance_minutes: Mapped[int] = mapped_column(Integer)
    logging_interval_minutes: Mapped[int] = mapped_column(Integer)
    updated_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class DataLogger(Base):
    """A temperature/humidity data logger of a warehouse, posting readings with its own
    token (only the token's SHA-256 is stored)."""

    __tablename__ = "data_loggers"

    id: Mapped[int] = mapped_column(primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    code: Mapped[str] = mapped_column(String(40), unique=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The quality user who registered it: postings its readings cause are made in their name.
    registered_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class StorageReading(Base):
    """One reading of a warehouse: temperature (°C) and relative humidity (%). Append-only
    (database triggers refuse UPDATE and DELETE); one reading per warehouse and instant."""

    __tablename__ = "storage_readings"

    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"), primary_key=True)
    read_at: Mapped[dt.datetime] = mapped_column(primary_key=True)
    temperature: Mapped[Decimal] = mapped_column(READING)
    humidity: Mapped[Decimal | None] = mapped_column(READING)
    logger_id: Mapped[int | None] = mapped_column(ForeignKey("data_loggers.id"))


class StorageExcursion(Base):
    """A time a warehouse was outside its permitted range for longer than allowed (with the
    extremes it reached), or a gap in its readings (state unknown). ``ended_at`` is the
    first reading back in range (None while it lasts); ``held_document_id`` the hold that
    put what it touched in quarantine."""

    __tablename__ = "storage_excursions"
    __table_args__ = (
        UniqueConstraint("warehouse_id", "kind", "started_at"),
        Index("ix_storage_excursions_time", "warehouse_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    kind: Mapped[ExcursionKind] = mapped_column(str_enum(ExcursionKind, "excursion_kind"))
    started_at: Mapped[dt.datetime] = mapped_column()
    ended_at: Mapped[dt.datetime | None] = mapped_column()
    minutes: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    min_temperature: Mapped[Decimal | None] = mapped_column(READING)
    max_temperature: Mapped[Decimal | None] = mapped_column(READING)
    max_humidity: Mapped[Decimal | None] = mapped_column(READING)
    detected_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    held_document_id: Mapped[BigId | None] = mapped_column(ForeignKey("stock_documents.id"))
    # False while what it touched is still to be answered: when first found, and again each
    # time later readings widen it (it lasts longer or goes further out of range).
    held: Mapped[bool] = mapped_column(Boolean, default=False)
    # What it touched: held batches with their lots, and those already in quarantine or blocked.
    batches: Mapped[list[ExcursionBatch]] = relationship(order_by="ExcursionBatch.id", lazy="selectin",
                                                         viewonly=True)


class ExcursionBatch(Base):
    """A batch an excursion touched: held by it (``stock_status`` unrestricted, moved to
    quarantine under ``lot_id``), or already in quarantine or blocked for another reason
    and only referenced, so QA knows the excursion when it decides on the batch. Rows are
    added each time a widened excursion is answered again; never edited."""

    __tablename__ = "excursion_batches"
    __table_args__ = (
        Index("ix_excursion_batches_excursion", "excursion_id", "batch_id"),
        Index("ix_excursion_batches_batch", "batch_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    excursion_id: Mapped[int] = mapped_column(ForeignKey("storage_excursions.id"))
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    material_id: Mapped[int] = mapped_column(ForeignKey("materials.id"))
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    # The batch's status in the warehouse when the excursion was answered.
    stock_status: Mapped[StockStatus] = mapped_column(str_enum(StockStatus, "stock_status"))
    quantity: Mapped[Quantity]
    # The lot the hold opened (None for stock already in quarantine or blocked).
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("inspection_lots.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
