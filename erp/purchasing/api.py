"""HTTP endpoints of the purchasing module."""

from __future__ import annotations

from erp.web import Blueprint

blp = Blueprint("purchasing", __name__, url_prefix="/api/v1", description="Contracts, purchasing rights and purchase orders")
