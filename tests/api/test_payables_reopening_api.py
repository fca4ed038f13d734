"""Payables refuse over HTTP what is dated before the reversal that made it possible
(docs/payables.md, *Dated before the reversal that made it possible*): problem+json, in
English and in Chinese, writing nothing."""

from __future__ import annotations

import pytest

from tests.api.test_payables_api import invoice, received_line  # noqa: F401 - fixture
from tests.payables import paid_and_reversed
from tests.world import ApiClient, World, problem

pytestmark = pytest.mark.postgres


def test_a_payment_dated_before_a_reversal_that_reopened_its_invoice_is_a_422_in_english_and_chinese(
        api: ApiClient, world: World, received_line: int) -> None:  # noqa: F811 - fixture
    """Invoice 1,356.00 paid 1,000.00 on 21 November (BANK-7), reversed on 25 November. A new
    payment of 1,356.00 dated 22 November: 422 ``dated-before-reopening`` at /payment_date,
    naming the 356.00 open to pay on 22 November and 25 November; nothing paid. The 356.00
    dated 22 November: 201; the other 1,000.00 dated 25 November: 201."""
    ap = api.as_("ap_a")
    body = ap.post("/api/v1/payables/invoices", json=invoice(world, received_line)).get_json()
    pay = paid_and_reversed(ap, world, body["id"], "1000.00")
    again = dict(pay, payment_date="2026-11-22", amount="1356.00", reference="BANK-8")
    english = problem(ap.post("/api/v1/payables/payments", json=again, headers={"Accept-Language": "en"}), 422,
                      "dated-before-reopening")
    assert english["errors"][0]["pointer"] == "/payment_date" and english["earliest_date"] == "2026-11-25"
    assert english["title"] == "Dated before the reversal that made it possible"
    assert english["detail"] == (
        "a supplier payment dated 2026-11-22 would pay 1356.00 of invoice 24330000000012345678, but only 356.00 of "
        "it is open to pay on 2026-11-22 and every day after: until 2026-11-25, the day supplier payment BANK-7 was "
        "reversed, more of it was settled or credited")
    chinese = problem(ap.post("/api/v1/payables/payments", json=again, headers={"Accept-Language": "zh-CN"}), 422,
                      "dated-before-reopening")
    assert chinese["title"] == "日期早于使其成为可能的冲销"
    assert chinese["detail"] == (
        "日期为 2026-11-22 的供应商付款将支付发票 24330000000012345678 的 ¥1,356.00，但该发票在 2026-11-22 及其后"
        "每一天可付的仅为 ¥356.00：直到 2026-11-25，即供应商付款 BANK-7 冲销之日，其更多部分已被结清或冲减")
    assert ap.get(f"/api/v1/payables/invoices/{body['id']}").get_json()["open_amount"] == "1356.00"
    open_anyway = ap.post("/api/v1/payables/payments", json=dict(again, amount="356.00"))
    assert open_anyway.status_code == 201, open_anyway.get_json()
    posted = ap.post("/api/v1/payables/payments", json=dict(again, payment_date="2026-11-25", amount="1000.00",
                                                            reference="BANK-9"))
    assert posted.status_code == 201, posted.get_json()
    assert ap.get(f"/api/v1/payables/invoices/{body['id']}").get_json()["open_amount"] == "0.00"


def test_an_invoice_reversal_and_a_credit_memo_dated_before_the_reversal_that_reopened_it_are_422(
        api: ApiClient, world: World, received_line: int) -> None:  # noqa: F811 - fixture
    """The same invoice paid 1,356.00 on 21 November, the payment reversed on 25 November:
    reversing the invoice on 22 November, or a credit memo reducing it dated 22 November,
    is 422 ``dated-before-reopening``; a credit memo dated before the invoice (19 November)
    is 422 ``dated-before-source``."""
    ap = api.as_("ap_a")
    body = ap.post("/api/v1/payables/invoices", json=invoice(world, received_line)).get_json()
    paid_and_reversed(ap, world, body["id"], "1356.00", reference=None)
    refused = problem(ap.post(f"/api/v1/payables/invoices/{body['id']}/reverse",
                              json={"reason": "wrong price", "reversal_date": "2026-11-22"}), 422,
                      "dated-before-reopening")
    assert refused["errors"][0]["pointer"] == "/reversal_date"
    memo = invoice(world, received_line, number="CM-1", net_total="120.00", tax_total="15.60", gross_total="135.60",
                   lines=[{"po_line_id": received_line, "quantity": "10", "unit_price": "12.00"}],
                   credits_invoice_id=body["id"])
    reopened = problem(ap.post("/api/v1/payables/credit-memos", json=dict(memo, invoice_date="2026-11-22")), 422,
                       "dated-before-reopening")
    assert reopened["errors"][0]["pointer"] == "/posting_date" and reopened["earliest_date"] == "2026-11-25"
    before = problem(ap.post("/api/v1/payables/credit-memos", json=dict(memo, invoice_date="2026-11-19")), 422,
                     "dated-before-source")
    assert before["errors"][0]["pointer"] == "/posting_date" and "2026-11-20" in before["detail"], before
    assert ap.get(f"/api/v1/payables/invoices/{body['id']}").get_json()["open_amount"] == "1356.00"


def test_a_credit_memo_dated_before_a_payment_reversal_posts_what_was_open_that_day_and_a_larger_one_is_a_422(
        api: ApiClient, world: World, received_line: int) -> None:  # noqa: F811 - fixture
    """Invoice 1,356.00 (20 November) paid 822.00 on 21 November (BANK-7), reversed on 25
    November: 534.00 was open on 22 to 24 November. A credit memo of 50 kg (600.00 + 78.00 =
    678.00) reducing it dated 22 November: 422 ``dated-before-reopening`` at /posting_date,
    naming the 534.00 open on 22 November (``open_on_date``) and 25 November
    (``earliest_date``), in English and Chinese; nothing written. One of 20 kg (240.00 +
    31.20 = 271.20) dated 22 November: 201, applied 271.20, the invoice 1,084.80 open."""
    ap = api.as_("ap_a")
    body = ap.post("/api/v1/payables/invoices", json=invoice(world, received_line)).get_json()
    paid_and_reversed(ap, world, body["id"], "822.00")
    big = invoice(world, received_line, number="CM-BIG", invoice_date="2026-11-22", net_total="600.00",
                  tax_total="78.00", gross_total="678.00",
                  lines=[{"po_line_id": received_line, "quantity": "50", "unit_price": "12.00"}],
                  credits_invoice_id=body["id"])
    english = problem(ap.post("/api/v1/payables/credit-memos", json=big, headers={"Accept-Language": "en"}), 422,
                      "dated-before-reopening")
    assert english["errors"][0]["pointer"] == "/posting_date"
    assert (english["earliest_date"], english["open_on_date"]) == ("2026-11-25", "534.00")
    assert english["detail"] == (
        "a credit memo dated 2026-11-22 would take 678.00 off invoice 24330000000012345678, but only 534.00 of it is "
        "open on 2026-11-22 and every day after: until 2026-11-25, the day supplier payment BANK-7 was reversed, "
        "more of it was settled or credited")
    chinese = problem(ap.post("/api/v1/payables/credit-memos", json=big, headers={"Accept-Language": "zh-CN"}), 422,
                      "dated-before-reopening")
    assert chinese["detail"] == (
        "日期为 2026-11-22 的红字发票将冲减发票 24330000000012345678 的 ¥678.00，但该发票在 2026-11-22 及其后每一天"
        "未结的仅为 ¥534.00：直到 2026-11-25，即供应商付款 BANK-7 冲销之日，其更多部分已被结清或冲减")
    assert ap.get(f"/api/v1/payables/invoices/{body['id']}").get_json()["open_amount"] == "1356.00"
    small = dict(big, number="CM-1", net_total="240.00", tax_total="31.20", gross_total="271.20",
                 lines=[{"po_line_id": received_line, "quantity": "20", "unit_price": "12.00"}])
    posted = ap.post("/api/v1/payables/credit-memos", json=small)
    assert posted.status_code == 201, posted.get_json()
    assert posted.get_json()["applied_amount"] == "271.20"
    assert ap.get(f"/api/v1/payables/invoices/{body['id']}").get_json()["open_amount"] == "1084.80"


def test_an_invoice_dated_before_the_reversal_that_freed_its_quantity_is_a_422(
        api: ApiClient, world: World, received_line: int) -> None:  # noqa: F811 - fixture
    """100 kg received; INV-1 invoices them on 20 November and is reversed on 25 November. INV-2
    for the same 100 kg dated 22 November: 422 ``dated-before-reopening`` at /posting_date
    (200 kg would stand invoiced of 100 on 22 to 24 November), in English and Chinese; dated
    25 November: 201."""
    ap = api.as_("ap_a")
    body = ap.post("/api/v1/payables/invoices", json=invoice(world, received_line, number="INV-1")).get_json()
    assert ap.post(f"/api/v1/payables/invoices/{body['id']}/reverse",
                   json={"reason": "wrong supplier number", "reversal_date": "2026-11-25"}).status_code == 200
    second = invoice(world, received_line, number="INV-2", invoice_date="2026-11-22")
    english = problem(ap.post("/api/v1/payables/invoices", json=second, headers={"Accept-Language": "en"}), 422,
                      "dated-before-reopening")
    assert english["errors"][0]["pointer"] == "/posting_date" and english["earliest_date"] == "2026-11-25"
    # the reversed invoice named once, by our number with the supplier's beside (it read "... the day
    # invoice INV-1 was reversed: ... until then invoice INV-1 still settled or credited INV-1")
    assert english["detail"] == (
        "an invoice dated 2026-11-22 is before 2026-11-25, the day invoice AP-CA-2026-000001 (INV-1) was reversed: "
        "until that reversal, that invoice still took up the quantity of EXC-STAR EXC-STAR on order PO-A-0001 that "
        "this one needs")
    chinese = problem(ap.post("/api/v1/payables/invoices", json=second, headers={"Accept-Language": "zh-CN"}), 422,
                      "dated-before-reopening")
    assert chinese["detail"] == (
        "日期为 2026-11-22 的发票早于 2026-11-25，即发票 AP-CA-2026-000001 (INV-1) 冲销之日：冲销之前，该发票仍占用着订单 "
        "PO-A-0001 上本单据所需的 EXC-STAR EXC-STAR 数量")
    posted = ap.post("/api/v1/payables/invoices", json=dict(second, invoice_date="2026-11-25"))
    assert posted.status_code == 201, posted.get_json()
