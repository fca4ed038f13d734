"""Heyi (合一): group purchasing, inventory, standard costing and credit.

``create_app`` is the application factory (``flask --app erp run``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import Flask, current_app, has_app_context
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from erp.config import Settings, ensure_database, load_settings
from erp.db import autocommit_reads, make_engine, make_session_factory


@dataclass
class ErpExtension:
    """What the app holds for the request layer: settings, engine and session factory."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    # Read-only reports (erp.web.reporting): the replica's engine, or None and the primary's sessions.
    reporting_engine: Engine | None = None
    reporting_session_factory: sessionmaker[Session] | None = None
    # The API's GET and HEAD: sessions on autocommit connections of the same pool (PostgreSQL;
    # erp.db.autocommit_reads); None: they use ``session_factory`` like every other request.
    read_session_factory: sessionmaker[Session] | None = None

    def __post_init__(self) -> None:
        if self.reporting_session_factory is None:
            self.reporting_session_factory = self.session_factory


def make_reporting_engine(url: str, settings: Settings) -> Engine:
    """The reporting replica's engine: every transaction read-only (a report can never write,
    even if the URL names the primary by mistake)."""
    return make_engine(url, echo=settings.sql_echo, pool_size=settings.db_pool_size,
                       max_overflow=settings.db_max_overflow,
                       execution_options={"postgresql_readonly": True})


def _current_exact_digits() -> int | None:
    """The significant digits the current app's database stores exactly (erp.schemas)."""
    return current_app.extensions.get("erp_exact_digits") if has_app_context() else None


def create_app(settings: Settings | None = None, *, engine: Engine | None = None,
               reporting_engine: Engine | None = None) -> Flask:
    """Build the Flask application: database, API with its blueprints, commands. Reports
    read from ``reporting_engine`` (or ``ERP_REPORTING_DATABASE_URL``) when given."""
    from erp import models  # noqa: F401 - every table is mapped before the first query
    from erp.audit.api import blp as audit_blp
    from erp.auth.api import blp as auth_blp
    from erp.cli import register_commands
    from erp.consolidation.api import blp as consolidation_blp
    from erp.costing.api import blp as costing_blp
    from erp.credit.api import blp as credit_blp
    from erp.golive.api import blp as imports_blp
    from erp.golive.export_api import blp as exports_blp
    from erp.inventory.api import blp as inventory_blp
    from erp.jobs.api import blp as jobs_blp
    from erp.jobs.runner import JobEnvironment, make_runner
    from erp.masterdata.api import blp as masterdata_blp
    from erp.purchasing.api import blp as purchasing_blp
    from erp.payables.api import blp as payables_blp
    from erp.quality.api import blp as quality_blp
    from erp.production.api import blp as production_blp
    from erp.serving import init_serving
    from erp.schemas import exact_digits_of, read_exact_digits_from
    from erp.web import ErpFlask, init_web

    settings = settings or load_settings()
    if engine is None:
        created = ensure_database(settings.database_url)
        if created:
            logging.getLogger(__name__).warning("%s", created)
    if settings.business_date is not None:
        # Loud, once per process: a pinned clock in production would date every posting wrongly.
        logging.getLogger(__name__).warning(
            "the business day is pinned to %s by ERP_BUSINESS_DATE: a training or test copy, never production",
            settings.business_date.isoformat())
    app = ErpFlask(__name__, instance_relative_config=True)
    if engine is None:
        pool = {} if settings.database_url.startswith("sqlite") else {
            "pool_size": settings.db_pool_size, "max_overflow": settings.db_max_overflow,
            "pool_pre_ping": settings.db_pool_pre_ping}
        engine = make_engine(settings.database_url, echo=settings.sql_echo, **pool)
    # Decimal input is bounded by what this app's database stores exactly (SQLite: 15 digits).
    app.extensions["erp_exact_digits"] = exact_digits_of(engine.dialect.name)
    read_exact_digits_from(_current_exact_digits)
    reporting_engine = reporting_engine or (make_reporting_engine(settings.reporting_database_url, settings)
                                            if settings.reporting_database_url else None)
    app.extensions["erp"] = ErpExtension(
        settings, engine, make_session_factory(engine), reporting_engine,
        make_session_factory(reporting_engine) if reporting_engine is not None else None,
        make_session_factory(autocommit_reads(engine)) if engine.dialect.name == "postgresql" else None)
    app.extensions["erp_jobs"] = make_runner(JobEnvironment(settings, engine, app.extensions["erp"].session_factory))
    api = init_web(app)
    init_serving(app)
    for blueprint in (auth_blp, masterdata_blp, purchasing_blp, inventory_blp, costing_blp, credit_blp, consolidation_blp,
                      jobs_blp, audit_blp, imports_blp, exports_blp, payables_blp, quality_blp,
                      production_blp):
        api.register_blueprint(blueprint)
    from erp.ui import init_ui

    init_ui(app)
    register_commands(app)
    return app
