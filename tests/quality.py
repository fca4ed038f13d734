"""Quality helpers for tests: group QA (who keeps specifications), a second QA person of
company A (who signs), a one-characteristic specification, and a lot released the only way
stock of an inspected material leaves quarantine: results, then QA's signed decision."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from erp.auth.models import User, UserCompany
from erp.auth.roles import Actor, Role
from erp.auth.services import actor_for_user, issue_token
from erp.clock import business_today
from erp.quality import services
from erp.quality.models import InspectionLot, LotStatus, UsageDecisionKind
from tests.world import PASSWORD, PASSWORD_HASH, World

APPEARANCE = [services.CharacteristicInput("APPEARANCE", "性状", "Appearance", expected_text="conforms")]


def quality_user(session_factory: sessionmaker[Session], world: World, name: str, *, display_name: str,
                 group_wide: bool = False) -> Actor:
    """A quality user (company A, or the whole group), with a token; created once per test."""
    if name in world.actors:
        return world.actors[name]
    with session_factory() as session, session.begin():
        user = User(username=name, display_name=display_name, password_hash=PASSWORD_HASH, role=Role.QUALITY,
                    group_wide=group_wide,
                    companies=[] if group_wide else [UserCompany(company_id=world.companies["A"])])
        session.add(user)
        session.flush()
        world.tokens[name] = issue_token(session, user.id, ttl_minutes=60).token
        world.users[name] = user.id
        world.actors[name] = actor_for_user(user)
    return world.actors[name]


def group_qa(session_factory: sessionmaker[Session], world: World) -> Actor:
    """Group QA (质量管理部): keeps the group's specifications."""
    return quality_user(session_factory, world, "qa_group", display_name="QA Zhou", group_wide=True)


def qa_signer(session_factory: sessionmaker[Session], world: World) -> Actor:
    """Company A's QA person who signs what the analyst (quality_a) tested."""
    return quality_user(session_factory, world, "qa_a", display_name="QA Wang")


def specify(session_factory: sessionmaker[Session], world: World, material: str,
            characteristics: list[services.CharacteristicInput] | None = None) -> int:
    """A specification of a material by group QA, in force from today."""
    author = group_qa(session_factory, world)
    with session_factory() as session, session.begin():
        return services.create_specification(
            session, author, material_id=world.materials[material], effective_from=business_today(),
            reason="pharmacopoeia monograph", characteristics=characteristics or APPEARANCE).id


def release_lot(session_factory: sessionmaker[Session], world: World, lot_id: int, *,
                on: dt.date | None = None) -> int:
    """Release a lot as GMP wants it: the analyst (quality_a) records a conforming result for
    each characteristic of its specification (the one-characteristic ``specify`` one when
    the material has none), QA (qa_a) signs. Returns the release document."""
    signer = qa_signer(session_factory, world)
    with session_factory() as session:
        lot = session.get(InspectionLot, lot_id)
        assert lot is not None
        spec = services.spec_for_lot(session, lot)
        material_id = lot.material_id
    if spec is None:
        material = next(key for key, value in world.materials.items() if value == material_id)
        specify(session_factory, world, material)
        with session_factory() as session:
            lot = session.get(InspectionLot, lot_id)
            assert lot is not None
            spec = services.spec_for_lot(session, lot)
    assert spec is not None
    results = [services.ResultInput(c.code, text=c.expected_text) if c.expected_text is not None else
               services.ResultInput(c.code, value=c.minimum if c.minimum is not None else c.maximum)
               for c in spec.characteristics]
    with session_factory() as session, session.begin():
        services.record_results(session, world.actors["quality_a"], lot_id=lot_id, results=results)
    with session_factory() as session:
        with session.begin():
            outcome = services.decide_usage(session, signer, lot_id=lot_id, decision=UsageDecisionKind.RELEASE,
                                            password=PASSWORD, posting_date=on or business_today())
        document = outcome.signed().document_id
    assert document is not None
    return document


def release_lots(session_factory: sessionmaker[Session], world: World, lot_ids: list[int], *,
                 on: dt.date | None = None) -> int:
    """Release several lots (``release_lot``); returns the last release document."""
    documents = [release_lot(session_factory, world, lot_id, on=on) for lot_id in lot_ids]
    return documents[-1]


def release_batch(session_factory: sessionmaker[Session], world: World, batch_id: int) -> None:
    """Release every open lot of a batch (see ``release_lot``)."""
    with session_factory() as session:
        lots = list(session.scalars(select(InspectionLot.id).where(
            InspectionLot.batch_id == batch_id, InspectionLot.status == LotStatus.OPEN).order_by(InspectionLot.id)))
    assert lots, "the batch has no open lot"
    for lot_id in lots:
        release_lot(session_factory, world, lot_id)
