"""The credit controller's pages: the blocked order with the customer's exposure by company,
the release with a required reason, the limit override with a required reason, the credit
hold, and the CIO reading but never changing.

K0001's limit is 15,000.00. Order 1 (100 x 100.00 = 10,000.00) is confirmed: exposure
10,000.00. Order 2 (another 10,000.00) would take it to 20,000.00: blocked at confirmation.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from decimal import Decimal as D
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from erp.credit import limits
from erp.credit.models import CreditLimit, CreditLimitSuggestion, CustomerExposure, SalesOrder, SalesOrderStatus
from tests.credit import history_invoice, new_order, position, put_stock, set_limit
from tests.world import World


@pytest.fixture
def orders(session_factory: sessionmaker[Session], world: World) -> dict[str, int]:
    put_stock(session_factory, world)
    set_limit(session_factory, world, "cust1", "15000")
    first = new_order(session_factory, world, confirm=True).order
    second = new_order(session_factory, world, confirm=True).order
    assert (first.status, second.status) == (SalesOrderStatus.CONFIRMED, SalesOrderStatus.BLOCKED)
    return {"confirmed": first.id, "blocked": second.id}


def sign_in(client: FlaskClient, world: World, user: str) -> str:
    with client.session_transaction() as session:
        session["token"] = world.tokens[user]
    page = client.get("/credit/customers").get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    return found.group(1) if found else ""


def cell(page: str, testid: str) -> str:
    found = re.search(rf'data-testid="{re.escape(testid)}"[^>]*>(.*?)</', page, re.S)
    assert found, testid
    return re.sub(r"\s+", " ", found.group(1)).strip()


def test_release_needs_a_reason_and_then_confirms_the_order(
    client: FlaskClient, world: World, orders: dict[str, int], session_factory: sessionmaker[Session]
) -> None:
    token = sign_in(client, world, "credit")
    listing = client.get("/credit/blocked-orders").get_data(as_text=True)
    assert f'data-order="{orders["blocked"]}"' in listing
    page = client.get(f"/credit/blocked-orders/{orders['blocked']}").get_data(as_text=True)
    # Company A: open orders 10,000.00 (in the exposure) and 10,000.00 blocked (not in it).
    row = re.search(r'<tr data-company="CA">(.*?)</tr>', page, re.S).group(1)  # type: ignore[union-attr]
    assert row.count("¥10,000.00") == 3  # open orders, exposure, blocked
    assert cell(page, "group-exposure") == "¥10,000.00"
    refused = client.post(f"/credit/blocked-orders/{orders['blocked']}", data={"reason": "  ", "csrf_token": token})
    assert refused.status_code == 422
    assert 'data-testid="error-reason"' in refused.get_data(as_text=True)
    with session_factory() as session:
        assert session.get(SalesOrder, orders["blocked"]).status == SalesOrderStatus.BLOCKED  # type: ignore[union-attr]
    # First what the release does, nothing released: exposure 10,000.00 + 10,000.00 = 20,000.00
    # against the limit of 15,000.00; order 1 could no longer ship.
    checked = client.post(f"/credit/blocked-orders/{orders['blocked']}",
                          data={"reason": "payment promised by month end", "csrf_token": token})
    assert checked.status_code == 200
    page = checked.get_data(as_text=True)
    facts = dict(re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", re.search(
        r'data-testid="confirm-release-facts">(.*?)</dl>', page, re.S).group(1)))  # type: ignore[union-attr]
    assert (facts["集团信用占用"], facts["放行后信用占用"], facts["信用额度"]) == ("¥10,000.00", "¥20,000.00", "¥15,000.00")
    assert f'<li data-order="{orders["confirmed"]}">' in page and 'data-testid="confirm-effect-warning"' in page
    assert 'data-testid="done"' not in page
    with session_factory() as session:
        assert session.get(SalesOrder, orders["blocked"]).status == SalesOrderStatus.BLOCKED  # type: ignore[union-attr]
    back = client.post(f"/credit/blocked-orders/{orders['blocked']}", data={
        "reason": "payment promised by month end", "edit": "1", "confirmed": "1", "csrf_token": token})
    assert 'value="payment promised by month end"' in back.get_data(as_text=True)  # the form, as typed
    posted = client.post(f"/credit/blocked-orders/{orders['blocked']}",
                         data={"reason": "payment promised by month end", "confirmed": "1", "csrf_token": token})
    assert posted.status_code == 302  # Post/Redirect/Get: a refresh shows the release, never posts it again
    released = client.get(posted.headers["Location"])
    assert released.status_code == 200
    assert 'data-testid="done"' in released.get_data(as_text=True)
    assert 'data-testid="done"' in client.get(posted.headers["Location"]).get_data(as_text=True)  # refreshed
    with session_factory() as session:
        assert session.get(SalesOrder, orders["blocked"]).status == SalesOrderStatus.CONFIRMED  # type: ignore[union-attr]
    assert position(session_factory, world).exposure == D("20000.00")


def test_the_exposure_by_company_counts_orders_with_their_vat_as_the_exposure_does(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    # Two orders of 100 x 100.00 at 13 % VAT: 10,000.00 + 1,300.00 = 11,300.00 each. The
    # first is confirmed (exposure 11,300.00), the second would take it to 22,600.00, over
    # 15,000.00: blocked. Each company row and the customer's order list show 11,300.00, the
    # amounts the group exposure is made of, not the 10,000.00 before tax.
    put_stock(session_factory, world)
    set_limit(session_factory, world, "cust1", "15000")
    first = new_order(session_factory, world, confirm=True, tax="VAT13").order
    second = new_order(session_factory, world, confirm=True, tax="VAT13").order
    assert (first.status, second.status) == (SalesOrderStatus.CONFIRMED, SalesOrderStatus.BLOCKED)
    assert position(session_factory, world).exposure == D("11300.00")
    sign_in(client, world, "credit")
    page = client.get(f"/credit/blocked-orders/{second.id}").get_data(as_text=True)
    row = re.search(r'<tr data-company="CA">(.*?)</tr>', page, re.S).group(1)  # type: ignore[union-attr]
    assert row.count("¥11,300.00") == 3  # open orders, exposure, blocked
    assert "¥10,000.00" not in row
    assert cell(page, "group-exposure") == "¥11,300.00"
    orders = re.search(r'data-testid="customer-orders">(.*?)</table>', page, re.S).group(1)  # type: ignore[union-attr]
    for order in (first, second):
        listed = re.search(rf'<tr data-order="{order.id}">(.*?)</tr>', orders, re.S).group(1)  # type: ignore[union-attr]
        assert "¥11,300.00" in listed


def test_an_override_needs_a_reason_and_becomes_the_limit_in_force(
    client: FlaskClient, world: World, orders: dict[str, int], session_factory: sessionmaker[Session]
) -> None:
    token = sign_in(client, world, "credit")
    page = client.get("/credit/customers/K0001").get_data(as_text=True)
    assert cell(page, "group-exposure") == "¥10,000.00"
    refused = client.post("/credit/customers/K0001/limit", data={
        "decision": "override", "credit_limit": "25000", "csrf_token": token})
    assert refused.status_code == 422
    assert 'value="25000"' in refused.get_data(as_text=True)
    assert position(session_factory, world).credit_limit == D("15000.00")
    for typed in ("1e30", "99999999999999999", "100.001"):  # what the column cannot hold (it was a 500)
        out_of_bounds = client.post("/credit/customers/K0001/limit", data={
            "decision": "override", "credit_limit": typed, "reason": "annual review", "csrf_token": token})
        assert out_of_bounds.status_code == 422, typed
        assert 'data-testid="error-credit_limit"' in out_of_bounds.get_data(as_text=True), typed
    assert position(session_factory, world).credit_limit == D("15000.00")
    # First what it does, nothing saved: exposure 10,000.00, limit 15,000.00 -> 25,000.00,
    # headroom after 25,000.00 - 10,000.00 = 15,000.00.
    checked = client.post("/credit/customers/K0001/limit", data={
        "decision": "override", "credit_limit": "25000", "reason": "annual review", "csrf_token": token})
    assert checked.status_code == 200
    facts = confirmation(checked.get_data(as_text=True))
    assert facts["集团信用占用"] == "¥10,000.00" and facts["现行额度"] == "¥15,000.00"
    assert facts["新信用额度"] == "¥25,000.00" and facts["调整后余额（额度减占用）"] == "¥15,000.00"
    assert 'data-testid="limit-cut-warning"' not in checked.get_data(as_text=True)
    assert position(session_factory, world).credit_limit == D("15000.00")
    saved = client.post("/credit/customers/K0001/limit", data={
        "decision": "override", "credit_limit": "25000", "reason": "annual review", "confirmed": "1",
        "csrf_token": token})
    assert saved.status_code == 302
    assert position(session_factory, world).credit_limit == D("25000.00")
    history = client.get("/credit/customers/K0001?done=limit").get_data(as_text=True)
    assert "annual review" in history and "¥25,000.00" in history


def suggest(session_factory: sessionmaker[Session], world: World, customer: str, limit: str) -> int:
    """A run of the limit model; the customer's suggestion is made ``limit`` (the world's
    customers have too little history for the model to cut below their exposure)."""
    with session_factory() as session, session.begin():
        run = limits.suggest_limits(session, world.actors["credit"], as_of=dt.date(2026, 12, 15))
        suggestion = session.scalars(select(CreditLimitSuggestion).where(
            CreditLimitSuggestion.run_id == run.id,
            CreditLimitSuggestion.customer_id == world.customers[customer])).one()
        suggestion.suggested_limit = D(limit)
        return suggestion.id


def confirmation(page: str) -> dict[str, str]:
    """The facts of the new limit's confirmation step, label -> value."""
    block = re.search(r'data-testid="confirm-limit-facts">(.*?)</dl>', page, re.S)
    assert block, "no confirmation step"
    return {re.sub(r"\s+", " ", term).strip(): re.sub(r"\s+", " ", value).strip()
            for term, value in re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", block.group(1), re.S)}


def test_a_limit_below_the_exposure_shows_the_orders_it_holds_and_needs_a_reason(
    client: FlaskClient, world: World, orders: dict[str, int], session_factory: sessionmaker[Session]
) -> None:
    # Exposure 10,000.00 (order 1 confirmed), limit 15,000.00. A limit of 8,000.00 leaves the
    # customer 8,000.00 - 10,000.00 = -2,000.00 over it: order 1 could no longer ship.
    token = sign_in(client, world, "credit")
    refused = client.post("/credit/customers/K0001/limit", data={
        "decision": "override", "credit_limit": "8000", "reason": " ", "csrf_token": token})
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert 'data-testid="error-reason"' in text
    assert "新额度 ¥8,000.00 比客户 K0001 第一医院 的集团信用占用 ¥10,000.00 低 ¥2,000.00" in text
    checked = client.post("/credit/customers/K0001/limit", data={
        "decision": "override", "credit_limit": "8000", "reason": "customer in court proceedings",
        "csrf_token": token})
    assert checked.status_code == 200
    page = checked.get_data(as_text=True)
    facts = confirmation(page)
    assert facts["集团信用占用"] == "¥10,000.00" and facts["新信用额度"] == "¥8,000.00"
    assert facts["调整后余额（额度减占用）"].startswith("-¥2,000.00")
    warning = re.search(r'data-testid="limit-cut-warning">(.*?)</div>\s*</div>', page, re.S).group(1)  # type: ignore[union-attr]
    assert "¥2,000.00" in warning
    with session_factory() as session:
        number = session.get(SalesOrder, orders["confirmed"]).number  # type: ignore[union-attr]
    held = re.search(rf'<li data-order="{orders["confirmed"]}">(.*?)</li>', warning, re.S).group(1)  # type: ignore[union-attr]
    assert number in held and "¥10,000.00" in held and "因新额度而冻结" in held
    assert f'data-order="{orders["blocked"]}"' not in warning  # blocked at confirmation: not in the exposure
    assert position(session_factory, world).credit_limit == D("15000.00")  # nothing saved yet
    saved = client.post("/credit/customers/K0001/limit", data={
        "decision": "override", "credit_limit": "8000", "reason": "customer in court proceedings",
        "confirmed": "1", "csrf_token": token})
    assert saved.status_code == 302
    assert position(session_factory, world).credit_limit == D("8000.00")


def test_approving_a_suggestion_below_the_exposure_asks_for_a_reason_and_a_confirmation(
    client: FlaskClient, world: World, orders: dict[str, int], session_factory: sessionmaker[Session]
) -> None:
    suggestion = suggest(session_factory, world, "cust1", "6000")
    token = sign_in(client, world, "credit")
    approve = {"decision": "approve", "suggestion_id": str(suggestion), "csrf_token": token}
    refused = client.post("/credit/customers/K0001/limit", data=approve)
    assert refused.status_code == 422 and 'data-testid="error-reason"' in refused.get_data(as_text=True)
    checked = client.post("/credit/customers/K0001/limit", data={**approve, "reason": "agreed at the credit committee"})
    assert checked.status_code == 200
    facts = confirmation(checked.get_data(as_text=True))
    assert facts["新信用额度"] == "¥6,000.00" and facts["调整后余额（额度减占用）"].startswith("-¥4,000.00")
    assert position(session_factory, world).credit_limit == D("15000.00")
    saved = client.post("/credit/customers/K0001/limit", data={**approve, "reason": "agreed at the credit committee",
                                                              "confirmed": "1"})
    assert saved.status_code == 302
    assert position(session_factory, world).credit_limit == D("6000.00")


def test_the_limit_history_tells_the_models_limit_from_a_controllers_and_who_set_each(
    client: FlaskClient, world: World, orders: dict[str, int], session_factory: sessionmaker[Session]
) -> None:
    # The form sends the suggestion beside an override too (the suggestion overridden): that
    # version is the controller's value, not the model's. The approval's recorded reason reads
    # in the reader's language, not as the English the service wrote.
    suggestion = suggest(session_factory, world, "cust1", "20000")
    with session_factory() as session, session.begin():
        run_id = session.get(CreditLimitSuggestion, suggestion).run_id  # type: ignore[union-attr]
    token = sign_in(client, world, "credit")
    base = {"suggestion_id": str(suggestion), "confirmed": "1", "csrf_token": token}
    assert client.post("/credit/customers/K0001/limit", data={**base, "decision": "approve"}).status_code == 302
    assert client.post("/credit/customers/K0001/limit", data={
        **base, "decision": "override", "credit_limit": "30000", "reason": "年度评审"}).status_code == 302
    page = client.get("/credit/customers/K0001").get_data(as_text=True)
    # version 1 is the world's opening limit (tests.credit.set_limit), 2 the approval, 3 the override
    assert "模型" in cell(page, "limit-source-2") and "人工" in cell(page, "limit-source-3")
    assert "人工" in cell(page, "limit-source-1")
    assert cell(page, "limit-reason-2") == f"审批额度模型第 {run_id} 次运行的建议"
    assert cell(page, "limit-reason-3") == "年度评审"
    assert cell(page, "limit-set-by-2") == cell(page, "limit-set-by-3") == "credit"
    assert "<th>操作人</th>" in page
    client.set_cookie("heyi_lang", "en")
    english = client.get("/credit/customers/K0001").get_data(as_text=True)
    assert html.unescape(cell(english, "limit-reason-2")) == f"approved the limit model's suggestion of run {run_id}"
    assert "manual" in cell(english, "limit-source-3")


def test_a_reason_stored_in_english_before_reads_in_chinese(
    client: FlaskClient, world: World, orders: dict[str, int], session_factory: sessionmaker[Session]
) -> None:
    # What the service wrote before the reasons were narrations (data of earlier runs).
    with session_factory() as session, session.begin():
        session.execute(update(CreditLimit).values(reason="approved the suggestion of run 7"))
        session.execute(update(CustomerExposure).values(on_hold=True,
                                                        hold_reason="limit model, run 7: overdue-over-90-days"))
    sign_in(client, world, "credit")
    page = client.get("/credit/customers/K0001").get_data(as_text=True)
    assert cell(page, "limit-reason-1") == "审批额度模型第 7 次运行的建议"
    assert cell(page, "hold-reason").startswith("额度模型第 7 次运行：")


def test_the_scorecard_shows_amounts_as_money_and_a_customer_without_history_as_such(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    # K0002 was invoiced 10,152.30 on 1 November: its sales volume factor judges an amount of
    # money, shown ¥10,152.30 (as a quantity it read 10,152.3). K0001 has no history and no
    # credit data: the model knows nothing of it, which is not "very high risk" (its score of
    # 30.00 is made of "no data" points).
    history_invoice(session_factory, world, "cust2", dt.date(2026, 11, 1), "10152.30")
    with session_factory() as session, session.begin():
        limits.suggest_limits(session, world.actors["credit"], as_of=dt.date(2026, 12, 15))
    sign_in(client, world, "credit")
    page = client.get("/credit/customers/K0002").get_data(as_text=True)
    steps = re.search(r'data-testid="score-steps">(.*?)</table>', page, re.S).group(1)  # type: ignore[union-attr]
    volume = next(row for row in re.findall(r"<tr>(.*?)</tr>", steps, re.S) if "12 个月集团销售额" in row)
    assert "¥10,152.30" in volume and "10,152.3<" not in volume
    assert "无交易历史" not in cell(page, "suggestion")
    listing = client.get("/credit/customers?q=K000").get_data(as_text=True)
    risk = dict(re.findall(r'data-testid="risk-(K000\d)">(.*?)</td>', listing, re.S))
    assert "无交易历史（数据不足）" in risk["K0001"] and "极高风险" not in risk["K0001"]
    assert "风险" in risk["K0002"] and "无交易历史" not in risk["K0002"]  # judged on its history
    newcomer = client.get("/credit/customers/K0001").get_data(as_text=True)
    suggestion = re.search(r'data-testid="suggestion">(.*?)</dl>', newcomer, re.S).group(1)  # type: ignore[union-attr]
    assert "无交易历史（数据不足）" in suggestion and "极高风险" not in suggestion


def test_a_hold_is_put_and_lifted_with_a_reason(
    client: FlaskClient, world: World, orders: dict[str, int], session_factory: sessionmaker[Session]
) -> None:
    token = sign_in(client, world, "credit")
    put = client.post("/credit/customers/K0001/hold", data={"on_hold": "1", "hold_reason": "court ruling",
                                                             "csrf_token": token})
    assert put.status_code == 302
    assert position(session_factory, world).on_hold is True
    # a reason of spaces is refused beside the hold's own reason, not the limit form's beside it
    # (the service's /reason is the page's hold_reason)
    refused = client.post("/credit/customers/K0001/hold", data={"on_hold": "0", "hold_reason": "  ",
                                                                 "csrf_token": token})
    assert refused.status_code == 422 and position(session_factory, world).on_hold is True
    text = refused.get_data(as_text=True)
    assert 'data-testid="error-hold_reason"' in text and 'data-testid="error-reason"' not in text
    page = client.get(f"/credit/blocked-orders/{orders['blocked']}").get_data(as_text=True)
    assert 'data-testid="release-form"' not in page  # a held customer is not released order by order
    lifted = client.post("/credit/customers/K0001/hold", data={"on_hold": "0", "hold_reason": "settled",
                                                                "csrf_token": token})
    assert lifted.status_code == 302
    assert position(session_factory, world).on_hold is False


def test_the_cio_reads_the_desk_but_changes_nothing(
    client: FlaskClient, world: World, orders: dict[str, int], session_factory: sessionmaker[Session]
) -> None:
    token = sign_in(client, world, "cio")
    assert client.get("/credit/customers/K0001").status_code == 200
    page = client.get(f"/credit/blocked-orders/{orders['blocked']}").get_data(as_text=True)
    assert 'data-testid="release-form"' not in page
    response: Any = client.post(f"/credit/blocked-orders/{orders['blocked']}",
                                data={"reason": "x", "csrf_token": token})
    assert response.status_code == 403
    assert position(session_factory, world).exposure == D("10000.00")


@pytest.mark.parametrize("asked, shown", [("2026-10", "2026-10"), ("", "2026-12"), ("2026-13", "2026-12"),
                                          ("2026-1", "2026-12")])
def test_the_intercompany_page_shows_the_period_asked_for_else_todays(
    client: FlaskClient, world: World, asked: str, shown: str
) -> None:
    sign_in(client, world, "cio")
    # the suite's business day is 15 December 2026 (tests/conftest.py): today's period is 2026-12
    page = client.get(f"/intercompany/?period={asked}").get_data(as_text=True)
    assert f'id="f-period" name="period" value="{shown}"' in page
