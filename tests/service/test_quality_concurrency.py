"""QA people and loggers at the same moment, with real threads on PostgreSQL: a lot is
decided once, and an excursion holds its stock once, by row locks."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from erp.auth.models import User, UserCompany
from erp.auth.roles import Actor, Role
from erp.auth.services import actor_for_user
from erp.posting.models import MovementType, StockDocument
from erp.quality import errors, monitoring, services
from erp.quality.models import UsageDecision, UsageDecisionKind
from tests.service.test_quality_lots import CONFORMING, received_lot, record, specify
from tests.service.test_quality_monitoring import cold_room, cold_room_morning, log  # noqa: F401 - cold_room: a fixture
from tests.service.test_stock_concurrency import all_at_once
from tests.stock import NOV_20, balances
from tests.world import PASSWORD, PASSWORD_HASH, World

pytestmark = pytest.mark.postgres


def _qa_people(session_factory: sessionmaker[Session], world: World, count: int) -> list[Actor]:
    with session_factory() as session, session.begin():
        users = [User(username=f"qa_{i}", display_name=f"QA {i}", password_hash=PASSWORD_HASH, role=Role.QUALITY,
                      group_wide=False, companies=[UserCompany(company_id=world.companies["A"])])
                 for i in range(count)]
        session.add_all(users)
        session.flush()
        return [actor_for_user(u) for u in users]


def test_two_qa_people_signing_the_same_lot_at_once_decide_it_once(
    session_factory: sessionmaker[Session], world: World
) -> None:
    specify(session_factory, world)
    lot = received_lot(session_factory, world)
    record(session_factory, world.actors["quality_a"], lot.id, CONFORMING)
    signers = _qa_people(session_factory, world, 4)

    def sign(i: int) -> int:
        with session_factory() as session, session.begin():
            decision = (UsageDecisionKind.RELEASE, UsageDecisionKind.REJECT)[i % 2]
            return services.decide_usage(session, signers[i], lot_id=lot.id, decision=decision, password=PASSWORD,
                                         posting_date=NOV_20, reason="decided").signed().id

    signed, refused = all_at_once(4, sign)
    assert len(signed) == 1 and len(refused) == 3
    assert all(isinstance(r, errors.LotNotOpen) for r in refused)
    with session_factory() as session:
        assert session.scalar(select(func.count(UsageDecision.id))) == 1
        rows = {(s, q) for _, s, q, _ in balances(session, warehouse_id=world.warehouses["A-COOL"]) if q}
        assert len(rows) == 1 and next(iter(rows))[1] == D("120")  # all released or all blocked, once


def test_a_log_sent_twice_at_once_holds_the_excursion_once(
    session_factory: sessionmaker[Session], world: World, cold_room: dict[str, int]
) -> None:
    content = log(cold_room_morning(60, 45))

    def ingest(_: int) -> int:
        with session_factory() as session, session.begin():
            return len(monitoring.import_readings(session, world.actors["quality_a"],
                                                  warehouse_id=world.warehouses["A-COLD"],
                                                  content=content).hold_document_ids)

    held, refused = all_at_once(2, ingest)
    assert refused == [] and sorted(held) == [0, 1]
    with session_factory() as session:
        holds = session.scalar(select(func.count(StockDocument.id)).where(
            StockDocument.doc_type == MovementType.QUALITY_HOLD))
        assert holds == 1
        cold = world.warehouses["A-COLD"]
        assert ("INS-1", "quarantine", D("10.0000")) in [(b, s, q) for b, s, q, _ in balances(session, warehouse_id=cold)]
