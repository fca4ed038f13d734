"""HTTP endpoints of the costing module."""

from __future__ import annotations

from erp.web import Blueprint

blp = Blueprint("costing", __name__, url_prefix="/api/v1", description="Standard prices, the journal and the month-end close")
