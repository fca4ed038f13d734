"""costing: the close's derived tables carry no foreign keys

Revision ID: 0008_close_tables_no_fks
Revises: 0007_close_restatement
Create Date: 2026-11-27 02:20:24.174426
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0008_close_tables_no_fks'
down_revision: str | Sequence[str] | None = '0007_close_restatement'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


FOREIGN_KEYS = {
    "material_period_balances": [("company_id", "companies", "id"), ("material_id", "materials", "id")],
    "variance_allocations": [("company_id", "companies", "id"), ("material_id", "materials", "id"),
                             ("account_code", "accounts", "code")],
}


def _name(table: str, column: str, target: str) -> str:
    return f"fk_{table}_{column}_{target}"


def upgrade() -> None:
    # batch mode: SQLite cannot drop a constraint in place, it rebuilds the table
    for table, keys in FOREIGN_KEYS.items():
        with op.batch_alter_table(table) as batch:
            for column, target, _ in keys:
                batch.drop_constraint(_name(table, column, target), type_="foreignkey")


def downgrade() -> None:
    for table, keys in FOREIGN_KEYS.items():
        with op.batch_alter_table(table) as batch:
            for column, target, target_column in keys:
                batch.create_foreign_key(_name(table, column, target), target, [column], [target_column])
