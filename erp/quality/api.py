"""HTTP endpoints of quality: ``/api/v1/quality/...``.

Specifications, inspection lots (results, certificate of analysis, the signed usage
decision). Views parse, call one service in the request's transaction and dump.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from flask_smorest.pagination import PaginationParameters

from erp.quality import expiry, monitoring, services
from erp.quality import schemas as s
from erp.web import Blueprint, accepts_upload, bearer_token, current_actor, paged, request_session
from erp.auth.errors import RoleNotAllowed
from erp.errors import DatedAfterBusinessDay, NotFound, ValidationFailed
from erp.messages import Message
from erp.posting.errors import NoStandardPrice, PeriodClosed
from erp.quality.errors import (
    LoggerNotRecognised, LotNotOpen, NoStockOnHold, ReadingsInvalid, OutOfSpecification, ResultNotApplicable, ResultsIncomplete, SignatureNotVerified,
    SignerRecordedResults, SpecificationDateTaken,
)

blp = Blueprint("quality", __name__, url_prefix="/api/v1/quality",
                description="Specifications, inspection lots, usage decisions with electronic signatures, "
                            "storage-condition monitoring")


@blp.route("/specifications", methods=["POST"])
@blp.arguments(s.SpecificationIn)
@blp.response(201, s.SpecificationOut)
@blp.refuses(RoleNotAllowed, NotFound, SpecificationDateTaken)
def post_specification(data: dict[str, Any]) -> Any:
    """Add a version of a material's specification, in force from its date."""
    session = request_session()
    with session.begin():
        characteristics = [services.CharacteristicInput(**c) for c in data.pop("characteristics")]
        return services.create_specification(session, current_actor(), characteristics=characteristics, **data)


@blp.route("/specifications", methods=["GET"])
@blp.arguments(s.SpecificationQuery, location="query")
@blp.response(200, s.SpecificationOut(many=True))
def get_specifications(query: dict[str, Any]) -> Any:
    """Every version of a material's specification, newest first."""
    session = request_session()
    with session.begin():
        return services.list_specifications(session, current_actor(), query["material_id"])


@blp.route("/lots", methods=["GET"])
@blp.arguments(s.LotQuery, location="query")
@blp.response(200, s.LotRowOut(many=True))
@blp.paginate()
@blp.refuses(RoleNotAllowed)
def get_lots(query: dict[str, Any], pagination_parameters: PaginationParameters) -> list[Any]:
    """Inspection lots of the caller's companies (and warehouses, for clerks), oldest first."""
    return paged(pagination_parameters, services.list_lots, **query)


@blp.route("/lots/<int:lot_id>", methods=["GET"])
@blp.response(200, s.LotOut)
@blp.refuses(NotFound)
def get_lot(lot_id: int) -> Any:
    """A lot with its specification, results (laboratory and certificate side by side) and decision."""
    session = request_session()
    with session.begin():
        return services.lot_view(session, current_actor(), lot_id)


@blp.route("/lots/<int:lot_id>/results", methods=["POST"])
@blp.arguments(s.ResultsIn)
@blp.response(201, s.LotOut)
@blp.refuses(RoleNotAllowed, NotFound, LotNotOpen, ResultNotApplicable)
def post_results(data: dict[str, Any], lot_id: int) -> Any:
    """Record the laboratory's results, each judged against the lot's specification."""
    session = request_session()
    actor = current_actor()
    with session.begin():
        results = [services.ResultInput(**r) for r in data["results"]]
        lot = services.record_results(session, actor, lot_id=lot_id, results=results)
        return services.lot_view(session, actor, lot.id, lot=lot)


@blp.route("/lots/<int:lot_id>/certificate", methods=["POST"])
@blp.arguments(s.CertificateIn)
@blp.response(201, s.LotOut)
@blp.refuses(RoleNotAllowed, NotFound, LotNotOpen, ResultNotApplicable)
def post_certificate(data: dict[str, Any], lot_id: int) -> Any:
    """Record the supplier's certificate of analysis (number, date, file, stated values)."""
    try:
        content = base64.b64decode(data.pop("content_base64"), validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed.for_field("content_base64", Message("the file is not valid base64")) from None
    session = request_session()
    actor = current_actor()
    with session.begin():
        results = [services.ResultInput(**r) for r in data.pop("results")]
        services.record_certificate(session, actor, lot_id=lot_id, content=content, results=results, **data)
        return services.lot_view(session, actor, lot_id)


@blp.route("/lots/<int:lot_id>/usage-decision", methods=["POST"])
@blp.arguments(s.UsageDecisionIn)
@blp.response(201, s.LotOut)
@blp.refuses(
    RoleNotAllowed, NotFound, LotNotOpen, SignatureNotVerified, SignerRecordedResults, ResultsIncomplete,
    OutOfSpecification, NoStockOnHold, PeriodClosed, DatedAfterBusinessDay, NoStandardPrice,
)
def post_usage_decision(data: dict[str, Any], lot_id: int) -> Any:
    """Sign the usage decision (password re-entered): release to unrestricted or reject to blocked."""
    session = request_session()
    actor = current_actor()
    with session.begin():
        outcome = services.decide_usage(session, actor, lot_id=lot_id, **data)
    # A refused signature is raised only now, after its audit row was committed.
    outcome.signed()
    with session.begin():
        return services.lot_view(session, actor, lot_id)


# --- storage monitoring ------------------------------------------------------------------------

@blp.route("/warehouses/<int:warehouse_id>/monitoring", methods=["PUT"])
@blp.arguments(s.MonitoringIn)
@blp.response(200, s.MonitoringOut)
@blp.refuses(RoleNotAllowed, NotFound)
def put_monitoring(data: dict[str, Any], warehouse_id: int) -> Any:
    """Set a warehouse's excursion allowance and logging interval (its range is its own)."""
    session = request_session()
    with session.begin():
        return monitoring.configure_monitoring(session, current_actor(), warehouse_id=warehouse_id, **data)


@blp.route("/warehouses/<int:warehouse_id>/loggers", methods=["POST"])
@blp.arguments(s.LoggerIn)
@blp.response(201, s.LoggerOut)
@blp.refuses(RoleNotAllowed, NotFound)
def post_logger(data: dict[str, Any], warehouse_id: int) -> Any:
    """Register a data logger for a warehouse; its token is shown once."""
    session = request_session()
    with session.begin():
        logger, token = monitoring.register_logger(session, current_actor(), warehouse_id=warehouse_id, **data)
        return {"id": logger.id, "warehouse_id": logger.warehouse_id, "code": logger.code, "token": token}


@blp.route("/logger-readings", methods=["POST"])
@blp.arguments(s.LoggerReadingsIn)
@blp.response(201, s.IngestedOut)
@blp.refuses(LoggerNotRecognised, PeriodClosed, NoStandardPrice)
def post_logger_readings(data: dict[str, Any]) -> Any:
    """A data logger posts its readings with its own bearer token (not a user's)."""
    session = request_session()
    with session.begin():
        readings = [monitoring.Reading(**r) for r in data["readings"]]
        return monitoring.post_logger_readings(session, token=bearer_token(), readings=readings)


@blp.route("/warehouses/<int:warehouse_id>/readings", methods=["POST"])
@accepts_upload
@blp.arguments(s.ReadingsUploadIn, location="files", content_type="multipart/form-data")
@blp.response(201, s.IngestedOut)
@blp.refuses(RoleNotAllowed, NotFound, ReadingsInvalid, PeriodClosed, NoStandardPrice)
def post_readings(files: dict[str, Any], warehouse_id: int) -> Any:
    """Import a sensor log (CSV) for a warehouse; excursions are detected and what they touched is held."""
    raw = files["file"].read()
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ReadingsInvalid(Message("the sensor log is not UTF-8 text")) from None
    session = request_session()
    with session.begin():
        return monitoring.import_readings(session, current_actor(), warehouse_id=warehouse_id, content=content)


@blp.route("/warehouses/<int:warehouse_id>/readings", methods=["GET"])
@blp.arguments(s.ReadingsQuery, location="query")
@blp.response(200, s.ReadingOut(many=True))
@blp.refuses(NotFound)
def get_readings(query: dict[str, Any], warehouse_id: int) -> Any:
    """A warehouse's readings between two instants (the temperature chart's data)."""
    session = request_session()
    with session.begin():
        return monitoring.readings_between(session, current_actor(), warehouse_id=warehouse_id, **query)


@blp.route("/excursions", methods=["GET"])
@blp.arguments(s.ExcursionQuery, location="query")
@blp.response(200, s.ExcursionOut(many=True))
@blp.paginate()
def get_excursions(query: dict[str, Any], pagination_parameters: PaginationParameters) -> list[Any]:
    """Excursions and gaps in the caller's warehouses, newest first."""
    return paged(pagination_parameters, monitoring.list_excursions, **query)


@blp.route("/near-expiry", methods=["GET"])
@blp.arguments(s.NearExpiryQuery, location="query")
@blp.response(200, s.NearExpiryOut(many=True))
@blp.paginate()
def get_near_expiry(query: dict[str, Any], pagination_parameters: PaginationParameters) -> list[Any]:
    """Stock of batches expiring within the given days, soonest first (warehouse and quality)."""
    return paged(pagination_parameters, expiry.near_expiry, **query)
