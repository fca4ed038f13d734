"""JSON shapes of contracts, exceptions, orderable materials and purchase orders.

Field checks only; rules live in the services. No order line takes a price from the
client: ``unit_price`` and ``amount`` are dump-only, so a request that sends them is
refused as an unknown field (422).
"""

from __future__ import annotations

import re

from marshmallow import fields

from erp.purchasing.models import ContractScope, ContractStatus, PurchaseOrderStatus
from erp.messages import N_
from erp.schemas import Count, Day, Id, Length, Money, Quantity, Query, QueryId, Regexp, Schema, UnitPrice

CONTRACT_NUMBER = re.compile(r"^[A-Z0-9][A-Z0-9./_-]{0,39}$")


def Reason(**kwargs):  # noqa: N802, ANN001, ANN201
    return fields.String(validate=Length(1, 500), **kwargs)


class ConsumptionWarningSchema(Schema):
    type = fields.String(dump_only=True, metadata={"description": "contract-target-exceeded"})
    detail = fields.String(dump_only=True)
    contract_line_id = fields.Integer(dump_only=True)
    contract_number = fields.String(dump_only=True)
    material_code = fields.String(dump_only=True)
    target_quantity = Quantity(dump_only=True)
    ordered_quantity = Quantity(dump_only=True)


# --- contracts ---------------------------------------------------------------------------
class ContractLineSchema(Schema):
    id = fields.Integer(dump_only=True)
    material_id = Id(required=True)
    material_code = fields.String(attribute="material.code", dump_only=True)
    unit_code = fields.String(attribute="unit.code", dump_only=True, metadata={"description": "the material's unit"})
    unit_price = UnitPrice(required=True, metadata={"description": "CNY per unit"})
    target_quantity = Quantity(allow_none=True, load_default=None, metadata={"description": "optional volume target"})
    ordered_quantity = Quantity(positive=False, dump_only=True, metadata={"description": "submitted orders"})
    remaining_quantity = Quantity(
        positive=False, dump_only=True, allow_none=True, metadata={"description": "target minus ordered"}
    )


class ContractSummarySchema(Schema):
    id = fields.Integer(dump_only=True)
    number = fields.String(
        required=True,
        validate=Regexp(CONTRACT_NUMBER, error=N_("1-40 characters: A-Z, 0-9, '.', '/', '_' or '-'")),
        metadata={"description": "the signed contract's number"},
    )
    supplier_id = Id(required=True)
    supplier_code = fields.String(attribute="supplier.code", dump_only=True)
    scope = fields.Enum(
        ContractScope, by_value=True, required=True,
        metadata={"description": "group: serves every company; company: serves company_id"},
    )
    company_id = Id(allow_none=True, load_default=None)
    company_code = fields.Function(
        lambda contract: contract.company.code if contract.company else None, dump_only=True,
        metadata={"type": "string", "nullable": True, "description": "null for group contracts"},
    )
    valid_from = Day(required=True)
    valid_to = Day(required=True)
    status = fields.Enum(
        ContractStatus, by_value=True, attribute="effective_status", dump_only=True,
        metadata={"description": "expired: valid_to has passed (computed)"},
    )
    created_by = fields.Integer(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    activated_at = fields.DateTime(dump_only=True, allow_none=True)
    terminated_at = fields.DateTime(dump_only=True, allow_none=True)
    termination_reason = fields.String(dump_only=True, allow_none=True)


class ContractSchema(ContractSummarySchema):
    lines = fields.List(fields.Nested(ContractLineSchema), required=True, validate=Count(1, 500))
    warnings = fields.List(
        fields.Nested(ConsumptionWarningSchema), attribute="consumption_warnings", dump_only=True,
        metadata={"description": "lines ordered past their target (a warning, not a refusal)"},
    )


class ContractFilter(Query):
    supplier_id = QueryId()
    company_id = QueryId()
    scope = fields.Enum(ContractScope, by_value=True)
    status = fields.Enum(ContractStatus, by_value=True)
    material_id = QueryId(metadata={"description": "contracts with a line for this material"})
    valid_on = Day(metadata={"description": "contracts whose validity includes this day"})
    q = fields.String(validate=Length(1, 40), metadata={"description": "number contains"})


class ReasonSchema(Schema):
    reason = Reason(required=True)


class OptionalReasonSchema(Schema):
    reason = Reason(load_default=None)


# --- steward exceptions ------------------------------------------------------------------
class PurchasingExceptionSchema(Schema):
    id = fields.Integer(dump_only=True)
    company_id = Id(required=True)
    company_code = fields.String(attribute="company.code", dump_only=True)
    material_id = Id(required=True, metadata={"description": "a central material"})
    material_code = fields.String(attribute="material.code", dump_only=True)
    valid_from = Day(required=True)
    valid_to = Day(required=True)
    reason = Reason(required=True)
    granted_by = fields.Integer(dump_only=True)
    granted_at = fields.DateTime(dump_only=True)
    revoked_by = fields.Integer(dump_only=True, allow_none=True)
    revoked_at = fields.DateTime(dump_only=True, allow_none=True)


class ExceptionFilter(Query):
    company_id = QueryId()
    material_id = QueryId()
    material_text = fields.String(data_key="material", validate=Length(1, 200), metadata={
        "description": "exceptions of a material whose code or name contains this (any case)"})
    valid_on = Day(metadata={"description": "exceptions whose validity includes this day"})
    include_revoked = fields.Boolean(load_default=False)


# --- what may I order ----------------------------------------------------------------------
class OrderableQuery(Query):
    company_id = QueryId(required=True, metadata={"description": "the receiving company"})
    date = Day(load_default=None, metadata={"description": "default: today"})
    supplier_id = QueryId(load_default=None)


class ExceptionGrantSchema(Schema):
    exception_id = fields.Integer(dump_only=True)
    granted_by = fields.String(dump_only=True, metadata={"description": "the steward's display name"})
    granted_at = fields.DateTime(dump_only=True)
    valid_from = Day(dump_only=True)
    valid_to = Day(dump_only=True)
    reason = fields.String(dump_only=True)


class OrderableSchema(Schema):
    material_id = fields.Integer(attribute="material.id", dump_only=True)
    material_code = fields.String(attribute="material.code", dump_only=True)
    material_name_zh = fields.String(attribute="material.name_zh", dump_only=True)
    material_name_en = fields.String(attribute="material.name_en", dump_only=True)
    procurement_scope = fields.String(attribute="material.procurement_scope", dump_only=True)
    unit_code = fields.String(attribute="contract_line.unit.code", dump_only=True)
    supplier_id = fields.Integer(attribute="supplier.id", dump_only=True)
    supplier_code = fields.String(attribute="supplier.code", dump_only=True)
    supplier_name_zh = fields.String(attribute="supplier.name_zh", dump_only=True)
    contract_id = fields.Integer(attribute="contract_line.contract.id", dump_only=True)
    contract_number = fields.String(attribute="contract_line.contract.number", dump_only=True)
    contract_scope = fields.String(attribute="contract_line.contract.scope", dump_only=True)
    contract_valid_to = Day(attribute="contract_line.contract.valid_to", dump_only=True)
    contract_line_id = fields.Integer(attribute="contract_line.id", dump_only=True)
    unit_price = UnitPrice(attribute="contract_line.unit_price", dump_only=True)
    target_quantity = Quantity(attribute="contract_line.target_quantity", dump_only=True, allow_none=True)
    ordered_quantity = Quantity(attribute="contract_line.ordered_quantity", positive=False, dump_only=True)
    rule = fields.String(dump_only=True, metadata={"description": "the purchasing-rights rule that allows it"})
    exception = fields.Nested(ExceptionGrantSchema, dump_only=True, allow_none=True, metadata={
        "description": "the steward's exception that allows it (rule purchasing-exception), else null"})


# --- purchase orders ---------------------------------------------------------------------
class OrderLineSchema(Schema):
    id = fields.Integer(dump_only=True)
    line_no = fields.Integer(dump_only=True)
    material_id = Id(required=True)
    material_code = fields.String(attribute="material.code", dump_only=True)
    unit_code = fields.String(attribute="contract_line.unit.code", dump_only=True)
    # Positivity, the ceiling and the unit's decimals are business rules with their own
    # problem types (quantity-not-positive, ...), so the field only checks the format.
    quantity = Quantity(positive=False, required=True, metadata={"description": "in the material's unit"})
    warehouse_id = Id(required=True, metadata={"description": "delivery warehouse of the receiving company"})
    warehouse_code = fields.String(attribute="warehouse.code", dump_only=True)
    contract_line_id = Id(
        load_default=None,
        metadata={"description": "optional: the line seen in /purchasing/orderable; refused if another applies"},
    )
    contract_id = fields.Integer(attribute="contract_line.contract.id", dump_only=True)
    contract_number = fields.String(attribute="contract_line.contract.number", dump_only=True)
    unit_price = UnitPrice(dump_only=True, metadata={"description": "copied from the contract line"})
    amount = Money(dump_only=True, metadata={"description": "quantity x unit price, rounded half-up to 0.01"})
    received_quantity = Quantity(positive=False, dump_only=True)


class PurchaseOrderSummarySchema(Schema):
    id = fields.Integer(dump_only=True)
    number = fields.String(dump_only=True)
    purchasing_organisation = fields.Function(
        lambda order: "group" if order.is_central else order.purchasing_company.code, dump_only=True,
        metadata={"type": "string", "description": "group (central purchasing) or the company code"},
    )
    purchasing_company_id = fields.Integer(dump_only=True, allow_none=True)
    receiving_company_id = Id(required=True)
    receiving_company_code = fields.String(attribute="receiving_company.code", dump_only=True)
    supplier_id = Id(required=True)
    supplier_code = fields.String(attribute="supplier.code", dump_only=True)
    order_date = Day(load_default=None, metadata={"description": "default: today; not before today"})
    status = fields.Enum(PurchaseOrderStatus, by_value=True, dump_only=True)
    total_amount = Money(dump_only=True)
    created_by = fields.Integer(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    submitted_at = fields.DateTime(dump_only=True, allow_none=True)
    approved_by = fields.Integer(dump_only=True, allow_none=True)
    approved_at = fields.DateTime(dump_only=True, allow_none=True)
    cancelled_by = fields.Integer(dump_only=True, allow_none=True)
    cancelled_at = fields.DateTime(dump_only=True, allow_none=True)
    status_reason = fields.String(dump_only=True, allow_none=True, metadata={"description": "why it was rejected, cancelled or closed"})


def OrderLines(**kwargs):  # noqa: N802, ANN001, ANN201
    return fields.List(fields.Nested(OrderLineSchema), validate=Count(1, 200), **kwargs)


class PurchaseOrderSchema(PurchaseOrderSummarySchema):
    lines = OrderLines(required=True)
    warnings = fields.List(
        fields.Nested(ConsumptionWarningSchema), attribute="consumption_warnings", dump_only=True,
        metadata={"description": "contract lines this order takes past their target"},
    )


class OrderLinesSchema(Schema):
    lines = OrderLines(required=True)


class PurchaseOrderFilter(Query):
    status = fields.Enum(PurchaseOrderStatus, by_value=True)
    receiving_company_id = QueryId()
    supplier_id = QueryId()
    central = fields.Boolean(metadata={"description": "true: central purchasing's orders; false: companies'"})
    order_date_from = Day()
    order_date_to = Day()
    q = fields.String(validate=Length(1, 50), metadata={"description": "number contains"})
