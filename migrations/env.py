"""Alembic environment: the schema of every database comes from these migrations only.

The URL is ``ERP_DATABASE_URL`` (or the SQLite default); code that already holds a
connection (tests, ``erp.migrate``) passes it in ``config.attributes["connection"]``.
"""

from __future__ import annotations

from typing import Any

from alembic import context

from erp import models  # noqa: F401 - registers every table on Base.metadata
from erp.config import default_database_url
from erp.db import Base, UTCDateTime, make_engine

config = context.config
target_metadata = Base.metadata


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Render the project's TypeDecorator as its portable SQL type in generated migrations."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _configure(connection: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_item=render_item,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(default_database_url())
    with engine.connect() as connection:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; run against a database")
run_migrations_online()
