"""The receipts-over-HTTP benchmark's client (bench.http_receipts.http_run) counts what the
server answered: every request it sent is answered and timed once, a response other than
201 is an error, each connection posts only its own order lines, and each receipt is a
valid request with a batch number of its own. Against a small keep-alive server that
answers some requests 422 and writes its responses in pieces."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from bench.http_receipts import http_run


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.seen: list[tuple[str, dict[str, str], dict[str, object]]] = []
        self.lock = threading.Lock()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as gunicorn answers

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        server: _Server = self.server  # type: ignore[assignment]
        with server.lock:
            server.seen.append((self.path, dict(self.headers), body))
        refused = str(body["batch_number"]).endswith("-3")
        answer = json.dumps({"id": len(server.seen), "padding": "x" * 3000}).encode()
        self.send_response(422 if refused else 201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.flush()
        time.sleep(0.001)  # the body after the head, in a second piece
        self.wfile.write(answer[:1000])
        self.wfile.flush()
        self.wfile.write(answer[1000:])

    def log_message(self, *args: object) -> None:
        return None


def test_the_client_times_every_answer_once_and_counts_each_refusal_as_an_error() -> None:
    server = _Server()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        phase = http_run(server.server_address[1], "tok", 3, 0.4, 7)
    finally:
        server.shutdown()
        server.server_close()

    refused = [body for _path, _headers, body in server.seen if str(body["batch_number"]).endswith("-3")]
    assert len(server.seen) > 3 * 4  # each connection posted again and again
    assert len(phase.latencies) == len(server.seen)
    assert phase.errors == len(refused) > 0
    assert all(latency > 0 for latency in phase.latencies)
    assert phase.client_cpu_ms > 0
    batches = [body["batch_number"] for _path, _headers, body in server.seen]
    assert len(set(batches)) == len(batches)
    for path, headers, body in server.seen:
        assert path == "/api/v1/inventory/receipts"
        assert headers["Authorization"] == "Bearer tok"
        assert headers["Content-Type"] == "application/json"
        round_no, clients, number, _i = str(body["batch_number"])[1:].split("-")
        assert (round_no, clients) == ("7", "3")
        assert (int(body["po_line_id"]) % 40) % 3 == int(number)  # its own orders only
        assert body["quantity"] == "10" and body["posting_date"] == "2026-11-20"


def test_the_keep_alive_client_reads_each_response_whole_and_returns_its_status() -> None:
    from bench.common import KeepAliveClient

    server = _Server()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        client = KeepAliveClient(server.server_address[1])
        answers = [client.request("POST", "/api/v1/inventory/receipts", {"Content-Type": "application/json"},
                                  json.dumps({"batch_number": f"B-{n}", "po_line_id": 1}).encode())
                   for n in range(5)]
        client.close()
    finally:
        server.shutdown()
        server.server_close()

    assert [status for status, _body, _ms in answers] == [201, 201, 201, 422, 201]  # B-3 is refused
    assert [json.loads(body)["id"] for _status, body, _ms in answers] == [1, 2, 3, 4, 5]  # one connection, in order
    assert all(ms > 0 for _status, _body, ms in answers)
    assert [body["batch_number"] for _path, _headers, body in server.seen] == [f"B-{n}" for n in range(5)]


class _ShortKeepAlive(_Handler):
    timeout = 0.2  # closes a connection idle this long, as gunicorn's keepalive does


def test_the_keep_alive_client_sends_again_on_a_connection_the_server_closed_while_idle() -> None:
    from bench.common import KeepAliveClient

    server = _Server()
    server.RequestHandlerClass = _ShortKeepAlive
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        client = KeepAliveClient(server.server_address[1])
        first = client.request("POST", "/r", {}, json.dumps({"batch_number": "B-0"}).encode())
        time.sleep(0.6)  # the server has closed the idle connection
        second = client.request("POST", "/r", {}, json.dumps({"batch_number": "B-1"}).encode())
        client.close()
    finally:
        server.shutdown()
        server.server_close()

    assert (first[0], second[0]) == (201, 201)
    assert [body["batch_number"] for _path, _headers, body in server.seen] == ["B-0", "B-1"]  # each posted once
