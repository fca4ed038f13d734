"""The cost accountants' repair pages of payables' price differences
(erp/payables/repair_pages.py), in Chinese: what invoices' price differences left on 5001.01
work in process, its correction dated in an open period and the correction's reversal; the
invoices whose price difference is missing from the stock ledger. The books are those of
tests/service/test_wip_price_difference_correction.py: the invoice at 50.50 for 120 kg of
acid the settled order consumed in closed November, Dr 5001.01 60.00 by the old rule."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal as D
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from erp.costing import accounts
from erp.payables.models import SupplierInvoice
from tests.api.test_wip_price_difference_correction_api import _faulty_books
from tests.service.test_invoice_price_difference_on_production import _books
from tests.service.test_wip_price_difference_correction import DEC_15, old_rule  # noqa: F401 - a fixture
from tests.ui.conftest import shown, sign_in
from tests.world import World

pytestmark = pytest.mark.postgres
WIP_PAGE = "/payables/repairs/wip-price-differences"
MISSING_PAGE = "/payables/repairs/price-differences"


def _text(page: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


def _table(page: str, testid: str) -> str:
    found = re.search(rf'data-testid="{testid}">.*?<tbody>(.*?)</table>', page, re.S)  # rows and totals
    return _text(found.group(1)) if found else ""


def test_the_cost_accountant_corrects_what_is_left_on_wip_and_reverses_the_correction(
        client: FlaskClient, session_factory: sessionmaker[Session], world: World,
        old_rule: Callable[[], Any], set_business_day: Callable[[dt.date], dt.date]) -> None:  # noqa: F811
    invoice_id, order = _faulty_books(session_factory, world, old_rule)
    set_business_day(DEC_15)
    with session_factory() as session:
        invoice = session.get(SupplierInvoice, invoice_id)
        assert invoice is not None and invoice.document_number.startswith("AP-")
        ap_number = invoice.document_number
    token = sign_in(client, world, "cost_a")
    page = client.get(WIP_PAGE).get_data(as_text=True)
    assert "在制品滞留价差" in page
    left = _table(page, "left")
    # The invoice by our number and its supplier's, the supplier and material named, the order, the amount.
    assert left.startswith(f"{ap_number} INV-ACID-1 S0001 ") and "R-ACID" in left
    assert f"MO-{order:08d}" in left and "¥60.00" in left
    assert "合计 ¥60.00" in left
    assert 'data-testid="correct"' in page and "借 6405.02 / 贷 5001.01 ¥60.00" in shown(page, "correct")
    assert "本公司尚未做过调整" in page

    # A date in closed November: refused beside the date, in Chinese, nothing posted.
    refused = client.post(WIP_PAGE, data={"company": "CA", "action": "correct", "posting_date": "2026-11-30",
                                          "csrf_token": token})
    assert refused.status_code == 422
    refused_page = refused.get_data(as_text=True)
    assert "2026-11" in shown(refused_page, "error-posting_date")
    assert 'value="2026-11-30"' in refused_page  # what was typed stays
    assert accounts.INPUT_PRICE_VARIANCE not in _books(session_factory, world)

    corrected = client.post(WIP_PAGE, data={"company": "CA", "action": "correct", "posting_date": "2026-12-15",
                                            "csrf_token": token})
    assert corrected.status_code == 302
    page = client.get(corrected.headers["Location"]).get_data(as_text=True)
    assert "已过账 1 笔调整" in shown(page, "corrected")
    assert 'data-testid="left"' not in page and "本公司没有滞留在在制品上的发票价差" in page
    corrections = _table(page, "corrections")
    assert f"2026-12-15 {ap_number} INV-ACID-1 S0001" in corrections and "¥60.00 已过账" in corrections
    books = _books(session_factory, world)
    assert accounts.WORK_IN_PROCESS not in books and books[accounts.INPUT_PRICE_VARIANCE] == D("60.00")
    entry = re.search(r'<tr data-entry="(\d+)">', page)
    assert entry
    entry_id = entry.group(1)

    # A reversal needs a reason: refused beside it, the form left open.
    no_reason = client.post(WIP_PAGE, data={"company": "CA", "action": "reverse", "entry_id": entry_id,
                                            "reason": " ", "reversal_date": "2026-12-15", "csrf_token": token})
    assert no_reason.status_code == 422
    assert shown(no_reason.get_data(as_text=True), "error-reason")
    reversed_ = client.post(WIP_PAGE, data={"company": "CA", "action": "reverse", "entry_id": entry_id,
                                            "reason": "日期填错", "reversal_date": "2026-12-15", "csrf_token": token})
    assert reversed_.status_code == 302
    page = client.get(reversed_.headers["Location"]).get_data(as_text=True)
    assert f"调整凭证 {entry_id} 已冲销" in shown(page, "reversed-notice")
    assert "¥60.00" in _table(page, "left")  # listed again, to be corrected anew
    assert shown(page, f"status-{entry_id}").startswith("已冲销")
    assert _books(session_factory, world)[accounts.WORK_IN_PROCESS] == D("60.00")


def test_only_cost_accountants_of_the_company_correct_and_others_read_or_are_refused(
        client: FlaskClient, session_factory: sessionmaker[Session], world: World,
        old_rule: Callable[[], Any], set_business_day: Callable[[dt.date], dt.date]) -> None:  # noqa: F811
    _faulty_books(session_factory, world, old_rule)
    set_business_day(DEC_15)
    token = sign_in(client, world, "cio")  # reads every company, corrects none
    page = client.get(WIP_PAGE, query_string={"company": "CA"}).get_data(as_text=True)
    assert "¥60.00" in _table(page, "left") and 'data-testid="correct"' not in page
    refused = client.post(WIP_PAGE, data={"company": "CA", "action": "correct", "posting_date": "2026-12-15",
                                          "csrf_token": token})
    assert refused.status_code == 403
    assert accounts.INPUT_PRICE_VARIANCE not in _books(session_factory, world)
    client.get("/logout")

    sign_in(client, world, "ap_a")  # accounts payable: not theirs
    assert client.get(WIP_PAGE).status_code == 403
    assert client.get(MISSING_PAGE).status_code == 403
    assert "在制品滞留价差" not in client.get("/payables/invoices").get_data(as_text=True)

    sign_in(client, world, "cost_a")  # another company's list: not found, nothing read
    assert client.get(WIP_PAGE, query_string={"company": "CB"}).status_code == 404
    menu = client.get(WIP_PAGE).get_data(as_text=True)
    assert "在制品滞留价差" in menu and "台账缺失的发票价差" in menu


def test_the_price_differences_missing_from_the_stock_ledger_page_lists_and_writes_them(
        client: FlaskClient, session_factory: sessionmaker[Session], world: World,
        monkeypatch: pytest.MonkeyPatch, set_business_day: Callable[[dt.date], dt.date]) -> None:
    """tests/test_cli.py's invoice entered before 0040: INV-OLD at 12.30 for 100 kg at standard
    12.00, Dr 1404 30.00 and no ledger row; written on 15 December, no journal entry."""
    from erp.payables import services as payables
    from erp.posting.models import JournalEntry, MovementType, StockDocument
    from tests.payables import enter, vat13_on_materials
    from tests.stock import open_order, receive, set_standard

    vat13_on_materials(session_factory, world)
    set_standard(session_factory, world, "exc_local", "12.00")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "12.00", "A-AMB")])
    receive(session_factory, world, line, "100", on=dt.date(2026, 11, 5))
    with monkeypatch.context() as before_0040:
        before_0040.setattr(payables, "post_variance_carried", lambda *args, **kwargs: None)
        invoice_id = enter(session_factory, world, "INV-OLD", [(line, "100", "12.30")], net="1230.00",
                           tax="159.90")
    set_business_day(DEC_15)
    with session_factory() as session:
        invoice = session.get(SupplierInvoice, invoice_id)
        assert invoice is not None
        ap_number, entries = invoice.document_number, len(session.scalars(select(JournalEntry.id)).all())
    token = sign_in(client, world, "cost_a")
    page = client.get(MISSING_PAGE).get_data(as_text=True)
    assert "台账缺失的发票价差" in page
    missing = _table(page, "missing")
    assert missing.startswith(f"2026-11 {ap_number} INV-OLD S0001 ") and "¥30.00" in missing
    assert "合计 ¥30.00" in missing
    # After the business day: refused beside the date, what was typed kept, nothing written.
    refused = client.post(MISSING_PAGE, data={"company": "CA", "posting_date": "2026-12-31", "csrf_token": token})
    assert refused.status_code == 422
    assert shown(refused.get_data(as_text=True), "error-posting_date")
    assert 'value="2026-12-31"' in refused.get_data(as_text=True)
    written = client.post(MISSING_PAGE, data={"company": "CA", "posting_date": "2026-12-15", "csrf_token": token})
    assert written.status_code == 302
    page = client.get(written.headers["Location"]).get_data(as_text=True)
    assert "已调整 1 张发票" in shown(page, "written")
    assert 'data-testid="missing"' not in page and "本公司所有发票的价差均已在库存台账中" in page
    with session_factory() as session:
        assert session.scalars(select(StockDocument.supplier_invoice_id).where(
            StockDocument.doc_type == MovementType.PRICE_DIFFERENCE)).all() == [invoice_id]
        assert len(session.scalars(select(JournalEntry.id)).all()) == entries  # no journal entry
