"""Unique values written at the same moment: the database's refusal as the rule's problem.

Services check a unique value (a code, a USCC, an old invoice number, a document number)
before writing it, and refuse a repeat with the rule's own problem. Two transactions can
both pass that check at the same moment; the unique index then refuses the one that
writes second. That is the same broken rule, found later, so it gets the same answer:
``refusal_for`` turns the ``IntegrityError`` into the rule's problem, found by the name of
the index, and the API, the pages and jobs (imports among them) answer it as a 409 with the
rule's type, never as an internal error.

Each module names its unique indexes beside its refusal classes (``unique_refusal`` in its
``errors.py``). A unique index nobody named still answers the generic ``conflict``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from erp.errors import Conflict, DomainError
from erp.messages import N_, Message

UNIQUE_VIOLATION = "23505"  # PostgreSQL's SQLSTATE for unique_violation
# "Key (company_id, reference)=(1, OLD-1) already exists." (PostgreSQL's DETAIL)
_KEY_DETAIL = re.compile(r"^Key \((?P<columns>.*)\)=\((?P<values>.*)\) already exists\.?$", re.DOTALL)
_SQLITE_UNIQUE = "UNIQUE constraint failed: "

WRITTEN_AT_ONCE = N_("{value} was written at the same moment by another user; nothing was written")


@dataclass(frozen=True)
class UniqueRule:
    """What a unique index stands for: the refusal of a repeat and its message (a template
    whose ``{value}`` is the repeated value, the index's last column)."""

    refusal: type[DomainError]
    message: str


_RULES: dict[str, UniqueRule] = {}


def unique_refusal(index: str, refusal: type[DomainError], message: str) -> None:
    """Name the rule a unique index (or constraint) keeps: a write the index refuses is
    answered with ``refusal`` and ``message`` (``{value}``: the value repeated)."""
    _RULES[index] = UniqueRule(refusal, message)


@dataclass(frozen=True)
class UniqueViolation:
    """The unique index a write broke and the values it repeated, by column (when the
    database says which)."""

    index: str | None
    values: dict[str, str]

    @property
    def value(self) -> str:
        """The repeated value that names the record: the key's last column (a code, a
        number: the columns before it scope it, such as the company)."""
        return list(self.values.values())[-1] if self.values else "?"


def unique_violation(error: IntegrityError) -> UniqueViolation | None:
    """The unique index ``error`` reports as broken, or None for other integrity errors
    (a foreign key, a check)."""
    original: Any = error.orig
    diag = getattr(original, "diag", None)
    if diag is not None:  # PostgreSQL (psycopg)
        if getattr(original, "sqlstate", None) != UNIQUE_VIOLATION:
            return None
        values: dict[str, str] = {}
        match = _KEY_DETAIL.match(diag.message_detail or "")
        if match is not None:
            columns = [c.strip() for c in match["columns"].split(",")]
            parts = match["values"].split(", ")
            # A value holding ", " cannot be told apart from the next: then the whole key is the value.
            values = dict(zip(columns, parts)) if len(parts) == len(columns) else {"key": match["values"]}
        return UniqueViolation(diag.constraint_name, values)
    text = str(original or "")
    if text.startswith(_SQLITE_UNIQUE):  # SQLite names the columns, not the index
        qualified = [c.strip() for c in text[len(_SQLITE_UNIQUE):].split(",")]
        table = qualified[0].split(".", 1)[0]
        return UniqueViolation(_index_of(table, [c.split(".", 1)[-1] for c in qualified]), {})
    return None


def _index_of(table_name: str, columns: list[str]) -> str | None:
    from erp.db import Base

    table = Base.metadata.tables.get(table_name)
    if table is None:
        return None
    for constraint in [*table.constraints, *(i for i in table.indexes if i.unique)]:
        names = [c.name for c in getattr(constraint, "columns", ())]
        if names == columns and getattr(constraint, "name", None):
            return str(constraint.name)
    return None


def refusal_for(error: IntegrityError) -> DomainError | None:
    """The rule's problem for a unique index's refusal (409), the generic ``conflict`` for an
    index no module named, None for other integrity errors."""
    violation = unique_violation(error)
    if violation is None:
        return None
    rule = _RULES.get(violation.index or "")
    if rule is None:
        return Conflict(Message(WRITTEN_AT_ONCE, value=violation.value))
    message = Message(rule.message, value=violation.value)
    column = list(violation.values)[-1] if violation.values else None
    errors = [{"pointer": f"/{column}", "detail": message}] if column and column != "key" else None
    return rule.refusal(message, errors=errors)


def flush_unique(session: Session) -> None:
    """Flush the session's changes; a unique index's refusal (another transaction wrote the
    same value first) raised as its rule's problem, as the service's own check would have."""
    try:
        session.flush()
    except IntegrityError as exc:
        refusal = refusal_for(exc)
        if refusal is None:
            raise
        raise refusal from exc
