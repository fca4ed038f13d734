"""The cost centre rates page (成本中心费率, trial finding 104): a cost accountant lists a
company's rates in force in a period and sets a cost centre's rates from a period on in the
browser; the roll-up's refusal of a cost centre without rates links to it, and the BOM form
offers the company's cost centres and refuses one without rates beside the field.

tests/production.py's plant sets API-REACT at 80 + 120 and TAB-PRESS at 60 + 40 per hour
from 2026-11."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from erp.audit.models import AuditEvent
from erp.production import boms
from erp.production.models import Bom, CostCenterRate
from tests.production import build_plant
from tests.ui.test_production_pages import cell, csrf_token, sign_in
from tests.world import World


def test_the_cost_accountant_lists_and_sets_cost_centre_rates_in_the_browser(
        client: FlaskClient, session_factory: sessionmaker[Session], world: World) -> None:
    build_plant(session_factory, world)
    company = str(world.companies["A"])
    sign_in(client, world, "cost_a")
    page = client.get(f"/production/cost-center-rates?company_id={company}&period=2026-11").get_data(as_text=True)
    assert 'href="/production/cost-center-rates"' in page  # in the navigation
    assert 'data-testid="rate-API-REACT"' in page and "¥80.00" in page and "¥120.00" in page
    assert "¥200.00" in page  # API-REACT's conversion per hour: 80 + 120
    form = {"company_id": company, "cost_center": "CAPS-FILL", "period": "2026-12", "labour_rate": "80",
            "overhead_rate": "-1", "csrf_token": csrf_token(page)}
    refused = client.post("/production/cost-center-rates", data=form)
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'data-testid="refusal"' in text
    assert 'value="CAPS-FILL"' in text  # nothing typed is lost
    saved = client.post("/production/cost-center-rates", data={**form, "overhead_rate": "120"})
    assert saved.status_code == 302
    page = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert 'data-testid="saved"' in page and 'data-testid="rate-CAPS-FILL"' in page
    with session_factory() as session:
        rate = session.scalar(select(CostCenterRate).where(CostCenterRate.cost_center == "CAPS-FILL"))
        assert rate is not None and (str(rate.period), rate.labour_rate, rate.overhead_rate) == (
            "2026-12", D("80"), D("120"))
        assert session.scalar(select(AuditEvent.id).where(AuditEvent.entity == "cost_center_rate",
                                                          AuditEvent.entity_id == rate.id)) is not None
    # set from December: not in force in November
    page = client.get(f"/production/cost-center-rates?company_id={company}&period=2026-11").get_data(as_text=True)
    assert 'data-testid="rate-CAPS-FILL"' not in page and 'data-testid="rate-TAB-PRESS"' in page
    # clerks neither read nor set rates on this page
    sign_in(client, world, "clerk_a")
    assert client.get("/production/cost-center-rates").status_code == 403


def test_the_roll_up_refusal_links_to_the_rates_and_the_bom_form_offers_the_companys_cost_centres(
        client: FlaskClient, session_factory: sessionmaker[Session], world: World) -> None:
    plant = build_plant(session_factory, world)
    company = world.companies["A"]
    # the tablets' December version is filled on CAPS-FILL, whose rates are set only from 2027-01
    with session_factory() as session, session.begin():
        boms.set_cost_center_rates(session, world.actors["cost_a"], company_id=company, period="2027-01",
                                   rates=[boms.RateIn("CAPS-FILL", D("80"), D("120"))])
        boms.create_bom(session, world.actors["cost_a"], company_id=company, material_id=plant.tablet,
                        valid_from=dt.date(2026, 12, 1), base_quantity=D("1000"), cost_center="CAPS-FILL",
                        hours=D("2.5"), components=[boms.ComponentIn(plant.api, D("0.1"))])
    sign_in(client, world, "cost_a")
    page = client.get("/production/rollups").get_data(as_text=True)
    assert 'data-testid="to-rates"' in page
    refused = client.post("/production/rollups", data={"company_id": str(company), "period": "2026-12",
                                                       "csrf_token": csrf_token(page)})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "CAPS-FILL" in text
    assert f'href="/production/cost-center-rates?company_id={company}&amp;period=2026-12"' in text

    page = client.get("/production/boms/new").get_data(as_text=True)
    assert '<select class="input" id="f-cost_center" name="cost_center">' in page
    assert all(f'<option value="{name}"' in page for name in ("API-REACT", "CAPS-FILL", "TAB-PRESS"))
    form = {"company_id": str(company), "material": "TAB-X", "valid_from": "2027-01-01", "base_quantity": "1000",
            "cost_center": "CAPS-FIL", "hours": "2.5", "rows": "6", "c0_material": "API-X", "c0_quantity": "0.1",
            "csrf_token": csrf_token(page)}
    refused = client.post("/production/boms/new", data=form)
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "CAPS-FIL" in cell(text, "error-cost_center")
    assert '<option value="CAPS-FIL" selected>' in text  # what was sent stays, beside its refusal
    with session_factory() as session:
        assert session.scalar(select(Bom.id).where(Bom.valid_from == dt.date(2027, 1, 1))) is None
