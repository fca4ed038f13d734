"""The audit trail's pages (erp/audit/pages.py, trial finding 102): the auditor's landing page,
the trail across records with its filters, search, sort and pages, and a record's history
with each change's values before and after, the reason, who and when.

The world's records carry no audit rows of their own: each test makes its changes through
the services (as the steward, the admin) and reads them back as the auditor.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from erp.audit.models import AuditEvent
from erp.auth import services as auth
from erp.auth.roles import Role
from erp.masterdata import services as masterdata
from tests.ui.conftest import shown, sign_in
from tests.world import World


def _text(page: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


def _menu(page: str) -> str:
    found = re.search(r'<nav class="menu">(.*?)</nav>', page, re.S)
    assert found
    return _text(found.group(1))


def _rows(page: str) -> list[str]:
    """The text of each row of the trail's table."""
    body = re.search(r'data-testid="trail".*?<tbody>(.*?)</tbody>', page, re.S)
    return [_text(row) for row in re.findall(r"<tr data-event[^>]*>(.*?)</tr>", body.group(1), re.S)] if body else []


def _cell(page: str, testid: str) -> str:
    """The text of the table cell marked ``testid``."""
    found = re.search(rf'<td data-testid="{re.escape(testid)}"[^>]*>(.*?)</td>', page, re.S)
    assert found, f"no {testid} on the page"
    return _text(found.group(1))


def _rename(session_factory: sessionmaker[Session], world: World, name_zh: str, reason: str) -> None:
    """The steward renames API-AMOX (Chinese name), with a reason."""
    with session_factory() as session, session.begin():
        masterdata.update_record(session, world.actors["steward"], masterdata.MATERIALS, world.materials["api_central"],
                                 {"name_zh": name_zh}, reason=reason)


def _move_warehouse_band(session_factory: sessionmaker[Session], world: World) -> None:
    """The steward changes CA-COOL's band: an entry of company CA."""
    with session_factory() as session, session.begin():
        masterdata.update_record(session, world.actors["steward"], masterdata.WAREHOUSES, world.warehouses["A-COOL"],
                                 {"name_zh": "甲阴凉库"}, reason="名称统一")


# --- who sees it ---------------------------------------------------------------------------

def test_the_auditor_lands_on_the_audit_trail(client: FlaskClient, world: World) -> None:
    sign_in(client, world, "auditor")
    landing = client.get("/")
    assert landing.status_code == 302 and landing.headers["Location"].endswith("/audit/")
    page = client.get("/audit/").get_data(as_text=True)
    assert "<h1>审计追踪</h1>" in page
    assert "审计追踪" in _menu(page).split()


@pytest.mark.parametrize("user", ["steward", "cio", "admin"])
def test_the_other_readers_of_the_trail_find_it_in_their_menu(client: FlaskClient, world: World, user: str) -> None:
    sign_in(client, world, user)
    page = client.get("/audit/").get_data(as_text=True)
    assert "<h1>审计追踪</h1>" in page and "审计追踪" in _menu(page).split()


@pytest.mark.parametrize("user", ["clerk_a", "buyer_a", "cost_a", "credit"])
def test_roles_that_do_not_read_the_trail_are_refused(client: FlaskClient, world: World, user: str) -> None:
    sign_in(client, world, user)
    assert "审计追踪" not in _menu(client.get("/", follow_redirects=True).get_data(as_text=True)).split()
    assert client.get("/audit/").status_code == 403
    assert client.get(f"/audit/material/{world.materials['api_central']}").status_code == 403


# --- the trail ------------------------------------------------------------------------------

def test_the_trail_shows_who_changed_which_record_how_and_why(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    _rename(session_factory, world, "阿莫西林原料", "供应商更名")
    sign_in(client, world, "auditor")
    rows = _rows(client.get("/audit/").get_data(as_text=True))
    assert len(rows) == 1
    # who, the record by code and name, the action's word, the field's word, the reason
    assert "steward" in rows[0] and "物料 API-AMOX 阿莫西林原料" in rows[0]
    assert "更改" in rows[0] and "中文名称" in rows[0] and "供应商更名" in rows[0]


def test_the_trail_is_filtered_by_kind_action_user_company_and_search(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    _rename(session_factory, world, "阿莫西林原料", "供应商更名")
    _move_warehouse_band(session_factory, world)
    with session_factory() as session, session.begin():
        auth.revoke_user_tokens(session, world.actors["admin"], world.users["clerk_a"], reason="离职")
    sign_in(client, world, "auditor")

    def listed(query: str) -> list[str]:
        return _rows(client.get(f"/audit/?{query}").get_data(as_text=True))

    assert len(listed("")) == 3
    assert [r for r in listed("entity=material") if "API-AMOX" in r] == listed("entity=material")
    assert len(listed("entity=material")) == 1
    assert len(listed("action=tokens-revoked")) == 1 and "撤销令牌" in listed("action=tokens-revoked")[0]
    assert len(listed("user=admin")) == 1 and len(listed("user=steward")) == 2
    only_ca = listed("company=CA")
    assert len(only_ca) == 1 and "甲阴凉库" in only_ca[0] and "CA 甲公司" in only_ca[0]
    assert listed("company=CB") == []
    assert len(listed("q=离职")) == 1 and "离职" in listed("q=离职")[0]


def test_the_trail_is_filtered_by_days(client: FlaskClient, world: World, session_factory: sessionmaker[Session]) -> None:
    _rename(session_factory, world, "阿莫西林原料", "供应商更名")
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()
    sign_in(client, world, "auditor")
    assert len(_rows(client.get(f"/audit/?since={today}&until={today}").get_data(as_text=True))) == 1
    yesterday = today - dt.timedelta(days=1)
    page = client.get(f"/audit/?until={yesterday}").get_data(as_text=True)
    assert _rows(page) == [] and 'data-testid="empty"' in page


def test_a_day_range_the_wrong_way_round_is_refused_beside_its_field(client: FlaskClient, world: World) -> None:
    sign_in(client, world, "auditor")
    response = client.get("/audit/?since=2026-11-30&until=2026-11-01")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert shown(page, "error-until") == "不得早于 2026-11-30"
    assert 'value="2026-11-01"' in page  # what was typed is kept
    bad = client.get("/audit/?since=2026-13-01").get_data(as_text=True)
    assert "YYYY-MM-DD" in shown(bad, "error-since")


def test_newest_first_and_the_other_way_on_request(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    _rename(session_factory, world, "第一次", "一")
    _rename(session_factory, world, "第二次", "二")
    sign_in(client, world, "auditor")
    newest = _rows(client.get("/audit/").get_data(as_text=True))
    oldest = _rows(client.get("/audit/?sort=time&dir=asc").get_data(as_text=True))
    # the record is named as it is now; the reasons tell the entries apart
    assert newest[0].endswith("二") and newest[1].endswith("一")
    assert oldest == list(reversed(newest))


def test_the_trail_is_paged_on_the_server(client: FlaskClient, world: World, session_factory: sessionmaker[Session]) -> None:
    for number in range(23):
        _rename(session_factory, world, f"名称{number:02d}", f"第{number}次")
    sign_in(client, world, "auditor")
    first = client.get("/audit/").get_data(as_text=True)
    second = client.get("/audit/?page=2&size=20").get_data(as_text=True)
    assert len(_rows(first)) == 20 and len(_rows(second)) == 3
    assert "共 23 条" in _text(first)
    assert _rows(second)[-1].endswith("第0次") and _rows(first)[0].endswith("第22次")


def test_a_record_code_opens_that_records_history(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    _rename(session_factory, world, "阿莫西林原料", "供应商更名")
    sign_in(client, world, "auditor")
    found = client.get("/audit/?entity=material&record=API-AMOX")
    assert found.status_code == 302
    assert found.headers["Location"].endswith(f"/audit/material/{world.materials['api_central']}")
    unknown = client.get("/audit/?entity=material&record=NOPE").get_data(as_text=True)
    assert shown(unknown, "error-record") == "没有编码为 NOPE 的物料"
    no_kind = client.get("/audit/?record=API-AMOX").get_data(as_text=True)
    assert shown(no_kind, "error-entity") == "请先选择对象类型"


# --- a record's history ----------------------------------------------------------------------

def test_a_records_history_shows_before_after_reason_who_and_when(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    _rename(session_factory, world, "阿莫西林原料", "供应商更名")
    _rename(session_factory, world, "阿莫西林", "改回")
    with session_factory() as session:
        first, second = session.query(AuditEvent).order_by(AuditEvent.id).all()
    sign_in(client, world, "auditor")
    page = client.get(f"/audit/material/{world.materials['api_central']}").get_data(as_text=True)
    assert "<h1>物料 API-AMOX 阿莫西林 的变更历史</h1>" in page
    assert page.index(f'data-testid="entry-{second.id}"') < page.index(f'data-testid="entry-{first.id}"')
    assert _cell(page, f"before-{first.id}-name_zh") == "API-AMOX"  # the world's name was its code
    assert _cell(page, f"after-{first.id}-name_zh") == "阿莫西林原料"
    assert _cell(page, f"before-{second.id}-name_zh") == "阿莫西林原料"
    assert shown(page, f"reason-{first.id}") == "原因：供应商更名"
    entry = _text(page[page.index(f'data-testid="entry-{first.id}"'):page.index(f'data-testid="changes-{first.id}"')])
    when = first.occurred_at.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m-%d %H:%M")
    assert "更改" in entry and "steward" in entry and when in entry


def test_a_users_history_shows_role_and_companies_by_their_words(
    client: FlaskClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    with session_factory() as session, session.begin():
        auth.update_user(session, world.actors["admin"], world.users["buyer_a"], role=Role.SALES,
                         company_ids=[world.companies["B"]], reason="调岗")
        session.flush()
        event = session.query(AuditEvent).filter_by(action="change").one()
        event_id = event.id
    sign_in(client, world, "auditor")
    page = client.get(f"/audit/user/{world.users['buyer_a']}").get_data(as_text=True)
    assert "用户 buyer_a 的变更历史" in page
    assert _cell(page, f"before-{event_id}-role") == "采购员" and _cell(page, f"after-{event_id}-role") == "销售"
    assert _cell(page, f"before-{event_id}-company_ids") == "CA 甲公司"
    assert _cell(page, f"after-{event_id}-company_ids") == "CB 乙公司"


def test_a_record_without_history_says_so(client: FlaskClient, world: World) -> None:
    sign_in(client, world, "auditor")
    page = client.get(f"/audit/supplier/{world.suppliers['sup1']}").get_data(as_text=True)
    assert "该对象没有任何审计记录" in page and "供应商 S0001 华康" in page
