"""Run the mixed load against gunicorn and check the books afterwards (``python -m bench.load``).

1. A fresh PostgreSQL database, migrated, with the load data set (bench/load/dataset.py:
   the demo group and open work for every role).
2. gunicorn started as ``make serve`` starts it (``gunicorn -c gunicorn.conf.py``: workers,
   threads and pools sized from the cores), ready when ``/health`` answers 200.
3. locust, headless, for each user count in turn (``--ladder`` then ``--users``), each for
   ``--seconds``: the workload of bench/load/locustfile.py with every user started at once;
   each step starts with ANALYZE, as the receipts benchmarks' phases do.
4. SIGTERM to gunicorn: in-flight requests finish, the master exits 0.
5. The invariants (bench/load/invariants.py) on the database; each one that breaks is
   printed and fails the run.

Prints, per user count, requests per second, failures, refusals and p50/p99, and per
operation at the largest user count; then the verdict on the target (issue 18): 0 failures,
every invariant holding, and throughput at the largest user count at least 80 % of the
best at any lower one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import ROOT, serve
from bench.load.invariants import Violation, check, over_limit
from bench.receipts import analyze

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
LOCUST = Path(sys.executable).with_name("locust")
TARGET_SHARE = 0.80


@dataclass
class Step:
    """One run of the workload at one user count."""

    users: int
    seconds: float
    requests: int
    failures: int
    p50_ms: float
    p99_ms: float
    operations: dict[str, dict[str, Any]]
    refusals: list[dict[str, Any]]
    failure_kinds: list[dict[str, Any]]

    @property
    def throughput(self) -> float:
        """Requests answered per second (refusals included: the server did the work)."""
        return (self.requests - self.failures) / self.seconds if self.seconds else 0.0

    @property
    def refused(self) -> int:
        return sum(r["count"] for r in self.refusals)


@dataclass
class Outcome:
    steps: list[Step] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    server_exit: int | None = None

    @property
    def failures(self) -> int:
        return sum(step.failures for step in self.steps)

    @property
    def best_below(self) -> float:
        return max((step.throughput for step in self.steps[:-1]), default=0.0)

    @property
    def holds(self) -> bool:
        """0 failures, every invariant, a graceful stop, and no collapse at the largest count."""
        no_collapse = not self.best_below or self.steps[-1].throughput >= TARGET_SHARE * self.best_below
        return not self.failures and not self.violations and self.server_exit == 0 and no_collapse


def run_locust(port: int, plan_path: Path, users: int, seconds: float, workdir: Path) -> Step:
    """One headless locust run of ``users`` users for ``seconds``; its figures."""
    result_path = workdir / f"result-{users}.json"
    env = {**os.environ, "LOAD_PLAN": str(plan_path), "LOAD_RESULT": str(result_path)}
    command = [str(LOCUST), "-f", str(LOCUSTFILE), "--headless", "--users", str(users),
               "--spawn-rate", str(users), "--run-time", f"{max(1, round(seconds))}s",
               "--host", f"http://127.0.0.1:{port}", "--only-summary", "--stop-timeout", "30",
               "--loglevel", "WARNING", "--skip-log-setup"]
    with (workdir / f"locust-{users}.log").open("w") as log:
        subprocess.run(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, check=False,
                       timeout=seconds + 180)
    if not result_path.exists():
        raise SystemExit(f"locust wrote no result; see {workdir / f'locust-{users}.log'}")
    data = json.loads(result_path.read_text())
    return Step(users, data["seconds"], data["requests"], data["failures"], data["p50_ms"], data["p99_ms"],
                data["operations"], data["refusals"], data["failure_kinds"])


def run(url: str, plan: dict[str, Any], counts: list[int], seconds: float, session_factory: Any,
        workdir: Path | None = None, on_step: Any = None, server_env: dict[str, str] | None = None) -> Outcome:
    """The workload at each of ``counts`` users in turn against one gunicorn on ``url``
    (postgresql+psycopg://...), then the invariants. ``server_env`` overrides gunicorn's
    environment (a test serves with fewer workers, on its pinned business day)."""
    outcome = Outcome()
    with session_factory() as session:
        before = over_limit(session)
    with tempfile.TemporaryDirectory(prefix="heyi-load-") as scratch:
        work = workdir or Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        plan_path = work / "plan.json"
        plan_path.write_text(json.dumps(plan))
        with serve(url, log_path=work / "gunicorn.log", extra_env=server_env) as server:
            try:
                for users in counts:
                    # Statistics of the tables as they are now: the data set was loaded into a
                    # fresh database, and plans cached from its first statistics would follow
                    # the tables' growth no further (bench.receipts.analyze says why).
                    analyze(url.replace("postgresql+psycopg://", "postgresql://"))
                    step = run_locust(server.port, plan_path, users, seconds, work)
                    outcome.steps.append(step)
                    if on_step:
                        on_step(step)
            finally:
                outcome.server_exit = server.stop()
    with session_factory() as session:
        outcome.violations = check(session, before=before)
    return outcome


def report(outcome: Outcome) -> str:
    lines = ["users  requests/s  requests  failures  refusals   p50 ms   p99 ms"]
    for step in outcome.steps:
        lines.append(f"{step.users:5d}  {step.throughput:10.1f}  {step.requests:8d}  {step.failures:8d}  "
                     f"{step.refused:8d}  {step.p50_ms:7.0f}  {step.p99_ms:7.0f}")
    last = outcome.steps[-1]
    lines.append(f"\nper operation at {last.users} users ({last.seconds:.0f} s):")
    lines.append("operation              requests      /s  failures   p50 ms   p99 ms")
    for name, op in sorted(last.operations.items()):
        lines.append(f"{name:<22} {op['requests']:8d}  {op['requests'] / last.seconds:6.1f}  {op['failures']:8d}  "
                     f"{op['p50_ms']:7.0f}  {op['p99_ms']:7.0f}")
    for step in outcome.steps:
        for refusal in step.refusals:
            lines.append(f"refused at {step.users} users: {refusal['operation']}: {refusal['type']} x {refusal['count']}")
        for kind in step.failure_kinds:
            lines.append(f"FAILED at {step.users} users: {kind['operation']}: {kind['status']} {kind['type']} "
                         f"x {kind['count']}")
    lines.append(f"gunicorn stopped with exit status {outcome.server_exit} (0: graceful)")
    if outcome.violations:
        lines += [f"INVARIANT BROKEN: {v}" for v in outcome.violations]
    else:
        lines.append("invariants: every one holds (order lines, stock, ledger, journal, trial balances, exposure)")
    if outcome.best_below:
        share = last.throughput / outcome.best_below
        lines.append(f"throughput at {last.users} users: {share:.2f} of the best at fewer users "
                     f"({outcome.best_below:.1f}/s; target at least {TARGET_SHARE:.2f})")
    lines.append("verdict: " + ("target met" if outcome.holds else "TARGET NOT MET"))
    return "\n".join(lines)


def elapsed(start: float) -> str:
    return f"{time.monotonic() - start:.0f} s"
