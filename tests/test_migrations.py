"""The schema comes from Alembic migrations only: they must produce exactly the models."""

from __future__ import annotations

from decimal import Decimal as D

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from erp.costing.models import MaterialPeriodBalance
from erp.db import Base
from erp.migrate import alembic_config, upgrade
from erp.posting.models import AccountingPeriod, PeriodStatus
from tests.world import World


def test_migrations_and_models_agree(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_database_is_at_the_single_head(engine: Engine) -> None:
    script = ScriptDirectory.from_config(alembic_config())
    heads = script.get_heads()
    assert len(heads) == 1, f"migrations have several heads: {heads}"
    with engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_heads() == tuple(heads)


def test_downgrading_0034_writes_back_the_months_a_material_did_not_move(engine: Engine, world: World) -> None:
    """Since 0034 a close writes balances only for the materials that moved; the code before
    it reads a closed period's balances from that period's rows alone, so the downgrade
    writes each idle month's carried row back (#18, review R2)."""
    company, material = world.companies["A"], world.materials["exc_local"]
    b = MaterialPeriodBalance
    with Session(engine) as session, session.begin():
        for period in ("2026-10", "2026-11", "2026-12"):
            session.add(AccountingPeriod(company_id=company, period=period, status=PeriodStatus.CLOSED))
        session.add(b(company_id=company, period="2026-10", material_id=material, opening_quantity=D("0"),
                      receipts_quantity=D("100"), receipts_value=D("1000.00"), receipts_variance=D("50.00"),
                      consumption_quantity=D("40"), consumption_value=D("400.00"), consumption_variance=D("20.00"),
                      variance_rate=D("0.05"), closing_quantity=D("60"), closing_value=D("600.00"),
                      closing_variance=D("30.00")))
    config = alembic_config()
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0033_opening_stock_lots")
        with Session(engine) as session:
            rows = session.execute(
                select(b.period, b.opening_quantity, b.opening_value, b.opening_variance, b.consumption_variance,
                       b.variance_rate, b.closing_quantity, b.closing_value, b.closing_variance)
                .where(b.company_id == company, b.material_id == material).order_by(b.period)).all()
        assert [tuple(row) for row in rows[1:]] == [
            (period, D("60"), D("600.00"), D("30.00"), D("0"), D("0.05"), D("60"), D("600.00"), D("30.00"))
            for period in ("2026-11", "2026-12")]
        assert rows[0].period == "2026-10"
    finally:
        upgrade(engine)
