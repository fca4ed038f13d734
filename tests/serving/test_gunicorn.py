"""The app as production serves it: gunicorn with gunicorn.conf.py against PostgreSQL, as
`make serve` starts it. JSON log lines, the connection budget, graceful shutdown."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from erp.inventory.models import StockDocument
from erp.purchasing.models import PurchaseOrderLine
from tests.stock import open_order, set_standard
from tests.world import World

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    """A gunicorn master started with the project's config; stderr captured to a file."""

    def __init__(self, database_url: str, tmp_path: Path, command: list[str] | None = None, **env: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp_path / f"gunicorn-{self.port}.log"
        environment = {**os.environ, "ERP_DATABASE_URL": database_url, "ERP_BIND": f"127.0.0.1:{self.port}",
                       "ERP_WEB_WORKERS": "2", "ERP_WEB_THREADS": "2", "ERP_PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
                       **env}
        self.log = self.log_path.open("w")
        # Its own process group: stopping `make serve` signals make and gunicorn alike, as a
        # terminal's Ctrl-C or a process manager's stop would.
        self.process = subprocess.Popen(command or [str(GUNICORN), "-c", "gunicorn.conf.py"], cwd=ROOT,
                                        env=environment, stdout=self.log, stderr=subprocess.STDOUT,
                                        start_new_session=True)

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log_path.read_text()
            try:
                with urllib.request.urlopen(self.base + "/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:  # refused, reset, or timed out while the workers boot
                time.sleep(0.2)
        raise AssertionError(f"gunicorn not ready: {self.log_path.read_text()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if not self.log.closed:
            self.log.close()


@pytest.fixture
def serve(database_url: str, tmp_path: Path) -> Iterator[Any]:
    servers: list[Server] = []

    def start(command: list[str] | None = None, **env: str) -> Server:
        servers.append(Server(database_url, tmp_path, command, **env))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def call(server: Server, method: str, path: str, token: str | None = None, body: Any = None,
         headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
    request = urllib.request.Request(server.base + path, method=method,
                                     data=json.dumps(body).encode() if body is not None else None)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    for key, value in (headers or {}).items():
        request.add_header(key, value)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, dict(response.headers), json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read() or b"null")


def test_make_serve_migrates_and_serves_json_log_lines_with_request_id_and_user(serve: Any, world: World) -> None:
    server = serve(["make", "--no-print-directory", "-s", "serve"])
    server.wait_ready()
    status, headers, _ = call(server, "GET", "/api/v1/materials", world.tokens["steward"],
                              headers={"X-Request-Id": "trace-42"})
    assert status == 200 and headers["X-Request-Id"] == "trace-42"
    server.stop()
    output = server.log_path.read_text().splitlines()
    # make serve's migration step (after an install, when pyproject.toml changed), then gunicorn's lines.
    migrated = output.index("database at head")
    lines = [json.loads(line) for line in output[migrated + 1:] if line.strip()]  # every one of them is JSON
    [access] = [line for line in lines if line.get("request_id") == "trace-42"]
    assert access["logger"] == "erp.access"
    assert (access["method"], access["path"], access["status"], access["user"]) == (
        "GET", "/api/v1/materials", 200, "steward")
    assert access["duration_ms"] > 0 and access["timestamp"]
    assert any("serving on 127.0.0.1" in line["message"] and "2 workers x 2 threads" in line["message"]
               for line in lines)


def test_a_deployment_beyond_max_connections_does_not_start(serve: Any, engine: Engine) -> None:
    with engine.connect() as connection:
        max_connections = int(connection.exec_driver_sql("SHOW max_connections").scalar_one())
    # Enough workers that workers x (4 + 4) exceeds the server's limit whatever it is.
    workers = max_connections // 8 + 1
    server = serve(ERP_WEB_WORKERS=str(workers), ERP_DB_POOL_SIZE="4", ERP_DB_MAX_OVERFLOW="4")
    assert server.process.wait(timeout=60) != 0
    output = server.log_path.read_text()
    assert f"{workers} workers x (pool 4 + overflow 4) = {workers * 8} connections" in output
    assert "Booting worker" not in output


def test_production_serving_refuses_a_pinned_business_day(serve: Any) -> None:
    server = serve(ERP_BUSINESS_DATE="2026-12-31")
    assert server.process.wait(timeout=60) != 0
    output = server.log_path.read_text()
    assert "ERP_BUSINESS_DATE='2026-12-31' pins the business day" in output
    assert "Booting worker" not in output


def activity(connection: Any) -> str:
    """What every session of the server is doing: for a failure message."""
    rows = connection.execute(text(
        "SELECT pid, datname, state, wait_event_type, wait_event, left(query, 120) FROM pg_stat_activity "
        "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()")).all()
    return "\n".join(str(tuple(row)) for row in rows)


def test_shutdown_lets_an_in_flight_receipt_finish_and_commit(
    serve: Any, world: World, session_factory: sessionmaker[Session], engine: Engine,
) -> None:
    set_standard(session_factory, world, "api_central", "52.00")
    (line,) = open_order(session_factory, world, [("api_central", "200", "55.50", "A-COOL")])
    server = serve()
    server.wait_ready()
    body = {"po_line_id": line, "quantity": "120", "posting_date": "2026-11-20", "batch_number": "B-001",
            "manufacture_date": "2026-10-01", "expiry_date": "2029-09-30"}
    result: dict[str, Any] = {}
    # Hold the order line so the receipt is in flight (waiting on the row lock) when SIGTERM comes.
    with session_factory() as holder:
        holder.begin()
        holder.execute(select(PurchaseOrderLine).where(PurchaseOrderLine.id == line).with_for_update())
        poster = threading.Thread(target=lambda: result.update(
            zip(("status", "headers", "body"), call(server, "POST", "/api/v1/inventory/receipts",
                                                    world.tokens["clerk_a"], body))))
        poster.start()
        deadline = time.monotonic() + 120  # a loaded machine is slow to get there
        # AUTOCOMMIT: pg_stat_activity is read once per transaction and kept until it ends; a
        # watcher in one transaction would keep seeing its first look, from before the wait.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as watcher:
            while not watcher.execute(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database()")).scalar_one():
                assert poster.is_alive(), (f"the receipt did not wait for the lock: {result}\n"
                                           f"{activity(watcher)}\n{server.log_path.read_text()[-6000:]}")
                assert time.monotonic() < deadline, "the receipt never reached the order line's lock"
                time.sleep(0.05)
        server.process.send_signal(signal.SIGTERM)
        time.sleep(1.0)  # the master has told the workers to stop; the receipt still waits
        assert server.process.poll() is None
        holder.rollback()
    poster.join(timeout=60)
    assert result["status"] == 201, result
    assert server.process.wait(timeout=60) == 0
    with session_factory() as session:
        assert session.scalar(select(func.count(StockDocument.id))) == 1
        assert session.get(PurchaseOrderLine, line).received_quantity == 120
    # After shutdown nothing listens any more.
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(server.base + "/health/live", timeout=2)
