"""Refusals of the payables module (each a stable problem type)."""

from __future__ import annotations

from erp.errors import Conflict, DomainError, Forbidden
from erp.messages import N_


class TotalsDisagree(DomainError):
    """The header totals as printed do not agree with the lines."""

    status = 422
    slug = "invoice-totals-disagree"
    title = N_("The invoice's totals do not agree with its lines")


class OverInvoiced(DomainError):
    """More would be invoiced on an order line than can ever be received on it."""

    status = 409
    slug = "over-invoiced"
    title = N_("More invoiced than the order line can receive")


class OverCredited(DomainError):
    """A credit memo would credit more than was invoiced (or returned)."""

    status = 409
    slug = "over-credited"
    title = N_("More credited than was invoiced")


class LineNotOfInvoice(DomainError):
    """The order line does not belong to the invoice's supplier and company."""

    status = 422
    slug = "order-line-not-of-invoice"
    title = N_("The order line is not the invoice's supplier's or company's")


class DuplicateInvoice(Conflict):
    slug = "duplicate-invoice"
    title = N_("This supplier's invoice is already entered")


class InvoiceBlocked(Conflict):
    slug = "invoice-blocked"
    title = N_("The invoice is blocked for payment")


class NotBlocked(Conflict):
    slug = "invoice-not-blocked"
    title = N_("The invoice is not blocked")


class ReleaseByEnterer(Forbidden):
    slug = "release-by-enterer"
    title = N_("The person who entered an invoice cannot release it")


class PaymentExceedsOpenItems(DomainError):
    status = 422
    slug = "payment-exceeds-open-items"
    title = N_("The payment is more than the open payables")
