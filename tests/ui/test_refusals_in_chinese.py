"""Refusals reach a Chinese page in Chinese (credit, purchasing, and auth's role check): the
rule's sentence at the top (``data-testid="refusal"``) and a field's message beside the field,
with the values filled in and statuses and roles by their Chinese words; the same refusal in
English for a reader who chose English.

These are the pages' words (the reader's chosen language); the API answers in the language
of Accept-Language (tests/api/test_problem_language.py).
"""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from erp.purchasing.models import PurchaseOrderStatus
from tests.stock import open_order
from tests.ui.conftest import shown, sign_in
from tests.world import World


@pytest.mark.parametrize("language, sentence", [
    ("zh", "与模型建议不同的信用额度须填写原因"),
    ("en", "a limit other than the model's suggestion needs a reason"),
])
def test_a_credit_limit_refusal_reads_in_the_readers_language(
    client: FlaskClient, world: World, blocked_order: int, language: str, sentence: str
) -> None:
    token = sign_in(client, world, "credit", language)
    refused = client.post("/credit/customers/K0001/limit", data={
        "decision": "override", "credit_limit": "25000", "csrf_token": token})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert shown(page, "error-reason") == sentence
    assert sentence in shown(page, "refusal")



@pytest.mark.parametrize("language, sentence", [
    ("zh", "无法提交订单 PO-ZH-1：当前状态为已下达"),
    ("en", "cannot submit order PO-ZH-1: it is open"),
])
def test_a_purchase_order_status_refusal_reads_in_the_readers_language(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session], language: str, sentence: str
) -> None:
    open_order(session_factory, world, [("pkg_loose", "10", "2.00", "A-AMB")], number="PO-ZH-1")
    token = sign_in(client, world, "buyer_a", language)
    refused = client.post("/purchasing/orders/PO-ZH-1", data={"action": "submit", "csrf_token": token})
    assert refused.status_code == 409
    assert sentence in shown(refused.get_data(as_text=True), "refusal")


def test_a_role_refusal_names_the_roles_in_chinese(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    """A buyer may not approve: the sentence names the roles by their Chinese words."""
    open_order(session_factory, world, [("pkg_loose", "10", "2.00", "A-AMB")], number="PO-ZH-2",
               status=PurchaseOrderStatus.PENDING_APPROVAL)
    token = sign_in(client, world, "buyer_a")
    refused = client.post("/purchasing/orders/PO-ZH-2", data={"action": "approve", "csrf_token": token})
    assert refused.status_code == 403
    detail = shown(refused.get_data(as_text=True), "refusal")
    assert "审批采购订单需要以下角色之一：采购经理；您的角色是采购员" in detail, detail
