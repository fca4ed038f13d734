"""Reversing a supplier invoice or payment on its page goes through the confirmation step
(erp.ui.pages.dry_run + confirm_posting, docs/ui.md), as inventory's reversals do: the
reversal's journal first, nothing written; back to the form keeps what was typed; confirmed,
it posts. INV-R: 100 kg at 12.00 received, VAT13: 1,200.00 + 156.00 = 1,356.00 (Dr 2202.01
1,200.00, Dr 2221.01.01 156.00, Cr 2202 1,356.00); its reversal the mirror. A payment of it,
1,356.00 (Dr 2202 / Cr 1002), reversed: Dr 1002 1,356.00 / Cr 2202 1,356.00."""

from __future__ import annotations

import re
import datetime as dt
from decimal import Decimal as D

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from erp.payables import services
from erp.payables.models import SupplierInvoice, SupplierPayment
from tests.payables import enter, vat13_on_materials
from tests.stock import open_order, receive, set_standard
from tests.ui.conftest import shown
from tests.world import World

pytestmark = pytest.mark.postgres


def _sign_in(client: FlaskClient, world: World, user: str) -> None:
    with client.session_transaction() as session:
        session["token"] = world.tokens[user]


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def _journal(text: str) -> list[tuple[str, str, str]]:
    """The confirmation step's journal: (account, debit, credit) per row."""
    table = text.split('data-testid="confirm-posting-journal"')[1].split("</table>")[0]
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]:
        cells = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", c)).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        rows.append((cells[0].split(" ")[0], cells[1], cells[2]))
    return rows


@pytest.fixture
def invoice_r(session_factory: sessionmaker[Session], world: World) -> int:
    vat13_on_materials(session_factory, world)
    set_standard(session_factory, world, "exc_local", "12.00")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "12.00", "A-AMB")])
    receive(session_factory, world, line, "100")
    return enter(session_factory, world, "INV-R", [(line, "100", "12.00")], net="1200.00", tax="156.00")


def test_an_invoice_reversal_shows_its_journal_before_it_is_posted(
        client: FlaskClient, world: World, session_factory: sessionmaker[Session], invoice_r: int) -> None:
    _sign_in(client, world, "ap_a")
    url = f"/payables/invoices/{invoice_r}"
    page = client.get(url).get_data(as_text=True)
    assert "reverse-confirm" not in page and "核对冲销" in page  # no tick box: a step instead
    form = {"csrf_token": _csrf(page), "action": "reverse", "reason": "单价录入错误", "reversal_date": "2026-11-25"}
    empty = client.post(url, data={**form, "reason": " "})
    assert empty.status_code == 422 and "冲销须填写原因" in empty.get_data(as_text=True)
    check = client.post(url, data=form)
    assert check.status_code == 200
    text = check.get_data(as_text=True)
    assert sorted(_journal(text)) == [("2202", "¥1,356.00", ""), ("2202.01", "", "¥1,200.00"),
                                      ("2221.01.01", "", "¥156.00")]
    assert "单价录入错误" in text and 'name="confirmed" value="1"' in text
    with session_factory() as session:
        found = session.get(SupplierInvoice, invoice_r)
        assert found is not None and not found.reversed  # the check wrote nothing
    back = client.post(url, data={**form, "confirmed": "1", "edit": "1"}).get_data(as_text=True)
    assert 'data-testid="reverse-form"' in back and 'value="单价录入错误"' in back
    done = client.post(url, data={**form, "confirmed": "1"})
    assert done.status_code == 302
    with session_factory() as session:
        found = session.get(SupplierInvoice, invoice_r)
        assert found is not None and found.reversed and found.reversal_date == dt.date(2026, 11, 25)


def test_a_payment_reversal_shows_its_journal_before_it_is_posted(
        client: FlaskClient, world: World, session_factory: sessionmaker[Session], invoice_r: int) -> None:
    with session_factory() as session, session.begin():
        payment = services.pay_supplier(session, world.actors["ap_a"], services.PaymentRequest(
            company_id=world.companies["A"], supplier_id=world.suppliers["sup1"],
            payment_date=dt.date(2026, 11, 21), amount=D("1356.00"), invoice_ids=[invoice_r])).id
    _sign_in(client, world, "ap_a")
    url = f"/payables/payments/{payment}"
    page = client.get(url).get_data(as_text=True)
    assert "付款" in page and "收款" not in page  # money paid to a supplier, not received (trial T1)
    form = {"csrf_token": _csrf(page), "reason": "银行退票", "reversal_date": "2026-11-20"}
    refused = client.post(url, data=form)  # before the payment: refused on the check, beside the date
    assert refused.status_code == 422
    assert "2026-11-20" in shown(refused.get_data(as_text=True), "refusal")
    check = client.post(url, data={**form, "reversal_date": "2026-11-25"})
    assert check.status_code == 200
    checked = check.get_data(as_text=True)
    assert sorted(_journal(checked)) == [("1002", "¥1,356.00", ""), ("2202", "", "¥1,356.00")]
    assert "付款编号" in checked and "收款" not in checked  # trial T1
    with session_factory() as session:
        found = session.get(SupplierPayment, payment)
        assert found is not None and not found.reversed
    done = client.post(url, data={**form, "reversal_date": "2026-11-25", "confirmed": "1"})
    assert done.status_code == 302
    with session_factory() as session:
        found = session.get(SupplierPayment, payment)
        assert found is not None and found.reversed
