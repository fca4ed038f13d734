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

from erp.purchasing import schemas as s
from erp.purchasing import services
from erp.web import Blueprint, current_actor, erp_settings, request_session
from erp.auth.errors import CompanyOutOfScope, RoleNotAllowed
from erp.errors import NotFound
from erp.masterdata.errors import MaterialInactive, SupplierBlocked
from erp.purchasing.errors import (
    ApproverIsCreator, ContractLineNotApplicable, ContractOverlap, DuplicateNumber, ExceptionAlreadyRevoked,
    ExceptionForLocalMaterial, GroupContractNeedsGroupBuyer, NoValidContract, NotApproverOfOrder,
    NotPurchaserOfOrder, OrderDateInPast, OrderHasReceipts, PurchasingRightDenied, QuantityNotPositive,
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
    def get(self, filters: dict[str, Any], pagination_parameters: PaginationParameters) -> list[Any]:
        """List the contracts the caller may see (group contracts and their companies')."""
        session = request_session()
        with session.begin():
            return _page(pagination_parameters, services.list_contracts(
                session, current_actor(), filters,
                offset=pagination_parameters.first_item, limit=pagination_parameters.page_size,
            ))

    @blp.arguments(s.ContractSchema)
    @blp.response(201, s.ContractSchema)
    @blp.refuses(
        CompanyOutOfScope, GroupContractNeedsGroupBuyer, RoleNotAllowed, ContractOverlap, DuplicateNumber,
        QuantityTooPrecise, SupplierBlocked,
    )
    def post(self, data: dict[str, Any]) -> Any:
        """Record a contract with a supplier as a draft (group contracts: group buyers only)."""
        session = request_session()
        with session.begin():
            return services.create_contract(session, current_actor(), **data)


@blp.route("/contracts/<int:contract_id>", methods=["GET"])
@blp.response(200, s.ContractSchema)
@blp.refuses(NotFound)
def contract(contract_id: int) -> Any:
    """Read a contract: its lines, ordered quantity against target, and warnings."""
    session = request_session()
    with session.begin():
        return services.get_contract(session, current_actor(), contract_id)


@blp.route("/contracts/<int:contract_id>/activate", methods=["POST"])
@blp.response(200, s.ContractSchema)
@blp.refuses(CompanyOutOfScope, GroupContractNeedsGroupBuyer, RoleNotAllowed, NotFound, StatusTransitionNotAllowed)
def contract_activate(contract_id: int) -> Any:
    """Put a draft contract in force."""
    session = request_session()
    with session.begin():
        return services.activate_contract(session, current_actor(), contract_id)


@blp.route("/contracts/<int:contract_id>/terminate", methods=["POST"])
@blp.arguments(s.ReasonSchema)
@blp.response(200, s.ContractSchema)
@blp.refuses(CompanyOutOfScope, GroupContractNeedsGroupBuyer, RoleNotAllowed, NotFound, StatusTransitionNotAllowed)
def contract_terminate(data: dict[str, Any], contract_id: int) -> Any:
    """End a contract early, with a reason."""
    session = request_session()
    with session.begin():
        return services.terminate_contract(session, current_actor(), contract_id, data["reason"])


# --- steward exceptions ------------------------------------------------------------------

@blp.route("/exceptions")
class Exceptions(MethodView):
    @blp.arguments(s.ExceptionFilter, location="query")
    @blp.response(200, s.PurchasingExceptionSchema(many=True))
    @blp.paginate()
    def get(self, filters: dict[str, Any], pagination_parameters: PaginationParameters) -> list[Any]:
        """List purchasing exceptions of the caller's companies (unrevoked unless asked)."""
        session = request_session()
        with session.begin():
            return _page(pagination_parameters, services.list_exceptions(
                session, current_actor(), filters,
                offset=pagination_parameters.first_item, limit=pagination_parameters.page_size,
            ))

    @blp.arguments(s.PurchasingExceptionSchema)
    @blp.response(201, s.PurchasingExceptionSchema)
    @blp.refuses(RoleNotAllowed, ExceptionForLocalMaterial)
    def post(self, data: dict[str, Any]) -> Any:
        """Grant a company a dated exception to buy a central material (stewards)."""
        session = request_session()
        with session.begin():
            return services.grant_exception(session, current_actor(), **data)


@blp.route("/exceptions/<int:exception_id>/revoke", methods=["POST"])
@blp.response(200, s.PurchasingExceptionSchema)
@blp.refuses(RoleNotAllowed, NotFound, ExceptionAlreadyRevoked)
def exception_revoke(exception_id: int) -> Any:
    """Revoke a purchasing exception now (stewards)."""
    session = request_session()
    with session.begin():
        return services.revoke_exception(session, current_actor(), exception_id)


# --- what may I order --------------------------------------------------------------------

@blp.route("/orderable", methods=["GET"])
@blp.arguments(s.OrderableQuery, location="query")
@blp.response(200, s.OrderableSchema(many=True))
@blp.paginate()
@blp.refuses(RoleNotAllowed, NotFound)
def orderable(query: dict[str, Any], pagination_parameters: PaginationParameters) -> list[Any]:
    """What the caller may order for a company on a day, with the applicable contract prices."""
    session = request_session()
    with session.begin():
        return _page(pagination_parameters, services.orderable(
            session, current_actor(), company_id=query["company_id"], day=query["date"],
            supplier_id=query["supplier_id"],
            offset=pagination_parameters.first_item, limit=pagination_parameters.page_size,
        ))


# --- purchase orders ---------------------------------------------------------------------

@blp.route("/orders")
class Orders(MethodView):
    @blp.arguments(s.PurchaseOrderFilter, location="query")
    @blp.response(200, s.PurchaseOrderSummarySchema(many=True))
    @blp.paginate()
    def get(self, filters: dict[str, Any], pagination_parameters: PaginationParameters) -> list[Any]:
        """List purchase orders for the caller's companies, newest first."""
        session = request_session()
        with session.begin():
            return _page(pagination_parameters, services.list_purchase_orders(
                session, current_actor(), filters,
                offset=pagination_parameters.first_item, limit=pagination_parameters.page_size,
            ))

    @blp.arguments(s.PurchaseOrderSchema)
    @blp.response(201, s.PurchaseOrderSchema)
    @blp.refuses(
        PurchasingRightDenied, RoleNotAllowed, ContractLineNotApplicable, MaterialInactive, NoValidContract,
        OrderDateInPast, QuantityNotPositive, QuantityTooLarge, QuantityTooPrecise, StorageConditionsNotMet,
        SupplierBlocked, WarehouseInactive, WarehouseNotOfReceivingCompany,
    )
    def post(self, data: dict[str, Any]) -> Any:
        """Create a draft purchase order; prices come from the applicable contract lines."""
        session = request_session()
        with session.begin():
            return services.create_purchase_order(session, current_actor(), **data)


@blp.route("/orders/<int:order_id>", methods=["GET"])
@blp.response(200, s.PurchaseOrderSchema)
@blp.refuses(NotFound)
def order(order_id: int) -> Any:
    """Read a purchase order with its lines."""
    session = request_session()
    with session.begin():
        return services.get_purchase_order(session, current_actor(), order_id)


@blp.route("/orders/<int:order_id>/lines", methods=["PUT"])
@blp.arguments(s.OrderLinesSchema)
@blp.response(200, s.PurchaseOrderSchema)
@blp.refuses(
    NotPurchaserOfOrder, PurchasingRightDenied, NotFound, StatusTransitionNotAllowed, ContractLineNotApplicable,
    MaterialInactive, NoValidContract, QuantityNotPositive, QuantityTooLarge, QuantityTooPrecise,
    StorageConditionsNotMet, SupplierBlocked, WarehouseInactive, WarehouseNotOfReceivingCompany,
)
def order_lines(data: dict[str, Any], order_id: int) -> Any:
    """Replace the lines of a draft order (re-priced from the contracts)."""
    session = request_session()
    with session.begin():
        return services.replace_order_lines(session, current_actor(), order_id, data["lines"])


@blp.route("/orders/<int:order_id>/submit", methods=["POST"])
@blp.response(200, s.PurchaseOrderSchema)
@blp.refuses(
    NotPurchaserOfOrder, PurchasingRightDenied, NotFound, StatusTransitionNotAllowed, ContractLineNotApplicable,
    MaterialInactive, NoValidContract, QuantityNotPositive, QuantityTooLarge, QuantityTooPrecise,
    StorageConditionsNotMet, SupplierBlocked, WarehouseInactive, WarehouseNotOfReceivingCompany,
)
def order_submit(order_id: int) -> Any:
    """Submit a draft: open it, or send it for approval above the company's threshold."""
    session = request_session()
    with session.begin():
        return services.submit_order(
            session, current_actor(), order_id, default_threshold=erp_settings().default_approval_threshold
        )


@blp.route("/orders/<int:order_id>/approve", methods=["POST"])
@blp.response(200, s.PurchaseOrderSchema)
@blp.refuses(ApproverIsCreator, NotApproverOfOrder, RoleNotAllowed, NotFound, StatusTransitionNotAllowed)
def order_approve(order_id: int) -> Any:
    """Approve an order waiting for approval (a purchasing manager other than its creator)."""
    session = request_session()
    with session.begin():
        return services.approve_order(session, current_actor(), order_id)


@blp.route("/orders/<int:order_id>/reject", methods=["POST"])
@blp.arguments(s.ReasonSchema)
@blp.response(200, s.PurchaseOrderSchema)
@blp.refuses(ApproverIsCreator, NotApproverOfOrder, RoleNotAllowed, NotFound, StatusTransitionNotAllowed)
def order_reject(data: dict[str, Any], order_id: int) -> Any:
    """Send an order waiting for approval back to draft, with a reason."""
    session = request_session()
    with session.begin():
        return services.reject_order(session, current_actor(), order_id, data["reason"])


@blp.route("/orders/<int:order_id>/cancel", methods=["POST"])
@blp.arguments(s.OptionalReasonSchema)
@blp.response(200, s.PurchaseOrderSchema)
@blp.refuses(NotPurchaserOfOrder, NotFound, OrderHasReceipts, StatusTransitionNotAllowed)
def order_cancel(data: dict[str, Any], order_id: int) -> Any:
    """Cancel an order against which nothing has been received."""
    session = request_session()
    with session.begin():
        return services.cancel_order(session, current_actor(), order_id, data["reason"])


@blp.route("/orders/<int:order_id>/close", methods=["POST"])
@blp.arguments(s.OptionalReasonSchema)
@blp.response(200, s.PurchaseOrderSchema)
@blp.refuses(NotPurchaserOfOrder, NotFound, StatusTransitionNotAllowed)
def order_close(data: dict[str, Any], order_id: int) -> Any:
    """Close an open or partially received order: no more receipts are expected."""
    session = request_session()
    with session.begin():
        return services.close_order(session, current_actor(), order_id, data["reason"])
