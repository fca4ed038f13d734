"""QA people and loggers at the same moment, with real threads on PostgreSQL: a lot is
decided once, and an excursion holds its stock once, by row locks."""

from __future__ import annotations

import threading
import time
from decimal import Decimal as D
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from erp.auth.models import User, UserCompany
from erp.auth.roles import Actor, Role
from erp.auth.services import actor_for_user
from erp.errors import DomainError
from erp.inventory import services as inventory
from erp.posting.models import MovementType, StockDocument, StockStatus
from erp.posting.stock import lock_balances
from erp.quality import errors, monitoring, services
from erp.quality.models import InspectionLot, LotStatus, UsageDecision, UsageDecisionKind
from tests.service.test_quality_lots import CONFORMING, received_lot, record, specify
from tests.service.test_quality_monitoring import cold_room, cold_room_morning, log  # noqa: F401 - cold_room: a fixture
from tests.service.test_stock_concurrency import all_at_once
from tests.stock import NOV_20, balances, receive
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


def test_a_usage_decision_and_a_scrap_of_the_same_batch_at_once_wait_for_each_other(
    session_factory: sessionmaker[Session], world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One lock order (balances, then lots): the clerk's scrap holds the batch's quarantined
    balances and is held back, before it locks the lot, until the QA decision started at that
    moment is waiting on a lock; with the decision locking the lot first (the old order) the
    two would deadlock here. Both go through: the scrap takes 20 off the lot, the decision
    releases the 100 left."""
    specify(session_factory, world)
    lot = received_lot(session_factory, world)
    record(session_factory, world.actors["quality_a"], lot.id, CONFORMING)
    (signer,) = _qa_people(session_factory, world, 1)
    scrap_holds_balances, go_on = threading.Event(), threading.Event()
    real_reduce = services.reduce_open_lots

    def reduce_after_the_decision_waits(*args: Any, **kwargs: Any) -> None:
        scrap_holds_balances.set()
        go_on.wait(30)
        real_reduce(*args, **kwargs)

    monkeypatch.setattr(services, "reduce_open_lots", reduce_after_the_decision_waits)
    outcomes: dict[str, object] = {}

    def scrap() -> None:
        try:
            with session_factory() as session, session.begin():
                outcomes["scrap"] = inventory.adjust_stock(
                    session, world.actors["quality_a"], warehouse_id=lot.warehouse_id, material_id=lot.material_id,
                    quantity=D("-20"), posting_date=NOV_20, kind=inventory.AdjustmentKind.SCRAP,
                    reason="drums crushed", batch_id=lot.batch_id, status=StockStatus.QUARANTINE)
        except Exception as exc:  # noqa: BLE001 - recorded, asserted below
            outcomes["scrap"] = exc

    def decide() -> None:
        try:
            with session_factory() as session, session.begin():
                outcomes["decide"] = services.decide_usage(
                    session, signer, lot_id=lot.id, decision=UsageDecisionKind.RELEASE, password=PASSWORD,
                    posting_date=NOV_20).signed().id
        except Exception as exc:  # noqa: BLE001 - recorded, asserted below
            outcomes["decide"] = exc

    threads = [threading.Thread(target=scrap), threading.Thread(target=decide)]
    try:
        threads[0].start()
        assert scrap_holds_balances.wait(30), f"the scrap never reached the lots: {outcomes}"
        threads[1].start()
        with session_factory() as watcher:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not watcher.scalar(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'")):
                time.sleep(0.05)
                watcher.rollback()  # a fresh snapshot of pg_stat_activity
    finally:
        go_on.set()  # never leave the scrap held back
        for thread in threads:
            if thread.ident is not None:  # started
                thread.join(60)
    assert not any(thread.is_alive() for thread in threads)
    assert isinstance(outcomes["scrap"], int), outcomes
    assert isinstance(outcomes["decide"], int), outcomes
    with session_factory() as session:
        decided = session.get(InspectionLot, lot.id)
        assert decided is not None and decided.status == LotStatus.RELEASED and decided.quantity == D("100")
        rows = {s: q for _, s, q, _ in balances(session, warehouse_id=lot.warehouse_id) if q}
        assert rows == {StockStatus.UNRESTRICTED: D("100")}, rows


REFUSALS = ["lot-not-open", "signature-not-verified", "signer-recorded-results", "results-incomplete",
            "out-of-specification"]


@pytest.mark.parametrize("refusal", REFUSALS)
def test_a_refused_usage_decision_never_waits_for_the_batchs_stock(
    session_factory: sessionmaker[Session], world: World, refusal: str
) -> None:
    """A clerk's posting holds the batch's quarantined balances in A-COOL (a second receipt's
    120 kg are there under their own lot) while QA signs the first lot, with one second to
    get any lock. Each refusal is answered from the lot, the password and the results alone,
    before the balances are locked: the refusal itself, not a lock timeout (nor, without
    the timeout, a wait on the clerk, holding the lot's stock back while a wrong password
    is hashed)."""
    specify(session_factory, world)
    lot = received_lot(session_factory, world)
    with session_factory() as session:
        line = session.scalar(select(StockDocument.po_line_id).where(StockDocument.id == lot.source_document_id))
    assert line is not None
    receive(session_factory, world, line, "60")  # the same batch B-001: quarantine under its own lot
    analyst, signer = world.actors["quality_a"], _qa_people(session_factory, world, 1)[0]
    password, kind = PASSWORD, UsageDecisionKind.RELEASE
    if refusal == "lot-not-open":
        record(session_factory, analyst, lot.id, CONFORMING)
        with session_factory() as session, session.begin():
            services.decide_usage(session, signer, lot_id=lot.id, decision=kind, password=PASSWORD,
                                  posting_date=NOV_20).signed()
    elif refusal == "signature-not-verified":
        record(session_factory, analyst, lot.id, CONFORMING)
        password = "not-the-password"
    elif refusal == "signer-recorded-results":
        record(session_factory, signer, lot.id, CONFORMING)
    elif refusal == "results-incomplete":
        record(session_factory, analyst, lot.id, CONFORMING[:1])
    else:
        record(session_factory, analyst, lot.id, [services.ResultInput("ASSAY", D("97.9")), *CONFORMING[1:]])
    with session_factory() as clerk, clerk.begin():
        held = lock_balances(clerk, warehouse_id=lot.warehouse_id, material_id=lot.material_id,
                             status=StockStatus.QUARANTINE, batch_id=lot.batch_id)
        assert [h.quantity for h in held] == [D("180") if refusal != "lot-not-open" else D("60")]
        with session_factory() as session:
            with pytest.raises(DomainError) as info:  # noqa: PT012 - the refusal, raised once the attempt is committed
                with session.begin():
                    session.execute(text("SET LOCAL lock_timeout = '1s'"))
                    outcome = services.decide_usage(session, signer, lot_id=lot.id, decision=kind, password=password,
                                                    posting_date=NOV_20)
                outcome.signed()
    assert info.value.slug == refusal, info.value
