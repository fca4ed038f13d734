"""chart: the opening balances clearing account (期初建账过渡) that go-live imports post against

Revision ID: 0017_opening_balances_account
Revises: 0016_imports
Create Date: 2026-11-29 17:05:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0017_opening_balances_account'
down_revision: str | Sequence[str] | None = '0016_imports'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACCOUNTS = sa.table("accounts", sa.column("code", sa.String), sa.column("name_zh", sa.String),
                    sa.column("name_en", sa.String), sa.column("kind", sa.String))


def upgrade() -> None:
    op.bulk_insert(ACCOUNTS, [{"code": "4199", "name_zh": "期初建账过渡", "name_en": "Opening balances (go-live clearing)",
                               "kind": "equity"}])


def downgrade() -> None:
    op.execute("DELETE FROM accounts WHERE code = '4199'")
