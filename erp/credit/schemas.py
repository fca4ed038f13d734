"""JSON shapes of sales, receivables and credit control. Field checks only; rules live in
the services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from marshmallow import fields

from erp.credit.exposure import CreditOutcome, open_line_value
from erp.credit.models import CreditNoteKind, InvoiceKind, InvoiceStatus, SalesOrderStatus
from erp.credit.scorecard import Capacity, CustomerType, Factor, HoldRule, RatingGrade
from erp.messages import N_
from erp.schemas import (
    Between, Count, Day, DecimalString, Id, Length, Money, Quantity, Query, QueryId, QueryInt, Regexp, Schema,
    UnitPrice,
)
from erp.web import MessageText, NarrationText


def Reason(**kwargs: Any) -> fields.String:  # noqa: N802 - a field factory reads like a type
    return fields.String(validate=Length(1, 500), **kwargs)


def Ids(**kwargs: Any) -> fields.List:  # noqa: N802
    return fields.List(Id(), validate=Count(1, 500), **kwargs)


def Share(**kwargs: Any) -> DecimalString:  # noqa: N802
    return DecimalString(places=4, dump_only=True, **kwargs)


AS_OF = {"description": "key date (default: today); ageing is by days past due on this day, and exposure, "
                        "limits, holds and held orders are those of this day (rebuilt from the documents "
                        "for a past day)"}


# --- inputs --------------------------------------------------------------------------------

class OrderLineIn(Schema):
    material_id = Id(required=True)
    warehouse_id = Id(required=True, metadata={"description": "a warehouse of the order's company"})
    quantity = Quantity(required=True)
    unit_price = UnitPrice(required=True)
    partner_po_line_id = Id(load_default=None, metadata={
        "description": "intercompany orders (the customer stands for a group company): the buying company's "
                       "purchase order line this line fills, at its price"})
    tax_code_id = Id(load_default=None, metadata={
        "description": "output VAT code; default: the customer's, else the material's"})


class OrderIn(Schema):
    company_id = Id(required=True)
    customer_id = Id(required=True)
    order_date = Day(required=True)
    customer_reference = fields.String(validate=Length(1, 64), load_default=None)
    lines = fields.List(fields.Nested(OrderLineIn), required=True, validate=Count(1, 500))


class CancelIn(Schema):
    reason = Reason(load_default=None)


class ShipmentLineIn(Schema):
    order_line_id = Id(required=True)
    quantity = Quantity(required=True)
    batch_id = Id(load_default=None, metadata={"description": "default: first expiry, first out"})


class ShipmentIn(Schema):
    posting_date = Day(required=True, metadata={"description": "shipment and invoice date"})
    lines = fields.List(fields.Nested(ShipmentLineIn), required=True, validate=Count(1, 500))


class PaymentIn(Schema):
    company_id = Id(required=True)
    customer_id = Id(required=True)
    payment_date = Day(required=True)
    amount = Money(required=True, min_value=0, min_inclusive=False)
    invoice_ids = Ids(load_default=None, metadata={
        "description": "settle these invoices, in this order; default: open invoices, oldest due first"})
    bank_reference = fields.String(validate=Length(1, 64), load_default=None)


class CreditApplicationIn(Schema):
    applied_on = Day(required=True)
    invoice_ids = Ids(load_default=None, metadata={"description": "default: open invoices, oldest due first"})


class CustomerPaymentReversalIn(Schema):
    reason = Reason(required=True, metadata={"description": "why the payment is reversed: a bounced bank draft "
                                                            "(退票), money of another customer (kept, audited)"})
    reversal_date = Day(metadata={"description": "the posting date of the reversal, in an open period, not before the "
                                                 "payment or its applications; default today (Asia/Shanghai)"})


class HoldIn(Schema):
    on_hold = fields.Boolean(required=True)
    reason = Reason(required=True)


class LimitIn(Schema):
    credit_limit = Money(min_value=0, load_default=None,
                         metadata={"description": "omit to approve the suggestion as it is"})
    suggestion_id = Id(load_default=None, metadata={"description": "the suggestion approved or overridden"})
    reason = Reason(load_default=None, metadata={"description": "required when overriding the suggestion"})


class ReleaseIn(Schema):
    reason = Reason(required=True)


class SuggestIn(Schema):
    as_of = Day(load_default=None, metadata={"description": "key date of the data (default: today); the "
                                                             "parameters are those in force today"})


class CustomerReturnIn(Schema):
    shipment_document_id = Id(required=True, metadata={"description": "the shipment (stock document) the goods "
                                                                       "came with"})
    batch_id = Id(load_default=None, metadata={"description": "required when the shipment took several batches"})
    quantity = Quantity(required=True)
    posting_date = Day(required=True, metadata={"description": "return and credit note date"})
    reason = Reason(required=True)


class CreditNoteIn(Schema):
    company_id = Id(required=True)
    customer_id = Id(required=True)
    note_date = Day(required=True)
    amount = Money(required=True, min_value=0, min_inclusive=False)
    reason = Reason(required=True)
    invoice_id = Id(load_default=None, metadata={
        "description": "the invoice corrected; default: the customer's open invoices in the company, oldest due "
                       "first"})
    material_id = Id(load_default=None, metadata={"description": "the material whose revenue is corrected"})
    tax_code_id = Id(load_default=None, metadata={
        "description": "output VAT code; default: the customer's, else the material's"})


class DebitNoteIn(Schema):
    company_id = Id(required=True)
    customer_id = Id(required=True)
    note_date = Day(required=True)
    amount = Money(required=True, min_value=0, min_inclusive=False)
    reason = Reason(required=True)
    invoice_id = Id(load_default=None, metadata={"description": "the invoice whose price is corrected"})
    material_id = Id(load_default=None, metadata={"description": "the material whose revenue is corrected"})
    tax_code_id = Id(load_default=None, metadata={
        "description": "output VAT code; default: the customer's, else the material's"})


class CreditNoteQuery(Query):
    company_id = QueryId()
    customer_id = QueryId()
    invoice_id = QueryId()
    document_number = fields.String(validate=Length(1, 50), metadata={
        "description": "the document with this number (CN-CA-2026-000001; case and surrounding spaces do not matter)"})
    q = fields.String(validate=Length(1, 200), metadata={
        "description": "contains (any case): our number (CN-...) or the customer's code or name"})


class OrderQuery(Query):
    company_id = QueryId()
    customer_id = QueryId()
    status = fields.Enum(SalesOrderStatus, by_value=True)
    number = fields.String(validate=Length(1, 50), metadata={
        "description": "the order with this document number (SO-CA-2026-000001; case and surrounding spaces "
                       "do not matter)"})


class InvoiceQuery(Query):
    company_id = QueryId()
    customer_id = QueryId()
    status = fields.Enum(InvoiceStatus, by_value=True)
    overdue_on = Day(metadata={"description": "only invoices still open and past due on this day"})
    document_number = fields.String(validate=Length(1, 50), metadata={
        "description": "the document with this number (AR-CA-2026-000001 or DN-...; case and surrounding spaces do not matter)"})
    q = fields.String(validate=Length(1, 200), metadata={
        "description": "contains (any case): our number (AR-.../DN-...), the old system's number or the customer's code or name"})


class PaymentQuery(Query):
    company_id = QueryId()
    customer_id = QueryId()
    document_number = fields.String(validate=Length(1, 50), metadata={
        "description": "the document with this number (RC-CA-2026-000001; case and surrounding spaces do not matter)"})
    q = fields.String(validate=Length(1, 200), metadata={
        "description": "contains (any case): our number (RC-...), the bank's reference or the customer's code or name"})


class PositionQuery(Query):
    amount = Money(load_default=None, metadata={"description": "check an action adding this much (default 0)"})


class AsOfQuery(Query):
    as_of = Day(load_default=None, metadata=AS_OF)


class CustomerReceivablesQuery(AsOfQuery):
    company_id = QueryId()
    segment_id = QueryId()
    customer_id = QueryId()


class DashboardQuery(AsOfQuery):
    top = QueryInt(1, 500, load_default=100,
                         metadata={"description": "how many top customers and alert rows"})


class SuggestionQuery(Query):
    run_id = QueryId(metadata={"description": "default: the latest run"})
    customer_id = QueryId()
    risk_class = fields.String(validate=Length(1, 16))
    hold = fields.Boolean(metadata={"description": "only suggestions that hold (true) or do not (false)"})


def Score(**kwargs: Any) -> DecimalString:  # noqa: N802
    return DecimalString(places=2, min_value=0, max_value=100, **kwargs)


def ShareOf(**kwargs: Any) -> DecimalString:  # noqa: N802
    return DecimalString(places=4, min_value=0, max_value=1, **kwargs)


def Amount(**kwargs: Any) -> DecimalString:  # noqa: N802
    """An amount in CNY that may be negative (a tangible net worth)."""
    return Money(**kwargs)


def Points(**kwargs: Any) -> fields.Integer:  # noqa: N802
    return fields.Integer(strict=True, validate=Between(0, 100), **kwargs)


class CreditDataIn(Schema):
    customer_type = fields.Enum(CustomerType, by_value=True, required=True)
    registered_capital = Money(min_value=0, load_default=None, allow_none=True)
    tangible_net_worth = Amount(load_default=None, allow_none=True,
                                metadata={"description": "equity less intangible assets; may be negative"})
    annual_turnover = Money(min_value=0, load_default=None, allow_none=True)
    statement_date = Day(load_default=None, allow_none=True,
                         metadata={"description": "date of the financial statements the figures come from"})
    rating_grade = fields.Enum(RatingGrade, by_value=True, load_default=None, allow_none=True)
    rating_score = Score(load_default=None, allow_none=True,
                         metadata={"description": "an agency's 0-100 score, instead of a grade"})
    rating_agency = fields.String(validate=Length(1, 100), load_default=None, allow_none=True)
    rating_date = Day(load_default=None, allow_none=True)
    founded_on = Day(load_default=None, allow_none=True, metadata={"description": "date founded (business licence)"})
    collateral_amount = Money(min_value=0, load_default=Decimal("0"),
                              metadata={"description": "collateral and guarantees the group may draw on"})
    collateral_note = fields.String(validate=Length(1, 500), load_default=None, allow_none=True)
    reason = Reason(required=True)
    valid_from = Day(load_default=None, metadata={"description": "in force from this day (default: today)"})


class CreditDataQuery(Query):
    on = Day(load_default=None, metadata={"description": "the version in force on this day (default: today)"})


class CreditDataOut(Schema):
    id = fields.Integer()
    customer_id = fields.Integer()
    version = fields.Integer()
    valid_from = Day()
    customer_type = fields.Enum(CustomerType, by_value=True)
    registered_capital = Money(allow_none=True)
    tangible_net_worth = Money(allow_none=True)
    annual_turnover = Money(allow_none=True)
    statement_date = Day(allow_none=True)
    rating_grade = fields.Enum(RatingGrade, by_value=True, allow_none=True)
    rating_score = DecimalString(places=2, dump_only=True, allow_none=True)
    rating_agency = fields.String(allow_none=True)
    rating_date = Day(allow_none=True)
    founded_on = Day(allow_none=True)
    collateral_amount = Money()
    collateral_note = fields.String(allow_none=True)
    reason = fields.String()
    recorded_by = fields.Integer()
    recorded_at = fields.DateTime()


class DisputeIn(Schema):
    invoice_id = Id(required=True)
    amount = Money(required=True, min_value=0, min_inclusive=False)
    opened_on = Day(required=True)
    reason = Reason(required=True)


class DisputeResolutionIn(Schema):
    resolved_on = Day(required=True)
    resolution = Reason(required=True)


class DisputeQuery(Query):
    customer_id = QueryId()
    open = fields.Boolean(load_default=False, metadata={"description": "only disputes not yet resolved"})


class DisputeOut(Schema):
    id = fields.Integer()
    invoice_id = fields.Integer()
    company_id = fields.Integer()
    customer_id = fields.Integer()
    amount = Money()
    opened_on = Day()
    reason = fields.String()
    opened_by = fields.Integer()
    opened_at = fields.DateTime()
    resolved_on = Day(allow_none=True)
    resolution = fields.String(allow_none=True)
    resolved_by = fields.Integer(allow_none=True)
    resolved_at = fields.DateTime(allow_none=True)


class BandSchema(Schema):
    # Compared with factor values (CNY amounts, days, shares): bounded like the amounts they meet.
    lower = DecimalString(places=4, min_value=-Decimal("1e12"), max_value=Decimal("1e12"), allow_none=True,
                          required=True,
                          metadata={"description": "from this value up (null: the band open below)"})
    points = Points(required=True)


class ScoreFactorSchema(Schema):
    factor = fields.Enum(Factor, by_value=True, required=True)
    weight = fields.Integer(strict=True, required=True, validate=Between(0, 100),
                            metadata={"description": "whole percent; the weights add up to 100"})
    no_data_points = Points(required=True, metadata={"description": "points when there is nothing to judge"})
    bands = fields.List(fields.Nested(BandSchema), load_default=list, validate=Count(0, 20))
    categories = fields.Dict(keys=fields.String(validate=Length(1, 32)), values=Points(), load_default=dict,
                             metadata={"description": "points per rating grade or customer type"})


class RiskClassSchema(Schema):
    code = fields.String(required=True, validate=Length(1, 16))
    min_score = Score(required=True)


class LimitRuleSchema(Schema):
    risk_class = fields.String(required=True, validate=Length(1, 16))
    customer_type = fields.Enum(CustomerType, by_value=True, required=True, allow_none=True,
                                metadata={"description": "null: the class's rule for any other type"})
    net_worth_share = ShareOf(required=True)
    turnover_share = ShareOf(required=True)
    sales_months = DecimalString(places=2, min_value=0, max_value=24, required=True)
    starting_limit = Money(min_value=0, required=True)
    max_limit = Money(min_value=0, required=True, allow_none=True)


class ModelParametersSchema(Schema):
    factors = fields.List(fields.Nested(ScoreFactorSchema), required=True, validate=Count(1, 20))
    risk_classes = fields.List(fields.Nested(RiskClassSchema), required=True, validate=Count(1, 10))
    rules = fields.List(fields.Nested(LimitRuleSchema), required=True, validate=Count(1, 100))
    agency_grade_a_from = Score(required=True)
    agency_grade_b_from = Score(required=True)
    agency_grade_c_from = Score(required=True)
    stale_after_months = fields.Integer(strict=True, required=True, validate=Between(1, 120))
    stale_statement_penalty = Points(required=True)
    stale_rating_penalty = Points(required=True)
    hold_overdue_days = fields.Integer(strict=True, required=True, validate=Between(1, 365))
    limit_step = Money(min_value=0, min_inclusive=False, required=True)


class ModelVersionIn(ModelParametersSchema):
    reason = Reason(required=True)
    valid_from = Day(load_default=None, metadata={"description": "in force from this day (default: today)"})


class ModelQuery(Query):
    on = Day(load_default=None, metadata={"description": "the version in force on this day (default: today)"})


class ModelVersionOut(Schema):
    id = fields.Integer(allow_none=True,
                        metadata={"description": "null: nothing stored yet (these defaults are stored on the first run)"})
    version = fields.Integer(allow_none=True)
    valid_from = Day(allow_none=True)
    reason = fields.String(allow_none=True)
    created_by = fields.Integer(allow_none=True)
    created_at = fields.DateTime(allow_none=True)
    parameters = fields.Nested(ModelParametersSchema, allow_none=True)


class ModelVersionHeaderOut(Schema):
    id = fields.Integer()
    version = fields.Integer()
    valid_from = Day()
    reason = fields.String()
    created_by = fields.Integer(allow_none=True)
    created_at = fields.DateTime()


# --- outputs -------------------------------------------------------------------------------

class CreditDecisionOut(Schema):
    outcome = fields.Enum(CreditOutcome, by_value=True)
    rule = fields.String(allow_none=True, metadata={"description": "slug of the rule that blocked or warned"})
    exposure = Money(metadata={"description": "group-wide exposure before the action"})
    amount = Money(metadata={"description": "what the action adds to the exposure"})
    exposure_after = Money()
    credit_limit = Money()
    limit_approved = fields.Boolean(metadata={"description": "false: no approved limit, the starting limit applies"})
    warning_from = Money(metadata={"description": "exposure from which actions pass with a warning"})
    on_hold = fields.Boolean()
    released = fields.Boolean(metadata={"description": "a controller released the order: no limit check"})
    detail = MessageText(metadata={"description": "why, in the language of Accept-Language (English by default)"})


class OrderLineOut(Schema):
    id = fields.Integer()
    line_no = fields.Integer()
    material_id = fields.Integer()
    warehouse_id = fields.Integer()
    quantity = Quantity()
    unit_price = UnitPrice()
    shipped_quantity = Quantity(positive=False)
    partner_po_line_id = fields.Integer(allow_none=True)
    tax_code_id = fields.Integer(allow_none=True)
    tax_rate = DecimalString(places=2, dump_only=True, metadata={"description": "output VAT, percent"})
    open_value = fields.Method("_open_value", metadata={
        "type": "string", "format": "decimal", "description": "still to ship, including VAT"})

    def _open_value(self, line: Any) -> str:
        return format(open_line_value(line.quantity, line.shipped_quantity, line.unit_price, line.tax_rate), "f")


class OrderOut(Schema):
    id = fields.Integer(attribute="order.id")
    number = fields.String(attribute="order.number", metadata={
        "description": "the order's document number, SO-<company code>-<year>-000001 (per company and year)"})
    company_id = fields.Integer(attribute="order.company_id")
    customer_id = fields.Integer(attribute="order.customer_id")
    order_date = Day(attribute="order.order_date")
    customer_reference = fields.String(attribute="order.customer_reference", allow_none=True)
    partner_company_id = fields.Integer(attribute="order.partner_company_id", allow_none=True,
                                        metadata={"description": "intercompany: the buying group company"})
    status = fields.Enum(SalesOrderStatus, by_value=True, attribute="order.status")
    created_by = fields.Integer(attribute="order.created_by")
    created_at = fields.DateTime(attribute="order.created_at")
    confirmed_by = fields.Integer(attribute="order.confirmed_by", allow_none=True)
    confirmed_at = fields.DateTime(attribute="order.confirmed_at", allow_none=True)
    cancelled_by = fields.Integer(attribute="order.cancelled_by", allow_none=True)
    cancelled_at = fields.DateTime(attribute="order.cancelled_at", allow_none=True)
    cancel_reason = fields.String(attribute="order.cancel_reason", allow_none=True)
    credit_block_rule = fields.String(attribute="order.credit_block_rule", allow_none=True)
    credit_blocked_at = fields.DateTime(attribute="order.credit_blocked_at", allow_none=True)
    credit_block_exposure = Money(attribute="order.credit_block_exposure", allow_none=True)
    credit_released = fields.Boolean(attribute="order.credit_released")
    lines = fields.List(fields.Nested(OrderLineOut), attribute="order.lines")
    credit = fields.Nested(CreditDecisionOut, allow_none=True,
                           metadata={"description": "the credit check this request ran (null when none)"})


class ApplicationOut(Schema):
    id = fields.Integer()
    payment_id = fields.Integer()
    invoice_id = fields.Integer()
    amount = Money()
    applied_on = Day()
    days_late = fields.Integer(metadata={"description": "applied_on minus the due date; negative: early"})
    applied_by = fields.Integer()
    applied_at = fields.DateTime()


class InvoiceLineOut(Schema):
    id = fields.Integer()
    order_line_id = fields.Integer(allow_none=True)
    stock_document_id = fields.Integer(allow_none=True)
    material_id = fields.Integer(allow_none=True)
    quantity = Quantity(allow_none=True)
    unit_price = UnitPrice(allow_none=True, metadata={"description": "excluding VAT"})
    tax_code_id = fields.Integer(allow_none=True)
    tax_rate = DecimalString(places=2, dump_only=True, metadata={"description": "output VAT, percent"})
    net_amount = Money(metadata={"description": "excluding VAT"})
    tax_amount = Money(metadata={"description": "output VAT"})
    amount = Money(metadata={"description": "including VAT: net_amount + tax_amount"})


class InvoiceOut(Schema):
    id = fields.Integer()
    document_number = fields.String(metadata={"description": "the invoice's number, AR-<company code>-<year>-000001 (a debit note: DN-...), per company and year of the invoice date, gap-free"})
    company_id = fields.Integer()
    customer_id = fields.Integer()
    order_id = fields.Integer(allow_none=True)
    order_number = fields.String(attribute="order.number", allow_none=True,
                                 metadata={"description": "the sales order shipped (null without one)"})
    reference = fields.String(allow_none=True, metadata={"description": "the old system's number (taken over at go-live)"})
    invoice_date = Day()
    due_date = Day()
    net_amount = Money(metadata={"description": "excluding VAT"})
    tax_amount = Money(metadata={"description": "output VAT"})
    amount = Money(metadata={"description": "what the customer owes, including VAT"})
    open_amount = Money()
    status = fields.Enum(InvoiceStatus, by_value=True)
    kind = fields.Enum(InvoiceKind, by_value=True)
    partner_company_id = fields.Integer(allow_none=True, metadata={"description": "intercompany: the group "
                                                                                "company that owes it"})
    corrects_invoice_id = fields.Integer(allow_none=True, metadata={"description": "debit notes: the invoice "
                                                                                   "corrected"})
    reason = fields.String(allow_none=True)
    created_by = fields.Integer()
    created_at = fields.DateTime()
    lines = fields.List(fields.Nested(InvoiceLineOut))
    applications = fields.List(fields.Nested(ApplicationOut))


class CreditNoteLineOut(Schema):
    id = fields.Integer()
    invoice_line_id = fields.Integer(allow_none=True)
    stock_document_id = fields.Integer(allow_none=True, metadata={"description": "returns: the stock document "
                                                                                 "that took the goods back"})
    material_id = fields.Integer(allow_none=True)
    batch_id = fields.Integer(allow_none=True)
    quantity = Quantity(allow_none=True)
    unit_price = UnitPrice(allow_none=True)
    tax_code_id = fields.Integer(allow_none=True)
    tax_rate = DecimalString(places=2, dump_only=True)
    net_amount = Money()
    tax_amount = Money()
    amount = Money(metadata={"description": "including VAT"})


class CreditNoteApplicationOut(Schema):
    id = fields.Integer()
    invoice_id = fields.Integer()
    amount = Money()
    applied_on = Day()
    applied_by = fields.Integer()


class CreditNoteOut(Schema):
    id = fields.Integer()
    document_number = fields.String(metadata={"description": "CN-<company code>-<year>-000001, per company and year of the note date, gap-free"})
    company_id = fields.Integer()
    customer_id = fields.Integer()
    kind = fields.Enum(CreditNoteKind, by_value=True)
    invoice_id = fields.Integer(allow_none=True)
    note_date = Day()
    net_amount = Money(metadata={"description": "excluding VAT"})
    tax_amount = Money(metadata={"description": "output VAT credited"})
    amount = Money(metadata={"description": "including VAT"})
    unapplied_amount = Money(metadata={"description": "kept as the customer's credit"})
    reason = fields.String()
    created_by = fields.Integer()
    created_at = fields.DateTime()
    lines = fields.List(fields.Nested(CreditNoteLineOut))
    applications = fields.List(fields.Nested(CreditNoteApplicationOut))


class ShipmentOut(Schema):
    invoice = fields.Nested(InvoiceOut)
    order_status = fields.Enum(SalesOrderStatus, by_value=True, allow_none=True)
    credit = fields.Nested(CreditDecisionOut, allow_none=True,
                           metadata={"description": "the credit check (null on an idempotent replay)"})


class PaymentOut(Schema):
    id = fields.Integer()
    document_number = fields.String(metadata={"description": "RC-<company code>-<year>-000001, per company and year of the payment date, gap-free"})
    company_id = fields.Integer()
    customer_id = fields.Integer()
    payment_date = Day()
    amount = Money()
    unapplied_amount = Money(metadata={"description": "credit kept for later invoices"})
    bank_reference = fields.String(allow_none=True)
    created_by = fields.Integer()
    created_at = fields.DateTime()
    applications = fields.List(fields.Nested(ApplicationOut))
    reversed = fields.Boolean(metadata={"description": "cancelled by a reversal (POST .../reversal): its "
                                                       "applications settle nothing since the reversal date"})
    reversed_by = fields.Integer(allow_none=True)
    reversed_at = fields.DateTime(allow_none=True)
    reversal_date = Day(allow_none=True)
    reversal_reason = fields.String(allow_none=True)
    reversal_entry_id = fields.Integer(allow_none=True)


class PositionOut(Schema):
    customer_id = fields.Integer(attribute="customer.id")
    customer_code = fields.String(attribute="customer.code")
    payment_terms_days = fields.Integer(attribute="customer.payment_terms_days")
    open_invoices = Money(attribute="position.open_invoices")
    open_orders = Money(attribute="position.open_orders")
    exposure = Money(attribute="position.exposure")
    unapplied_credit = Money(attribute="position.unapplied_credit")
    approved_limit = Money(attribute="position.credit_limit", allow_none=True,
                           metadata={"description": "null: none approved yet (the starting limit applies)"})
    limit_version = fields.Integer(attribute="position.limit_version")
    on_hold = fields.Boolean(attribute="position.on_hold")
    hold_reason = NarrationText(attribute="position.hold_reason", allow_none=True)
    hold_changed_by = fields.Integer(attribute="position.hold_changed_by", allow_none=True)
    hold_changed_at = fields.DateTime(attribute="position.hold_changed_at", allow_none=True)
    check = fields.Nested(CreditDecisionOut)


class LimitVersionOut(Schema):
    id = fields.Integer()
    customer_id = fields.Integer()
    version = fields.Integer()
    credit_limit = Money()
    suggestion_id = fields.Integer(allow_none=True, metadata={"description": "the suggestion approved or overridden"})
    source = fields.String(metadata={"description": "model: the suggestion approved as it was; manual: a value the "
                                                    "controller set"})
    reason = NarrationText(metadata={"description": "the controller's words, else what the system recorded (an "
                                                    "approval), in the request's language"})
    set_by = fields.Integer()
    set_at = fields.DateTime()


class SuggestionRunOut(Schema):
    id = fields.Integer()
    as_of = Day()
    window_start = Day(metadata={"description": "the 12-month window is (window_start, as_of]"})
    model_version_id = fields.Integer(allow_none=True, metadata={"description": "the parameters used"})
    computed_by = fields.Integer(allow_none=True)
    computed_at = fields.DateTime()
    customers = fields.Integer()
    with_history = fields.Integer()
    held = fields.Integer(metadata={"description": "suggestions of 0 with a credit hold"})
    seconds = DecimalString(places=3, dump_only=True, allow_none=True)


def _plain(value: Any) -> Any:
    """A value of an explanation step as JSON: decimals as strings, dates as ISO dates."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


class SuggestionOut(Schema):
    id = fields.Integer(attribute="CreditLimitSuggestion.id")
    run_id = fields.Integer(attribute="CreditLimitSuggestion.run_id")
    customer_id = fields.Integer(attribute="CreditLimitSuggestion.customer_id")
    customer_code = fields.String()
    customer_name_zh = fields.String()
    has_history = fields.Boolean(attribute="CreditLimitSuggestion.has_history")
    invoiced_12m = Money(attribute="CreditLimitSuggestion.invoiced_12m")
    average_monthly_sales = Money(attribute="CreditLimitSuggestion.average_monthly_sales")
    payment_terms_days = fields.Integer(attribute="CreditLimitSuggestion.payment_terms_days")
    average_days_late = DecimalString(places=2, dump_only=True, attribute="CreditLimitSuggestion.average_days_late", allow_none=True)
    overdue_share = DecimalString(places=4, dump_only=True, attribute="CreditLimitSuggestion.overdue_share", allow_none=True)
    customer_type = fields.Enum(CustomerType, by_value=True, attribute="CreditLimitSuggestion.customer_type",
                                allow_none=True)
    score = DecimalString(places=2, dump_only=True, attribute="CreditLimitSuggestion.score", allow_none=True)
    risk_class = fields.String(attribute="CreditLimitSuggestion.risk_class", allow_none=True)
    bound_by = fields.Enum(Capacity, by_value=True, attribute="CreditLimitSuggestion.bound_by", allow_none=True,
                           metadata={"description": "the capacity that bound the suggestion"})
    statement_stale = fields.Boolean(attribute="CreditLimitSuggestion.statement_stale", allow_none=True)
    rating_stale = fields.Boolean(attribute="CreditLimitSuggestion.rating_stale", allow_none=True)
    hold = fields.Boolean(attribute="CreditLimitSuggestion.hold", allow_none=True)
    hold_rule = fields.Enum(HoldRule, by_value=True, attribute="CreditLimitSuggestion.hold_rule", allow_none=True)
    suggested_limit = Money(attribute="CreditLimitSuggestion.suggested_limit")
    current_limit = Money(allow_none=True)


class ExplanationStepOut(Schema):
    key = fields.String(metadata={"description": "translation key: credit.explain.<key>"})
    values = fields.Method("_values", metadata={"type": "object", "description": "the figures the step speaks of"})
    text = MessageText(attribute="message",
                       metadata={"description": "the step in the language of Accept-Language (English by default)"})
    result = fields.Method("_result", metadata={"type": "string", "nullable": True})

    def _values(self, step: Any) -> dict[str, Any]:
        return {key: _plain(value) for key, value in step.values.items()}

    def _result(self, step: Any) -> Any:
        return _plain(step.result)


class ScoreStepOut(Schema):
    factor = fields.Enum(Factor, by_value=True)
    value = fields.Method("_value", metadata={"type": "string", "nullable": True,
                                              "description": "the input judged (null: no data)"})
    band_from = DecimalString(places=4, dump_only=True, allow_none=True)
    points = fields.Integer()
    weight = fields.Integer()
    contribution = DecimalString(places=2, dump_only=True)

    def _value(self, step: Any) -> Any:
        return None if step.value is None else str(_plain(step.value))


class CapacityOut(Schema):
    capacity = fields.Enum(Capacity, by_value=True)
    base = Money(allow_none=True)
    multiplier = DecimalString(places=4, dump_only=True, allow_none=True)
    divisor = fields.Integer(allow_none=True, metadata={"description": "months traded (the sales capacity)"})
    amount = Money(allow_none=True, metadata={"description": "null: not available"})
    binding = fields.Boolean()


class ExplanationOut(Schema):
    flags = fields.List(fields.String())
    score_steps = fields.List(fields.Nested(ScoreStepOut))
    subtotal = DecimalString(places=2, dump_only=True)
    penalties = fields.List(fields.Nested(ExplanationStepOut))
    score = DecimalString(places=2, dump_only=True)
    risk_class = fields.String()
    rule = fields.Nested(LimitRuleSchema)
    capacities = fields.List(fields.Nested(CapacityOut))
    unsecured_limit = Money()
    bound_by = fields.Enum(Capacity, by_value=True)
    collateral = Money()
    limit_step = Money()
    hold_rule = fields.Enum(HoldRule, by_value=True, allow_none=True)
    suggested_limit = Money()
    steps = fields.List(fields.Nested(ExplanationStepOut),
                        metadata={"description": "every step from inputs to suggestion, in order"})


class ExplainedSuggestionOut(Schema):
    suggestion = fields.Nested(SuggestionOut)
    run = fields.Nested(SuggestionRunOut)
    explanation = fields.Nested(ExplanationOut)


class BlockedAtShipmentOut(Schema):
    order_id = fields.Integer()
    order_number = fields.String()
    company_id = fields.Integer()
    company_code = fields.String()
    company_name_zh = fields.String()
    company_name_en = fields.String()
    status = fields.Enum(SalesOrderStatus, by_value=True)
    open_value = Money()
    newly_blocked = fields.Boolean(metadata={"description": "it could ship before the release and cannot after it"})


class ReleaseEffectOut(Schema):
    exposure_before = Money(metadata={"description": "the customer's group-wide exposure before the release"})
    exposure_after = Money(metadata={"description": "the exposure once the order is released (a release at "
                                                    "confirmation adds the order's open value)"})
    credit_limit = Money()
    above_limit_by = Money(metadata={"description": "exposure after minus the limit, 0 when within it"})
    blocked_at_shipment = fields.List(fields.Nested(BlockedAtShipmentOut), metadata={
        "description": "the customer's other confirmed orders not released, refused at shipment while the "
                       "exposure stays above the limit (a shipment adds nothing to the exposure)"})


class ReleaseOut(Schema):
    id = fields.Integer(attribute="release.id")
    order_id = fields.Integer(attribute="release.order_id")
    order_number = fields.String(attribute="release.order.number")
    stage = fields.String(attribute="release.stage", metadata={"description": "confirmation or shipment"})
    rule = fields.String(attribute="release.rule")
    exposure = Money(attribute="release.exposure", metadata={"description": "exposure after the release"})
    credit_limit = Money(attribute="release.credit_limit")
    reason = fields.String(attribute="release.reason")
    released_by = fields.Integer(attribute="release.released_by")
    released_at = fields.DateTime(attribute="release.released_at")
    effect = fields.Nested(ReleaseEffectOut)


class HeldOrderOut(Schema):
    order_id = fields.Integer()
    order_number = fields.String()
    company_id = fields.Integer()
    company_code = fields.String()
    company_name_zh = fields.String()
    company_name_en = fields.String()
    customer_id = fields.Integer()
    customer_code = fields.String()
    customer_name_zh = fields.String()
    customer_name_en = fields.String()
    status = fields.Enum(SalesOrderStatus, by_value=True)
    order_date = Day()
    open_value = Money()
    stage = fields.String(metadata={"description": "confirmation: blocked when confirmed; shipment: cannot ship"})
    rule = fields.String()
    credit_blocked_at = fields.DateTime(allow_none=True)
    exposure = Money()
    credit_limit = Money()
    customer_on_hold = fields.Boolean()
    release_effect = fields.Nested(ReleaseEffectOut, allow_none=True, metadata={
        "description": "what releasing this order would do; null when the customer is on hold (lift the hold "
                       "instead)"})


class AgeingOut(Schema):
    open_amount = Money()
    overdue = Money()
    not_due = Money()
    days_1_30 = Money()
    days_31_60 = Money()
    days_61_90 = Money()
    over_90 = Money()


class CustomerReceivablesOut(AgeingOut):
    customer_id = fields.Integer()
    customer_code = fields.String()
    customer_name_zh = fields.String()
    customer_name_en = fields.String()
    exposure = Money(metadata={"description": "current group-wide exposure"})
    credit_limit = Money()
    limit_approved = fields.Boolean()
    utilisation = Share(allow_none=True, metadata={"description": "exposure / credit limit"})
    on_hold = fields.Boolean()


class GroupAgeingOut(AgeingOut):
    intercompany_open = Money(metadata={"description": "owed by other companies of the group: in the companies' own "
                                                       "books, eliminated from the group's figures above"})


class CompanyReceivablesOut(GroupAgeingOut):
    company_id = fields.Integer()
    company_code = fields.String()
    company_name_zh = fields.String()
    company_name_en = fields.String()
    segment_id = fields.Integer()
    segment_code = fields.String()
    segment_name_zh = fields.String()
    segment_name_en = fields.String()


class SegmentReceivablesOut(GroupAgeingOut):
    segment_id = fields.Integer()
    segment_code = fields.String()
    segment_name_zh = fields.String()
    segment_name_en = fields.String()
    companies = fields.Integer()


class OverLimitOut(Schema):
    customer_id = fields.Integer()
    customer_code = fields.String()
    customer_name_zh = fields.String()
    customer_name_en = fields.String()
    exposure = Money()
    credit_limit = Money()
    excess = Money()


class OverdueOut(Schema):
    customer_id = fields.Integer()
    customer_code = fields.String()
    customer_name_zh = fields.String()
    customer_name_en = fields.String()
    over_90 = Money()


class AlertsOut(Schema):
    over_limit_count = fields.Integer()
    over_limit = fields.List(fields.Nested(OverLimitOut))
    over_90_count = fields.Integer()
    over_90 = fields.List(fields.Nested(OverdueOut))
    on_hold_count = fields.Integer()
    blocked_orders_count = fields.Integer()


class DashboardOut(Schema):
    as_of = Day()
    totals = fields.Nested(GroupAgeingOut)
    by_segment = fields.List(fields.Nested(SegmentReceivablesOut))
    by_company = fields.List(fields.Nested(CompanyReceivablesOut))
    top_customers = fields.List(fields.Nested(CustomerReceivablesOut))
    alerts = fields.Nested(AlertsOut)


# --- the limit model's backtest ------------------------------------------------------------------

MONTH = Regexp(r"^\d{4}-(0[1-9]|1[0-2])$", error=N_("a month as YYYY-MM"))


class BacktestQuery(Schema):
    first_month = fields.String(required=True, data_key="from", validate=MONTH,
                                metadata={"description": "first month end to replay, YYYY-MM"})
    last_month = fields.String(required=True, data_key="to", validate=MONTH,
                               metadata={"description": "last month end to replay, YYYY-MM, ended before today"})
    horizon_months = QueryInt(1, 36, load_default=12, metadata={
        "description": "months after each month end in which going over 90 days past due counts"})


class BacktestMonthOut(Schema):
    month_end = Day()
    horizon_end = Day()
    customers = fields.Integer()
    held = fields.Integer(metadata={"description": "customers the model held (suggested 0 and hold)"})
    limited = fields.Integer(metadata={"description": "customers suggested less than the limit approved then"})
    withheld = Money(metadata={"description": "approved limits less the model's, over the customers it restricted"})
    went_bad = fields.Integer(metadata={"description": "customers not over 90 days past due on the month end "
                                                       "that went so within the horizon"})
    went_bad_held = fields.Integer()
    went_bad_limited = fields.Integer()
    overdue_amount = Money(metadata={"description": "what was open of their invoices on the day each passed 90 "
                                                     "days past due"})
    overdue_after = Money(metadata={"description": "of which on invoices dated after the month end"})
    covered = Money(metadata={"description": "what the model's decision would have kept out of that"})


class BadCustomerOut(Schema):
    month_end = Day()
    customer_id = fields.Integer()
    customer_code = fields.String()
    went_bad_on = Day()
    overdue_amount = Money()
    overdue_after = Money()
    approved_limit = Money()
    suggested_limit = Money()
    hold = fields.Boolean()
    decision = fields.String(metadata={"description": "held, limited or not_limited"})
    covered = Money()
    score = Score(allow_none=True)
    risk_class = fields.String(allow_none=True)


class BacktestOut(Schema):
    first_month = fields.String()
    last_month = fields.String()
    horizon_months = fields.Integer()
    known_until = Day()
    model_version = fields.Integer()
    months = fields.List(fields.Nested(BacktestMonthOut))
    went_bad = fields.Integer(metadata={"description": "customers that went bad, each once, at the last month "
                                                       "end before it did"})
    went_bad_held = fields.Function(lambda b: b.count("held"))
    went_bad_limited = fields.Function(lambda b: b.count("limited"))
    overdue_amount = fields.Function(lambda b: str(b.total("overdue_amount")))
    overdue_after = fields.Function(lambda b: str(b.total("overdue_after")))
    covered = fields.Function(lambda b: str(b.total("covered")))
    bad_customers = fields.List(fields.Nested(BadCustomerOut))
    seconds = fields.Decimal(as_string=True)
