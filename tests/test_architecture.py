"""The shape of the code: dependencies point one way, there are no import cycles, and only
the posting module writes the stock ledger, balances, period totals and journal."""

from __future__ import annotations

import ast
import datetime as dt
import sys
from pathlib import Path

import grimp
import pytest
from importlinter.cli import lint_imports
from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from erp.posting.models import JournalEntry
from tests import posting_guard

ROOT = Path(__file__).resolve().parent.parent
ERP = ROOT / "erp"


# --- one direction of dependencies -----------------------------------------------------------

def test_import_contracts_hold() -> None:
    """The import-linter contracts in pyproject.toml: credit > inventory > purchasing and
    costing > posting > master data, and neither posting nor any service imports the web
    edge or Flask."""
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True) == 0


def import_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Every set of modules that import each other, directly or through others (strongly
    connected components of more than one module; imports inside functions count)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = 0

    def visit(module: str) -> None:
        nonlocal counter
        index[module] = low[module] = counter
        counter += 1
        stack.append(module)
        on_stack.add(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10_000))
    try:
        for module in sorted(graph.modules):
            if module not in index:
                visit(module)
    finally:
        sys.setrecursionlimit(limit)
    return cycles


def test_no_module_imports_itself_through_others() -> None:
    assert import_cycles(grimp.build_graph("erp")) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = grimp.ImportGraph()
    for module in ("a", "b", "c", "d"):
        graph.add_module(module)
    graph.add_import(importer="a", imported="b")
    graph.add_import(importer="b", imported="c")
    graph.add_import(importer="c", imported="a")
    graph.add_import(importer="c", imported="d")
    assert import_cycles(graph) == [["a", "b", "c"]]


# --- only the posting module writes the books: statically ------------------------------------

POSTING_MODELS = frozenset({"StockDocument", "StockMovement", "StockBalance", "PeriodMovementTotal", "JournalEntry",
                            "JournalLine"})
WRITE_CALLS = frozenset({"insert", "update", "delete", "dialect_insert"})


def writes_in(source: str) -> list[str]:
    """Writes of the posting tables in Python source: insert/update/delete/dialect_insert
    of a posting model (or its __table__), ``session.add`` of one, or SQL text writing
    one of the tables."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            named = {n.id for arg in node.args for n in ast.walk(arg) if isinstance(n, ast.Name)}
            if name in WRITE_CALLS and named & POSTING_MODELS:
                found.append(f"line {node.lineno}: {name}({', '.join(sorted(named & POSTING_MODELS))})")
            if name in ("add", "add_all") and named & POSTING_MODELS:
                found.append(f"line {node.lineno}: session.{name} of {', '.join(sorted(named & POSTING_MODELS))}")
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and posting_guard.tables_written(node.value):
            found.append(f"line {node.lineno}: SQL writing {sorted(posting_guard.tables_written(node.value))}")
    return found


def test_no_module_but_posting_writes_the_books_in_its_source() -> None:
    offenders = {
        str(path.relative_to(ROOT)): writes
        for path in sorted(ERP.rglob("*.py"))
        if "posting" not in path.relative_to(ERP).parts[:1]
        and (writes := writes_in(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}


def test_the_source_scan_finds_writes() -> None:
    source = (
        "session.execute(insert(JournalLine).values(amount=1))\n"
        "session.execute(update(StockBalance.__table__).values(quantity=0))\n"
        "session.add(JournalEntry(memo='x'))\n"
        "session.execute(text('DELETE FROM stock_movements'))\n"
        "session.execute(insert(Invoice).values(amount=1))\n"
    )
    assert sorted(w.split(":")[0] for w in writes_in(source)) == ["line 1", "line 2", "line 3", "line 4"]


# --- only the posting module writes the books: every statement the suite runs -------------------

def test_a_write_from_another_module_is_refused(session_factory: sessionmaker[Session]) -> None:
    """The check installed for the whole suite (tests/posting_guard.py) refuses a journal
    entry written by code of another erp module (erp.posting's own writes pass in every
    other test of the suite)."""
    rogue = "def write(session, statement):\n    session.execute(statement)\n"
    statement = insert(JournalEntry).values(company_id=1, entry_date=dt.date(2026, 11, 20), period="2026-11",
                                            source_type="rogue", memo="")
    costing: dict[str, object] = {"__name__": "erp.costing.rogue"}
    exec(compile(rogue, "erp/costing/rogue.py", "exec"), costing)  # noqa: S102 - code pretending to be costing's
    start = len(posting_guard.violations)
    with session_factory() as session, session.begin():
        with pytest.raises(AssertionError, match="erp.costing.rogue writes"):
            costing["write"](session, statement)  # type: ignore[operator]
    assert len(posting_guard.violations) == start + 1
    del posting_guard.violations[start:]  # seen and expected: not this test's failure

    assert posting_guard.writing_module(sys._getframe()) is None  # a test's own frame is no module of erp
    assert posting_guard.tables_written("WITH doc AS (INSERT INTO stock_documents (id) VALUES (1)) SELECT 1") \
        == {"stock_documents"}
    assert posting_guard.tables_written("SELECT 1 FROM stock_balances FOR UPDATE") == set()


def test_every_import_of_erp_names_resolves() -> None:
    """Imports inside functions run only when the function does: a name that moved (as the
    period lock and the standard price moved into erp.posting) must not be left behind."""
    import importlib

    broken = []
    for path in sorted(ERP.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("erp") and not node.level:
                module = importlib.import_module(node.module)
                for alias in node.names:
                    if alias.name != "*" and not hasattr(module, alias.name):
                        try:
                            importlib.import_module(f"{node.module}.{alias.name}")
                        except ImportError:
                            broken.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.module}.{alias.name}")
    assert broken == []


def test_business_dates_come_from_the_one_clock() -> None:
    """No module reads the system clock for a date: "today" is the business day in Beijing
    (erp/clock.py), which tests pin; timestamps come from erp.db.utcnow."""
    import re

    reads_the_clock = re.compile(r"\b(date\.today|datetime\.now|datetime\.utcnow|datetime\.today|time\.localtime)\(")
    allowed = {ERP / "clock.py", ERP / "db.py"}
    found = [f"{path.relative_to(ROOT)}:{number}"
             for path in sorted(ERP.rglob("*.py")) if path not in allowed
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
             if reads_the_clock.search(line)]
    assert found == []


# Where a transaction may begin other than through erp.db.in_transaction (which the views'
# @transaction, commands' and jobs' committed() use), and why.
OWN_TRANSACTIONS = {
    "erp/db.py": "in_transaction itself",
    "erp/migrate.py": "Alembic's migrations, on a connection",
    "erp/jobs/runner.py": "a job's progress and its outcome, on a connection of their own beside the job's work",
    "erp/ui/exports.py": "rows read while the file streams, after the view's transaction has ended",
    "erp/golive/export_api.py": "rows read while the file streams, after the view's transaction has ended",
    "erp/golive/framework.py": "an import reads its file as a stream inside its one transaction: nothing to rerun",
}


def test_transactions_begin_in_one_place() -> None:
    """Views, commands and jobs never begin a transaction themselves: a view is decorated
    ``@transaction`` (erp.web), a command or a job calls ``erp.db.committed``, so that every
    use case commits in one visible place and is run once more on a deadlock or a
    serialization failure. Savepoints (``begin_nested``) are the views' own business."""
    found = []
    for path in sorted(ERP.rglob("*.py")):
        name = str(path.relative_to(ROOT))
        if name in OWN_TRANSACTIONS:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "begin"
                    and not node.args):
                found.append(f"{name}:{node.lineno} {ast.unparse(node)}")
    assert found == []


# --- a row locked is read again ---------------------------------------------------------------

# Locks whose statement does not say populate_existing, and why nothing read is stale.
LOCKED_ELSEWHERE = {
    "erp/posting/stock.py:lock_balances": "columns only (_held_stock_query: HeldStock tuples), no entity",
    "erp/posting/stock.py:_lock_stock_once": "columns only (_held_stock_query: HeldStock tuples), no entity",
}


def _select_of_columns_only(call: ast.expr) -> bool:
    """Is the chain under ``call`` built on ``select(A.x, B.y, ...)`` (columns, no entity)? Its
    rows are tuples: nothing in the session's identity map to be stale."""
    node = call
    while isinstance(node, ast.Call | ast.Attribute):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "select":
            return bool(node.args) and all(isinstance(arg, ast.Attribute) for arg in node.args)
        node = node.func if isinstance(node, ast.Call) else node.value
    return False


def stale_locks_in(source: str) -> list[str]:
    """Row locks in ``source`` that may hand back what the session read before the lock:
    ``.with_for_update(...)`` of entities, or ``session.get(..., with_for_update=...)``, whose
    statement does not say ``populate_existing``."""
    found: list[str] = []
    tree = ast.parse(source)
    functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    statements = [n for n in ast.walk(tree) if isinstance(n, ast.stmt) and not isinstance(
        n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.If | ast.For | ast.While | ast.With
        | ast.Try)]
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        name = node.func.attr
        if name == "with_for_update":
            if _select_of_columns_only(node.func.value):
                continue
        elif name == "get" and any(k.arg == "with_for_update" for k in node.keywords):
            if any(k.arg == "populate_existing" for k in node.keywords):
                continue
        else:
            continue
        statement = min((s for s in statements if s.lineno <= node.lineno <= (s.end_lineno or s.lineno)),
                        key=lambda s: (s.end_lineno or s.lineno) - s.lineno, default=None)
        if statement is not None and "populate_existing" in ast.unparse(statement):
            continue
        function = min((f for f in functions if f.lineno <= node.lineno <= (f.end_lineno or f.lineno)),
                       key=lambda f: (f.end_lineno or f.lineno) - f.lineno, default=None)
        found.append(f"{function.name if function else '<module>'}:{node.lineno}")
    return found


def test_every_row_lock_reads_the_row_again() -> None:
    """A row read into the session before it is locked (a page resolving a number, showing the
    row) is handed back as read unless the locking statement says ``populate_existing``: a
    change committed while the lock waited is then invisible, and written over (a credit memo
    undoing a payment, an order cancelled with goods received: tests/service/test_stale_locks.py).
    Every lock of entities says it, in its own statement (docs/architecture.md)."""
    found = []
    for path in sorted(ERP.rglob("*.py")):
        name = str(path.relative_to(ROOT))
        for where in stale_locks_in(path.read_text(encoding="utf-8")):
            function, line = where.split(":")
            if f"{name}:{function}" not in LOCKED_ELSEWHERE:
                found.append(f"{name}:{line} ({function})")
    assert found == []


def test_the_lock_scan_finds_locks_that_do_not_read_again() -> None:
    source = (
        "def a(session):\n"
        "    return session.get(Invoice, 1, with_for_update=True)\n"
        "def b(session):\n"
        "    return session.scalars(select(Invoice).where(Invoice.id == 1).with_for_update()).one()\n"
        "def c(session):\n"
        "    return session.get(Invoice, 1, with_for_update=True, populate_existing=True)\n"
        "def d(session):\n"
        "    return session.scalars(select(Invoice).with_for_update().execution_options(populate_existing=True))\n"
        "def e(session):\n"
        "    session.execute(select(Invoice.id).where(Invoice.id == 1).with_for_update())\n"
        "def f(session, query):\n"
        "    query = query.with_for_update(of=Invoice)\n"
    )
    assert sorted(stale_locks_in(source)) == ["a:2", "b:4", "f:12"]
