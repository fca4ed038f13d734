"""The token check that precedes every API request: one statement, the same actor as the user's."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session, sessionmaker

from erp.auth.errors import InvalidToken
from erp.auth.models import User
from erp.auth.services import actor_for_token
from tests.statements import statements
from tests.world import World


@pytest.mark.parametrize("user", ["clerk_a", "cost_group", "credit", "ap_a"])
def test_a_token_is_checked_in_one_statement_with_the_users_companies_and_warehouses(
    engine: Engine, session_factory: sessionmaker[Session], world: World, user: str,
) -> None:
    with session_factory() as session, session.begin():
        session.connection()  # the transaction begins first (on SQLite a BEGIN IMMEDIATE statement of its own)
        with statements(engine) as sent:
            actor = actor_for_token(session, world.tokens[user])
    assert len(sent) == 1, sent
    # The world's own actor, built from the loaded user and its links (tests/world.py).
    assert actor == world.actors[user]


def test_the_clerk_acts_for_its_company_and_its_three_warehouses(
    session_factory: sessionmaker[Session], world: World,
) -> None:
    with session_factory() as session, session.begin():
        actor = actor_for_token(session, world.tokens["clerk_a"])
    assert actor.company_ids == {world.companies["A"]}
    assert actor.warehouse_ids == {world.warehouses[key] for key in ("A-AMB", "A-COOL", "A-COLD")}


def test_an_unknown_token_and_an_inactive_user_are_refused(
    session_factory: sessionmaker[Session], world: World,
) -> None:
    with session_factory() as session, session.begin(), pytest.raises(InvalidToken, match="not known"):
        actor_for_token(session, "not-a-token")
    with session_factory() as session, session.begin():
        session.execute(update(User).where(User.id == world.users["clerk_a"]).values(active=False))
    with session_factory() as session, session.begin(), pytest.raises(InvalidToken, match="inactive"):
        actor_for_token(session, world.tokens["clerk_a"])
