"""HTTP endpoints of the group master: ``/api/v1/{segments,companies,warehouses,units,
materials,suppliers,customers,tax-codes}``.

Every kind of record gets the same six endpoints (list with filters and pagination,
create, read, partial update, deactivate/reactivate, delete-if-unused), built by
``catalog_routes`` from its catalog entry and schemas.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters
from sqlalchemy.orm import Session

from erp.auth.errors import CompanyOutOfScope, RoleNotAllowed
from erp.errors import DomainError, NotFound
from erp.masterdata import services
from erp.masterdata.errors import (
    DUPLICATE_REFUSALS,
    DeactivationBlocked,
    NoGroup,
    IntercompanyPartnerHasHistory,
    IntercompanyPartnerNotTheCompany,
    RecordInUse,
    WarehouseInUse,
)
from erp.masterdata import schemas as s
from erp.masterdata.services import Catalog
from erp.auth.roles import Actor
from erp.web import Blueprint, paged, transaction

blp = Blueprint("masterdata", __name__, url_prefix="/api/v1", description="Group organisation and master data")


def catalog_routes(
    path: str,
    catalog: Catalog,
    schema: type[s.Schema],
    filters: type[s.Schema],
    *,
    create: Any = None,
    create_refusals: tuple[type[DomainError], ...] = (),
    update_refusals: tuple[type[DomainError], ...] = (),
) -> None:
    """Register list/create/read/update/deactivate/reactivate/delete for one kind of record."""
    label = catalog.label
    create_service = create or services.create_record
    # What the catalog's rules refuse: rights, scope, a repeated unique value, a record in use.
    duplicates = [DUPLICATE_REFUSALS[name] for name in catalog.unique]
    writes = (RoleNotAllowed, CompanyOutOfScope, *duplicates)
    # The same fields, all optional, and the reason for the change (for the audit trail).
    patch_schema = type(schema.__name__, (schema,), {"reason": s.Reason(load_only=True)})(
        partial=True, exclude=("code",)
    )

    class Collection(MethodView):
        @blp.arguments(filters, location="query")
        @blp.response(200, schema(many=True))
        @blp.paginate()
        def get(self, query: dict[str, Any], pagination_parameters: PaginationParameters) -> list[Any]:
            return paged(pagination_parameters, services.list_records, catalog=catalog, filters=query)

        @blp.arguments(schema)
        @blp.response(201, schema)
        @blp.refuses(*writes, *create_refusals)
        @transaction
        def post(self, session: Session, actor: Actor, data: dict[str, Any]) -> Any:
            return create_service(session, actor, catalog, data)

    class Item(MethodView):
        @blp.response(200, schema)
        @blp.refuses(NotFound)
        @transaction
        def get(self, session: Session, actor: Actor, record_id: int) -> Any:
            return services.get_record(session, actor, catalog, record_id)

        @blp.arguments(patch_schema)
        @blp.response(200, schema)
        @blp.refuses(*writes, NotFound, *update_refusals)
        @transaction
        def patch(self, session: Session, actor: Actor, changes: dict[str, Any], record_id: int) -> Any:
            reason = changes.pop("reason", None)
            return services.update_record(session, actor, catalog, record_id, changes, reason=reason)

        @blp.response(204)
        @blp.refuses(RoleNotAllowed, NotFound, RecordInUse)
        @transaction
        def delete(self, session: Session, actor: Actor, record_id: int) -> None:
            services.delete_record(session, actor, catalog, record_id)

    def set_active(active: bool) -> Any:
        @blp.arguments(s.ReasonIn)
        @blp.response(200, schema)
        @blp.refuses(RoleNotAllowed, NotFound, *((DeactivationBlocked,) if not active and catalog.label in
                                                  services.DEACTIVATION_CHECKS else ()))
        @transaction
        def view(session: Session, actor: Actor, body: dict[str, Any], record_id: int) -> Any:
            return services.set_record_active(session, actor, catalog, record_id, active,
                                              reason=body.get("reason"))

        return view

    Collection.__doc__ = f"List or create {label} records."
    Collection.get.__doc__ = f"List {label} records (filters, pagination)."
    Collection.post.__doc__ = f"Create a {label}."
    Item.get.__doc__ = f"Read one {label}."
    Item.patch.__doc__ = f"Change fields of a {label} (the code is permanent)."
    Item.delete.__doc__ = f"Delete a {label} nobody uses yet; one in use must be deactivated (409)."
    blp.add_url_rule(f"/{path}", endpoint=f"{path}_collection", view_func=Collection)
    blp.add_url_rule(f"/{path}/<int:record_id>", endpoint=f"{path}_item", view_func=Item)
    deactivate = set_active(False)
    deactivate.__doc__ = f"Deactivate a {label}: kept for history, no new business."
    reactivate = set_active(True)
    reactivate.__doc__ = f"Reactivate a deactivated {label}."
    blp.route(f"/{path}/<int:record_id>/deactivate", methods=["POST"], endpoint=f"{path}_deactivate")(deactivate)
    blp.route(f"/{path}/<int:record_id>/reactivate", methods=["POST"], endpoint=f"{path}_reactivate")(reactivate)


def _create_segment(session: Any, actor: Any, catalog: Catalog, data: dict[str, Any]) -> Any:
    return services.create_segment(session, actor, data)


catalog_routes("segments", services.SEGMENTS, s.SegmentSchema, s.ListFilter, create=_create_segment,
               create_refusals=(NoGroup,))
catalog_routes("companies", services.COMPANIES, s.CompanySchema, s.CompanyFilter,
               create_refusals=(IntercompanyPartnerNotTheCompany, IntercompanyPartnerHasHistory),
               update_refusals=(IntercompanyPartnerNotTheCompany, IntercompanyPartnerHasHistory))
catalog_routes("warehouses", services.WAREHOUSES, s.WarehouseSchema, s.WarehouseFilter,
               update_refusals=(WarehouseInUse,))
catalog_routes("units", services.UNITS, s.UnitSchema, s.ListFilter)
catalog_routes("materials", services.MATERIALS, s.MaterialSchema, s.MaterialFilter)
catalog_routes("suppliers", services.SUPPLIERS, s.SupplierSchema, s.PartnerFilter,
               update_refusals=(IntercompanyPartnerNotTheCompany,))
catalog_routes("customers", services.CUSTOMERS, s.CustomerSchema, s.PartnerFilter,
               update_refusals=(IntercompanyPartnerNotTheCompany,))
catalog_routes("tax-codes", services.TAX_CODES, s.TaxCodeSchema, s.TaxCodeFilter)
