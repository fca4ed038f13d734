"""Configuration read from the environment, with zero-setup defaults.

Every setting has a default that works on a fresh clone: the database is a SQLite file
under ``instance/``. Production sets ``ERP_DATABASE_URL`` to PostgreSQL
(``postgresql+psycopg://user@host/db``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_PATH = PROJECT_ROOT / "instance" / "erp.sqlite3"


def default_database_url() -> str:
    """The database URL from ``ERP_DATABASE_URL``, else the SQLite file under instance/."""
    url = os.environ.get("ERP_DATABASE_URL")
    if url:
        return url
    DEFAULT_SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{DEFAULT_SQLITE_PATH}"


@dataclass(frozen=True)
class Settings:
    """Business and technical settings; tests and deployments override fields."""

    database_url: str = field(default_factory=default_database_url)
    # Bearer tokens expire; a stolen token is useful for a working day at most.
    token_ttl_minutes: int = int(os.environ.get("ERP_TOKEN_TTL_MINUTES", "480"))
    # Orders above this value wait for a purchasing manager (companies may override).
    default_approval_threshold: Decimal = Decimal(os.environ.get("ERP_APPROVAL_THRESHOLD", "200000"))
    # A receipt whose batch has less remaining shelf life than this is refused
    # (materials may set their own minimum).
    default_min_remaining_shelf_life_days: int = int(
        os.environ.get("ERP_MIN_REMAINING_SHELF_LIFE_DAYS", "30")
    )
    # Credit: from this share of the limit an action passes with a warning.
    credit_warning_share: Decimal = Decimal(os.environ.get("ERP_CREDIT_WARNING_SHARE", "0.90"))
    # Credit: the limit in force for a customer no controller has approved a limit for (the
    # limit model's suggestions for customers without history are its rules' starting limits).
    credit_starting_limit: Decimal = Decimal(os.environ.get("ERP_CREDIT_STARTING_LIMIT", "100000"))
    # werkzeug password hash method; tests use a cheaper scrypt cost to stay fast.
    password_hash_method: str = os.environ.get("ERP_PASSWORD_HASH_METHOD", "scrypt")
    sql_echo: bool = os.environ.get("ERP_SQL_ECHO", "") == "1"
    # Background jobs (docs/jobs.md): "thread" runs them in the web process (zero setup);
    # "worker" only queues them for `flask --app erp jobs work` processes (production).
    job_runner: str = os.environ.get("ERP_JOB_RUNNER", "thread")
    job_threads: int = int(os.environ.get("ERP_JOB_THREADS", "2"))
    # Signs the browser session cookie. Empty: a random key kept in instance/secret_key
    # (created on first start), so sessions survive restarts without a key in the repo.
    secret_key: str = os.environ.get("ERP_SECRET_KEY", "")
    # The session cookie is sent over HTTPS only. Browsers treat http://127.0.0.1 and
    # localhost as secure, so the demo and the browser tests work with it on.
    session_cookie_secure: bool = os.environ.get("ERP_SESSION_COOKIE_SECURE", "1") != "0"
    # Browser sessions end after this many minutes (the sign-in token's lifetime).
    session_ttl_minutes: int = int(os.environ.get("ERP_SESSION_TTL_MINUTES", "600"))
    # Where sign-in throttling keeps its counters (Flask-Limiter storage URI); several
    # server processes share them through e.g. redis://host:6379.
    ratelimit_storage_uri: str = os.environ.get("ERP_RATELIMIT_STORAGE_URI", "memory://")
