"""Reports downloaded from the pages as XLSX: the go-live exports (erp.golive.exports) behind
the page's sign-in, so that a report on screen is one click from the same figures in Excel.

``/exports/<report>?company=CODE&period=YYYY-MM&as_of=YYYY-MM-DD&warehouse=CODE`` streams the
report with headers in the reader's language; the report's own query checks rights and scope.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from flask import Response, current_app, request, stream_with_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from erp.auth.roles import Actor
from erp.errors import NotFound, ValidationFailed
from erp.golive.export_api import XLSX, build_source
from erp.golive.exports import REPORTS, attachment, export_file_name, rows_of, xlsx_chunks
from erp.masterdata.models import Company, Warehouse
from erp.messages import Message
from erp.period import NOT_A_PERIOD
from erp.schemas import PERIOD_PATTERN
from erp.ui.i18n import current_language
from erp.ui.pages import PageBlueprint
from erp.web import transaction

bp = PageBlueprint("export_pages", __name__, url_prefix="/exports")


def _params(session: Any) -> dict[str, Any]:
    """The report's parameters from the query string (codes to ids, periods and dates checked)."""
    params: dict[str, Any] = {}
    args = request.args
    if args.get("company"):
        company_id = session.scalar(select(Company.id).where(Company.code == args["company"]))
        if company_id is None:
            raise NotFound(Message("company {code} not found", code=args["company"]))
        params["company_id"] = company_id
    if args.get("warehouse"):
        warehouse_id = session.scalar(select(Warehouse.id).where(Warehouse.code == args["warehouse"]))
        if warehouse_id is None:
            raise NotFound(Message("warehouse {code} not found", code=args["warehouse"]))
        params["warehouse_id"] = warehouse_id
    if args.get("period"):
        if not PERIOD_PATTERN.match(args["period"]):
            raise ValidationFailed.for_field("period", Message(NOT_A_PERIOD))
        params["period"] = args["period"]
    if args.get("as_of"):
        try:
            params["as_of"] = dt.date.fromisoformat(args["as_of"])
        except ValueError:
            raise ValidationFailed.for_field("as_of", Message("not a date (YYYY-MM-DD): {text}",
                                                              text=args["as_of"])) from None
    return params


@bp.route("/<report>")
@transaction
def export(session: Session, actor: Actor, report: str) -> Response:
    """A report as an XLSX file, streamed."""
    spec = REPORTS.get(report)
    if spec is None:
        raise NotFound(Message("no report {report}; see GET /api/v1/exports", report=report))
    params = {name: value for name, value in _params(session).items() if name in spec.params}
    source = build_source(session, actor, spec, params, current_app.extensions["erp"].settings)
    session_factory = current_app.extensions["erp"].session_factory
    lang = current_language()

    def generate() -> Iterator[bytes]:
        # Read while the file streams, after the view's transaction: a session of its own.
        with session_factory() as stream_session, stream_session.begin():
            yield from xlsx_chunks(spec, rows_of(stream_session, source), lang)

    name, fallback = export_file_name(
        spec, lang, "xlsx", company=request.args.get("company") if "company_id" in params else None,
        warehouse=request.args.get("warehouse") if "warehouse_id" in params else None,
        period=params.get("period"), as_of=params.get("as_of"))
    return Response(stream_with_context(generate()), mimetype=XLSX, headers={
        "Content-Disposition": attachment(name, fallback)})
