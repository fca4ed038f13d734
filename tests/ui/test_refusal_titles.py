"""A refusal's box at the top of a form names the rule in its title: a refusal class's own
title ("货物仍在待检隔离：…") with the figures under it, and for the generic classes (a field's
refusal, a plain conflict), whose title 「请求内容无效」 says nothing a reader can act on, the
field and its message ("调入仓库：调出和调入仓库相同") instead (TRIAL.md findings 7 and 15)."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale
from sqlalchemy.orm import Session, sessionmaker

from erp.errors import Conflict, ValidationFailed
from erp.inventory.errors import OverReceipt
from erp.messages import FIELD_MARK_END, FIELD_MARK_START, Message
from erp.ui import refusal_heading
from tests.credit import put_stock
from tests.stock import open_order, receive, set_standard
from tests.ui.conftest import shown, sign_in
from tests.world import World


def test_a_transfer_to_its_own_warehouse_is_titled_by_the_rule_not_request_invalid(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session],
) -> None:
    put_stock(session_factory, world)
    token = sign_in(client, world, "clerk_a")
    refused = client.post("/inventory/transfers", data={
        "from_warehouse_id": str(world.warehouses["A-AMB"]), "to_warehouse_id": str(world.warehouses["A-AMB"]),
        "material_id": str(world.materials["exc_local"]), "status": "unrestricted", "quantity": "10",
        "posting_date": "2026-11-20", "action": "post", "csrf_token": token})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    title = shown(page, "refusal-title")
    assert "请求内容无效" not in title
    assert title == "调入仓库：调出和调入仓库相同"
    # said once: no detail repeating the title under it
    assert shown(page, "refusal") == title


def test_a_refusal_class_keeps_its_own_title_with_the_figures_under_it(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session],
) -> None:
    set_standard(session_factory, world, "exc_local", "10.00")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "10.00", "A-AMB")])
    receive(session_factory, world, line, "60", batch="EXC-R-0", expires=dt.date(2028, 1, 31))
    token = sign_in(client, world, "clerk_a")
    refused = client.post(f"/inventory/receiving/{line}", data={
        "quantity": "100", "posting_date": "2026-11-20", "batch_number": "EXC-R-1", "manufacture_date": "2026-10-01",
        "expiry_date": "2028-01-31", "csrf_token": token})
    assert refused.status_code == 409
    page = refused.get_data(as_text=True)
    assert shown(page, "refusal-title") == "收货数量超过订购数量加允差"
    assert shown(page, "refusal") != shown(page, "refusal-title")  # the figures follow


@pytest.mark.parametrize("error, title, detail", [
    (ValidationFailed.for_field("reason", Message("required")), "reason：必填", None),
    (ValidationFailed(Message("{field}: {problem}", field="/quantity", problem=Message("required")),
                      errors=[{"pointer": "/quantity", "detail": Message("required")},
                              {"pointer": "/reason", "detail": Message("required")},
                              {"pointer": "/posting_date", "detail": Message("required")}]),
     "/quantity：必填", "另有 2 处需要修改，说明见各字段下方"),
    (Conflict(Message("order {order} is {status}", order="PO-1", status="closed")), None, None),
    (OverReceipt(Message("required")), "收货数量超过订购数量加允差", "必填"),
])
def test_the_heading_of_each_kind_of_refusal(
    app: Flask, error: Exception, title: str | None, detail: str | None,
) -> None:
    with app.test_request_context("/"), force_locale("zh"):
        heading = refusal_heading(error)
    # a page replaces the marked field name by its form's label (erp.ui.pages.field_labels)
    shown_title = heading.title.replace(FIELD_MARK_START, "").replace(FIELD_MARK_END, "")
    if title is None:  # a plain conflict: its sentence is the title, said once
        assert "与当前状态冲突" not in heading.title and "PO-1" in heading.title and heading.detail is None
    else:
        assert (shown_title, heading.detail) == (title, detail)
