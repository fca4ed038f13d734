"""The stock ledger is the record: immutable in the database, and the balances and the
journal always agree with it, whatever sequence of postings came before."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal as D
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from erp.costing.accounts import INVENTORY_ACCOUNT
from erp.costing.models import JournalLine
from erp.errors import DomainError
from erp.inventory import queries, services
from erp.inventory.models import Batch, StockBalance
from erp.masterdata.models import Material, MaterialType
from erp.posting.stock import rebuild_balances
from tests.stock import (
    MADE,
    adjust,
    balances,
    books,
    decide,
    issue,
    open_order,
    receive,
    return_goods,
    reverse,
    set_standard,
    transfer,
)
from tests.conftest import FreshDatabase
from tests.world import World, build_world

# --- immutability -----------------------------------------------------------------------------

CHANGES = {
    "stock_movements": "UPDATE stock_movements SET quantity = quantity + 1",
    "journal_lines": "UPDATE journal_lines SET amount = amount + 1",
    "journal_entries": "UPDATE journal_entries SET memo = 'edited'",
    "stock_documents": "UPDATE stock_documents SET reason = 'edited'",
}


@pytest.mark.parametrize("statement", [*CHANGES.values(), *(f"DELETE FROM {table}" for table in CHANGES)])
def test_postings_cannot_be_changed_or_removed(
    session_factory: sessionmaker[Session], world: World, statement: str
) -> None:
    set_standard(session_factory, world, "exc_local", "8.00")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "8.50", "A-AMB")])
    receive(session_factory, world, line, "10")
    before = books(session_factory)
    with session_factory() as session, pytest.raises(DBAPIError) as info, session.begin():
        session.execute(text(statement))
    assert "immutable" in str(info.value.orig)
    assert books(session_factory) == before


# --- balances recomputed from the ledger ------------------------------------------------------

def test_balance_drift_reports_a_corrupted_balance_and_rebuild_restores_it(
    session_factory: sessionmaker[Session], world: World
) -> None:
    set_standard(session_factory, world, "exc_local", "8.00")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "8.50", "A-AMB")])
    receive(session_factory, world, line, "10")
    with session_factory() as session, session.begin():
        assert queries.balance_drift(session) == []
        assert queries.period_totals_drift(session) == []
        # balances are derived data, not postings: they may be written, and here wrongly
        session.execute(text("UPDATE stock_balances SET quantity = quantity + 1, value = value + 5"))

    with session_factory() as session:
        (drift,) = queries.balance_drift(session)
        # the ledger says 10 kg and 80.00; the balance says 11 kg and 85.00
        assert (drift.warehouse_id, drift.material_id, drift.status.value) == (
            world.warehouses["A-AMB"], world.materials["exc_local"], "unrestricted",
        )
        assert (D(drift.quantity_drift), D(drift.value_drift).quantize(D("0.01"))) == (D("-1"), D("-5.00"))

    with session_factory() as session, session.begin():
        rebuild_balances(session)
    with session_factory() as session:
        assert queries.balance_drift(session) == []
        assert balances(session) == [("B-001", "unrestricted", D("10"), D("80.00"))]


# --- a long random sequence of postings -------------------------------------------------------

# Each material is received into the warehouse of its order line and may go anywhere its
# storage allows (the central API cannot go to the ambient store: such transfers are refused).
HOME = {"exc_local": "A-AMB", "api_central": "A-COOL", "pkg_loose": "A-AMB"}
WAREHOUSES = ["A-AMB", "A-COOL", "A-COLD"]
BATCHES = ["P1", "P2", "P3"]
EXPIRIES = [dt.date(2027, 6, 30), dt.date(2028, 3, 31), dt.date(2029, 9, 30)]

materials = st.sampled_from(sorted(HOME))
warehouses = st.sampled_from(WAREHOUSES)
batches = st.sampled_from(BATCHES)
# whole numbers suit every unit; three decimals are refused for pieces (EA has none)
quantities = st.one_of(st.integers(1, 60).map(D), st.decimals(D("0.001"), D("60"), places=3))
maybe_batch = st.none() | batches
maybe_quantity = st.none() | quantities

operations = st.one_of(
    st.tuples(st.just("receive"), materials, quantities, batches, st.sampled_from(EXPIRIES)),
    st.tuples(st.sampled_from(["release", "reject"]), materials, warehouses, batches, maybe_quantity),
    st.tuples(st.just("issue"), materials, warehouses, quantities, maybe_batch),
    st.tuples(st.just("transfer"), materials, warehouses, warehouses, quantities, maybe_batch),
    st.tuples(st.just("count"), materials, warehouses, quantities, st.booleans(), batches),
    st.tuples(st.just("return_to_supplier"), st.integers(0, 50), maybe_quantity),
    st.tuples(st.just("reverse_receipt"), st.integers(0, 50)),
    st.tuples(st.just("reverse_issue"), st.integers(0, 50)),
)
contract_prices = st.fixed_dictionaries(
    {material: st.decimals(D("0.01"), D("500"), places=4) for material in HOME}
)


class Sequence:
    """Plays random operations against the services, remembering what can be reversed."""

    def __init__(self, session_factory: sessionmaker[Session], world: World, prices: dict[str, D]) -> None:
        self.sf = session_factory
        self.world = world
        lines = open_order(session_factory, world, [
            (material, "100000", str(price), HOME[material]) for material, price in prices.items()
        ])
        self.lines = dict(zip(prices, lines, strict=True))
        self.receipts: list[int] = []
        self.issues: list[int] = []

    def batch(self, material: str, number: str | None) -> int | None:
        """The id of one of the material's batches (its only one for materials without batches)."""
        if number is None:
            return None
        with self.sf() as session:
            return session.scalar(select(Batch.id).where(
                Batch.material_id == self.world.materials[material],
                Batch.batch_number == ("-" if material == "pkg_loose" else number)))

    def play(self, operation: tuple[Any, ...]) -> None:
        kind, *args = operation
        post: Callable[[], int | None] = getattr(self, kind)(*args)
        before = books(self.sf)
        try:
            document = post()
        except DomainError:
            assert books(self.sf) == before, f"refused {operation} wrote something"
            return
        if kind == "receive":
            self.receipts.append(document)  # type: ignore[arg-type]
        if kind == "issue":
            self.issues.append(document)  # type: ignore[arg-type]

    def receive(self, material: str, quantity: D, number: str, expires: dt.date) -> Callable[[], int]:
        batched = material != "pkg_loose"
        return lambda: receive(self.sf, self.world, self.lines[material], str(quantity),
                               batch=number if batched else None, made=MADE if batched else None,
                               expires=expires if batched else None)

    def _decide(self, decision: services.QualityDecision, material: str, warehouse: str, number: str,
                quantity: D | None) -> Callable[[], int | None]:
        found = self.batch(material, number)
        if found is None:
            return lambda: None
        return lambda: decide(self.sf, self.world, warehouse, found, None if quantity is None else str(quantity),
                              decision=decision)

    def release(self, *args: Any) -> Callable[[], int | None]:
        return self._decide(services.QualityDecision.RELEASE, *args)

    def reject(self, *args: Any) -> Callable[[], int | None]:
        return self._decide(services.QualityDecision.REJECT, *args)

    def issue(self, material: str, warehouse: str, quantity: D, number: str | None) -> Callable[[], int]:
        named = self.batch(material, number)
        return lambda: issue(self.sf, self.world, material, str(quantity), warehouse=warehouse, batch=named)

    def transfer(self, material: str, source: str, target: str, quantity: D,
                 number: str | None) -> Callable[[], int]:
        named = self.batch(material, number)
        return lambda: transfer(self.sf, self.world, material, str(quantity), source, target, batch=named)

    def count(self, material: str, warehouse: str, quantity: D, gain: bool, number: str) -> Callable[[], int]:
        named = self.batch(material, number)
        return lambda: adjust(self.sf, self.world, material, str(quantity if gain else -quantity),
                              warehouse=warehouse, batch=named)

    def _pick(self, documents: list[int], index: int) -> int | None:
        return documents[index % len(documents)] if documents else None

    def _reverse(self, documents: list[int], index: int) -> Callable[[], int | None]:
        chosen = self._pick(documents, index)
        return lambda: None if chosen is None else reverse(self.sf, self.world, chosen)

    def reverse_receipt(self, index: int) -> Callable[[], int | None]:
        return self._reverse(self.receipts, index)

    def reverse_issue(self, index: int) -> Callable[[], int | None]:
        return self._reverse(self.issues, index)

    def return_to_supplier(self, index: int, quantity: D | None) -> Callable[[], int | None]:
        chosen = self._pick(self.receipts, index)
        return lambda: None if chosen is None else return_goods(
            self.sf, self.world, chosen, None if quantity is None else str(quantity), user="quality_a")


def assert_books_agree(session: Session) -> None:
    """Balances and period totals equal the ledger; every entry balances; no stock below
    zero, and no value on zero stock; and the inventory accounts of each company and
    material carry exactly the value of its stock."""
    assert queries.balance_drift(session) == []
    assert queries.period_totals_drift(session) == []

    per_entry: dict[int, D] = defaultdict(D)
    inventory_in_journal: dict[tuple[int, int], D] = defaultdict(D)
    account_of = {m.id: INVENTORY_ACCOUNT[MaterialType(m.material_type)] for m in session.scalars(select(Material))}
    for line in session.scalars(select(JournalLine)):
        per_entry[line.entry_id] += line.amount
        if line.material_id is not None and line.account_code == account_of[line.material_id]:
            inventory_in_journal[line.company_id, line.material_id] += line.amount
    assert [entry for entry, total in per_entry.items() if total != 0] == []

    stock_value: dict[tuple[int, int], D] = defaultdict(D)
    for balance in session.scalars(select(StockBalance)):
        assert balance.quantity >= 0, balance
        assert balance.quantity > 0 or balance.value == 0, balance
        stock_value[balance.company_id, balance.material_id] += balance.value
    keys = set(stock_value) | set(inventory_in_journal)
    assert {k: inventory_in_journal[k] for k in keys} == {k: stock_value[k] for k in keys}


def set_awkward_standards(session_factory: sessionmaker[Session], world: World) -> World:
    """Standard prices that do not divide evenly, so that rounding is exercised."""
    for material, price in (("exc_local", "8.3333"), ("api_central", "52.123457"), ("pkg_loose", "0.333333")):
        set_standard(session_factory, world, material, price)
    return world


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(prices=contract_prices, played=st.lists(operations, min_size=20, max_size=60))
def test_books_agree_after_any_sequence_of_postings(
    fresh_database: FreshDatabase, prices: dict[str, D], played: list[tuple[Any, ...]]
) -> None:
    session_factory = fresh_database()  # every example starts from empty books
    world = set_awkward_standards(session_factory, build_world(session_factory))
    sequence = Sequence(session_factory, world, prices)
    for operation in played:
        sequence.play(operation)
    with session_factory() as session:
        assert_books_agree(session)


def test_the_random_sequence_can_do_every_kind_of_posting(
    session_factory: sessionmaker[Session], world: World
) -> None:
    """The operations above are not all refused: a hand-picked sequence posts each kind once."""
    sequence = Sequence(session_factory, set_awkward_standards(session_factory, world), {m: D("10") for m in HOME})
    for operation in [
        ("receive", "api_central", D("40"), "P1", EXPIRIES[0]),
        ("reject", "api_central", "A-COOL", "P1", D("10")),
        ("release", "api_central", "A-COOL", "P1", None),  # the lot's signed usage decision
        ("return_to_supplier", 0, D("4")),
        ("issue", "api_central", "A-COOL", D("5"), None),
        ("transfer", "api_central", "A-COOL", "A-COLD", D("5"), "P1"),
        ("count", "api_central", "A-COLD", D("1"), False, "P1"),
        ("reverse_issue", 0),
        ("receive", "pkg_loose", D("3"), "P1", EXPIRIES[0]),
        ("reverse_receipt", 1),
    ]:
        before = books(session_factory)
        sequence.play(operation)
        assert books(session_factory) != before, operation
    with session_factory() as session:
        assert_books_agree(session)
        # 40 received, 4 returned, 5 issued and put back, 1 counted missing: 35 kg in all
        assert sum(q for _, _, q, _ in balances(session, material_id=world.materials["api_central"])) == 35
