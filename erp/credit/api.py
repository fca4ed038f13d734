"""HTTP endpoints of sales, receivables and credit control.

Sales documents live at ``/api/v1/{sales-orders,invoices,payments}``; credit control at
``/api/v1/credit/...``. Shipments and payments accept an ``Idempotency-Key`` header: a
retry with the same key returns the first result and posts nothing twice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask_smorest.pagination import PaginationParameters
from sqlalchemy.orm import Session

from erp.clock import business_today
from erp.credit import (
    backtest, jobs, limits, notes, parameters, payment_reversals, profiles, queries, receivables, services,
)
from erp.credit import schemas as s
from erp.credit.exposure import CreditPolicy, read_exposure
from erp.credit.models import CreditLimitSuggestion, CreditSuggestionRun
from erp.credit.scorecard import (
    Band,
    CustomerType,
    Explanation,
    Factor,
    LimitRule,
    ModelParameters,
    RiskClass,
    ScoreFactor,
)
from erp.jobs.api import started
from erp.jobs.errors import JobUserInactive, UnknownJobKind
from erp.jobs.schemas import JobOut
from erp.masterdata.models import Customer
from erp.auth.roles import Actor
from erp.web import Blueprint, IDEMPOTENCY_HEADER, erp_settings, idempotent, paged, reporting, transaction
from erp.auth.errors import CompanyOutOfScope, RoleNotAllowed
from erp.credit.errors import (
    CreditLimitExceeded, CustomerOnCreditHold, CustomerPaymentReversed, DisputeNotApplicable, DisputeResolved, InvoiceNotApplicable,
    CreditModelParametersInvalid, NoOpenInvoices, NoUnappliedCredit, OrderNotBlocked, OrderStatusConflict, OverShipment,
    SuggestionNotExplainable,
)
from erp.errors import DatedAfterBusinessDay, DatedBeforeSource, NotFound
from erp.idempotency import IdempotencyKeyReused
from erp.inventory.errors import BatchExpired, InsufficientStock, InvalidQuantity, WarehouseNotOfCompany
from erp.masterdata.errors import CustomerInactive, MaterialInactive, NoTaxCode, TaxCodeNotInForce
from erp.posting.errors import NoStandardPrice, PeriodClosed
from erp.credit.errors import (
    CreditNoteNotApplicable, IntercompanyOrderInvalid, IntercompanyPurchaseOrderNotOpen, NotAShipment,
)
from erp.inventory.errors import NotReversible, ReturnExceedsShipment

blp = Blueprint("credit", __name__, url_prefix="/api/v1", description="Sales, receivables and group credit control")


def _policy() -> CreditPolicy:
    return CreditPolicy.from_settings(erp_settings())


def _as_of(query: dict[str, Any]) -> dt.date:
    return query.pop("as_of", None) or business_today()


# --- sales orders ------------------------------------------------------------------------------

@blp.route("/sales-orders", methods=["POST"])
@blp.arguments(s.OrderIn)
@blp.response(201, s.OrderOut)
@blp.refuses(
    CompanyOutOfScope, RoleNotAllowed, NotFound, CustomerInactive, InvalidQuantity, MaterialInactive,
    WarehouseNotOfCompany, IntercompanyOrderInvalid, NoTaxCode, TaxCodeNotInForce, DatedAfterBusinessDay,
)
@transaction
def post_order(session: Session, actor: Actor, data: dict[str, Any]) -> services.OrderResult:
    """Take a customer's order for a company (a draft; confirm it to use credit)."""
    lines = [services.OrderLineRequest(**line) for line in data.pop("lines")]
    return services.create_order(session, actor, lines=lines, **data)


@blp.route("/sales-orders", methods=["GET"])
@blp.arguments(s.OrderQuery, location="query")
@blp.response(200, s.OrderOut(many=True))
@blp.paginate()
@blp.refuses(RoleNotAllowed)
def get_orders(query: dict[str, Any], pagination_parameters: PaginationParameters) -> list[Any]:
    """Sales orders of the caller's companies, newest first."""
    orders = paged(pagination_parameters, queries.list_orders, **query)
    return [services.OrderResult(order) for order in orders]


@blp.route("/sales-orders/<int:order_id>", methods=["GET"])
@blp.response(200, s.OrderOut)
@blp.refuses(RoleNotAllowed, NotFound)
@transaction
def get_order(session: Session, actor: Actor, order_id: int) -> services.OrderResult:
    """A sales order with its lines."""
    return services.OrderResult(queries.get_order(session, actor, order_id))


@blp.route("/sales-orders/<int:order_id>/confirmation", methods=["POST"])
@blp.response(200, s.OrderOut)
@blp.refuses(RoleNotAllowed, NotFound, OrderStatusConflict, IntercompanyOrderInvalid,
             IntercompanyPurchaseOrderNotOpen)
@transaction
def post_confirmation(session: Session, actor: Actor, order_id: int) -> services.OrderResult:
    """Confirm an order under the group-wide credit check (the result may be "blocked")."""
    return services.confirm_order(session, actor, order_id, policy=_policy())


@blp.route("/sales-orders/<int:order_id>/cancellation", methods=["POST"])
@blp.arguments(s.CancelIn)
@blp.response(200, s.OrderOut)
@blp.refuses(RoleNotAllowed, NotFound, OrderStatusConflict)
@transaction
def post_cancellation(session: Session, actor: Actor, data: dict[str, Any], order_id: int) -> services.OrderResult:
    """Cancel an order, or what is still to ship of it."""
    return services.cancel_order(session, actor, order_id, **data)


@blp.route("/sales-orders/<int:order_id>/shipments", methods=["POST"])
@blp.arguments(s.ShipmentIn)
@blp.response(201, s.ShipmentOut)
@blp.doc(parameters=[IDEMPOTENCY_HEADER])
@blp.refuses(
    RoleNotAllowed, NotFound, CreditLimitExceeded, CustomerOnCreditHold, InsufficientStock, OrderStatusConflict,
    OverShipment, PeriodClosed, DatedAfterBusinessDay, DatedBeforeSource, BatchExpired, IdempotencyKeyReused,
    InvalidQuantity,
    NoStandardPrice, IntercompanyPurchaseOrderNotOpen,
)
@transaction
def post_shipment(session: Session, actor: Actor, data: dict[str, Any], order_id: int) -> services.ShipmentResult:
    """Ship order lines (stock out first-expiry-first-out) and invoice them, after the credit check."""
    lines = [services.ShipmentLineRequest(**line) for line in data["lines"]]
    shipped: list[services.ShipmentResult] = []

    def ship() -> int:
        shipped.append(services.ship_order(session, actor, order_id, posting_date=data["posting_date"],
                                           lines=lines, policy=_policy()))
        return shipped[0].invoice.id

    invoice_id = idempotent(session, actor, {**data, "order_id": order_id}, ship)
    if shipped:
        return shipped[0]
    return services.ShipmentResult(queries.get_invoice(session, actor, invoice_id), None)


# --- invoices and payments -----------------------------------------------------------------------

@blp.route("/invoices", methods=["GET"])
@blp.arguments(s.InvoiceQuery, location="query")
@blp.response(200, s.InvoiceOut(many=True))
@blp.paginate()
@blp.refuses(RoleNotAllowed)
def get_invoices(query: dict[str, Any], pagination_parameters: PaginationParameters) -> list[Any]:
    """Invoices of the caller's companies, newest first."""
    return paged(pagination_parameters, queries.list_invoices, **query)


@blp.route("/invoices/<int:invoice_id>", methods=["GET"])
@blp.response(200, s.InvoiceOut)
@blp.refuses(RoleNotAllowed, NotFound)
@transaction
def get_invoice(session: Session, actor: Actor, invoice_id: int) -> Any:
    """An invoice with its lines and the payments applied to it."""
    return queries.get_invoice(session, actor, invoice_id)


@blp.route("/payments", methods=["POST"])
@blp.arguments(s.PaymentIn)
@blp.response(201, s.PaymentOut)
@blp.doc(parameters=[IDEMPOTENCY_HEADER])
@blp.refuses(
    CompanyOutOfScope, RoleNotAllowed, NotFound, PeriodClosed, DatedAfterBusinessDay, IdempotencyKeyReused,
    InvoiceNotApplicable,
)
@transaction
def post_payment(session: Session, actor: Actor, data: dict[str, Any]) -> Any:
    """Book a customer's payment: settles open invoices oldest due first (or the named ones); the rest stays as credit."""
    payment_id = idempotent(session, actor, data, lambda: services.record_payment(session, actor, **data).id)
    return queries.get_payment(session, actor, payment_id)


@blp.route("/payments", methods=["GET"])
@blp.arguments(s.PaymentQuery, location="query")
@blp.response(200, s.PaymentOut(many=True))
@blp.paginate()
@blp.refuses(RoleNotAllowed)
def get_payments(query: dict[str, Any], pagination_parameters: PaginationParameters) -> list[Any]:
    """Payments received by the caller's companies, newest first."""
    return paged(pagination_parameters, queries.list_payments, **query)


@blp.route("/payments/<int:payment_id>", methods=["GET"])
@blp.response(200, s.PaymentOut)
@blp.refuses(RoleNotAllowed, NotFound)
@transaction
def get_payment(session: Session, actor: Actor, payment_id: int) -> Any:
    """A payment with the invoices it settled."""
    return queries.get_payment(session, actor, payment_id)


@blp.route("/payments/<int:payment_id>/applications", methods=["POST"])
@blp.arguments(s.CreditApplicationIn)
@blp.response(200, s.PaymentOut)
@blp.refuses(
    RoleNotAllowed, NotFound, NoOpenInvoices, NoUnappliedCredit, PeriodClosed, DatedAfterBusinessDay,
    InvoiceNotApplicable, CustomerPaymentReversed,
)
@transaction
def post_application(session: Session, actor: Actor, data: dict[str, Any], payment_id: int) -> Any:
    """Apply a payment's unapplied credit to open invoices of its customer and company."""
    return services.apply_credit(session, actor, payment_id, **data)


@blp.route("/payments/<int:payment_id>/reversal", methods=["POST"])
@blp.arguments(s.CustomerPaymentReversalIn)
@blp.response(200, s.PaymentOut)
@blp.doc(parameters=[IDEMPOTENCY_HEADER])
@blp.refuses(RoleNotAllowed, NotFound, CustomerPaymentReversed, PeriodClosed, DatedAfterBusinessDay,
             IdempotencyKeyReused)
@transaction
def post_payment_reversal(session: Session, actor: Actor, data: dict[str, Any], payment_id: int) -> Any:
    """Reverse a customer payment (a bounced bank draft): one balancing entry (Cr bank, Dr receivables what it
    settled, Dr advances what was unapplied) on the reversal date, with a reason; its invoices are open again."""
    reversed_id = idempotent(session, actor, {**data, "payment_id": payment_id},
                             lambda: payment_reversals.reverse_customer_payment(
                                 session, actor, payment_id, reason=data["reason"],
                                 reversal_date=data.get("reversal_date") or business_today()).id)
    return queries.get_payment(session, actor, reversed_id)


# --- returns, credit notes and debit notes -------------------------------------------------------

@blp.route("/customer-returns", methods=["POST"])
@blp.arguments(s.CustomerReturnIn)
@blp.response(201, s.CreditNoteOut)
@blp.doc(parameters=[IDEMPOTENCY_HEADER])
@blp.refuses(
    RoleNotAllowed, NotFound, NotReversible, PeriodClosed, DatedAfterBusinessDay, ReturnExceedsShipment,
    IdempotencyKeyReused,
    InvalidQuantity, NoStandardPrice, NotAShipment,
)
@transaction
def post_customer_return(session: Session, actor: Actor, data: dict[str, Any]) -> Any:
    """Take goods back against a shipment (into quarantine) and credit the customer for them."""
    note_id = idempotent(session, actor, data, lambda: notes.return_goods(session, actor, **data).id)
    return queries.get_credit_note(session, actor, note_id)


@blp.route("/credit-notes", methods=["POST"])
@blp.arguments(s.CreditNoteIn)
@blp.response(201, s.CreditNoteOut)
@blp.doc(parameters=[IDEMPOTENCY_HEADER])
@blp.refuses(
    CompanyOutOfScope, RoleNotAllowed, NotFound, PeriodClosed, DatedAfterBusinessDay, CreditNoteNotApplicable,
    IdempotencyKeyReused, NoTaxCode,
    TaxCodeNotInForce,
)
@transaction
def post_credit_note(session: Session, actor: Actor, data: dict[str, Any]) -> Any:
    """A price correction downwards without goods: settles the invoice as far as open, keeps the rest as credit."""
    note_id = idempotent(session, actor, data, lambda: notes.issue_credit_note(session, actor, **data).id)
    return queries.get_credit_note(session, actor, note_id)


@blp.route("/credit-notes", methods=["GET"])
@blp.arguments(s.CreditNoteQuery, location="query")
@blp.response(200, s.CreditNoteOut(many=True))
@blp.paginate()
@blp.refuses(RoleNotAllowed)
def get_credit_notes(query: dict[str, Any], pagination_parameters: PaginationParameters) -> list[Any]:
    """Credit notes of the caller's companies (returns and price corrections), newest first."""
    return paged(pagination_parameters, queries.list_credit_notes, **query)


@blp.route("/credit-notes/<int:note_id>", methods=["GET"])
@blp.response(200, s.CreditNoteOut)
@blp.refuses(RoleNotAllowed, NotFound)
@transaction
def get_credit_note(session: Session, actor: Actor, note_id: int) -> Any:
    """A credit note with its lines and the invoices it settled."""
    return queries.get_credit_note(session, actor, note_id)


@blp.route("/credit-notes/<int:note_id>/applications", methods=["POST"])
@blp.arguments(s.CreditApplicationIn)
@blp.response(200, s.CreditNoteOut)
@blp.refuses(
    RoleNotAllowed, NotFound, NoOpenInvoices, NoUnappliedCredit, PeriodClosed, DatedAfterBusinessDay,
    CreditNoteNotApplicable,
)
@transaction
def post_credit_note_application(session: Session, actor: Actor, data: dict[str, Any], note_id: int) -> Any:
    """Apply the credit a credit note kept to open invoices of its customer and company."""
    return notes.apply_credit_note(session, actor, note_id, **data)


@blp.route("/debit-notes", methods=["POST"])
@blp.arguments(s.DebitNoteIn)
@blp.response(201, s.InvoiceOut)
@blp.doc(parameters=[IDEMPOTENCY_HEADER])
@blp.refuses(
    CompanyOutOfScope, RoleNotAllowed, NotFound, PeriodClosed, DatedAfterBusinessDay, CreditNoteNotApplicable,
    IdempotencyKeyReused, NoTaxCode,
    TaxCodeNotInForce,
)
@transaction
def post_debit_note(session: Session, actor: Actor, data: dict[str, Any]) -> Any:
    """A price correction upwards without goods: a receivable (kind debit_note) due after the customer's terms."""
    invoice_id = idempotent(session, actor, data, lambda: notes.issue_debit_note(session, actor, **data).id)
    return queries.get_invoice(session, actor, invoice_id)


# --- credit control -----------------------------------------------------------------------------

@blp.route("/credit/customers/<int:customer_id>", methods=["GET"])
@blp.arguments(s.PositionQuery, location="query")
@blp.response(200, s.PositionOut)
@blp.refuses(RoleNotAllowed, NotFound)
@transaction
def get_position(session: Session, actor: Actor, query: dict[str, Any], customer_id: int) -> services.CreditPosition:
    """A customer's group-wide exposure, limit and hold, and whether an amount would pass the check now."""
    return services.credit_position(session, actor, customer_id, policy=_policy(),
                                    amount=query.get("amount") or Decimal("0"))


@blp.route("/credit/customers/<int:customer_id>/hold", methods=["PUT"])
@blp.arguments(s.HoldIn)
@blp.response(200, s.PositionOut)
@blp.refuses(RoleNotAllowed, NotFound)
@transaction
def put_hold(session: Session, actor: Actor, data: dict[str, Any], customer_id: int) -> services.CreditPosition:
    """Put a customer on credit hold, or lift it (credit controllers, with a reason)."""
    services.set_credit_hold(session, actor, customer_id, **data)
    return services.credit_position(session, actor, customer_id, policy=_policy())


@blp.route("/credit/customers/<int:customer_id>/limits", methods=["POST"])
@blp.arguments(s.LimitIn)
@blp.response(201, s.LimitVersionOut)
@blp.refuses(RoleNotAllowed, NotFound)
@transaction
def post_limit(session: Session, actor: Actor, data: dict[str, Any], customer_id: int) -> Any:
    """Approve the model's suggestion or set another limit (with a reason): a new version."""
    return limits.set_credit_limit(session, actor, customer_id, **data)


@blp.route("/credit/customers/<int:customer_id>/limits", methods=["GET"])
@blp.response(200, s.LimitVersionOut(many=True))
@blp.refuses(RoleNotAllowed, NotFound)
@transaction
def get_limits(session: Session, actor: Actor, customer_id: int) -> list[Any]:
    """Every version of a customer's credit limit, newest first."""
    return limits.limit_history(session, actor, customer_id)


@blp.route("/credit/limit-suggestions", methods=["POST"])
@blp.arguments(s.SuggestIn)
@blp.response(202, JobOut)
@blp.refuses(RoleNotAllowed, in_job=(RoleNotAllowed, NotFound, JobUserInactive, UnknownJobKind))
@transaction
def post_suggestions(session: Session, actor: Actor, data: dict[str, Any]) -> Any:
    """Queue the recompute of every customer's suggested limit (a job: poll its status_url; its result names the run)."""
    return started(jobs.queue_recompute(session, actor, as_of=data["as_of"] or business_today()))


@blp.route("/credit/limit-suggestions", methods=["GET"])
@blp.arguments(s.SuggestionQuery, location="query")
@blp.response(200, s.SuggestionOut(many=True))
@blp.paginate()
@blp.refuses(RoleNotAllowed, NotFound)
def get_suggestions(query: dict[str, Any], pagination_parameters: PaginationParameters) -> list[Any]:
    """A run's suggestions (the latest by default) beside each customer's limit in force."""
    return paged(pagination_parameters, limits.suggestions_of_run, **query)


@dataclass
class ExplainedSuggestion:
    suggestion: dict[str, Any]
    run: CreditSuggestionRun
    explanation: Explanation


def _explained(session: Any, found: tuple[CreditLimitSuggestion, CreditSuggestionRun, Explanation]
               ) -> ExplainedSuggestion:
    suggestion, run, explanation = found
    customer = session.get(Customer, suggestion.customer_id)
    return ExplainedSuggestion(
        {"CreditLimitSuggestion": suggestion, "customer_code": customer.code, "customer_name_zh": customer.name_zh,
         "current_limit": read_exposure(session, suggestion.customer_id).credit_limit}, run, explanation)


@blp.route("/credit/limit-suggestions/<int:suggestion_id>", methods=["GET"])
@blp.response(200, s.ExplainedSuggestionOut)
@blp.refuses(RoleNotAllowed, NotFound, SuggestionNotExplainable)
@transaction
def get_suggestion(session: Session, actor: Actor, suggestion_id: int) -> ExplainedSuggestion:
    """A suggestion with its explanation: inputs, each score step, each capacity, the rule that bound it."""
    return _explained(session, limits.explained_suggestion(session, actor, suggestion_id=suggestion_id))


@blp.route("/credit/customers/<int:customer_id>/limit-suggestion", methods=["GET"])
@blp.response(200, s.ExplainedSuggestionOut)
@blp.refuses(RoleNotAllowed, NotFound, SuggestionNotExplainable)
@transaction
def get_customer_suggestion(session: Session, actor: Actor, customer_id: int) -> ExplainedSuggestion:
    """The customer's latest suggestion with its explanation, to read before approving or overriding it."""
    return _explained(session, limits.explained_suggestion(session, actor, customer_id=customer_id))


@blp.route("/credit/limit-suggestion-runs/<int:run_id>", methods=["GET"])
@blp.response(200, s.SuggestionRunOut)
@blp.refuses(RoleNotAllowed, NotFound)
@transaction
def get_suggestion_run(session: Session, actor: Actor, run_id: int) -> Any:
    """One run of the limit model: key date, parameters used, customers, holds, time taken."""
    return limits.get_run(session, actor, run_id)


# --- credit data and disputes ------------------------------------------------------------------------

def _credit_data(data: dict[str, Any]) -> profiles.CreditData:
    return profiles.CreditData(**{k: v for k, v in data.items() if k not in ("reason", "valid_from")})


@blp.route("/credit/customers/<int:customer_id>/credit-data", methods=["POST"])
@blp.arguments(s.CreditDataIn)
@blp.response(201, s.CreditDataOut)
@blp.refuses(RoleNotAllowed, NotFound)
@transaction
def post_credit_data(session: Session, actor: Actor, data: dict[str, Any], customer_id: int) -> Any:
    """Record a new version of the customer's credit data (statements, rating, type, collateral), with a reason."""
    return profiles.record_credit_data(session, actor, customer_id, _credit_data(data),
                                       reason=data["reason"], valid_from=data["valid_from"] or business_today())


@blp.route("/credit/customers/<int:customer_id>/credit-data", methods=["GET"])
@blp.arguments(s.CreditDataQuery, location="query")
@blp.response(200, s.CreditDataOut)
@blp.refuses(RoleNotAllowed, NotFound)
@transaction
def get_credit_data(session: Session, actor: Actor, query: dict[str, Any], customer_id: int) -> Any:
    """The customer's credit data in force on a day (default today)."""
    return profiles.credit_data_in_force(session, actor, customer_id, query["on"] or business_today())


@blp.route("/credit/customers/<int:customer_id>/credit-data/versions", methods=["GET"])
@blp.response(200, s.CreditDataOut(many=True))
@blp.refuses(RoleNotAllowed, NotFound)
@transaction
def get_credit_data_versions(session: Session, actor: Actor, customer_id: int) -> list[Any]:
    """Every version of the customer's credit data, newest first (who, when, why)."""
    return profiles.credit_data_history(session, actor, customer_id)


@blp.route("/credit/disputes", methods=["POST"])
@blp.arguments(s.DisputeIn)
@blp.response(201, s.DisputeOut)
@blp.refuses(RoleNotAllowed, NotFound, DisputeNotApplicable)
@transaction
def post_dispute(session: Session, actor: Actor, data: dict[str, Any]) -> Any:
    """Record that the customer disputes (part of) an invoice."""
    return profiles.open_dispute(session, actor, **data)


@blp.route("/credit/disputes/<int:dispute_id>/resolution", methods=["POST"])
@blp.arguments(s.DisputeResolutionIn)
@blp.response(200, s.DisputeOut)
@blp.refuses(RoleNotAllowed, NotFound, DisputeResolved)
@transaction
def post_dispute_resolution(session: Session, actor: Actor, data: dict[str, Any], dispute_id: int) -> Any:
    """Close a dispute with its outcome."""
    return profiles.resolve_dispute(session, actor, dispute_id, **data)


@blp.route("/credit/disputes", methods=["GET"])
@blp.arguments(s.DisputeQuery, location="query")
@blp.response(200, s.DisputeOut(many=True))
@blp.paginate()
@blp.refuses(RoleNotAllowed)
def get_disputes(query: dict[str, Any], pagination_parameters: PaginationParameters) -> list[Any]:
    """Invoice disputes of the caller's companies, newest first."""
    return paged(pagination_parameters, profiles.list_disputes, customer_id=query.get("customer_id"),
                 open_only=query["open"])


# --- the model's parameters ------------------------------------------------------------------------

@dataclass
class ModelVersionView:
    """A stored version with its parameters, or (record None) the defaults not yet stored."""

    record: Any
    parameters: ModelParameters

    def __getattr__(self, name: str) -> Any:
        if name in ("id", "version", "valid_from", "reason", "created_by", "created_at"):
            return None if self.record is None else getattr(self.record, name)
        raise AttributeError(name)


def _parameters(data: dict[str, Any]) -> ModelParameters:
    return ModelParameters(
        factors=tuple(ScoreFactor(Factor(f["factor"]), f["weight"], f["no_data_points"],
                                  tuple(Band(b["lower"], b["points"]) for b in f["bands"]), dict(f["categories"]))
                      for f in data["factors"]),
        risk_classes=tuple(RiskClass(c["code"], c["min_score"]) for c in data["risk_classes"]),
        rules=tuple(LimitRule(r["risk_class"], r["customer_type"] and CustomerType(r["customer_type"]),
                              r["net_worth_share"], r["turnover_share"], r["sales_months"], r["starting_limit"],
                              r["max_limit"]) for r in data["rules"]),
        **{name: data[name] for name in ("agency_grade_a_from", "agency_grade_b_from", "agency_grade_c_from",
                                         "stale_after_months", "stale_statement_penalty", "stale_rating_penalty",
                                         "hold_overdue_days", "limit_step")},
    )


@blp.route("/credit/model", methods=["GET"])
@blp.arguments(s.ModelQuery, location="query")
@blp.response(200, s.ModelVersionOut)
@blp.refuses(RoleNotAllowed, NotFound)
@transaction
def get_model(session: Session, actor: Actor, query: dict[str, Any]) -> ModelVersionView:
    """The limit model's parameters in force on a day (default today): scorecard, risk classes, limit rules."""
    return ModelVersionView(*parameters.get_version(session, actor, None, query["on"] or business_today()))


@blp.route("/credit/model/versions", methods=["GET"])
@blp.response(200, s.ModelVersionHeaderOut(many=True))
@blp.refuses(RoleNotAllowed)
@transaction
def get_model_versions(session: Session, actor: Actor) -> list[Any]:
    """Every version of the model's parameters, newest first (who, when, why, from when)."""
    return parameters.list_versions(session, actor)


@blp.route("/credit/model/versions/<int:version_id>", methods=["GET"])
@blp.response(200, s.ModelVersionOut)
@blp.refuses(RoleNotAllowed, NotFound)
@transaction
def get_model_version(session: Session, actor: Actor, version_id: int) -> ModelVersionView:
    """One version of the model's parameters."""
    return ModelVersionView(*parameters.get_version(session, actor, version_id, business_today()))


@blp.route("/credit/model/versions", methods=["POST"])
@blp.arguments(s.ModelVersionIn)
@blp.response(201, s.ModelVersionOut)
@blp.refuses(RoleNotAllowed, CreditModelParametersInvalid)
@transaction
def post_model_version(session: Session, actor: Actor, data: dict[str, Any]) -> ModelVersionView:
    """Store a new version of the model's parameters (complete and consistent), with a reason."""
    stored = parameters.store_parameters(session, actor, _parameters(data), reason=data["reason"],
                                         valid_from=data["valid_from"] or business_today())
    return ModelVersionView(stored, parameters.load_parameters(session, stored))


@blp.route("/credit/blocked-orders", methods=["GET"])
@blp.response(200, s.HeldOrderOut(many=True))
@blp.paginate()
@blp.refuses(RoleNotAllowed)
def get_blocked_orders(pagination_parameters: PaginationParameters) -> list[Any]:
    """Orders held by credit control (blocked at confirmation, or unable to ship), oldest first."""
    return paged(pagination_parameters, receivables.held_orders, policy=_policy())


@blp.route("/credit/blocked-orders/<int:order_id>/release", methods=["POST"])
@blp.arguments(s.ReleaseIn)
@blp.response(201, s.ReleaseOut)
@blp.refuses(RoleNotAllowed, NotFound, CustomerOnCreditHold, OrderNotBlocked, OrderStatusConflict,
             IntercompanyOrderInvalid, IntercompanyPurchaseOrderNotOpen)
@transaction
def post_release(session: Session, actor: Actor, data: dict[str, Any], order_id: int) -> Any:
    """Release an order held by credit control, with a reason (credit controllers)."""
    return services.release_order(session, actor, order_id, policy=_policy(), **data)


@blp.route("/credit/backtest", methods=["GET"])
@blp.arguments(s.BacktestQuery, location="query")
@blp.response(200, s.BacktestOut)
@blp.refuses(RoleNotAllowed, NotFound)
@reporting
@transaction
def get_backtest(session: Session, actor: Actor, query: dict[str, Any]) -> Any:
    """The limit model replayed at each month end of a range: what it restricted, which customers went
    more than 90 days past due afterwards and what its decisions would have kept out (CIO, credit control)."""
    return backtest.run_backtest(session, actor, policy=_policy(), today=business_today(), **query)


# --- consolidated receivables ------------------------------------------------------------------------

@blp.route("/credit/receivables/customers", methods=["GET"])
@blp.arguments(s.CustomerReceivablesQuery, location="query")
@blp.response(200, s.CustomerReceivablesOut(many=True))
@blp.paginate()
@blp.refuses(RoleNotAllowed)
@reporting
def get_customer_receivables(query: dict[str, Any], pagination_parameters: PaginationParameters) -> list[Any]:
    """Receivables per customer: open, overdue, ageing buckets, limit and utilisation."""
    return paged(pagination_parameters, receivables.receivables_by_customer, as_of=_as_of(query),
                 policy=_policy(), **query)


@blp.route("/credit/receivables/companies", methods=["GET"])
@blp.arguments(s.AsOfQuery, location="query")
@blp.response(200, s.CompanyReceivablesOut(many=True))
@blp.refuses(RoleNotAllowed)
@reporting
@transaction
def get_company_receivables(session: Session, actor: Actor, query: dict[str, Any]) -> list[Any]:
    """Receivables per company: open, overdue and ageing buckets."""
    return receivables.receivables_by_company(session, actor, as_of=_as_of(query))


@blp.route("/credit/receivables/segments", methods=["GET"])
@blp.arguments(s.AsOfQuery, location="query")
@blp.response(200, s.SegmentReceivablesOut(many=True))
@blp.refuses(RoleNotAllowed)
@reporting
@transaction
def get_segment_receivables(session: Session, actor: Actor, query: dict[str, Any]) -> list[Any]:
    """Receivables per segment: open, overdue and ageing buckets."""
    return receivables.receivables_by_segment(session, actor, as_of=_as_of(query))


@blp.route("/credit/dashboard", methods=["GET"])
@blp.arguments(s.DashboardQuery, location="query")
@blp.response(200, s.DashboardOut)
@blp.refuses(RoleNotAllowed)
@reporting
@transaction
def get_dashboard(session: Session, actor: Actor, query: dict[str, Any]) -> receivables.Dashboard:
    """The CIO's consolidated receivables: totals, segments, companies, top customers, alerts."""
    return receivables.dashboard(session, actor, as_of=_as_of(query), policy=_policy(),
                                 top=query["top"])


@blp.route("/credit/alerts", methods=["GET"])
@blp.arguments(s.DashboardQuery, location="query")
@blp.response(200, s.AlertsOut)
@blp.refuses(RoleNotAllowed)
@reporting
@transaction
def get_alerts(session: Session, actor: Actor, query: dict[str, Any]) -> receivables.Alerts:
    """Customers over their limit or more than 90 days overdue, holds and held orders."""
    return receivables.alerts(session, actor, as_of=_as_of(query), policy=_policy(), top=query["top"])
