"""Production's tables: bills of materials, cost-centre rates, cost roll-ups.

A bill of materials (BOM, 物料清单) belongs to one company and one made material (an
intermediate such as an API, or a finished product). It is versioned and effective-dated:
the BOM in force on a date is the company's latest version of the material valid from that
date or earlier. A version is never edited; a change is a new version (and an audit row).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from erp.db import Base, Money, Quantity, UnitPrice, utcnow
from erp.masterdata.models import str_enum
from erp.period import Period

# Quantities per base quantity and costs per base quantity keep six decimals: a tablet's
# share of a kilogram of API is 0.0001 kg, and its cost is a fraction of a cent.
FINE = Numeric(20, 6)
PERCENT = Numeric(5, 2)
HOURS = Numeric(18, 4)


class CostCenterRate(Base):
    """A company's standard rates of a production cost centre (工作中心) from a period on,
    per hour: labour (直接人工) and overhead (制造费用). The rate in force for a period is the
    one set for the latest period at or before it, like standard prices."""

    __tablename__ = "cost_center_rates"
    __table_args__ = (
        UniqueConstraint("company_id", "cost_center", "period"),
        CheckConstraint("labour_rate >= 0 AND overhead_rate >= 0", name="rates_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    cost_center: Mapped[str] = mapped_column(String(32))
    period: Mapped[Period] = mapped_column()
    labour_rate: Mapped[UnitPrice]
    overhead_rate: Mapped[UnitPrice]
    set_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    set_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Bom(Base):
    """One version of a material's bill of materials in one company: what ``base_quantity``
    of the material takes (its components) and how many hours of which cost centre."""

    __tablename__ = "boms"
    __table_args__ = (
        UniqueConstraint("company_id", "material_id", "version"),
        Index("ix_boms_in_force", "company_id", "material_id", "valid_from"),
        CheckConstraint("base_quantity > 0", name="base_quantity_positive"),
        CheckConstraint("hours >= 0", name="hours_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    material_id: Mapped[int] = mapped_column(ForeignKey("materials.id"))
    version: Mapped[int]
    valid_from: Mapped[dt.date] = mapped_column(Date)
    base_quantity: Mapped[Quantity]
    cost_center: Mapped[str | None] = mapped_column(String(32))
    hours: Mapped[Decimal] = mapped_column(HOURS, default=Decimal("0"))
    note: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    components: Mapped[list[BomComponent]] = relationship(
        order_by="BomComponent.line_no", cascade="all, delete-orphan", lazy="selectin")


class BomComponent(Base):
    """A component of a BOM: ``quantity`` per the BOM's base quantity, plus ``scrap_pct``
    percent for what the process loses (the quantity the roll-up and orders plan is
    quantity x (1 + scrap_pct / 100))."""

    __tablename__ = "bom_components"
    __table_args__ = (
        UniqueConstraint("bom_id", "line_no"),
        UniqueConstraint("bom_id", "material_id"),
        Index("ix_bom_components_material", "material_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("scrap_pct >= 0 AND scrap_pct < 100", name="scrap_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    bom_id: Mapped[int] = mapped_column(ForeignKey("boms.id"))
    line_no: Mapped[int]
    material_id: Mapped[int] = mapped_column(ForeignKey("materials.id"))
    quantity: Mapped[Decimal] = mapped_column(FINE)
    scrap_pct: Mapped[Decimal] = mapped_column(PERCENT, default=Decimal("0"))


class RollupStatus(StrEnum):
    COMPUTED = "computed"
    RELEASED = "released"


class CostRollup(Base):
    """One run of the standard cost roll-up for a company and period. A computed run may be
    run again (it is replaced); a released one set the period's standard prices."""

    __tablename__ = "cost_rollups"
    # One run per company and period: two first runs at the same moment cannot both be
    # written (the second is refused, ``RollupRunConcurrently``), so neither can both be released.
    __table_args__ = (Index("uq_cost_rollups_company_period", "company_id", "period", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    period: Mapped[Period] = mapped_column()
    status: Mapped[RollupStatus] = mapped_column(str_enum(RollupStatus, "rollup_status"))
    levels: Mapped[int] = mapped_column(default=0)
    run_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    run_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    released_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    released_at: Mapped[dt.datetime | None]


class CostEstimate(Base):
    """A made material's standard cost from one roll-up: per its BOM's base quantity, the
    material cost, labour and overhead, and the resulting unit cost (the standard price the
    release sets), rounded half-up to the price's six decimals. ``level`` is 1 for a
    material made only from bought ones, n + 1 for one using a level-n material."""

    __tablename__ = "cost_estimates"
    __table_args__ = (UniqueConstraint("rollup_id", "material_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rollup_id: Mapped[int] = mapped_column(ForeignKey("cost_rollups.id", ondelete="CASCADE"))
    material_id: Mapped[int] = mapped_column(ForeignKey("materials.id"))
    bom_id: Mapped[int] = mapped_column(ForeignKey("boms.id"))
    level: Mapped[int]
    base_quantity: Mapped[Quantity]
    material_cost: Mapped[Decimal] = mapped_column(FINE)
    labour_cost: Mapped[Decimal] = mapped_column(FINE)
    overhead_cost: Mapped[Decimal] = mapped_column(FINE)
    unit_cost: Mapped[UnitPrice]


class CostElement(StrEnum):
    MATERIAL = "material"
    LABOUR = "labour"
    OVERHEAD = "overhead"


class CostEstimateLine(Base):
    """The cost breakdown of an estimate, per base quantity: one line per component
    (quantity with its scrap allowance, price: the component's standard or its own
    roll-up cost) and one each for labour and overhead (quantity: hours, price: the rate)."""

    __tablename__ = "cost_estimate_lines"
    __table_args__ = (Index("ix_cost_estimate_lines_rollup", "rollup_id", "material_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rollup_id: Mapped[int] = mapped_column(ForeignKey("cost_rollups.id", ondelete="CASCADE"))
    material_id: Mapped[int] = mapped_column(ForeignKey("materials.id"))
    element: Mapped[CostElement] = mapped_column(str_enum(CostElement, "cost_element"))
    component_id: Mapped[int | None] = mapped_column(ForeignKey("materials.id"))
    quantity: Mapped[Decimal] = mapped_column(FINE)
    price: Mapped[UnitPrice]
    amount: Mapped[Decimal] = mapped_column(FINE)


class OrderStatus(StrEnum):
    """created -> released -> completed (technically complete: no more issues or deliveries);
    a created order may be cancelled. An order's variance is settled by the close of the
    period it was completed in (``settled_period``)."""

    CREATED = "created"
    RELEASED = "released"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


ORDER_TRANSITIONS = {
    OrderStatus.CREATED: frozenset({OrderStatus.RELEASED, OrderStatus.CANCELLED}),
    OrderStatus.RELEASED: frozenset({OrderStatus.COMPLETED}),
    OrderStatus.COMPLETED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
}


class ProductionOrder(Base):
    """An order to make ``quantity`` of a material in a company from the BOM in force on its
    date, delivered into ``warehouse_id``. The BOM's base quantity, hours and the cost
    centre's rates in force are copied when the order is created: the order is costed by
    what was planned, whatever later versions say."""

    __tablename__ = "production_orders"
    __table_args__ = (
        Index("ix_production_orders_company_status", "company_id", "status"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("delivered_quantity >= 0", name="delivered_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    material_id: Mapped[int] = mapped_column(ForeignKey("materials.id"))
    bom_id: Mapped[int] = mapped_column(ForeignKey("boms.id"))
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    quantity: Mapped[Quantity]
    order_date: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[OrderStatus] = mapped_column(str_enum(OrderStatus, "production_order_status"))
    base_quantity: Mapped[Quantity]
    hours: Mapped[Decimal] = mapped_column(HOURS)
    labour_rate: Mapped[UnitPrice]
    overhead_rate: Mapped[UnitPrice]
    delivered_quantity: Mapped[Quantity] = mapped_column(default=Decimal("0"))
    completed_on: Mapped[dt.date | None] = mapped_column(Date)
    settled_period: Mapped[Period | None] = mapped_column()
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    released_at: Mapped[dt.datetime | None]

    components: Mapped[list[ProductionOrderComponent]] = relationship(
        order_by="ProductionOrderComponent.line_no", lazy="selectin")

    @property
    def number(self) -> str:
        """``MO-00000042``: what people quote (the key, zero-padded like stock documents)."""
        return f"MO-{self.id:08d}"


class ProductionOrderComponent(Base):
    """A component line of an order, copied from the BOM: its quantity per base quantity
    with the scrap allowance, the quantity planned for the order, and the standard price
    the material was costed at (the roll-up's price, else the standard in force when the
    order was created): the variance's quantities are valued at it, and an issue valued at
    another standard makes an input price variance."""

    __tablename__ = "production_order_components"
    __table_args__ = (UniqueConstraint("order_id", "material_id"), UniqueConstraint("order_id", "line_no"))

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("production_orders.id"))
    line_no: Mapped[int]
    material_id: Mapped[int] = mapped_column(ForeignKey("materials.id"))
    quantity_per_base: Mapped[Decimal] = mapped_column(FINE)
    scrap_pct: Mapped[Decimal] = mapped_column(PERCENT)
    planned_quantity: Mapped[Quantity]
    planned_price: Mapped[UnitPrice]


class OrderDocumentKind(StrEnum):
    ISSUE = "issue"
    DELIVERY = "delivery"


class ProductionOrderDocument(Base):
    """A stock document posted for an order: a component issue or a delivery of output.
    Deliveries record the conversion cost they absorbed (labour and overhead at standard
    rates for the quantity delivered), which the journal entry of the delivery posted."""

    __tablename__ = "production_order_documents"
    __table_args__ = (Index("ix_production_order_documents_order", "order_id", "kind"),)

    document_id: Mapped[int] = mapped_column(ForeignKey("stock_documents.id"), primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("production_orders.id"))
    kind: Mapped[OrderDocumentKind] = mapped_column(str_enum(OrderDocumentKind, "order_document_kind"))
    posting_date: Mapped[dt.date] = mapped_column(Date)
    labour: Mapped[Money] = mapped_column(default=Decimal("0"))
    overhead: Mapped[Money] = mapped_column(default=Decimal("0"))


class BatchRole(StrEnum):
    INPUT = "input"
    OUTPUT = "output"


class ProductionOrderBatch(Base):
    """Batch genealogy: which batches went into an order (input) and which it made
    (output). Written with every issue and delivery; the recall queries walk it both ways."""

    __tablename__ = "production_order_batches"
    __table_args__ = (Index("ix_production_order_batches_batch", "batch_id", "role"),)

    order_id: Mapped[int] = mapped_column(ForeignKey("production_orders.id"), primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), primary_key=True)
    role: Mapped[BatchRole] = mapped_column(str_enum(BatchRole, "batch_role"), primary_key=True)


class VarianceCategory(StrEnum):
    """The categories an order's variance is split into (docs/production.md):

    input_quantity: per component, (issued - target quantity for what was delivered) x
    the planned price: more or less of a component than the BOM allows;
    input_price: per component, the issues' value at the standards in force when issued
    (plus the material cost variance the closes allocated to them) less the issued quantity
    at the planned price: a component's standard changed, or it was bought off standard;
    lot_size: the rest of the order's balance (conversion, output valued at a standard that
    differs from the sum of its target costs, rounding): lot-size and remaining variance."""

    INPUT_QUANTITY = "input_quantity"
    INPUT_PRICE = "input_price"
    LOT_SIZE = "lot_size"


class ProductionOrderVariance(Base):
    """A completed order's variance, by category and component, as the close of ``period``
    settled it (amounts in CNY: positive unfavourable, the order cost more than standard)."""

    __tablename__ = "production_order_variances"
    __table_args__ = (Index("ix_production_order_variances_company_period", "company_id", "period"),
                      Index("ix_production_order_variances_order", "order_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    period: Mapped[Period] = mapped_column()
    order_id: Mapped[int] = mapped_column(ForeignKey("production_orders.id"))
    category: Mapped[VarianceCategory] = mapped_column(str_enum(VarianceCategory, "variance_category"))
    component_id: Mapped[int | None] = mapped_column(ForeignKey("materials.id"))
    actual_quantity: Mapped[Quantity | None]
    target_quantity: Mapped[Quantity | None]
    amount: Mapped[Money]


class ProductionSettlement(Base):
    """The journal entry with which a company's close settled its completed orders."""

    __tablename__ = "production_settlements"

    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), primary_key=True)
    period: Mapped[Period] = mapped_column(primary_key=True)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"))
    orders: Mapped[int] = mapped_column(default=0)
