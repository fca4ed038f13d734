"""Refusals of sales, receivables and credit control: each names the rule that was broken.

Credit refusals are conflicts with the current state (409): the same request may pass
later, once the customer has paid, the limit has changed or a controller has released
the order.
"""

from __future__ import annotations

from erp.errors import Conflict, DomainError


class CreditLimitExceeded(Conflict):
    slug = "credit-limit-exceeded"
    title = "The customer's group-wide exposure would exceed its credit limit"


class CustomerOnCreditHold(Conflict):
    slug = "customer-on-credit-hold"
    title = "The customer is on credit hold"


class OrderStatusConflict(Conflict):
    slug = "order-status-conflict"
    title = "The sales order's status does not allow this"


class OrderNotBlocked(Conflict):
    slug = "order-not-blocked"
    title = "The sales order is not blocked by credit control"


class OverShipment(Conflict):
    slug = "over-shipment"
    title = "The shipment exceeds the quantity still to ship"


class NoUnappliedCredit(Conflict):
    slug = "no-unapplied-credit"
    title = "The payment has no unapplied credit left"


class NoOpenInvoices(Conflict):
    slug = "no-open-invoices"
    title = "The customer has no open invoice to apply the credit to"


class InvoiceNotApplicable(DomainError):
    status = 422
    slug = "invoice-not-applicable"
    title = "The invoice cannot take this payment"


class CustomerNotUsable(DomainError):
    status = 422
    slug = "customer-inactive"
    title = "The customer is inactive"


class MaterialNotSellable(DomainError):
    status = 422
    slug = "material-inactive"
    title = "The material is inactive"
