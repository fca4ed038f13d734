"""Statements and client CPU per receipt through the service layer: the part of a receipt's
cost that the rest of the machine's load does not change much (bench.receipts measures
wall-clock rates, which on a shared machine drift by tens of per cent between runs).

On a fresh database set up as bench.receipts sets it up, 20 receipts warm up, then
``--receipts`` (200) are booked one per transaction; prints the SQL statements sent per
receipt and this process's CPU time per receipt. It is bench.receipt_costs' ``prepare``,
``book`` and ``drop`` in one command, printing two of its figures; to compare two
revisions, run bench/compare_revisions.py (or copy both files into a checkout of each:
``git archive REV | tar -x -C DIR``).
Usage: .venv/bin/python -m bench.receipt_statements [--receipts 200]
"""

from __future__ import annotations

import argparse

from bench.receipt_costs import book, drop, prepare

DATABASE = "erp_bench_receipt_statements"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--receipts", type=int, default=200)
    args = parser.parse_args()
    prepare(DATABASE)
    try:
        figures = book(DATABASE, args.receipts)
    finally:
        drop(DATABASE)
    print(f"statements per receipt: {figures['statements']:.1f}; "
          f"client CPU per receipt: {figures['client_cpu_ms']:.2f} ms")


if __name__ == "__main__":
    main()
