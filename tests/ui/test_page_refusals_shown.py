"""A page never refuses in silence: whatever a service refuses, the page shows the rule's
sentence in the reader's language, also when the state the refusal is about hides the form
that would have shown it (the layout shows it at the top, erp.ui.pages), and a database
error that stands for a refusal is a page too, never the API's JSON.

Every test in tests/ui also runs under tests/ui/conftest.py's check that no page answers an
error status without one of these messages.

K0001 第一医院 has a limit of 15,000.00; order 1 (10,000.00) is confirmed, order 2
(another 10,000.00) is blocked at confirmation; the credit controller has its page open.
"""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from erp.credit import services
from erp.credit.models import SalesOrder, SalesOrderStatus
from tests.ui.conftest import page_fault, shown, sign_in
from tests.world import World


def hold(session_factory: sessionmaker[Session], world: World, reason: str) -> None:
    with session_factory() as session, session.begin():
        services.set_credit_hold(session, world.actors["credit"], world.customers["cust1"], on_hold=True,
                                 reason=reason)


@pytest.mark.parametrize("language, sentence", [
    ("zh", "客户 K0001 第一医院 处于信用冻结（支票退票）；请先解除信用冻结，再放行其订单"),
    ("en", "customer K0001 First Hospital is on credit hold (支票退票); lift the hold before releasing its orders"),
])
def test_a_release_refused_by_a_hold_put_meanwhile_says_why(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session], blocked_order: int, language: str,
    sentence: str,
) -> None:
    token = sign_in(client, world, "credit", language)
    assert 'data-testid="release-form"' in client.get(f"/credit/blocked-orders/{blocked_order}").get_data(as_text=True)
    hold(session_factory, world, "支票退票")  # another controller, while this page is open
    refused = client.post(f"/credit/blocked-orders/{blocked_order}", data={"reason": "promised", "csrf_token": token})
    assert refused.status_code == 409
    page = refused.get_data(as_text=True)
    assert 'data-testid="release-form"' not in page  # the hold hides the form the refusal used to sit in
    assert shown(page, "refusal").endswith(sentence)
    assert page.count('data-testid="refusal"') == 1
    with session_factory() as session:
        assert session.get(SalesOrder, blocked_order).status == SalesOrderStatus.BLOCKED  # type: ignore[union-attr]


def test_a_second_release_of_the_same_order_says_it_is_no_longer_held(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session], blocked_order: int,
) -> None:
    token = sign_in(client, world, "credit")
    first = client.post(f"/credit/blocked-orders/{blocked_order}", data={"reason": "promised", "confirmed": "1",
                                                                          "csrf_token": token})
    assert first.status_code == 302
    again = client.post(f"/credit/blocked-orders/{blocked_order}", data={"reason": "promised", "confirmed": "1",
                                                                          "csrf_token": token})
    assert again.status_code == 409
    # the order is named by its number: the second of CA's orders (the first was confirmed)
    assert shown(again.get_data(as_text=True), "refusal") == (
        "该销售订单未被信用冻结 销售订单 SO-CA-2026-000002 状态为已确认，未被信用控制冻结")


def test_a_form_that_shows_its_refusal_is_not_shown_it_twice(
    client: FlaskClient, world: World, blocked_order: int,
) -> None:
    token = sign_in(client, world, "credit")
    refused = client.post(f"/credit/blocked-orders/{blocked_order}", data={"reason": " ", "csrf_token": token})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert page.count('data-testid="refusal"') == 1 and 'data-testid="release-form"' in page
    assert 'data-testid="error-reason"' in page


def test_a_lost_database_connection_on_a_page_is_a_page_in_the_readers_language(
    app: Flask, client: FlaskClient, world: World, blocked_order: int, monkeypatch: pytest.MonkeyPatch,
) -> None:
    sign_in(client, world, "credit")

    def lost(*args: object, **kwargs: object) -> None:
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection"), connection_invalidated=True)

    monkeypatch.setattr("erp.credit.pages._held", lost)
    page = client.get("/credit/blocked-orders")
    assert page.status_code == 503 and page.mimetype == "text/html"
    assert "请求完成前与数据库的连接中断" in shown(page.get_data(as_text=True), "refusal")


def test_a_bug_on_a_page_is_a_page_not_json(client: FlaskClient, world: World, blocked_order: int,
                                            monkeypatch: pytest.MonkeyPatch, page_crash_expected: None) -> None:
    sign_in(client, world, "credit")

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr("erp.credit.pages._held", broken)
    page = client.get("/credit/blocked-orders")
    assert page.status_code == 500 and page.mimetype == "text/html"
    assert re.search(r'class="result-code">500<', page.get_data(as_text=True))
    # Any other page test that met this page would fail (tests/ui/conftest.py): a bug is not a message.
    assert page_fault(page) == "crashed"
