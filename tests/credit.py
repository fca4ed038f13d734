"""Helpers for sales and credit tests: stock to ship from, orders, limits, and the figures
to check (exposure rows, row counts for "nothing was written")."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from erp.costing.models import JournalEntry
from erp.credit import limits, services
from erp.credit.exposure import CreditPolicy, lock_exposure, read_exposure
from erp.credit.models import CustomerExposure, Invoice, Payment, PaymentApplication, SalesOrder
from erp.masterdata import services as masterdata
from erp.masterdata.models import Customer
from erp.inventory.models import StockMovement
from erp.inventory.services import ReceiptRequest, receive_goods
from tests.locks import Worker, while_held
from tests.stock import open_order, set_standard
from tests.tax import create_china_vat
from tests.world import World

D = Decimal
POLICY = CreditPolicy(warning_share=D("0.90"), starting_limit=D("100000"))
NOV = dt.date(2026, 11, 20)


def put_stock(
    session_factory: sessionmaker[Session], world: World, *, company: str = "A", quantity: str = "1000",
    standard: str = "10.00", batch: str | None = None,
) -> None:
    """Unrestricted stock of the excipient (no inspection) in the company's ambient store."""
    set_standard(session_factory, world, "exc_local", standard, company=company)
    (line,) = open_order(session_factory, world, [("exc_local", quantity, standard, f"{company}-AMB")],
                         company=company)
    with session_factory() as session, session.begin():
        receive_goods(session, world.actors[f"clerk_{company.lower()}"], ReceiptRequest(
            po_line_id=line, quantity=D(quantity), posting_date=dt.date(2026, 11, 2),
            batch_number=batch or f"EXC-{company}-1", manufacture_date=dt.date(2026, 10, 1),
            expiry_date=dt.date(2029, 9, 30)))


def new_order(
    session_factory: sessionmaker[Session], world: World, *, company: str = "A", customer: str = "cust1",
    lines: Sequence[tuple[str, str]] = (("100", "100.00"),), confirm: bool = False, tax: str = "VAT0",
) -> services.OrderResult:
    """An order of the excipient from the company's ambient store: (quantity, unit price
    excluding VAT) per line, taxed at ``tax`` (default the zero rate: amounts without tax)."""
    codes = create_china_vat(session_factory, world)
    with session_factory() as session, session.begin():
        result = services.create_order(
            session, world.actors[f"sales_{company.lower()}"], company_id=world.companies[company],
            customer_id=world.customers[customer], order_date=dt.date(2026, 11, 3),
            lines=[services.OrderLineRequest(world.materials["exc_local"], world.warehouses[f"{company}-AMB"],
                                             D(q), D(p), tax_code_id=codes[tax]) for q, p in lines])
        if confirm:
            result = services.confirm_order(session, world.actors[f"sales_{company.lower()}"], result.order.id,
                                            policy=POLICY)
        return result


def confirm(session_factory: sessionmaker[Session], world: World, order_id: int, company: str = "A"
            ) -> services.OrderResult:
    with session_factory() as session, session.begin():
        return services.confirm_order(session, world.actors[f"sales_{company.lower()}"], order_id, policy=POLICY)


def ship(session_factory: sessionmaker[Session], world: World, order_id: int, quantities: Sequence[str], *,
         company: str = "A", day: dt.date = NOV) -> services.ShipmentResult:
    """Ship the order's lines in line order (one quantity per line)."""
    with session_factory() as session, session.begin():
        order = session.get(SalesOrder, order_id)
        assert order is not None
        requests = [services.ShipmentLineRequest(line.id, D(q)) for line, q in zip(order.lines, quantities)]
        return services.ship_order(session, world.actors[f"sales_{company.lower()}"], order_id, posting_date=day,
                                   lines=requests, policy=POLICY)


def set_limit(session_factory: sessionmaker[Session], world: World, customer: str, limit: str) -> None:
    with session_factory() as session, session.begin():
        limits.set_credit_limit(session, world.actors["credit"], world.customers[customer], credit_limit=D(limit),
                                reason="test limit")


def position(session_factory: sessionmaker[Session], world: World, customer: str = "cust1") -> CustomerExposure:
    with session_factory() as session:
        return read_exposure(session, world.customers[customer])


def row_counts(session_factory: sessionmaker[Session]) -> dict[str, object]:
    """What the postings of this module write, to show that a refusal wrote nothing: row
    counts, every customer's exposure and every order's status."""
    with session_factory() as session:
        counts: dict[str, object] = {
            model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Invoice, Payment, PaymentApplication, JournalEntry, StockMovement)
        }
        counts["exposure"] = session.scalars(select(CustomerExposure.exposure)).all()
        counts["statuses"] = session.scalars(select(SalesOrder.status).order_by(SalesOrder.id)).all()
        return counts


def pay(
    session_factory: sessionmaker[Session], world: World, amount: str, *, day: dt.date = NOV, company: str = "A",
    customer: str = "cust1", invoice_ids: list[int] | None = None,
) -> Payment:
    with session_factory() as session, session.begin():
        payment = services.record_payment(
            session, world.actors[f"sales_{company.lower()}"], company_id=world.companies[company],
            customer_id=world.customers[customer], payment_date=day, amount=D(amount), invoice_ids=invoice_ids)
        assert payment.applications is not None  # loaded while the session is open
        return payment


def history_invoice(
    session_factory: sessionmaker[Session], world: World, customer: str, invoice_date: dt.date, amount: str,
    company: str = "A",
) -> int:
    """A receivable without a shipment (history), through the invoicing service."""
    with session_factory() as session, session.begin():
        terms = session.get(Customer, world.customers[customer]).payment_terms_days  # type: ignore[union-attr]
        return services.raise_invoice(
            session, lock_exposure(session, world.customers[customer]), company_id=world.companies[company],
            invoice_date=invoice_date, payment_terms_days=terms, items=[services.InvoiceItem(D(amount))],
            user_id=world.users[f"sales_{company.lower()}"]).id


def recompute_through_api(api: Any, as_of: str) -> dict[str, Any]:
    """POST the recompute as a credit controller, wait for its job, and return the finished
    job (its ``result`` names the run)."""
    queued = api.as_("credit").post("/api/v1/credit/limit-suggestions", json={"as_of": as_of})
    assert queued.status_code == 202, queued.get_json()
    job = queued.get_json()
    assert queued.headers["Location"] == job["status_url"]
    api.client.application.extensions["erp_jobs"].wait(job["id"], timeout=120)
    done = api.as_("credit").get(job["status_url"]).get_json()
    assert done["status"] == "succeeded", done
    return done  # type: ignore[no-any-return]


def as_a_page_holding(customer_id: int, work: Callable[[Session], Any]) -> Callable[[Session], Any]:
    """``work`` in a session that read the customer first (not blocked) and holds it meanwhile
    (the identity map keeps an object only while something refers to it)."""
    def page(session: Session) -> Any:
        shown = session.get(Customer, customer_id)
        assert shown is not None and not shown.blocked
        outcome = work(session)
        assert shown is not None  # held until the work is done
        return outcome
    return page


def while_changed_in_the_master(session_factory: sessionmaker[Session], world: World,
                                work: Callable[[Session], Any], changes: dict[str, Any],
                                customer: str = "cust1", name: str = "credit use case") -> Any:
    """Run ``work`` in a session that holds the customer (read as a page reads it) while the
    test's transaction holds the customer's exposure row; once it waits on the row, the
    steward makes ``changes`` to the customer in the group master and commits, then the test
    lets go (tests/locks.py: ``while_held``). What ``work`` returned, or the exception it raised."""
    customer_id = world.customers[customer]

    def steward(session: Session) -> None:
        masterdata.update_record(session, world.actors["steward"], masterdata.CUSTOMERS, customer_id, changes,
                                 reason="licence withdrawn" if changes.get("blocked") else "terms renegotiated")

    return while_held(session_factory, lambda holder: lock_exposure(holder, customer_id),
                      Worker(session_factory, name, as_a_page_holding(customer_id, work)), steward)
