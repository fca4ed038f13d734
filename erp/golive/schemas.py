"""JSON shapes of imports."""

from __future__ import annotations

from flask_smorest.fields import Upload
from marshmallow import fields

from erp.schemas import Day, Length, OneOf, Query, QueryId, Schema


class ImportColumnOut(Schema):
    key = fields.String()
    header = fields.String(attribute="template_header")
    zh = fields.String()
    en = fields.String()
    required = fields.Boolean()
    type = fields.String()
    example = fields.Raw()
    help_zh = fields.String()
    help_en = fields.String()


class ImportKindOut(Schema):
    name = fields.String()
    title_zh = fields.String()
    title_en = fields.String()
    company_scoped = fields.Boolean(metadata={"description": "the import is for one company: send company_id"})
    columns = fields.List(fields.Nested(ImportColumnOut))
    template_url = fields.String()


class ImportUploadIn(Schema):
    file = Upload(required=True, metadata={"description": "XLSX, or CSV in UTF-8 or GB18030"})


class ImportIn(Query):
    go_live_date = Day(load_default=None, metadata={"description": "opening balances: the date they are taken over at"})
    dry_run = fields.Boolean(load_default=False, metadata={"description": "validate every row, write nothing"})
    company_id = QueryId(load_default=None, metadata={"description": "the company, for company imports"})


class ImportTemplateQuery(Query):
    format = fields.String(load_default="xlsx", validate=OneOf(["xlsx", "csv"]))


class ImportBatchQuery(Query):
    kind = fields.String(validate=Length(1, 32))
    company_id = QueryId()


class ImportBatchOut(Schema):
    id = fields.Integer()
    kind = fields.String()
    company_id = fields.Integer(allow_none=True)
    file_name = fields.String()
    checksum = fields.String()
    rows = fields.Integer()
    status = fields.String()
    summary = fields.Dict()
    job_id = fields.Integer(allow_none=True)
    created_by = fields.Integer()
    created_at = fields.DateTime()
    undone_by = fields.Integer(allow_none=True)
    undone_at = fields.DateTime(allow_none=True)
