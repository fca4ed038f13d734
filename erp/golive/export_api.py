"""HTTP endpoints of exports: ``GET /api/v1/exports`` (the reports) and
``GET /api/v1/exports/{report}?format=csv|xlsx&lang=zh|en&company_id=&period=&as_of=``
(the report as a streamed file)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import Response, stream_with_context
from marshmallow import fields
from sqlalchemy.orm import Session

from erp.messages import Message
from erp.auth.errors import CompanyOutOfScope, RoleNotAllowed
from erp.errors import NotFound, ValidationFailed
from erp.golive.exports import (
    REPORTS, MissingParameter, Report, attachment, csv_chunks, export_file_name, rows_of, xlsx_chunks,
)
from erp.masterdata.models import Company, Warehouse
from erp.schemas import Day, OneOf, Period, Query, QueryId, Schema
from erp.auth.roles import Actor
from erp.web import Blueprint, erp_settings, reporting, reporting_session_factory, transaction

blp = Blueprint("exports", __name__, url_prefix="/api/v1", description="Reports exported as CSV or XLSX")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ExportQuery(Query):
    format = fields.String(load_default="xlsx", validate=OneOf(["xlsx", "csv"]))
    lang = fields.String(load_default="zh", validate=OneOf(["zh", "en"]),
                         metadata={"description": "headers in Chinese (default) or English"})
    company_id = QueryId()
    warehouse_id = QueryId()
    period = Period()
    as_of = Day()


class ExportColumnOut(Schema):
    key = fields.String()
    zh = fields.String()
    en = fields.String()


class ReportOut(Schema):
    name = fields.String()
    title_zh = fields.String()
    title_en = fields.String()
    params = fields.List(fields.String())
    columns = fields.List(fields.Nested(ExportColumnOut))


@blp.route("/exports", methods=["GET"])
@blp.response(200, ReportOut(many=True))
def get_reports() -> list[Report]:
    """The reports that can be exported, their parameters and columns."""
    return list(REPORTS.values())


def build_source(session: Any, actor: Any, report: Report, params: dict[str, Any], settings: Any) -> Any:
    """The report's query for the caller (rights and scope checked), or a 422 naming a missing parameter."""
    unused = sorted(set(params) - set(report.params))
    if unused:
        raise ValidationFailed(Message("the {report} export takes no {names}", report=report.name, names=unused),
                               errors=[{"pointer": f"/{name}", "in": "query", "detail": Message("not a parameter of this report")}
                                       for name in unused])
    try:
        return report.query(session, actor, settings=settings, **params)
    except MissingParameter as exc:
        raise ValidationFailed(Message("the {report} export needs {name}", report=report.name, name=exc.name),
                               errors=[{"pointer": f"/{exc.name}", "in": "query", "detail": Message("required")}]) from exc


@blp.route("/exports/<report>", methods=["GET"])
@blp.arguments(ExportQuery, location="query")
@blp.response(200, description="the report as a file (streamed)")
@blp.refuses(RoleNotAllowed, CompanyOutOfScope, NotFound)
@reporting
@transaction
def get_export(session: Session, actor: Actor, query: dict[str, Any], report: str) -> Response:
    """A report as CSV or XLSX, Chinese headers unless ``lang=en``; streamed row batch by row batch."""
    if report not in REPORTS:
        raise NotFound(Message("no report {report}; see GET /api/v1/exports", report=report))
    spec = REPORTS[report]
    file_format, lang = query.pop("format"), query.pop("lang")
    source = build_source(session, actor, spec, query, erp_settings())
    session_factory = reporting_session_factory()

    def generate() -> Iterator[bytes]:
        # The rows are read while the response streams, after the view's transaction has
        # ended: in a read-only transaction of their own, on a session of their own.
        with session_factory() as stream_session, stream_session.begin():
            rows = rows_of(stream_session, source)
            chunks = csv_chunks(spec, rows, lang) if file_format == "csv" else xlsx_chunks(spec, rows, lang)
            yield from chunks

    mimetype = "text/csv; charset=utf-8" if file_format == "csv" else XLSX
    company = session.get(Company, query["company_id"]) if query.get("company_id") else None
    warehouse = session.get(Warehouse, query["warehouse_id"]) if query.get("warehouse_id") else None
    name, fallback = export_file_name(spec, lang, file_format, company=company.code if company else None,
                                      warehouse=warehouse.code if warehouse else None, period=query.get("period"),
                                      as_of=query.get("as_of"))
    return Response(stream_with_context(generate()), mimetype=mimetype, headers={
        "Content-Disposition": attachment(name, fallback)})
