"""HTTP endpoints of the inventory module."""

from __future__ import annotations

from erp.web import Blueprint

blp = Blueprint("inventory", __name__, url_prefix="/api/v1", description="Receipts, batches, stock movements and the stock ledger")
