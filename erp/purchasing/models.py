"""Contracts with suppliers, purchasing exceptions, and purchase orders.

A purchase order line always carries the price of a contract line; there is no other
way for a price to enter the system.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from erp.db import Base, Money, Quantity, UnitPrice, utcnow
from erp.masterdata.models import str_enum


class ContractScope(StrEnum):
    """A group contract serves every company; a company contract serves one."""

    GROUP = "group"
    COMPANY = "company"


class ContractStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    EXPIRED = "expired"
    TERMINATED = "terminated"


class PurchaseOrderStatus(StrEnum):
    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"
    OPEN = "open"
    PARTIALLY_RECEIVED = "partially_received"
    RECEIVED = "received"
    CLOSED = "closed"
    CANCELLED = "cancelled"


# Goods may be received against orders in these states only.
RECEIVABLE_STATUSES = frozenset({PurchaseOrderStatus.OPEN, PurchaseOrderStatus.PARTIALLY_RECEIVED})


class Contract(Base):
    """A framework agreement with a supplier: prices per material for a validity period."""

    __tablename__ = "contracts"
    __table_args__ = (
        CheckConstraint("valid_from <= valid_to", name="validity"),
        CheckConstraint(
            "(scope = 'group' AND company_id IS NULL) OR (scope = 'company' AND company_id IS NOT NULL)",
            name="scope_company",
        ),
        Index("ix_contracts_supplier_validity", "supplier_id", "valid_from", "valid_to"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"))
    scope: Mapped[ContractScope] = mapped_column(str_enum(ContractScope, "contract_scope"))
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id"), index=True)
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[ContractStatus] = mapped_column(
        str_enum(ContractStatus, "contract_status"), default=ContractStatus.DRAFT
    )
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    activated_at: Mapped[dt.datetime | None]
    terminated_at: Mapped[dt.datetime | None]
    terminated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    termination_reason: Mapped[str | None] = mapped_column(String(500))

    lines: Mapped[list[ContractLine]] = relationship(
        back_populates="contract", cascade="all, delete-orphan", order_by="ContractLine.id"
    )


class ContractLine(Base):
    """The contracted unit price of one material, and how much has been ordered against it."""

    __tablename__ = "contract_lines"
    __table_args__ = (
        UniqueConstraint("contract_id", "material_id"),
        CheckConstraint("unit_price > 0", name="price_positive"),
        CheckConstraint("target_quantity IS NULL OR target_quantity > 0", name="target_positive"),
        CheckConstraint("ordered_quantity >= 0", name="ordered_not_negative"),
        Index("ix_contract_lines_material", "material_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"))
    material_id: Mapped[int] = mapped_column(ForeignKey("materials.id"))
    unit_price: Mapped[UnitPrice]
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    target_quantity: Mapped[Quantity | None]
    # Kept current by order placement and cancellation (contract consumption).
    ordered_quantity: Mapped[Quantity] = mapped_column(default=Decimal("0"))

    contract: Mapped[Contract] = relationship(back_populates="lines")


class PurchasingException(Base):
    """A steward's dated permission for a company to buy a central material itself
    (an emergency purchase, a supplier that only serves one region)."""

    __tablename__ = "purchasing_exceptions"
    __table_args__ = (
        CheckConstraint("valid_from <= valid_to", name="validity"),
        Index("ix_purchasing_exceptions_lookup", "company_id", "material_id", "valid_from"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    material_id: Mapped[int] = mapped_column(ForeignKey("materials.id"))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(500))
    granted_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    granted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[dt.datetime | None]
    revoked_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class DocumentSequence(Base):
    """The next number of a document series (one row per series, locked while numbering)."""

    __tablename__ = "document_sequences"

    series: Mapped[str] = mapped_column(String(64), primary_key=True)
    next_value: Mapped[int] = mapped_column(default=1)


class PurchaseOrder(Base):
    """An order placed by a purchasing organisation (central purchasing or a company)
    for delivery to a receiving company."""

    __tablename__ = "purchase_orders"
    __table_args__ = (
        Index("ix_purchase_orders_company_status", "receiving_company_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Numbers carry the purchasing organisation's code, so they are unique per organisation
    # and, being globally unique, never ambiguous in a document reference.
    number: Mapped[str] = mapped_column(String(40), unique=True)
    # NULL: the group's central purchasing; otherwise the company's local purchasing.
    purchasing_company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id"))
    receiving_company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"), index=True)
    order_date: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[PurchaseOrderStatus] = mapped_column(
        str_enum(PurchaseOrderStatus, "purchase_order_status"), default=PurchaseOrderStatus.DRAFT
    )
    total_amount: Mapped[Money] = mapped_column(default=Decimal("0"))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[dt.datetime | None]
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[dt.datetime | None]
    cancelled_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    cancelled_at: Mapped[dt.datetime | None]
    status_reason: Mapped[str | None] = mapped_column(String(500))

    lines: Mapped[list[PurchaseOrderLine]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="PurchaseOrderLine.line_no"
    )


class PurchaseOrderLine(Base):
    """One material on an order, at the price of the contract line it was ordered under."""

    __tablename__ = "purchase_order_lines"
    __table_args__ = (
        UniqueConstraint("order_id", "line_no"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("received_quantity >= 0", name="received_not_negative"),
        Index("ix_purchase_order_lines_warehouse", "warehouse_id"),
        Index("ix_purchase_order_lines_contract_line", "contract_line_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("purchase_orders.id"))
    line_no: Mapped[int]
    material_id: Mapped[int] = mapped_column(ForeignKey("materials.id"))
    quantity: Mapped[Quantity]
    # Copied from the contract line when the order is placed; never sent by a client.
    unit_price: Mapped[UnitPrice]
    amount: Mapped[Money]
    contract_line_id: Mapped[int] = mapped_column(ForeignKey("contract_lines.id"))
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    # Kept current by goods receipts and their reversals (erp.purchasing.receiving).
    received_quantity: Mapped[Quantity] = mapped_column(default=Decimal("0"))

    order: Mapped[PurchaseOrder] = relationship(back_populates="lines")
