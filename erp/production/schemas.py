"""JSON shapes of production: bills of materials, cost-centre rates, roll-ups."""

from __future__ import annotations

from decimal import Decimal

from marshmallow import fields

from erp.db import MONEY, UNIT_PRICE
from erp.production.models import FINE, HOURS, PERCENT, OrderStatus
from erp.schemas import Count, Day, DecimalString, Id, Length, OneOf, Period, Quantity, Query, QueryId, Schema


class ComponentIn(Schema):
    material_id = Id(required=True)
    quantity = DecimalString(column=FINE, min_value=0, min_inclusive=False, required=True,
                             metadata={"description": "per the BOM's base quantity, in the component's unit"})
    scrap_pct = DecimalString(column=PERCENT, min_value=0, max_value=Decimal("99.99"), load_default=Decimal("0"),
                              metadata={"description": "scrap allowance in percent, added to the quantity"})


class BomIn(Schema):
    company_id = Id(required=True)
    material_id = Id(required=True)
    valid_from = Day(required=True)
    base_quantity = Quantity(required=True)
    cost_center = fields.String(validate=Length(1, 32), load_default=None)
    hours = DecimalString(column=HOURS, min_value=0, load_default=Decimal("0"),
                          metadata={"description": "cost-centre hours per base quantity"})
    note = fields.String(validate=Length(0, 500), load_default=None)
    components = fields.List(fields.Nested(ComponentIn), required=True, validate=Count(1, 500))


class ComponentOut(Schema):
    line_no = fields.Integer()
    material_id = fields.Integer()
    quantity = DecimalString(column=FINE, dump_only=True)
    scrap_pct = DecimalString(column=PERCENT, dump_only=True)


class BomOut(Schema):
    id = fields.Integer()
    company_id = fields.Integer()
    material_id = fields.Integer()
    version = fields.Integer()
    valid_from = fields.Date()
    base_quantity = Quantity(dump_only=True)
    cost_center = fields.String(allow_none=True)
    hours = DecimalString(column=HOURS, dump_only=True)
    note = fields.String(allow_none=True)
    created_by = fields.Integer()
    created_at = fields.DateTime()
    components = fields.List(fields.Nested(ComponentOut))


class BomQuery(Query):
    company_id = QueryId(required=True)
    material_id = QueryId()


class RateIn(Schema):
    cost_center = fields.String(required=True, validate=Length(1, 32))
    labour_rate = DecimalString(column=UNIT_PRICE, min_value=0, required=True)
    overhead_rate = DecimalString(column=UNIT_PRICE, min_value=0, required=True)


class RatesIn(Schema):
    company_id = Id(required=True)
    period = Period(required=True)
    rates = fields.List(fields.Nested(RateIn), required=True, validate=Count(1, 1000))


class RateOut(Schema):
    company_id = fields.Integer()
    cost_center = fields.String()
    period = fields.String()
    labour_rate = DecimalString(column=UNIT_PRICE, dump_only=True)
    overhead_rate = DecimalString(column=UNIT_PRICE, dump_only=True)


class RollupIn(Schema):
    company_id = Id(required=True)
    period = Period(required=True)


class RollupOut(Schema):
    id = fields.Integer()
    company_id = fields.Integer()
    period = fields.String()
    status = fields.String()
    levels = fields.Integer()
    run_by = fields.Integer()
    run_at = fields.DateTime()
    released_by = fields.Integer(allow_none=True)
    released_at = fields.DateTime(allow_none=True)


class BreakdownLineOut(Schema):
    element = fields.String(metadata={"description": "material, labour or overhead"})
    component_id = fields.Integer(allow_none=True)
    component_code = fields.String(allow_none=True)
    quantity = DecimalString(column=FINE, dump_only=True,
                             metadata={"description": "per base quantity (hours for labour and overhead)"})
    price = DecimalString(column=UNIT_PRICE, dump_only=True)
    amount = DecimalString(column=FINE, dump_only=True)


class EstimateOut(Schema):
    material_id = fields.Integer()
    material_code = fields.String()
    bom_id = fields.Integer()
    level = fields.Integer()
    base_quantity = Quantity(dump_only=True)
    material_cost = DecimalString(column=FINE, dump_only=True)
    labour_cost = DecimalString(column=FINE, dump_only=True)
    overhead_cost = DecimalString(column=FINE, dump_only=True)
    unit_cost = DecimalString(column=UNIT_PRICE, dump_only=True)
    lines = fields.List(fields.Nested(BreakdownLineOut))


class BreakdownQuery(Query):
    material_id = QueryId()


class ProductionOrderIn(Schema):
    company_id = Id(required=True)
    material_id = Id(required=True)
    quantity = Quantity(required=True)
    order_date = Day(required=True)
    warehouse_id = Id(required=True)


class ProductionOrderComponentOut(Schema):
    line_no = fields.Integer()
    material_id = fields.Integer()
    quantity_per_base = DecimalString(column=FINE, dump_only=True)
    scrap_pct = DecimalString(column=PERCENT, dump_only=True)
    planned_quantity = Quantity(dump_only=True)
    planned_price = DecimalString(column=UNIT_PRICE, dump_only=True)


class ProductionOrderOut(Schema):
    id = fields.Integer()
    number = fields.String()
    company_id = fields.Integer()
    material_id = fields.Integer()
    bom_id = fields.Integer()
    warehouse_id = fields.Integer()
    quantity = Quantity(dump_only=True)
    order_date = fields.Date()
    status = fields.String()
    base_quantity = Quantity(dump_only=True)
    hours = DecimalString(column=HOURS, dump_only=True)
    labour_rate = DecimalString(column=UNIT_PRICE, dump_only=True)
    overhead_rate = DecimalString(column=UNIT_PRICE, dump_only=True)
    delivered_quantity = Quantity(dump_only=True, positive=False)
    completed_on = fields.Date(allow_none=True)
    settled_period = fields.String(allow_none=True)
    components = fields.List(fields.Nested(ProductionOrderComponentOut))


class ProductionOrderQuery(Query):
    company_id = QueryId(required=True)
    status = fields.String(validate=OneOf([s.value for s in OrderStatus]))


class CompleteIn(Schema):
    completed_on = Day(required=True)


class IssueItemIn(Schema):
    material_id = Id(required=True)
    quantity = Quantity(required=True)
    batch_id = Id(load_default=None, metadata={"description": "a named batch; FEFO when absent"})


class IssuesIn(Schema):
    warehouse_id = Id(required=True)
    posting_date = Day(required=True)
    items = fields.List(fields.Nested(IssueItemIn), required=True, validate=Count(1, 200))
    over_issue_reason = fields.String(load_default=None, validate=Length(1, 500), metadata={
        "description": "why more than the bill of materials requires is issued (then required: "
                       "over-issue-needs-reason)"})


class DocumentsOut(Schema):
    document_ids = fields.List(fields.Integer())


class DeliveryIn(Schema):
    quantity = Quantity(required=True)
    posting_date = Day(required=True)
    batch_number = fields.String(validate=Length(1, 40), load_default=None,
                                 metadata={"description": "the output batch; default: the order's number"})


class DeliveryOut(Schema):
    document_id = fields.Integer()


class RollupReleaseIn(Schema):
    reason = fields.String(required=True, validate=Length(1, 500),
                           metadata={"description": "why the run's unit costs become the period's standard prices"})


class DeliveryReversalIn(Schema):
    posting_date = Day(required=True)
    reason = fields.String(required=True, validate=Length(1, 500))


class GenealogyQuery(Query):
    direction = fields.String(validate=OneOf(["down", "up"]), load_default="down")


class TracedBatchOut(Schema):
    batch_id = fields.Integer()
    batch_number = fields.String()
    material_id = fields.Integer()
    material_code = fields.String()
    depth = fields.Integer()
    supplier_code = fields.String(allow_none=True)


class RecipientOut(Schema):
    customer_id = fields.Integer()
    customer_code = fields.String()
    customer_name = fields.String()
    batch_id = fields.Integer()
    batch_number = fields.String()
    material_code = fields.String()
    quantity = Quantity(dump_only=True, positive=False)


class GenealogyOut(Schema):
    batch_id = fields.Integer()
    direction = fields.String()
    batches = fields.List(fields.Nested(TracedBatchOut))
    customers = fields.List(fields.Nested(RecipientOut))


class VarianceOut(Schema):
    period = fields.String()
    category = fields.String(metadata={"description": "input_quantity, input_price or lot_size"})
    component_id = fields.Integer(allow_none=True)
    actual_quantity = Quantity(dump_only=True, positive=False, allow_none=True)
    target_quantity = Quantity(dump_only=True, positive=False, allow_none=True)
    amount = DecimalString(column=MONEY, dump_only=True,
                           metadata={"description": "CNY; positive: the order cost more than standard"})
