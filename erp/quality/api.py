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
from sqlalchemy.orm import Session

from erp.auth.roles import Actor
from erp.web import Blueprint, accepts_upload, bearer_token, paged, transaction
from erp.auth.errors import RoleNotAllowed
from erp.errors import DatedAfterBusinessDay, NotFound, ValidationFailed
from erp.messages import Message
from erp.posting.errors import NoStandardPrice, PeriodClosed
from erp.quality.errors import (
    LoggerNotRecognised, LotNotOpen, NoStockOnHold, ReadingsInvalid, OutOfSpecification, ResultNotApplicable, ResultsIncomplete, SignatureNotVerified,
    SignerRecordedResults, SpecificationBackDated, SpecificationDateTaken,
)

blp = Blueprint("quality", __name__, url_prefix="/api/v1/quality",
                description="Specifications, inspection lots, usage decisions with electronic signatures, "
                            "storage-condition monitoring")


@blp.route("/specifications", methods=["POST"])
@blp.arguments(s.SpecificationIn)
@blp.response(201, s.SpecificationOut)
@blp.refuses(RoleNotAllowed, NotFound, SpecificationBackDated, SpecificationDateTaken)
@transaction
def post_specification(session: Session, actor: Actor, data: dict[str, Any]) -> Any:
    """Add a version of a material's specification, in force from its date."""
    characteristics = [services.CharacteristicInput(**c) for c in data.pop("characteristics")]
    return services.create_specification(session, actor, characteristics=characteristics, **data)


@blp.route("/specifications", methods=["GET"])
@blp.arguments(s.SpecificationQuery, location="query")
@blp.response(200, s.SpecificationOut(many=True))
@transaction
def get_specifications(session: Session, actor: Actor, query: dict[str, Any]) -> Any:
    """Every version of a material's specification, newest first."""
    return services.list_specifications(session, actor, query["material_id"])


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
@transaction
def get_lot(session: Session, actor: Actor, lot_id: int) -> Any:
    """A lot with its specification, results (laboratory and certificate side by side) and decision."""
    return services.lot_view(session, actor, lot_id)


@blp.route("/lots/<int:lot_id>/results", methods=["POST"])
@blp.arguments(s.ResultsIn)
@blp.response(201, s.LotOut)
@blp.refuses(RoleNotAllowed, NotFound, LotNotOpen, ResultNotApplicable)
@transaction
def post_results(session: Session, actor: Actor, data: dict[str, Any], lot_id: int) -> Any:
    """Record the laboratory's results, each judged against the lot's specification."""
    results = [services.ResultInput(**r) for r in data["results"]]
    lot = services.record_results(session, actor, lot_id=lot_id, results=results)
    return services.lot_view(session, actor, lot.id, lot=lot)


@blp.route("/lots/<int:lot_id>/certificate", methods=["POST"])
@blp.arguments(s.CertificateIn)
@blp.response(201, s.LotOut)
@blp.refuses(RoleNotAllowed, NotFound, LotNotOpen, ResultNotApplicable)
@transaction
def post_certificate(session: Session, actor: Actor, data: dict[str, Any], lot_id: int) -> Any:
    """Record the supplier's certificate of analysis (number, date, file, stated values)."""
    try:
        content = base64.b64decode(data.pop("content_base64"), validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed.for_field("content_base64", Message("the file is not valid base64")) from None
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
    # A refused signature is raised only now, after its audit row was committed.
    _decide(data, lot_id).signed()
    return _lot(lot_id)


@transaction(retry=False)
def _decide(session: Session, actor: Actor, data: dict[str, Any], lot_id: int) -> services.SigningOutcome:
    return services.decide_usage(session, actor, lot_id=lot_id, **data)


@transaction
def _lot(session: Session, actor: Actor, lot_id: int) -> services.LotView:
    return services.lot_view(session, actor, lot_id)


# --- storage monitoring ------------------------------------------------------------------------

@blp.route("/warehouses/<int:warehouse_id>/monitoring", methods=["PUT"])
@blp.arguments(s.MonitoringIn)
@blp.response(200, s.MonitoringOut)
@blp.refuses(RoleNotAllowed, NotFound)
@transaction
def put_monitoring(session: Session, actor: Actor, data: dict[str, Any], warehouse_id: int) -> Any:
    """Set a warehouse's excursion allowance and logging interval (its range is its own)."""
    return monitoring.configure_monitoring(session, actor, warehouse_id=warehouse_id, **data)


@blp.route("/warehouses/<int:warehouse_id>/loggers", methods=["POST"])
@blp.arguments(s.LoggerIn)
@blp.response(201, s.LoggerOut)
@blp.refuses(RoleNotAllowed, NotFound, ValidationFailed)
@transaction
def post_logger(session: Session, actor: Actor, data: dict[str, Any], warehouse_id: int) -> Any:
    """Register a data logger for a warehouse; its token is shown once."""
    logger, token = monitoring.register_logger(session, actor, warehouse_id=warehouse_id, **data)
    return {"id": logger.id, "warehouse_id": logger.warehouse_id, "code": logger.code, "token": token}


@blp.route("/logger-readings", methods=["POST"])
@blp.arguments(s.LoggerReadingsIn)
@blp.response(201, s.IngestedOut)
@blp.refuses(LoggerNotRecognised, PeriodClosed, DatedAfterBusinessDay, NoStandardPrice)
@transaction(signed_in=False)
def post_logger_readings(session: Session, data: dict[str, Any]) -> Any:
    """A data logger posts its readings with its own bearer token (not a user's)."""
    readings = [monitoring.Reading(**r) for r in data["readings"]]
    return monitoring.post_logger_readings(session, token=bearer_token(), readings=readings)


@blp.route("/warehouses/<int:warehouse_id>/readings", methods=["POST"])
@accepts_upload
@blp.arguments(s.ReadingsUploadIn, location="files", content_type="multipart/form-data")
@blp.response(201, s.IngestedOut)
@blp.refuses(RoleNotAllowed, NotFound, ReadingsInvalid, PeriodClosed, DatedAfterBusinessDay, NoStandardPrice)
def post_readings(files: dict[str, Any], warehouse_id: int) -> Any:
    """Import a sensor log (CSV) for a warehouse; excursions are detected and what they touched is held."""
    raw = files["file"].read()
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ReadingsInvalid(Message("the sensor log is not UTF-8 text")) from None
    return _import_readings(content, warehouse_id)


@transaction
def _import_readings(session: Session, actor: Actor, content: str, warehouse_id: int) -> monitoring.Ingested:
    return monitoring.import_readings(session, actor, warehouse_id=warehouse_id, content=content)


@blp.route("/warehouses/<int:warehouse_id>/readings", methods=["GET"])
@blp.arguments(s.ReadingsQuery, location="query")
@blp.response(200, s.ReadingOut(many=True))
@blp.refuses(NotFound)
@transaction
def get_readings(session: Session, actor: Actor, query: dict[str, Any], warehouse_id: int) -> Any:
    """A warehouse's readings between two instants (the temperature chart's data)."""
    return monitoring.readings_between(session, actor, warehouse_id=warehouse_id, **query)


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
