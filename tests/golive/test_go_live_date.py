"""Finding 118: once a company has gone live (its opening balances posted on the go-live
date), its books before that date are closed: any posting dated earlier is refused (409,
period-closed, with the reason), the opening postings themselves excepted."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from erp.credit.services import record_payment
from erp.golive.framework import ImportOutcome
from erp.masterdata.models import Company
from erp.posting import lock_open_period
from erp.posting.errors import PeriodClosed
from erp.ui.i18n import render_in
from tests.golive.helpers import run_import, write_csv
from tests.stock import set_standard
from tests.world import World

GO_LIVE = dt.date(2026, 12, 1)
RECEIVABLES = [["客户编码", "原发票号", "开票日期", "到期日", "未收金额"],
               ["K0001", "OLD-001", "2026-11-20", "2026-12-20", "11300.00"]]


def _go_live_date(session_factory: sessionmaker[Session], company_id: int) -> dt.date | None:
    with session_factory() as session:
        return session.get(Company, company_id).go_live_date  # type: ignore[union-attr]


def test_postings_before_the_go_live_date_are_refused_after_go_live(
        app: Flask, tmp_path: Path, session_factory: sessionmaker[Session], world: World) -> None:
    a = world.companies["A"]
    path = write_csv(tmp_path / "r.csv", RECEIVABLES)
    outcome, seen = run_import(session_factory, world.actors["cost_a"], "opening_receivables", path, company_id=a,
                               dry_run=True, go_live_date=GO_LIVE)
    assert isinstance(outcome, ImportOutcome) and seen.errors == []
    assert _go_live_date(session_factory, a) is None  # a dry run writes nothing
    with session_factory() as session, session.begin():  # before go-live, history may still be posted
        lock_open_period(session, a, dt.date(2026, 11, 20))
    outcome, seen = run_import(session_factory, world.actors["cost_a"], "opening_receivables", path, company_id=a,
                               go_live_date=GO_LIVE)
    assert isinstance(outcome, ImportOutcome) and outcome.committed, (outcome, seen.errors)
    assert _go_live_date(session_factory, a) == GO_LIVE
    with session_factory() as session, session.begin(), pytest.raises(PeriodClosed) as refused:
        record_payment(session, world.actors["sales_a"], company_id=a, customer_id=world.customers["cust1"],
                       payment_date=dt.date(2026, 11, 30), amount=D("100.00"))
    assert refused.value.status == 409 and refused.value.slug == "period-closed"
    assert refused.value.errors[0]["pointer"] == "/posting_date"
    with app.app_context():
        reason = render_in(refused.value.message, "zh")
    assert "2026-12-01" in reason and "上线" in reason and "2026-11-30" in reason, reason
    # Every posting takes the period lock: a receipt, an issue, an invoice dated before it alike.
    with session_factory() as session, session.begin(), pytest.raises(PeriodClosed):
        lock_open_period(session, a, dt.date(2026, 11, 20))
    with session_factory() as session, session.begin():  # on the go-live date and after: open
        record_payment(session, world.actors["sales_a"], company_id=a, customer_id=world.customers["cust1"],
                       payment_date=GO_LIVE, amount=D("100.00"))
        lock_open_period(session, world.companies["B"], dt.date(2026, 11, 20))  # another company: not gone live


def test_a_second_opening_import_on_the_go_live_date_is_posted(
        tmp_path: Path, session_factory: sessionmaker[Session], world: World) -> None:
    """The opening postings are the history the go-live date closes: opening stock after the
    receivables, on the same date, is posted; the go-live date stays the earliest."""
    a = world.companies["A"]
    outcome, _ = run_import(session_factory, world.actors["cost_a"], "opening_receivables",
                            write_csv(tmp_path / "r.csv", RECEIVABLES), company_id=a, go_live_date=GO_LIVE)
    assert isinstance(outcome, ImportOutcome) and outcome.committed
    set_standard(session_factory, world, "exc_local", "10.00", period="2026-11")
    stock = write_csv(tmp_path / "s.csv", [["仓库编码", "物料编码", "批号", "生产日期", "有效期至", "数量"],
                                           ["CA-AMB", "EXC-STAR", "B1", "2026-06-01", "2028-06-01", "10"]])
    earlier = dt.date(2026, 11, 30)
    outcome, seen = run_import(session_factory, world.actors["cost_a"], "opening_stock", stock, company_id=a,
                               go_live_date=earlier)
    assert isinstance(outcome, ImportOutcome) and outcome.committed, (outcome, seen.errors)
    assert _go_live_date(session_factory, a) == earlier
