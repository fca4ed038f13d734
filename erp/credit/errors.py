"""Refusals of sales, receivables and credit control: each names the rule that was broken.

Credit refusals are conflicts with the current state (409): the same request may pass
later, once the customer has paid, the limit has changed or a controller has released
the order.
"""

from __future__ import annotations

from erp.messages import N_
from erp.errors import Conflict, DomainError


class CreditLimitExceeded(Conflict):
    slug = "credit-limit-exceeded"
    title = N_("The customer's group-wide exposure would exceed its credit limit")


class CustomerOnCreditHold(Conflict):
    slug = "customer-on-credit-hold"
    title = N_("The customer is on credit hold")


class OrderStatusConflict(Conflict):
    slug = "order-status-conflict"
    title = N_("The sales order's status does not allow this")


class OrderNotBlocked(Conflict):
    slug = "order-not-blocked"
    title = N_("The sales order is not blocked by credit control")


class OverShipment(Conflict):
    slug = "over-shipment"
    title = N_("The shipment exceeds the quantity still to ship")


class NoUnappliedCredit(Conflict):
    slug = "no-unapplied-credit"
    title = N_("The payment has no unapplied credit left")


class NoOpenInvoices(Conflict):
    slug = "no-open-invoices"
    title = N_("The customer has no open invoice to apply the credit to")


class InvoiceNotApplicable(DomainError):
    status = 422
    slug = "invoice-not-applicable"
    title = N_("The invoice cannot take this payment")


class CustomerNotUsable(DomainError):
    status = 422
    slug = "customer-inactive"
    title = N_("The customer is inactive")


class MaterialNotSellable(DomainError):
    status = 422
    slug = "material-inactive"
    title = N_("The material is inactive")


class SuggestionNotExplainable(Conflict):
    slug = "suggestion-not-explainable"
    title = N_("The suggestion comes from the earlier model, which kept no explanation")


class ModelParametersInvalid(DomainError):
    status = 422
    slug = "credit-model-parameters-invalid"
    title = N_("The credit model's parameters are not usable")


class DisputeNotApplicable(DomainError):
    status = 422
    slug = "dispute-not-applicable"
    title = N_("The invoice cannot be disputed this way")


class DisputeResolved(Conflict):
    slug = "dispute-resolved"
    title = N_("The dispute is resolved already")


class NotAShipment(DomainError):
    status = 422
    slug = "not-a-shipment"
    title = N_("The document is not a shipment to a customer")


class CreditNoteNotApplicable(DomainError):
    status = 422
    slug = "credit-note-not-applicable"
    title = N_("The credit note cannot be applied to this invoice")


class IntercompanyOrderInvalid(DomainError):
    status = 422
    slug = "intercompany-order-invalid"
    title = N_("The intercompany order does not match the buying company's purchase order")
