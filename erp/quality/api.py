"""HTTP endpoints of quality: ``/api/v1/quality/...``.

Specifications, inspection lots (results, certificate of analysis, the signed usage
decision). Views parse, call one service in the request's transaction and dump.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from flask_smorest.pagination import PaginationParameters

from erp.quality import services
from erp.quality import schemas as s
from erp.web import Blueprint, current_actor, paged, request_session
from erp.auth.errors import RoleNotAllowed
from erp.errors import DatedAfterBusinessDay, NotFound, ValidationFailed
from erp.posting.errors import NoStandardPrice, PeriodClosed
from erp.quality.errors import (
    LotNotOpen, NoStockOnHold, OutOfSpecification, ResultNotApplicable, ResultsIncomplete, SignatureNotVerified,
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
        raise ValidationFailed.for_field("content_base64", "not valid base64") from None
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
