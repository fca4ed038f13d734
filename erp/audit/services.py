"""Recording and reading the audit trail.

A module that changes audited data calls ``record_change`` in the same transaction as the
change, with the record's values before and after (``snapshot`` takes them from an ORM
row); only the fields that differ are stored. Sign-ins and other events without a
before/after pair use ``record_event``. Reading is for stewards, auditors, the CIO and
admins (``AUDIT_READERS``).

Entities recorded so far (the ``entity`` slug, keyed by ``entity_id``):
segment, company, warehouse, unit, material, supplier, customer (their ids); contract,
purchasing_exception (their ids); standard_price (the material's id, with company_id);
customer_credit (the customer's id: limits and holds); customer_credit_data (the customer's
id: versions of its credit data); credit_model (the version number: the limit model's
parameters, each version against the one before); user (the user's id: changes,
sign-ins, failed sign-ins, token revocations); import (a committed go-live import's id:
action ``import`` with its kind, file, content checksum and rows; ``undo``).

A go-live import that creates master records in bulk writes one audit row, its own, not
one per record: each record carries the import and the file row it came from
(``erp.masterdata.models.CreatedByImport``), and ``record_history`` presents that as the
record's creation (``imported_creation``).
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Numeric, Select, Table, and_, exists, inspect, literal, select, true, union_all
from sqlalchemy.orm import Session

from erp.db import page
from erp.audit.models import AuditEvent
from erp.auth.roles import Actor, Role
from erp.errors import ValidationFailed
from erp.messages import Message
from erp.narration import REASON_LENGTH, narrate
from erp.search import contains_text

# Who may read the trail: the master-data stewards whose work it records, the read-only
# auditors (QA, internal audit, inspectors), the CIO, and admins (users and sign-ins).
AUDIT_READERS = (Role.STEWARD, Role.AUDITOR, Role.CIO, Role.ADMIN)

# Actions every module uses; modules may record their own (``activate``, ``hold`` ...).
CREATE = "create"
CHANGE = "change"
DEACTIVATE = "deactivate"
REACTIVATE = "reactivate"
DELETE = "delete"

# A company's accounting period (its closes and reopenings) is recorded as entity ``period``
# keyed by the month as a number (2026-11 is 202611), with the company: its history is that
# company's period's (``record_history(..., company_id=...)``).
PERIOD = "period"


def period_key(period: str) -> int:
    """The ``entity_id`` of a period in the trail: ``2026-11`` -> 202611."""
    year, month = str(period).split("-")
    return int(year) * 100 + int(month)


def period_of_key(key: int) -> str:
    """The period a trail's ``entity_id`` of entity ``period`` stands for: 202611 -> ``2026-11``."""
    return f"{key // 100:04d}-{key % 100:02d}"


ENTITY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
ACTION_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
REDACTED = "[redacted]"
# Bookkeeping columns every row carries; the audit row's own time says when.
NOT_AUDITED = frozenset({"created_at", "updated_at"})
# The import a record came from and its file row (CREATED_BY_IMPORT): recorded only when set,
# so a record created one by one lists no such fields, and an imported record's deletion keeps
# which import and row created it (``imported_creation`` reads them back).
IMPORT_COLUMNS = ("import_batch_id", "import_row")
# The audit row of a committed import (entity IMPORT, its batch id) and of its undo.
IMPORT = "import"
IMPORTED = "import"
UNDONE = "undo"
# Entities whose records an import creates in bulk, carrying ``import_batch_id`` and
# ``import_row`` instead of an audit row each: entity slug -> table (registered by the
# module that owns the table, erp.masterdata.services).
CREATED_BY_IMPORT: dict[str, Table] = {}


def plain(value: Any) -> Any:
    """A value as JSON stores it: decimals and dates as text, enums by value."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, enum.Enum):
        return plain(value.value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [plain(item) for item in value]
        return sorted(items, key=str) if isinstance(value, (set, frozenset)) else items
    return str(value)


def snapshot(record: Any, *, exclude: Iterable[str] = (), redact: Iterable[str] = ()) -> dict[str, Any]:
    """The column values of an ORM row (without created_at/updated_at), ready for
    ``record_change``; ``redact`` names columns recorded only as ``[redacted]``."""
    hidden = set(redact)
    skipped = NOT_AUDITED | set(exclude)
    values: dict[str, Any] = {}
    for attribute in inspect(record).mapper.column_attrs:
        if attribute.key in skipped:
            continue
        value = getattr(record, attribute.key)
        if value is None and attribute.key in IMPORT_COLUMNS:
            continue
        column_type = attribute.columns[0].type
        if isinstance(value, Decimal) and isinstance(column_type, Numeric) and column_type.scale is not None:
            # As stored: "8" just assigned and "8.0" read back are the same temperature.
            value = at_scale(value, column_type.scale)
        values[attribute.key] = REDACTED if attribute.key in hidden else plain(value)
    return values


def at_scale(value: Decimal | None, places: int) -> Decimal | None:
    """``value`` written with ``places`` decimals, as a Numeric column of that scale stores it."""
    return None if value is None else value.quantize(Decimal(1).scaleb(-places))


def field_changes(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    """``{field: {"before": ..., "after": ...}}`` for the fields that differ. A creation
    (no ``before``) lists every field of ``after``; a deletion every field of ``before``."""
    old = {key: plain(value) for key, value in (before or {}).items()}
    new = {key: plain(value) for key, value in (after or {}).items()}
    if before is None or after is None:
        keys = list(new) if before is None else list(old)
        return {key: {"before": old.get(key), "after": new.get(key)} for key in keys}
    changed: dict[str, dict[str, Any]] = {}
    for key in list(old) + [k for k in new if k not in old]:
        if old.get(key) != new.get(key):
            changed[key] = {"before": old.get(key), "after": new.get(key)}
    return changed


def record_event(
    session: Session,
    *,
    actor_id: int | None,
    actor_name: str,
    entity: str,
    entity_id: int | None,
    action: str,
    changes: Mapping[str, Mapping[str, Any]] | None = None,
    reason: str | None = None,
    company_id: int | None = None,
    client_address: str | None = None,
) -> AuditEvent:
    """Append one audit row in the caller's transaction and return it.

    The lower-level form of ``record_change`` for events that are not a record's change:
    a sign-in (``actor_id`` the user), a failed sign-in (``actor_id`` None, ``actor_name``
    the name tried). Refuses entity and action slugs that are not lower-case words.
    """
    if not ENTITY_PATTERN.match(entity):
        raise ValueError(f"audit entity {entity!r} is not a lower-case slug")
    if not ACTION_PATTERN.match(action):
        raise ValueError(f"audit action {action!r} is not a lower-case slug")
    event = AuditEvent(
        actor_id=actor_id, actor_name=actor_name[:64], entity=entity, entity_id=entity_id, action=action,
        changes={key: dict(value) for key, value in (changes or {}).items()},
        reason=reason[:500] if reason else None, company_id=company_id,
        client_address=client_address[:64] if client_address else None,
    )
    session.add(event)
    return event


def record_change(
    session: Session,
    actor: Actor | None,
    *,
    entity: str,
    entity_id: int | None,
    action: str,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    reason: str | None = None,
    company_id: int | None = None,
) -> AuditEvent | None:
    """Record that ``actor`` did ``action`` to a record, with the fields that changed.

    ``before``/``after`` are the record's values (``snapshot`` of the row, or a dict of the
    fields the action concerns); None before means a creation, None after a deletion.
    Returns the audit row, or None when nothing changed (a PATCH that set the same values
    records nothing). ``actor`` None stands for the system (a command run without a user).
    """
    changes = field_changes(before, after)
    if not changes and before is not None and after is not None:
        return None
    return record_event(
        session,
        actor_id=actor.user_id if actor else None,
        actor_name=actor.username if actor else "system",
        entity=entity, entity_id=entity_id, action=action, changes=changes, reason=reason,
        company_id=company_id,
    )


def _require_reader(actor: Actor) -> None:
    actor.require_role(*AUDIT_READERS, action="reading the audit trail")


def _page(session: Session, query: Select[Any], offset: int, limit: int, *, oldest_first: bool = False
          ) -> tuple[list[AuditEvent], int]:
    order = AuditEvent.id.asc() if oldest_first else AuditEvent.id.desc()
    return page(session, query.order_by(order), offset=offset, limit=limit, entities=True)


def record_history(
    session: Session, actor: Actor, *, entity: str, entity_id: int, company_id: int | None = None,
    offset: int = 0, limit: int = 50,
) -> tuple[list[AuditEvent], int]:
    """Everything recorded about one record, newest first (audit readers only). A record a
    go-live import created ends with its creation as the import recorded it
    (``imported_creation``)."""
    _require_reader(actor)
    if not ENTITY_PATTERN.match(entity):
        raise ValidationFailed.for_field("entity", Message("a lower-case name such as material or customer_credit"))
    query = select(AuditEvent).where(AuditEvent.entity == entity, AuditEvent.entity_id == entity_id)
    if company_id is not None:
        query = query.where(AuditEvent.company_id == company_id)
    events, total = _page(session, query, offset, limit)
    creation = imported_creation(session, entity, entity_id)
    if creation is None or (company_id is not None and creation.company_id != company_id):
        return events, total
    # The creation is the oldest entry, after the ``total`` stored ones.
    if offset <= total < offset + limit:
        events.append(creation)
    return events, total + 1


def imported_creation(session: Session, entity: str, entity_id: int) -> AuditEvent | None:
    """The creation of a record a go-live import wrote in bulk, as an audit entry (not
    stored: an ``AuditEvent`` outside the session), or None for any other record.

    Who and when are the import's own audit row's (entity ``import``); the reason names the
    import, its file and the row (``go-live import 12: materials.csv, row 4711``); the changes
    list every field as created, ``{"before": null, "after": value}`` as a creation through
    the API records them (with the import and the row among them): the record's values now,
    or in its deletion's row once deleted (every field before, the import's columns
    included), with every earlier recorded change taken back (each change to a master record
    is recorded with its values before, by the catalog). None too when the record's creation
    was stored as its own row (imports before migration 0036 wrote one)."""
    table = CREATED_BY_IMPORT.get(entity)
    if table is None:
        return None
    events = session.execute(
        select(AuditEvent.action, AuditEvent.changes)
        .where(AuditEvent.entity == entity, AuditEvent.entity_id == entity_id).order_by(AuditEvent.id.desc())).all()
    stored = session.execute(select(table).where(table.c.id == entity_id)).mappings().first()
    if stored is not None:
        scales = {c.name: c.type.scale for c in table.columns
                  if isinstance(c.type, Numeric) and c.type.scale is not None}
        values = {name: plain(at_scale(value, scales[name]) if name in scales and value is not None else value)
                  for name, value in stored.items() if name not in NOT_AUDITED}
        earlier = list(events)
    else:
        # Deleted: the deletion's row holds every field before, the import's columns too.
        deletion = next((n for n, (action, changes) in enumerate(events)
                         if action == DELETE and "import_batch_id" in (changes or {})), None)
        if deletion is None:
            return None
        values = {name: change.get("before") for name, change in events[deletion].changes.items()}
        earlier = list(events[deletion + 1:])
    if values.get("import_batch_id") is None:
        return None
    imported = session.scalars(select(AuditEvent).where(
        AuditEvent.entity == IMPORT, AuditEvent.entity_id == values["import_batch_id"],
        AuditEvent.action == IMPORTED)).first()
    if imported is None:
        return None
    for action, changes in earlier:
        if action == CREATE:
            return None
        if action == DELETE:
            break  # an earlier record under the same id (SQLite reuses a deleted top id): not this one's
        for name, change in (changes or {}).items():
            if name in values:
                values[name] = change.get("before")
    file_name = ((imported.changes or {}).get("file_name") or {}).get("after")
    return AuditEvent(
        id=imported.id, occurred_at=imported.occurred_at, actor_id=imported.actor_id, actor_name=imported.actor_name,
        entity=entity, entity_id=entity_id, company_id=values.get("company_id"), action=CREATE,
        changes=field_changes(None, values),
        reason=narrate("imported-row", REASON_LENGTH, import_id=values["import_batch_id"], file=file_name or "",
                       row=values.get("import_row")), client_address=None)


def list_events(
    session: Session,
    actor: Actor,
    *,
    entity: str | None = None,
    action: str | None = None,
    actor_id: int | None = None,
    company_id: int | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    actor_name: str | None = None,
    text: str | None = None,
    oldest_first: bool = False,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[AuditEvent], int]:
    """The trail across records, newest first (``oldest_first``: the other way), filtered
    (audit readers only): ``actor_name`` is the user's name as recorded (a failed sign-in's
    name tried too), ``text`` part of the user's name or the reason, typed text matched
    literally (erp.search.contains_text). The creations
    of the master records a go-live import wrote in bulk are listed too, as each record's
    history presents them (``imported_creation``: action ``create``, who and when the
    import's), right after the import's own row; they match the filters by the import's user
    and time and the record's company."""
    _require_reader(actor)
    conditions: list[ColumnElement[bool]] = [true()]
    for column, wanted in ((AuditEvent.entity, entity), (AuditEvent.action, action),
                           (AuditEvent.actor_id, actor_id), (AuditEvent.company_id, company_id)):
        if wanted is not None:
            conditions.append(column == wanted)
    if since is not None:
        conditions.append(AuditEvent.occurred_at >= since)
    if until is not None:
        conditions.append(AuditEvent.occurred_at < until)
    if actor_name:
        conditions.append(AuditEvent.actor_name == actor_name)
    if text:
        conditions.append(contains_text(text, AuditEvent.actor_name, AuditEvent.reason))
    creations = _imported_creations(entity=entity, action=action, actor_id=actor_id, company_id=company_id,
                                    since=since, until=until, actor_name=actor_name, text=text)
    if not creations:
        return _page(session, select(AuditEvent).where(*conditions), offset, limit, oldest_first=oldest_first)
    # One ordered list of keys (the stored rows', and each imported record's under its import's
    # row), counted and paged in the database; then the page's entries themselves.
    stored = select(AuditEvent.id.label("id"), literal(0).label("imported"), AuditEvent.entity.label("entity"),
                    AuditEvent.entity_id.label("entity_id")).where(*conditions)
    keys = union_all(stored, *creations).subquery()
    rows, total = page(session, select(keys.c.id, keys.c.imported, keys.c.entity, keys.c.entity_id)
                       .order_by(*((keys.c.id, keys.c.imported.desc(), keys.c.entity.desc(), keys.c.entity_id)
                                   if oldest_first else
                                   (keys.c.id.desc(), keys.c.imported, keys.c.entity, keys.c.entity_id.desc()))),
                       offset=offset, limit=limit)
    found = {event.id: event for event in session.scalars(
        select(AuditEvent).where(AuditEvent.id.in_([row.id for row in rows if not row.imported])))}
    events = [found.get(row.id) if not row.imported else imported_creation(session, row.entity, row.entity_id)
              for row in rows]
    return [event for event in events if event is not None], total


def _imported_creations(*, entity: str | None, action: str | None, actor_id: int | None, company_id: int | None,
                        since: dt.datetime | None, until: dt.datetime | None, actor_name: str | None = None,
                        text: str | None = None) -> list[Select[Any]]:
    """The keys (the import's row id, 1, entity, record id) of the records imports created
    in bulk that match the filters: one SELECT per entity an import creates, each joining the
    records that carry an import to that import's audit row, set-based whatever the import's
    size. A record whose creation was stored as a row of its own is left out (it is listed
    as that row), as ``imported_creation`` does; a deleted record too (not in its table)."""
    if action not in (None, CREATE):
        return []
    selects = []
    for slug, table in sorted(CREATED_BY_IMPORT.items()):
        if entity not in (None, slug):
            continue
        imported = AuditEvent.__table__.alias("imported")
        created = AuditEvent.__table__.alias("created")
        query = (select(imported.c.id.label("id"), literal(1).label("imported"), literal(slug).label("entity"),
                        table.c.id.label("entity_id"))
                 .join_from(table, imported, and_(imported.c.entity == IMPORT, imported.c.action == IMPORTED,
                                                  imported.c.entity_id == table.c.import_batch_id))
                 .where(~exists().where(created.c.entity == slug, created.c.entity_id == table.c.id,
                                        created.c.action == CREATE)))
        if actor_id is not None:
            query = query.where(imported.c.actor_id == actor_id)
        if company_id is not None:
            if "company_id" not in table.c:
                continue  # records of no company (materials, partners): never of the company asked for
            query = query.where(table.c.company_id == company_id)
        if actor_name:
            query = query.where(imported.c.actor_name == actor_name)
        if text:
            query = query.where(contains_text(text, imported.c.actor_name, imported.c.reason))
        if since is not None:
            query = query.where(imported.c.occurred_at >= since)
        if until is not None:
            query = query.where(imported.c.occurred_at < until)
        selects.append(query)
    return selects
