"""JSON shapes of the master data. Field checks only; rules live in the services."""

from __future__ import annotations

from decimal import Decimal

from marshmallow import fields

from erp.masterdata.models import PERCENT, TEMPERATURE, MaterialType, ProcurementScope, TaxKind
from erp.schemas import Between, Code, Day, DecimalString, Id, Length, Money, Name, Query, QueryId, Schema, USCC


def Temperature(**kwargs):  # noqa: N802, ANN001, ANN201
    return DecimalString(column=TEMPERATURE, min_value=-90, max_value=60, **kwargs)


def Humidity(**kwargs):  # noqa: N802, ANN001, ANN201
    return DecimalString(column=PERCENT, min_value=0, max_value=100, min_inclusive=False, **kwargs)


def Reason(**kwargs):  # noqa: N802, ANN001, ANN201
    """Why a record was changed or deactivated (kept in the audit trail)."""
    return fields.String(validate=Length(1, 500), metadata={"description": "why (audit trail)"}, **kwargs)


class ReasonIn(Schema):
    reason = Reason(load_default=None)


class Record(Schema):
    """Fields every master record shows."""

    id = fields.Integer(dump_only=True)
    active = fields.Boolean(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class ListFilter(Query):
    q = fields.String(validate=Length(1, 100), metadata={"description": "code or name contains"})
    active = fields.Boolean()


# --- segments -------------------------------------------------------------------------
class SegmentSchema(Record):
    code = Code(required=True)
    name_zh = Name(required=True)
    name_en = Name(required=True)


# --- companies ------------------------------------------------------------------------
class CompanySchema(Record):
    code = Code(required=True)
    segment_id = Id(required=True)
    name_zh = Name(required=True)
    name_en = Name(required=True)
    uscc = USCC(allow_none=True, load_default=None)
    approval_threshold = Money(
        min_value=0, allow_none=True, load_default=None,
        metadata={"description": "orders above this value need approval; null: group default"},
    )
    customer_id = Id(allow_none=True, load_default=None, metadata={
        "description": "the group-master customer that stands for this company in intercompany sales to it"})
    supplier_id = Id(allow_none=True, load_default=None, metadata={
        "description": "the group-master supplier that stands for this company in intercompany sales by it"})


class CompanyFilter(ListFilter):
    segment_id = QueryId()


# --- warehouses -----------------------------------------------------------------------
class WarehouseSchema(Record):
    code = Code(required=True)
    company_id = Id(required=True)
    name_zh = Name(required=True)
    name_en = Name(required=True)
    temp_min = Temperature(required=True, metadata={"description": "lowest temperature kept, °C"})
    temp_max = Temperature(required=True, metadata={"description": "highest temperature kept, °C"})
    max_humidity = Humidity(required=True, metadata={"description": "maximum relative humidity, %"})


class WarehouseFilter(ListFilter):
    company_id = QueryId()


# --- units of measure -----------------------------------------------------------------
class UnitSchema(Record):
    code = Code(required=True)
    name_zh = Name(100, required=True)
    name_en = Name(100, required=True)
    decimals = fields.Integer(
        strict=True, validate=Between(0, 4), load_default=3,
        metadata={"description": "decimal places a quantity in this unit may have"},
    )


# --- materials ------------------------------------------------------------------------
class MaterialSchema(Record):
    code = Code(required=True)
    name_zh = Name(required=True)
    name_en = Name(required=True)
    material_type = fields.Enum(MaterialType, by_value=True, required=True)
    unit_id = Id(required=True)
    procurement_scope = fields.Enum(
        ProcurementScope, by_value=True, required=True,
        metadata={"description": "central: bought by group purchasing; local: by each company"},
    )
    storage_temp_min = Temperature(allow_none=True, load_default=None)
    storage_temp_max = Temperature(allow_none=True, load_default=None)
    storage_max_humidity = Humidity(allow_none=True, load_default=None)
    shelf_life_days = fields.Integer(strict=True, validate=Between(1, 36500), allow_none=True, load_default=None)
    min_remaining_shelf_life_days = fields.Integer(
        strict=True, validate=Between(0, 36500), allow_none=True, load_default=None
    )
    batch_managed = fields.Boolean(load_default=True)
    inspection_required = fields.Boolean(load_default=False)
    over_receipt_tolerance_pct = DecimalString(
        column=PERCENT, min_value=0, max_value=100, load_default=Decimal("0"),
        metadata={"description": "percent a receipt may exceed the ordered quantity"},
    )
    default_tax_code_id = Id(
        allow_none=True, load_default=None,
        metadata={"description": "VAT code of the goods unless the partner's own applies"},
    )
    unit_code = fields.String(attribute="unit.code", dump_only=True)


class MaterialFilter(ListFilter):
    material_type = fields.Enum(MaterialType, by_value=True)
    procurement_scope = fields.Enum(ProcurementScope, by_value=True)
    unit_id = QueryId()


# --- suppliers and customers ----------------------------------------------------------
class PartnerSchema(Record):
    code = Code(required=True)
    uscc = USCC(required=True, metadata={"description": "unified social credit code (18 characters)"})
    name_zh = Name(required=True)
    name_en = Name(required=True)
    blocked = fields.Boolean(load_default=False)
    default_tax_code_id = Id(
        allow_none=True, load_default=None,
        metadata={"description": "the partner's own VAT code; overrides the material's"},
    )


class SupplierSchema(PartnerSchema):
    pass


class CustomerSchema(PartnerSchema):
    payment_terms_days = fields.Integer(strict=True, validate=Between(0, 365), load_default=30)


class PartnerFilter(ListFilter):
    blocked = fields.Boolean()


# --- tax codes ------------------------------------------------------------------------
class TaxCodeSchema(Record):
    code = Code(required=True)
    name_zh = Name(required=True)
    name_en = Name(required=True)
    kind = fields.Enum(
        TaxKind, by_value=True, required=True,
        metadata={"description": "standard (taxed at the rate), zero (zero rate), exempt"},
    )
    rate = DecimalString(column=PERCENT, min_value=0, max_value=100, required=True,
                         metadata={"description": "percent of the amount excluding tax"})
    valid_from = Day(required=True)
    valid_to = Day(allow_none=True, load_default=None)


class TaxCodeFilter(ListFilter):
    kind = fields.Enum(TaxKind, by_value=True)
