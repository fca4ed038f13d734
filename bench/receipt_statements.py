"""Statements and client CPU per receipt through the service layer: the part of a receipt's
cost that the rest of the machine's load does not change much (bench.receipts measures
wall-clock rates, which on a shared machine drift by tens of per cent between runs).

On a fresh database set up as bench.receipts sets it up, 20 receipts warm up, then 200 are
booked one per transaction; prints the SQL statements sent per receipt and this process's
CPU time per receipt. To compare two revisions, copy this file into a checkout of each
(``git archive REV | tar -x -C DIR``) and run it from each in turn, several times.
Usage: .venv/bin/python -m bench.receipt_statements
"""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal
from typing import Any

import psycopg
from sqlalchemy import event

from bench.common import fresh_database
from bench.receipts import SETUP
from erp.auth.roles import Actor, Role
from erp.db import make_engine, make_session_factory
from erp.inventory.services import ReceiptRequest, receive_goods


def main() -> None:
    with fresh_database("erp_bench_receipt_statements") as (_engine, url):
        with psycopg.connect(url) as conn:
            for statement in SETUP.split(";\n"):
                conn.execute(statement)
            conn.commit()
        engine = make_engine(url.replace("postgresql://", "postgresql+psycopg://"))
        sessions = make_session_factory(engine)
        clerk = Actor(1, "clerk", Role.CLERK, False, frozenset({1}), frozenset({1}))
        sent: list[str] = []

        def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            sent.append(statement)

        event.listen(engine, "before_cursor_execute", count)

        def book(i: int) -> None:
            with sessions() as session, session.begin():
                receive_goods(session, clerk, ReceiptRequest(
                    po_line_id=1 + i % 2000, quantity=Decimal("10"), posting_date=dt.date(2026, 11, 20),
                    batch_number=f"C{i:07d}", manufacture_date=dt.date(2026, 10, 1),
                    expiry_date=dt.date(2029, 9, 30)))

        for i in range(20):
            book(i)
        sent.clear()
        began = time.process_time()
        for i in range(20, 220):
            book(i)
        cpu = time.process_time() - began
        engine.dispose()
    print(f"statements per receipt: {len(sent) / 200:.1f}; client CPU per receipt: {cpu / 200 * 1000:.2f} ms")


if __name__ == "__main__":
    main()
