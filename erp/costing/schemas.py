"""JSON shapes of costing: standard prices, periods, the close and its reports."""

from __future__ import annotations

from marshmallow import fields, validate

from erp.schemas import Id, Period, QueryId, Schema, UnitPrice


class PriceIn(Schema):
    material_id = Id(required=True)
    price = UnitPrice(required=True)


class StandardPricesIn(Schema):
    company_id = Id(required=True)
    period = Period(required=True)
    prices = fields.List(fields.Nested(PriceIn), required=True, validate=validate.Length(1, 5000))


class StandardPriceOut(Schema):
    company_id = fields.Integer()
    material_id = fields.Integer()
    period = fields.String()
    price = UnitPrice()
    carried_forward = fields.Boolean()
    set_by = fields.Integer(allow_none=True)
    set_at = fields.DateTime()


class StandardPriceQuery(Schema):
    company_id = QueryId(required=True)
    period = Period(required=True)
