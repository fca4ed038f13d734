"""Shared set-up for the benchmarks: a fresh PostgreSQL database, migrated, with the
machine's description for the record, and gunicorn serving the app as ``make serve`` does."""

from __future__ import annotations

import http.client
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from sqlalchemy import Engine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from erp import models  # noqa: E402,F401 - registers every table, as a database kept by --keep needs
from erp.db import make_engine  # noqa: E402
from erp.migrate import upgrade  # noqa: E402

ADMIN_URL = os.environ.get("ERP_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
GUNICORN = Path(sys.executable).with_name("gunicorn")


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


def git_revision(root: Path = ROOT) -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    """A gunicorn master in its own process group, listening on 127.0.0.1:``port``."""

    port: int
    process: subprocess.Popen[bytes]

    def stop(self) -> int:
        """SIGTERM to the process group (in-flight requests finish), SIGKILL after 90 s; the
        master's exit status (0: graceful). Stopping a stopped server returns its status again."""
        if self.process.poll() is not None:
            return self.process.returncode
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            return self.process.wait(timeout=90)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            return -9


@contextmanager
def serve(url: str, *, log_path: Path | None = None, extra_env: dict[str, str] | None = None,
          root: Path = ROOT) -> Iterator[Server]:
    """gunicorn as `make serve` runs it (``gunicorn -c gunicorn.conf.py``) on database ``url``
    (postgresql:// or postgresql+psycopg://), on a free port; yields once ``/health`` answers 200
    and stops it on leaving. Its output goes to ``log_path`` (discarded without one);
    ``extra_env`` overrides its environment (fewer workers, a pinned business day); ``root``:
    another checkout of Heyi to serve (its own .venv), e.g. the revision before a change.
    Like `make serve`, it first brings the database to the checkout's migrations
    (``flask db upgrade``; nothing to do when it is there), so that ``/health`` answers 200."""
    env = {**os.environ, "ERP_DATABASE_URL": "postgresql+psycopg://" + url.split("://", 1)[1],
           "ERP_JOB_RUNNER": "worker", "ERP_LOG_LEVEL": "warning", **(extra_env or {})}
    port = free_port()
    env["ERP_BIND"] = f"127.0.0.1:{port}"
    with log_path.open("w") if log_path else open(os.devnull, "w") as log:
        gunicorn = GUNICORN if root == ROOT else root / ".venv" / "bin" / "gunicorn"
        subprocess.run([str(gunicorn.with_name("flask")), "--app", "erp", "db", "upgrade"], cwd=root, env=env,
                       stdout=log, stderr=subprocess.STDOUT, check=True)
        # Its own process group, so that stop() reaches the workers as `make serve`'s Ctrl-C would.
        server = Server(port, subprocess.Popen([str(gunicorn), "-c", "gunicorn.conf.py"], cwd=root, env=env,
                                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
    try:
        _wait_until_healthy(server, log_path)
        yield server
    finally:
        server.stop()


class KeepAliveClient:
    """One keep-alive HTTP/1.1 connection that sends each request as one write and reads the
    response by its Content-Length, for latency benchmarks: the client shares the cores with
    the server it measures, and a sequential check counts the client's own time in every
    latency. http.client (header objects, the email parser) took 1.6 ms of a 6.9 ms exposure
    check's p50 on the 2-core machine of 30 November's last session; this takes a fraction."""

    def __init__(self, port: int, timeout: float = 120) -> None:
        self._port, self._timeout = port, timeout
        self._host = f"127.0.0.1:{port}"
        self._connect()

    def _connect(self) -> None:
        self._socket = socket.create_connection(("127.0.0.1", self._port), timeout=self._timeout)
        self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._rest = b""

    def request(self, method: str, path: str, headers: dict[str, str] | None = None,
                body: bytes = b"") -> tuple[int, bytes, float]:
        """(status, body, milliseconds from the first byte sent to the last byte read). A
        connection the server closed while it idled (gunicorn's keep-alive timeout) before
        answering any of the request is opened again and the request sent once more, as
        http.client does: the server had read none of it."""
        head = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
        length = f"Content-Length: {len(body)}\r\n" if body or method not in ("GET", "HEAD") else ""
        message = f"{method} {path} HTTP/1.1\r\nHost: {self._host}\r\n{head}{length}\r\n".encode() + body
        for attempt in (1, 2):
            started = time.perf_counter()
            data = self._rest
            try:
                self._socket.sendall(message)
                while (header_end := data.find(b"\r\n\r\n")) < 0:
                    data += self._receive()
                break
            except (ConnectionError, BrokenPipeError) as closed:
                if attempt == 2 or data:
                    raise ConnectionError(f"{method} {path}: the server closed the connection") from closed
                self._socket.close()
                self._connect()
        fields = data[:header_end].lower()
        at = fields.index(b"\r\ncontent-length:") + 17
        line_end = fields.find(b"\r\n", at)
        end = header_end + 4 + int(fields[at:line_end if line_end >= 0 else None])
        while len(data) < end:
            data += self._receive()
        elapsed = (time.perf_counter() - started) * 1000
        self._rest = data[end:]
        return int(data[9:12]), data[header_end + 4:end], elapsed

    def _receive(self) -> bytes:
        chunk = self._socket.recv(1 << 20)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        return chunk

    def close(self) -> None:
        self._socket.close()


def _wait_until_healthy(server: Server, log_path: Path | None) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
            connection.request("GET", "/health")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        if server.process.poll() is not None:
            break
        time.sleep(0.3)
    raise SystemExit("gunicorn did not become ready" + (f"; see {log_path}" if log_path else ""))
