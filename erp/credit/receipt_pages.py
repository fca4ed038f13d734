"""Pages for recording customer payments (收款, T22): record one (customer, company, date,
amount, bank reference) and apply it to the customer's open invoices, oldest due first or
the ones ticked, after a confirmation step showing what will be posted; the payments list;
a payment's page with its applications and journal, and its reversal (冲销收款) with a reason.

Views parse the request, call ``erp.credit.services`` / ``erp.credit.payment_reversals``
(previews through their own dry run, ``erp.ui.pages.dry_run``) and render.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from erp.auth.models import User
from erp.auth.roles import Actor, Role
from erp.clock import business_today
from erp.credit import payment_reversals, queries, services
from erp.credit.models import Invoice, Payment, PaymentApplication
from erp.db import MONEY
from erp.errors import DomainError, ValidationFailed
from erp.masterdata import services as masterdata
from erp.masterdata.models import Customer
from erp.messages import Message, N_
from erp.ui import nav
from erp.ui.forms import form_day, form_number
from erp.ui.listing import ListArgs
from erp.ui.pages import PageBlueprint, confirmed, dry_run, form_refusal, require_role
from erp.web import transaction

bp = PageBlueprint("receipt_pages", __name__, url_prefix="/receivables/payments")

RECORDERS = set(services.PAYMENT_ROLES)
READERS = {Role.SALES, Role.COST_ACCOUNTANT, Role.CREDIT_CONTROLLER, Role.CIO}
nav.add("credit", "receipt_pages.new_payment", N_("Record a customer payment"), RECORDERS)
nav.add("credit", "receipt_pages.payments", N_("Customer payments"), READERS)
PAID_ON = {"posting_date": "payment_date"}
REVERSED_ON = {"posting_date": "reversal_date"}


def _customer(db: Session, actor: Actor, code: str) -> Customer | None:
    if not code:
        return None
    return masterdata.record_by_code(db, actor, masterdata.CUSTOMERS, code, "customer")  # type: ignore[return-value]


def _open_invoices(db: Session, actor: Actor, company: Any, customer: Any) -> list[Invoice]:
    """The customer's open invoices in the company, oldest due first (the order a payment settles them)."""
    if company is None or customer is None or not actor.acts_for_company(company.id):
        return []
    return list(db.scalars(select(Invoice).where(
        Invoice.company_id == company.id, Invoice.customer_id == customer.id, Invoice.open_amount > 0)
        .order_by(Invoice.due_date, Invoice.id)))


def _journal(db: Session, payment: Payment) -> list[Any]:
    return queries.payment_journal(db, payment)


@bp.route("/new", methods=["GET", "POST"])
@transaction
def new_payment(db: Session, actor: Actor) -> Any:
    """Record a customer payment: the customer's open invoices in the company, oldest due first;
    the ticked ones settled in that order, or oldest due first when none is ticked; checked
    first (what will be posted, the service's own dry run), then posted."""
    require_role(*RECORDERS)
    form = request.form if request.method == "POST" else {}
    refusal: dict[str, Any] = {}
    pending = None
    companies, _ = masterdata.list_records(db, actor, masterdata.COMPANIES, {}, offset=0, limit=100)
    companies = [c for c in companies if actor.acts_for_company(c.id)]
    company = next((c for c in companies if c.code == request.values.get("company")),
                   companies[0] if companies else None)
    customer = None
    try:
        customer = _customer(db, actor, (request.values.get("customer") or "").strip()[:32])
    except DomainError as error:
        refusal = form_refusal(error)
    # ticked on the form, or carried through the confirmation step as one field
    chosen = request.values.getlist("invoice") or (request.values.get("invoices") or "").split(",")
    ticked = [int(v) for v in chosen if v.isascii() and v.isdigit()]
    if request.method == "POST" and request.form.get("edit") != "1" and not refusal and company is not None:
        try:
            if customer is None:
                raise ValidationFailed.for_field("customer", Message("required"))
            amount = form_number(form.get("amount"), "amount", MONEY)
            assert amount is not None
            if amount <= 0:
                raise ValidationFailed.for_field("amount", Message("must be more than 0"))
            day = form_day(form.get("payment_date"), "payment_date")
            assert day is not None
            reference = (form.get("bank_reference") or "").strip()[:64] or None

            def post() -> Payment:
                return services.record_payment(db, actor, company_id=company.id, customer_id=customer.id,
                                               payment_date=day, amount=amount, invoice_ids=ticked or None,
                                               bank_reference=reference)

            if not confirmed(form):
                def read() -> dict[str, Any]:
                    payment = post()
                    return {"journal": _journal(db, payment), "number": payment.document_number,
                            "applications": [(a, db.get(Invoice, a.invoice_id)) for a in payment.applications],
                            "unapplied": payment.unapplied_amount, "amount": payment.amount}
                pending = dry_run(db, read)
            else:
                with db.begin_nested():  # a refusal rolls back to here
                    payment_id = post().id
                return redirect(url_for("receipt_pages.payment", payment_id=payment_id, posted=1))
        except DomainError as error:
            if error.status == 404:
                raise
            refusal = form_refusal(error, PAID_ON)
    status = refusal["error"].status if refusal else 200
    invoices = _open_invoices(db, actor, company, customer)
    return render_template("credit/new_payment.html", companies=companies, company=company, customer=customer,
                           form=form, carried={**{k: v for k, v in form.items() if k != "invoice"},
                                               "invoices": ",".join(map(str, ticked))}, today=business_today(), invoices=invoices,
                           open_total=sum((i.open_amount for i in invoices), Decimal(0)), ticked=ticked,
                           pending=pending, **refusal), status


@bp.route("/")
@transaction
def payments(db: Session, actor: Actor) -> str:
    """Customer payments of the caller's companies, newest first; the search box finds part of
    the number, the bank's reference or the customer's code or name."""
    require_role(*READERS)
    args = ListArgs.from_request()
    rows, total = queries.list_payments(db, actor, q=args.q or None, offset=args.offset, limit=args.page_size)
    customers = {c.id: c for c in db.scalars(select(Customer).where(Customer.id.in_({r.customer_id for r in rows})))}
    return render_template("credit/payments.html", rows=rows, total=total, args=args, customers=customers,
                           can_record=actor.has_role(*RECORDERS))


@bp.route("/<int:payment_id>", methods=["GET", "POST"])
@transaction
def payment(db: Session, actor: Actor, payment_id: int) -> Any:
    """One customer payment: the invoices it settled, its journal, and its reversal (冲销收款)
    with a reason, checked first (the reversal's own dry run), then posted."""
    require_role(*READERS)
    refusal: dict[str, Any] = {}
    pending = None
    if request.method == "POST" and request.form.get("edit") != "1":
        try:
            def post() -> Payment:
                return payment_reversals.reverse_customer_payment(
                    db, actor, payment_id, reason=(request.form.get("reason") or "")[:500],
                    reversal_date=form_day(request.form.get("reversal_date"), "reversal_date") or business_today())

            if not confirmed(request.form):
                pending = dry_run(db, lambda: {"journal": queries.entry_rows(db, post().reversal_entry_id)})
            else:
                with db.begin_nested():  # a refusal rolls back to here
                    post()
                return redirect(url_for("receipt_pages.payment", payment_id=payment_id, reversed=1))
        except DomainError as error:
            if error.status == 404:
                raise
            refusal = form_refusal(error, REVERSED_ON)
    found = queries.get_payment(db, actor, payment_id)
    db.refresh(found)
    customer = db.get(Customer, found.customer_id)
    applications = list(db.execute(select(PaymentApplication, Invoice).join(
        Invoice, Invoice.id == PaymentApplication.invoice_id).where(PaymentApplication.payment_id == found.id)
        .order_by(PaymentApplication.id)).all())
    reverser = db.get(User, found.reversed_by) if found.reversed_by is not None else None
    can_reverse = not found.reversed and actor.has_role(*RECORDERS)
    status = refusal["error"].status if refusal else 200
    return render_template("credit/payment.html", payment=found, customer=customer, applications=applications,
                           journal=_journal(db, found), reverser=reverser, can_reverse=can_reverse,
                           can_read_invoices=actor.has_role(Role.CREDIT_CONTROLLER, Role.CIO),
                           form=request.form, today=business_today(), posted=request.args.get("posted"),
                           reversed=request.args.get("reversed"), pending=pending, **refusal), status
