"""HTTP endpoints of production: ``/api/v1/production/...``."""

from __future__ import annotations

from typing import Any

from flask_smorest.pagination import PaginationParameters
from sqlalchemy.orm import Session

from erp.auth.errors import CompanyOutOfScope, RoleNotAllowed
from erp.errors import DatedAfterBusinessDay, NotFound
from erp.inventory.errors import (
    AlreadyReversed,
    ClerkNotOfWarehouse,
    BatchExpired,
    InsufficientStock,
    InvalidQuantity,
    ProductionOrderClosed,
    StorageConditionsNotMet,
    WarehouseNotOfCompany,
)
from erp.production import boms, genealogy, orders, rollup, variances
from erp.production import errors as e
from erp.production import schemas as s
from erp.auth.roles import Actor
from erp.web import Blueprint, paged, transaction

blp = Blueprint("production", __name__, url_prefix="/api/v1/production",
                description="Bills of materials, standard cost roll-up, production orders")


@blp.route("/boms", methods=["POST"])
@blp.arguments(s.BomIn)
@blp.response(201, s.BomOut)
@blp.refuses(RoleNotAllowed, CompanyOutOfScope, NotFound, e.NotAMadeMaterial, e.InvalidBom, e.BomVersionNotLater,
             e.BomCycle)
@transaction
def post_bom(session: Session, actor: Actor, data: dict[str, Any]) -> Any:
    """Create the next version of a material's bill of materials, in force from ``valid_from``."""
    components = [boms.ComponentIn(c["material_id"], c["quantity"], c["scrap_pct"]) for c in data.pop("components")]
    return boms.create_bom(session, actor, components=components, **data)


@blp.route("/boms", methods=["GET"])
@blp.arguments(s.BomQuery, location="query")
@blp.response(200, s.BomOut(many=True))
@blp.refuses(CompanyOutOfScope)
@transaction
def get_boms(session: Session, actor: Actor, query: dict[str, Any]) -> Any:
    """A company's BOM versions (optionally one material's), newest first per material."""
    return boms.list_boms(session, actor, **query)


@blp.route("/boms/<int:bom_id>", methods=["GET"])
@blp.response(200, s.BomOut)
@blp.refuses(NotFound)
@transaction
def get_bom(session: Session, actor: Actor, bom_id: int) -> Any:
    """One BOM version with its components."""
    return boms.get_bom(session, actor, bom_id)


@blp.route("/cost-center-rates", methods=["PUT"])
@blp.arguments(s.RatesIn)
@blp.response(200, s.RateOut(many=True))
@blp.refuses(RoleNotAllowed, CompanyOutOfScope)
@transaction
def put_rates(session: Session, actor: Actor, data: dict[str, Any]) -> Any:
    """Set cost centres' standard labour and overhead rates per hour from a period on."""
    rates = [boms.RateIn(r["cost_center"], r["labour_rate"], r["overhead_rate"]) for r in data["rates"]]
    return boms.set_cost_center_rates(session, actor, company_id=data["company_id"],
                                      period=data["period"], rates=rates)


@blp.route("/rollups", methods=["POST"])
@blp.arguments(s.RollupIn)
@blp.response(201, s.RollupOut)
@blp.refuses(RoleNotAllowed, CompanyOutOfScope, NotFound, e.RollupAlreadyReleased, e.NoStandardPrice,
             e.NoCostCenterRate, e.BomCycle, e.RollupRunConcurrently)
@transaction
def post_rollup(session: Session, actor: Actor, data: dict[str, Any]) -> Any:
    """Roll up the standard cost of every made material of a company for a period."""
    return rollup.run_rollup(session, actor, **data)


@blp.route("/rollups/<int:rollup_id>", methods=["GET"])
@blp.response(200, s.RollupOut)
@blp.refuses(NotFound)
@transaction
def get_rollup(session: Session, actor: Actor, rollup_id: int) -> Any:
    """A roll-up run."""
    return rollup.get_rollup(session, actor, rollup_id)


@blp.route("/rollups/<int:rollup_id>/estimates", methods=["GET"])
@blp.arguments(s.BreakdownQuery, location="query")
@blp.response(200, s.EstimateOut(many=True))
@blp.refuses(NotFound)
@transaction
def get_estimates(session: Session, actor: Actor, query: dict[str, Any], rollup_id: int) -> Any:
    """A run's cost estimates with their breakdown (material by component, labour, overhead)."""
    return rollup.cost_breakdown(session, actor, rollup_id, query.get("material_id"))


@blp.route("/rollups/<int:rollup_id>/release", methods=["POST"])
@blp.arguments(s.RollupReleaseIn)
@blp.response(200, s.RollupOut)
@blp.refuses(RoleNotAllowed, CompanyOutOfScope, NotFound, e.RollupAlreadyReleased, e.PeriodClosed,
             DatedAfterBusinessDay, e.StandardPriceInUse)
@transaction
def post_release(session: Session, actor: Actor, data: dict[str, Any], rollup_id: int) -> Any:
    """Release a run, with a reason: its unit costs become the period's standard prices
    (standard-price rules); the release and the reason are in the audit trail."""
    return rollup.release_rollup(session, actor, rollup_id, reason=data["reason"])


ORDER_REFUSALS = (RoleNotAllowed, CompanyOutOfScope, NotFound)


@blp.route("/orders", methods=["POST"])
@blp.arguments(s.ProductionOrderIn)
@blp.response(201, s.ProductionOrderOut)
@blp.refuses(*ORDER_REFUSALS, e.NoBomInForce, e.NoCostCenterRate, e.NoStandardPrice, WarehouseNotOfCompany,
             StorageConditionsNotMet, ClerkNotOfWarehouse)
@transaction
def post_order(session: Session, actor: Actor, data: dict[str, Any]) -> Any:
    """Create a production order from the BOM in force on its date (planned quantities and prices copied)."""
    return orders.create_order(session, actor, **data)


@blp.route("/orders", methods=["GET"])
@blp.arguments(s.ProductionOrderQuery, location="query")
@blp.response(200, s.ProductionOrderOut(many=True))
@blp.paginate()
@blp.refuses(CompanyOutOfScope)
def get_orders(query: dict[str, Any], pagination_parameters: PaginationParameters) -> Any:
    """A company's production orders, newest first, a page at a time (page, page_size; totals in X-Pagination)."""
    return paged(pagination_parameters, orders.list_orders, **query)


@blp.route("/orders/<int:order_id>", methods=["GET"])
@blp.response(200, s.ProductionOrderOut)
@blp.refuses(NotFound)
@transaction
def get_order(session: Session, actor: Actor, order_id: int) -> Any:
    """One production order with its components."""
    return orders.get_order(session, actor, order_id)


@blp.route("/orders/<int:order_id>/release", methods=["POST"])
@blp.response(200, s.ProductionOrderOut)
@blp.refuses(*ORDER_REFUSALS, e.ProductionOrderState, ClerkNotOfWarehouse)
@transaction
def post_release_order(session: Session, actor: Actor, order_id: int) -> Any:
    """Release a created order: components may be issued and output delivered."""
    return orders.release_order(session, actor, order_id)


@blp.route("/orders/<int:order_id>/cancel", methods=["POST"])
@blp.response(200, s.ProductionOrderOut)
@blp.refuses(*ORDER_REFUSALS, e.ProductionOrderState, ClerkNotOfWarehouse)
@transaction
def post_cancel_order(session: Session, actor: Actor, order_id: int) -> Any:
    """Cancel an order that was never released."""
    return orders.cancel_order(session, actor, order_id)


@blp.route("/orders/<int:order_id>/complete", methods=["POST"])
@blp.arguments(s.CompleteIn)
@blp.response(200, s.ProductionOrderOut)
@blp.refuses(*ORDER_REFUSALS, e.ProductionOrderState, DatedAfterBusinessDay, e.PeriodClosed, ClerkNotOfWarehouse)
@transaction
def post_complete_order(session: Session, actor: Actor, data: dict[str, Any], order_id: int) -> Any:
    """Technically complete a released order; the close of that period settles its variance."""
    return orders.complete_order(session, actor, order_id, data["completed_on"])


@blp.route("/orders/<int:order_id>/issues", methods=["POST"])
@blp.arguments(s.IssuesIn)
@blp.response(201, s.DocumentsOut)
@blp.refuses(*ORDER_REFUSALS, e.ProductionOrderState, e.NotAComponent, e.PeriodClosed, DatedAfterBusinessDay,
             e.NoStandardPrice, InsufficientStock, BatchExpired, InvalidQuantity, WarehouseNotOfCompany,
             e.OverIssueNeedsReason)
@transaction
def post_issues(session: Session, actor: Actor, data: dict[str, Any], order_id: int) -> dict[str, Any]:
    """Issue components to a released order (FEFO, or the named batch), through the stock ledger."""
    items = [orders.IssueItem(i["material_id"], i["quantity"], i["batch_id"]) for i in data["items"]]
    return {"document_ids": orders.issue_components(
        session, actor, order_id, warehouse_id=data["warehouse_id"], posting_date=data["posting_date"],
        items=items, over_issue_reason=data["over_issue_reason"])}


@blp.route("/orders/<int:order_id>/deliveries", methods=["POST"])
@blp.arguments(s.DeliveryIn)
@blp.response(201, s.DeliveryOut)
@blp.refuses(*ORDER_REFUSALS, e.ProductionOrderState, e.OutputBatchTaken, e.PeriodClosed, DatedAfterBusinessDay,
             e.NoStandardPrice, InvalidQuantity)
@transaction
def post_delivery(session: Session, actor: Actor, data: dict[str, Any], order_id: int) -> dict[str, Any]:
    """Receive an order's output at standard into its own batch (quarantine when inspected)."""
    return {"document_id": orders.deliver_output(session, actor, order_id, **data)}


@blp.route("/orders/<int:order_id>/deliveries/<bigint:document_id>/reversal", methods=["POST"])
@blp.arguments(s.DeliveryReversalIn)
@blp.response(201, s.DeliveryOut)
@blp.refuses(*ORDER_REFUSALS, e.ProductionOrderState, ProductionOrderClosed, AlreadyReversed, e.OutputBatchUsed,
             InsufficientStock, e.PeriodClosed, DatedAfterBusinessDay, e.NoStandardPrice)
@transaction
def post_delivery_reversal(session: Session, actor: Actor, data: dict[str, Any], order_id: int,
                           document_id: int) -> dict[str, Any]:
    """Take a delivery of the order's output back out of stock (the order not yet settled,
    its batch untouched since)."""
    return {"document_id": orders.reverse_delivery(session, actor, order_id, document_id, **data)}


@blp.route("/batches/<int:batch_id>/genealogy", methods=["GET"])
@blp.arguments(s.GenealogyQuery, location="query")
@blp.response(200, s.GenealogyOut)
@blp.refuses(NotFound)
@transaction
def get_genealogy(session: Session, actor: Actor, query: dict[str, Any], batch_id: int) -> Any:
    """A batch's genealogy: down to every component batch and supplier, or up to every batch
    made from it and every customer who received any of them (the recall question)."""
    return genealogy.trace(session, actor, batch_id, genealogy.Direction(query["direction"]))


@blp.route("/orders/<int:order_id>/variances", methods=["GET"])
@blp.response(200, s.VarianceOut(many=True))
@blp.refuses(NotFound)
@transaction
def get_order_variances(session: Session, actor: Actor, order_id: int) -> Any:
    """A completed order's variance by category and component, as the month-end close settled it."""
    orders.get_order(session, actor, order_id)
    return variances.order_variances(session, order_id)
