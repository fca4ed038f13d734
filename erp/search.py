"""A list's search box in SQL: the typed text anywhere in any of some columns.

The text is matched literally: ``%`` and ``_`` typed by a user mean themselves, not LIKE's
wildcards (a search for ``10%`` finds the 10% items only, a search for ``A_1`` does not
also find ``AB1``), upper or lower case alike, the same on PostgreSQL and SQLite.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_
from sqlalchemy.sql.elements import ColumnElement


def contains_text(text: str, *columns: Any) -> ColumnElement[bool]:
    """``text`` anywhere in one of ``columns`` (SQL expressions of a string type), case
    aside; LIKE's wildcards and escape character in ``text`` are escaped."""
    return or_(*(column.icontains(text, autoescape=True) for column in columns))
