"""HTTP endpoints of costing: ``/api/v1/costing/...``."""

from __future__ import annotations

from typing import Any

from flask_smorest.pagination import PaginationParameters

from erp.costing import schemas as s
from erp.costing import standards
from erp.web import Blueprint, current_actor, request_session

blp = Blueprint("costing", __name__, url_prefix="/api/v1/costing",
                description="Standard prices, the journal and the month-end close")


@blp.route("/standard-prices", methods=["PUT"])
@blp.arguments(s.StandardPricesIn)
@blp.response(200, s.StandardPriceOut(many=True))
def put_standard_prices(data: dict[str, Any]) -> list[Any]:
    """Set standard prices of materials for a company and period (cost accountants)."""
    session = request_session()
    changes = [standards.PriceChange(p["material_id"], p["price"]) for p in data["prices"]]
    with session.begin():
        return standards.set_standard_prices(
            session, current_actor(), company_id=data["company_id"], period=data["period"], prices=changes
        )


@blp.route("/standard-prices", methods=["GET"])
@blp.arguments(s.StandardPriceQuery, location="query")
@blp.response(200, s.StandardPriceOut(many=True))
@blp.paginate()
def get_standard_prices(query: dict[str, Any], pagination_parameters: PaginationParameters) -> list[Any]:
    """A company's standard prices for a period."""
    session = request_session()
    with session.begin():
        rows, total = standards.list_standard_prices(
            session, current_actor(), offset=pagination_parameters.first_item,
            limit=pagination_parameters.page_size, **query,
        )
    pagination_parameters.item_count = total
    return rows
