"""The search boxes (erp.search.contains_text): what a user types is matched literally, so
LIKE's wildcards ``%`` and ``_`` and its escape character mean themselves, case aside, on
PostgreSQL and SQLite alike; every list's search goes through it (architecture check)."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from erp.masterdata import services
from erp.masterdata.models import Material
from erp.search import contains_text
from tests.world import World

ERP = Path(__file__).resolve().parents[2] / "erp"


def _named(session: Session, world: World, names: dict[str, str]) -> None:
    for key, name in names.items():
        session.execute(update(Material).where(Material.id == world.materials[key]).values(name_en=name))


def test_wildcards_typed_in_a_search_box_mean_themselves(session_factory: sessionmaker[Session],
                                                           world: World) -> None:
    keys = sorted(world.materials)[:4]
    names = dict(zip(keys, ["Glucose 5% injection", "Glucose 50 injection", "Saline_A1", "SalineBA1"], strict=True))
    with session_factory() as session, session.begin():
        _named(session, world, names)

        def found(text: str) -> list[str]:
            return sorted(session.scalars(select(Material.name_en).where(contains_text(text, Material.name_en))))

        assert found("5%") == ["Glucose 5% injection"]  # not "50 injection" (% as a wildcard)
        assert found("e_a") == ["Saline_A1"]  # not "SalineBA1" (_ as any one character)
        assert found("%") == ["Glucose 5% injection"]
        assert found("GLUCOSE") == ["Glucose 5% injection", "Glucose 50 injection"]  # case aside
        assert found("/") == []  # the escape character itself is plain text too
        steward = world.actors["steward"]
        rows, total = services.list_records(session, steward, services.MATERIALS, {"q": "_a"}, offset=0, limit=10)
        assert ([row.name_en for row in rows], total) == (["Saline_A1"], 1)


def test_no_search_builds_its_own_like_pattern() -> None:
    """A LIKE pattern built from typed text (f"%{q}%" with like/ilike) would let % and _ act as
    wildcards again: every search goes through contains_text."""
    offenders = [f"{path.relative_to(ERP.parent)}:{number}"
                 for path in ERP.rglob("*.py")
                 for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if re.search(r"\.i?like\(|\bi?like_op\b|f\"%\{", line)]
    assert offenders == []
