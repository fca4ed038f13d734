"""HTTP endpoints of payables: ``/api/v1/payables/...``.

Invoices, credit memos, payments and payment reversals accept an ``Idempotency-Key`` header: a retry with the
same key returns the first result and posts nothing twice.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_smorest.pagination import PaginationParameters
from sqlalchemy.orm import Session

from erp.payables import credit_memos, price_reductions, queries, services, wip_price_differences
from erp.payables import schemas as s
from erp.payables.models import DocumentKind, SupplierPayment
from erp.clock import business_today
from erp.auth.roles import Actor
from erp.web import IDEMPOTENCY_HEADER, Blueprint, idempotent, paged, transaction
from erp.auth.errors import CompanyOutOfScope, RoleNotAllowed
from erp.errors import DatedAfterBusinessDay, DatedBeforeSource, NotFound, ValidationFailed
from erp.idempotency import IdempotencyKeyReused
from erp.masterdata.errors import NoTaxCode, TaxCodeNotInForce
from erp.payables.errors import (
    CreditMemoUnlikeInvoice, DatedBeforeReopening, DuplicateInvoice, InvoiceBlocked, InvoiceNotBlocked, InvoiceReversed, InvoiceSettled, InvoiceTotalsDisagree,
    OrderLineNotOfInvoice, OverCredited, OverInvoiced, PaymentExceedsOpenItems, PaymentReversed, ReleaseByEnterer,
)
from erp.posting.errors import PeriodClosed

blp = Blueprint("payables", __name__, url_prefix="/api/v1/payables",
                description="Supplier invoices (three-way match), credit memos, payments, AP ageing, GR/IR")


def _request(data: dict[str, Any]) -> services.InvoiceRequest:
    lines = [services.LineRequest(**line) for line in data.pop("lines")]
    return services.InvoiceRequest(lines=lines, **data)


def _enter(session: Session, actor: Actor, data: dict[str, Any], kind: DocumentKind) -> Any:
    invoice_id = idempotent(session, actor, data,
                            lambda: services.enter_invoice(session, actor, _request(dict(data)), kind).id)
    return queries.get_invoice(session, actor, invoice_id)


@blp.route("/invoices", methods=["POST"])
@blp.arguments(s.SupplierInvoiceIn)
@blp.response(201, s.SupplierInvoiceOut)
@blp.doc(parameters=[IDEMPOTENCY_HEADER])
@blp.refuses(
    CompanyOutOfScope, RoleNotAllowed, NotFound, DuplicateInvoice, OverCredited, OverInvoiced, PeriodClosed,
    DatedAfterBusinessDay,
    IdempotencyKeyReused, OrderLineNotOfInvoice, NoTaxCode, TaxCodeNotInForce, InvoiceTotalsDisagree,
    DatedBeforeSource, DatedBeforeReopening,
)
@transaction
def post_invoice(session: Session, actor: Actor, data: dict[str, Any]) -> Any:
    """Enter a supplier invoice: matched three ways line by line, posted, blocked for payment if outside tolerance."""
    return _enter(session, actor, data, DocumentKind.INVOICE)


@blp.route("/credit-memos", methods=["POST"])
@blp.arguments(s.CreditMemoIn)
@blp.response(201, s.SupplierInvoiceOut)
@blp.doc(parameters=[IDEMPOTENCY_HEADER])
@blp.refuses(
    CompanyOutOfScope, RoleNotAllowed, NotFound, DuplicateInvoice, OverCredited, OverInvoiced, PeriodClosed,
    DatedAfterBusinessDay,
    IdempotencyKeyReused, OrderLineNotOfInvoice, NoTaxCode, TaxCodeNotInForce, InvoiceTotalsDisagree,
    DatedBeforeSource, DatedBeforeReopening, CreditMemoUnlikeInvoice,
)
@transaction
def post_credit_memo(session: Session, actor: Actor, data: dict[str, Any]) -> Any:
    """Enter a supplier credit memo (goods returned or not delivered): the invoice's postings reversed for its
    lines; the reason is kept in the audit trail. A price reduction is POST /invoices/{id}/price-reductions."""
    def enter() -> int:
        fields = dict(data)
        reason = fields.pop("reason", None)
        return credit_memos.enter_credit_memo(session, actor, _request(fields), reason=reason).id

    return queries.get_invoice(session, actor, idempotent(session, actor, data, enter))


@blp.route("/invoices/<int:invoice_id>/price-reductions", methods=["POST"])
@blp.arguments(s.PriceReductionIn)
@blp.response(201, s.SupplierInvoiceOut)
@blp.doc(parameters=[IDEMPOTENCY_HEADER])
@blp.refuses(
    RoleNotAllowed, NotFound, DuplicateInvoice, OverCredited, InvoiceReversed, PeriodClosed, DatedAfterBusinessDay,
    IdempotencyKeyReused, InvoiceTotalsDisagree, DatedBeforeSource, DatedBeforeReopening,
)
@transaction
def post_price_reduction(session: Session, actor: Actor, data: dict[str, Any], invoice_id: int) -> Any:
    """Enter a supplier's price reduction on a posted invoice (降价红字发票): a credit memo reducing its lines'
    amounts, quantities and GR/IR untouched; Dr accounts payable / Cr input VAT / Cr the price difference."""
    def enter() -> int:
        fields = dict(data)
        reason = fields.pop("reason")
        lines = [price_reductions.ReductionLine(**line) for line in fields.pop("lines")]
        return price_reductions.enter_price_reduction(session, actor, price_reductions.PriceReductionRequest(
            invoice_id=invoice_id, lines=lines, **fields), reason=reason).id

    return queries.get_invoice(session, actor, idempotent(session, actor, {**data, "invoice_id": invoice_id}, enter))


@blp.route("/invoices", methods=["GET"])
@blp.arguments(s.SupplierInvoiceQuery, location="query")
@blp.response(200, s.SupplierInvoiceOut(many=True))
@blp.paginate()
@blp.refuses(RoleNotAllowed)
def get_invoices(query: dict[str, Any], pagination_parameters: PaginationParameters) -> list[Any]:
    """Invoices and credit memos of the caller's companies, newest first (``blocked=true``: the blocked queue)."""
    return paged(pagination_parameters, queries.list_invoices, filters=query)


@blp.route("/invoices/<int:invoice_id>", methods=["GET"])
@blp.response(200, s.SupplierInvoiceDetailOut)
@blp.refuses(RoleNotAllowed, NotFound)
@transaction
def get_invoice(session: Session, actor: Actor, invoice_id: int) -> Any:
    """One invoice or credit memo with its matched lines."""
    return queries.get_invoice(session, actor, invoice_id)


@blp.route("/invoices/<int:invoice_id>/release", methods=["POST"])
@blp.arguments(s.InvoiceReleaseIn)
@blp.response(200, s.SupplierInvoiceOut)
@blp.refuses(ReleaseByEnterer, RoleNotAllowed, NotFound, InvoiceNotBlocked, InvoiceReversed)
@transaction
def post_release(session: Session, actor: Actor, data: dict[str, Any], invoice_id: int) -> Any:
    """Release an invoice blocked for payment, with a reason (purchasing managers, accountants; not its enterer)."""
    return services.release_invoice(session, actor, invoice_id, reason=data["reason"])


@blp.route("/invoices/<int:invoice_id>/reverse", methods=["POST"])
@blp.arguments(s.InvoiceReversalIn)
@blp.response(200, s.SupplierInvoiceDetailOut)
@blp.refuses(RoleNotAllowed, NotFound, InvoiceReversed, InvoiceSettled, OverInvoiced, PeriodClosed,
             DatedAfterBusinessDay, DatedBeforeReopening)
@transaction
def post_reversal(session: Session, actor: Actor, data: dict[str, Any], invoice_id: int) -> Any:
    """Reverse (cancel) a posted invoice or credit memo: the mirror of its postings on the reversal date, with a reason."""
    return services.reverse_invoice(session, actor, invoice_id, reason=data["reason"],
                                    reversal_date=data.get("reversal_date") or business_today())


@blp.route("/payments", methods=["POST"])
@blp.arguments(s.SupplierPaymentIn)
@blp.response(201, s.SupplierPaymentOut)
@blp.doc(parameters=[IDEMPOTENCY_HEADER])
@blp.refuses(
    CompanyOutOfScope, RoleNotAllowed, NotFound, InvoiceBlocked, InvoiceReversed, PeriodClosed, DatedAfterBusinessDay,
    IdempotencyKeyReused,
    PaymentExceedsOpenItems, DatedBeforeSource, DatedBeforeReopening,
)
@transaction
def post_payment(session: Session, actor: Actor, data: dict[str, Any]) -> Any:
    """Pay a supplier: the named invoices in order, or the open ones oldest due first; never a blocked invoice."""
    payment_id = idempotent(session, actor, data, lambda: services.pay_supplier(
        session, actor, services.PaymentRequest(**data)).id)
    return session.get(SupplierPayment, payment_id)


@blp.route("/payments", methods=["GET"])
@blp.arguments(s.SupplierPaymentQuery, location="query")
@blp.response(200, s.SupplierPaymentDetailOut(many=True))
@blp.paginate()
@blp.refuses(RoleNotAllowed, CompanyOutOfScope)
def get_payments(query: dict[str, Any], pagination_parameters: PaginationParameters) -> list[Any]:
    """Supplier payments of the caller's companies, newest first, each with the invoices it settled and its
    reversal (``reversed=true``: the reversed ones)."""
    return paged(pagination_parameters, queries.list_payments, filters=query)


@blp.route("/payments/<int:payment_id>", methods=["GET"])
@blp.response(200, s.SupplierPaymentDetailOut)
@blp.refuses(RoleNotAllowed, NotFound)
@transaction
def get_payment(session: Session, actor: Actor, payment_id: int) -> Any:
    """One supplier payment: its allocations (the invoices it settled, by id and number) and its reversal, if any
    (another company's payment: 404)."""
    return queries.get_payment(session, actor, payment_id)


@blp.route("/payments/<int:payment_id>/reverse", methods=["POST"])
@blp.arguments(s.PaymentReversalIn)
@blp.response(200, s.SupplierPaymentOut)
@blp.doc(parameters=[IDEMPOTENCY_HEADER])
@blp.refuses(RoleNotAllowed, NotFound, PaymentReversed, InvoiceReversed, PeriodClosed, DatedAfterBusinessDay,
             IdempotencyKeyReused)
@transaction
def post_payment_reversal(session: Session, actor: Actor, data: dict[str, Any], payment_id: int) -> Any:
    """Reverse a supplier payment (a bank return, the wrong invoice paid): Dr bank, Cr payables on the reversal date,
    the invoices it settled open again, with a reason."""
    reversed_id = idempotent(session, actor, {**data, "payment_id": payment_id}, lambda: services.reverse_payment(
        session, actor, payment_id, reason=data["reason"],
        reversal_date=data.get("reversal_date") or business_today()).id)
    return session.get(SupplierPayment, reversed_id)


@blp.route("/ageing", methods=["GET"])
@blp.arguments(s.PayablesAgeingQuery, location="query")
@blp.response(200, s.PayablesAgeingOut(many=True))
@blp.refuses(RoleNotAllowed)
@transaction
def get_ageing(session: Session, actor: Actor, query: dict[str, Any]) -> list[dict[str, Any]]:
    """Open payables in ageing buckets per supplier, company or the group (credit memos count negative)."""
    as_of: dt.date = query.pop("as_of", None) or business_today()
    return queries.ageing(session, actor, as_of, **query)


@blp.route("/grir", methods=["GET"])
@blp.arguments(s.GrirQuery, location="query")
@blp.response(200, s.GrirLineOut(many=True))
@blp.refuses(CompanyOutOfScope, RoleNotAllowed)
@transaction
def get_grir(session: Session, actor: Actor, query: dict[str, Any]) -> list[Any]:
    """GR/IR clearing report: per order line, received not invoiced and invoiced not received, with age."""
    return queries.grir_lines(session, actor, query["company_id"],
                              query.get("as_of") or business_today())


@blp.route("/grir/check", methods=["GET"])
@blp.arguments(s.GrirQuery, location="query")
@blp.response(200, s.GrirCheckOut)
@blp.refuses(CompanyOutOfScope, RoleNotAllowed)
@transaction
def get_grir_check(session: Session, actor: Actor, query: dict[str, Any]) -> Any:
    """Month-end check: 2202.01's balance in the company's books equals the GR/IR report's total."""
    return queries.grir_check(session, actor, query["company_id"],
                              query.get("as_of") or business_today())


@blp.route("/tolerances/<int:company_id>", methods=["GET"])
@blp.response(200, s.MatchToleranceOut)
@blp.refuses(CompanyOutOfScope, RoleNotAllowed)
@transaction
def get_tolerances(session: Session, actor: Actor, company_id: int) -> Any:
    """A company's three-way match tolerances (the defaults when it has set none)."""
    queries.require_reader(actor)
    actor.require_company(company_id)
    return services.tolerances_for(session, company_id)


@blp.route("/tolerances/<int:company_id>", methods=["PUT"])
@blp.arguments(s.MatchToleranceIn)
@blp.response(200, s.MatchToleranceOut)
@blp.refuses(CompanyOutOfScope, RoleNotAllowed)
@transaction
def put_tolerances(session: Session, actor: Actor, data: dict[str, Any], company_id: int) -> Any:
    """Set a company's three-way match tolerances (cost accountants, admins; audited)."""
    return services.set_tolerances(session, actor, company_id, **data)


@blp.route("/orders/<int:order_id>/invoice-status", methods=["GET"])
@blp.response(200, s.OrderLineStatusOut(many=True))
@blp.refuses(RoleNotAllowed, NotFound)
@transaction
def get_order_invoice_status(session: Session, actor: Actor, order_id: int) -> list[dict[str, Any]]:
    """Per line of a purchase order: ordered, received, invoiced and the invoices (for its buyers)."""
    return queries.order_invoice_status(session, actor, order_id)


@blp.route("/wip-price-differences", methods=["GET"])
@blp.arguments(s.WipPriceDifferenceQuery, location="query")
@blp.response(200, s.WipPriceDifferenceOut(many=True))
@blp.refuses(RoleNotAllowed, CompanyOutOfScope)
@transaction
def get_wip_price_differences(session: Session, actor: Actor, query: dict[str, Any]) -> list[Any]:
    """What supplier invoices' price differences left on 5001.01 work in process under the rule before
    1 December 2026 (goods production orders consumed in a closed period), per invoice and material: to be
    corrected once with ``POST /wip-price-differences/corrections`` (cost accountants, CIO, admin)."""
    return wip_price_differences.list_orphans(session, actor, query.get("company_id"))


@blp.route("/wip-price-differences/corrections", methods=["POST"])
@blp.arguments(s.WipCorrectionIn)
@blp.response(201, s.WipCorrectionOut(many=True))
@blp.refuses(RoleNotAllowed, CompanyOutOfScope, ValidationFailed, DatedAfterBusinessDay, DatedBeforeSource,
             PeriodClosed)
@transaction
def post_wip_corrections(session: Session, actor: Actor, data: dict[str, Any]) -> list[Any]:
    """Move what invoices' price differences left on 5001.01 in a company to 6405.02 input price variance: one
    journal entry per invoice (Dr 6405.02 / Cr 5001.01 per material), dated in an open period (422 in a closed
    one); what is already corrected is never posted again; ``dry_run``: what would be posted (cost accountants)."""
    return wip_price_differences.correct_orphans(session, actor, data["company_id"],
                                                 data.get("posting_date") or business_today(),
                                                 dry_run=data["dry_run"])


@blp.route("/wip-price-differences/corrections/<int:entry_id>/reverse", methods=["POST"])
@blp.arguments(s.WipCorrectionReversalIn)
@blp.response(200, s.WipCorrectionReversalOut)
@blp.refuses(RoleNotAllowed, NotFound, ValidationFailed, DatedAfterBusinessDay, PeriodClosed,
             wip_price_differences.CorrectionReversed)
@transaction
def post_wip_correction_reversal(session: Session, actor: Actor, data: dict[str, Any], entry_id: int) -> Any:
    """Reverse a correction (its journal entry's lines negated), with a reason: the amount is back on 5001.01 and
    listed again (cost accountants)."""
    return {"entry_id": wip_price_differences.reverse_correction(
        session, actor, entry_id, data.get("posting_date") or business_today(), reason=data["reason"])}
