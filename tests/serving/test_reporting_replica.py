"""Read-only reports served from a real PostgreSQL streaming replica.

The test starts its own primary and standby clusters on two free loopback ports (initdb,
then ``pg_basebackup -R`` of the primary, each cluster run by the ``postgres`` system user
when the tests run as root, as in CI), migrates the primary, and runs the app with
``ERP_REPORTING_DATABASE_URL`` pointing at the standby.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from erp import create_app
from erp.config import Settings
from erp.db import make_engine, make_session_factory
from erp.inventory.models import StockDocument
from erp.migrate import upgrade
from tests.stock import open_order, set_standard
from tests.world import World, build_world

pytestmark = pytest.mark.postgres


def _bindir() -> Path:
    try:
        found = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True).stdout.strip()
        if (Path(found) / "initdb").exists():
            return Path(found)
    except (OSError, subprocess.CalledProcessError):
        pass
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    assert candidates, "PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup) not found"
    return candidates[-1].parent


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Clusters:
    primary_url: str
    replica_url: str
    replica_dir: Path
    run: Any


@pytest.fixture(scope="module")
def clusters() -> Iterator[Clusters]:
    bindir = _bindir()
    as_root = os.geteuid() == 0
    base = Path(tempfile.mkdtemp(prefix="heyi-replica-"))
    if as_root:  # PostgreSQL refuses to run as root: the clusters belong to the postgres user
        shutil.chown(base, "postgres", "postgres")

    def run(*args: str | Path) -> str:
        command = [str(a) for a in args]
        if as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"{command}: {done.stdout}\n{done.stderr}"
        return done.stdout

    primary, replica = base / "primary", base / "replica"
    primary_port, replica_port = _free_port(), _free_port()
    options = f"-c listen_addresses=127.0.0.1 -k {base} -c fsync=off -c full_page_writes=off"
    started: list[Path] = []
    try:
        run(bindir / "initdb", "-D", primary, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        run(bindir / "pg_ctl", "-D", primary, "-l", base / "primary.log", "-w", "-t", "120",
            "-o", f"-p {primary_port} {options}", "start")
        started.append(primary)
        primary_url = f"postgresql+psycopg://postgres@127.0.0.1:{primary_port}/heyi"
        admin = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{primary_port}/postgres",
                            isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.exec_driver_sql("CREATE DATABASE heyi")
        admin.dispose()
        migrated = make_engine(primary_url)
        upgrade(migrated)
        migrated.dispose()
        # The standby: a base backup streaming its WAL, -R writes standby.signal and primary_conninfo.
        run(bindir / "pg_basebackup", "-h", "127.0.0.1", "-p", primary_port, "-U", "postgres", "-D", replica,
            "-R", "-X", "stream", "--checkpoint=fast", "--no-sync")
        run(bindir / "pg_ctl", "-D", replica, "-l", base / "replica.log", "-w", "-t", "120",
            "-o", f"-p {replica_port} {options}", "start")
        started.append(replica)
        yield Clusters(primary_url, f"postgresql+psycopg://postgres@127.0.0.1:{replica_port}/heyi", replica,
                       lambda *args: run(bindir / "pg_ctl", *args))
    finally:
        for directory in reversed(started):
            try:
                run(bindir / "pg_ctl", "-D", directory, "-m", "immediate", "-w", "stop")
            except AssertionError:
                pass  # stopped by the test already
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def primary(clusters: Clusters) -> Iterator[Engine]:
    engine = make_engine(clusters.primary_url)
    yield engine
    engine.dispose()


def wait_for(condition: Any, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def replica_has(replica: Engine, sql: str, expected: Any) -> bool:
    with replica.connect() as connection:
        return connection.execute(text(sql)).scalar() == expected


def receipt(line: int, batch: str, quantity: str = "10") -> dict[str, Any]:
    return {"po_line_id": line, "quantity": quantity, "posting_date": "2026-11-20", "batch_number": batch,
            "manufacture_date": "2026-10-01", "expiry_date": "2029-09-30"}


def test_reports_are_served_from_the_replica_while_receipts_post_on_the_primary(
    clusters: Clusters, primary: Engine,
) -> None:
    session_factory: sessionmaker[Session] = make_session_factory(primary)
    world: World = build_world(session_factory)
    set_standard(session_factory, world, "api_central", "52.00")
    (line,) = open_order(session_factory, world, [("api_central", "100000", "55.50", "A-COOL")])
    settings = Settings(database_url=clusters.primary_url, reporting_database_url=clusters.replica_url,
                        password_hash_method="scrypt:1024:8:1")
    app = create_app(settings)
    client = app.test_client()
    replica: Engine = app.extensions["erp"].reporting_engine
    cio = {"Authorization": f"Bearer {world.tokens['cio']}"}
    clerk = {"Authorization": f"Bearer {world.tokens['clerk_a']}"}
    wait_for(lambda: replica_has(replica, f"SELECT count(*) FROM purchase_order_lines WHERE id = {line}", 1),
             "the order to reach the replica")

    # 1. Reads go to the replica: with its replay paused, a receipt committed on the primary
    # is not in the valuation the API serves, and the response says how far behind it is.
    with replica.connect() as connection:
        connection.execute(text("SELECT pg_wal_replay_pause()"))
        connection.commit()
    posted = client.post("/api/v1/inventory/receipts", json=receipt(line, "R-1", "120"), headers=clerk)
    assert posted.status_code == 201, posted.get_json()
    with primary.connect() as connection:  # the write went to the primary
        assert connection.execute(select(func.count(StockDocument.id))).scalar_one() == 1
    company = world.companies["A"]
    stale = client.get("/api/v1/costing/valuation", query_string={"company_id": company}, headers=cio)
    assert stale.status_code == 200, stale.get_json()
    assert stale.get_json() == []  # the replica has not replayed the receipt
    assert stale.headers["X-Served-From"] == "replica"
    time.sleep(1.1)
    behind = client.get("/api/v1/costing/valuation", query_string={"company_id": company}, headers=cio)
    assert float(behind.headers["X-Replica-Lag-Seconds"]) >= 1.0
    with replica.connect() as connection:
        connection.execute(text("SELECT pg_wal_replay_resume()"))
        connection.commit()

    def valued() -> Any:
        return client.get("/api/v1/costing/valuation", query_string={"company_id": company}, headers=cio).get_json()

    wait_for(lambda: valued() != [], "the replica to replay the receipt")
    [row] = valued()
    # 120 kg at the standard 52.00 = 6,240.00; variance (55.50 - 52.00) x 120 = 420.00.
    assert (row["quantity"], row["standard_value"], row["variance"], row["actual_value"]) == (
        "120.0000", "6240.00", "420.00", "6660.00")

    # 2. The CIO's dashboard is served from the replica while clerks post on the primary.
    errors: list[Any] = []

    def post_receipts() -> None:
        poster = app.test_client()
        for number in range(20):
            response = poster.post("/api/v1/inventory/receipts", json=receipt(line, f"L-{number}"), headers=clerk)
            if response.status_code != 201:
                errors.append(response.get_json())

    posting = threading.Thread(target=post_receipts)
    posting.start()
    served = []
    while posting.is_alive() or not served:
        response = client.get("/api/v1/credit/dashboard", headers=cio)
        assert response.status_code == 200, response.get_json()
        served.append(response.headers["X-Served-From"])
        float(response.headers["X-Replica-Lag-Seconds"])
    posting.join()
    assert errors == [] and set(served) == {"replica"}
    with primary.connect() as connection:
        assert connection.execute(select(func.count(StockDocument.id))).scalar_one() == 21
    wait_for(lambda: replica_has(replica, "SELECT count(*) FROM stock_documents", 21), "the replica to catch up")
    [row] = valued()
    assert (row["quantity"], row["standard_value"]) == ("320.0000", "16640.00")  # (120 + 20 x 10) x 52.00

    # 3. Writes never go there: the reporting engine's transactions are read-only.
    with pytest.raises(DBAPIError, match="read-only transaction"):
        with make_session_factory(replica)() as session, session.begin():
            session.execute(text("UPDATE purchase_order_lines SET received_quantity = 0"))

    # 4. A replica that does not answer: reports say so (503), receipts still post.
    clusters.run("-D", clusters.replica_dir, "-m", "fast", "-w", "stop")
    down = client.get("/api/v1/credit/dashboard", headers=cio)
    assert down.status_code == 503, down.get_json()
    assert down.get_json()["type"].endswith("/reporting-unavailable")
    assert down.headers["Retry-After"] == "30"
    still = client.post("/api/v1/inventory/receipts", json=receipt(line, "AFTER"), headers=clerk)
    assert still.status_code == 201, still.get_json()
    replica.dispose()
    app.extensions["erp"].engine.dispose()


def test_without_a_replica_reports_say_they_come_from_the_primary(api, world: World) -> None:  # noqa: ANN001
    response = api.as_("cio").get("/api/v1/credit/dashboard")
    assert response.status_code == 200
    assert response.headers["X-Served-From"] == "primary"
    assert "X-Replica-Lag-Seconds" not in response.headers
    assert "X-Served-From" not in api.as_("steward").get("/api/v1/materials").headers
