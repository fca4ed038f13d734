"""A form's refusal at the top names the field by the label the form gives it (UI.md: the
reader knows 不含税单价, not ``unit_price``), in the reader's language, while the API keeps
the field's name (a client sends it by that name)."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from erp.errors import ValidationFailed
from erp.messages import message_data, message_from_data
from tests.payables import invoice_form, vat13_on_materials
from tests.stock import open_order, receive, set_standard
from tests.ui.conftest import shown, sign_in
from tests.world import World


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


@pytest.mark.postgres
@pytest.mark.parametrize("language, top", [("zh", "不含税单价 1：请输入数字"),
                                           ("en", "Unit price excl. tax 1: enter a number")])
def test_a_line_price_refused_is_named_by_its_column_and_line(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session], language: str, top: str,
) -> None:
    vat13_on_materials(session_factory, world)
    set_standard(session_factory, world, "exc_local", "12.00")
    open_order(session_factory, world, [("exc_local", "100", "12.00", "A-AMB")], number="PO-A-0001")
    receive(session_factory, world, 1, "100")
    sign_in(client, world, "ap_a", language)
    page = client.get("/payables/invoices/new?order=PO-A-0001").get_data(as_text=True)
    refused = client.post("/payables/invoices/new?order=PO-A-0001", data=invoice_form(
        _csrf(page), "INV-L1", ("1200.00", "156.00", "1356.00"), {"quantity-0": "100", "unit_price-0": "twelve"},
        action="post"))
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert shown(text, "refusal").endswith(top)
    assert "unit_price" not in shown(text, "refusal") and "\ue000" not in text
    assert 'value="twelve"' in text  # nothing typed is lost


@pytest.mark.parametrize("language, top", [("zh", "信用额度（元）：请输入数字"),
                                           ("en", "Credit limit (CNY): enter a number")])
def test_a_field_of_a_form_is_named_by_its_label(
    client: FlaskClient, world: World, language: str, top: str,
) -> None:
    token = sign_in(client, world, "credit", language)
    refused = client.post("/credit/customers/K0001/limit", data={
        "decision": "override", "credit_limit": "lots", "reason": "x", "csrf_token": token})
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert shown(text, "refusal").endswith(top)
    assert shown(text, "error-credit_limit") == ("请输入数字" if language == "zh" else "enter a number")


def test_the_api_names_the_field_as_a_client_sends_it() -> None:
    refusal = ValidationFailed.for_field("unit_price", "enter a number")
    assert refusal.to_problem()["detail"] == "unit_price: enter a number"
    # A refusal kept with a job comes back with its field still a field.
    kept = message_from_data(message_data(refusal.message))
    assert str(kept) == "unit_price: enter a number" and type(kept.params["field"]).__name__ == "FieldName"
