"""One pager (erp.db.page): a page of a listing and its total come from one statement."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, sessionmaker

from erp.masterdata import services
from erp.masterdata.models import Material
from tests.world import World


@contextmanager
def _statements(session: Session) -> Iterator[list[str]]:
    sent: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_a_page_and_the_total_are_read_in_one_statement(session_factory: sessionmaker[Session], world: World) -> None:
    steward = world.actors["steward"]
    with session_factory() as session, session.begin():
        everyone = session.scalar(select(func.count(Material.id)))
        assert everyone is not None and everyone >= 3
        codes = list(session.scalars(select(Material.code).order_by(Material.code)))
        with _statements(session) as sent:
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
