"""inventory: stock documents carry a number people can quote (GR-00000123)

Revision ID: 0013_stock_document_numbers
Revises: 0012_jobs
Create Date: 2026-11-29 15:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013_stock_document_numbers'
down_revision: str | Sequence[str] | None = '0012_jobs'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As erp.inventory.models.DOCUMENT_PREFIXES when this revision was written.
PREFIXES = {
    "receipt": "GR", "receipt_reversal": "GRR", "quality_release": "QR", "quality_reject": "QB",
    "return_to_supplier": "RTS", "issue": "GI", "issue_reversal": "GIR", "transfer": "TR", "adjustment": "ADJ",
    "scrap": "SCR", "shipment": "SHP", "shipment_reversal": "SHR", "revaluation": "RV",
}


def _prefix_case() -> str:
    return "CASE doc_type " + " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in PREFIXES.items()) + " END"


def _immutability(dialect: str, on: bool) -> None:
    """Documents are immutable (migration 0003): numbering the existing ones lifts that
    for the duration of this migration only."""
    if dialect == "postgresql":
        op.execute(f"ALTER TABLE stock_documents {'ENABLE' if on else 'DISABLE'} TRIGGER stock_documents_immutable")
        return
    for action in ("UPDATE", "DELETE"):
        if on:
            op.execute(
                f"CREATE TRIGGER IF NOT EXISTS stock_documents_no_{action.lower()} BEFORE {action} ON stock_documents "
                f"BEGIN SELECT RAISE(ABORT, 'stock_documents is immutable: {action} refused; post a reversal "
                "instead'); END"
            )
        else:
            op.execute(f"DROP TRIGGER IF EXISTS stock_documents_no_{action.lower()}")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.add_column("stock_documents", sa.Column("number", sa.String(20), nullable=True))
    _immutability(dialect, on=False)
    digits = ("lpad(CAST(id AS TEXT), greatest(8, length(CAST(id AS TEXT))), '0')" if dialect == "postgresql"
              else "printf('%08d', id)")
    op.execute(f"UPDATE stock_documents SET number = {_prefix_case()} || '-' || {digits}")
    with op.batch_alter_table("stock_documents") as table:
        table.alter_column("number", existing_type=sa.String(20), nullable=False)
        table.create_unique_constraint("uq_stock_documents_number", ["number"])
    _immutability(dialect, on=True)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table("stock_documents") as table:
        table.drop_constraint("uq_stock_documents_number", type_="unique")
        table.drop_column("number")
    if dialect == "sqlite":
        _immutability(dialect, on=True)
