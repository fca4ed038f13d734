"""What the group's intercompany figures look like over HTTP."""

from __future__ import annotations

from marshmallow import fields

from erp.schemas import Day, Money, Period, Quantity, Query, Schema, UnitPrice


class PeriodQuery(Query):
    period = Period(required=True)


class TradeLineOut(Schema):
    order_line_id = fields.Integer()
    order_id = fields.Integer()
    order_number = fields.String()
    seller_id = fields.Integer()
    seller_code = fields.String()
    buyer_id = fields.Integer()
    buyer_code = fields.String()
    po_line_id = fields.Integer(metadata={"description": "the buyer's purchase order line"})
    material_id = fields.Integer()
    material_code = fields.String()
    unit_price = UnitPrice(metadata={"description": "the intercompany contract price"})
    shipped_quantity = Quantity(positive=False)
    shipped_cost = Money(metadata={"description": "the seller's value at standard of what it shipped"})
    received_quantity = Quantity(positive=False)
    in_transit_quantity = Quantity(positive=False)
    in_transit_value = Money(metadata={"description": "in transit at the intercompany price"})
    returning_quantity = Quantity(positive=False, metadata={
        "description": "returned by the buyer and not yet taken back by the seller (not in transit to the buyer)"})
    held_quantity = Quantity(positive=False, metadata={"description": "what the buyer still holds of it"})
    unit_margin = UnitPrice(metadata={"description": "price less the seller's cost per unit"})
    unrealised_profit = Money()


class ConsolidatedLineOut(Schema):
    account_code = fields.String(metadata={"description": "a chart account, or IC-UNREALISED / IC-TRANSIT"})
    name_zh = fields.String()
    name_en = fields.String()
    kind = fields.String()
    debit = Money(metadata={"description": "the companies' own balances, summed"})
    credit = Money()
    elimination_debit = Money()
    elimination_credit = Money()
    consolidated_debit = Money()
    consolidated_credit = Money()


class ConsolidatedTotalsOut(Schema):
    debit = Money()
    credit = Money()
    elimination_debit = Money()
    elimination_credit = Money()
    consolidated_debit = Money()
    consolidated_credit = Money()


class ConsolidatedTrialBalanceOut(Schema):
    period = fields.String()
    as_of = Day()
    lines = fields.List(fields.Nested(ConsolidatedLineOut))
    totals = fields.Nested(ConsolidatedTotalsOut)
    balanced = fields.Boolean()
    intercompany_revenue = Money()
    intercompany_receivables = Money()
    intercompany_payables = Money()
    unrealised_profit = Money()
    in_transit = Money()
    trade = fields.List(fields.Nested(TradeLineOut))
