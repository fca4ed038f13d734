"""Receipts of two revisions side by side: wall-clock runs alternated, or counted costs.

Each revision is extracted with ``git archive`` into its own directory and run from there
with this checkout's virtualenv (its ``erp`` is the revision's: the working directory comes
first on ``sys.path``). Every run takes ``flock /work/coord/bench.lock`` (``--lock``) so
that no two benchmarks of the machine overlap.

  wall   ``bench.receipts --workers 1`` and ``--workers 2`` of each revision, alternated
         (before, after, after, before, ...) ``--rounds`` times; a table of every run and
         the medians. For a quiet machine: on a loaded one the rates drift by tens of per
         cent between consecutive runs (docs/performance.md).
  costs  bench/receipt_costs.py (copied into both trees) under valgrind's callgrind, each
         revision in turn ``--rounds`` times: statements, client instructions, buffers and
         rows per receipt. Counts, not times: the load does not move them.

Usage: .venv/bin/python bench/compare_revisions.py wall --before b632e33 --after main --rounds 3
       .venv/bin/python bench/compare_revisions.py costs --before b632e33 --after main --rounds 2
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
RATE = re.compile(r"(service layer|raw INSERTs of the same rows):\s+(\d+) /s")
COSTS = ("statements", "instructions", "client_cpu_ms", "blks_hit", "blks_read", "tup_returned", "tup_fetched",
         "tup_inserted", "tup_updated")


def extract(revision: str, into: Path) -> tuple[str, Path]:
    """The revision's tree in ``into``, and its short hash."""
    sha = subprocess.run(["git", "rev-parse", "--short", revision], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout.strip()
    tree = into / sha
    tree.mkdir()
    archive = subprocess.run(["git", "archive", sha], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    # Both trees measure costs with the same script (the revision's own SETUP and service).
    shutil.copy(ROOT / "bench" / "receipt_costs.py", tree / "bench" / "receipt_costs.py")
    catalogues = ROOT / "erp" / "translations"
    for compiled in catalogues.rglob("*.mo"):  # build output, not in the archive
        target = tree / compiled.relative_to(ROOT)
        if target.parent.is_dir():
            shutil.copy(compiled, target)
    return sha, tree


def _locked(command: list[str], lock: str | None) -> list[str]:
    return ["flock", lock, *command] if lock else command


def wall(trees: list[tuple[str, Path]], rounds: int, receipts: int, lock: str | None) -> None:
    runs: list[dict[str, Any]] = []
    for round_no in range(1, rounds + 1):
        for workers in (1, 2):
            order = trees if (round_no + workers) % 2 == 0 else trees[::-1]
            for sha, tree in order:
                out = subprocess.run(_locked([str(PYTHON), "-m", "bench.receipts", "--workers", str(workers),
                                              "--receipts", str(receipts)], lock),
                                     cwd=tree, capture_output=True, text=True, check=True).stdout
                rates = {kind: int(value) for kind, value in RATE.findall(out)}
                run = {"round": round_no, "workers": workers, "revision": sha,
                       "service": rates["service layer"], "raw": rates["raw INSERTs of the same rows"]}
                runs.append(run)
                print(f"round {round_no}, {workers} worker(s), {sha}: service {run['service']}/s, "
                      f"raw {run['raw']}/s", file=sys.stderr, flush=True)
    print("| workers | round | revision | service layer | raw SQL | ratio raw / service |")
    print("|---|---|---|---|---|---|")
    for run in runs:
        print(f"| {run['workers']} | {run['round']} | {run['revision']} | {run['service']} / s | {run['raw']} / s "
              f"| {run['raw'] / run['service']:.2f}x |")
    print()
    print("| workers | revision | median service | median raw | median ratio |")
    print("|---|---|---|---|---|")
    for workers in (1, 2):
        for sha, _tree in trees:
            mine = [r for r in runs if r["workers"] == workers and r["revision"] == sha]
            print(f"| {workers} | {sha} | {statistics.median(r['service'] for r in mine):.0f} / s "
                  f"| {statistics.median(r['raw'] for r in mine):.0f} / s "
                  f"| {statistics.median(r['raw'] / r['service'] for r in mine):.2f}x |")


def _costs_once(sha: str, tree: Path, receipts: int, lock: str | None, out_file: Path) -> dict[str, Any]:
    name = f"erp_bench_costs_{sha}"
    python = str(PYTHON)
    subprocess.run([python, "-m", "bench.receipt_costs", "prepare", name], cwd=tree, check=True)
    try:
        out = subprocess.run(
            _locked(["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out_file}",
                     python, "-m", "bench.receipt_costs", "book", name, "--receipts", str(receipts)], lock),
            cwd=tree, capture_output=True, text=True, check=True,
            env={**os.environ, "RECEIPT_COSTS_CALLGRIND": "1", "PYTHONPATH": str(tree)}).stdout
    finally:
        subprocess.run([python, "-m", "bench.receipt_costs", "drop", name], cwd=tree, check=True,
                       capture_output=True)
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    totals = re.search(r"^totals: (\d+)", out_file.read_text(errors="replace"), re.M)
    assert totals, "callgrind wrote no totals"
    result["instructions"] = int(totals[1]) / receipts
    result["revision"] = sha
    return result


def costs(trees: list[tuple[str, Path]], rounds: int, receipts: int, lock: str | None, out: Path) -> None:
    results = []
    for round_no in range(1, rounds + 1):
        for sha, tree in (trees if round_no % 2 else trees[::-1]):
            result = _costs_once(sha, tree, receipts, lock, out / f"callgrind.{sha}.{round_no}.out")
            result["round"] = round_no
            results.append(result)
            print(json.dumps(result), file=sys.stderr, flush=True)
    print(f"Per receipt ({receipts} receipts after 20 to warm up):")
    print()
    print("| round | revision | " + " | ".join(COSTS) + " |")
    print("|---|---|" + "---|" * len(COSTS))
    for r in results:
        print(f"| {r['round']} | {r['revision']} | " + " | ".join(
            f"{r[key] / 1e6:.2f} M" if key == "instructions" else f"{r[key]:.2f}" for key in COSTS) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=("wall", "costs"))
    parser.add_argument("--before", default="b632e33")
    parser.add_argument("--after", default="main")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--receipts", type=int, help="receipts per run (wall: per worker; default 1000 / 200)")
    parser.add_argument("--callgrind-dir", help="costs: keep callgrind's files here (callgrind_annotate reads them)")
    parser.add_argument("--lock", default="/work/coord/bench.lock", help="flock this file around each run ('' for none)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="compare_revisions_") as scratch:
        trees = [extract(args.before, Path(scratch)), extract(args.after, Path(scratch))]
        print(f"before {trees[0][0]}, after {trees[1][0]}", file=sys.stderr)
        if args.mode == "wall":
            wall(trees, args.rounds, args.receipts or 1000, args.lock or None)
        else:
            kept = Path(args.callgrind_dir) if args.callgrind_dir else Path(scratch)
            kept.mkdir(parents=True, exist_ok=True)
            costs(trees, args.rounds, args.receipts or 200, args.lock or None, kept)


if __name__ == "__main__":
    main()
