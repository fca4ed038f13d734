"""The demo group: believable, valid and deterministic."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from stdnum.cn import uscc

from erp.auth.models import User
from erp.auth.roles import Role
from erp.demo.loader import DEMO_PASSWORD, load_demo
from erp.masterdata.models import Company, Customer, Material, MaterialType, Segment, Supplier, Warehouse
from erp.masterdata.services import can_store


def test_demo_builds_the_group_described_in_the_brief(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session:
        report = load_demo(session, seed=7)
    assert report.counts["segments"] == 3
    assert report.counts["companies"] == 30
    assert report.counts["warehouses"] == 90
    assert 200 <= report.counts["materials"] <= 600
    with session_factory() as session:
        per_segment = session.execute(
            select(Segment.code, func.count(Company.id)).join(Company).group_by(Segment.code)
        ).all()
        assert sorted(per_segment) == [("API", 10), ("DIST", 10), ("FORM", 10)]
        kinds = set(session.scalars(select(Material.material_type)))
        assert kinds == set(MaterialType)
        for code in session.scalars(select(Supplier.uscc)).all() + session.scalars(select(Customer.uscc)).all():
            assert uscc.is_valid(code), code
        assert {u.role for u in session.scalars(select(User))} == set(Role)
        # every material can be stored somewhere in the group
        stores = session.scalars(select(Warehouse)).all()
        for material in session.scalars(select(Material)):
            assert any(can_store(w, material)[0] for w in stores), material.code


def test_demo_is_deterministic(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session:
        load_demo(session, seed=7)
        first = session.scalars(select(Supplier.uscc).order_by(Supplier.code)).all()
    from erp.demo.loader import UsccFactory  # same seed, same codes, without touching the database
    import random

    factory = UsccFactory(random.Random(7))
    assert first and all(uscc.is_valid(code) for code in first)
    assert factory("330100") == UsccFactory(random.Random(7))("330100")


def test_demo_loads_once(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session:
        load_demo(session, seed=7)
        assert load_demo(session, seed=7, if_empty=True).skipped


def test_demo_users_can_sign_in(session_factory: sessionmaker[Session], client) -> None:  # noqa: ANN001
    with session_factory() as session:
        load_demo(session, seed=7)
    response = client.post("/api/v1/auth/token", json={"username": "clerk.form01", "password": DEMO_PASSWORD})
    assert response.status_code == 201
    token = response.get_json()["access_token"]
    materials = client.get("/api/v1/materials", headers={"Authorization": f"Bearer {token}"})
    assert materials.status_code == 200 and len(materials.get_json()) == 50  # first page


def test_demo_books_balance_and_stock_matches_the_ledger(session_factory: sessionmaker[Session], client) -> None:  # noqa: ANN001
    from erp.inventory.queries import balance_drift

    with session_factory() as session:
        report = load_demo(session, seed=7)
    assert report.counts["receipts"] > 0 and report.counts["periods closed"] > 0
    with session_factory() as session:
        assert balance_drift(session) == []
    token = client.post("/api/v1/auth/token", json={"username": "cost.group", "password": DEMO_PASSWORD}).get_json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    from erp.clock import business_today

    period = f"{business_today():%Y-%m}"
    trial = client.get("/api/v1/costing/trial-balance", query_string={"period": period}, headers=headers).get_json()
    assert trial["balanced"] is True and trial["total_debit"] != "0.00"
