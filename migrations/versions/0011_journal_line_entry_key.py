"""costing: journal lines reference their entry by (id, company, period)

Revision ID: 0011_journal_line_entry_key
Revises: 0010_effective_dated_prices
Create Date: 2026-11-27 04:15:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op


revision: str = '0011_journal_line_entry_key'
down_revision: str | Sequence[str] | None = '0010_effective_dated_prices'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ENTRY_KEY = "fk_journal_lines_entry_id_journal_entries"


def _restore_sqlite_immutability() -> None:
    # SQLite rebuilds the table in batch mode and its triggers go with the old one.
    if op.get_bind().dialect.name != "sqlite":
        return
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER IF NOT EXISTS journal_lines_no_{action.lower()} BEFORE {action} ON journal_lines "
            f"BEGIN SELECT RAISE(ABORT, 'journal_lines is immutable: {action} refused; post a reversal instead'); END"
        )


def upgrade() -> None:
    # A unique index, not a constraint: SQLite can add it in place.
    op.create_index("ux_journal_entries_key", "journal_entries", ["id", "company_id", "period"], unique=True)
    with op.batch_alter_table("journal_lines") as table:
        table.drop_constraint(ENTRY_KEY, type_="foreignkey")
        table.drop_constraint("fk_journal_lines_company_id_companies", type_="foreignkey")
        table.create_foreign_key(ENTRY_KEY, "journal_entries", ["entry_id", "company_id", "period"],
                                 ["id", "company_id", "period"])
    _restore_sqlite_immutability()


def downgrade() -> None:
    with op.batch_alter_table("journal_lines") as table:
        table.drop_constraint(ENTRY_KEY, type_="foreignkey")
        table.create_foreign_key(ENTRY_KEY, "journal_entries", ["entry_id"], ["id"])
        table.create_foreign_key("fk_journal_lines_company_id_companies", "companies", ["company_id"], ["id"])
    op.drop_index("ux_journal_entries_key", table_name="journal_entries")
    _restore_sqlite_immutability()
