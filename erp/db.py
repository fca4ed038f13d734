"""Database plumbing: the declarative base, the project's column types, engines and sessions.

Nothing here imports Flask: services, commands and benchmarks use the same engine setup.

Money and quantities are ``Decimal`` end to end. The type map below is the one place
that decides their precision:

- ``Money``: Numeric(18, 2), CNY amounts as posted (rounded half-up to 0.01);
- ``Quantity``: Numeric(18, 4), stock quantities in the material's unit;
- ``UnitPrice``: Numeric(18, 6), contract and standard prices per unit (prices of
  cheap packaging components need more than two places);
- ``Rate``: Numeric(20, 10), ratios such as the material cost variance rate.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from sqlalchemy import (
    BigInteger,
    Connection,
    Select,
    DateTime,
    Engine,
    Integer,
    MetaData,
    Numeric,
    String,
    create_engine,
    event,
    func,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Session, SessionTransaction, sessionmaker
from sqlalchemy.types import TypeDecorator

from erp.errors import AmountOutOfRange
from erp.messages import Message, Term
from erp.period import Period
from erp.sqlmath import register_sqlite_functions

log = logging.getLogger(__name__)
T = TypeVar("T")

Money = Annotated[Decimal, "money"]
Quantity = Annotated[Decimal, "quantity"]
UnitPrice = Annotated[Decimal, "unit_price"]
Rate = Annotated[Decimal, "rate"]
Code = Annotated[str, "code"]
# Surrogate keys of high-volume tables (ledger, journal) are 64-bit on PostgreSQL;
# SQLite only autoincrements a plain INTEGER PRIMARY KEY, which is 64-bit anyway.
BigId = Annotated[int, "bigid"]



class PeriodType(TypeDecorator[Period]):
    """An accounting period column: ``YYYY-MM`` text in the database, a ``Period`` in Python."""

    impl = String(7)
    cache_ok = True

    def process_result_value(self, value: str | None, dialect: Any) -> Period | None:
        return None if value is None else Period(value)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware instants, stored as timestamptz on PostgreSQL and UTC text on SQLite.

    SQLite has no time zones and hands back naive values; this type normalises both ways
    so that code never compares a naive and an aware datetime.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use erp.db.utcnow()")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


# SQLite's NUMERIC columns hold binary floats (pysqlite is handed Decimals as floats): a
# decimal of up to 15 significant digits comes back as written, a longer one rounded (the
# largest Numeric(18, 6) price, 999999999999.999999, comes back as 1000000000000). The edge
# refuses longer decimals on SQLite (erp.schemas.DecimalString) rather than store them changed.
SQLITE_EXACT_DIGITS = 15

MONEY = Numeric(18, 2)
QUANTITY = Numeric(18, 4)
UNIT_PRICE = Numeric(18, 6)
RATE = Numeric(20, 10)
BIG_ID = BigInteger().with_variant(Integer, "sqlite")


def largest_value(column: Numeric) -> Decimal:
    """The largest magnitude a Numeric(precision, scale) column stores: Numeric(18, 2)
    holds 9999999999999999.99. Input bounds and checks of computed amounts derive from it."""
    whole_digits = column.precision - column.scale
    return Decimal(10) ** whole_digits - Decimal(1).scaleb(-column.scale)

# Constraint names are fixed so that migrations written on one database apply to the other.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base for every Heyi table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        Money: MONEY,
        Quantity: QUANTITY,
        UnitPrice: UNIT_PRICE,
        Rate: RATE,
        Code: String(32),
        BigId: BIG_ID,
        dt.datetime: UTCDateTime(),
        Period: PeriodType(),
    }


def utcnow() -> dt.datetime:
    """The current instant, timezone-aware (stored as timestamptz)."""
    return dt.datetime.now(dt.UTC)


def _configure_sqlite(engine: Engine) -> None:
    """Make SQLite behave: enforce foreign keys and serialise writers.

    pysqlite's own transaction handling defers BEGIN until the first write, which lets two
    requests read the same balance and both write. Starting every transaction with
    BEGIN IMMEDIATE takes the database write lock up front, so on SQLite transactions run
    one at a time (PostgreSQL uses row locks instead). This is SQLAlchemy's documented
    recipe for pysqlite.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()
        register_sqlite_functions(dbapi_connection)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, *, echo: bool = False, **kwargs: Any) -> Engine:
    """An engine for ``url`` with the project's per-dialect settings."""
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_pre_ping", True)
    engine = create_engine(url, echo=echo, **kwargs)
    _notice_connections_lost_before_use(engine)
    return engine


# The server ended the session (pg_terminate_backend, a shutdown, a crash of another backend);
# class 08 (connection exceptions) is matched by its prefix.
LOST_CONNECTION_SQLSTATES = frozenset({"57P01", "57P02", "57P03"})
# Set on a pooled connection's record when it is checked out; cleared by its first statement.
_UNUSED = "erp_unused_since_checkout"


def _notice_connections_lost_before_use(engine: Engine) -> None:
    """SQLAlchemy's optimistic disconnect handling, made retryable: a connection the database
    dropped while it sat in the pool (a restart, a failover, an operator's
    pg_terminate_backend) fails at its first statement, before anything of the transaction
    reached the server. That error is marked (``lost_before_use``) so that the one place a
    transaction begins (``in_transaction``, ``begin_with``) runs it once more on a fresh
    connection, instead of testing every connection with a round trip at every checkout
    (``pool_pre_ping``). SQLAlchemy then invalidates the pool: every connection older than
    the failure is replaced at its next checkout."""

    @event.listens_for(engine, "checkout")
    def _checked_out(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        record.info[_UNUSED] = True

    # The mark is cleared once a statement has come back. On the dialect's execution hooks,
    # which call the driver as the dialect would: an engine-wide connection event
    # (after_cursor_execute) would turn on SQLAlchemy's event dispatch at every point of every
    # statement, begin and commit (issue #18's profile: some 370 Python calls per receipt).
    def _execute(cursor: Any, statement: str, parameters: Any, context: Any) -> bool:
        if context is None:  # SQLAlchemy's own side statements (a sequence's next value): the dialect runs them
            return False
        context.dialect.do_execute(cursor, statement, parameters, context)
        _used(context)
        return True

    def _execute_many(cursor: Any, statement: str, parameters: Any, context: Any) -> bool:
        context.dialect.do_executemany(cursor, statement, parameters, context)
        _used(context)
        return True

    def _execute_no_params(cursor: Any, statement: str, context: Any) -> bool:
        context.dialect.do_execute_no_params(cursor, statement, context)
        _used(context)
        return True

    def _used(context: Any) -> None:
        try:
            info = context.root_connection.info
        except NotImplementedError:  # the dialect's first connection, read before it is pooled
            return
        if _UNUSED in info:
            del info[_UNUSED]

    event.listen(engine, "do_execute", _execute)
    event.listen(engine, "do_executemany", _execute_many)
    event.listen(engine, "do_execute_no_params", _execute_no_params)

    @event.listens_for(engine, "handle_error")
    def _lost(context: Any) -> None:
        sqlstate = getattr(context.original_exception, "sqlstate", None) or ""
        if sqlstate.startswith("08") or sqlstate in LOST_CONNECTION_SQLSTATES:
            context.is_disconnect = True  # psycopg may not yet have marked the connection broken
        if not context.is_disconnect or context.sqlalchemy_exception is None or context.connection is None:
            return
        try:
            unused = context.connection.info.get(_UNUSED, False)
        except Exception:  # noqa: BLE001 - already closed: then we cannot tell, and do not retry
            unused = False
        if unused:
            context.sqlalchemy_exception.lost_before_use = True


# Statements a safe request (GET, HEAD) may run on its autocommit connection.
_READING = re.compile(r"\s*(SELECT|WITH|SHOW|VALUES|EXPLAIN)\b", re.IGNORECASE)
# What only a transaction gives a read: row locks held to its end, transaction-local settings.
_NEEDS_TRANSACTION = re.compile(r"\bFOR\s+(NO\s+KEY\s+)?(UPDATE|SHARE|KEY\s+SHARE)\b|\bset_config\s*\(", re.IGNORECASE)


class WriteInSafeRequest(RuntimeError):
    """A GET or HEAD tried to write: a bug (its statements run without a transaction)."""


def autocommit_reads(engine: Engine) -> Engine:
    """The engine's pool seen through autocommit connections, for requests that only read
    (the API's GET and HEAD): psycopg then sends no BEGIN and no COMMIT, each statement is
    its own transaction, and a one-row read costs the token check and the read, two round
    trips instead of four.

    What a transaction gave those reads and what is lost: PostgreSQL's READ COMMITTED (the
    level every transaction here runs at) takes a new snapshot for each statement, so the
    token check and the read never shared one; each still sees everything committed before
    it began, and the token is checked before the read starts, as before. Lost are atomic
    writes, savepoints, locks held to the commit, transaction-local settings and temporary
    tables. A statement that would write, or that needs one of those (a savepoint, ``FOR
    UPDATE``/``FOR SHARE``, ``set_config``), is refused before it is sent
    (``WriteInSafeRequest``, a 500: a bug), so the loss cannot go unnoticed; a GET whose
    service needs a transaction (the close preview) is marked ``erp.web.reads_in_transaction``
    and served on a transactional session."""
    reads = engine.execution_options(isolation_level="AUTOCOMMIT")

    @event.listens_for(reads, "before_cursor_execute")
    def _reads_only(_connection: Any, _cursor: Any, statement: str, _parameters: Any, context: Any,
                    _executemany: bool) -> None:
        if (context is not None and (context.isinsert or context.isupdate or context.isdelete)) \
                or not _READING.match(statement) or _NEEDS_TRANSACTION.search(statement):
            raise WriteInSafeRequest(f"a safe request (GET, HEAD) may only read: {statement[:200]}")

    return reads


def lost_before_use(error: BaseException) -> bool:
    """Whether ``error`` is a connection the database had dropped, found so at the first
    statement after it left the pool: nothing of the transaction reached the server, so
    running it again on a fresh connection is safe (any method, any statement)."""
    return isinstance(error, DBAPIError) and getattr(error, "lost_before_use", False)


class DriverRead:
    """A read the API runs on every request (the token check, a standard price, a customer's
    exposure), sent on PostgreSQL straight to psycopg on the connection of the caller's own
    transaction: the SQL compiled once, plain tuples back, none of SQLAlchemy's per-statement
    Python (its cache key walk of the statement, the execution context, the result's
    metadata built from the cursor's description: about 48 us of CPU against 20 us for the
    token check's statement, issue #18). The same statement and the same transaction: what
    it reads is what ``connection.execute(statement)`` would read, committed or this
    transaction's own flushed writes.

    What stays as SQLAlchemy's: the ``before_cursor_execute`` listeners run (the safe
    requests' write guard, the tests' statement counters); a driver error goes through the
    connection's own handling (wrapped as ``DBAPIError``, a disconnect invalidates the
    pool and is marked ``lost_before_use`` when it was the connection's first statement);
    a successful read clears that mark as any statement does.

    Values come as psycopg gives them: ``Decimal`` for numeric, ``bool``, ``int``, ``str``,
    and timezone-aware datetimes in the session's time zone (callers normalise to UTC, as
    ``UTCDateTime`` does). On any other database (SQLite, the zero-setup default) ``rows``
    runs the statement through SQLAlchemy, whose types give the same values."""

    def __init__(self, statement: Any) -> None:
        self.statement = statement
        self._sql: dict[Any, tuple[str, dict[str, Any]]] = {}

    def _compile(self, dialect: Any) -> tuple[str, dict[str, Any]]:
        """The SQL for ``dialect`` and the values of the binds the statement carries itself
        (a ``LIMIT 1`` is sent as a parameter)."""
        compiled = self.statement.compile(dialect=dialect)
        fixed = {compiled.bind_names[bind]: bind.effective_value for bind in compiled.binds.values()
                 if not bind.required}
        return str(compiled), fixed

    def rows(self, connection: Connection, parameters: dict[str, Any]) -> list[Any]:
        """Every row of the statement with ``parameters`` (by bind name), as tuples."""
        dialect = connection.dialect
        if dialect.driver != "psycopg":
            return connection.execute(self.statement, parameters).all()  # type: ignore[return-value]
        compiled = self._sql.get(dialect)
        if compiled is None:
            compiled = self._sql[dialect] = self._compile(dialect)
        sql, fixed = compiled
        if fixed:
            parameters = {**fixed, **parameters}
        cursor = connection.connection.cursor()  # the DBAPI connection of this transaction
        try:
            before = connection.dispatch.before_cursor_execute
            if before:
                for listener in before:
                    listener(connection, cursor, sql, parameters, None, False)
            cursor.execute(sql, parameters)
            found = cursor.fetchall()
        except dialect.loaded_dbapi.Error as error:
            connection._handle_dbapi_exception(error, sql, parameters, cursor, None)  # raises DBAPIError
            raise  # pragma: no cover - it always raises
        finally:
            cursor.close()
        connection.info.pop(_UNUSED, None)
        return found


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded values after commit, so responses can be dumped afterwards."""
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)


# PostgreSQL aborts one of two transactions that cannot both commit as they ran: a
# serialization failure (40001) or a deadlock (40P01). Nothing of the aborted one was
# written, so running it again from the start is safe and usually succeeds.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})


def is_retryable(error: BaseException) -> bool:
    """Whether ``error`` is a serialization failure or a deadlock (safe to run again)."""
    return isinstance(error, DBAPIError) and getattr(error.orig, "sqlstate", None) in RETRYABLE_SQLSTATES


def begin_with(session: Session, first: Callable[[], T]) -> tuple[T, SessionTransaction]:
    """Begin a transaction of ``session`` that ``in_transaction(..., begun=)`` will finish,
    and run its first statements, ``first()``: returns what ``first`` returned and the open
    transaction. A pooled connection found dropped at the first statement (``lost_before_use``)
    is replaced and ``first`` run once more; any other error rolls back and is raised.

    The HTTP edge reads the caller's token in the transaction the view then writes in: one
    BEGIN and one COMMIT per request instead of two of each (issue #18's profile)."""
    for attempt in (1, 2):
        transaction = session.begin()
        try:
            return first(), transaction
        except DBAPIError as error:
            transaction.rollback()
            if attempt == 2 or not lost_before_use(error):
                raise
            log.warning("the database had dropped the pooled connection; running the first statement once more "
                        "on a fresh connection: %s", error.orig)
        except BaseException:
            transaction.rollback()
            raise
    raise AssertionError("unreachable")  # pragma: no cover


def in_transaction(session: Session, work: Callable[[], T], *, retry: bool = True,
                   reconnect: bool | None = None, begun: SessionTransaction | None = None) -> T:
    """Run ``work()`` in one transaction of ``session``: begun here (or ``begun`` by the
    HTTP edge, which read the caller's token in it), committed here when ``work`` returns,
    rolled back when it raises. This is the one place a use case commits (the HTTP edge's
    ``erp.web.transaction``, commands and jobs all come through here).

    With ``retry`` (the default), a serialization failure or deadlock (SQLSTATE 40001 or
    40P01) runs ``work`` once more in a fresh transaction; a second one is raised (the edge
    answers 409 ``retry``). So does a pooled connection the database had dropped, found so at
    the transaction's first statement (``lost_before_use``: nothing was sent before it); a
    connection lost later is raised (the edge answers 503, nothing of the request kept).
    ``reconnect`` (default: as ``retry``) decides that alone, for work that may not be run twice
    but does nothing outside the database before its first statement (a sign-in: it counts a
    failed attempt outside the database, after reading the user). Pass ``retry=False`` when ``work`` does something
    the rollback cannot undo (sends, streams or starts something outside the database)."""
    try:
        with begun if begun is not None else session.begin():
            return work()
    except DBAPIError as error:
        if lost_before_use(error) and (retry if reconnect is None else reconnect):
            log.warning("the database had dropped the pooled connection before the transaction's first statement; "
                        "running it once more on a fresh connection: %s", error.orig)
        elif retry and is_retryable(error):
            sqlstate = error.orig.sqlstate  # type: ignore[union-attr]
            log.info("transaction aborted by the database (%s), running it once more", sqlstate)
        else:
            raise
    with session.begin():
        return work()


def connected(engine: Engine, work: Callable[[Connection], T]) -> T:
    """``work(connection)`` in one transaction of a connection of ``engine`` of its own
    (a job's progress, the health check), once more on a fresh connection when the pooled
    one turns out dropped at its first statement (``lost_before_use``)."""
    try:
        with engine.begin() as connection:
            return work(connection)
    except DBAPIError as error:
        if not lost_before_use(error):
            raise
        log.warning("the database had dropped the pooled connection; once more on a fresh one: %s", error.orig)
    with engine.begin() as connection:
        return work(connection)


def committed(session_factory: Callable[[], Session], work: Callable[[Session], T], *, retry: bool = True) -> T:
    """Run ``work(session)`` in one transaction of a new session from ``session_factory``
    (closed afterwards): ``in_transaction`` for commands and jobs, which have no request."""
    with session_factory() as session:
        return in_transaction(session, lambda: work(session), retry=retry)


def page(session: Session, query: Select[Any], *, offset: int, limit: int,
         entities: bool = False) -> tuple[list[Any], int]:
    """One page of ``query`` (ordered by the caller) and how many rows it has in all, counted
    in the same statement (``count(*) OVER ()``); a second statement only for a page past
    the last row. ``entities``: the query selects one ORM entity, and the page is of those.
    Not for a query with DISTINCT (the window counts before it)."""
    counted = query.add_columns(func.count().over().label("total_rows")).offset(offset).limit(limit)
    rows = session.execute(counted).all()
    if rows:
        total = rows[0].total_rows
    elif offset == 0:
        total = 0
    else:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    return ([row[0] for row in rows] if entities else list(rows)), total


def dialect_insert(session: Session, table: Any) -> Any:
    """An INSERT construct that supports ``on_conflict_do_*`` on the session's dialect."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    # The product runs on PostgreSQL (production) and SQLite (the demo), nothing else.
    raise RuntimeError(f"unsupported database {name!r}: Heyi runs on PostgreSQL or SQLite")


def is_postgres(session: Session) -> bool:
    """Whether the session talks to PostgreSQL (row locks and real concurrency)."""
    return session.get_bind().dialect.name == "postgresql"


def require_amount_fits(amount: Decimal, *, field: str, what: str) -> Decimal:
    """``amount`` if a Money column can hold it; else 422 naming the input ``field`` that
    made it (quantity x price can pass every field's own bounds and still overflow)."""
    largest = largest_value(MONEY)
    if abs(amount) > largest:
        raise AmountOutOfRange(
            Message("the amount {amount} CNY is beyond the {largest} CNY an amount can be",
                    amount=amount.quantize(Decimal("0.01")), largest=largest),
            errors=[{"pointer": f"/{field}", "detail": Message("makes {what} larger than an amount can be",
                                                                what=Term(what))}],
        )
    return amount
