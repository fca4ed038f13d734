"""Helpers for stock tests: standard prices, open purchase orders and the books to check.

Orders are written directly (not through the purchasing services) so that inventory tests
depend only on the order line's shape: material, quantity, contract price, warehouse.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from erp.costing.balances import variance_by_material
from erp.costing.models import JournalEntry, JournalLine, StandardPrice
from erp.errors import DomainError
from erp.inventory import services
from erp.inventory.models import Batch, StockBalance, StockDocument, StockMovement
from erp.masterdata.models import Material, Warehouse
from erp.quality.models import InspectionLot, LotStatus
from erp.purchasing.models import (
    Contract,
    ContractLine,
    ContractScope,
    ContractStatus,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
)
from tests.world import World

D = Decimal


def set_standard(
    session_factory: sessionmaker[Session], world: World, material: str, price: str, *,
    company: str = "A", period: str = "2026-11",
) -> None:
    with session_factory() as session, session.begin():
        session.add(StandardPrice(company_id=world.companies[company], material_id=world.materials[material],
                                  period=period, price=D(price)))


def open_order(
    session_factory: sessionmaker[Session],
    world: World,
    lines: Sequence[tuple[str, str, str, str]],
    *,
    company: str = "A",
    supplier: str = "sup1",
    status: PurchaseOrderStatus = PurchaseOrderStatus.OPEN,
    number: str | None = None,
    ordered: dt.date = dt.date(2026, 1, 5),
    valid_to: dt.date = dt.date(2027, 12, 31),
) -> list[int]:
    """An order of ``company`` with lines (material, quantity, contract price, warehouse key),
    placed on ``ordered`` under contracts valid from 2026-01-01 to ``valid_to`` (receipts are
    dated within both, erp.clock); returns the line ids."""
    with session_factory() as session, session.begin():
        serial = (session.scalar(select(func.count(PurchaseOrder.id))) or 0) + 1
        order = PurchaseOrder(
            number=number or f"PO-{company}-{serial:04d}", purchasing_company_id=world.companies[company],
            receiving_company_id=world.companies[company], supplier_id=world.suppliers[supplier],
            order_date=ordered, status=status, created_by=world.users["buyer_a"],
        )
        session.add(order)
        for number_, (material, quantity, price, warehouse) in enumerate(lines, start=1):
            # one contract per line, so one order may hold a material twice at two prices
            contract = Contract(
                number=f"K-{order.number}-{number_}", supplier_id=world.suppliers[supplier],
                scope=ContractScope.COMPANY, company_id=world.companies[company], valid_from=dt.date(2026, 1, 1),
                valid_to=valid_to, status=ContractStatus.ACTIVE, created_by=world.users["buyer_a"],
                lines=[ContractLine(material_id=world.materials[material], unit_price=D(price),
                                    unit_id=world.units["KG"])],
            )
            session.add(contract)
            session.flush()
            order.lines.append(PurchaseOrderLine(
                line_no=number_, material_id=world.materials[material], quantity=D(quantity),
                unit_price=D(price), amount=(D(quantity) * D(price)).quantize(D("0.01")),
                contract_line_id=contract.lines[0].id, warehouse_id=world.warehouses[warehouse],
            ))
        session.flush()
        return [line.id for line in order.lines]



def single_line_order(
    session_factory: sessionmaker[Session], world: World, *, company_id: int, warehouse_id: int, material: str,
    quantity: Decimal, unit_price: Decimal, contract_number: str, order_number: str,
) -> int:
    """An open order of one line placed on 1 November 2026 under a company contract of its own
    (valid 2026-2027) from sup1, for a company and warehouse made by the caller; returns the line id."""
    with session_factory() as session, session.begin():
        contract = Contract(number=contract_number, supplier_id=world.suppliers["sup1"], scope=ContractScope.COMPANY,
                            company_id=company_id, valid_from=dt.date(2026, 1, 1), valid_to=dt.date(2027, 12, 31),
                            status=ContractStatus.ACTIVE, created_by=world.users["buyer_a"],
                            lines=[ContractLine(material_id=world.materials[material], unit_price=unit_price,
                                                unit_id=world.units["KG"])])
        session.add(contract)
        session.flush()
        order = PurchaseOrder(number=order_number, purchasing_company_id=company_id,
                              receiving_company_id=company_id, supplier_id=world.suppliers["sup1"],
                              order_date=dt.date(2026, 11, 1),
                              status=PurchaseOrderStatus.OPEN, created_by=world.users["buyer_a"],
                              lines=[PurchaseOrderLine(line_no=1, material_id=world.materials[material],
                                                       quantity=quantity, unit_price=unit_price,
                                                       amount=(quantity * unit_price).quantize(Decimal("0.01")),
                                                       contract_line_id=contract.lines[0].id,
                                                       warehouse_id=warehouse_id)])
        session.add(order)
        session.flush()
        return order.lines[0].id

def account_balance(
    session: Session, company_id: int, account: str, material_id: int | None = None
) -> Decimal:
    query = select(func.coalesce(func.sum(JournalLine.amount), 0)).where(
        JournalLine.company_id == company_id, JournalLine.account_code == account
    )
    if material_id is not None:
        query = query.where(JournalLine.material_id == material_id)
    return D(session.scalar(query)).quantize(D("0.01"))


def variance_ledger(session: Session, company_id: int, through: str | None = None) -> dict[int, Decimal]:
    """Per material, the material cost variance (1404) its stock carries (at the end of
    period ``through``, or now): 1404's material ledger
    (``erp.costing.balances.variance_by_material``), as the close posts 1404 in one line per
    company. Checks on the way that the ledger over every material of the company is 1404's
    balance in the journal, so what it reads stays tied to the books."""
    ledger = variance_by_material(lambda column: column == company_id, through)
    by_material = {material: D(variance).quantize(D("0.01"))
                   for material, variance in session.execute(select(ledger.c.material_id, ledger.c.variance))}
    total = sum(by_material.values(), D("0.00"))
    journal = select(func.coalesce(func.sum(JournalLine.amount), 0)).where(
        JournalLine.company_id == company_id, JournalLine.account_code == "1404")
    if through is not None:
        journal = journal.where(JournalLine.period <= through)
    assert total == D(session.scalar(journal)).quantize(D("0.01")), "1404's material ledger is off the journal"
    return by_material


def variance_carried(session: Session, company_id: int, material_id: int, through: str | None = None) -> Decimal:
    """The material cost variance (1404) one material's stock carries (``variance_ledger``)."""
    return variance_ledger(session, company_id, through).get(material_id, D("0.00"))


def entry_lines(session: Session, source_id: int, source_type: str = "stock_document") -> dict[str, Decimal]:
    """The journal lines of the entry a document posted, by account (signed, debit positive)."""
    rows = session.execute(
        select(JournalLine.account_code, func.sum(JournalLine.amount))
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(JournalEntry.source_type == source_type, JournalEntry.source_id == source_id)
        .group_by(JournalLine.account_code)
    ).all()
    return {account: D(amount).quantize(D("0.01")) for account, amount in rows}


def balances(session: Session, **filters: Any) -> list[tuple[str, str, Decimal, Decimal]]:
    """(batch number, status, quantity, value) of every balance row matching ``filters``."""
    query = select(Batch.batch_number, StockBalance.status, StockBalance.quantity, StockBalance.value).join(
        Batch, Batch.id == StockBalance.batch_id
    )
    for name, value in filters.items():
        query = query.where(getattr(StockBalance, name) == value)
    return [(b, s.value, q, v) for b, s, q, v in session.execute(query.order_by(Batch.batch_number, StockBalance.status))]


def ledger_totals(session: Session, company_id: int) -> tuple[Decimal, Decimal]:
    quantity, value = session.execute(
        select(func.coalesce(func.sum(StockMovement.quantity), 0), func.coalesce(func.sum(StockMovement.value), 0))
        .where(StockMovement.company_id == company_id)
    ).one()
    return D(quantity), D(value).quantize(D("0.01"))


NOV_20 = dt.date(2026, 11, 20)
MADE = dt.date(2026, 10, 1)
EXPIRES = dt.date(2029, 9, 30)


def receive(
    session_factory: sessionmaker[Session], world: World, line: int, quantity: str, *,
    batch: str | None = "B-001", made: dt.date | None = MADE, expires: dt.date | None = EXPIRES,
    on: dt.date = NOV_20, user: str = "clerk_a", warehouse: str | None = None,
) -> int:
    """Book a receipt through the service (its own transaction); returns the document id. The
    default expiry is ``EXPIRES``, or earlier where the material's shelf life ends sooner
    after ``made`` (a batch does not outlive its shelf life)."""
    with session_factory() as session, session.begin():
        if expires is EXPIRES and made is not None:
            shelf_life = session.scalar(select(Material.shelf_life_days).join(
                PurchaseOrderLine, PurchaseOrderLine.material_id == Material.id).where(PurchaseOrderLine.id == line))
            if shelf_life is not None:
                expires = min(EXPIRES, made + dt.timedelta(days=shelf_life))
        return services.receive_goods(session, world.actors[user], services.ReceiptRequest(
            po_line_id=line, quantity=D(quantity), posting_date=on, batch_number=batch, manufacture_date=made,
            expiry_date=expires, warehouse_id=world.warehouses[warehouse] if warehouse else None,
        ))


def batch_id(session_factory: sessionmaker[Session], world: World, material: str, number: str) -> int:
    with session_factory() as session:
        found = session.scalar(select(Batch.id).where(Batch.material_id == world.materials[material],
                                                      Batch.batch_number == number))
    assert found is not None
    return found


# --- the other postings, each through its service in its own transaction -----------------

def decide(
    session_factory: sessionmaker[Session], world: World, warehouse: str, batch: int, quantity: str | None = None,
    *, decision: services.QualityDecision = services.QualityDecision.RELEASE, on: dt.date = NOV_20,
    user: str = "quality_a",
) -> int:
    """Reject quarantined stock of a batch (all of it when no quantity is given) or release
    it. A batch under open lots is released (by quality_a, whole) only as GMP wants it:
    every open lot gets its results and QA's signature (tests/quality.py), and the last
    release document is returned; any other release is the plain decision, which refuses
    an inspected material (inspection-lot-open, signed-release-required)."""
    if decision == services.QualityDecision.RELEASE:
        from tests import quality

        with session_factory() as session:
            inspected = session.scalar(select(Material.inspection_required).join(Batch, Batch.material_id == Material.id)
                                       .where(Batch.id == batch))
            lots = session.scalars(select(InspectionLot).where(
                InspectionLot.batch_id == batch, InspectionLot.warehouse_id == world.warehouses[warehouse],
                InspectionLot.status == LotStatus.OPEN).order_by(InspectionLot.id)).all()
        whole = quantity is None or D(quantity) == sum((lot.quantity for lot in lots), D(0))
        if (inspected or lots) and lots and whole and user == "quality_a":
            return quality.release_lots(session_factory, world, [lot.id for lot in lots], on=on)
        # anything else is a plain decision, which refuses to release an inspected material
    with session_factory() as session, session.begin():
        return services.decide_quarantine(
            session, world.actors[user], warehouse_id=world.warehouses[warehouse], batch_id=batch,
            decision=decision, posting_date=on, quantity=D(quantity) if quantity is not None else None,
        )


def issue(
    session_factory: sessionmaker[Session], world: World, material: str, quantity: str, *,
    warehouse: str = "A-AMB", batch: int | None = None, on: dt.date = NOV_20, user: str = "clerk_a",
    destination: services.IssueDestination = services.IssueDestination.PRODUCTION, cost_center: str | None = None,
) -> int:
    with session_factory() as session, session.begin():
        return services.issue_goods(
            session, world.actors[user], warehouse_id=world.warehouses[warehouse],
            material_id=world.materials[material], quantity=D(quantity), posting_date=on, destination=destination,
            cost_center=cost_center, batch_id=batch,
        )


def transfer(
    session_factory: sessionmaker[Session], world: World, material: str, quantity: str, source: str, target: str,
    *, batch: int | None = None, on: dt.date = NOV_20, user: str = "clerk_a",
) -> int:
    with session_factory() as session, session.begin():
        return services.transfer_stock(
            session, world.actors[user], from_warehouse_id=world.warehouses[source],
            to_warehouse_id=world.warehouses[target], material_id=world.materials[material], quantity=D(quantity),
            posting_date=on, batch_id=batch,
        )


def adjust(
    session_factory: sessionmaker[Session], world: World, material: str, quantity: str, *,
    warehouse: str = "A-AMB", batch: int | None = None, kind: services.AdjustmentKind = services.AdjustmentKind.COUNT,
    reason: str = "annual stock count", on: dt.date = NOV_20, user: str = "cost_a",
) -> int:
    with session_factory() as session, session.begin():
        return services.adjust_stock(
            session, world.actors[user], warehouse_id=world.warehouses[warehouse],
            material_id=world.materials[material], quantity=D(quantity), posting_date=on, kind=kind, reason=reason,
            batch_id=batch,
        )


def return_goods(
    session_factory: sessionmaker[Session], world: World, receipt: int, quantity: str | None = None, *,
    on: dt.date = NOV_20, user: str = "clerk_a",
) -> int:
    """Return blocked goods of a receipt to its supplier; all that is blocked when no quantity is given."""
    with session_factory() as session, session.begin():
        return services.return_to_supplier(
            session, world.actors[user], receipt_document_id=receipt, posting_date=on, reason="failed inspection",
            quantity=D(quantity) if quantity is not None else None,
        )


def reverse(
    session_factory: sessionmaker[Session], world: World, document: int, *, on: dt.date = NOV_20,
    user: str = "clerk_a",
) -> int:
    """Reverse a receipt or an issue, whichever ``document`` is."""
    with session_factory() as session, session.begin():
        original = session.get(StockDocument, document)
        assert original is not None
        service = services.reverse_issue if original.doc_type == "issue" else services.reverse_receipt
        return service(session, world.actors[user], document_id=document, posting_date=on, reason="booked in error")


def document_movements(session: Session, document_id: int) -> list[tuple[str, str, str, Decimal, Decimal]]:
    """(warehouse code, batch number, status, quantity, value) of a document's ledger rows, in posting order."""
    rows = session.execute(
        select(Warehouse.code, Batch.batch_number, StockMovement.status, StockMovement.quantity, StockMovement.value)
        .join(Warehouse, Warehouse.id == StockMovement.warehouse_id)
        .join(Batch, Batch.id == StockMovement.batch_id)
        .where(StockMovement.document_id == document_id)
        .order_by(StockMovement.id)
    ).all()
    return [(w, b, s.value, q, v) for w, b, s, q, v in rows]


def books(session_factory: sessionmaker[Session]) -> tuple[Any, ...]:
    """Everything a posting writes: documents, ledger rows, journal lines, balances, received quantities."""
    with session_factory() as session:
        return (
            session.scalar(select(func.count(StockDocument.id))),
            session.scalar(select(func.count(StockMovement.id))),
            session.scalar(select(func.count(JournalLine.id))),
            session.execute(select(StockBalance.id, StockBalance.quantity, StockBalance.value)
                            .order_by(StockBalance.id)).all(),
            session.execute(select(PurchaseOrderLine.id, PurchaseOrderLine.received_quantity)
                            .order_by(PurchaseOrderLine.id)).all(),
        )


@contextmanager
def refused(session_factory: sessionmaker[Session], error: type[DomainError]) -> Iterator[Any]:
    """Expect ``error`` from the block, and nothing written by it."""
    before = books(session_factory)
    with pytest.raises(error) as info:
        yield info
    assert books(session_factory) == before
