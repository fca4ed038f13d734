"""Contracts with suppliers, purchasing exceptions, and purchase orders.

A purchase order line always carries the price of a contract line; there is no other
way for a price to enter the system.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, ColumnElement, Date, ForeignKey, Index, String, UniqueConstraint, and_, case
from sqlalchemy.ext.hybrid import hybrid_method
from sqlalchemy.orm import Mapped, mapped_column, relationship

from erp.clock import business_today
from erp.db import Base, Money, Quantity, UnitPrice, utcnow
from erp.masterdata.models import Company, Material, Supplier, UnitOfMeasure, Warehouse, str_enum
from erp.purchasing.rights import ExceptionWindow

class ContractScope(StrEnum):
    """A group contract serves every company; a company contract serves one."""

    GROUP = "group"
    COMPANY = "company"


class ContractStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    EXPIRED = "expired"
    TERMINATED = "terminated"


class ExceptionState(StrEnum):
    """Where a purchasing exception stands on a day (computed from its dates and revocation,
    never written)."""

    UPCOMING = "upcoming"
    IN_FORCE = "in_force"
    ENDED = "ended"
    REVOKED = "revoked"


class PurchaseOrderStatus(StrEnum):
    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"
    OPEN = "open"
    PARTIALLY_RECEIVED = "partially_received"
    RECEIVED = "received"
    CLOSED = "closed"
    CANCELLED = "cancelled"


# Orders open for receipt: goods may be received against them in these states only. A
# received order stays open for receipt until the buyer closes it: its lines may still take
# deliveries within the material's over-receipt tolerance (a second delivery rounding up an
# exact first one is common with bulk materials), and closing is how the buyer says nothing
# more is expected (docs/purchasing.md, "Over-receipt tolerance").
OPEN_FOR_RECEIPT_STATUSES = frozenset({PurchaseOrderStatus.OPEN, PurchaseOrderStatus.PARTIALLY_RECEIVED,
                                       PurchaseOrderStatus.RECEIVED})

_C = ContractStatus
# Contracts that are not terminated are in force until their valid_to; after it they are
# expired. Expiry is computed from the date (``Contract.status_on``), never written by a
# job, so no contract shows "active" a day after it ended.
CONTRACT_LIVE_STATUSES = frozenset({_C.DRAFT, _C.ACTIVE})
# The life of a contract, as data: (from, to) pairs a command may perform.
CONTRACT_TRANSITIONS = frozenset({
    (_C.DRAFT, _C.ACTIVE),  # activate
    (_C.DRAFT, _C.TERMINATED),  # terminate (a draft that will not be signed)
    (_C.ACTIVE, _C.TERMINATED),  # terminate, with a reason
})

_S = PurchaseOrderStatus
# The life of a purchase order, as data: (from, to) pairs. Services and goods receipts
# move an order only along these pairs (``check_order_transition``).
ORDER_TRANSITIONS = frozenset({
    (_S.DRAFT, _S.PENDING_APPROVAL),  # submit, value above the approval threshold
    (_S.DRAFT, _S.OPEN),  # submit, value within the threshold
    (_S.PENDING_APPROVAL, _S.OPEN),  # approve
    (_S.PENDING_APPROVAL, _S.DRAFT),  # reject, with a reason
    (_S.DRAFT, _S.CANCELLED),  # cancel: only while nothing is received
    (_S.PENDING_APPROVAL, _S.CANCELLED),
    (_S.OPEN, _S.CANCELLED),
    (_S.OPEN, _S.PARTIALLY_RECEIVED),  # goods receipts (erp.purchasing.receiving)
    (_S.OPEN, _S.RECEIVED),
    (_S.PARTIALLY_RECEIVED, _S.RECEIVED),
    (_S.PARTIALLY_RECEIVED, _S.OPEN),  # receipt reversals
    (_S.RECEIVED, _S.PARTIALLY_RECEIVED),
    (_S.RECEIVED, _S.OPEN),
    (_S.OPEN, _S.CLOSED),  # close: nothing more is expected
    (_S.PARTIALLY_RECEIVED, _S.CLOSED),
    (_S.RECEIVED, _S.CLOSED),  # close a received order: no more deliveries within tolerance
})
# Contract consumption: an order's quantities count against its contract lines from
# submission on. Leaving these states (reject back to draft, cancel) releases them;
# closing keeps them, since what was ordered stays ordered.
CONSUMING_STATUSES = frozenset({
    _S.PENDING_APPROVAL, _S.OPEN, _S.PARTIALLY_RECEIVED, _S.RECEIVED, _S.CLOSED,
})
# Orders that may still change value or be placed: the ones a consumption warning concerns.
_WARNED_STATUSES = frozenset({_S.DRAFT, _S.PENDING_APPROVAL, _S.OPEN, _S.PARTIALLY_RECEIVED})


def transition_allowed(table: frozenset[tuple[Any, Any]], current: Any, target: Any) -> bool:
    """Whether the state machine ``table`` lets a record in ``current`` move to ``target``."""
    return (current, target) in table


@dataclass(frozen=True)
class ConsumptionWarning:
    """More has been (or would be) ordered against a contract line than its target."""

    contract_line_id: int
    contract_number: str
    material_code: str
    target_quantity: Decimal
    ordered_quantity: Decimal
    type: str = "contract-target-exceeded"

    @property
    def detail(self) -> str:
        return (
            f"contract {self.contract_number}, {self.material_code}: {self.ordered_quantity} ordered "
            f"against a target of {self.target_quantity}"
        )


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
    supplier: Mapped[Supplier] = relationship(lazy="raise_on_sql")
    company: Mapped[Company | None] = relationship(lazy="raise_on_sql")

    @hybrid_method
    def status_on(self, day: dt.date) -> ContractStatus:
        """The status on ``day``: a live contract whose validity has ended is expired."""
        if self.status in CONTRACT_LIVE_STATUSES and self.valid_to < day:
            return ContractStatus.EXPIRED
        return self.status

    @status_on.inplace.expression
    @classmethod
    def _status_on_expression(cls, day: dt.date) -> ColumnElement[Any]:
        live = [s.value for s in CONTRACT_LIVE_STATUSES]
        return case((and_(cls.status.in_(live), cls.valid_to < day), ContractStatus.EXPIRED.value), else_=cls.status)

    @property
    def effective_status(self) -> ContractStatus:
        """The status today."""
        return self.status_on(business_today())  # type: ignore[no-any-return]

    @property
    def consumption_warnings(self) -> list[ConsumptionWarning]:
        """Lines ordered past their target quantity (a warning, never a refusal)."""
        return [
            line.warning(line.ordered_quantity)
            for line in self.lines
            if line.target_quantity is not None and line.ordered_quantity > line.target_quantity
        ]


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
    material: Mapped[Material] = relationship(lazy="raise_on_sql")
    unit: Mapped[UnitOfMeasure] = relationship(lazy="raise_on_sql")

    @property
    def remaining_quantity(self) -> Decimal | None:
        """What is left of the target (negative past it); None without a target."""
        if self.target_quantity is None:
            return None
        return self.target_quantity - self.ordered_quantity

    def warning(self, ordered: Decimal) -> ConsumptionWarning:
        assert self.target_quantity is not None
        return ConsumptionWarning(
            contract_line_id=self.id, contract_number=self.contract.number, material_code=self.material.code,
            target_quantity=self.target_quantity, ordered_quantity=ordered,
        )


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

    company: Mapped[Company] = relationship(lazy="raise_on_sql")
    material: Mapped[Material] = relationship(lazy="raise_on_sql")

    @property
    def window(self) -> ExceptionWindow:
        return ExceptionWindow(self.valid_from, self.valid_to)

    def state_on(self, day: dt.date) -> ExceptionState:
        """Revoked, else upcoming, in force or ended on ``day`` (first and last days included,
        as the purchasing right reads them: ExceptionWindow.covers)."""
        if self.revoked_at is not None:
            return ExceptionState.REVOKED
        if self.window.covers(day):
            return ExceptionState.IN_FORCE
        return ExceptionState.UPCOMING if day < self.valid_from else ExceptionState.ENDED


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
    number: Mapped[str] = mapped_column(String(50), unique=True)
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
    supplier: Mapped[Supplier] = relationship(lazy="raise_on_sql")
    receiving_company: Mapped[Company] = relationship(foreign_keys=[receiving_company_id], lazy="raise_on_sql")
    purchasing_company: Mapped[Company | None] = relationship(
        foreign_keys=[purchasing_company_id], lazy="raise_on_sql"
    )

    @property
    def is_central(self) -> bool:
        """Placed by the group's central purchasing (not by a company)."""
        return self.purchasing_company_id is None

    @property
    def nothing_received(self) -> bool:
        return all(line.received_quantity == 0 for line in self.lines)

    @property
    def consumption_warnings(self) -> list[ConsumptionWarning]:
        """Contract lines this order takes (a draft: would take) past their target quantity."""
        if self.status not in _WARNED_STATUSES:
            return []
        pending: dict[int, Decimal] = {}
        contract_lines: dict[int, ContractLine] = {}
        for line in self.lines:
            contract_lines[line.contract_line_id] = line.contract_line
            if self.status == PurchaseOrderStatus.DRAFT:  # not counted yet: add it to see where it lands
                pending[line.contract_line_id] = pending.get(line.contract_line_id, Decimal(0)) + line.quantity
        warnings = []
        for line_id, contract_line in contract_lines.items():
            ordered = contract_line.ordered_quantity + pending.get(line_id, Decimal(0))
            if contract_line.target_quantity is not None and ordered > contract_line.target_quantity:
                warnings.append(contract_line.warning(ordered))
        return warnings


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
    # Of it, what the old system had received and not invoiced when the line was taken over at
    # go-live (erp.inventory.opening_receipts: credited to GR/IR against the opening balances).
    opening_received_quantity: Mapped[Quantity] = mapped_column(default=Decimal("0"), server_default="0")

    order: Mapped[PurchaseOrder] = relationship(back_populates="lines")
    material: Mapped[Material] = relationship(lazy="raise_on_sql")
    warehouse: Mapped[Warehouse] = relationship(lazy="raise_on_sql")
    contract_line: Mapped[ContractLine] = relationship(lazy="raise_on_sql")
