"""HTTP endpoints of production: ``/api/v1/production/...``."""

from __future__ import annotations

from typing import Any

from erp.auth.errors import CompanyOutOfScope, RoleNotAllowed
from erp.errors import NotFound
from erp.production import boms, rollup
from erp.production import errors as e
from erp.production import schemas as s
from erp.web import Blueprint, current_actor, request_session

blp = Blueprint("production", __name__, url_prefix="/api/v1/production",
                description="Bills of materials, standard cost roll-up, production orders")


@blp.route("/boms", methods=["POST"])
@blp.arguments(s.BomIn)
@blp.response(201, s.BomOut)
@blp.refuses(RoleNotAllowed, CompanyOutOfScope, NotFound, e.NotAMadeMaterial, e.InvalidBom, e.BomVersionNotLater,
             e.BomCycle)
def post_bom(data: dict[str, Any]) -> Any:
    """Create the next version of a material's bill of materials, in force from ``valid_from``."""
    session = request_session()
    components = [boms.ComponentIn(c["material_id"], c["quantity"], c["scrap_pct"]) for c in data.pop("components")]
    with session.begin():
        return boms.create_bom(session, current_actor(), components=components, **data)


@blp.route("/boms", methods=["GET"])
@blp.arguments(s.BomQuery, location="query")
@blp.response(200, s.BomOut(many=True))
@blp.refuses(CompanyOutOfScope)
def get_boms(query: dict[str, Any]) -> Any:
    """A company's BOM versions (optionally one material's), newest first per material."""
    session = request_session()
    with session.begin():
        return boms.list_boms(session, current_actor(), **query)


@blp.route("/boms/<int:bom_id>", methods=["GET"])
@blp.response(200, s.BomOut)
@blp.refuses(NotFound)
def get_bom(bom_id: int) -> Any:
    """One BOM version with its components."""
    session = request_session()
    with session.begin():
        return boms.get_bom(session, current_actor(), bom_id)


@blp.route("/cost-center-rates", methods=["PUT"])
@blp.arguments(s.RatesIn)
@blp.response(200, s.RateOut(many=True))
@blp.refuses(RoleNotAllowed, CompanyOutOfScope)
def put_rates(data: dict[str, Any]) -> Any:
    """Set cost centres' standard labour and overhead rates per hour from a period on."""
    session = request_session()
    rates = [boms.RateIn(r["cost_center"], r["labour_rate"], r["overhead_rate"]) for r in data["rates"]]
    with session.begin():
        return boms.set_cost_center_rates(session, current_actor(), company_id=data["company_id"],
                                          period=data["period"], rates=rates)


@blp.route("/rollups", methods=["POST"])
@blp.arguments(s.RollupIn)
@blp.response(201, s.RollupOut)
@blp.refuses(RoleNotAllowed, CompanyOutOfScope, NotFound, e.RollupAlreadyReleased, e.NoStandardPrice,
             e.NoCostCenterRate, e.BomCycle)
def post_rollup(data: dict[str, Any]) -> Any:
    """Roll up the standard cost of every made material of a company for a period."""
    session = request_session()
    with session.begin():
        return rollup.run_rollup(session, current_actor(), **data)


@blp.route("/rollups/<int:rollup_id>", methods=["GET"])
@blp.response(200, s.RollupOut)
@blp.refuses(NotFound)
def get_rollup(rollup_id: int) -> Any:
    """A roll-up run."""
    session = request_session()
    with session.begin():
        return rollup.get_rollup(session, current_actor(), rollup_id)


@blp.route("/rollups/<int:rollup_id>/estimates", methods=["GET"])
@blp.arguments(s.BreakdownQuery, location="query")
@blp.response(200, s.EstimateOut(many=True))
@blp.refuses(NotFound)
def get_estimates(query: dict[str, Any], rollup_id: int) -> Any:
    """A run's cost estimates with their breakdown (material by component, labour, overhead)."""
    session = request_session()
    with session.begin():
        return rollup.cost_breakdown(session, current_actor(), rollup_id, query.get("material_id"))


@blp.route("/rollups/<int:rollup_id>/release", methods=["POST"])
@blp.response(200, s.RollupOut)
@blp.refuses(RoleNotAllowed, CompanyOutOfScope, NotFound, e.RollupAlreadyReleased, e.PeriodClosed,
             e.StandardPriceInUse)
def post_release(rollup_id: int) -> Any:
    """Release a run: its unit costs become the period's standard prices (standard-price rules)."""
    session = request_session()
    with session.begin():
        return rollup.release_rollup(session, current_actor(), rollup_id)
