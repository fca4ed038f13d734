"""Sales' desk: the sales orders of the caller's companies with their value and status, the
choices of the order form (the caller's companies, active customers and materials, the
company's warehouses), and what an order page shows beside the order (its invoices and the
stock documents that shipped it).

Read-only queries for sales' pages (erp/credit/sales_pages.py); the rules (creating,
confirming under the credit check, shipping, cancelling) are ``erp.credit.services``'.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select, tuple_
from sqlalchemy.orm import Session

from erp.auth.roles import Actor, Role
from erp.credit import services
from erp.credit.exposure import CreditPolicy, decide, open_line_value_sql, open_order_value
from erp.credit.services import CreditPosition
from erp.credit.models import Invoice, InvoiceLine, SalesOrder, SalesOrderLine, SalesOrderStatus
from erp.db import page
from erp.posting.models import Batch, StockBalance, StockDocument, StockStatus
from erp.masterdata.tax import line_amounts
from erp.masterdata.models import Company, Customer, Material, TaxCode, UnitOfMeasure, Warehouse
from erp.masterdata.services import company_for_customer
from erp.purchasing.models import OPEN_FOR_RECEIPT_STATUSES, PurchaseOrder, PurchaseOrderLine
from erp.search import contains_text

ZERO = Decimal("0")
SALES_ROLES = (Role.SALES,)
ORDER_SORTS = {"number": SalesOrder.number, "date": SalesOrder.order_date, "customer": Customer.code,
               "value": "order_value"}


def _values() -> Any:
    """Per order: its value (every line, VAT included, as the invoices will read) and what is
    still to ship of it (the exposure's rule, erp.credit.exposure.open_line_value)."""
    return (select(SalesOrderLine.order_id,
                   func.sum(open_line_value_sql(SalesOrderLine.quantity)).label("order_value"),
                   func.sum(open_line_value_sql()).label("open_value"))
            .group_by(SalesOrderLine.order_id).subquery("order_values"))


def orders_query(actor: Actor, *, q: str | None = None, status: SalesOrderStatus | None = None) -> Select[Any]:
    """Sales orders of the caller's companies with company, customer and value; ``q``: part
    of the order's number, the customer's code or name or the customer's reference."""
    values = _values()
    query = (
        select(SalesOrder.id, SalesOrder.number, SalesOrder.order_date, SalesOrder.status,
               SalesOrder.customer_reference, SalesOrder.credit_released,
               Company.code.label("company_code"), Company.name_zh.label("company_name_zh"),
               Company.name_en.label("company_name_en"), Customer.code.label("customer_code"),
               Customer.name_zh.label("customer_name_zh"), Customer.name_en.label("customer_name_en"),
               func.coalesce(values.c.order_value, ZERO).label("order_value"),
               func.coalesce(values.c.open_value, ZERO).label("open_value"))
        .join(Company, Company.id == SalesOrder.company_id)
        .join(Customer, Customer.id == SalesOrder.customer_id)
        .outerjoin(values, values.c.order_id == SalesOrder.id)
        .where(actor.company_scope(SalesOrder.company_id))
    )
    if q:
        query = query.where(contains_text(q.strip(), SalesOrder.number, Customer.code, Customer.name_zh,
                                          Customer.name_en, SalesOrder.customer_reference))
    if status is not None:
        query = query.where(SalesOrder.status == status)
    return query


@dataclass(frozen=True)
class OrderTotals:
    order_value: Decimal
    open_value: Decimal


def orders(session: Session, actor: Actor, *, q: str | None = None, status: SalesOrderStatus | None = None,
           sort: str = "date", descending: bool = True, offset: int = 0, limit: int = 20
           ) -> tuple[list[Any], int, OrderTotals]:
    """A page of ``orders_query``, sorted, and the totals of every order the filters keep."""
    actor.require_role(*SALES_ROLES, action="reading sales orders")
    query = orders_query(actor, q=q, status=status)
    column = ORDER_SORTS.get(sort, SalesOrder.order_date)
    key = query.selected_columns[column] if isinstance(column, str) else column
    rows, total = page(session, query.order_by(key.desc() if descending else key.asc(),
                                               SalesOrder.id.desc() if descending else SalesOrder.id),
                       offset=offset, limit=limit)
    found = query.subquery()
    sums = session.execute(select(func.coalesce(func.sum(found.c.order_value), ZERO),
                                  func.coalesce(func.sum(found.c.open_value), ZERO))).one()
    return rows, total, OrderTotals(sums[0], sums[1])


@dataclass(frozen=True)
class FormChoices:
    companies: list[Company]
    customers: list[Customer]
    materials: list[Any]
    warehouses: list[Warehouse]
    tax_codes: list[TaxCode]
    # customer id -> the code of the group company it stands for (intercompany orders)
    group_customers: dict[int, str] = field(default_factory=dict)


def form_choices(session: Session, actor: Actor, company_id: int | None) -> FormChoices:
    """What the order form offers: the caller's companies, the active customers (by code and
    name), the active materials with their unit, the warehouses of ``company_id`` and the active tax
    codes (a line without one takes the customer's, else the material's default)."""
    actor.require_role(*SALES_ROLES, action="taking sales orders")
    companies = list(session.scalars(select(Company).where(actor.company_scope(Company.id)).order_by(Company.code)))
    customers = list(session.scalars(select(Customer).where(Customer.active).order_by(Customer.code)))
    materials = list(session.execute(
        select(Material.id, Material.code, Material.name_zh, Material.name_en, UnitOfMeasure.code.label("unit_code"))
        .join(UnitOfMeasure, UnitOfMeasure.id == Material.unit_id)
        .where(Material.active).order_by(Material.code)).all())
    warehouses = [] if company_id is None else list(session.scalars(
        select(Warehouse).where(Warehouse.company_id == company_id, Warehouse.active).order_by(Warehouse.code)))
    tax_codes = list(session.scalars(select(TaxCode).where(TaxCode.active).order_by(TaxCode.code)))
    group = {customer_id: code for customer_id, code in session.execute(
        select(Company.customer_id, Company.code).where(Company.customer_id.is_not(None)))}
    return FormChoices(companies, customers, materials, warehouses, tax_codes, group)


@dataclass(frozen=True)
class PartnerLine:
    """A buying group company's purchase order line an intercompany order may fill, as the
    selling company's salesperson sees it: only what the order needs (the buyer's order number
    and line, material, what is still to fill, the intercompany contract price), nothing of the
    buyer's other orders, suppliers, warehouses or amounts (finding 111)."""

    po_line_id: int
    order_number: str
    line_no: int
    material_id: int
    material_code: str
    material_name_zh: str
    material_name_en: str
    unit_code: str
    unit_price: Decimal
    ordered: Decimal
    room: Decimal  # what an order may still fill of it (erp.credit.services.partner_line_room)

    @property
    def price_text(self) -> str:
        """The contract price as the price input takes it: two places at least (320.00, 0.045)."""
        whole, _, fraction = f"{self.unit_price:f}".partition(".")
        return f"{whole}.{fraction.rstrip('0').ljust(2, '0')}"


@dataclass(frozen=True)
class PartnerLines:
    """The buying group company a customer stands for, and its open purchase order lines placed
    with the selling company (empty when the seller has no supplier record in the master)."""

    buyer: Company
    seller_has_supplier_record: bool
    lines: list[PartnerLine]

    def by_id(self) -> dict[int, PartnerLine]:
        return {line.po_line_id: line for line in self.lines}


def partner_lines(session: Session, actor: Actor, *, company_id: int | None,
                  customer_id: int | None) -> PartnerLines | None:
    """When ``customer_id`` stands for another company of the group: that buyer and its
    purchase order lines placed with ``company_id``'s supplier record that are open for
    receipt, each with the room left on it (what other sales orders will still deliver taken
    off), in order number and line order; None for a customer outside the group. Read only:
    the order's creation locks the line and checks again."""
    actor.require_role(*SALES_ROLES, action="taking sales orders")
    if company_id is None or customer_id is None or not actor.acts_for_company(company_id):
        return None
    buyer = company_for_customer(session, customer_id)
    seller = session.get(Company, company_id)
    if buyer is None or seller is None or buyer.id == company_id:
        return None
    if seller.supplier_id is None:
        return PartnerLines(buyer, False, [])
    rows = session.execute(
        select(PurchaseOrderLine, PurchaseOrder.number, Material.code, Material.name_zh, Material.name_en,
               UnitOfMeasure.code)
        .join(PurchaseOrder, PurchaseOrder.id == PurchaseOrderLine.order_id)
        .join(Material, Material.id == PurchaseOrderLine.material_id)
        .join(UnitOfMeasure, UnitOfMeasure.id == Material.unit_id)
        .where(PurchaseOrder.receiving_company_id == buyer.id, PurchaseOrder.supplier_id == seller.supplier_id,
               PurchaseOrder.status.in_(OPEN_FOR_RECEIPT_STATUSES))
        .order_by(PurchaseOrder.number, PurchaseOrderLine.line_no)).all()
    lines = [PartnerLine(line.id, number, line.line_no, line.material_id, code, zh, en, unit, line.unit_price,
                         line.quantity, services.partner_line_room(session, line).leaves)
             for line, number, code, zh, en, unit in rows]
    return PartnerLines(buyer, True, lines)


@dataclass(frozen=True)
class OrderLineView:
    line: SalesOrderLine
    material: Any
    warehouse: Warehouse
    unit_code: str
    value: Decimal  # the line's value, VAT included
    open_quantity: Decimal


@dataclass(frozen=True)
class OrderView:
    order: SalesOrder
    company: Company
    customer: Customer
    lines: list[OrderLineView]
    value: Decimal
    invoices: list[Any]
    shipments: list[Any]
    # (warehouse, material) -> unrestricted batches there, first expiry first: what a
    # shipment may name (none named: the shipment takes them first expiry first out)
    batches: dict[tuple[int, int], list[Any]]


def order_view(session: Session, actor: Actor, order: SalesOrder) -> OrderView:
    """What an order's page shows beside the order (read with ``queries.get_order``, which
    scopes it): names of its company, customer, materials and warehouses, each line's value
    (VAT included) and what is still to ship, its invoices (AR- numbers) and the stock
    documents that shipped it."""
    actor.require_role(*SALES_ROLES, action="reading sales orders")
    company = session.get(Company, order.company_id)
    customer = session.get(Customer, order.customer_id)
    assert company is not None and customer is not None
    material_ids = [line.material_id for line in order.lines]
    materials = {row.id: row for row in session.execute(
        select(Material.id, Material.code, Material.name_zh, Material.name_en, UnitOfMeasure.code.label("unit_code"))
        .join(UnitOfMeasure, UnitOfMeasure.id == Material.unit_id).where(Material.id.in_(material_ids))).all()}
    warehouses = {w.id: w for w in session.scalars(
        select(Warehouse).where(Warehouse.id.in_([line.warehouse_id for line in order.lines])))}
    lines = [OrderLineView(line, materials[line.material_id], warehouses[line.warehouse_id],
                           materials[line.material_id].unit_code,
                           line_amounts(line.quantity, line.unit_price, line.tax_rate).gross,
                           line.quantity - line.shipped_quantity) for line in order.lines]
    invoices = list(session.execute(
        select(Invoice.id, Invoice.document_number, Invoice.invoice_date, Invoice.due_date, Invoice.amount,
               Invoice.open_amount, Invoice.status)
        .where(Invoice.order_id == order.id).order_by(Invoice.invoice_date, Invoice.id)).all())
    shipments = list(session.execute(
        select(InvoiceLine.invoice_id, StockDocument.number, StockDocument.posting_date, InvoiceLine.quantity,
               InvoiceLine.amount, Material.code.label("material_code"), Material.name_zh.label("material_name_zh"),
               Material.name_en.label("material_name_en"), UnitOfMeasure.code.label("unit_code"))
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .join(StockDocument, StockDocument.id == InvoiceLine.stock_document_id)
        .join(Material, Material.id == InvoiceLine.material_id)
        .join(UnitOfMeasure, UnitOfMeasure.id == Material.unit_id)
        .where(Invoice.order_id == order.id).order_by(Invoice.id, InvoiceLine.id)).all())
    batches: dict[tuple[int, int], list[Any]] = {}
    for row in session.execute(
            select(StockBalance.warehouse_id, StockBalance.material_id, StockBalance.batch_id, Batch.batch_number,
                   Batch.expiry_date, StockBalance.quantity)
            .join(Batch, Batch.id == StockBalance.batch_id)
            .where(StockBalance.status == StockStatus.UNRESTRICTED, StockBalance.quantity > 0,
                   tuple_(StockBalance.warehouse_id, StockBalance.material_id).in_(
                       [(line.warehouse_id, line.material_id) for line in order.lines]))
            .order_by(Batch.expiry_date, Batch.batch_number)).all():
        batches.setdefault((row.warehouse_id, row.material_id), []).append(row)
    return OrderView(order, company, customer, lines, sum((line.value for line in lines), ZERO), invoices,
                     shipments, batches)


def order_credit(session: Session, actor: Actor, order: SalesOrder, policy: CreditPolicy) -> CreditPosition:
    """The credit check the order faces now, in the terms the credit controller reads: for a
    draft or blocked order, confirming it (its open value joins the exposure); for a
    confirmed one, shipping it (its value is in the exposure already: the exposure as it
    stands against the limit, unless a controller released the order)."""
    actor.require_role(*SALES_ROLES, action="reading sales orders")
    if order.status in (SalesOrderStatus.DRAFT, SalesOrderStatus.BLOCKED):
        return services.credit_position(session, actor, order.customer_id, policy=policy,
                                        amount=open_order_value(order.lines))
    position = services.credit_position(session, actor, order.customer_id, policy=policy)
    if order.credit_released:
        return services.CreditPosition(position.customer, position.position,
                                       decide(position.position, ZERO, policy, released=True,
                                              customer_blocked=position.customer.blocked,
                                              customer=position.customer))
    return position
