"""JSON shapes of the audit trail (read only)."""

from __future__ import annotations

from marshmallow import fields

from erp.messages import N_
from erp.schemas import IsoInstant, Query, QueryId, Regexp, Schema
from erp.web import NarrationText

SLUG = Regexp(r"^[a-z][a-z0-9_-]{0,39}$", error=N_("a lower-case name such as material or sign-in"))


class AuditEventOut(Schema):
    id = fields.Integer()
    occurred_at = fields.DateTime(metadata={"description": "when it happened (UTC)"})
    actor_id = fields.Integer(allow_none=True, metadata={"description": "the user; null for a failed sign-in"})
    actor_name = fields.String(metadata={"description": "the user name at the time (or the name tried)"})
    entity = fields.String(metadata={"description": "kind of record: material, customer_credit, user, ..."})
    entity_id = fields.Integer(allow_none=True)
    company_id = fields.Integer(allow_none=True)
    action = fields.String(metadata={"description": "create, change, deactivate, sign-in, ..."})
    changes = fields.Dict(
        keys=fields.String(), values=fields.Dict(),
        metadata={"description": "field -> {before, after}; decimals and dates as strings"},
    )
    reason = NarrationText(allow_none=True, metadata={
        "description": "why: a person's words, or what the system recorded, in the request's language"})
    client_address = fields.String(allow_none=True)


class HistoryQuery(Query):
    company_id = QueryId(metadata={"description": "only rows of this company (standard prices)"})


class AuditQuery(Query):
    entity = fields.String(validate=SLUG)
    action = fields.String(validate=SLUG)
    actor_id = QueryId()
    company_id = QueryId()
    since = IsoInstant(metadata={"description": "from this instant (ISO 8601 with a time zone)"})
    until = IsoInstant(metadata={"description": "before this instant"})
