"""Shared set-up for the benchmarks: a fresh PostgreSQL database, migrated, with the
machine's description for the record."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy import Engine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from erp import models  # noqa: E402,F401 - registers every table, as a database kept by --keep needs
from erp.db import make_engine  # noqa: E402
from erp.migrate import upgrade  # noqa: E402

ADMIN_URL = os.environ.get("ERP_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@contextmanager
def fresh_database(name: str, *, keep: bool = False, template: str | None = None) -> Iterator[tuple[Engine, str]]:
    """A new, migrated PostgreSQL database (a copy of database ``template`` when given);
    dropped afterwards unless ``keep``."""
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    url = "postgresql+psycopg://" + ADMIN_URL.removeprefix("postgresql://").rsplit("/", 1)[0] + f"/{name}"
    engine = make_engine(url)
    upgrade(engine)
    try:
        yield engine, url.replace("postgresql+psycopg://", "postgresql://")
    finally:
        engine.dispose()
        if not keep:
            with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    with psycopg.connect(ADMIN_URL) as conn:
        server = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
    return f"{os.cpu_count()} cores, {cpu}, {platform.python_implementation()} {platform.python_version()}, PostgreSQL {server}"


def timed(fn: Callable[[], object], repeat: int = 3) -> float:
    """Median wall time of ``fn`` over ``repeat`` runs, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def git_revision() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
