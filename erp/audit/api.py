"""The audit trail over HTTP: ``/api/v1/audit`` (stewards, auditors, the CIO, admins)."""

from __future__ import annotations

from typing import Any

from flask_smorest.pagination import PaginationParameters

from erp.audit import services
from erp.audit.schemas import AuditEventOut, AuditQuery, HistoryQuery
from erp.web import Blueprint, paged
from erp.auth.errors import RoleNotAllowed

blp = Blueprint("audit", __name__, url_prefix="/api/v1/audit", description="The audit trail (append-only)")


@blp.route("/<string(length=None, maxlength=40):entity>/<int:entity_id>", methods=["GET"], endpoint="history")
@blp.arguments(HistoryQuery, location="query")
@blp.response(200, AuditEventOut(many=True))
@blp.paginate()
@blp.refuses(RoleNotAllowed)
def history(query: dict[str, Any], entity: str, entity_id: int,
            pagination_parameters: PaginationParameters) -> list[Any]:
    """The history of one record, newest first: who did what, when, before and after, why."""
    return paged(pagination_parameters, services.record_history, entity=entity, entity_id=entity_id, **query)


@blp.route("", methods=["GET"], endpoint="events")
@blp.arguments(AuditQuery, location="query")
@blp.response(200, AuditEventOut(many=True))
@blp.paginate()
@blp.refuses(RoleNotAllowed)
def events(query: dict[str, Any], pagination_parameters: PaginationParameters) -> list[Any]:
    """The audit trail across records, newest first, filtered by entity, action, user,
    company and time."""
    return paged(pagination_parameters, services.list_events, **query)
