"""Fast paths for imports: checking cells with a schema's own fields, set lookups, bulk writes.

- ``RowChecker`` runs the API schema's fields on each row, exactly as ``schema.load``
  would (required, defaults, types, validators), but remembers the outcome per distinct
  value of each field, in a bounded cache: a column of 100,000 rows usually holds a few
  dozen distinct values. A schema with hooks (``pre_load``, ``validates``,
  ``validates_schema``, ...) is loaded whole, row by row, as the API loads it.
- ``any_of`` looks up many keys as one array parameter on PostgreSQL (a 2,000-value ``IN``
  list would be a 2,000-parameter statement for the driver to parse).
- ``insert_rows`` writes many rows with ``COPY`` on PostgreSQL (a multi-row INSERT costs
  several times as much) and with a multi-row INSERT on SQLite; Python-side column
  defaults (timestamps) are filled in first.
- ``audit_rows`` writes the audit trail's rows for many records at once (an undo's
  deletions). An import's new master records get none: they carry the import and their
  file row (erp.masterdata.models.CreatedByImport), shown as their creation in the trail.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import Enum
from typing import Any

import marshmallow as ma
from psycopg.adapt import Dumper
from marshmallow.utils import missing
from sqlalchemy import (
    ARRAY,
    JSON,
    BigInteger,
    ColumnElement,
    Integer,
    String,
    Table,
    any_,
    bindparam,
    insert,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from erp.db import is_postgres

CACHE_SIZE = 2048
_UNCACHEABLE = (ma.fields.Method, ma.fields.Function, ma.fields.Nested, ma.fields.Pluck)


class RowChecker:
    """``load(payload)`` as the schema would, raising ``ma.ValidationError`` with messages per field."""

    def __init__(self, schema: ma.Schema) -> None:
        self.schema = schema
        self.whole = any(schema._hooks.values())  # noqa: SLF001 - hooks decide whether a row must load whole
        self.fields = dict(schema.load_fields)
        # Per field: name, the key it loads to, the field, its cache (None: not cached), and
        # whether its default is callable (a new value each time, a list, a dict: never shared).
        self.plan: list[list[Any]] = [
            [name, field.attribute or name, field, None if isinstance(field, _UNCACHEABLE) else {},
             callable(field.load_default)]
            for name, field in self.fields.items()]

    def load(self, payload: dict[str, Any]) -> dict[str, Any]:
        if self.whole:
            return self.schema.load(payload)  # type: ignore[no-any-return]
        data: dict[str, Any] = {}
        errors: dict[str, Any] = {}
        get = payload.get
        for step in self.plan:
            name, key, field, cache, default_is_callable = step
            value = get(name, missing)
            if cache is None or (value is missing and default_is_callable):
                outcome = None
                cache = None
            else:
                outcome = cache.get(value)
            if outcome is None:
                try:
                    outcome = (True, field.deserialize(value, name, payload))
                except ma.ValidationError as exc:
                    outcome = (False, exc.messages)
                if cache is not None:
                    if len(cache) >= CACHE_SIZE:
                        # A column of mostly distinct values (codes, names) gains nothing
                        # from a cache: it is dropped, so memory stays flat whatever the
                        # file's length and no row pays for a lookup that misses.
                        step[3] = None
                    else:
                        cache[value] = outcome
            ok, result = outcome
            if not ok:
                errors[name] = result
            elif result is not missing:
                data[key] = result
        if errors:
            raise ma.ValidationError(errors)
        return data


def any_of(session: Session, column: Any, values: Iterable[Any]) -> ColumnElement[bool]:
    """``column IN values``; one array parameter on PostgreSQL."""
    values = list(values)
    if is_postgres(session):
        element = column.type if isinstance(column.type, (String, Integer, BigInteger)) else String()
        return column == any_(bindparam(None, values, type_=ARRAY(element)))  # type: ignore[no-any-return]
    return column.in_(values)  # type: ignore[no-any-return]


def with_defaults(table: Table, rows: Sequence[dict[str, Any]]) -> list[str]:
    """Fill the Python-side column defaults the rows leave out (in place); returns the
    columns to write."""
    columns = [c for c in table.columns if any(c.name in row for row in rows) or c.default is not None]
    for column in columns:
        default = column.default
        if default is None:
            continue
        for row in rows:
            if column.name not in row:
                row[column.name] = default.arg(None) if default.is_callable else default.arg  # type: ignore[attr-defined]
    return [c.name for c in columns if not (c.primary_key and all(c.name not in row for row in rows))]


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]], *, key: str | None = None) -> list[int]:
    """Insert ``rows`` into ``table`` in the session's transaction; returns the new ids in
    the rows' order (looked up by the unique ``key`` after a COPY)."""
    if not rows:
        return []
    rows = [dict(row) for row in rows]
    columns = with_defaults(table, rows)
    if not is_postgres(session):
        result = session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows)
        return list(result.scalars())
    import psycopg
    from psycopg.types.json import Json

    raw = session.connection().connection.driver_connection
    column_list = ", ".join(f'"{name}"' for name in columns)
    documents = {name for name in columns if isinstance(table.c[name].type, JSON)}
    statement = f'COPY "{table.name}" ({column_list}) FROM STDIN'
    json_at = [index for index, name in enumerate(columns) if name in documents]
    try:
        with raw.cursor() as cursor:
            # Enums go in by their value (the columns are VARCHAR with a CHECK); the cursor's
            # dumper converts them, so the rows are not converted value by value here.
            cursor.adapters.register_dumper(Enum, _EnumValueDumper)
            with cursor.copy(statement) as copy:
                for row in rows:
                    values = list(map(row.get, columns))
                    for index in json_at:
                        values[index] = Json(values[index])
                    copy.write_row(values)
    except psycopg.errors.IntegrityError as exc:
        # As SQLAlchemy reports it for its own statements: a unique value written meanwhile
        # by another transaction is then answered with its rule (erp.unique).
        raise IntegrityError(statement, None, exc) from exc
    if key is None:
        return []
    keys = [row[key] for row in rows]
    found = dict(session.execute(select(table.c[key], table.c.id).where(any_of(session, table.c[key], keys))).all())
    return [found[k] for k in keys]


class _EnumValueDumper(Dumper):
    """An enum member as its value's text (psycopg dumps a plain ``Enum`` by name; a
    ``StrEnum`` is a ``str`` and goes in as one)."""

    def dump(self, obj: Any) -> bytes:
        return str(obj.value).encode()


def audit_rows(session: Session, actor: Any, *, entity: str, action: str, records: Sequence[dict[str, Any]],
               id_key: str = "id", company_key: str | None = None, reason: str | None = None,
               deleted: bool = False) -> None:
    """The audit trail's rows for many records at once, as ``erp.audit.services.record_change``
    writes them one by one: a creation lists every field after, a deletion every field before."""
    from erp.audit import services as audit
    from erp.audit.models import AuditEvent

    rows = []
    for record in records:
        values = {k: v for k, v in record.items()
                  if k not in audit.NOT_AUDITED and not (v is None and k in audit.IMPORT_COLUMNS)}
        changes = audit.field_changes(values if deleted else None, None if deleted else values)
        rows.append({"actor_id": actor.user_id, "actor_name": actor.username[:64], "entity": entity,
                     "entity_id": record.get(id_key), "action": action, "changes": changes,
                     "reason": reason[:500] if reason else None,
                     "company_id": record.get(company_key) if company_key else None, "client_address": None})
    insert_rows(session, AuditEvent.__table__, rows)
