"""The customer's credit data (maintained by credit controllers, versioned) and invoice
disputes (one of the scorecard's history factors).

Credit data are what a credit department weighs first: size and financial strength from
the latest financial statements (registered capital, tangible net worth, annual
turnover, with the statement's date), an external rating (a grade A-D, or an agency's
0-100 score, with its date), when the customer was founded, its type (hospital, pharmacy
chain, distributor, other) and the collateral or guarantees it gave. Every change is a new
version (who, when, why, in force from which day): nothing is overwritten.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from erp.messages import N_, Message
from erp.audit import services as audit
from erp.auth.roles import Actor, Role, visible_or_404
from erp.credit.errors import DisputeNotApplicable, DisputeResolved
from erp.credit.models import CustomerCreditProfile, Invoice, InvoiceDispute
from erp.credit.queries import paged
from erp.credit.scorecard import CustomerType, RatingGrade
from erp.db import utcnow
from erp.errors import NotFound, ValidationFailed
from erp.masterdata.models import Customer

READ_ROLES = (Role.CREDIT_CONTROLLER, Role.CIO)
DISPUTE_ROLES = (Role.SALES, Role.CREDIT_CONTROLLER)
ZERO = Decimal("0")


@dataclass(frozen=True)
class CreditData:
    """One version of a customer's credit data as entered (amounts in CNY)."""

    customer_type: CustomerType
    registered_capital: Decimal | None = None
    tangible_net_worth: Decimal | None = None
    annual_turnover: Decimal | None = None
    statement_date: dt.date | None = None
    rating_grade: RatingGrade | None = None
    rating_score: Decimal | None = None
    rating_agency: str | None = None
    rating_date: dt.date | None = None
    founded_on: dt.date | None = None
    collateral_amount: Decimal = ZERO
    collateral_note: str | None = None


def _refuse(field: str, message: Message) -> ValidationFailed:
    return ValidationFailed.for_field(field, message)


def _check(data: CreditData, valid_from: dt.date) -> None:
    """The rules a version must keep (each refusal names its field)."""
    if (data.tangible_net_worth is not None or data.annual_turnover is not None) and data.statement_date is None:
        raise _refuse("statement_date", Message("figures from financial statements need the statement's date"))
    if data.statement_date is not None and data.statement_date > valid_from:
        raise _refuse("statement_date", Message("a statement dated after the data's first day of validity {day}",
                                                day=valid_from))
    if data.rating_grade is not None and data.rating_score is not None:
        raise _refuse("rating_score", Message("give the rating as a grade or as an agency's score, not both"))
    if (data.rating_grade is not None or data.rating_score is not None) and data.rating_date is None:
        raise _refuse("rating_date", Message("a rating needs the date it was given"))
    if data.rating_date is not None and data.rating_date > valid_from:
        raise _refuse("rating_date", Message("a rating dated after the data's first day of validity {day}", day=valid_from))
    if data.rating_date is not None and data.rating_grade is None and data.rating_score is None:
        raise _refuse("rating_date", Message("a rating date without a rating"))
    if data.founded_on is not None and data.founded_on > valid_from:
        raise _refuse("founded_on", Message("founded after the data's first day of validity"))
    if data.collateral_amount > 0 and not (data.collateral_note or "").strip():
        raise _refuse("collateral_note",
                      Message("say what secures the amount (bank guarantee, deposit, parent guarantee...)"))


def record_credit_data(
    session: Session, actor: Actor, customer_id: int, data: CreditData, *, reason: str, valid_from: dt.date,
) -> CustomerCreditProfile:
    """Record a new version of a customer's credit data (credit controllers, with a reason);
    it is in force from ``valid_from`` (the model reads the version in force on its key date)."""
    actor.require_role(Role.CREDIT_CONTROLLER, action="maintaining customers' credit data")
    if not reason.strip():
        raise _refuse("reason", Message("say why the data change"))
    # The customer row is locked so that two controllers' versions get distinct numbers.
    customer = session.scalars(select(Customer).where(Customer.id == customer_id).with_for_update()
                                .execution_options(populate_existing=True)).one_or_none()
    if customer is None:
        raise NotFound(Message("customer {key} not found", key=customer_id))
    _check(data, valid_from)
    previous = session.scalars(select(CustomerCreditProfile).where(CustomerCreditProfile.customer_id == customer_id)
                               .order_by(CustomerCreditProfile.version.desc()).limit(1)).first()
    profile = CustomerCreditProfile(customer_id=customer_id, version=(previous.version if previous else 0) + 1,
                                    valid_from=valid_from, reason=reason, recorded_by=actor.user_id,
                                    **data.__dict__)
    session.add(profile)
    session.flush()
    # The audit trail shows what changed against the version before (its own row stays).
    audit.record_change(session, actor, entity="customer_credit_data", entity_id=customer_id,
                        action=audit.CREATE if previous is None else audit.CHANGE,
                        before=None if previous is None else _audited(previous), after=_audited(profile),
                        reason=reason)
    return profile


def _audited(profile: CustomerCreditProfile) -> dict[str, Any]:
    return audit.snapshot(profile, exclude=("id", "customer_id", "reason", "recorded_by", "recorded_at"))


def credit_data_history(session: Session, actor: Actor, customer_id: int) -> list[CustomerCreditProfile]:
    """Every version of a customer's credit data, newest first (empty when none on file)."""
    actor.require_role(*READ_ROLES, action="reading customers' credit data")
    if session.get(Customer, customer_id) is None:
        raise NotFound(Message("customer {key} not found", key=customer_id))
    return list(session.scalars(select(CustomerCreditProfile).where(CustomerCreditProfile.customer_id == customer_id)
                                .order_by(CustomerCreditProfile.version.desc())))


def credit_data_in_force(session: Session, actor: Actor, customer_id: int, on: dt.date) -> CustomerCreditProfile:
    """The version in force on a day (404 when none is)."""
    actor.require_role(*READ_ROLES, action="reading customers' credit data")
    if session.get(Customer, customer_id) is None:
        raise NotFound(Message("customer {key} not found", key=customer_id))
    found = session.scalars(
        select(CustomerCreditProfile)
        .where(CustomerCreditProfile.customer_id == customer_id, CustomerCreditProfile.valid_from <= on)
        .order_by(CustomerCreditProfile.valid_from.desc(), CustomerCreditProfile.version.desc()).limit(1)).first()
    if found is None:
        raise NotFound(Message("no credit data of customer {customer} in force on {day}", customer=customer_id, day=on))
    return found


# --- disputes ----------------------------------------------------------------------------------

def open_dispute(
    session: Session, actor: Actor, *, invoice_id: int, amount: Decimal, opened_on: dt.date, reason: str,
) -> InvoiceDispute:
    """Record that a customer disputes (part of) an invoice (sales of the invoice's company,
    or a credit controller). The amount disputed may not exceed the invoice."""
    actor.require_role(*DISPUTE_ROLES, action="recording invoice disputes")
    invoice = session.get(Invoice, invoice_id)
    if invoice is None:
        raise NotFound(Message("invoice {key} not found", key=invoice_id))
    visible_or_404(actor, invoice.company_id, N_("invoice"), invoice_id)
    if not reason.strip():
        raise _refuse("reason", Message("say what the customer disputes"))
    if amount > invoice.amount:
        raise DisputeNotApplicable(Message("invoice {invoice} is for {total}; {amount} cannot be disputed",
                                           invoice=invoice.id, total=invoice.amount, amount=amount),
                                   errors=[{"pointer": "/amount", "detail": Message("at most {total}", total=invoice.amount)}])
    if opened_on < invoice.invoice_date:
        raise DisputeNotApplicable(Message("invoice {invoice} is dated {date}, after {opened_on}", invoice=invoice.id,
                                           date=invoice.invoice_date, opened_on=opened_on),
                                   errors=[{"pointer": "/opened_on",
                                            "detail": Message("not before {date}", date=invoice.invoice_date)}])
    dispute = InvoiceDispute(invoice_id=invoice.id, company_id=invoice.company_id, customer_id=invoice.customer_id,
                             amount=amount, opened_on=opened_on, reason=reason, opened_by=actor.user_id)
    session.add(dispute)
    session.flush()
    return dispute


def resolve_dispute(
    session: Session, actor: Actor, dispute_id: int, *, resolved_on: dt.date, resolution: str,
) -> InvoiceDispute:
    """Close a dispute with its outcome (credit note issued, claim rejected...)."""
    actor.require_role(*DISPUTE_ROLES, action="resolving invoice disputes")
    dispute = session.scalars(select(InvoiceDispute).where(InvoiceDispute.id == dispute_id)
                              .with_for_update().execution_options(populate_existing=True)).one_or_none()
    if dispute is None:
        raise NotFound(Message("dispute {key} not found", key=dispute_id))
    visible_or_404(actor, dispute.company_id, N_("dispute"), dispute_id)
    if dispute.resolved_on is not None:
        raise DisputeResolved(Message("dispute {dispute} was resolved on {day}", dispute=dispute.id, day=dispute.resolved_on))
    if not resolution.strip():
        raise _refuse("resolution", Message("say how it was resolved"))
    if resolved_on < dispute.opened_on:
        raise _refuse("resolved_on", Message("before the dispute was opened on {day}", day=dispute.opened_on))
    dispute.resolved_on, dispute.resolution = resolved_on, resolution
    dispute.resolved_by, dispute.resolved_at = actor.user_id, utcnow()
    session.flush()
    return dispute


def list_disputes(
    session: Session, actor: Actor, *, customer_id: int | None = None, open_only: bool = False,
    offset: int = 0, limit: int = 50,
) -> tuple[list[Any], int]:
    """Disputes of the caller's companies (every company for credit controllers and the
    CIO), newest first."""
    actor.require_role(*DISPUTE_ROLES, *READ_ROLES, action="reading invoice disputes")
    query = (select(InvoiceDispute).where(actor.company_scope(InvoiceDispute.company_id))
             .order_by(InvoiceDispute.opened_on.desc(), InvoiceDispute.id.desc()))
    if customer_id is not None:
        query = query.where(InvoiceDispute.customer_id == customer_id)
    if open_only:
        query = query.where(InvoiceDispute.resolved_on.is_(None))
    rows, total = paged(session, query, offset=offset, limit=limit)
    return [row[0] for row in rows], total
