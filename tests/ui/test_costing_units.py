"""Quantities on the costing pages carry the material's unit and prices are per unit, in
the project's formats (erp.ui: ``with_unit``, ``price``, ``unit_name``: the unit master's
name on a Chinese page, 千克 not KG or kg). November
(tests/api/test_costing_api.py): A holds 60 kg of EXC-STAR (100 received, 40 issued) at a
standard of 10.00 per kg."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from tests.api.test_costing_api import november  # noqa: F401 - the fixture
from tests.ui.test_costing_pages import sign_in
from tests.world import World


def test_valuation_shows_quantities_with_their_unit_and_standard_prices_per_unit(
    client: FlaskClient, world: World, november: None  # noqa: F811
) -> None:
    sign_in(client, world, "cost_a")
    valuation = client.get("/costing/valuation?company=CA").get_data(as_text=True)
    quantity = re.search(r'data-testid="quantity-CA-EXC-STAR">([^<]+)<', valuation).group(1)  # type: ignore[union-attr]
    assert quantity == "60 千克"
    prices = client.get("/costing/standard-prices?company=CA&period=2026-11").get_data(as_text=True)
    price = re.search(r'data-testid="price-EXC-STAR">([^<]+)<', prices).group(1)  # type: ignore[union-attr]
    assert price.strip() == "¥10.00 / 千克"
