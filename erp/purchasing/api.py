"""HTTP endpoints of the purchasing module, under ``/api/v1/purchasing``:

- ``contracts``: framework agreements with suppliers (create, read, list, activate, terminate);
- ``exceptions``: the steward's dated permissions for a company to buy a central material;
- ``orderable``: what the caller may order for a company on a day, at which contract price;
- ``orders``: purchase orders and their life (submit, approve, reject, cancel, close).
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters
from sqlalchemy.orm import Session

from erp.purchasing import schemas as s
from erp.purchasing import services
from erp.auth.roles import Actor
from erp.web import Blueprint, erp_settings, transaction
from erp.auth.errors import CompanyOutOfScope, RoleNotAllowed
from erp.errors import DatedAfterBusinessDay, NotFound
from erp.masterdata.errors import MaterialInactive, SupplierBlocked
from erp.purchasing.errors import (
    ApproverIsCreator, CentralMaterialInCompanyContract, ContractLineNotApplicable, ContractOverlap, DuplicateNumber, ExceptionAlreadyRevoked,
    ExceptionForLocalMaterial, GroupContractNeedsGroupBuyer, NoValidContract, NotApproverOfOrder,
    NotPurchaserOfOrder, OrderDateInPast, OrderHasGoodsInTransit, OrderHasOpenIntercompanySales, OrderHasReceipts, PurchasingRightDenied, QuantityNotPositive,
    QuantityTooLarge, QuantityTooPrecise, StatusTransitionNotAllowed, StorageConditionsNotMet, WarehouseInactive,
    WarehouseNotOfReceivingCompany,
)

blp = Blueprint("purchasing", __name__, url_prefix="/api/v1/purchasing", description="Contracts, purchasing rights and purchase orders")


def _page(pagination: PaginationParameters, listing: tuple[list[Any], int]) -> list[Any]:
    rows, total = listing
    pagination.item_count = total
    return rows


# --- contracts ---------------------------------------------------------------------------

@blp.route("/contracts")
class Contracts(MethodView):
    @blp.arguments(s.ContractFilter, location="query")
    @blp.response(200, s.ContractSummarySchema(many=True))
    @blp.paginate()
    @transaction
    def get(self, session: Session, actor: Actor, filters: dict[str, Any],
            pagination_parameters: PaginationParameters) -> list[Any]:
        """List the contracts the caller may see (group contracts and their companies')."""
        return _page(pagination_parameters, services.list_contracts(
            session, actor, filters,
            offset=pagination_parameters.first_item, limit=pagination_parameters.page_size,
        ))

    @blp.arguments(s.ContractSchema)
    @blp.response(201, s.ContractSchema)
    @blp.refuses(
        CompanyOutOfScope, GroupContractNeedsGroupBuyer, RoleNotAllowed, ContractOverlap, DuplicateNumber,
        QuantityTooPrecise, SupplierBlocked, CentralMaterialInCompanyContract,
    )
    @transaction
    def post(self, session: Session, actor: Actor, data: dict[str, Any]) -> Any:
        """Record a contract with a supplier as a draft (group contracts: group buyers only)."""
        return services.create_contract(session, actor, **data)


@blp.route("/contracts/<int:contract_id>", methods=["GET"])
@blp.response(200, s.ContractSchema)
@blp.refuses(NotFound)
@transaction
def contract(session: Session, actor: Actor, contract_id: int) -> Any:
    """Read a contract: its lines, ordered quantity against target, and warnings."""
    return services.get_contract(session, actor, contract_id)


@blp.route("/contracts/<int:contract_id>/activate", methods=["POST"])
@blp.response(200, s.ContractSchema)
@blp.refuses(CompanyOutOfScope, GroupContractNeedsGroupBuyer, RoleNotAllowed, NotFound, StatusTransitionNotAllowed,
             CentralMaterialInCompanyContract)
@transaction
def contract_activate(session: Session, actor: Actor, contract_id: int) -> Any:
    """Put a draft contract in force."""
    return services.activate_contract(session, actor, contract_id)


@blp.route("/contracts/<int:contract_id>/terminate", methods=["POST"])
@blp.arguments(s.ReasonSchema)
@blp.response(200, s.ContractSchema)
@blp.refuses(CompanyOutOfScope, GroupContractNeedsGroupBuyer, RoleNotAllowed, NotFound, StatusTransitionNotAllowed)
@transaction
def contract_terminate(session: Session, actor: Actor, data: dict[str, Any], contract_id: int) -> Any:
    """End a contract early, with a reason."""
    return services.terminate_contract(session, actor, contract_id, data["reason"])


# --- steward exceptions ------------------------------------------------------------------

@blp.route("/exceptions")
class Exceptions(MethodView):
    @blp.arguments(s.ExceptionFilter, location="query")
    @blp.response(200, s.PurchasingExceptionSchema(many=True))
    @blp.paginate()
    @transaction
    def get(self, session: Session, actor: Actor, filters: dict[str, Any],
            pagination_parameters: PaginationParameters) -> list[Any]:
        """List purchasing exceptions of the caller's companies (unrevoked unless asked)."""
        return _page(pagination_parameters, services.list_exceptions(
            session, actor, filters,
            offset=pagination_parameters.first_item, limit=pagination_parameters.page_size,
        ))

    @blp.arguments(s.PurchasingExceptionSchema)
    @blp.response(201, s.PurchasingExceptionSchema)
    @blp.refuses(RoleNotAllowed, ExceptionForLocalMaterial)
    @transaction
    def post(self, session: Session, actor: Actor, data: dict[str, Any]) -> Any:
        """Grant a company a dated exception to buy a central material (stewards)."""
        return services.grant_exception(session, actor, **data)


@blp.route("/exceptions/<int:exception_id>/revoke", methods=["POST"])
@blp.arguments(s.ReasonSchema)
@blp.response(200, s.PurchasingExceptionSchema)
@blp.refuses(RoleNotAllowed, NotFound, ExceptionAlreadyRevoked)
@transaction
def exception_revoke(session: Session, actor: Actor, data: dict[str, Any], exception_id: int) -> Any:
    """Revoke a purchasing exception now, with a reason (stewards); the reason is kept in the
    audit trail."""
    return services.revoke_exception(session, actor, exception_id, reason=data["reason"])


# --- what may I order --------------------------------------------------------------------

@blp.route("/orderable", methods=["GET"])
@blp.arguments(s.OrderableQuery, location="query")
@blp.response(200, s.OrderableSchema(many=True))
@blp.paginate()
@blp.refuses(RoleNotAllowed, NotFound)
@transaction
def orderable(session: Session, actor: Actor, query: dict[str, Any],
              pagination_parameters: PaginationParameters) -> list[Any]:
    """What the caller may order for a company on a day, with the applicable contract prices."""
    return _page(pagination_parameters, services.orderable(
        session, actor, company_id=query["company_id"], day=query["date"],
        supplier_id=query["supplier_id"],
        offset=pagination_parameters.first_item, limit=pagination_parameters.page_size,
    ))


# --- purchase orders ---------------------------------------------------------------------

@blp.route("/orders")
class Orders(MethodView):
    @blp.arguments(s.PurchaseOrderFilter, location="query")
    @blp.response(200, s.PurchaseOrderSummarySchema(many=True))
    @blp.paginate()
    @transaction
    def get(self, session: Session, actor: Actor, filters: dict[str, Any],
            pagination_parameters: PaginationParameters) -> list[Any]:
        """List purchase orders for the caller's companies, newest first."""
        return _page(pagination_parameters, services.list_purchase_orders(
            session, actor, filters,
            offset=pagination_parameters.first_item, limit=pagination_parameters.page_size,
        ))

    @blp.arguments(s.PurchaseOrderSchema)
    @blp.response(201, s.PurchaseOrderSchema)
    @blp.refuses(
        PurchasingRightDenied, RoleNotAllowed, ContractLineNotApplicable, MaterialInactive, NoValidContract,
        OrderDateInPast, QuantityNotPositive, QuantityTooLarge, QuantityTooPrecise, StorageConditionsNotMet,
        SupplierBlocked, WarehouseInactive, WarehouseNotOfReceivingCompany, DatedAfterBusinessDay,
    )
    @transaction
    def post(self, session: Session, actor: Actor, data: dict[str, Any]) -> Any:
        """Create a draft purchase order; prices come from the applicable contract lines."""
        return services.create_purchase_order(session, actor, **data)


@blp.route("/orders/<int:order_id>", methods=["GET"])
@blp.response(200, s.PurchaseOrderSchema)
@blp.refuses(NotFound)
@transaction
def order(session: Session, actor: Actor, order_id: int) -> Any:
    """Read a purchase order with its lines."""
    return services.get_purchase_order(session, actor, order_id)


@blp.route("/orders/<int:order_id>/lines", methods=["PUT"])
@blp.arguments(s.OrderLinesSchema)
@blp.response(200, s.PurchaseOrderSchema)
@blp.refuses(
    NotPurchaserOfOrder, PurchasingRightDenied, NotFound, StatusTransitionNotAllowed, ContractLineNotApplicable,
    MaterialInactive, NoValidContract, QuantityNotPositive, QuantityTooLarge, QuantityTooPrecise,
    StorageConditionsNotMet, SupplierBlocked, WarehouseInactive, WarehouseNotOfReceivingCompany,
)
@transaction
def order_lines(session: Session, actor: Actor, data: dict[str, Any], order_id: int) -> Any:
    """Replace the lines of a draft order (re-priced from the contracts)."""
    return services.replace_order_lines(session, actor, order_id, data["lines"])


@blp.route("/orders/<int:order_id>/submit", methods=["POST"])
@blp.response(200, s.PurchaseOrderSchema)
@blp.refuses(
    NotPurchaserOfOrder, PurchasingRightDenied, NotFound, StatusTransitionNotAllowed, ContractLineNotApplicable,
    MaterialInactive, NoValidContract, QuantityNotPositive, QuantityTooLarge, QuantityTooPrecise,
    StorageConditionsNotMet, SupplierBlocked, WarehouseInactive, WarehouseNotOfReceivingCompany,
)
@transaction
def order_submit(session: Session, actor: Actor, order_id: int) -> Any:
    """Submit a draft: open it, or send it for approval above the company's threshold."""
    return services.submit_order(
        session, actor, order_id, default_threshold=erp_settings().default_approval_threshold
    )


@blp.route("/orders/<int:order_id>/approve", methods=["POST"])
@blp.response(200, s.PurchaseOrderSchema)
@blp.refuses(ApproverIsCreator, NotApproverOfOrder, RoleNotAllowed, NotFound, StatusTransitionNotAllowed)
@transaction
def order_approve(session: Session, actor: Actor, order_id: int) -> Any:
    """Approve an order waiting for approval (a purchasing manager other than its creator)."""
    return services.approve_order(session, actor, order_id)


@blp.route("/orders/<int:order_id>/reject", methods=["POST"])
@blp.arguments(s.ReasonSchema)
@blp.response(200, s.PurchaseOrderSchema)
@blp.refuses(ApproverIsCreator, NotApproverOfOrder, RoleNotAllowed, NotFound, StatusTransitionNotAllowed)
@transaction
def order_reject(session: Session, actor: Actor, data: dict[str, Any], order_id: int) -> Any:
    """Send an order waiting for approval back to draft, with a reason."""
    return services.reject_order(session, actor, order_id, data["reason"])


@blp.route("/orders/<int:order_id>/cancel", methods=["POST"])
@blp.arguments(s.OptionalReasonSchema)
@blp.response(200, s.PurchaseOrderSchema)
@blp.refuses(NotPurchaserOfOrder, NotFound, OrderHasReceipts, OrderHasGoodsInTransit, OrderHasOpenIntercompanySales,
             StatusTransitionNotAllowed)
@transaction
def order_cancel(session: Session, actor: Actor, data: dict[str, Any], order_id: int) -> Any:
    """Cancel an order against which nothing has been received."""
    return services.cancel_order(session, actor, order_id, data["reason"])


@blp.route("/orders/<int:order_id>/close", methods=["POST"])
@blp.arguments(s.OptionalReasonSchema)
@blp.response(200, s.PurchaseOrderSchema)
@blp.refuses(NotPurchaserOfOrder, NotFound, OrderHasGoodsInTransit, OrderHasOpenIntercompanySales,
             StatusTransitionNotAllowed)
@transaction
def order_close(session: Session, actor: Actor, data: dict[str, Any], order_id: int) -> Any:
    """Close an open, partially received or received order: no more receipts are expected
    (a received order otherwise still takes deliveries within the over-receipt tolerance)."""
    return services.close_order(session, actor, order_id, data["reason"])
