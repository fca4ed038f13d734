"""Storage-condition monitoring: readings in, excursions out, and quarantine of what an
excursion touched.

A warehouse's permitted range is its own (master data: temperature band in °C, maximum
relative humidity). Readings come from data loggers (each with its own token) or from
imported sensor logs (CSV); they are append-only. After readings arrive, the warehouse's
excursions are detected with one set-based statement over the readings since the last
reading that was in range (window functions: runs of consecutive out-of-range readings
are "islands"), so a year of one-minute readings is one scan, not a loop:

- an **excursion** is an island lasting longer than the warehouse's allowance (from its
  first reading out of range to the first reading back in range, or to its latest reading
  while it lasts);
- a **gap** is a silence between two readings longer than the logging interval: the state
  in between is unknown; it is flagged for QA and holds nothing by itself.

An excursion puts on hold (moves from unrestricted to quarantine, in one stock document
through ``erp.posting``) every batch held in the warehouse during it whose material's
storage requirement it broke, and opens an inspection lot for each, referring to the
excursion. It broke a requirement when it went beyond the material's limit on the side it
left the room's band: a cold room at 2-8 °C warming to 9.5 °C breaks a 2-8 °C product,
not one kept at up to 20 °C or 15-25 °C (the warm-up does not take those beyond their own
limits).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import bindparam, func, literal_column, select, text
from sqlalchemy.orm import Session

from erp.audit import services as audit
from erp.auth.roles import Actor, Role
from erp.clock import BUSINESS_TIME_ZONE, business_today
from erp.db import UTCDateTime, is_postgres, page, utcnow
from erp.errors import NotFound, ValidationFailed
from erp.schemas import EARLIEST_DAY, LATEST_DAY
from erp.sqlmath import milliseconds_between
from erp.masterdata.models import Warehouse
from erp.messages import Message, Named
from erp.posting import Document, Movement, Posting, post, price_for_posting
from erp.posting.models import CloseClass, MovementType, StockStatus
from erp.posting.stock import available_on, lock_stock, value_taken
from erp.quality.errors import LoggerNotRecognised, ReadingsInvalid
from erp.quality.models import (
    DataLogger,
    ExcursionBatch,
    ExcursionKind,
    LotOrigin,
    StorageExcursion,
    StorageMonitoring,
    StorageReading,
)
from erp.quality.services import open_lot
from erp.narration import REASON_LENGTH, narrate

DEFAULT_ALLOWANCE_MINUTES = 30
DEFAULT_LOGGING_INTERVAL_MINUTES = 5
MAX_ROW_ERRORS = 20
COPY_CHUNK = 50_000
NULL = "\\N"
# The statuses a touched batch's stock is looked at in: unrestricted is held, the others referenced.
HOLD_ORDER = (StockStatus.UNRESTRICTED, StockStatus.QUARANTINE, StockStatus.BLOCKED)
NUMBER = re.compile(r"^-?\d{1,3}(\.\d{1,2})?$")


def business_day_of(instant: dt.datetime) -> dt.date:
    """The business date (Asia/Shanghai, erp.clock) of an instant."""
    return instant.astimezone(BUSINESS_TIME_ZONE).date()


# --- configuration and loggers -------------------------------------------------------------

@dataclass(frozen=True)
class MonitoringRules:
    warehouse: Warehouse
    allowance_minutes: int
    logging_interval_minutes: int


def _warehouse(session: Session, actor: Actor | None, warehouse_id: int) -> Warehouse:
    warehouse = session.get(Warehouse, warehouse_id)
    if warehouse is None or (actor is not None and not actor.acts_for_company(warehouse.company_id)):
        raise NotFound(Message("warehouse {key} not found", key=warehouse_id))
    return warehouse


def rules_of(session: Session, warehouse: Warehouse) -> MonitoringRules:
    """The warehouse's allowance and logging interval (defaults: 30 and 5 minutes)."""
    row = session.get(StorageMonitoring, warehouse.id)
    if row is None:
        return MonitoringRules(warehouse, DEFAULT_ALLOWANCE_MINUTES, DEFAULT_LOGGING_INTERVAL_MINUTES)
    return MonitoringRules(warehouse, row.allowance_minutes, row.logging_interval_minutes)


def configure_monitoring(
    session: Session, actor: Actor, *, warehouse_id: int, allowance_minutes: int, logging_interval_minutes: int
) -> MonitoringRules:
    """Set how long a warehouse may stay outside its range before that is an excursion,
    and how often its loggers read. Refuses: role-not-allowed, not-found."""
    actor.require_role(Role.QUALITY, action="configuring storage monitoring")
    warehouse = _warehouse(session, actor, warehouse_id)
    row = session.get(StorageMonitoring, warehouse.id, with_for_update=True, populate_existing=True)
    before = None if row is None else {"allowance_minutes": row.allowance_minutes,
                                       "logging_interval_minutes": row.logging_interval_minutes}
    if row is None:
        row = StorageMonitoring(warehouse_id=warehouse.id, allowance_minutes=allowance_minutes,
                                logging_interval_minutes=logging_interval_minutes, updated_by=actor.user_id)
        session.add(row)
    else:
        row.allowance_minutes, row.logging_interval_minutes = allowance_minutes, logging_interval_minutes
        row.updated_by = actor.user_id
    session.flush()
    audit.record_change(session, actor, entity="storage_monitoring", entity_id=warehouse.id,
                        action=audit.CREATE if before is None else audit.CHANGE, before=before,
                        after={"allowance_minutes": allowance_minutes,
                               "logging_interval_minutes": logging_interval_minutes},
                        company_id=warehouse.company_id)
    return rules_of(session, warehouse)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def register_logger(session: Session, actor: Actor, *, warehouse_id: int, code: str) -> tuple[DataLogger, str]:
    """Register a data logger for a warehouse; returns it with its token (shown once; only
    its digest is kept). Refuses: role-not-allowed, not-found, validation-error (the code is taken)."""
    actor.require_role(Role.QUALITY, action="registering data loggers")
    warehouse = _warehouse(session, actor, warehouse_id)
    if session.scalar(select(DataLogger.id).where(DataLogger.code == code)) is not None:
        raise ValidationFailed.for_field("code", Message("a data logger {code} is already registered", code=code))
    token = secrets.token_urlsafe(32)
    logger = DataLogger(warehouse_id=warehouse.id, code=code, token_digest=_digest(token), registered_by=actor.user_id)
    session.add(logger)
    session.flush()
    audit.record_change(session, actor, entity="data_logger", entity_id=logger.id, action=audit.CREATE,
                        after={"code": code, "warehouse_id": warehouse.id, "active": True},
                        company_id=warehouse.company_id)
    return logger, token


def logger_for_token(session: Session, token: str | None) -> DataLogger:
    """The active logger a token stands for. Refuses: logger-not-recognised."""
    logger = session.scalars(select(DataLogger).where(DataLogger.token_digest == _digest(token or ""))).first()
    if logger is None or not logger.active:
        raise LoggerNotRecognised(Message("unknown or inactive data logger token"))
    return logger


# --- readings in -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Reading:
    read_at: dt.datetime
    temperature: Decimal
    humidity: Decimal | None = None


@dataclass(frozen=True)
class Ingested:
    """What one delivery of readings came to."""

    received: int
    stored: int  # the rest were already stored (same warehouse and instant): resent, not doubled
    excursions: list[StorageExcursion]
    hold_document_ids: list[int]


def parse_csv(content: str) -> list[tuple[dt.datetime, str, str | None]]:
    """Rows of a sensor log: ``read_at,temperature,humidity`` with a header. Every bad row
    is reported (up to 20) and nothing is kept. Refuses: readings-invalid."""
    reader = csv.reader(io.StringIO(content))
    header = [h.strip().lower() for h in next(reader, [])]
    if header[:2] != ["read_at", "temperature"] or (len(header) > 2 and header[2] != "humidity"):
        raise ReadingsInvalid(Message("the first line must be the header read_at,temperature,humidity"))
    rows: list[tuple[dt.datetime, str, str | None]] = []
    problems: list[dict[str, object]] = []
    for line_no, row in enumerate(reader, start=2):
        if not row:
            continue
        parsed = _parse_row(row)
        if isinstance(parsed, Message):
            problems.append({"pointer": f"/rows/{line_no}", "detail": Message("line {line}: {why}", line=line_no,
                                                                               why=parsed)})
            if len(problems) >= MAX_ROW_ERRORS:
                break
            continue
        rows.append(parsed)
    if problems:
        raise ReadingsInvalid(Message("{count} lines of the sensor log cannot be read; nothing was stored",
                                      count=len(problems)), errors=problems)
    return rows


def _parse_row(row: Sequence[str]) -> tuple[dt.datetime, str, str | None] | Message:
    """A sensor log's row as (instant in UTC, temperature, humidity), or what is wrong with it."""
    if len(row) < 2:
        return Message("a reading has at least an instant and a temperature")
    try:
        read_at = dt.datetime.fromisoformat(row[0].strip())
    except ValueError:
        read_at = None
    if read_at is None or read_at.tzinfo is None:
        return Message("read_at must be an ISO 8601 instant with its offset, such as 2026-11-20T08:00:00+08:00")
    if not EARLIEST_DAY <= read_at.date() <= LATEST_DAY:  # year 1 or 9999 cannot even be put in UTC
        return Message("read_at must be between {min} and {max}", min=EARLIEST_DAY, max=LATEST_DAY)
    temperature = row[1].strip()
    humidity = row[2].strip() if len(row) > 2 and row[2].strip() else None
    if not NUMBER.match(temperature) or (humidity is not None and not NUMBER.match(humidity)):
        return Message("temperature and humidity are numbers with at most two decimals")
    if humidity is not None and not 0 <= Decimal(humidity) <= 100:
        return Message("humidity is a percentage between 0 and 100")
    return read_at.astimezone(dt.UTC), temperature, humidity


def _store(session: Session, warehouse_id: int, rows: Sequence[tuple[dt.datetime, str, str | None]],
           logger_id: int | None) -> int:
    """Append readings; those already stored (same warehouse and instant) are skipped.
    PostgreSQL: COPY into a temporary table, then one INSERT ... SELECT ... ON CONFLICT."""
    if not rows:
        return 0
    if is_postgres(session):
        connection = session.connection()
        connection.exec_driver_sql(
            "CREATE TEMPORARY TABLE IF NOT EXISTS incoming_readings "
            "(read_at timestamptz, temperature numeric(5,2), humidity numeric(5,2)) ON COMMIT DELETE ROWS")
        connection.exec_driver_sql("TRUNCATE incoming_readings")
        raw = connection.connection.driver_connection
        with raw.cursor() as cursor:  # type: ignore[union-attr]
            with cursor.copy("COPY incoming_readings (read_at, temperature, humidity) FROM STDIN") as copy:
                # COPY's text format, written in chunks: the values were checked when parsed
                for chunk in range(0, len(rows), COPY_CHUNK):
                    copy.write("".join(f"{read_at.isoformat()}\t{temperature}\t{humidity or NULL}\n"
                                       for read_at, temperature, humidity in rows[chunk:chunk + COPY_CHUNK]))
        result = connection.exec_driver_sql(
            "INSERT INTO storage_readings (warehouse_id, read_at, temperature, humidity, logger_id) "
            "SELECT %(w)s, read_at, temperature, humidity, %(logger)s FROM incoming_readings "
            "ON CONFLICT (warehouse_id, read_at) DO NOTHING", {"w": warehouse_id, "logger": logger_id})
        return result.rowcount
    stored = 0
    table = StorageReading.__table__
    for read_at, temperature, humidity in rows:
        exists = session.scalar(select(StorageReading.read_at).where(
            StorageReading.warehouse_id == warehouse_id, StorageReading.read_at == read_at))
        if exists is None:
            session.execute(table.insert().values(
                warehouse_id=warehouse_id, read_at=read_at, temperature=Decimal(temperature),
                humidity=Decimal(humidity) if humidity is not None else None, logger_id=logger_id))
            stored += 1
    return stored


def ingest(
    session: Session,
    *,
    warehouse: Warehouse,
    rows: Sequence[tuple[dt.datetime, str, str | None]],
    user_id: int,
    logger_id: int | None = None,
) -> Ingested:
    """Store readings of a warehouse, then detect its excursions from the earliest of them on
    and put on hold what new excursions touched (dated the business day of discovery, so a
    sensor log of a closed month is still recorded). Runs in the caller's transaction."""
    stored = _store(session, warehouse.id, rows, logger_id)
    if not rows:
        return Ingested(0, 0, [], [])
    earliest = min(r[0] for r in rows)
    excursions = detect_excursions(session, warehouse, since=earliest)
    resumed = [gap for gap in _close_open_gaps(session, warehouse) if gap not in {e.id for e in excursions}]
    if resumed:  # a silence since before any reading (a new logger), closed by the first ones
        excursions += list(session.scalars(select(StorageExcursion).where(StorageExcursion.id.in_(resumed))))
    # dated the business day the excursion is discovered, not the readings' day: an old sensor
    # log of a month since closed is still stored with its excursion (the GMP record), and the
    # hold is posted today; the excursion keeps its own instants
    documents = hold_for_excursions(session, warehouse, user_id=user_id, posting_date=business_today())
    for excursion in excursions:  # what answering them just touched (loaded before it was recorded)
        session.expire(excursion, ["batches"])
    return Ingested(len(rows), stored, excursions, documents)


def import_readings(session: Session, actor: Actor, *, warehouse_id: int, content: str) -> Ingested:
    """Import a sensor log (CSV) for a warehouse. Refuses: role-not-allowed, not-found,
    readings-invalid, period-closed, no-standard-price (of a hold)."""
    actor.require_role(Role.QUALITY, Role.CLERK, action="importing sensor logs")
    warehouse = _warehouse(session, actor, warehouse_id)
    if actor.role == Role.CLERK and not actor.acts_for_warehouse(warehouse.id, warehouse.company_id):
        raise NotFound(Message("warehouse {key} not found", key=warehouse_id))
    return ingest(session, warehouse=warehouse, rows=parse_csv(content), user_id=actor.user_id)


def post_logger_readings(session: Session, *, token: str | None, readings: Iterable[Reading]) -> Ingested:
    """Readings a data logger posts with its own token, for its warehouse; holds are made in
    the name of the quality user who registered the logger. Refuses: logger-not-recognised."""
    logger = logger_for_token(session, token)
    warehouse = _warehouse(session, None, logger.warehouse_id)
    rows = [(r.read_at.astimezone(dt.UTC), format(r.temperature, "f"),
             format(r.humidity, "f") if r.humidity is not None else None) for r in readings]
    return ingest(session, warehouse=warehouse, rows=rows, user_id=logger.registered_by, logger_id=logger.id)


# --- excursions ---------------------------------------------------------------------------------

def _bindable(session: Session, params: dict[str, object]) -> dict[str, object]:
    """Raw statements' parameters: SQLite's driver takes no Decimal (its numeric columns hold
    REAL values, compared as such); PostgreSQL's keeps them exact."""
    if is_postgres(session):
        return params
    return {key: float(value) if isinstance(value, Decimal) else value for key, value in params.items()}


def _milliseconds(session: Session, later: str, earlier: str) -> str:
    """SQL for ``later - earlier`` in whole milliseconds, exact on both dialects (compared
    with the allowance and the logging interval in milliseconds: no float at the boundary)."""
    expression = milliseconds_between(literal_column(later), literal_column(earlier))
    return str(expression.compile(dialect=session.get_bind().dialect))


def _minutes(milliseconds: str) -> str:
    """SQL for a span in milliseconds as minutes to 0.01, rounded half-up in integers (then
    divided by 100.0: SQLite divides integers by 100 as integers)."""
    return f"(CAST((({milliseconds}) + 300) / 600 AS NUMERIC) / 100.0)"


def minutes_of(span: dt.timedelta) -> Decimal:
    """A span in minutes to 0.01, rounded half-up from whole milliseconds (as in SQL)."""
    milliseconds = span // dt.timedelta(milliseconds=1)
    return Decimal((milliseconds + 300) // 600) / 100


def _since(session: Session, warehouse: Warehouse, since: dt.datetime) -> dt.datetime | None:
    """Where detection starts: the last reading in range before ``since`` (an excursion under
    way when new readings arrive is seen whole), or the first reading of all."""
    r = StorageReading
    in_range = (r.temperature >= warehouse.temp_min) & (r.temperature <= warehouse.temp_max) & (
        (r.humidity.is_(None)) | (r.humidity <= warehouse.max_humidity))
    start = session.scalar(select(r.read_at).where(r.warehouse_id == warehouse.id, r.read_at < since, in_range)
                           .order_by(r.read_at.desc()).limit(1))
    return start


def detect_excursions(session: Session, warehouse: Warehouse, *, since: dt.datetime | None = None
                      ) -> list[StorageExcursion]:
    """Record the warehouse's excursions and gaps in its readings from ``since`` on (all its
    readings when None), set-based; an excursion still under way is recorded and extended
    by later detections. Returns the excursions and gaps found in that span."""
    rules = rules_of(session, warehouse)
    start = _since(session, warehouse, since) if since is not None else None
    after = "AND read_at >= :start" if start is not None else ""
    out_ms = _milliseconds(session, "COALESCE(ended_at, last_out_at)", "started_at")
    # An excursion seen again is answered again (``held`` false) only when it widened: it
    # lasted longer or went further out; the same readings sent twice change nothing.
    distinct = "IS DISTINCT FROM" if is_postgres(session) else "IS NOT"
    widened = " OR ".join(f"storage_excursions.{column} {distinct} excluded.{column}" for column in (
        "ended_at", "minutes", "min_temperature", "max_temperature", "max_humidity"))
    gap_ms = _milliseconds(session, "read_at", "prev_at")
    readings = f"""
        r AS (
            SELECT read_at, temperature, humidity,
                   CASE WHEN temperature > :tmax OR temperature < :tmin OR humidity > :hmax THEN 1 ELSE 0 END AS outside,
                   LEAD(read_at) OVER (ORDER BY read_at) AS next_at,
                   LAG(read_at) OVER (ORDER BY read_at) AS prev_at
            FROM storage_readings WHERE warehouse_id = :w {after}
        )"""
    excursions = f"""
        WITH {readings},
        islands AS (
            SELECT *, SUM(1 - outside) OVER (ORDER BY read_at ROWS UNBOUNDED PRECEDING) AS island FROM r
        ),
        runs AS (
            SELECT MIN(read_at) AS started_at, MAX(read_at) AS last_out_at,
                   CASE WHEN COUNT(next_at) < COUNT(*) THEN NULL ELSE MAX(next_at) END AS ended_at,
                   MIN(temperature) AS min_t, MAX(temperature) AS max_t, MAX(humidity) AS max_h
            FROM islands WHERE outside = 1 GROUP BY island
        )
        INSERT INTO storage_excursions (warehouse_id, kind, started_at, ended_at, minutes, min_temperature,
                                        max_temperature, max_humidity, detected_at, held)
        SELECT * FROM (
            SELECT :w AS warehouse_id, 'out_of_range' AS kind, started_at, ended_at,
                   {_minutes(out_ms)} AS minutes, min_t, max_t, max_h, :now AS detected_at,
                   false AS held
            FROM runs WHERE {out_ms} > :allowance_ms
        ) AS found WHERE true
        ON CONFLICT (warehouse_id, kind, started_at) DO UPDATE SET
            ended_at = excluded.ended_at, minutes = excluded.minutes, min_temperature = excluded.min_temperature,
            max_temperature = excluded.max_temperature, max_humidity = excluded.max_humidity,
            held = CASE WHEN {widened} THEN false ELSE storage_excursions.held END
        RETURNING id"""
    gaps = f"""
        WITH {readings}
        INSERT INTO storage_excursions (warehouse_id, kind, started_at, ended_at, minutes, detected_at, held)
        SELECT * FROM (
            SELECT :w AS warehouse_id, 'gap' AS kind, prev_at AS started_at, read_at AS ended_at,
                   {_minutes(gap_ms)} AS minutes, :now AS detected_at, false AS held
            FROM r WHERE prev_at IS NOT NULL AND {gap_ms} > :interval_ms
        ) AS found WHERE true
        ON CONFLICT (warehouse_id, kind, started_at) DO UPDATE SET
            ended_at = excluded.ended_at, minutes = excluded.minutes
        RETURNING id"""
    instant = UTCDateTime()
    params = {"w": warehouse.id, "tmin": warehouse.temp_min, "tmax": warehouse.temp_max,
              "hmax": warehouse.max_humidity, "allowance_ms": rules.allowance_minutes * 60_000,
              "interval_ms": rules.logging_interval_minutes * 60_000, "now": utcnow()}
    if start is not None:
        params["start"] = start
    found: list[int] = []
    for sql in (excursions, gaps):
        statement = text(sql).bindparams(bindparam("now", type_=instant))
        if start is not None:
            statement = statement.bindparams(bindparam("start", type_=instant))
        found += list(session.scalars(statement, _bindable(session, params)))
    session.expire_all()
    if not found:
        return []
    return list(session.scalars(select(StorageExcursion).where(StorageExcursion.id.in_(found))
                                .order_by(StorageExcursion.started_at)))


# A material's storage requirement, side by side: its own limit, or where it states none,
# the room's (stock kept in a room without a requirement of its own relies on the room's
# conditions, so an excursion of the room breaks it; QA decides). An excursion breaks the
# requirement when it went beyond it on the side it left the room's band.
_BROKEN = """
      ((:max_t > :room_max AND :max_t > COALESCE(mat.storage_temp_max, :room_max))
    OR (:min_t < :room_min AND :min_t < COALESCE(mat.storage_temp_min, :room_min))
    OR (:max_h > :room_h AND :max_h > COALESCE(mat.storage_max_humidity, :room_h)))"""

# Bounded by the warehouse and the excursion's days: the candidates are the warehouse's
# balances (one row per material, batch and status: the current stock, not the ledger) of
# materials it broke, and the ledger is read only from the excursion's first day on, per
# material (ix_stock_movements_stock: warehouse, material, posting date). A batch was there
# before the first day when what it holds now less what moved since is positive; or it
# arrived on one of the excursion's days.
_TOUCHED = f"""
    WITH candidates AS (
        SELECT b.material_id, b.batch_id, SUM(b.quantity) AS on_hand
        FROM stock_balances b JOIN materials mat ON mat.id = b.material_id
        WHERE b.warehouse_id = :w AND {_BROKEN}
        GROUP BY b.material_id, b.batch_id
    ),
    since AS (
        SELECT m.material_id, m.batch_id, SUM(m.quantity) AS moved,
               SUM(CASE WHEN m.posting_date <= :end_day AND m.quantity > 0 THEN 1 ELSE 0 END) AS arrivals
        FROM stock_movements m
        WHERE m.warehouse_id = :w AND m.material_id IN (SELECT material_id FROM candidates)
          AND m.posting_date >= :start_day
        GROUP BY m.material_id, m.batch_id
    )
    SELECT c.batch_id, c.material_id
    FROM candidates c LEFT JOIN since s ON s.material_id = c.material_id AND s.batch_id = c.batch_id
    WHERE c.on_hand - COALESCE(s.moved, 0) > 0 OR COALESCE(s.arrivals, 0) > 0
    ORDER BY c.batch_id
"""


def touched_batches(session: Session, warehouse: Warehouse, excursion: StorageExcursion) -> list[tuple[int, int]]:
    """(batch, material) held in the warehouse during the excursion whose material's storage
    requirement it broke (the room's range standing in for a limit the material does not
    state). Held "during" it by the ledger's dates: stock there before the excursion's
    first day, or arriving on one of its days (postings carry dates, not times, so a
    receipt on the excursion's day counts: QA decides), whatever its status now."""
    far = Decimal("-1000")
    end = excursion.ended_at or utcnow()
    params = {
        "w": warehouse.id, "start_day": business_day_of(excursion.started_at), "end_day": business_day_of(end),
        "max_t": excursion.max_temperature if excursion.max_temperature is not None else far,
        "min_t": excursion.min_temperature if excursion.min_temperature is not None else -far,
        "max_h": excursion.max_humidity if excursion.max_humidity is not None else far,
        "room_max": warehouse.temp_max, "room_min": warehouse.temp_min, "room_h": warehouse.max_humidity,
    }
    return [(batch, material) for batch, material in session.execute(text(_TOUCHED), _bindable(session, params))]


def hold_for_excursions(session: Session, warehouse: Warehouse, *, user_id: int, posting_date: dt.date) -> list[int]:
    """Answer each excursion of the warehouse that is new or has widened since it was last
    answered: the unrestricted stock of every batch it touched moves to quarantine in one
    stock document (reference ``EXC-<id>``), with an inspection lot per batch; a touched
    batch already in quarantine or blocked is referenced (``excursion_batches``) so QA
    knows. Idempotent: an excursion answered and unchanged is not looked at again, and
    what is already in quarantine is not held twice. Returns the documents."""
    pending = list(session.scalars(
        select(StorageExcursion).where(StorageExcursion.warehouse_id == warehouse.id,
                                       StorageExcursion.kind == ExcursionKind.OUT_OF_RANGE,
                                       StorageExcursion.held.is_(False))
        .order_by(StorageExcursion.started_at).with_for_update().execution_options(populate_existing=True)))
    documents: list[int] = []
    touched_by = {excursion.id: touched_batches(session, warehouse, excursion) for excursion in pending}
    # The period and prices first, then the balances of every batch any of the excursions
    # touched, all in one statement (erp.posting.stock's lock order), before the first hold:
    # batch by batch, a hold across two batches and an issue taking them first expiry first,
    # or a QA release of one of them (quarantine to unrestricted, the other way round), each
    # held what the other waited for; and excursion by excursion, the second's batches were
    # locked after the first's hold and lots (tests/service/test_posting_locks.py). Read
    # again under the locks (``reread``): a QA release that committed while this waited
    # moved a batch all in quarantine into an unrestricted row the lock statement, begun
    # before, could not see; trusting it, the hold neither held nor referenced the batch.
    every_touched = sorted({pair for touched in touched_by.values() for pair in touched})
    prices = {material_id: price_for_posting(session, warehouse.company_id, material_id, posting_date)[1]
              for material_id in sorted({material_id for _, material_id in every_touched})}
    locked = lock_stock(session, [(warehouse.id, material_id, status, batch_id)
                                  for batch_id, material_id in every_touched for status in HOLD_ORDER], reread=True)
    for excursion in pending:
        touched = touched_by[excursion.id]
        if documents:
            # An earlier excursion's hold moved stock (into quarantine): read again what the
            # balances hold: rows locked above, or written by that hold.
            locked = lock_stock(session, [(warehouse.id, material_id, status, batch_id)
                                          for batch_id, material_id in touched for status in HOLD_ORDER])
        referenced = set(session.scalars(select(ExcursionBatch.batch_id).where(
            ExcursionBatch.excursion_id == excursion.id)))
        movements: list[Movement] = []
        held_quantities: list[tuple[int, int, Decimal]] = []
        for batch_id, material_id in touched:
            price = prices[material_id]
            for balance in (held for status in HOLD_ORDER
                            for held in locked[(warehouse.id, material_id, status, batch_id)]):
                # what the balance holds on the hold's date and every later date with movements
                on_hand = available_on(session, balance, posting_date)
                if on_hand <= 0:
                    continue
                if balance.status != StockStatus.UNRESTRICTED:
                    if batch_id not in referenced:  # already on hold for another reason: QA needs to know
                        session.add(ExcursionBatch(excursion_id=excursion.id, warehouse_id=warehouse.id,
                                                   material_id=material_id, batch_id=batch_id,
                                                   stock_status=balance.status, quantity=on_hand))
                    continue
                value = value_taken(session, warehouse.company_id, balance, on_hand, price, posting_date)
                movements += [
                    Movement(MovementType.QUALITY_HOLD, CloseClass.INTERNAL, warehouse.id, material_id, batch_id,
                             StockStatus.UNRESTRICTED, -on_hand, -value),
                    Movement(MovementType.QUALITY_HOLD, CloseClass.INTERNAL, warehouse.id, material_id, batch_id,
                             StockStatus.QUARANTINE, on_hand, value),
                ]
                held_quantities.append((batch_id, material_id, on_hand))
        document_id = None
        if movements:
            posted = post(session, Posting(
                company_id=warehouse.company_id, posting_date=posting_date, user_id=user_id,
                document=Document(MovementType.QUALITY_HOLD, reference=f"EXC-{excursion.id}",
                                  reason=_hold_reason(warehouse, excursion)),
                movements=movements,
            ))
            document_id = posted.document_id
            assert document_id is not None
            for batch_id, material_id, quantity in held_quantities:
                lot_id = open_lot(session, origin=LotOrigin.EXCURSION, company_id=warehouse.company_id,
                                  warehouse_id=warehouse.id, material_id=material_id, batch_id=batch_id,
                                  quantity=quantity, inspection_date=posting_date, source_document_id=document_id,
                                  user_id=user_id, excursion_id=excursion.id)
                session.add(ExcursionBatch(excursion_id=excursion.id, warehouse_id=warehouse.id,
                                           material_id=material_id, batch_id=batch_id,
                                           stock_status=StockStatus.UNRESTRICTED, quantity=quantity, lot_id=lot_id))
            documents.append(document_id)
        excursion.held = True
        if document_id is not None:  # the latest hold; every one is in excursion_batches with its lot
            excursion.held_document_id = document_id
    session.flush()
    return documents


def _hold_reason(warehouse: Warehouse, excursion: StorageExcursion) -> str:
    """The hold's reason, in the reader's language on every page (erp.narration)."""
    values = {"excursion": f"EXC-{excursion.id}", "warehouse": Named.of(warehouse), "low": excursion.min_temperature,
              "high": excursion.max_temperature, "start": excursion.started_at.isoformat(" ", "minutes"),
              "minutes": excursion.minutes}
    if excursion.max_humidity is not None:
        return narrate("excursion-hold-humidity", REASON_LENGTH, humidity=excursion.max_humidity, **values)
    return narrate("excursion-hold", REASON_LENGTH, **values)


def list_excursions(
    session: Session, actor: Actor, *, warehouse_id: int | None = None, kind: ExcursionKind | None = None,
    offset: int = 0, limit: int = 50,
) -> tuple[list[StorageExcursion], int]:
    """Excursions and gaps in the caller's warehouses, newest first."""
    query = select(StorageExcursion).join(Warehouse, Warehouse.id == StorageExcursion.warehouse_id).where(
        actor.warehouse_scope(Warehouse.id, Warehouse.company_id))
    if warehouse_id is not None:
        query = query.where(StorageExcursion.warehouse_id == warehouse_id)
    if kind is not None:
        query = query.where(StorageExcursion.kind == kind)
    return page(session, query.order_by(StorageExcursion.started_at.desc(), StorageExcursion.id.desc()),
                offset=offset, limit=limit, entities=True)


def readings_between(session: Session, actor: Actor, *, warehouse_id: int, start: dt.datetime, end: dt.datetime,
                     ) -> list[StorageReading]:
    """A warehouse's readings in [start, end) (the temperature chart)."""
    warehouse = _warehouse(session, actor, warehouse_id)
    if end <= start:
        raise ValidationFailed.for_field("end", Message("the end must be after the start"))
    return list(session.scalars(select(StorageReading).where(
        StorageReading.warehouse_id == warehouse.id, StorageReading.read_at >= start, StorageReading.read_at < end)
        .order_by(StorageReading.read_at)))


@dataclass(frozen=True)
class ChartData:
    """A warehouse's readings over a span, its permitted range and the excursions and gaps
    that overlap the span: what the temperature chart draws."""

    warehouse: Warehouse
    readings: list[StorageReading]
    excursions: list[StorageExcursion]
    allowance_minutes: int

    def as_json(self) -> dict[str, object]:
        """Times in Beijing (the chart's axis), values as numbers for drawing (the table
        beside the chart shows them exactly)."""
        def local(instant: dt.datetime | None) -> str | None:
            # wall-clock time in Beijing without an offset: the chart shows it as it is,
            # whatever the browser's own time zone
            return instant.astimezone(BUSINESS_TIME_ZONE).strftime("%Y-%m-%d %H:%M:%S") if instant else None

        return {
            "temperature": [[local(r.read_at), float(r.temperature)] for r in self.readings],
            "humidity": [[local(r.read_at), float(r.humidity)] for r in self.readings if r.humidity is not None],
            "band": [float(self.warehouse.temp_min), float(self.warehouse.temp_max)],
            "max_humidity": float(self.warehouse.max_humidity),
            "excursions": [{"id": e.id, "kind": e.kind.value, "start": local(e.started_at),
                            "end": local(e.ended_at or (self.readings[-1].read_at if self.readings else e.started_at))}
                           for e in self.excursions],
        }


def chart_data(session: Session, actor: Actor, *, warehouse_id: int, start: dt.datetime, end: dt.datetime
               ) -> ChartData:
    """The temperature chart of a warehouse between two instants."""
    warehouse = _warehouse(session, actor, warehouse_id)
    if actor.role == Role.CLERK and not actor.acts_for_warehouse(warehouse.id, warehouse.company_id):
        raise NotFound(Message("warehouse {key} not found", key=warehouse_id))
    readings = readings_between(session, actor, warehouse_id=warehouse_id, start=start, end=end)
    e = StorageExcursion
    overlapping = list(session.scalars(select(e).where(
        e.warehouse_id == warehouse.id, e.started_at < end, (e.ended_at.is_(None)) | (e.ended_at > start))
        .order_by(e.started_at)))
    return ChartData(warehouse, readings, overlapping, rules_of(session, warehouse).allowance_minutes)


def flag_silent_warehouses(session: Session, actor: Actor, *, now: dt.datetime) -> list[StorageExcursion]:
    """Flag, as a gap still under way, every monitored warehouse of the caller's companies
    whose last reading is older than its logging interval (a logger that stopped says
    nothing; the scheduled ``flask --app erp quality check-silence`` asks). A warehouse is
    monitored once it has readings, an active logger or monitoring rules; one that has
    never sent a reading is silent since its first active logger was registered (or its
    rules were set). When readings resume, the gap is closed at the first of them.
    Refuses: role-not-allowed."""
    actor.require_role(Role.QUALITY, action="checking storage monitoring")
    r, lg, mon = StorageReading, DataLogger, StorageMonitoring
    last_reading = select(func.max(r.read_at)).where(r.warehouse_id == Warehouse.id).scalar_subquery()
    first_logger = select(func.min(lg.created_at)).where(lg.warehouse_id == Warehouse.id,
                                                         lg.active.is_(True)).scalar_subquery()
    configured = select(mon.updated_at).where(mon.warehouse_id == Warehouse.id).scalar_subquery()
    monitored = session.execute(
        select(Warehouse, last_reading, first_logger, configured)
        .where(actor.company_scope(Warehouse.company_id))
        .order_by(Warehouse.id)).all()
    flagged: list[StorageExcursion] = []
    for warehouse, last, logger_since, configured_at in monitored:
        since = last or logger_since or configured_at
        if since is None or since > now:  # not monitored (or monitored from later on)
            continue
        silent = now - since
        if silent <= dt.timedelta(minutes=rules_of(session, warehouse).logging_interval_minutes):
            continue
        gap = session.scalars(select(StorageExcursion).where(
            StorageExcursion.warehouse_id == warehouse.id, StorageExcursion.kind == ExcursionKind.GAP,
            StorageExcursion.started_at == since)).first()
        if gap is None:
            gap = StorageExcursion(warehouse_id=warehouse.id, kind=ExcursionKind.GAP, started_at=since, ended_at=None,
                                   minutes=Decimal(0), held=False)
            session.add(gap)
        if gap.ended_at is None:
            gap.minutes = minutes_of(silent)
            flagged.append(gap)
    session.flush()
    return flagged


def _close_open_gaps(session: Session, warehouse: Warehouse) -> list[int]:
    """Close the warehouse's gaps still under way at the first reading after their start
    (a silence flagged by the silence check, readings now resumed); returns their ids."""
    e, r = StorageExcursion, StorageReading
    closed: list[int] = []
    gaps = session.scalars(select(e).where(e.warehouse_id == warehouse.id, e.kind == ExcursionKind.GAP,
                                           e.ended_at.is_(None)).with_for_update()
                           .execution_options(populate_existing=True)).all()
    for gap in gaps:
        resumed = session.scalar(select(func.min(r.read_at)).where(r.warehouse_id == warehouse.id,
                                                                   r.read_at > gap.started_at))
        if resumed is None:
            continue
        gap.ended_at = resumed
        gap.minutes = minutes_of(resumed - gap.started_at)
        closed.append(gap.id)
    session.flush()
    return closed


def loggers_of(session: Session, actor: Actor, *, warehouse_id: int) -> list[DataLogger]:
    """A warehouse's data loggers, active first, newest first (never their tokens)."""
    warehouse = _warehouse(session, actor, warehouse_id)
    return list(session.scalars(select(DataLogger).where(DataLogger.warehouse_id == warehouse.id)
                                .order_by(DataLogger.active.desc(), DataLogger.id.desc())))


def deactivate_logger(session: Session, actor: Actor, *, logger_id: int) -> DataLogger:
    """Withdraw a data logger's token (lost, replaced, or the logger moved): its posts are
    refused from now on (logger-not-recognised); its readings stay. Refuses:
    role-not-allowed, not-found."""
    actor.require_role(Role.QUALITY, action="managing data loggers")
    logger = session.get(DataLogger, logger_id, with_for_update=True, populate_existing=True)
    if logger is None:
        raise NotFound(Message("data logger {key} not found", key=logger_id))
    warehouse = _warehouse(session, actor, logger.warehouse_id)  # 404 outside the caller's companies
    was_active = logger.active
    logger.active = False
    session.flush()
    audit.record_change(session, actor, entity="data_logger", entity_id=logger.id, action=audit.DEACTIVATE,
                        before={"active": was_active}, after={"active": False}, company_id=warehouse.company_id)
    return logger


@dataclass(frozen=True)
class MonitoredWarehouse:
    """A warehouse as the monitoring list shows it: its range, rules and latest reading."""

    warehouse: Warehouse
    rules: MonitoringRules
    last_reading: dt.datetime | None
    active_loggers: int


def monitored_warehouses(session: Session, actor: Actor) -> list[MonitoredWarehouse]:
    """The caller's warehouses (a clerk's own) with their permitted range, monitoring rules,
    latest reading and active loggers."""
    r, lg = StorageReading, DataLogger
    last_reading = select(func.max(r.read_at)).where(r.warehouse_id == Warehouse.id).scalar_subquery()
    loggers = select(func.count(lg.id)).where(lg.warehouse_id == Warehouse.id, lg.active.is_(True)).scalar_subquery()
    rows = session.execute(select(Warehouse, last_reading, loggers)
                           .where(actor.warehouse_scope(Warehouse.id, Warehouse.company_id))
                           .order_by(Warehouse.code)).all()
    return [MonitoredWarehouse(w, rules_of(session, w), last, count) for w, last, count in rows]
