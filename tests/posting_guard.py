"""Only the posting module writes the books: a check on every SQL statement the tests run.

The mechanism: a SQLAlchemy ``before_cursor_execute`` listener on every engine reads each
statement about to be sent, finds the tables it writes (``INSERT INTO``, ``UPDATE``,
``DELETE FROM``, data-modifying CTEs included) and, when one of them is a posting table,
walks the Python stack to the innermost frame of Heyi's own code (a module under
``erp``). That frame must belong to ``erp.posting``; anything else is recorded as a
violation and the statement is refused. Statements issued by tests themselves (fixtures
that empty the database, tests that corrupt a balance on purpose) have no ``erp`` frame
and pass, and so do migrations (``erp.migrate``, the schema's owner).

Why this and not database privileges: the rule is about which *module* writes, inside one
application connected as one role. A dedicated database role switched on by the posting
module (SET LOCAL ROLE) would cost two round trips per posting on the receipts hot path,
would not exist on SQLite, and the test suite connects as the superuser, which privileges
do not bind. Reading the statements covers both databases, every path the suite
exercises, including ORM flushes and raw SQL, at no cost to production code; the static
scan in tests/test_architecture.py covers code the suite does not run.
"""

from __future__ import annotations

import re
import sys
from typing import Any

from sqlalchemy import Engine, event

POSTING_TABLES = frozenset({
    "stock_documents", "stock_movements", "stock_balances", "period_movement_totals", "journal_entries",
    "journal_lines",
})
ALLOWED_WRITERS = ("erp.posting", "erp.migrate")
_WRITES = re.compile(r'\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)

violations: list[str] = []


def tables_written(statement: str) -> set[str]:
    """The posting tables a SQL statement writes."""
    return {name.lower() for name in _WRITES.findall(statement)} & POSTING_TABLES


def writing_module(frame: Any) -> str | None:
    """The innermost module of Heyi's own code (``erp`` or ``erp.*``) on the stack, if any."""
    while frame is not None:
        name = frame.f_globals.get("__name__", "")
        if name == "erp" or name.startswith("erp."):
            return name  # type: ignore[no-any-return]
        frame = frame.f_back
    return None


def allowed(module: str | None) -> bool:
    return module is None or any(module == a or module.startswith(a + ".") for a in ALLOWED_WRITERS)


def _check(_conn: Any, _cursor: Any, statement: str, _parameters: Any, _context: Any, _executemany: bool) -> None:
    written = tables_written(statement)
    if not written:
        return
    module = writing_module(sys._getframe(1))
    if allowed(module):
        return
    message = f"{module} writes {sorted(written)} outside erp.posting: {' '.join(statement.split())[:200]}"
    violations.append(message)
    raise AssertionError(message)


def install() -> None:
    if not event.contains(Engine, "before_cursor_execute", _check):
        event.listen(Engine, "before_cursor_execute", _check)
