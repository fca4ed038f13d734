"""One pager (erp.db.page): a page of a listing and its total come from one statement."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from erp.masterdata import services
from erp.masterdata.models import Material
from tests.statements import statements
from tests.stock import open_order, receive, set_standard
from tests.world import World


def test_a_page_and_the_total_are_read_in_one_statement(session_factory: sessionmaker[Session], world: World) -> None:
    steward = world.actors["steward"]
    with session_factory() as session, session.begin():
        everyone = session.scalar(select(func.count(Material.id)))
        assert everyone is not None and everyone >= 3
        codes = list(session.scalars(select(Material.code).order_by(Material.code)))
        with statements(session.get_bind()) as sent:
            _check_pages(session, steward, everyone, codes, sent)


def _check_pages(session: Session, steward: Any, everyone: int, codes: list[str], sent: list[str]) -> None:
    rows, total = services.list_records(session, steward, services.MATERIALS, {}, offset=1, limit=2)
    assert len(sent) == 1 and "OVER ()" in sent[0].upper()
    assert total == everyone
    assert [row.code for row in rows] == codes[1:3]  # the entities themselves, in the listing's order
    # a page past the last row has no row to carry the count: one more statement counts
    sent.clear()
    rows, total = services.list_records(session, steward, services.MATERIALS, {}, offset=everyone + 5, limit=2)
    assert (rows, total, len(sent)) == ([], everyone, 2)
    sent.clear()
    assert services.list_records(session, steward, services.MATERIALS, {"code": "NO-SUCH"}, offset=0,
                                 limit=2) == ([], 0)
    assert len(sent) == 1


def _listings(world: World) -> dict[str, Any]:
    """The listings that read through the pager, each a call of (session, offset, limit)."""
    from erp.auth import services as users
    from erp.costing import reports, standards
    from erp.credit import desk
    from erp.credit.exposure import CreditPolicy

    a = world.companies["A"]
    return {
        "users": lambda s, offset, limit: users.list_users(s, world.actors["admin"], offset=offset, limit=limit),
        "journal": lambda s, offset, limit: reports.journal(s, world.actors["cost_a"], company_id=a, offset=offset,
                                                            limit=limit),
        "standard prices": lambda s, offset, limit: standards.list_standard_prices(
            s, world.actors["cost_a"], company_id=a, period="2026-11", offset=offset, limit=limit),
        "credit desk customers": lambda s, offset, limit: desk.customers(
            s, world.actors["credit"], CreditPolicy(), sort="code", descending=False, offset=offset, limit=limit),
    }


def _key(row: Any) -> Any:
    return row.id if hasattr(row, "id") else (row.company_id, row.material_id)


@pytest.mark.parametrize("listing", ["users", "journal", "standard prices", "credit desk customers"])
def test_each_listing_reads_its_page_and_total_in_one_statement(
    session_factory: sessionmaker[Session], world: World, listing: str
) -> None:
    for material, price in (("api_central", "52.00"), ("exc_local", "10.00"), ("cold_central", "7.50")):
        set_standard(session_factory, world, material, price)
    lines = open_order(session_factory, world, [("exc_local", "100", "10.40", "A-AMB"),
                                                ("exc_local", "100", "9.70", "A-AMB")])
    for number, line in enumerate(lines):
        receive(session_factory, world, line, "10", batch=f"PAGER-{number}")
    read = _listings(world)[listing]
    with session_factory() as session, session.begin():
        everything, total = read(session, 0, 1000)
        assert total == len(everything) >= 2
        with statements(session.get_bind()) as sent:
            rows, page_total = read(session, 1, 2)
        # one statement counts (other statements may read what the listing needs: the
        # caller's scope, the latest credit run, the users' companies)
        counting = [statement for statement in sent if "COUNT(" in statement.upper()]
        assert len(counting) == 1 and "OVER ()" in counting[0].upper()
        assert page_total == total
        assert [_key(row) for row in rows] == [_key(row) for row in everything[1:3]] != []


def _quality_listings(world: World) -> dict[str, Any]:
    """Quality's listings, each a call of (session, offset, limit)."""
    from erp.quality import monitoring
    from erp.quality import services as quality

    qa = world.actors["quality_a"]
    return {
        "inspection lots": lambda s, offset, limit: quality.list_lots(s, qa, offset=offset, limit=limit),
        "quality worklist": lambda s, offset, limit: quality.lot_rows(s, qa, offset=offset, limit=limit),
        "specifications": lambda s, offset, limit: quality.specification_overview(s, qa, offset=offset, limit=limit),
        "excursions": lambda s, offset, limit: monitoring.list_excursions(s, qa, offset=offset, limit=limit),
    }


@pytest.mark.parametrize("listing", ["inspection lots", "quality worklist", "specifications", "excursions"])
def test_each_quality_listing_reads_its_page_and_total_in_one_statement(
    session_factory: sessionmaker[Session], world: World, listing: str
) -> None:
    import datetime as dt

    from erp.quality import monitoring

    # Three lots (an inspected material received three times) and three gaps in the cold
    # room's readings (each a gap excursion; nothing is held for a gap).
    for material, price in (("api_central", "52.00"), ("cold_central", "300.00")):
        set_standard(session_factory, world, material, price)
    lines = open_order(session_factory, world, [("api_central", "10", "52.00", "A-COLD")] * 3)
    for number, line in enumerate(lines):
        receive(session_factory, world, line, "10", batch=f"QPAGER-{number}")
    start = dt.datetime(2026, 11, 20, tzinfo=dt.UTC)
    missing = set(range(20, 40)) | set(range(80, 100)) | set(range(140, 160))
    content = "read_at,temperature,humidity\n" + "".join(
        f"{(start + dt.timedelta(minutes=i)).isoformat()},5.00,55\n" for i in range(200) if i not in missing)
    with session_factory() as session, session.begin():
        monitoring.import_readings(session, world.actors["quality_a"], warehouse_id=world.warehouses["A-COLD"],
                                   content=content)
    read = _quality_listings(world)[listing]
    with session_factory() as session, session.begin():
        everything, total = read(session, 0, 1000)
        assert total == len(everything) >= 2
        with statements(session.get_bind()) as sent:
            rows, page_total = read(session, 1, 2)
        # one statement counts the listing's rows (the specifications also count each
        # material's versions, per material: GROUP BY)
        counting = [statement for statement in sent
                    if "COUNT(" in statement.upper() and "GROUP BY" not in statement.upper()]
        assert len(counting) == 1 and "OVER ()" in counting[0].upper(), counting
        assert page_total == total
        assert [_item_key(row) for row in rows] == [_item_key(row) for row in everything[1:3]] != []


def _item_key(row: Any) -> Any:
    return row.material.id if hasattr(row, "material") and hasattr(row, "versions") else row.id
