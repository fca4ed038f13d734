"""JSON shapes of the warehouse. There is no price field on any input: prices come from
contracts (receipts) and standard prices (everything else)."""

from __future__ import annotations

from marshmallow import fields

from erp.inventory.models import MovementType, StockStatus
from erp.inventory.services import AdjustmentKind, IssueDestination, QualityDecision
from erp.inventory.queries import STOCK_DIMENSIONS
from erp.schemas import Day, Id, Length, Money, OneOf, Quantity, Query, QueryId, Schema, UnitPrice
from erp.web import NarrationText


def Reason(**kwargs: object) -> fields.String:  # noqa: N802 - a field factory reads like a type
    return fields.String(validate=Length(1, 500), **kwargs)  # type: ignore[arg-type]


class ReceiptIn(Schema):
    po_line_id = Id(required=True)
    quantity = Quantity(required=True)
    posting_date = Day(required=True)
    batch_number = fields.String(validate=Length(1, 40), load_default=None)
    manufacture_date = Day(load_default=None)
    expiry_date = Day(load_default=None)
    warehouse_id = Id(load_default=None, metadata={"description": "default: the order line's warehouse"})
    delivery_note = fields.String(validate=Length(1, 64), load_default=None)


class ReversalIn(Schema):
    posting_date = Day(required=True)
    reason = Reason(required=True)


class QualityDecisionIn(Schema):
    warehouse_id = Id(required=True)
    batch_id = Id(required=True)
    decision = fields.Enum(QualityDecision, by_value=True, required=True)
    posting_date = Day(required=True)
    quantity = Quantity(load_default=None, metadata={"description": "default: all of the batch in quarantine"})
    reason = Reason(load_default=None)


class ReturnIn(Schema):
    receipt_document_id = Id(required=True)
    posting_date = Day(required=True)
    reason = Reason(required=True)
    quantity = Quantity(load_default=None, metadata={
        "description": "default: all of the receipt still returnable, blocked stock first, then unrestricted"})


class IssueIn(Schema):
    warehouse_id = Id(required=True)
    material_id = Id(required=True)
    quantity = Quantity(required=True)
    posting_date = Day(required=True)
    destination = fields.Enum(IssueDestination, by_value=True, required=True)
    cost_center = fields.String(validate=Length(1, 32), load_default=None)
    batch_id = Id(load_default=None, metadata={"description": "default: first expiry, first out"})
    reference = fields.String(validate=Length(1, 64), load_default=None)


class TransferIn(Schema):
    from_warehouse_id = Id(required=True)
    to_warehouse_id = Id(required=True)
    material_id = Id(required=True)
    quantity = Quantity(required=True)
    posting_date = Day(required=True)
    batch_id = Id(load_default=None)
    status = fields.Enum(StockStatus, by_value=True, load_default=StockStatus.UNRESTRICTED)
    reference = fields.String(validate=Length(1, 64), load_default=None)


class AdjustmentIn(Schema):
    warehouse_id = Id(required=True)
    material_id = Id(required=True)
    quantity = Quantity(positive=False, required=True,
                        metadata={"description": "signed: positive for a count gain, negative for a loss or scrap"})
    posting_date = Day(required=True)
    kind = fields.Enum(AdjustmentKind, by_value=True, required=True)
    reason = Reason(required=True)
    batch_id = Id(load_default=None)
    status = fields.Enum(StockStatus, by_value=True, load_default=StockStatus.UNRESTRICTED)


class MovementOut(Schema):
    id = fields.Integer()
    movement_type = fields.Enum(MovementType, by_value=True)
    warehouse_id = fields.Integer()
    warehouse_code = fields.String()
    material_id = fields.Integer()
    material_code = fields.String()
    batch_id = fields.Integer()
    batch_number = fields.String()
    status = fields.Enum(StockStatus, by_value=True)
    quantity = Quantity(positive=False)
    value = Money()
    variance = Money()
    offset_account = fields.String(allow_none=True)


class JournalLineOut(Schema):
    entry_id = fields.Integer()
    account_code = fields.String()
    amount = Money(metadata={"description": "signed: positive debit, negative credit"})
    material_id = fields.Integer(allow_none=True)


class DocumentOut(Schema):
    id = fields.Integer(attribute="document.id")
    doc_type = fields.Enum(MovementType, by_value=True, attribute="document.doc_type")
    company_id = fields.Integer(attribute="document.company_id")
    posting_date = Day(attribute="document.posting_date")
    period = fields.String(attribute="document.period")
    po_line_id = fields.Integer(attribute="document.po_line_id", allow_none=True)
    supplier_id = fields.Integer(attribute="document.supplier_id", allow_none=True)
    customer_id = fields.Integer(attribute="document.customer_id", allow_none=True)
    unit_price = UnitPrice(attribute="document.unit_price", allow_none=True,
                           metadata={"description": "the contract price a receipt was booked at"})
    standard_price = UnitPrice(attribute="document.standard_price", allow_none=True)
    delivery_note = fields.String(attribute="document.delivery_note", allow_none=True)
    reference = fields.String(attribute="document.reference", allow_none=True)
    destination = fields.String(attribute="document.destination", allow_none=True)
    cost_center = fields.String(attribute="document.cost_center", allow_none=True)
    reason = NarrationText(attribute="document.reason", allow_none=True)
    reverses_document_id = fields.Integer(attribute="document.reverses_document_id", allow_none=True)
    source_document_id = fields.Integer(attribute="document.source_document_id", allow_none=True)
    supplier_invoice_id = fields.Integer(attribute="document.supplier_invoice_id", allow_none=True, metadata={
        "description": "price differences: the supplier invoice or credit memo (GET /payables/invoices/{id})"})
    reversed_by_document_id = fields.Integer(allow_none=True)
    created_by = fields.Integer(attribute="document.created_by")
    created_at = fields.DateTime(attribute="document.created_at")
    movements = fields.List(fields.Nested(MovementOut))
    journal = fields.List(fields.Nested(JournalLineOut))


class StockQuery(Query):
    group_by = fields.List(fields.String(validate=OneOf(STOCK_DIMENSIONS)),
                           load_default=list(STOCK_DIMENSIONS),
                           metadata={"description": "dimensions to group by (repeat the parameter)"})
    as_of = Day(load_default=None, metadata={"description": "figures at the end of this day (from the ledger)"})
    company_id = QueryId()
    warehouse_id = QueryId()
    material_id = QueryId()
    batch_id = QueryId()
    status = fields.Enum(StockStatus, by_value=True)


class StockRowOut(Schema):
    company_id = fields.Integer()
    company_code = fields.String()
    warehouse_id = fields.Integer()
    warehouse_code = fields.String()
    material_id = fields.Integer()
    material_code = fields.String()
    material_type = fields.String()
    batch_id = fields.Integer()
    batch_number = fields.String()
    expiry_date = Day(allow_none=True)
    status = fields.Enum(StockStatus, by_value=True)
    quantity = Quantity(positive=False)
    value = Money()


class MovementQuery(Query):
    company_id = QueryId()
    warehouse_id = QueryId()
    material_id = QueryId()
    batch_id = QueryId()
    movement_type = fields.Enum(MovementType, by_value=True)
    date_from = Day()
    date_to = Day()


class MovementRowOut(MovementOut):
    document_id = fields.Integer()
    posting_date = Day()
    company_id = fields.Integer()
    created_by = fields.Integer()
    supplier_invoice_id = fields.Integer(allow_none=True, metadata={
        "description": "price differences: the supplier invoice or credit memo the row comes from "
                       "(GET /payables/invoices/{id}); null for other movements"})


class BatchOut(Schema):
    id = fields.Integer()
    batch_number = fields.String()
    material_id = fields.Integer()
    material_code = fields.String()
    manufacture_date = Day(allow_none=True)
    expiry_date = Day(allow_none=True)
    supplier_code = fields.String(allow_none=True)


class FlowReceiptOut(Schema):
    document_id = fields.Integer()
    posting_date = Day()
    supplier_code = fields.String()
    order_number = fields.String()
    po_line_id = fields.Integer()
    delivery_note = fields.String(allow_none=True)
    quantity = Quantity()
    warehouse_code = fields.String()


class FlowMovementOut(Schema):
    id = fields.Integer()
    document_id = fields.Integer()
    movement_type = fields.Enum(MovementType, by_value=True)
    posting_date = Day()
    company_code = fields.String()
    warehouse_code = fields.String()
    status = fields.Enum(StockStatus, by_value=True)
    quantity = Quantity(positive=False)
    value = Money()
    reference = fields.String(allow_none=True)
    destination = fields.String(allow_none=True)
    cost_center = fields.String(allow_none=True)
    supplier_code = fields.String(allow_none=True)
    customer_code = fields.String(allow_none=True)
    customer_name = fields.String(allow_none=True)


class FlowPriceDifferenceOut(Schema):
    id = fields.Integer()
    document_id = fields.Integer()
    posting_date = Day()
    company_code = fields.String()
    warehouse_code = fields.String()
    status = fields.Enum(StockStatus, by_value=True)
    quantity = Quantity(positive=False, metadata={"description": "always 0: a value, no goods"})
    value = Money(metadata={"description": "always 0.00: stock stays at standard"})
    variance = Money(metadata={"description": "signed: the part of the price difference on 1404"})
    reference = fields.String(allow_none=True, metadata={"description": "the invoice's printed number"})
    supplier_code = fields.String(allow_none=True)
    supplier_invoice_id = fields.Integer(metadata={
        "description": "the supplier invoice or credit memo (GET /payables/invoices/{id})"})


class BatchFlowOut(Schema):
    batch = fields.Nested(BatchOut)
    receipts = fields.List(fields.Nested(FlowReceiptOut))
    movements = fields.List(fields.Nested(FlowMovementOut))
    price_differences = fields.List(fields.Nested(FlowPriceDifferenceOut), metadata={
        "description": "supplier invoices' price differences booked on the batch: value-only rows, "
                       "not in movements or totals"})
    on_hand = fields.List(fields.Nested(StockRowOut))
    totals = fields.Dict(keys=fields.String(), values=Quantity(positive=False),
                         metadata={"description": "net quantity per movement type"})


class BatchLookup(Query):
    material_id = QueryId(required=True)
    batch_number = fields.String(required=True, validate=Length(1, 40))


class LineOpenForReceiptOut(Schema):
    po_line_id = fields.Integer()
    order_number = fields.String()
    line_no = fields.Integer()
    supplier_id = fields.Integer()
    supplier_code = fields.String()
    material_id = fields.Integer()
    material_code = fields.String()
    material_name_zh = fields.String()
    warehouse_id = fields.Integer()
    warehouse_code = fields.String()
    quantity = Quantity()
    received_quantity = Quantity(positive=False)
    open_quantity = Quantity(positive=False)


class LinesOpenForReceiptQuery(Query):
    warehouse_id = QueryId()
