"""Opening receivables: open invoices taken over at go-live with their own dates, posted
against the opening balances account, in the group exposure at once and aged from their
own due dates."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from erp.costing.reports import trial_balance
from erp.credit.exposure import CreditPolicy, exposure_drift
from erp.credit.models import CustomerExposure, Invoice, InvoiceStatus
from erp.credit.receivables import open_items_ageing_query, receivables_by_customer
from erp.credit.services import record_payment
from erp.errors import DomainError
from erp.golive.errors import ImportHasErrors
from erp.golive.framework import AlreadyImported, ImportOutcome, execute_import, undo_import
from erp.golive.kinds import KINDS
from erp.posting.models import JournalEntry
from tests.golive.helpers import Recorder, write_csv
from tests.world import USCC_CUSTOMER_2, World

GO_LIVE = dt.date(2026, 12, 1)
HEADER = ["客户统一社会信用代码", "客户编码", "原发票号", "开票日期", "到期日", "未收金额"]
GOOD = [
    ["", "K0001", "OLD-001", "2026-11-20", "2026-12-20", "11300.00"],  # not due on 2026-12-01
    ["", "K0001", "OLD-002", "2026-09-01", "2026-10-01", "5650.50"],  # 61 days past due on 2026-12-01
    [USCC_CUSTOMER_2, "", "OLD-003", "2026-10-15", "2026-11-14", "2000.00"],  # 17 days past due
    [USCC_CUSTOMER_2, "K0002", "OLD-004", "2026-06-01", "2026-07-31", "1000.01"],  # 123 days past due
]


def _import(session_factory: sessionmaker[Session], world: World, path: Path, *, dry_run: bool = False,
            actor: str = "cost_a", company: str = "A") -> tuple[object, Recorder]:
    recorder = Recorder()
    with session_factory() as session:
        try:
            outcome: object = execute_import(
                session, world.actors[actor], KINDS["opening_receivables"], path, file_name=path.name,
                company_id=world.companies[company], dry_run=dry_run, progress=recorder, go_live_date=GO_LIVE)
        except Exception as exc:  # noqa: BLE001 - the test looks at what was refused
            outcome = exc
    return outcome, recorder


@pytest.mark.postgres
def test_opening_receivables_are_posted_against_opening_balances_and_age_from_their_own_due_dates(
        tmp_path: Path, session_factory: sessionmaker[Session], world: World) -> None:
    bad = write_csv(tmp_path / "bad.csv", [HEADER, *GOOD,
        ["", "K9999", "OLD-005", "2026-11-01", "2026-12-01", "10.00"],  # row 6: no such customer
        ["", "K0001", "OLD-006", "2026-11-01", "2026-10-31", "10.00"],  # row 7: due before invoiced
        ["", "K0001", "OLD-007", "2026-12-02", "2027-01-01", "10.00"],  # row 8: invoiced after go-live
        ["", "K0001", "OLD-001", "2026-11-01", "2026-12-01", "10.00"],  # row 9: repeats row 2's number
        ["", "K0001", "OLD-009", "2026-11-01", "2026-12-01", "0"],  # row 10: nothing owed
        ["", "K0001", "OLD-010", "2026-11-01", "2026-12-01", "10.005"],  # row 11: not cents
        [USCC_CUSTOMER_2, "K0001", "OLD-011", "2026-11-01", "2026-12-01", "10.00"],  # row 12: code is another's
    ])
    outcome, seen = _import(session_factory, world, bad, dry_run=True)
    assert isinstance(outcome, ImportOutcome), outcome
    assert seen.at() == {(6, "customer_code"), (7, "due_date"), (8, "invoice_date"), (9, "reference"),
                         (10, "open_amount"), (11, "open_amount"), (12, "customer_code")}, seen.errors
    outcome, _ = _import(session_factory, world, bad)
    assert isinstance(outcome, ImportHasErrors)
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Invoice)) == 0, "nothing written"

    good = write_csv(tmp_path / "good.csv", [HEADER, *GOOD])
    outcome, seen = _import(session_factory, world, good, dry_run=True)
    assert isinstance(outcome, ImportOutcome) and seen.errors == [] and not outcome.committed
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Invoice)) == 0, "a dry run writes nothing"
    outcome, seen = _import(session_factory, world, good)
    assert isinstance(outcome, ImportOutcome) and outcome.committed, (outcome, seen.errors)
    assert outcome.counts == {"invoices": 4}

    cost_a, credit = world.actors["cost_a"], world.actors["credit"]
    k1, k2 = world.customers["cust1"], world.customers["cust2"]
    with session_factory() as session:
        invoices = {i.reference: (i.customer_id, i.invoice_date, i.due_date, i.amount, i.open_amount, i.status,
                                  i.order_id) for i in session.scalars(select(Invoice))}
        assert invoices == {
            "OLD-001": (k1, dt.date(2026, 11, 20), dt.date(2026, 12, 20), D("11300.00"), D("11300.00"),
                        InvoiceStatus.OPEN, None),
            "OLD-002": (k1, dt.date(2026, 9, 1), dt.date(2026, 10, 1), D("5650.50"), D("5650.50"),
                        InvoiceStatus.OPEN, None),
            "OLD-003": (k2, dt.date(2026, 10, 15), dt.date(2026, 11, 14), D("2000.00"), D("2000.00"),
                        InvoiceStatus.OPEN, None),
            "OLD-004": (k2, dt.date(2026, 6, 1), dt.date(2026, 7, 31), D("1000.01"), D("1000.01"),
                        InvoiceStatus.OPEN, None),
        }
        # In the group exposure at once: 11300.00 + 5650.50 and 2000.00 + 1000.01.
        exposure = {e.customer_id: (e.open_invoices, e.exposure) for e in session.scalars(select(CustomerExposure))}
        assert exposure == {k1: (D("16950.50"), D("16950.50")), k2: (D("3000.01"), D("3000.01"))}
        assert exposure_drift(session) == []
        # One entry on the go-live date: Dr 1122 19950.51 (per customer), Cr 4199 19950.51.
        entry = session.scalars(select(JournalEntry)).one()
        assert (entry.entry_date, entry.source_type, entry.source_id) == (GO_LIVE, "opening_receivables",
                                                                          outcome.batch_id)
        tb = trial_balance(session, cost_a, company_id=world.companies["A"], period="2026-12")
        assert {line["account_code"]: (line["debit"], line["credit"]) for line in tb.lines} == {
            "1122": (D("19950.51"), D("0")), "4199": (D("0"), D("19950.51"))}
        assert tb.balanced
        # Aged from their own due dates on the go-live date (by hand: 2026-12-01 minus due).
        rows, _ = receivables_by_customer(session, credit, as_of=GO_LIVE, policy=CreditPolicy(),
                                          company_id=world.companies["A"])
        ageing = {r.customer_id: (r.open_amount, r.overdue, r.not_due, r.days_1_30, r.days_31_60, r.days_61_90,
                                  r.over_90) for r in rows}
        assert ageing == {
            k1: (D("16950.50"), D("5650.50"), D("11300.00"), D("0"), D("0"), D("5650.50"), D("0")),
            k2: (D("3000.01"), D("3000.01"), D("0"), D("2000.00"), D("0"), D("0"), D("1000.01")),
        }
        buckets = {r.reference: r.bucket for r in session.execute(
            open_items_ageing_query(session, credit, as_of=GO_LIVE, company_id=world.companies["A"]))}
        assert buckets == {
            "OLD-001": "not_due", "OLD-002": "days_61_90", "OLD-003": "days_1_30", "OLD-004": "over_90"}

    # A payment settles a taken-over invoice like any other: oldest due first.
    with session_factory() as session, session.begin():
        record_payment(session, world.actors["sales_a"], company_id=world.companies["A"], customer_id=k2,
                       payment_date=dt.date(2026, 12, 3), amount=D("1500.00"))
    with session_factory() as session:
        assert dict(session.execute(select(Invoice.reference, Invoice.open_amount)
                                    .where(Invoice.customer_id == k2)).all()) == {
            "OLD-004": D("0.00"), "OLD-003": D("1500.01")}
        assert session.get(CustomerExposure, k2).open_invoices == D("1500.01")  # type: ignore[union-attr]

    again, _ = _import(session_factory, world, good)
    assert isinstance(again, AlreadyImported)
    # Another file naming an invoice already taken over is refused on that row.
    other = write_csv(tmp_path / "other.csv", [HEADER, ["", "K0002", "OLD-003", "2026-10-15", "2026-11-14", "1.00"]])
    _, seen = _import(session_factory, world, other, dry_run=True)
    assert seen.at() == {(2, "reference")}
    # Posted: corrected by new postings, never undone.
    with session_factory() as session, session.begin():
        with pytest.raises(DomainError) as refused:
            undo_import(session, cost_a, KINDS["opening_receivables"], outcome.batch_id)  # type: ignore[arg-type]
        assert refused.value.slug == "import-posted"


def test_opening_receivables_are_imported_by_accountants_and_controllers_of_the_company(
        tmp_path: Path, session_factory: sessionmaker[Session], world: World) -> None:
    good = write_csv(tmp_path / "good.csv", [HEADER, *GOOD[:1]])
    outcome, _ = _import(session_factory, world, good, dry_run=True, actor="sales_a")
    assert isinstance(outcome, DomainError) and outcome.status == 403, outcome
    outcome, _ = _import(session_factory, world, good, dry_run=True, company="B")
    assert isinstance(outcome, DomainError) and outcome.status == 403, outcome
    outcome, seen = _import(session_factory, world, good, dry_run=True, actor="credit")
    assert isinstance(outcome, ImportOutcome) and seen.errors == []
