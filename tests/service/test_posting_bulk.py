"""The bulk path of erp.posting (set-based, for postings of thousands of rows) writes the
same rows as ``post`` for the same posting, and so do its set-based prices and batches."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from erp.costing import accounts
from erp.posting import Document, Line, Movement, Posting, post, price_for_posting
from erp.posting.bulk import find_or_create_batches, post_bulk, standard_prices_for_posting
from erp.posting.models import NO_BATCH, Batch, CloseClass, MovementType, StockStatus
from erp.posting.stock import find_or_create_batch
from tests.conftest import FreshDatabase
from tests.service.test_ledger import set_awkward_standards
from tests.service.test_posting_paths import TABLES
from tests.stock import EXPIRES, MADE, open_order, receive
from tests.world import World, build_world

pytestmark = pytest.mark.postgres
DAY = dt.date(2026, 11, 25)
# (material, warehouse, batch, status, quantity): one into the balance an earlier receipt made,
# two into the same new balance, a quarantined one, one without a batch.
ROWS = [
    ("exc_local", "A-AMB", "B-001", StockStatus.UNRESTRICTED, D("5.5")),
    ("exc_local", "A-COOL", "B-9", StockStatus.UNRESTRICTED, D("2.125")),
    ("api_central", "A-COOL", "P-1", StockStatus.QUARANTINE, D("3")),
    ("exc_local", "A-COOL", "B-9", StockStatus.UNRESTRICTED, D("1")),
    ("pkg_loose", "A-AMB", None, StockStatus.UNRESTRICTED, D("7")),
]


def _rows(session: Session) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every posting table without its key and creation instant, sorted."""
    rows = {}
    for model in TABLES:
        table = model.__table__
        columns = [c for c in table.c if c.name not in ("id", "created_at")]
        rows[table.name] = sorted((tuple(r) for r in session.execute(select(*columns))), key=repr)
    return rows


def _books(fresh_database: FreshDatabase, *, bulk: bool) -> tuple[dict[str, list[tuple[Any, ...]]], Any]:
    session_factory: sessionmaker[Session] = fresh_database()
    world: World = set_awkward_standards(session_factory, build_world(session_factory))
    (line,) = open_order(session_factory, world, [("exc_local", "10", "9.00", "A-AMB")])
    receive(session_factory, world, line, "10")  # batch B-001 in A-AMB: its balance exists
    company = world.companies["A"]
    wanted = [(world.materials[m], b, None if b is None else MADE, None if b is None else EXPIRES)
              for m, _, b, _, _ in ROWS]
    with session_factory() as session, session.begin():
        if bulk:
            _, prices = standard_prices_for_posting(session, company, [m for m, *_ in wanted], DAY)
            batches = find_or_create_batches(session, wanted)
        else:
            prices = {m: price_for_posting(session, company, m, DAY)[1] for m, *_ in wanted}
            batches = {}
            for material_id, number, made, expires in sorted(set(wanted), key=repr):
                batches[(material_id, number or NO_BATCH)] = find_or_create_batch(
                    session, material_id=material_id, batch_number=number, manufacture_date=made,
                    expiry_date=expires, supplier_id=None)
        movements, journal = [], []
        for (material, warehouse, number, status, quantity), (material_id, *_) in zip(ROWS, wanted, strict=True):
            value = (quantity * prices[material_id]).quantize(D("0.01"))
            variance = D("0.37") * quantity.to_integral_value()
            movements.append(Movement(MovementType.ADJUSTMENT, CloseClass.RECEIPT, world.warehouses[warehouse],
                                      material_id, batches[(material_id, number or NO_BATCH)][0], status, quantity,
                                      value, variance))
            journal += [Line(accounts.RAW_MATERIALS, value, material_id),
                        Line(accounts.MATERIAL_COST_VARIANCE, variance, material_id),
                        Line(accounts.OPENING_BALANCES, -(value + variance))]
        posting = Posting(company_id=company, posting_date=DAY, user_id=world.users["cost_a"],
                          document=Document(doc_type=MovementType.ADJUSTMENT, reason="opening stock"),
                          movements=movements, journal=journal, memo="opening stock")
        posted = post_bulk(session, posting) if bulk else post(session, posting)
        assert posted.document_id is not None and posted.entry_id is not None
    with session_factory() as session:
        return _rows(session), {k: v for k, v in prices.items()}


def test_the_bulk_path_writes_the_rows_post_writes(fresh_database: FreshDatabase) -> None:
    one_by_one, prices = _books(fresh_database, bulk=False)
    bulk, bulk_prices = _books(fresh_database, bulk=True)
    assert bulk_prices == prices
    assert all(bulk.values())
    for table in one_by_one:
        assert bulk[table] == one_by_one[table], table
    # B-001's balance took the 5.5 on top of the receipt's 10; B-9's two rows made one balance.
    quantities = sorted(row[5] for row in bulk["stock_balances"])
    assert quantities == [D("3.0000"), D("3.1250"), D("7.0000"), D("15.5000")]


def test_a_bulk_posting_never_takes_stock_out(fresh_database: FreshDatabase) -> None:
    session_factory = fresh_database()
    world = build_world(session_factory)
    with session_factory() as session, session.begin():
        (batch_id, *_), = find_or_create_batches(session, [(world.materials["exc_local"], "B-1", MADE, EXPIRES)]).values()
        with pytest.raises(ValueError, match="only brings stock in"):
            post_bulk(session, Posting(
                company_id=world.companies["A"], posting_date=DAY, user_id=world.users["cost_a"],
                document=Document(doc_type=MovementType.ADJUSTMENT, reason="x"),
                movements=[Movement(MovementType.ADJUSTMENT, CloseClass.RECEIPT, world.warehouses["A-AMB"],
                                    world.materials["exc_local"], batch_id, StockStatus.UNRESTRICTED, D("-1"),
                                    D("-1.00"), D("0"))], journal=[]))


def test_known_batches_keep_their_dates_and_new_ones_are_created_once(fresh_database: FreshDatabase) -> None:
    session_factory = fresh_database()
    world = build_world(session_factory)
    exc, pkg = world.materials["exc_local"], world.materials["pkg_loose"]
    other = dt.date(2026, 1, 1)
    with session_factory() as session, session.begin():
        known, *_ = find_or_create_batch(session, material_id=exc, batch_number="K-1", manufacture_date=MADE,
                                         expiry_date=EXPIRES, supplier_id=None)
        found = find_or_create_batches(session, [(exc, "K-1", other, EXPIRES), (exc, "N-1", other, EXPIRES),
                                                 (exc, "N-1", MADE, EXPIRES), (pkg, None, None, None)])
        assert found[(exc, "K-1")] == (known, MADE, EXPIRES)
        assert found[(exc, "N-1")][1:] == (other, EXPIRES)  # the first naming of a new batch wins
        assert found[(pkg, NO_BATCH)][1:] == (None, None)
        assert len(session.scalars(select(Batch.id)).all()) == 3
