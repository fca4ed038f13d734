"""cost roll-ups: one run per company and period (a unique index instead of a plain one)

Two first roll-ups of one company and period running at the same moment both found no
earlier run and both inserted theirs, so both could be released. The unique index makes
the second writer wait for the first and then be refused (erp.production.errors).

Revision ID: 0031_unique_cost_rollups
Revises: 0030_quality_excursion_batches
Create Date: 2026-11-30 01:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op


revision: str = '0031_unique_cost_rollups'
down_revision: str | Sequence[str] | None = '0030_quality_excursion_batches'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A computed run that another run of its company and period supersedes (a released one, or
# a later computed one) is what a run replaces anyway: drop it before the index is built.
SUPERSEDED = """
    SELECT r.id FROM cost_rollups r
    WHERE r.status = 'computed' AND EXISTS (
        SELECT 1 FROM cost_rollups o
        WHERE o.company_id = r.company_id AND o.period = r.period AND o.id <> r.id
          AND (o.status = 'released' OR o.id > r.id))
"""


def upgrade() -> None:
    twice = op.get_bind().exec_driver_sql(
        "SELECT company_id, period FROM cost_rollups WHERE status = 'released' "
        "GROUP BY company_id, period HAVING count(*) > 1 ORDER BY company_id, period").all()
    if twice:
        # Two released runs of one period: both set standard prices, and which one stands is
        # a cost accountant's decision, not a migration's.
        raise RuntimeError("cost_rollups holds more than one released roll-up for (company_id, period) "
                           f"{[tuple(row) for row in twice]}; keep one of each (delete the others' cost_estimate_lines, "
                           "cost_estimates and cost_rollups rows) and run the migration again")
    for table in ("cost_estimate_lines", "cost_estimates"):
        op.execute(f"DELETE FROM {table} WHERE rollup_id IN ({SUPERSEDED})")
    op.execute(f"DELETE FROM cost_rollups WHERE id IN ({SUPERSEDED})")
    op.drop_index('ix_cost_rollups_company_period', table_name='cost_rollups')
    op.create_index('uq_cost_rollups_company_period', 'cost_rollups', ['company_id', 'period'], unique=True)


def downgrade() -> None:
    op.drop_index('uq_cost_rollups_company_period', table_name='cost_rollups')
    op.create_index('ix_cost_rollups_company_period', 'cost_rollups', ['company_id', 'period'], unique=False)
