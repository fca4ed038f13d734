"""Issue 14, item 9: a setting that cannot work stops the start with one line naming the
variable and what it allows; never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from erp.config import ConfigurationError, ensure_database, load_settings
from tests.conftest import TEST_DATABASE_URL


def flask(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ERP_")}
    environment.setdefault("ERP_DATABASE_URL", f"sqlite:///{tmp_path / 'erp.sqlite3'}")
    environment.update(env)
    return subprocess.run([sys.executable, "-m", "flask", "--app", "erp", *args], capture_output=True, text=True,
                          env=environment, timeout=120)


@pytest.mark.parametrize(("variable", "value", "says"), [
    ("ERP_APPROVAL_THRESHOLD", "two hundred thousand", "an amount in CNY"),
    ("ERP_CREDIT_WARNING_SHARE", "1.5", "at most 1"),
    ("ERP_DATABASE_URL", "mysql://erp@localhost/erp", "mysql is not supported"),
    ("ERP_TOKEN_TTL_MINUTES", "forever", "a whole number of minutes"),
    ("ERP_JOB_RUNNER", "cron", "thread or worker"),
    ("ERP_BUSINESS_DATE", "2026-13-01", "a date YYYY-MM-DD for a training copy"),
    # A Unix time pydantic would take as a date, but the clock (date.fromisoformat) could not read.
    ("ERP_BUSINESS_DATE", "1764547200", "a date YYYY-MM-DD for a training copy"),
])
def test_a_wrong_setting_stops_the_start_with_one_line_naming_it(
    tmp_path: Path, variable: str, value: str, says: str
) -> None:
    result = flask(["routes"], tmp_path, **{variable: value})
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"configuration error: {variable}={value!r} is not allowed")
    assert says in line


def test_several_wrong_settings_are_all_named() -> None:
    with pytest.raises(ConfigurationError) as refused:
        load_settings(default_approval_threshold="abc", credit_warning_share="1.5")
    assert "ERP_APPROVAL_THRESHOLD='abc'" in refused.value.message
    assert "ERP_CREDIT_WARNING_SHARE='1.5'" in refused.value.message


def test_platform_style_postgres_urls_mean_psycopg(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ERP_DATABASE_URL", "postgres://erp:secret@db.internal:5432/heyi")
    assert load_settings().database_url == "postgresql+psycopg://erp:secret@db.internal:5432/heyi"
    monkeypatch.setenv("ERP_DATABASE_URL", "postgresql://erp@db.internal/heyi")
    assert load_settings().database_url == "postgresql+psycopg://erp@db.internal/heyi"


def test_settings_read_their_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ERP_APPROVAL_THRESHOLD", "150000.50")
    monkeypatch.setenv("ERP_CREDIT_WARNING_SHARE", "0.8")
    monkeypatch.setenv("ERP_SQL_ECHO", "")
    settings = load_settings()
    assert (settings.default_approval_threshold, settings.credit_warning_share, settings.sql_echo) == (
        Decimal("150000.50"), Decimal("0.8"), False)


def test_loading_the_demo_twice_says_so_in_one_line(tmp_path: Path) -> None:
    assert flask(["db", "upgrade"], tmp_path).returncode == 0
    assert flask(["demo", "load"], tmp_path).returncode == 0
    again = flask(["demo", "load"], tmp_path)
    assert again.returncode == 1 and "Traceback" not in again.stderr
    assert again.stderr.strip() == ("Error: the database already holds a group: the demo loads only into an "
                                    "empty database (`make clean` removes the demo's SQLite file; `--if-empty` "
                                    "skips the load)")
    assert flask(["demo", "load", "--if-empty"], tmp_path).returncode == 0


def test_an_unreachable_postgresql_is_one_line(tmp_path: Path) -> None:
    result = flask(["routes"], tmp_path, ERP_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:1/heyi")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("configuration error: ERP_DATABASE_URL: cannot connect to PostgreSQL at 127.0.0.1:1")


@pytest.mark.postgres
def test_a_postgresql_database_that_does_not_exist_is_created() -> None:
    name = f"erp_created_{uuid.uuid4().hex[:12]}"
    url = make_url(TEST_DATABASE_URL).set(database=name).render_as_string(hide_password=False)
    admin = create_engine(make_url(TEST_DATABASE_URL).set(database="postgres"), poolclass=NullPool,
                          isolation_level="AUTOCOMMIT")
    try:
        assert ensure_database(url) == f"created database {name!r} on {make_url(url).host}:{make_url(url).port or 5432}"
        assert ensure_database(url) is None  # there now
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()

