"""Forms follow Post/Redirect/Get: a refused POST answers the form again with what was typed
and the refusal; a POST that changed something redirects to a page that shows it, so that a
browser's refresh reads the page again instead of posting twice. One test per form fixed: the
standard price form, a warehouse's monitoring rules, sensor-log upload and logger withdrawal,
and the release of a blocked order (tests/ui/test_credit_pages.py)."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal as D

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from erp.posting.models import StandardPrice
from erp.quality.models import StorageMonitoring
from tests.api.test_costing_api import november  # noqa: F401 - the fixture
from tests.quality import quality_user
from tests.ui.conftest import shown, sign_in
from tests.world import World


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def test_the_standard_price_form_redirects_after_setting_a_price(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session], november: None,  # noqa: F811
) -> None:
    sign_in(client, world, "cost_a")
    url = "/costing/standard-prices?company=CA&period=2026-12"
    token = _csrf(client.get(url).get_data(as_text=True))
    refused = client.post(url, data={"csrf_token": token, "period": "2026-12", "material": "EXC-STAR",
                                     "price": "eleven"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'data-testid="refusal"' in page
    assert 'value="eleven"' in page and 'value="EXC-STAR"' in page  # nothing typed is lost
    with session_factory() as session:
        before = session.scalar(select(func.count()).select_from(StandardPrice))
    posted = client.post(url, data={"csrf_token": token, "period": "2026-12", "material": "EXC-STAR",
                                    "price": "11.00"})
    assert posted.status_code == 302
    location = posted.headers["Location"]
    assert "company=CA" in location and "period=2026-12" in location and "saved=EXC-STAR" in location
    for _ in range(2):  # the page, then a refresh of it: nothing posted again
        after = client.get(location).get_data(as_text=True)
        assert 'data-testid="done"' in after and "EXC-STAR" in after
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(StandardPrice)) == before + 1


def test_a_warehouses_monitoring_forms_redirect_after_a_change(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session],
) -> None:
    quality_user(session_factory, world, "quality_a", display_name="QC Li")
    warehouse = world.warehouses["A-COLD"]
    url = f"/quality/warehouses/{warehouse}/monitoring"
    token = sign_in(client, world, "quality_a")
    token = _csrf(client.get(url).get_data(as_text=True)) or token
    # refused: the form again, as typed, with the refusal beside the field
    refused = client.post(url, data={"csrf_token": token, "action": "rules", "allowance_minutes": "x",
                                     "logging_interval_minutes": "2"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'value="x"' in page and 'data-testid="refusal"' in page
    # the rules saved: redirected to the page, which says so
    posted = client.post(url, data={"csrf_token": token, "action": "rules", "allowance_minutes": "20",
                                    "logging_interval_minutes": "2"})
    assert posted.status_code == 302 and "saved=rules" in posted.headers["Location"]
    assert 'data-testid="saved"' in client.get(posted.headers["Location"]).get_data(as_text=True)
    with session_factory() as session:
        rules = session.get(StorageMonitoring, warehouse)
        assert rules is not None and (rules.allowance_minutes, rules.logging_interval_minutes) == (20, 2)
    # a sensor log: redirected to the page with what it stored
    start = dt.datetime(2026, 11, 2, 0, 0, tzinfo=dt.timezone.utc)
    content = "read_at,temperature,humidity\n" + "".join(
        f"{(start + dt.timedelta(minutes=i)).isoformat()},5.00,55\n" for i in range(5))
    uploaded = client.post(url, data={"csrf_token": token, "action": "upload",
                                      "file": (io.BytesIO(content.encode()), "cold.csv")},
                           content_type="multipart/form-data")
    assert uploaded.status_code == 302, uploaded.get_data(as_text=True)[:300]
    again = client.get(uploaded.headers["Location"]).get_data(as_text=True)
    assert "5" in shown(again, "imported")
    assert D(re.search(r"stored=(\d+)", uploaded.headers["Location"]).group(1)) == 5  # type: ignore[union-attr]
