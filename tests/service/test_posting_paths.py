"""The PostgreSQL fast path and the portable path of erp.posting write the same rows.

The same documents are posted twice on empty books, once through the one-statement fast
path and once through the portable path forced on PostgreSQL (``portable_path()``), and
every row of every posting table is compared, column by column (all but the creation
instant). On SQLite only the portable path exists, so these tests need PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import nullcontext
from decimal import Decimal as D
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg._queries import MAX_CACHED_STATEMENT_LENGTH, MAX_CACHED_STATEMENT_PARAMS
from sqlalchemy import event, select
from sqlalchemy.orm import Session, sessionmaker

from erp.costing.close import close_period, reopen_period
from erp.costing.standards import PriceChange, set_standard_prices
from erp.inventory import services
from erp.posting import portable_path, writer
from erp.posting.models import (
    JournalEntry,
    JournalLine,
    PeriodMovementTotal,
    StockBalance,
    StockDocument,
    StockMovement,
)
from tests.conftest import FreshDatabase
from tests.credit import new_order, pay, ship
from tests.service.test_ledger import EXPIRIES, Sequence, operations, set_awkward_standards
from tests.stock import EXPIRES, MADE, NOV_20, open_order, set_standard
from tests.world import World, build_world

pytestmark = pytest.mark.postgres

TABLES = (StockDocument, StockMovement, StockBalance, PeriodMovementTotal, JournalEntry, JournalLine)

# One of every kind of stock posting (as in test_ledger's hand-picked sequence).
EVERY_KIND = [
    ("receive", "api_central", D("40"), "P1", EXPIRIES[0]),
    ("release", "api_central", "A-COOL", "P1", D("30")),
    ("reject", "api_central", "A-COOL", "P1", None),
    ("return_to_supplier", 0, D("4")),
    ("issue", "api_central", "A-COOL", D("5"), None),
    ("transfer", "api_central", "A-COOL", "A-COLD", D("5"), "P1"),
    ("count", "api_central", "A-COLD", D("1"), False, "P1"),
    ("count", "api_central", "A-COLD", D("2.5"), True, "P1"),
    ("reverse_issue", 0),
    ("receive", "pkg_loose", D("3"), "P1", EXPIRIES[0]),
    ("reverse_receipt", 1),
    ("receive", "exc_local", D("120.5"), "P2", EXPIRIES[1]),
    ("issue", "exc_local", "A-AMB", D("7.25"), None),
]


def every_row(session: Session) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every posting table, in id order, without the creation instant."""
    rows = {}
    for model in TABLES:
        table = model.__table__
        columns = [c for c in table.c if c.name != "created_at"]
        rows[table.name] = [tuple(row) for row in session.execute(select(*columns).order_by(*table.primary_key))]
    return rows


def month_end(session_factory: sessionmaker[Session], world: World) -> None:
    """A price change for December, November's close (which restates the stock at it) and
    the close reopened (which reverses the close's entry and the restatement)."""
    with session_factory() as session, session.begin():
        set_standard_prices(session, world.actors["cost_a"], company_id=world.companies["A"], period="2026-12",
                            prices=[PriceChange(world.materials["api_central"], D("55.5"))])
    with session_factory() as session, session.begin():
        close_period(session, world.actors["cost_a"], company_id=world.companies["A"], period="2026-11")
    with session_factory() as session, session.begin():
        reopen_period(session, world.actors["cost_group"], company_id=world.companies["A"], period="2026-11",
                      reason="late invoice")


def post_everything(fresh_database: FreshDatabase, played: list[tuple[Any, ...]], *, portable: bool,
                    with_sales: bool = True) -> dict[str, list[tuple[Any, ...]]]:
    session_factory = fresh_database()
    world = set_awkward_standards(session_factory, build_world(session_factory))
    with portable_path() if portable else nullcontext():
        sequence = Sequence(session_factory, world, {"exc_local": D("8.75"), "api_central": D("51.2"),
                                                     "pkg_loose": D("0.41")})
        for operation in played:
            sequence.play(operation)
        if with_sales:
            # shipment (stock out + invoice), payment with credit left over: journal-only postings
            order = new_order(session_factory, world, lines=[("10", "13.33")], confirm=True).order
            ship(session_factory, world, order.id, ["10"], day=dt.date(2026, 11, 25))
            pay(session_factory, world, "200.00", day=dt.date(2026, 11, 26))
            month_end(session_factory, world)
    with session_factory() as session:
        return every_row(session)


def counting_fast_path(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    original: Callable[..., Any] = writer._write_in_one_statement

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(writer, "_write_in_one_statement", counted)
    return calls


def test_both_paths_write_the_same_rows_for_every_kind_of_posting(
    fresh_database: FreshDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast_calls = counting_fast_path(monkeypatch)
    fast = post_everything(fresh_database, EVERY_KIND, portable=False)
    used_fast = len(fast_calls)
    portable = post_everything(fresh_database, EVERY_KIND, portable=True)
    assert used_fast >= len(EVERY_KIND) and len(fast_calls) == used_fast  # each path really ran
    assert {table: len(rows) for table, rows in portable.items()} == {table: len(rows) for table, rows in fast.items()}
    assert all(fast.values()), {table: len(rows) for table, rows in fast.items()}
    for table in fast:
        assert portable[table] == fast[table], table
    # journal-only postings (invoice, payment, the close and its reversal) are in there too
    sources = {row[4] for row in fast["journal_entries"]}
    assert {"stock_document", "invoice", "payment", "period_close", "period_reopen"} <= sources


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(played=st.lists(operations, min_size=10, max_size=30))
def test_both_paths_write_the_same_rows_for_any_sequence_of_postings(
    fresh_database: FreshDatabase, played: list[tuple[Any, ...]]
) -> None:
    fast = post_everything(fresh_database, played, portable=False, with_sales=False)
    portable = post_everything(fresh_database, played, portable=True, with_sales=False)
    assert portable == fast


def test_a_receipts_one_statement_is_within_what_psycopg_caches_the_parsing_of(
    session_factory: sessionmaker[Session], world: World
) -> None:
    """psycopg parses a statement's text in Python on every execution unless it is at most
    4,096 bytes with at most 50 parameters (then the parsing is cached): about a thousand
    calls a receipt. The receipt's posting statement, with every field of a receipt filled
    (a delivery note of the longest length), stays within both."""
    set_standard(session_factory, world, "api_central", "52.00")
    (line,) = open_order(session_factory, world, [("api_central", "200", "55.50", "A-COOL")])
    sent: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        sent.append((statement, parameters))

    with session_factory() as session, session.begin():
        engine = session.get_bind()
        event.listen(engine, "before_cursor_execute", capture)
        try:
            services.receive_goods(session, world.actors["clerk_a"], services.ReceiptRequest(
                po_line_id=line, quantity=D("120"), posting_date=NOV_20, batch_number="B-" + "9" * 30,
                manufacture_date=MADE, expiry_date=EXPIRES, delivery_note="N" * 64))
        finally:
            event.remove(engine, "before_cursor_execute", capture)
    (posting,) = [(s, p) for s, p in sent if "INSERT INTO stock_movements" in s]
    statement, parameters = posting
    assert len(statement.encode()) <= MAX_CACHED_STATEMENT_LENGTH, len(statement.encode())
    assert len(parameters) <= MAX_CACHED_STATEMENT_PARAMS, sorted(parameters)
    assert parameters["d_delivery_note"] == "N" * 64  # the longest receipt was the one measured
