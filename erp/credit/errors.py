"""Refusals of sales, receivables and credit control: each names the rule that was broken.

Credit refusals are conflicts with the current state (409): the same request may pass
later, once the customer has paid, the limit has changed or a controller has released
the order.
"""

from __future__ import annotations

from erp.errors import ConcurrentUpdate, Conflict, DomainError
from erp.masterdata.errors import CustomerInactive, MaterialInactive  # noqa: F401 - raised by sales too
from erp.messages import N_
from erp.unique import unique_refusal


class CreditLimitExceeded(Conflict):
    """A customer's exposure is group-wide (open invoices plus open orders in every company);
    confirming or shipping an order that takes it beyond the customer's credit limit is
    blocked until a credit controller releases it."""

    slug = "credit-limit-exceeded"
    title = N_("The customer's group-wide exposure would exceed its credit limit")
    remedy = N_("Ask a credit controller to release the order (with a reason), collect payment first, or reduce the order.")


class CustomerOnCreditHold(Conflict):
    """A customer on credit hold takes no new confirmations or shipments until the hold is lifted."""

    slug = "customer-on-credit-hold"
    title = N_("The customer is on credit hold")
    remedy = N_("Ask a credit controller about the hold.")


class OrderStatusConflict(Conflict):
    """A sales order changes, confirms, ships or cancels only in the statuses that allow it
    (drafts and blocked orders confirm; confirmed orders ship)."""

    slug = "order-status-conflict"
    title = N_("The sales order's status does not allow this")
    remedy = N_("Reload the order and do what its current status allows.")


class OrderNotBlocked(Conflict):
    """Only an order that credit control blocked can be released."""

    slug = "order-not-blocked"
    title = N_("The sales order is not blocked by credit control")
    remedy = N_("Nothing to release: the order is not held by credit control.")


class OverShipment(Conflict):
    """A line ships at most the quantity still open on it."""

    slug = "over-shipment"
    title = N_("The shipment exceeds the quantity still to ship")
    remedy = N_("Ship at most the open quantity the detail gives.")


class NoUnappliedCredit(Conflict):
    """A payment's credit is applied to invoices once."""

    slug = "no-unapplied-credit"
    title = N_("The payment has no unapplied credit left")
    remedy = N_("Nothing to apply: the payment is fully applied.")


class CustomerPaymentReversed(Conflict):
    """A reversed customer payment is cancelled: it is reversed once and applies nothing more."""

    slug = "customer-payment-reversed"
    title = N_("The customer payment has been reversed")
    remedy = N_("Nothing to do with it: the invoices it settled are open again; record the money anew when it "
                "arrives.")


class NoOpenInvoices(Conflict):
    """Unapplied credit goes to open invoices of the same customer in the same company."""

    slug = "no-open-invoices"
    title = N_("The customer has no open invoice to apply the credit to")
    remedy = N_("Keep the credit unapplied until an invoice is raised, or refund it.")


class InvoiceNotApplicable(DomainError):
    """A payment applies to an open invoice of the same customer and company, for at most
    what the invoice still owes."""

    status = 422
    slug = "invoice-not-applicable"
    title = N_("The invoice cannot take this payment")
    remedy = N_("Choose an open invoice of the payment's customer and company, for at most its open amount.")


class SuggestionNotExplainable(Conflict):
    """A suggested limit is explained from the model that computed it; suggestions from the
    earlier model kept no explanation."""

    slug = "suggestion-not-explainable"
    title = N_("The suggestion comes from the earlier model, which kept no explanation")
    remedy = N_("Recompute the suggestion with the current model.")


class CreditModelParametersInvalid(DomainError):
    """A credit model's parameters must make a usable scorecard (weights, bands and limits
    consistent)."""

    status = 422
    slug = "credit-model-parameters-invalid"
    title = N_("The credit model's parameters are not usable")
    remedy = N_("Correct the parameters the detail lists.")


class DisputeNotApplicable(DomainError):
    """A dispute concerns at most an invoice's amount, opened on or after the invoice's date."""

    status = 422
    slug = "dispute-not-applicable"
    title = N_("The invoice cannot be disputed this way")
    remedy = N_("Correct the disputed amount or the date.")


class DisputeResolved(Conflict):
    """A dispute is resolved once."""

    slug = "dispute-resolved"
    title = N_("The dispute is resolved already")
    remedy = N_("Nothing to do: the dispute is resolved.")


class NotAShipment(DomainError):
    """Customer returns are taken against a shipment to that customer."""

    status = 422
    slug = "not-a-shipment"
    title = N_("The document is not a shipment to a customer")
    remedy = N_("Name the shipment document the goods left with.")


class CreditNoteNotApplicable(DomainError):
    """A credit note settles an open invoice of the same customer and company, for at most
    what the invoice still owes."""

    status = 422
    slug = "credit-note-not-applicable"
    title = N_("The credit note cannot be applied to this invoice")
    remedy = N_("Choose an open invoice of the note's customer and company, for at most its open amount.")


class IntercompanyOrderInvalid(DomainError):
    """An intercompany sales order fills the buying company's purchase order lines, at their
    price: one that does not match them is refused."""

    status = 422
    slug = "intercompany-order-invalid"
    title = N_("The intercompany order does not match the buying company's purchase order")
    remedy = N_("Order what the buying company's purchase order lines hold, at their price.")


class IntercompanyPurchaseOrderNotOpen(Conflict):
    """An intercompany sales order is confirmed and shipped only while the buying company's
    purchase order line it fills is still open for receipt: a cancelled or closed order
    could never receive the goods."""

    slug = "intercompany-purchase-order-not-open"
    title = N_("The buying company's purchase order is no longer open")
    remedy = N_("Cancel the sales order, or ask the buying company for an open purchase order line.")


class ReceivableTakenOver(Conflict):
    """An open invoice of a company's old system is taken over once: its old number is
    unique in the company, so the same receivable never enters the books and the exposure
    twice, whichever file or user brings it."""

    slug = "receivable-taken-over"
    title = N_("The old invoice is already taken over")
    remedy = N_("Leave the invoice out: it is already a receivable of the company. Correct its amount with a "
                "credit or debit note.")


unique_refusal("uq_invoices_company_reference", ReceivableTakenOver,
               N_("old invoice {value} is already taken over for this company"))
# A new limit or profile version written by two users at once: the second retries.
for _index in ("uq_credit_limits_customer_id_version", "uq_customer_credit_profiles_customer_id_version"):
    unique_refusal(_index, ConcurrentUpdate, N_("the customer's credit was changed at the same moment by another "
                                                "user; send the change again"))
