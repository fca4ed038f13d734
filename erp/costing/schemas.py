"""JSON shapes of costing: standard prices, periods, the close and its reports."""

from __future__ import annotations

from marshmallow import fields

from erp.schemas import (
    Count, Day, DecimalString, Id, Length, Money, Period, Quantity, Query, QueryId, Schema, UnitPrice,
)
from erp.web import NarrationText


class PriceIn(Schema):
    material_id = Id(required=True)
    price = UnitPrice(required=True)


class StandardPricesIn(Schema):
    company_id = Id(required=True)
    period = Period(required=True)
    prices = fields.List(fields.Nested(PriceIn), required=True, validate=Count(1, 5000))


class StandardPriceOut(Schema):
    company_id = fields.Integer()
    material_id = fields.Integer()
    period = fields.String()
    price = UnitPrice()
    effective_from = fields.String(metadata={"description": "the period this price was set for (YYYY-MM)"})
    carried_forward = fields.Boolean(metadata={"description": "true when set for an earlier period"})
    set_by = fields.Integer(allow_none=True)
    set_at = fields.DateTime()


class StandardPriceQuery(Query):
    company_id = QueryId(required=True)
    period = Period(required=True)


class PeriodPath(Query):
    company_id = QueryId(required=True)
    period = Period(required=True)


class GroupCloseIn(Schema):
    period = Period(required=True)
    company_ids = fields.List(Id(), validate=Count(1, 1000))


class CalendarQuery(Query):
    from_ = Period(data_key="from", metadata={"description": "first period (YYYY-MM); default 11 months back"})
    to = Period(metadata={"description": "last period (YYYY-MM); default next month"})
    company_id = QueryId()


class PeriodStandingOut(Schema):
    period = fields.String()
    status = fields.String(metadata={"description": "closed, open or not_yet_begun"})
    ended = fields.Boolean(metadata={"description": "its last day is past: it may be closed"})
    closed_at = fields.DateTime(allow_none=True)
    closed_by = fields.Integer(allow_none=True)


class CompanyCalendarOut(Schema):
    company_id = fields.Integer()
    company_code = fields.String()
    name_zh = fields.String()
    name_en = fields.String()
    latest_closed = fields.String(allow_none=True, metadata={"description": "books closed up to this period"})
    next_to_close = fields.String(allow_none=True, metadata={
        "description": "the next period to close, once it has ended; null when none can be closed yet"})
    periods = fields.List(fields.Nested(PeriodStandingOut))


class ReopenIn(Schema):
    reason = fields.String(required=True, validate=Length(1, 500))


class CloseResultOut(Schema):
    company_id = fields.Integer()
    period = fields.String()
    status = fields.String(metadata={"description": "closed, open or not_yet_begun, derived from the company's "
                                                   "calendar: every period up to the latest closed one is closed"})
    closed_now = fields.List(fields.String(), metadata={
        "description": "the periods this request closed for the company, in order (a group close brings every "
                       "company up to the requested period); empty when it was already closed"})
    closed_at = fields.DateTime(allow_none=True)
    closed_by = fields.Integer(allow_none=True)
    journal_entry_id = fields.Integer(allow_none=True)
    materials = fields.Integer()
    variance_allocated = Money()
    variance_remaining = Money()


class VarianceRowOut(Schema):
    material_id = fields.Integer()
    material_code = fields.String()
    name_zh = fields.String()
    opening_quantity = Quantity(positive=False)
    opening_value = Money()
    opening_variance = Money()
    receipts_quantity = Quantity(positive=False)
    receipts_value = Money()
    receipts_variance = Money()
    other_inflow_quantity = Quantity(positive=False)
    other_inflow_value = Money()
    variance_rate = DecimalString(places=10, dump_only=True)
    consumption_quantity = Quantity(positive=False)
    consumption_value = Money()
    consumption_variance = Money()
    closing_quantity = Quantity(positive=False)
    closing_value = Money()
    closing_variance = Money()


class AllocationLineOut(Schema):
    material_id = fields.Integer()
    material_code = fields.String()
    account_code = fields.String()
    consumed_value = Money()
    allocated_variance = Money()


class JournalSumOut(Schema):
    account_code = fields.String()
    name_zh = fields.String()
    name_en = fields.String()
    amount = Money(metadata={"description": "debit positive, credit negative"})


class ClosePreviewOut(Schema):
    company_id = fields.Integer()
    period = fields.String()
    materials = fields.List(fields.Nested(VarianceRowOut))
    allocations = fields.List(fields.Nested(AllocationLineOut), attribute="lines")
    journal = fields.List(fields.Nested(JournalSumOut))
    variance_allocated = Money()
    variance_remaining = Money()


class VarianceReportOut(Schema):
    materials = fields.List(fields.Nested(VarianceRowOut))
    allocations = fields.List(fields.Nested(AllocationLineOut))


class ValuationQuery(Query):
    company_id = QueryId(load_default=None, metadata={"description": "omit for the whole group (group-wide roles)"})


class ValuationRowOut(Schema):
    company_id = fields.Integer()
    company_code = fields.String()
    material_id = fields.Integer()
    material_code = fields.String()
    quantity = Quantity(positive=False)
    standard_value = Money()
    variance = Money()
    actual_value = Money()


class JournalQuery(Query):
    company_id = QueryId(required=True)
    period = Period()
    account_code = fields.String(validate=Length(1, 16))
    source_type = fields.String(validate=Length(1, 32))


class JournalRowOut(Schema):
    id = fields.Integer()
    entry_id = fields.Integer()
    entry_date = Day()
    period = fields.String()
    source_type = fields.String()
    source_id = fields.Integer(allow_none=True)
    memo = NarrationText(metadata={"description": "the entry's narration (摘要) in the request's language"})
    account_code = fields.String()
    account_name_zh = fields.String()
    account_name_en = fields.String()
    amount = Money(metadata={"description": "signed: positive debit, negative credit"})
    material_id = fields.Integer(allow_none=True)
    customer_id = fields.Integer(allow_none=True)
    reverses_entry_id = fields.Integer(allow_none=True)


class TrialBalanceQuery(Query):
    company_id = QueryId(load_default=None, metadata={"description": "omit for the whole group (group-wide roles)"})
    period = Period(required=True)


class TrialBalanceLineOut(Schema):
    account_code = fields.String()
    name_zh = fields.String()
    name_en = fields.String()
    kind = fields.String()
    debit = Money()
    credit = Money()


class TrialBalanceOut(Schema):
    company_id = fields.Integer(allow_none=True)
    period = fields.String()
    lines = fields.List(fields.Nested(TrialBalanceLineOut))
    total_debit = Money()
    total_credit = Money()
    balanced = fields.Boolean()
