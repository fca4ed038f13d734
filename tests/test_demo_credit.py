"""The demo's receivables: a believable, consistent history for the credit views."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from erp.costing.models import JournalLine
from erp.credit.exposure import exposure_drift
from erp.credit.models import CreditSuggestionRun, Invoice, InvoiceStatus, Payment, SalesOrder, SalesOrderStatus
from erp.demo.loader import DEMO_PASSWORD, load_demo
from erp.masterdata.models import Company


def test_demo_sales_history_is_consistent(session_factory: sessionmaker[Session], client: FlaskClient) -> None:
    with session_factory() as session:
        report = load_demo(session, seed=7)
    with session_factory() as session:
        assert report.counts["sales orders"] == session.scalar(select(func.count()).select_from(SalesOrder)) > 20
        assert report.counts["invoices"] == session.scalar(select(func.count()).select_from(Invoice)) > 20
        statuses = dict(session.execute(select(SalesOrder.status, func.count()).group_by(SalesOrder.status)).all())
        assert statuses[SalesOrderStatus.BLOCKED] == 1  # the pharmacy chain's last order, over its limit
        invoices = dict(session.execute(select(Invoice.status, func.count()).group_by(Invoice.status)).all())
        assert invoices[InvoiceStatus.PAID] > 0 and invoices[InvoiceStatus.OPEN] > 0
        assert session.scalar(select(func.sum(Payment.unapplied_amount))) == 1000  # one overpayment, kept
        assert exposure_drift(session) == []
        unbalanced = session.execute(select(JournalLine.company_id).group_by(JournalLine.company_id)
                                     .having(func.abs(func.sum(JournalLine.amount)) > 0.001)).all()
        assert unbalanced == []
        assert session.scalar(select(func.count()).select_from(CreditSuggestionRun)) == 1
        dist02 = session.scalar(select(Company.id).where(Company.code == "DIST02"))
        # every order numbered in its company's series of its order date's year, from 1 as taken
        taken: dict[str, int] = {}
        for number, code, day in session.execute(
                select(SalesOrder.number, Company.code, SalesOrder.order_date)
                .join(Company, Company.id == SalesOrder.company_id).order_by(SalesOrder.id)):
            series = f"SO-{code}-{day.year}"
            taken[series] = taken.get(series, 0) + 1
            assert number == f"{series}-{taken[series]:06d}"
        assert "SO-DIST02-2026" in taken

    token = client.post("/api/v1/auth/token", json={"username": "sales.dist02", "password": DEMO_PASSWORD})
    assert token.status_code == 201
    mine = client.get("/api/v1/invoices", headers={"Authorization": f"Bearer {token.get_json()['access_token']}"})
    assert mine.status_code == 200 and mine.get_json()
    assert {i["company_id"] for i in mine.get_json()} == {dist02}
