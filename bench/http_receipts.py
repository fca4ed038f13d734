"""Benchmark: goods receipts over HTTP against gunicorn (as `make serve` runs it), with 1, 4
and 16 concurrent clients, beside the service layer and raw SQL in the same run.

On a fresh PostgreSQL database with the data of bench/receipts.py (one company, 200
materials with standard prices, 40 open orders of 50 lines), it starts gunicorn with the
project's gunicorn.conf.py (workers and threads sized from the cores), signs a clerk in
with a bearer token and, for each client count, lets that many client threads (keep-alive
connections, each on its own orders so that no two wait on one order's lock) POST
/api/v1/inventory/receipts for ``--seconds`` seconds; then it measures, in the same run,
the service layer with two processes (bench/receipts.py's workers, whose engine is built
as the served app's: no ping at checkout unless ERP_DB_POOL_PRE_PING=1) and the raw SQL of
the same rows with two connections. Each measured phase starts with ANALYZE (after the
HTTP warm-up, before each baseline: bench.receipts.analyze), so none runs on plans made
from the empty tables' statistics.

Prints receipts/s and p50/p99 latency per client count and the ratio to the service layer.
Target (issue 18): with 16 clients at least 70 % of the service layer's throughput with
two processes, p99 under 10x p50.
Writes a plot of receipts/s and p99 against the client count, with the service layer's
and raw SQL's rates of the same run, to docs/http_receipts.png (``--plot``).
Usage: .venv/bin/python -m bench.http_receipts [--seconds 15] [--clients 1,4,16] [--plot docs/http_receipts.png]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import threading
import time
from pathlib import Path

import psycopg

from bench.common import ROOT, fresh_database, git_revision, machine, serve
from bench.receipts import SETUP, _raw_worker, _run, _service_worker, analyze

def issue_token(url: str) -> str:
    """A bearer token of the clerk of company 1, bound to its warehouse (as the service-layer
    workers' Actor is)."""
    from erp.auth.services import issue_token as issue
    from erp.db import make_engine, make_session_factory

    with psycopg.connect(url) as conn:
        conn.execute("INSERT INTO user_companies (user_id, company_id) VALUES (1, 1)")
        conn.execute("INSERT INTO user_warehouses (user_id, warehouse_id) VALUES (1, 1)")
        conn.commit()
    engine = make_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with make_session_factory(engine)() as session, session.begin():
        token = issue(session, 1, ttl_minutes=600).token
    engine.dispose()
    return token


def http_run(port: int, token: str, clients: int, seconds: float, round_no: int) -> tuple[float, list[float], int]:
    """(receipts/s, latencies in ms, errors) of ``clients`` threads posting for ``seconds``."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    first_error: list[str] = []
    barrier = threading.Barrier(clients + 1)
    stop_at = [0.0]

    def client(number: int) -> None:
        lines = [line for line in range(1, 2001) if (line % 40) % clients == number]
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        i = 0
        barrier.wait()
        while time.perf_counter() < stop_at[0]:
            body = json.dumps({"po_line_id": lines[i % len(lines)], "quantity": "10", "posting_date": "2026-11-20",
                               "batch_number": f"H{round_no}-{clients}-{number}-{i}",
                               "manufacture_date": "2026-10-01", "expiry_date": "2029-09-30"})
            started = time.perf_counter()
            connection.request("POST", "/api/v1/inventory/receipts", body, headers)
            response = connection.getresponse()
            response.body = response.read()  # type: ignore[attr-defined]
            latencies[number].append((time.perf_counter() - started) * 1000)
            if response.status != 201:
                errors[number] += 1
                if not first_error:
                    first_error.append(f"{response.status} {body_of(response)}")
            i += 1
        connection.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    stop_at[0] = began + seconds
    barrier.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    if first_error:
        print(f"first error with {clients} clients: {first_error[0]}", file=sys.stderr)
    flat = [value for per_client in latencies for value in per_client]
    return (len(flat) - sum(errors)) / elapsed, flat, sum(errors)  # receipts posted (201) per second


def body_of(response: http.client.HTTPResponse) -> str:
    return response.body.decode(errors="replace")[:300]  # type: ignore[attr-defined]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def plot(path: Path, results: list[tuple[int, float, float, float, int]], service: float, raw: float,
         title: str) -> None:
    """Receipts/s (left axis) and p99 latency (right axis) against concurrent clients."""
    import matplotlib

    matplotlib.use("Agg")  # no display: a file
    import matplotlib.pyplot as plt

    clients = [r[0] for r in results]
    figure, rate_axis = plt.subplots(figsize=(7, 4.2), dpi=110)
    rate_axis.plot(clients, [r[1] for r in results], "o-", color="tab:blue", label="HTTP receipts/s (gunicorn)")
    rate_axis.axhline(service, color="tab:green", linestyle="--", label=f"service layer, 2 processes ({service:.0f}/s)")
    rate_axis.axhline(raw, color="tab:gray", linestyle=":", label=f"raw SQL, 2 connections ({raw:.0f}/s)")
    rate_axis.set_xscale("log", base=2)
    rate_axis.set_xticks(clients, [str(c) for c in clients])
    rate_axis.set_xlabel("concurrent clients")
    rate_axis.set_ylabel("receipts per second")
    rate_axis.set_ylim(0, max(raw, service, *(r[1] for r in results)) * 1.25)
    latency_axis = rate_axis.twinx()
    latency_axis.plot(clients, [r[3] for r in results], "s-", color="tab:red", label="HTTP p99 (ms)")
    latency_axis.set_ylabel("p99 latency, ms")
    latency_axis.set_ylim(bottom=0)
    lines = rate_axis.get_legend_handles_labels()
    more = latency_axis.get_legend_handles_labels()
    rate_axis.legend(lines[0] + more[0], lines[1] + more[1], fontsize=8, loc="upper left")
    rate_axis.set_title(title, fontsize=9)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", default="1,4,16")
    parser.add_argument("--service-receipts", type=int, default=1000, help="per service-layer process")
    parser.add_argument("--plot", type=Path, default=ROOT / "docs" / "http_receipts.png",
                        help="where to write the plot (PNG)")
    args = parser.parse_args()
    counts = [int(c) for c in args.clients.split(",")]
    with fresh_database("erp_bench_http") as (_engine, url):
        with psycopg.connect(url) as conn:
            for statement in SETUP.split(";\n"):
                conn.execute(statement)
            conn.commit()
        token = issue_token(url)
        results = []
        with serve(url) as server:
            http_run(server.port, token, 4, 3, 0)  # warm up every worker's pool and statement cache
            analyze(url)  # as the service layer's phase does (bench.receipts.analyze)
            for number, clients in enumerate(counts, start=1):
                rate, latencies, errors = http_run(server.port, token, clients, args.seconds, number)
                results.append((clients, rate, percentile(latencies, 0.5), percentile(latencies, 0.99), errors))
        service = _run(_service_worker, url, 2, args.service_receipts)
        raw = _run(_raw_worker, url, 2, args.service_receipts)

    load = os.getloadavg()[0]
    print(f"machine: {machine()}; revision {git_revision()}; load average {load:.1f}")
    print("gunicorn.conf.py defaults: one worker per core, 4 threads each")
    print(f"service layer, 2 processes: {service:7.0f} receipts/s;  raw SQL, 2 connections: {raw:7.0f} /s "
          f"(service {raw / service:.2f}x raw)")
    print("clients  receipts/s   p50 ms   p99 ms  p99/p50  errors  HTTP/service")
    for clients, rate, p50, p99, errors in results:
        print(f"{clients:7d}  {rate:10.0f}  {p50:7.1f}  {p99:7.1f}  {p99 / p50:7.1f}  {errors:6d}  "
              f"{rate / service:11.2f}")
    if any(r[4] for r in results):
        print("NOT VALID: some receipts were refused (first error on stderr); no rate is claimed")
    elif results[-1][0] >= 16:
        print(f"target: 16 clients >= 0.70 of the service layer: {results[-1][1] / service:.2f}")
    if not any(r[4] for r in results):
        plot(args.plot, results, service, raw,
             f"Receipts over HTTP, revision {git_revision()}, {os.cpu_count()} cores, load average {load:.1f}")
        print(f"plot: {args.plot}")


if __name__ == "__main__":
    main()
