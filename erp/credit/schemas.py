"""JSON shapes of sales, receivables and credit control. Field checks only; rules live in
the services."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from erp.credit.exposure import CreditOutcome, open_line_value
from erp.credit.models import InvoiceStatus, SalesOrderStatus
from erp.schemas import Day, DecimalString, Id, Money, Quantity, Query, QueryId, Schema, UnitPrice


def Reason(**kwargs: Any) -> fields.String:  # noqa: N802 - a field factory reads like a type
    return fields.String(validate=validate.Length(1, 500), **kwargs)


def Ids(**kwargs: Any) -> fields.List:  # noqa: N802
    return fields.List(Id(), validate=validate.Length(1, 500), **kwargs)


def Share(**kwargs: Any) -> DecimalString:  # noqa: N802
    return DecimalString(places=4, **kwargs)


AS_OF = {"description": "key date (default: today); ageing is by days past due on this day"}


# --- inputs --------------------------------------------------------------------------------

class OrderLineIn(Schema):
    material_id = Id(required=True)
    warehouse_id = Id(required=True, metadata={"description": "a warehouse of the order's company"})
    quantity = Quantity(required=True)
    unit_price = UnitPrice(required=True)


class OrderIn(Schema):
    company_id = Id(required=True)
    customer_id = Id(required=True)
    order_date = Day(required=True)
    customer_reference = fields.String(validate=validate.Length(1, 64), load_default=None)
    lines = fields.List(fields.Nested(OrderLineIn), required=True, validate=validate.Length(1, 500))


class CancelIn(Schema):
    reason = Reason(load_default=None)


class ShipmentLineIn(Schema):
    order_line_id = Id(required=True)
    quantity = Quantity(required=True)
    batch_id = Id(load_default=None, metadata={"description": "default: first expiry, first out"})


class ShipmentIn(Schema):
    posting_date = Day(required=True, metadata={"description": "shipment and invoice date"})
    lines = fields.List(fields.Nested(ShipmentLineIn), required=True, validate=validate.Length(1, 500))


class PaymentIn(Schema):
    company_id = Id(required=True)
    customer_id = Id(required=True)
    payment_date = Day(required=True)
    amount = Money(required=True, min_value=0, min_inclusive=False)
    invoice_ids = Ids(load_default=None, metadata={
        "description": "settle these invoices, in this order; default: open invoices, oldest due first"})
    bank_reference = fields.String(validate=validate.Length(1, 64), load_default=None)


class CreditApplicationIn(Schema):
    applied_on = Day(required=True)
    invoice_ids = Ids(load_default=None, metadata={"description": "default: open invoices, oldest due first"})


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
    as_of = Day(load_default=None, metadata={"description": "default: today"})


class OrderQuery(Query):
    company_id = QueryId()
    customer_id = QueryId()
    status = fields.Enum(SalesOrderStatus, by_value=True)


class InvoiceQuery(Query):
    company_id = QueryId()
    customer_id = QueryId()
    status = fields.Enum(InvoiceStatus, by_value=True)
    overdue_on = Day(metadata={"description": "only invoices still open and past due on this day"})


class PaymentQuery(Query):
    company_id = QueryId()
    customer_id = QueryId()


class PositionQuery(Query):
    amount = Money(load_default=None, metadata={"description": "check an action adding this much (default 0)"})


class AsOfQuery(Query):
    as_of = Day(load_default=None, metadata=AS_OF)


class CustomerReceivablesQuery(AsOfQuery):
    company_id = QueryId()
    segment_id = QueryId()
    customer_id = QueryId()


class DashboardQuery(AsOfQuery):
    top = fields.Integer(load_default=100, validate=validate.Range(1, 500),
                         metadata={"description": "how many top customers and alert rows"})


class SuggestionQuery(Query):
    run_id = QueryId(metadata={"description": "default: the latest run"})


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
    detail = fields.String()


class OrderLineOut(Schema):
    id = fields.Integer()
    line_no = fields.Integer()
    material_id = fields.Integer()
    warehouse_id = fields.Integer()
    quantity = Quantity()
    unit_price = UnitPrice()
    shipped_quantity = Quantity(positive=False)
    open_value = fields.Method("_open_value", metadata={"type": "string", "format": "decimal"})

    def _open_value(self, line: Any) -> str:
        return format(open_line_value(line.quantity, line.shipped_quantity, line.unit_price), "f")


class OrderOut(Schema):
    id = fields.Integer(attribute="order.id")
    company_id = fields.Integer(attribute="order.company_id")
    customer_id = fields.Integer(attribute="order.customer_id")
    order_date = Day(attribute="order.order_date")
    customer_reference = fields.String(attribute="order.customer_reference", allow_none=True)
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
    unit_price = UnitPrice(allow_none=True)
    amount = Money()


class InvoiceOut(Schema):
    id = fields.Integer()
    company_id = fields.Integer()
    customer_id = fields.Integer()
    order_id = fields.Integer(allow_none=True)
    invoice_date = Day()
    due_date = Day()
    amount = Money()
    open_amount = Money()
    status = fields.Enum(InvoiceStatus, by_value=True)
    created_by = fields.Integer()
    created_at = fields.DateTime()
    lines = fields.List(fields.Nested(InvoiceLineOut))
    applications = fields.List(fields.Nested(ApplicationOut))


class ShipmentOut(Schema):
    invoice = fields.Nested(InvoiceOut)
    order_status = fields.Enum(SalesOrderStatus, by_value=True, allow_none=True)
    credit = fields.Nested(CreditDecisionOut, allow_none=True,
                           metadata={"description": "the credit check (null on an idempotent replay)"})


class PaymentOut(Schema):
    id = fields.Integer()
    company_id = fields.Integer()
    customer_id = fields.Integer()
    payment_date = Day()
    amount = Money()
    unapplied_amount = Money(metadata={"description": "credit kept for later invoices"})
    bank_reference = fields.String(allow_none=True)
    created_by = fields.Integer()
    created_at = fields.DateTime()
    applications = fields.List(fields.Nested(ApplicationOut))


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
    hold_reason = fields.String(attribute="position.hold_reason", allow_none=True)
    hold_changed_by = fields.Integer(attribute="position.hold_changed_by", allow_none=True)
    hold_changed_at = fields.DateTime(attribute="position.hold_changed_at", allow_none=True)
    check = fields.Nested(CreditDecisionOut)


class LimitVersionOut(Schema):
    id = fields.Integer()
    customer_id = fields.Integer()
    version = fields.Integer()
    credit_limit = Money()
    suggestion_id = fields.Integer(allow_none=True)
    reason = fields.String()
    set_by = fields.Integer()
    set_at = fields.DateTime()


class SuggestionRunOut(Schema):
    id = fields.Integer()
    as_of = Day()
    window_start = Day(metadata={"description": "the 12-month window is (window_start, as_of]"})
    computed_by = fields.Integer(allow_none=True)
    computed_at = fields.DateTime()
    customers = fields.Integer()
    with_history = fields.Integer()


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
    average_days_late = DecimalString(places=2, attribute="CreditLimitSuggestion.average_days_late")
    overdue_share = DecimalString(places=10, attribute="CreditLimitSuggestion.overdue_share")
    behaviour_factor = DecimalString(places=10, attribute="CreditLimitSuggestion.behaviour_factor")
    suggested_limit = Money(attribute="CreditLimitSuggestion.suggested_limit")
    current_limit = Money(allow_none=True)


class ReleaseOut(Schema):
    id = fields.Integer()
    order_id = fields.Integer()
    stage = fields.String(metadata={"description": "confirmation or shipment"})
    rule = fields.String()
    exposure = Money()
    credit_limit = Money()
    reason = fields.String()
    released_by = fields.Integer()
    released_at = fields.DateTime()


class HeldOrderOut(Schema):
    order_id = fields.Integer()
    company_id = fields.Integer()
    company_code = fields.String()
    customer_id = fields.Integer()
    customer_code = fields.String()
    status = fields.Enum(SalesOrderStatus, by_value=True)
    order_date = Day()
    open_value = Money()
    stage = fields.String(metadata={"description": "confirmation: blocked when confirmed; shipment: cannot ship"})
    rule = fields.String()
    credit_blocked_at = fields.DateTime(allow_none=True)
    exposure = Money()
    credit_limit = Money()


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


class CompanyReceivablesOut(AgeingOut):
    company_id = fields.Integer()
    company_code = fields.String()
    company_name_zh = fields.String()
    company_name_en = fields.String()
    segment_id = fields.Integer()
    segment_code = fields.String()


class SegmentReceivablesOut(AgeingOut):
    segment_id = fields.Integer()
    segment_code = fields.String()
    companies = fields.Integer()


class OverLimitOut(Schema):
    customer_id = fields.Integer()
    customer_code = fields.String()
    exposure = Money()
    credit_limit = Money()
    excess = Money()


class OverdueOut(Schema):
    customer_id = fields.Integer()
    customer_code = fields.String()
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
    totals = fields.Nested(AgeingOut)
    by_segment = fields.List(fields.Nested(SegmentReceivablesOut))
    by_company = fields.List(fields.Nested(CompanyReceivablesOut))
    top_customers = fields.List(fields.Nested(CustomerReceivablesOut))
    alerts = fields.Nested(AlertsOut)
