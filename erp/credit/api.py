"""HTTP endpoints of the credit module."""

from __future__ import annotations

from erp.web import Blueprint

blp = Blueprint("credit", __name__, url_prefix="/api/v1", description="Sales, receivables and group credit control")
