"""JSON shapes of jobs."""

from __future__ import annotations

from marshmallow import fields

from erp.jobs.models import JobStatus
from erp.schemas import Length, Query, Schema


class JobOut(Schema):
    id = fields.Integer()
    kind = fields.String()
    status = fields.Enum(JobStatus, by_value=True, metadata={"description": "queued, running, succeeded or failed"})
    company_id = fields.Integer(allow_none=True)
    rows_total = fields.Integer(allow_none=True, metadata={"description": "rows to do, once known"})
    rows_done = fields.Integer()
    error_count = fields.Integer(metadata={"description": "errors found so far (all of them)"})
    errors = fields.List(fields.Dict(), metadata={"description": "the first errors found (at most 1,000)"})
    result = fields.Dict(allow_none=True)
    message = fields.String(allow_none=True, metadata={"description": "why the job failed, in the language of Accept-Language (English by default)"})
    created_by = fields.Integer()
    created_at = fields.DateTime()
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)
    status_url = fields.String(metadata={"description": "poll this for progress"})


class JobQuery(Query):
    kind = fields.String(validate=Length(1, 64))
    status = fields.Enum(JobStatus, by_value=True)
