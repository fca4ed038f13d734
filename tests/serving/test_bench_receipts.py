"""The receipts benchmarks compare like with like (issue 18): the service layer's workers
build their engine as the served app does, and every measured phase starts with statistics
of the tables as they are (bench/receipts.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text

import bench.receipts as receipts
from erp.config import load_settings


class _Built(Exception):
    """Stops the worker once it has asked for its engine."""


def _engine_settings(monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    seen: dict[str, object] = {}

    def make_engine(url: str, **kwargs: object) -> Engine:
        seen.update(kwargs)
        raise _Built

    monkeypatch.setattr(receipts, "make_engine", make_engine)
    with pytest.raises(_Built):
        receipts._service_worker("postgresql://nowhere/none", 0, 1, 1, None, None)
    return seen


def test_the_service_workers_do_not_ping_at_checkout_as_the_served_app_does_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ERP_DB_POOL_PRE_PING", raising=False)
    assert load_settings().db_pool_pre_ping is False  # `make serve`'s default
    assert _engine_settings(monkeypatch)["pool_pre_ping"] is False


def test_the_service_workers_follow_the_serving_ping_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ERP_DB_POOL_PRE_PING", "1")
    assert _engine_settings(monkeypatch)["pool_pre_ping"] is True


@pytest.mark.postgres
def test_a_phase_starts_with_statistics_of_the_rows_written_since_setup(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS bench_analyze_probe"))
        conn.execute(text("CREATE TABLE bench_analyze_probe (id int PRIMARY KEY)"))
        conn.execute(text("ANALYZE bench_analyze_probe"))  # as SETUP does: before any row
        conn.execute(text("INSERT INTO bench_analyze_probe SELECT generate_series(1, 5000)"))
    try:
        receipts.analyze(engine.url.set(drivername="postgresql").render_as_string(hide_password=False))
        with engine.connect() as conn:
            rows = conn.scalar(text("SELECT reltuples FROM pg_class WHERE relname = 'bench_analyze_probe'"))
        assert rows == 5000
    finally:
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE bench_analyze_probe"))
