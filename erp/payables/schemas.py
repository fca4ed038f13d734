"""JSON shapes of payables. Field checks only; the rules live in erp.payables.services."""

from __future__ import annotations

from marshmallow import fields

from erp.masterdata.models import PERCENT
from erp.payables.models import DocumentKind, InvoiceKind
from erp.schemas import (
    Count, Day, DecimalString, Id, Length, Money, OneOf, Quantity, Query, QueryId, Schema, Text, UnitPrice,
)


def Reason(**kwargs):  # noqa: N802, ANN001, ANN201
    return fields.String(validate=Length(1, 500), **kwargs)


class SupplierInvoiceLineIn(Schema):
    po_line_id = Id(required=True, metadata={"description": "the purchase order line invoiced"})
    quantity = Quantity(required=True)
    unit_price = UnitPrice(required=True, metadata={"description": "price per unit excluding tax, as invoiced"})
    tax_code_id = Id(load_default=None, metadata={"description": "default: the supplier's, else the material's"})
    return_document_id = Id(load_default=None,
                            metadata={"description": "credit memos: the return-to-supplier document credited"})


class SupplierInvoiceIn(Schema):
    company_id = Id(required=True)
    supplier_id = Id(required=True)
    number = Text(required=True, validate=Length(1, 40), metadata={"description": "as printed (发票号码)"})
    invoice_kind = fields.Enum(InvoiceKind, by_value=True, load_default=InvoiceKind.SPECIAL,
                               metadata={"description": "special: 增值税专用发票 (input VAT deductible); ordinary: 普通发票"})
    invoice_date = Day(required=True)
    posting_date = Day(load_default=None, metadata={"description": "default: the invoice date"})
    due_date = Day(load_default=None, metadata={"description": "default: 30 days after the invoice date"})
    net_total = Money(required=True, min_value=0, metadata={"description": "excluding tax, as printed"})
    tax_total = Money(required=True, min_value=0, metadata={"description": "VAT, as printed"})
    gross_total = Money(required=True, min_value=0, metadata={"description": "including tax, as printed"})
    credits_invoice_id = Id(load_default=None, metadata={"description": "credit memos: the invoice it reduces"})
    lines = fields.List(fields.Nested(SupplierInvoiceLineIn), required=True, validate=Count(1, 200))


class CreditMemoIn(SupplierInvoiceIn):
    reason = Reason(load_default=None, metadata={
        "description": "why the supplier credits (goods returned, a price reduction): kept in the audit trail of the "
                       "credit memo and of the invoice it reduces"})


class PriceReductionLineIn(Schema):
    invoice_line_id = Id(required=True, metadata={"description": "the invoice's line whose price is reduced (its id)"})
    amount = Money(load_default=None, metadata={
        "description": "the reduction excluding tax, as printed on the red-letter invoice (or new_unit_price)"})
    new_unit_price = UnitPrice(load_default=None, metadata={
        "description": "the line's price excluding tax after the reduction, for its whole quantity (or amount): "
                       "the reduction is the line's net after earlier reductions less its quantity at this price"})


class PriceReductionIn(Schema):
    number = Text(required=True, validate=Length(1, 40), metadata={
        "description": "the red-letter invoice's number as printed (发票号码)"})
    invoice_date = Day(required=True, metadata={"description": "the red-letter invoice's date"})
    posting_date = Day(load_default=None, metadata={"description": "default: its date; in an open period"})
    net_total = Money(required=True, min_value=0, metadata={"description": "the reduction excluding tax, as printed "
                                                                           "(a positive amount)"})
    tax_total = Money(required=True, min_value=0, metadata={"description": "its VAT, as printed"})
    gross_total = Money(required=True, min_value=0, metadata={"description": "including tax, as printed"})
    reason = Reason(required=True, metadata={
        "description": "why the supplier reduces the price: kept in the audit trail of the memo and of the invoice"})
    lines = fields.List(fields.Nested(PriceReductionLineIn), required=True, validate=Count(1, 200))


class SupplierInvoiceLineOut(Schema):
    id = fields.Integer(metadata={"description": "the line's id (a price reduction names it: invoice_line_id)"})
    line_no = fields.Integer()
    po_line_id = fields.Integer()
    material_id = fields.Integer()
    quantity = Quantity()
    unit_price = UnitPrice()
    tax_code_id = fields.Integer()
    tax_rate = DecimalString(column=PERCENT)
    net_amount = Money()
    tax_amount = Money()
    contract_price = UnitPrice()
    grir_amount = Money(metadata={"description": "quantity x contract price: what clears GR/IR"})
    price_difference = Money()
    open_received_quantity = Quantity(positive=False,
                                      metadata={"description": "received and not yet invoiced when matched"})
    quantity_blocked = fields.Boolean()
    price_blocked = fields.Boolean()
    return_document_id = fields.Integer(allow_none=True)
    reduces_line_id = fields.Integer(allow_none=True, metadata={
        "description": "a price-reduction credit memo's line: the invoice line it reduces (quantity and GR/IR 0, "
                       "net_amount the reduction, unit_price the reduction per unit of that line's quantity)"})


class SupplierInvoiceOut(Schema):
    id = fields.Integer()
    document_kind = fields.Enum(DocumentKind, by_value=True)
    invoice_kind = fields.Enum(InvoiceKind, by_value=True)
    document_number = fields.String(metadata={
        "description": "our own number of the posted document, AP-<company code>-<year>-000001 for an invoice, "
                       "CM-... for a credit memo: per company and year of the posting date, gap-free"})
    number = fields.String(metadata={"description": "the supplier's number, as printed (发票号码)"})
    company_id = fields.Integer()
    supplier_id = fields.Integer()
    invoice_date = fields.Date()
    posting_date = fields.Date()
    due_date = fields.Date()
    net_total = Money()
    tax_total = Money()
    gross_total = Money()
    open_amount = Money()
    credits_invoice_id = fields.Integer(allow_none=True)
    applied_amount = Money(metadata={
        "description": "a credit memo reducing an invoice: what it took off that invoice's open amount (at most "
                       "what was open then; kept after its reversal); 0.00 on invoices and memos naming none"})
    blocked = fields.Boolean(metadata={"description": "blocked for payment by the three-way match"})
    block_reason = fields.String(allow_none=True)
    released_by = fields.Integer(allow_none=True)
    released_at = fields.DateTime(allow_none=True)
    release_reason = fields.String(allow_none=True)
    entry_id = fields.Integer(allow_none=True, metadata={"description": "the journal entry posted"})
    created_by = fields.Integer()
    reversed = fields.Boolean(metadata={"description": "cancelled by a reversal (POST .../reverse)"})
    reversed_by = fields.Integer(allow_none=True)
    reversed_at = fields.DateTime(allow_none=True)
    reversal_date = fields.Date(allow_none=True, metadata={"description": "the date the reversal was posted on"})
    reversal_reason = fields.String(allow_none=True)
    reversal_entry_id = fields.Integer(allow_none=True, metadata={"description": "the reversal's journal entry"})
    lines = fields.List(fields.Nested(SupplierInvoiceLineOut))


class PriceDifferenceDocumentOut(Schema):
    id = fields.Integer(metadata={"description": "the stock document (GET /inventory/documents/...)"})
    number = fields.String(metadata={"description": "PD-..."})
    posting_date = Day()
    reverses_document_id = fields.Integer(allow_none=True, metadata={
        "description": "set on the document of the invoice's reversal: the price difference it mirrors"})


class SupplierInvoiceDetailOut(SupplierInvoiceOut):
    price_difference_documents = fields.List(fields.Nested(PriceDifferenceDocumentOut), metadata={
        "description": "the stock ledger documents carrying the part of its price difference on 1404"})


class SupplierInvoiceQuery(Query):
    company_id = QueryId()
    supplier_id = QueryId()
    blocked = fields.Boolean()
    open = fields.Boolean(metadata={"description": "open amount above zero"})
    document_kind = fields.Enum(DocumentKind, by_value=True)
    reversed = fields.Boolean()
    document_number = fields.String(validate=Length(1, 50), metadata={
        "description": "our own number (AP-.../CM-...), exactly"})
    q = fields.String(validate=Length(1, 200), metadata={
        "description": "contains (any case): our number, the supplier's number, or the supplier's code or name"})


class InvoiceReleaseIn(Schema):
    reason = Reason(required=True, metadata={"description": "why the invoice may be paid (kept, audited)"})


class InvoiceReversalIn(Schema):
    reason = Reason(required=True, metadata={"description": "why the invoice is reversed (kept, audited)"})
    reversal_date = Day(metadata={"description": "the posting date of the reversal, in an open period; "
                                                 "default today (Asia/Shanghai)"})


class SupplierPaymentIn(Schema):
    company_id = Id(required=True)
    supplier_id = Id(required=True)
    payment_date = Day(required=True)
    amount = Money(required=True, min_value=0, min_inclusive=False)
    invoice_ids = fields.List(Id(), load_default=None, validate=Count(1, 500),
                              metadata={"description": "settle these, in this order; default: oldest due first"})
    reference = Text(load_default=None, validate=Length(1, 64))


class PaymentReversalIn(Schema):
    reason = Reason(required=True, metadata={"description": "why the payment is reversed: a bank return, the wrong "
                                                            "invoice paid (kept, audited)"})
    reversal_date = Day(metadata={"description": "the posting date of the reversal, in an open period, not before the "
                                                 "payment; default today (Asia/Shanghai)"})


class SupplierAllocationOut(Schema):
    invoice_id = fields.Integer()
    amount = Money(metadata={"description": "what the payment settled of the invoice"})


class SupplierAllocationDetailOut(SupplierAllocationOut):
    invoice_number = fields.String(attribute="invoice.number", metadata={"description": "as printed on the invoice"})
    invoice_document_number = fields.String(attribute="invoice.document_number",
                                            metadata={"description": "the invoice's own number (AP-...)"})


class SupplierPaymentOut(Schema):
    id = fields.Integer()
    document_number = fields.String(metadata={
        "description": "our own number of the payment, PV-<company code>-<year>-000001: per company and year of the "
                       "payment date, gap-free"})
    company_id = fields.Integer()
    supplier_id = fields.Integer()
    payment_date = fields.Date()
    amount = Money()
    reference = fields.String(allow_none=True)
    entry_id = fields.Integer(allow_none=True)
    allocations = fields.List(fields.Nested(SupplierAllocationOut))
    reversed = fields.Boolean()
    reversed_by = fields.Integer(allow_none=True)
    reversed_at = fields.DateTime(allow_none=True)
    reversal_date = fields.Date(allow_none=True, metadata={"description": "the date the reversal was posted on"})
    reversal_reason = fields.String(allow_none=True)
    reversal_entry_id = fields.Integer(allow_none=True)


class SupplierPaymentDetailOut(SupplierPaymentOut):
    allocations = fields.List(fields.Nested(SupplierAllocationDetailOut), metadata={
        "description": "the invoices it settled, in the order it settled them; a reversal leaves them as they were"})


class SupplierPaymentQuery(Query):
    company_id = QueryId(metadata={"description": "one of the caller's companies (another: 403)"})
    supplier_id = QueryId()
    invoice_id = QueryId(metadata={"description": "the payments that settled part of this invoice"})
    reversed = fields.Boolean(metadata={"description": "true: reversed payments only; false: standing ones only"})
    date_from = Day(data_key="from", metadata={"description": "paid on or after this day"})
    date_to = Day(data_key="to", metadata={"description": "paid on or before this day"})
    q = fields.String(validate=Length(1, 200), metadata={
        "description": "contains (any case): our number (PV-...), the reference, or the supplier's code or name"})


class PayablesAgeingQuery(Query):
    as_of = Day(metadata={"description": "key date (default today)"})
    by = fields.String(validate=OneOf(["supplier", "company", "group"]), load_default="supplier")
    company_id = QueryId()
    supplier_id = QueryId()


class PayablesAgeingOut(Schema):
    company_id = fields.Integer()
    company_code = fields.String()
    supplier_id = fields.Integer()
    supplier_code = fields.String()
    supplier_name_zh = fields.String()
    supplier_name_en = fields.String()
    open_amount = Money()
    overdue = Money()
    blocked = Money(metadata={"description": "of the open amount, blocked for payment"})
    not_due = Money()
    days_1_30 = Money()
    days_31_60 = Money()
    days_61_90 = Money()
    over_90 = Money()


class GrirQuery(Query):
    company_id = QueryId(required=True)
    as_of = Day(metadata={"description": "key date (default today)"})


class GrirLineOut(Schema):
    po_line_id = fields.Integer()
    order_number = fields.String()
    line_no = fields.Integer()
    supplier_code = fields.String()
    supplier_name_zh = fields.String()
    supplier_name_en = fields.String()
    material_code = fields.String()
    material_name_zh = fields.String()
    material_name_en = fields.String()
    unit = fields.String(allow_none=True, metadata={"description": "the material's unit of measure"})
    received_quantity = Quantity(positive=False)
    invoiced_quantity = Quantity(positive=False)
    received_value = Money()
    invoiced_value = Money()
    balance = Money(metadata={"description": "received less invoiced value: positive received not invoiced"})
    received_not_invoiced = Quantity(positive=False)
    invoiced_not_received = Quantity(positive=False)
    age_days = fields.Integer(allow_none=True)


class GrirCheckOut(Schema):
    company_id = fields.Integer()
    as_of = fields.Date()
    report_total = Money()
    account_balance = Money(metadata={"description": "2202.01's credit balance in the books"})
    difference = Money()
    lines = fields.Integer()
    agrees = fields.Boolean()


class MatchToleranceIn(Schema):
    quantity_pct = DecimalString(column=PERCENT, min_value=0, max_value=100, required=True)
    price_pct = DecimalString(column=PERCENT, min_value=0, max_value=100, required=True)
    price_amount = Money(min_value=0, required=True)
    reason = Reason(load_default=None)


class MatchToleranceOut(Schema):
    quantity_pct = DecimalString(column=PERCENT)
    price_pct = DecimalString(column=PERCENT)
    price_amount = Money()


class OrderInvoiceOut(Schema):
    id = fields.Integer()
    document_number = fields.String(metadata={"description": "AP-... or CM-..."})
    number = fields.String()
    document_kind = fields.Enum(DocumentKind, by_value=True)
    quantity = Quantity(positive=False)
    blocked = fields.Boolean()
    paid = fields.Boolean()
    reversed = fields.Boolean()


class OrderLineStatusOut(Schema):
    po_line_id = fields.Integer()
    line_no = fields.Integer()
    ordered = Quantity()
    received = Quantity(positive=False)
    invoiced = Quantity(positive=False)
    invoices = fields.List(fields.Nested(OrderInvoiceOut))


class WipPriceDifferenceQuery(Query):
    company_id = QueryId(metadata={"description": "one of the caller's companies; default: all of them"})


class WipPriceDifferenceOut(Schema):
    company_id = fields.Integer()
    company_code = fields.String()
    invoice_id = fields.Integer()
    document_kind = fields.String(metadata={"description": "invoice or credit_memo"})
    number = fields.String(metadata={"description": "the supplier's invoice number"})
    document_number = fields.String(metadata={"description": "our own number of the invoice (AP-…)"})
    supplier_id = fields.Integer()
    supplier_code = fields.String()
    posting_date = fields.Date()
    material_id = fields.Integer()
    material_code = fields.String()
    invoice_lines = fields.List(fields.Integer(), metadata={"description": "the invoice's line numbers of the material"})
    orders = fields.List(fields.String(), metadata={
        "description": "the production orders that consumed the material in closed periods before the invoice"})
    amount = Money(metadata={"description": "left on 5001.01, signed (a credit memo's negative)"})


class WipCorrectionIn(Schema):
    company_id = Id(required=True)
    posting_date = Day(metadata={"description": "the corrections' date, in an open period; default today "
                                                "(Asia/Shanghai)"})
    dry_run = fields.Boolean(load_default=False, metadata={"description": "list what would be posted, posting nothing"})


class WipCorrectionOut(Schema):
    company_id = fields.Integer()
    invoice_id = fields.Integer()
    number = fields.String()
    posting_date = fields.Date()
    entry_id = fields.Integer(allow_none=True, metadata={"description": "the correction's journal entry; null in a "
                                                                        "dry run"})
    amount = Money(metadata={"description": "Dr 6405.02 / Cr 5001.01 (negative: the mirror)"})
    orphans = fields.List(fields.Nested(WipPriceDifferenceOut))


class WipCorrectionReversalIn(Schema):
    reason = Reason(required=True, metadata={"description": "why the correction is reversed (kept, audited)"})
    posting_date = Day(metadata={"description": "the reversal's date, in an open period; default today "
                                                "(Asia/Shanghai)"})


class WipCorrectionReversalOut(Schema):
    entry_id = fields.Integer(metadata={"description": "the reversal's journal entry"})
