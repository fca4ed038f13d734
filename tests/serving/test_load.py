"""The mixed load test, bounded: its runner, workload and invariant checks work (issue 18).

The full run (50 users for 60 s, and the lower counts) is a benchmark: `python -m bench.load`;
here 5 users for 8 s against gunicorn on the test database prove the pieces, and
the checker is shown to name each invariant a corrupted database breaks.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from bench.load.dataset import DEMO_SEED, prepare
from bench.load.invariants import OVER_LIMIT, Violation, check, violations
from bench.load.runner import run
from erp.credit.exposure import CreditPolicy
from erp.demo.loader import load_demo
from erp.posting.models import MovementType, StockDocument

pytestmark = pytest.mark.postgres

SF = sessionmaker[Session]


def test_a_short_mixed_load_posts_what_it_counts_and_leaves_the_books_whole(
    engine: Engine, session_factory: SF, tmp_path: Path
) -> None:
    with session_factory() as session:
        plan = prepare(session, customers=10, open_orders=4)
    with session_factory() as session:
        assert check(session) == []  # the data set itself holds
        documents_before = session.scalar(select(func.max(StockDocument.id)))

    # Two workers of two threads (each worker builds the app, which takes seconds on a busy
    # machine), on the day the tests' clock is pinned to and the data was made for: a
    # training copy, as gunicorn.conf.py calls a server with a pinned business day.
    server_env = {"ERP_WEB_WORKERS": "2", "ERP_WEB_THREADS": "2", "ERP_BUSINESS_DATE": plan["today"],
                  "ERP_TRAINING_COPY": "1"}
    outcome = run(engine.url.render_as_string(hide_password=False), plan, [5], 8, session_factory,
                  workdir=tmp_path, server_env=server_env)

    step = outcome.steps[0]
    assert step.failures == 0, (step.failure_kinds, (tmp_path / "gunicorn.log").read_text()[-3000:])
    assert outcome.server_exit == 0  # SIGTERM: a graceful stop
    assert outcome.violations == []
    assert outcome.holds
    operations = step.operations
    assert operations["receipt"]["requests"] > 0 and operations["ship sales order"]["requests"] > 0
    # Every receipt and shipment locust counted as done is a stock document in the books
    # (a shipment of two lines writes two), and nothing else wrote any.
    refused = {r["operation"]: r["count"] for r in step.refusals}
    with session_factory() as session:
        receipts = session.scalar(select(func.count()).select_from(StockDocument).where(
            StockDocument.doc_type == MovementType.RECEIPT, StockDocument.id > documents_before))
        shipments = session.scalar(select(func.count(StockDocument.reference.distinct())).where(
            StockDocument.doc_type == MovementType.SHIPMENT, StockDocument.id > documents_before))
    assert receipts == operations["receipt"]["requests"] - refused.get("receipt", 0)
    assert shipments == operations["ship sales order"]["requests"] - refused.get("ship sales order", 0)


# Each corruption breaks one invariant; the checker must name it (run in one transaction,
# rolled back: the database is not changed).
CORRUPTIONS: dict[str, str] = {
    "over-received order line":
        "UPDATE purchase_order_lines SET received_quantity = quantity * 1.5 "
        "WHERE id = (SELECT min(id) FROM purchase_order_lines)",
    "negative stock":
        "INSERT INTO stock_movements (document_id, movement_type, close_class, company_id, warehouse_id, "
        "material_id, batch_id, status, quantity, value, variance, posting_date, period, created_by, created_at) "
        "SELECT document_id, movement_type, close_class, company_id, warehouse_id, material_id, batch_id, status, "
        "-2 * quantity, -2 * value, 0, posting_date, period, created_by, created_at FROM stock_movements "
        "WHERE id = (SELECT min(id) FROM stock_movements WHERE quantity > 0)",
    "balance differs from the ledger":
        "UPDATE stock_balances SET quantity = quantity + 1 WHERE id = (SELECT min(id) FROM stock_balances)",
    "unbalanced journal entry":
        "INSERT INTO journal_lines (entry_id, company_id, period, account_code, amount) "
        "SELECT entry_id, company_id, period, account_code, 0.01 FROM journal_lines "
        "WHERE id = (SELECT min(id) FROM journal_lines)",
    "unbalanced trial balance":
        "INSERT INTO journal_lines (entry_id, company_id, period, account_code, amount) "
        "SELECT entry_id, company_id, period, account_code, 0.01 FROM journal_lines "
        "WHERE id = (SELECT min(id) FROM journal_lines)",
    "exposure differs from the documents":
        "UPDATE customer_exposures SET open_orders = open_orders + 5, exposure = exposure + 5 "
        "WHERE customer_id = (SELECT min(customer_id) FROM customer_exposures)",
    "exposure above the limit without a release":
        "UPDATE customer_exposures SET credit_limit = exposure - 0.01 WHERE customer_id = "
        "(SELECT min(customer_id) FROM customer_exposures e WHERE exposure > 0 AND NOT EXISTS "
        "(SELECT 1 FROM credit_releases r JOIN sales_orders o ON o.id = r.order_id "
        "WHERE o.customer_id = e.customer_id))",
}


def test_the_checker_names_each_invariant_a_corrupted_database_breaks(session_factory: SF) -> None:
    with session_factory() as session:
        load_demo(session, seed=DEMO_SEED)
    with session_factory() as session:
        assert check(session) == []  # whole books: nothing to report
    missed = {}
    for invariant, corruption in CORRUPTIONS.items():
        broken = _broken_by(session_factory, corruption)
        if invariant not in {v.invariant for v in broken}:
            missed[invariant] = [str(v) for v in broken]
    assert missed == {}
    with session_factory() as session:
        assert check(session) == []  # every corruption was rolled back


def test_a_customer_over_its_limit_before_the_run_breaks_the_invariant_only_if_its_exposure_grew(
    session_factory: SF,
) -> None:
    with session_factory() as session:
        load_demo(session, seed=DEMO_SEED)
    lowered = ("UPDATE customer_exposures SET credit_limit = exposure - 100 WHERE customer_id = "
               "(SELECT min(customer_id) FROM customer_exposures e WHERE exposure > 200 AND NOT EXISTS "
               "(SELECT 1 FROM credit_releases r JOIN sales_orders o ON o.id = r.order_id "
               "WHERE o.customer_id = e.customer_id)) RETURNING customer_id, exposure")
    with session_factory() as session:
        customer_id, exposure = session.execute(text(lowered)).one()
        before = over_limit_now(session)
        assert before == {customer_id: exposure}  # over its (lowered) limit, as a history may hold
        assert "exposure above the limit without a release" not in {
            v.invariant for v in violations(session, CreditPolicy(), before)}
        session.execute(text("UPDATE customer_exposures SET open_orders = open_orders + 50, "
                             "exposure = exposure + 50 WHERE customer_id = :id"), {"id": customer_id})
        grown = [v for v in violations(session, CreditPolicy(), before)
                 if v.invariant == "exposure above the limit without a release"]
        session.rollback()
    assert len(grown) == 1 and f"it was {exposure} before the run" in grown[0].detail


def over_limit_now(session: Session) -> dict[int, Decimal]:
    """``over_limit`` within the open transaction (over_limit itself rolls back after reading)."""
    rows = session.execute(OVER_LIMIT, {"starting_limit": CreditPolicy().starting_limit})
    return {row.customer_id: row.exposure for row in rows}


def _broken_by(session_factory: SF, corruption: str) -> list[Violation]:
    """What the checker finds with ``corruption`` applied in a transaction rolled back after."""
    with session_factory() as session:
        # The ledger and the journal refuse UPDATE and DELETE by trigger; the corruptions
        # of them insert, which the triggers allow.
        session.execute(text(corruption))
        try:
            return violations(session, CreditPolicy())
        finally:
            session.rollback()
