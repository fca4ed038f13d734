"""production: bills of materials, cost-centre rates, standard cost roll-ups

Revision ID: 0026_production_boms
Revises: 0025_quality
Create Date: 2026-11-29 21:34:59.012275
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0026_production_boms'
down_revision: str | Sequence[str] | None = '0025_quality'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('boms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('material_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('base_quantity', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('cost_center', sa.String(length=32), nullable=True),
    sa.Column('hours', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('base_quantity > 0', name=op.f('ck_boms_base_quantity_positive')),
    sa.CheckConstraint('hours >= 0', name=op.f('ck_boms_hours_not_negative')),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_boms_company_id_companies')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_boms_created_by_users')),
    sa.ForeignKeyConstraint(['material_id'], ['materials.id'], name=op.f('fk_boms_material_id_materials')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_boms')),
    sa.UniqueConstraint('company_id', 'material_id', 'version', name=op.f('uq_boms_company_id_material_id_version'))
    )
    op.create_index('ix_boms_in_force', 'boms', ['company_id', 'material_id', 'valid_from'], unique=False)
    op.create_table('cost_center_rates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('cost_center', sa.String(length=32), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('labour_rate', sa.Numeric(precision=18, scale=6), nullable=False),
    sa.Column('overhead_rate', sa.Numeric(precision=18, scale=6), nullable=False),
    sa.Column('set_by', sa.Integer(), nullable=False),
    sa.Column('set_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('labour_rate >= 0 AND overhead_rate >= 0', name=op.f('ck_cost_center_rates_rates_not_negative')),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_cost_center_rates_company_id_companies')),
    sa.ForeignKeyConstraint(['set_by'], ['users.id'], name=op.f('fk_cost_center_rates_set_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cost_center_rates')),
    sa.UniqueConstraint('company_id', 'cost_center', 'period', name=op.f('uq_cost_center_rates_company_id_cost_center_period'))
    )
    op.create_table('cost_rollups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('status', sa.Enum('computed', 'released', name='rollup_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('levels', sa.Integer(), nullable=False),
    sa.Column('run_by', sa.Integer(), nullable=False),
    sa.Column('run_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('released_by', sa.Integer(), nullable=True),
    sa.Column('released_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_cost_rollups_company_id_companies')),
    sa.ForeignKeyConstraint(['released_by'], ['users.id'], name=op.f('fk_cost_rollups_released_by_users')),
    sa.ForeignKeyConstraint(['run_by'], ['users.id'], name=op.f('fk_cost_rollups_run_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cost_rollups'))
    )
    op.create_index('ix_cost_rollups_company_period', 'cost_rollups', ['company_id', 'period'], unique=False)
    op.create_table('bom_components',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bom_id', sa.Integer(), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('material_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=20, scale=6), nullable=False),
    sa.Column('scrap_pct', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_bom_components_quantity_positive')),
    sa.CheckConstraint('scrap_pct >= 0 AND scrap_pct < 100', name=op.f('ck_bom_components_scrap_range')),
    sa.ForeignKeyConstraint(['bom_id'], ['boms.id'], name=op.f('fk_bom_components_bom_id_boms')),
    sa.ForeignKeyConstraint(['material_id'], ['materials.id'], name=op.f('fk_bom_components_material_id_materials')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bom_components')),
    sa.UniqueConstraint('bom_id', 'line_no', name=op.f('uq_bom_components_bom_id_line_no')),
    sa.UniqueConstraint('bom_id', 'material_id', name=op.f('uq_bom_components_bom_id_material_id'))
    )
    op.create_index('ix_bom_components_material', 'bom_components', ['material_id'], unique=False)
    op.create_table('cost_estimate_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rollup_id', sa.Integer(), nullable=False),
    sa.Column('material_id', sa.Integer(), nullable=False),
    sa.Column('element', sa.Enum('material', 'labour', 'overhead', name='cost_element', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('component_id', sa.Integer(), nullable=True),
    sa.Column('quantity', sa.Numeric(precision=20, scale=6), nullable=False),
    sa.Column('price', sa.Numeric(precision=18, scale=6), nullable=False),
    sa.Column('amount', sa.Numeric(precision=20, scale=6), nullable=False),
    sa.ForeignKeyConstraint(['component_id'], ['materials.id'], name=op.f('fk_cost_estimate_lines_component_id_materials')),
    sa.ForeignKeyConstraint(['material_id'], ['materials.id'], name=op.f('fk_cost_estimate_lines_material_id_materials')),
    sa.ForeignKeyConstraint(['rollup_id'], ['cost_rollups.id'], name=op.f('fk_cost_estimate_lines_rollup_id_cost_rollups'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cost_estimate_lines'))
    )
    op.create_index('ix_cost_estimate_lines_rollup', 'cost_estimate_lines', ['rollup_id', 'material_id'], unique=False)
    op.create_table('cost_estimates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rollup_id', sa.Integer(), nullable=False),
    sa.Column('material_id', sa.Integer(), nullable=False),
    sa.Column('bom_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('base_quantity', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('material_cost', sa.Numeric(precision=20, scale=6), nullable=False),
    sa.Column('labour_cost', sa.Numeric(precision=20, scale=6), nullable=False),
    sa.Column('overhead_cost', sa.Numeric(precision=20, scale=6), nullable=False),
    sa.Column('unit_cost', sa.Numeric(precision=18, scale=6), nullable=False),
    sa.ForeignKeyConstraint(['bom_id'], ['boms.id'], name=op.f('fk_cost_estimates_bom_id_boms')),
    sa.ForeignKeyConstraint(['material_id'], ['materials.id'], name=op.f('fk_cost_estimates_material_id_materials')),
    sa.ForeignKeyConstraint(['rollup_id'], ['cost_rollups.id'], name=op.f('fk_cost_estimates_rollup_id_cost_rollups'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cost_estimates')),
    sa.UniqueConstraint('rollup_id', 'material_id', name=op.f('uq_cost_estimates_rollup_id_material_id'))
    )


def downgrade() -> None:
    op.drop_table('cost_estimates')
    op.drop_index('ix_cost_estimate_lines_rollup', table_name='cost_estimate_lines')
    op.drop_table('cost_estimate_lines')
    op.drop_index('ix_bom_components_material', table_name='bom_components')
    op.drop_table('bom_components')
    op.drop_index('ix_cost_rollups_company_period', table_name='cost_rollups')
    op.drop_table('cost_rollups')
    op.drop_table('cost_center_rates')
    op.drop_index('ix_boms_in_force', table_name='boms')
    op.drop_table('boms')
