"""What `make serve`'s gunicorn (gunicorn.conf.py, gunicorn 27's Python parser) refuses. Each
malformed request is sent on a raw socket to a server started from gunicorn.conf.py: it is
answered with the status named here and the connection is closed, so a request smuggled
behind it is never answered. Pipelined good requests on one connection are each answered."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from tests.serving.test_gunicorn import Server

pytestmark = pytest.mark.postgres

HOST = b"Host: 127.0.0.1\r\n"


# (name, raw request, the status gunicorn answers). None of these reaches the application.
MALFORMED = [
    # Request smuggling: a second request hidden in what one framing calls the body.
    ("Content-Length beside Transfer-Encoding",
     b"POST /health/live HTTP/1.1\r\n" + HOST + b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"0\r\n\r\nGET /health/live HTTP/1.1\r\n" + HOST + b"\r\n", 400),
    ("two different Content-Lengths",
     b"POST /health/live HTTP/1.1\r\n" + HOST + b"Content-Length: 4\r\nContent-Length: 5\r\n\r\nabcde", 400),
    ("a signed Content-Length", b"POST /health/live HTTP/1.1\r\n" + HOST + b"Content-Length: +5\r\n\r\nabcde", 400),
    ("chunked twice", b"POST /health/live HTTP/1.1\r\n" + HOST
     + b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    ("a Transfer-Encoding that does not end in chunked",
     b"POST /health/live HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: identity\r\n\r\n", 400),
    ("a space before a header's colon",
     b"POST /health/live HTTP/1.1\r\n" + HOST + b"Content-Length : 5\r\n\r\nabcde", 400),
    ("a header line folded onto the next (obsolete)",
     b"GET /health/live HTTP/1.1\r\n" + HOST + b"X-A: a\r\n b\r\n\r\n", 400),
    ("a header starting with whitespace", b"GET /health/live HTTP/1.1\r\n" + HOST + b"\tX-A: a\r\n\r\n", 400),
    ("lines ended by a bare LF", b"GET /health/live HTTP/1.1\n" + HOST.replace(b"\r", b"") + b"\n", 400),
    ("one header ended by a bare LF", b"GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\nX-A: a\r\n\r\n", 400),
    ("a NUL in a header value", b"GET /health/live HTTP/1.1\r\n" + HOST + b"X-A: a\x00b\r\n\r\n", 400),
    ("a method that is not a token", b"G@T /health/live HTTP/1.1\r\n" + HOST + b"\r\n", 400),
    ("HTTP/2.0 in an HTTP/1 request line", b"GET /health/live HTTP/2.0\r\n" + HOST + b"\r\n", 400),
    # Limits (gunicorn's defaults: request line 4094 bytes, 100 headers, 8190 bytes a header).
    ("a request line over the limit", b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\n" + HOST + b"\r\n", 414),
    ("a request line over the limit after the empty line RFC 9112 allows before it",
     b"\r\nGET /" + b"a" * 5000 + b" HTTP/1.1\r\n" + HOST + b"\r\n", 414),
    ("more headers than the limit",
     b"GET /health/live HTTP/1.1\r\n" + HOST + b"".join(b"X-%d: y\r\n" % i for i in range(120)) + b"\r\n", 431),
    ("a header over the size limit", b"GET /health/live HTTP/1.1\r\n" + HOST + b"X-Big: " + b"y" * 9000 + b"\r\n\r\n",
     431),
]


@pytest.fixture(scope="module")
def server(_postgres_engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One gunicorn started from gunicorn.conf.py, as test_gunicorn's ``serve`` starts it, for the
    whole module (one worker; nothing here touches the data): started per test, as ``serve``
    does, the module took 7.5 minutes on the shared machine."""
    started = Server(_postgres_engine.url.render_as_string(hide_password=False), tmp_path_factory.mktemp("parser"),
                     ERP_WEB_WORKERS="1")
    try:
        started.wait_ready()
        yield started
    finally:
        started.stop()


def exchange(server: Server, raw: bytes) -> bytes:
    """Send ``raw`` and read until the server closes the connection (a timeout fails)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
        connection.sendall(raw)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    return received


@pytest.mark.parametrize(("name", "raw", "status"), MALFORMED, ids=[case[0] for case in MALFORMED])
def test_a_malformed_request_is_refused_and_its_connection_closed(server: Server, name: str, raw: bytes,
                                                                  status: int) -> None:
    received = exchange(server, raw)
    assert received.startswith(b"HTTP/1.1 %d " % status), (name, received[:200])
    # One answer, then the connection closed: nothing behind the malformed request is served.
    head, _, rest = received.partition(b"\r\n\r\n")
    assert b"\r\nconnection: close\r\n" in head.lower() + b"\r\n", (name, head)
    length = int(head.lower().split(b"\r\ncontent-length:")[1].split(b"\r\n")[0])
    assert len(rest) == length, (name, received)


def test_pipelined_requests_on_one_connection_are_each_answered(server: Server) -> None:
    one = b"GET /health/live HTTP/1.1\r\n" + HOST + b"\r\n"
    received = exchange(server, one + one.replace(b"HTTP/1.1\r\n", b"HTTP/1.1\r\nConnection: close\r\n", 1))
    assert received.count(b"HTTP/1.1 200 ") == 2, received
