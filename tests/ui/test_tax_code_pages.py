"""The steward's tax code pages: list, create through the form, a refusal beside its field."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from erp.masterdata.models import TaxCode
from tests.world import World


def _sign_in(client: FlaskClient, world: World, user: str) -> None:
    with client.session_transaction() as session:
        session["token"] = world.tokens[user]


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def test_steward_creates_a_tax_code_on_the_page_and_sees_it_listed(
        client: FlaskClient, world: World, session_factory: sessionmaker[Session]) -> None:
    _sign_in(client, world, "steward")
    form = client.get("/masterdata/tax-codes/new").get_data(as_text=True)
    assert "税率（%）" in form and "生效日期" in form
    fields = {"code": "VAT9", "name_zh": "增值税 9%", "name_en": "VAT 9%", "kind": "standard", "rate": "9",
              "valid_from": "2019-04-01", "valid_to": "", "csrf_token": _csrf(form)}
    saved = client.post("/masterdata/tax-codes/new", data=fields)
    assert saved.status_code == 302 and "saved=VAT9" in saved.headers["Location"]
    listing = client.get("/masterdata/tax-codes").get_data(as_text=True)
    assert "VAT9" in listing and "9.00%" in listing and "按税率计税" in listing and "2019-04-01" in listing
    with session_factory() as session:
        assert session.scalars(select(TaxCode.rate).where(TaxCode.code == "VAT9")).one() == 9


def test_an_exempt_code_with_a_rate_is_refused_beside_the_rate_and_keeps_what_was_typed(
        client: FlaskClient, world: World, session_factory: sessionmaker[Session]) -> None:
    _sign_in(client, world, "steward")
    form = client.get("/masterdata/tax-codes/new").get_data(as_text=True)
    fields = {"code": "VATEX", "name_zh": "免税", "name_en": "Exempt", "kind": "exempt", "rate": "3",
              "valid_from": "2019-04-01", "valid_to": "", "csrf_token": _csrf(form)}
    refused = client.post("/masterdata/tax-codes/new", data=fields)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert 'data-testid="error-rate"' in page and "免税税码的税率必须为 0" in page
    assert 'value="VATEX"' in page
    with session_factory() as session:
        assert session.scalars(select(TaxCode)).all() == []


def test_tax_codes_are_the_stewards_pages(client: FlaskClient, world: World) -> None:
    _sign_in(client, world, "buyer_a")
    assert client.get("/masterdata/tax-codes").status_code == 403


def test_the_material_form_renders_in_chinese_and_offers_the_tax_codes(
        client: FlaskClient, world: World, session_factory: sessionmaker[Session]) -> None:
    # "超收允差（%）" once broke the Chinese form: a bare % in a template translation.
    from tests.tax import create_china_vat

    create_china_vat(session_factory, world)
    _sign_in(client, world, "steward")
    page = client.get("/masterdata/materials/EXC-STAR/edit")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "超收允差（%）" in text and "默认税码" in text and "VAT13 增值税 13%" in text
