"""Configuration read from the environment, validated at start-up, with zero-setup defaults.

Every setting has a default that works on a fresh clone: the database is a SQLite file
under ``instance/``. Production sets ``ERP_DATABASE_URL`` to PostgreSQL
(``postgresql+psycopg://user@host/db``). Each field is read from ``ERP_<FIELD NAME>``
(pydantic-settings) unless it names its variable (``validation_alias``).

A value that cannot work stops the start with one line naming the variable, the value and
what is allowed (``ConfigurationError``), never a traceback: ``load_settings``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_PATH = PROJECT_ROOT / "instance" / "erp.sqlite3"
ENV_PREFIX = "ERP_"


class ConfigurationError(SystemExit):
    """A setting that cannot work. A ``SystemExit``: left uncaught (``flask``, ``gunicorn``)
    it ends the process with its one-line message and status 1, without a traceback."""

    def __init__(self, message: str) -> None:
        super().__init__(f"configuration error: {message}")
        self.message = message


def default_database_url() -> str:
    """The SQLite file under instance/ (created with its folder on first use)."""
    DEFAULT_SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{DEFAULT_SQLITE_PATH}"


def _env(name: str) -> AliasChoices:
    # The variable, and the field's own name for code that builds Settings(...) directly.
    return AliasChoices(f"{ENV_PREFIX}{name}", name.lower())


def normalise_database_url(url: str) -> str:
    """The URL SQLAlchemy should use: PostgreSQL through psycopg 3 (``postgres://`` and
    ``postgresql://`` as platforms write them are the same server), SQLite as given.
    Refuses every other database with the reason."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ValueError("not a database URL; use postgresql+psycopg://user@host:5432/db or sqlite:///path") from exc
    backend = parsed.get_backend_name()
    if backend in ("postgres", "postgresql"):
        if not parsed.database:
            raise ValueError("names no database; use postgresql+psycopg://user@host:5432/db")
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    if backend == "sqlite":
        return url
    raise ValueError(f"{backend} is not supported: Heyi runs on PostgreSQL (postgresql+psycopg://user@host/db) "
                     "or SQLite (sqlite:///path/to/file)")


class Settings(BaseSettings):
    """Business and technical settings; tests and deployments override fields."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, extra="ignore", populate_by_name=True,
                                      env_ignore_empty=True)

    database_url: str = Field(default_factory=default_database_url)
    # Bearer tokens expire; a stolen token is useful for a working day at most.
    token_ttl_minutes: Annotated[int, Field(ge=1, le=7 * 24 * 60)] = 480
    # Orders above this value wait for a purchasing manager (companies may override).
    default_approval_threshold: Annotated[Decimal, Field(ge=0, le=Decimal("9999999999999999.99"), decimal_places=2,
                                                        validation_alias=_env("APPROVAL_THRESHOLD"))] = \
        Decimal("200000")
    # A receipt whose batch has less remaining shelf life than this is refused
    # (materials may set their own minimum).
    default_min_remaining_shelf_life_days: Annotated[int, Field(
        ge=0, le=36500, validation_alias=_env("MIN_REMAINING_SHELF_LIFE_DAYS"))] = 30
    # Credit: from this share of the limit an action passes with a warning.
    credit_warning_share: Annotated[Decimal, Field(gt=0, le=1)] = Decimal("0.90")
    # Credit: the limit in force for a customer no controller has approved a limit for (the
    # limit model's suggestions for customers without history are its rules' starting limits).
    credit_starting_limit: Annotated[Decimal, Field(ge=0, le=Decimal("9999999999999999.99"), decimal_places=2)] = \
        Decimal("100000")
    # Month-end close: the confirmation step flags a company whose variance rate is beyond
    # ± this many percent, or moved more than this many percentage points from the previous
    # closed month's (erp.costing.board.RateWatch, docs/costing.md); the accountant may still
    # confirm the close.
    close_rate_limit_percent: Annotated[Decimal, Field(gt=0, le=1000)] = Decimal("10")
    close_rate_move_points: Annotated[Decimal, Field(gt=0, le=1000)] = Decimal("5")
    # werkzeug password hash method; tests use a cheaper scrypt cost to stay fast.
    password_hash_method: str = "scrypt"
    sql_echo: bool = False
    # Background jobs (docs/jobs.md): "thread" runs them in the web process (zero setup);
    # "worker" only queues them for `flask --app erp jobs work` processes (production).
    job_runner: Literal["thread", "worker"] = "thread"
    job_threads: Annotated[int, Field(ge=1, le=64)] = 2
    # Signs the browser session cookie. Empty: a random key kept in instance/secret_key
    # (created on first start), so sessions survive restarts without a key in the repo.
    secret_key: str = ""
    # The session cookie is sent over HTTPS only. Browsers treat http://127.0.0.1 and
    # localhost as secure, so the demo and the browser tests work with it on.
    session_cookie_secure: bool = True
    # Browser sessions end after this many minutes (the sign-in token's lifetime).
    session_ttl_minutes: Annotated[int, Field(ge=1, le=7 * 24 * 60)] = 600
    # Where sign-in throttling keeps its counters (Flask-Limiter storage URI); several
    # server processes share them through e.g. redis://host:6379.
    ratelimit_storage_uri: str = "memory://"
    # Sign-in attempts one client address may make (all routes that sign in, together), in
    # the `limits` notation. A subsidiary behind one NAT address signs all its users in from
    # it: raise this for such a site rather than have the morning shift refused.
    sign_in_rate_limit: str = "60/minute"
    # Request bodies: 1 MiB is far beyond any JSON document the API takes (5,000 standard
    # prices are about 300 kB); views marked ``accepts_upload`` (spreadsheets) take more.
    max_request_bytes: Annotated[int, Field(ge=64 * 1024, le=1024 * 1024 * 1024)] = 1024 * 1024
    max_upload_bytes: Annotated[int, Field(ge=64 * 1024, le=4 * 1024 * 1024 * 1024)] = 64 * 1024 * 1024
    # Connections each process keeps to PostgreSQL (SQLAlchemy's pool) and may open beyond
    # them at a peak. Under gunicorn, gunicorn.conf.py sizes both from the worker's threads
    # and checks workers x (pool + overflow) against the server's max_connections.
    db_pool_size: Annotated[int, Field(ge=1, le=1000)] = 10
    db_max_overflow: Annotated[int, Field(ge=0, le=1000)] = 20
    # Test each pooled connection of the primary with a round trip before use (SQLAlchemy's
    # pool_pre_ping). Off by default: a connection the database dropped while pooled (a
    # restart, a failover) is found at a transaction's first statement, before anything was
    # sent, and that transaction runs again on a fresh connection (erp.db.lost_before_use),
    # which saves a round trip on every request (docs/performance.md). The reporting
    # replica's engine always pre-pings.
    db_pool_pre_ping: bool = False
    # Read-only reports (CIO dashboard, receivables, ageing, valuation, exports) read from
    # this PostgreSQL streaming replica when set (docs/scaling.md); empty: the primary.
    reporting_database_url: str = ""
    # Pins the business day (erp/clock.py reads it) for a training or test copy. Read here
    # too so that a malformed date stops the start instead of failing every request, and so
    # that production serving (gunicorn.conf.py) can refuse a pinned clock.
    business_date: dt.date | None = None

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, url: str) -> str:
        return normalise_database_url(url)

    @field_validator("business_date", mode="before")
    @classmethod
    def _iso_date(cls, value: object) -> dt.date | None:
        # The parser erp.clock reads the variable with, so that what starts also runs.
        if value is None or isinstance(value, dt.date):
            return value
        return dt.date.fromisoformat(str(value).strip())

    @field_validator("reporting_database_url")
    @classmethod
    def _reporting_on_postgres(cls, url: str) -> str:
        if not url:
            return url
        url = normalise_database_url(url)
        if not url.startswith("postgresql"):
            raise ValueError("must be a PostgreSQL streaming replica of ERP_DATABASE_URL")
        return url

    @field_validator("password_hash_method")
    @classmethod
    def _known_hash(cls, method: str) -> str:
        if method.split(":")[0] not in ("scrypt", "pbkdf2"):
            raise ValueError("must be scrypt or pbkdf2 (with werkzeug's optional parameters, e.g. scrypt:32768:8:1)")
        return method

    @field_validator("ratelimit_storage_uri")
    @classmethod
    def _known_storage(cls, uri: str) -> str:
        from limits.storage import storage_from_string

        try:
            storage_from_string(uri)
        except Exception as exc:  # noqa: BLE001 - the library says what is wrong in its own words
            raise ValueError(f"not a storage Flask-Limiter can use ({exc}); e.g. memory:// or redis://host:6379")
        return uri

    @field_validator("sign_in_rate_limit")
    @classmethod
    def _known_rate(cls, limit: str) -> str:
        from limits import parse_many

        try:
            parse_many(limit)
        except ValueError as exc:
            raise ValueError(f"not a rate limit ({exc}); e.g. 60/minute or 200/minute;2000/hour") from None
        return limit

    @model_validator(mode="after")
    def _uploads_at_least_requests(self) -> Settings:
        if self.max_upload_bytes < self.max_request_bytes:
            raise ValueError("ERP_MAX_UPLOAD_BYTES must be at least ERP_MAX_REQUEST_BYTES")
        return self


# What each variable allows, said once for the error line (pydantic's own words name types).
ALLOWED = {
    "database_url": "postgresql+psycopg://user@host:5432/db or sqlite:///path",
    "token_ttl_minutes": "a whole number of minutes from 1 to 10080",
    "default_approval_threshold": "an amount in CNY such as 200000 or 150000.50 (0 or more)",
    "default_min_remaining_shelf_life_days": "a whole number of days from 0 to 36500",
    "credit_warning_share": "a share of the credit limit above 0 and at most 1, such as 0.90",
    "credit_starting_limit": "an amount in CNY such as 100000 (0 or more)",
    "close_rate_limit_percent": "a percentage above 0 and at most 1000, such as 10",
    "close_rate_move_points": "percentage points above 0 and at most 1000, such as 5",
    "sql_echo": "1 or 0 (true or false)",
    "job_runner": "thread or worker",
    "job_threads": "a whole number from 1 to 64",
    "session_cookie_secure": "1 or 0 (true or false)",
    "session_ttl_minutes": "a whole number of minutes from 1 to 10080",
    "max_request_bytes": "a number of bytes from 65536 to 1073741824",
    "max_upload_bytes": "a number of bytes from 65536 to 4294967296, at least ERP_MAX_REQUEST_BYTES",
    "db_pool_size": "a whole number of connections from 1 to 1000",
    "db_max_overflow": "a whole number of connections from 0 to 1000",
    "db_pool_pre_ping": "1 or 0 (true or false)",
    "reporting_database_url": "empty, or postgresql+psycopg://user@replica-host:5432/db",
    "business_date": "empty (today in Asia/Shanghai), or a date YYYY-MM-DD for a training copy",
    "sign_in_rate_limit": "a rate limit such as 60/minute or 200/minute;2000/hour",
}


def variable_of(field_name: str) -> str:
    """The environment variable that sets a field."""
    alias = Settings.model_fields[field_name].validation_alias
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    return f"{ENV_PREFIX}{field_name.upper()}"


def describe(error: ValidationError) -> str:
    """One line per wrong setting: the variable, the value given and what is allowed."""
    lines = []
    for item in error.errors():
        location = [part for part in item.get("loc", ()) if isinstance(part, str)]
        field_name = next((name for name in Settings.model_fields
                           if location and location[0] in (name, variable_of(name), variable_of(name).lower())), None)
        if field_name is None:  # a rule over several settings
            lines.append(str(item.get("msg", "")).removeprefix("Value error, "))
            continue
        reason = str(item.get("msg", "")).removeprefix("Value error, ")
        allowed = ALLOWED.get(field_name)
        lines.append(f"{variable_of(field_name)}={item.get('input')!r} is not allowed: "
                     f"{allowed + ' (' + reason + ')' if allowed else reason}")
    return "; ".join(lines)


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment (and ``overrides``); ``ConfigurationError`` naming each
    wrong variable and what it allows."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ConfigurationError(describe(exc)) from None


def ensure_database(url: str) -> str | None:
    """Check that the database behind ``url`` answers, creating a PostgreSQL database that
    does not exist yet (the server's maintenance database ``postgres`` runs CREATE DATABASE).

    Returns what it did ("created database ...") or None; raises ``ConfigurationError``
    with one line saying what is wrong with ``ERP_DATABASE_URL`` and how to put it right.
    """
    from sqlalchemy import create_engine
    from sqlalchemy.exc import DBAPIError, OperationalError
    from sqlalchemy.pool import NullPool

    parsed = make_url(url)
    where = f"{parsed.host or 'localhost'}:{parsed.port or 5432}" if parsed.get_backend_name() == "postgresql" else ""

    def reason(error: DBAPIError) -> str:
        return str(error.orig).strip().splitlines()[0] if error.orig else str(error)

    probe = create_engine(url, poolclass=NullPool)
    try:
        with probe.connect():
            return None
    except OperationalError as exc:
        if parsed.get_backend_name() == "sqlite":
            raise ConfigurationError(f"ERP_DATABASE_URL={url!r}: cannot open the SQLite file ({reason(exc)}); "
                                     "does its folder exist?") from None
        # libpq reports a missing database while connecting, as a message without a SQLSTATE.
        missing = getattr(exc.orig, "sqlstate", None) == "3D000" or \
            f'database "{parsed.database}" does not exist' in str(exc.orig)
        if not missing:
            raise ConfigurationError(f"ERP_DATABASE_URL: cannot connect to PostgreSQL at {where} ({reason(exc)}); "
                                     "is the server running and the user allowed in?") from None
    finally:
        probe.dispose()
    name = parsed.database or ""
    admin = create_engine(parsed.set(database="postgres"), poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql('CREATE DATABASE "' + name.replace('"', '""') + '"')
    except DBAPIError as exc:
        raise ConfigurationError(
            f"ERP_DATABASE_URL: database {name!r} does not exist on {where} and could not be created "
            f"({reason(exc)}); create it with: createdb -h {parsed.host or 'localhost'} -p {parsed.port or 5432} "
            f"-U {parsed.username or 'postgres'} {name}"
        ) from None
    finally:
        admin.dispose()
    return f"created database {name!r} on {where}"
