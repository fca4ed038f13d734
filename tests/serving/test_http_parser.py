"""What `make serve`'s gunicorn (gunicorn.conf.py, gunicorn 27's Python parser) refuses. Each
malformed request is sent on a raw socket to a server started from gunicorn.conf.py: it is
answered with the status named here and the connection is closed, so a request smuggled
behind it is never answered. Pipelined good requests on one connection are each answered."""

from __future__ import annotations

import socket
import threading
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


SILENCE = 5.0  # seconds without a byte after which a connection left open counts as kept open


def exchange(port: int, raw: bytes) -> tuple[bytes, bool]:
    """Send ``raw``; read until the server closes the connection, or until it has said nothing
    for ``SILENCE`` seconds. What was received, and whether the server closed the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=SILENCE) as connection:
        connection.sendall(raw)
        received = b""
        try:
            while chunk := connection.recv(65536):
                received += chunk
        except TimeoutError:
            return received, False
    return received, True


def assert_refused_and_closed(port: int, name: str, raw: bytes, status: int) -> None:
    """One answer with ``status`` saying it closes the connection, nothing after that answer,
    and the connection closed by the server: a request smuggled behind is never served."""
    received, closed = exchange(port, raw)
    assert received.startswith(b"HTTP/1.1 %d " % status), (name, "not that answer", received[:200])
    head, _, rest = received.partition(b"\r\n\r\n")
    assert b"\r\nconnection: close\r\n" in head.lower() + b"\r\n", (name, "no Connection: close", head)
    length = int(head.lower().split(b"\r\ncontent-length:")[1].split(b"\r\n")[0])
    assert len(rest) == length, (name, "more than one answer", received)
    assert closed, (name, "the server kept the connection open after its answer", received)


@pytest.mark.parametrize(("name", "raw", "status"), MALFORMED, ids=[case[0] for case in MALFORMED])
def test_a_malformed_request_is_refused_and_its_connection_closed(server: Server, name: str, raw: bytes,
                                                                  status: int) -> None:
    assert_refused_and_closed(server.port, name, raw, status)


REFUSAL = b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 2\r\n\r\nno"
HEALTHY = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


@pytest.mark.parametrize(
    ("answer", "then_close", "flaw"),
    [
        (REFUSAL, False, "kept the connection open"),
        (REFUSAL + HEALTHY, True, "more than one answer"),
        (REFUSAL.replace(b"Connection: close\r\n", b""), True, "no Connection: close"),
    ],
    ids=["keeps the connection open", "answers the smuggled request", "no Connection: close"],
)
def test_the_refusal_checks_fail_against_a_server_that_does_not_close(answer: bytes, then_close: bool,
                                                                       flaw: str) -> None:
    """The checks above, against a stand-in server that answers 400 and then misbehaves in
    one way each: each check fails on its own (the connection kept open is seen as such, not
    passed over, since the reading stops at ``SILENCE``, not at the answer's length)."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def serve() -> None:
        connection, _ = listener.accept()
        connection.recv(65536)
        connection.sendall(answer)
        if then_close:
            connection.close()
        else:
            held.append(connection)  # open until the test is over

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        with pytest.raises(AssertionError, match=flaw):  # that check, not another
            assert_refused_and_closed(listener.getsockname()[1], "stand-in", MALFORMED[0][1], 400)
    finally:
        thread.join(timeout=SILENCE)
        for connection in held:
            connection.close()
        listener.close()


def test_pipelined_requests_on_one_connection_are_each_answered(server: Server) -> None:
    one = b"GET /health/live HTTP/1.1\r\n" + HOST + b"\r\n"
    received, closed = exchange(server.port, one + one.replace(b"HTTP/1.1\r\n", b"HTTP/1.1\r\nConnection: close\r\n", 1))
    assert received.count(b"HTTP/1.1 200 ") == 2, received
    assert closed, received  # the second asked for it
