"""JSON shapes of quality. Results and limits are decimals as strings, in the
characteristic's unit; passwords are only ever read, never echoed."""

from __future__ import annotations

from flask_smorest.fields import Upload
from marshmallow import fields

from erp.quality.models import MEASURE, READING, ExcursionKind, LotOrigin, LotStatus, UsageDecisionKind
from erp.schemas import (
    Between, Count, Day, DecimalString, Id, IsoInstant, Length, Name, Quantity, Query, QueryId, Schema, Text,
)


def Measure(**kwargs: object) -> DecimalString:  # noqa: N802 - a field factory reads like a type
    """A limit or a result in the characteristic's unit (up to six decimal places)."""
    return DecimalString(column=MEASURE, **kwargs)  # type: ignore[arg-type]


class CharacteristicIn(Schema):
    code = Text(validate=Length(1, 40), required=True)
    name_zh = Name(required=True)
    name_en = Name(required=True)
    unit = Text(validate=Length(1, 20), load_default=None)
    minimum = Measure(load_default=None)
    maximum = Measure(load_default=None)
    expected_text = Text(validate=Length(1, 200), load_default=None,
                         metadata={"description": "a text criterion instead of limits (e.g. 'conforms')"})


class SpecificationIn(Schema):
    material_id = Id(required=True)
    effective_from = Day(required=True)
    reason = Text(validate=Length(1, 500), required=True)
    characteristics = fields.List(fields.Nested(CharacteristicIn), required=True, validate=Count(1, 100))


class CharacteristicOut(Schema):
    code = fields.String()
    name_zh = fields.String()
    name_en = fields.String()
    unit = fields.String(allow_none=True)
    minimum = Measure(dump_only=True, allow_none=True)
    maximum = Measure(dump_only=True, allow_none=True)
    expected_text = fields.String(allow_none=True)


class SpecificationOut(Schema):
    id = fields.Integer()
    material_id = fields.Integer()
    version = fields.Integer()
    effective_from = Day()
    reason = fields.String()
    created_by = fields.Integer()
    characteristics = fields.List(fields.Nested(CharacteristicOut))


class SpecificationQuery(Query):
    material_id = QueryId(required=True)


class ResultIn(Schema):
    characteristic = Text(validate=Length(1, 40), required=True)
    value = Measure(load_default=None)
    text = Text(validate=Length(1, 200), load_default=None)


class ResultsIn(Schema):
    results = fields.List(fields.Nested(ResultIn), required=True, validate=Count(1, 100))


class CertificateIn(Schema):
    number = Text(validate=Length(1, 60), required=True)
    issued_on = Day(required=True)
    file_name = Text(validate=Length(1, 200), required=True)
    content_type = Text(validate=Length(1, 100), load_default="application/pdf")
    content_base64 = fields.String(required=True, validate=Length(1, 14_000_000),
                                   metadata={"description": "the certificate's file, base64"})
    results = fields.List(fields.Nested(ResultIn), load_default=list,
                          metadata={"description": "the values the certificate states, for comparison"})


class UsageDecisionIn(Schema):
    decision = fields.Enum(UsageDecisionKind, by_value=True, required=True)
    password = fields.String(required=True, load_only=True, validate=Length(1, 200),
                             metadata={"description": "the signer's own password, re-entered to sign"})
    posting_date = Day(required=True)
    deviation_reference = Text(validate=Length(1, 60), load_default=None)
    reason = Text(validate=Length(1, 500), load_default=None)


class ResultOut(Schema):
    value = Measure(dump_only=True, allow_none=True)
    text_value = fields.String(allow_none=True)
    conforms = fields.Boolean()
    recorded_by = fields.Integer()
    recorded_at = fields.DateTime()


class CharacteristicResultOut(CharacteristicOut):
    laboratory = fields.Nested(ResultOut, allow_none=True)
    certificate = fields.Nested(ResultOut, allow_none=True)
    difference = Measure(dump_only=True, allow_none=True,
                         metadata={"description": "laboratory value less the certificate's"})


class CertificateOut(Schema):
    number = fields.String()
    issued_on = Day()
    file_name = fields.String()
    content_type = fields.String()
    sha256 = fields.String()
    recorded_by = fields.Integer()
    recorded_at = fields.DateTime()


class UsageDecisionOut(Schema):
    decision = fields.Enum(UsageDecisionKind, by_value=True)
    meaning = fields.String(metadata={"description": "what the signature attests: released or rejected"})
    signed_by = fields.Integer()
    signer_name = fields.String()
    signed_at = fields.DateTime()
    out_of_specification = fields.Boolean()
    deviation_reference = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    document_id = fields.Integer(allow_none=True)


class LotOut(Schema):
    id = fields.Integer(attribute="lot.id")
    number = fields.String(attribute="lot.number")
    origin = fields.Enum(LotOrigin, by_value=True, attribute="lot.origin")
    status = fields.Enum(LotStatus, by_value=True, attribute="lot.status")
    company_id = fields.Integer(attribute="lot.company_id")
    warehouse_id = fields.Integer(attribute="lot.warehouse_id")
    material_id = fields.Integer(attribute="lot.material_id")
    batch_id = fields.Integer(attribute="lot.batch_id")
    batch_number = fields.String(attribute="batch.batch_number")
    quantity = Quantity(dump_only=True, attribute="lot.quantity")
    inspection_date = Day(attribute="lot.inspection_date")
    source_document_id = fields.Integer(attribute="lot.source_document_id")
    excursion_id = fields.Integer(attribute="lot.excursion_id", allow_none=True)
    specification_id = fields.Integer(attribute="lot.specification_id", allow_none=True)
    specification_version = fields.Integer(attribute="specification.version", allow_none=True)
    out_of_specification = fields.Boolean()
    complete = fields.Boolean(metadata={"description": "every characteristic has a laboratory result"})
    results = fields.List(fields.Nested(CharacteristicResultOut))
    certificate = fields.Nested(CertificateOut, allow_none=True)
    decision = fields.Nested(UsageDecisionOut, allow_none=True)


class LotRowOut(Schema):
    id = fields.Integer()
    number = fields.String()
    origin = fields.Enum(LotOrigin, by_value=True)
    status = fields.Enum(LotStatus, by_value=True)
    company_id = fields.Integer()
    warehouse_id = fields.Integer()
    material_id = fields.Integer()
    batch_id = fields.Integer()
    quantity = Quantity(dump_only=True)
    inspection_date = Day()
    excursion_id = fields.Integer(allow_none=True)


class LotQuery(Query):
    status = fields.Enum(LotStatus, by_value=True, load_default=None)
    warehouse_id = QueryId(load_default=None)


class MonitoringIn(Schema):
    allowance_minutes = fields.Integer(required=True, validate=Between(0, 7 * 24 * 60),
                                       metadata={"description": "how long outside the range is still no excursion"})
    logging_interval_minutes = fields.Integer(required=True, validate=Between(1, 24 * 60),
                                              metadata={"description": "a longer silence is a gap"})


class MonitoringOut(Schema):
    warehouse_id = fields.Integer(attribute="warehouse.id")
    temp_min = DecimalString(places=1, dump_only=True, attribute="warehouse.temp_min")
    temp_max = DecimalString(places=1, dump_only=True, attribute="warehouse.temp_max")
    max_humidity = DecimalString(places=2, dump_only=True, attribute="warehouse.max_humidity")
    allowance_minutes = fields.Integer()
    logging_interval_minutes = fields.Integer()


class LoggerIn(Schema):
    code = Text(validate=Length(1, 40), required=True)


class LoggerOut(Schema):
    id = fields.Integer()
    warehouse_id = fields.Integer()
    code = fields.String()
    token = fields.String(metadata={"description": "shown once: the logger sends it as its bearer token"})


def Reading(**kwargs: object) -> DecimalString:  # noqa: N802
    return DecimalString(column=READING, **kwargs)  # type: ignore[arg-type]


class ReadingIn(Schema):
    read_at = IsoInstant(required=True)
    temperature = Reading(required=True)
    # Bounds of the field itself: a Range validator would put numbers as strings in the OpenAPI schema.
    humidity = Reading(load_default=None, min_value=0, max_value=100)


class LoggerReadingsIn(Schema):
    readings = fields.List(fields.Nested(ReadingIn), required=True, validate=Count(1, 10_000))


class ReadingsUploadIn(Schema):
    file = Upload(required=True, metadata={"description": "CSV: read_at,temperature,humidity (ISO 8601 with offset)"})


class ExcursionBatchOut(Schema):
    batch_id = fields.Integer()
    material_id = fields.Integer()
    stock_status = fields.Function(lambda b: b.stock_status.value, metadata={
        "description": "unrestricted: held by the excursion (lot_id its lot); quarantine or blocked: already on "
                       "hold for another reason, referenced so QA knows"})
    quantity = Quantity(dump_only=True)
    lot_id = fields.Integer(allow_none=True)


class ExcursionOut(Schema):
    id = fields.Integer()
    reference = fields.Function(lambda e: f"EXC-{e.id}")
    warehouse_id = fields.Integer()
    kind = fields.Enum(ExcursionKind, by_value=True)
    started_at = fields.DateTime()
    ended_at = fields.DateTime(allow_none=True, metadata={"description": "none while it lasts"})
    minutes = DecimalString(places=2, dump_only=True)
    min_temperature = Reading(dump_only=True, allow_none=True)
    max_temperature = Reading(dump_only=True, allow_none=True)
    max_humidity = Reading(dump_only=True, allow_none=True)
    held_document_id = fields.Integer(allow_none=True)
    touched_batches = fields.List(fields.Nested(ExcursionBatchOut), attribute="batches", dump_only=True)


class IngestedOut(Schema):
    received = fields.Integer()
    stored = fields.Integer(metadata={"description": "the rest were already stored (sent again)"})
    excursions = fields.List(fields.Nested(ExcursionOut))
    hold_document_ids = fields.List(fields.Integer())


class ExcursionQuery(Query):
    warehouse_id = QueryId(load_default=None)
    kind = fields.Enum(ExcursionKind, by_value=True, load_default=None)


class ReadingsQuery(Query):
    start = IsoInstant(required=True)
    end = IsoInstant(required=True)


class ReadingOut(Schema):
    read_at = fields.DateTime()
    temperature = Reading(dump_only=True)
    humidity = Reading(dump_only=True, allow_none=True)


class NearExpiryQuery(Query):
    on = Day(required=True, metadata={"description": "the day counted from (today)"})
    days = fields.Integer(load_default=90, validate=Between(0, 3650))


class NearExpiryOut(Schema):
    warehouse_id = fields.Integer()
    warehouse_code = fields.String()
    material_id = fields.Integer()
    material_code = fields.String()
    batch_id = fields.Integer()
    batch_number = fields.String()
    expiry_date = Day()
    days_left = fields.Integer()
    status = fields.String(attribute="status.value")
    quantity = Quantity(dump_only=True)
