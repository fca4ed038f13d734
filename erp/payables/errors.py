"""Refusals of the payables module (each a stable problem type)."""

from __future__ import annotations

from erp.errors import Conflict, DomainError, Forbidden
from erp.messages import N_
from erp.unique import unique_refusal


class InvoiceTotalsDisagree(DomainError):
    """The header totals as printed do not agree with the lines."""

    status = 422
    slug = "invoice-totals-disagree"
    title = N_("The invoice's totals do not agree with its lines")
    remedy = N_("Correct the header totals or the lines so that they agree with the printed invoice.")


class OverInvoiced(DomainError):
    """More would be invoiced on an order line than can ever be received on it."""

    status = 409
    slug = "over-invoiced"
    title = N_("More invoiced than the order line can receive")
    remedy = N_("Invoice at most what the order line can still receive; ask the supplier for a corrected invoice.")


class OverCredited(DomainError):
    """A credit memo would credit more than was invoiced (or returned)."""

    status = 409
    slug = "over-credited"
    title = N_("More credited than was invoiced")
    remedy = N_("Credit at most what was invoiced (or returned) on the line.")


class OrderLineNotOfInvoice(DomainError):
    """The order line does not belong to the invoice's supplier and company."""

    status = 422
    slug = "order-line-not-of-invoice"
    title = N_("The order line is not the invoice's supplier's or company's")
    remedy = N_("Choose order lines of the invoice's supplier and company.")


class DuplicateInvoice(Conflict):
    """A supplier's invoice number is entered once per company."""

    slug = "duplicate-invoice"
    title = N_("This supplier's invoice is already entered")
    remedy = N_("Open the invoice already entered instead of entering it again.")


class InvoiceBlocked(Conflict):
    """An invoice blocked by the three-way match is not paid until it is released."""

    slug = "invoice-blocked"
    title = N_("The invoice is blocked for payment")
    remedy = N_("Ask an accountant to release the invoice (with a reason), or wait for the missing receipt.")


class InvoiceNotBlocked(Conflict):
    """Only a blocked invoice can be released."""

    slug = "invoice-not-blocked"
    title = N_("The invoice is not blocked")
    remedy = N_("Nothing to release: the invoice is not blocked.")


class ReleaseByEnterer(Forbidden):
    """Four eyes: whoever entered an invoice does not release it for payment."""

    slug = "release-by-enterer"
    title = N_("The person who entered an invoice cannot release it")
    remedy = N_("Ask another accountant to release it.")


class InvoiceReversed(Conflict):
    """A reversed invoice or credit memo is cancelled: it is reversed once, and never paid,
    released or credited afterwards."""

    slug = "invoice-reversed"
    title = N_("The invoice has been reversed")
    remedy = N_("Nothing to do with it: enter the corrected invoice instead.")


class InvoiceSettled(Conflict):
    """An invoice is reversed only while nothing settled it: no payment, no credit memo
    applied to it or crediting its quantities."""

    slug = "invoice-settled"
    title = N_("The invoice has been paid or credited")
    remedy = N_("Reverse what settled it first (the payment, or the credit memo), then reverse the invoice.")


class PaymentReversed(Conflict):
    """A reversed supplier payment is cancelled: it is reversed once."""

    slug = "payment-reversed"
    title = N_("The payment has been reversed")
    remedy = N_("Nothing to do with it: the invoices it paid are open again; pay them anew if they are due.")


class DatedBeforeReopening(DomainError):
    """A payment, a credit memo or a reversal dated before the reversal that made it
    possible: before a payment's or credit memo's reversal gave an invoice back its open
    amount (or freed its quantities), that payment or memo still settled it, and a document
    dated earlier would settle or cancel it twice on the days between (the AP ageing and
    2202 would show the invoice negative)."""

    status = 422
    slug = "dated-before-reopening"
    title = N_("Dated before the reversal that made it possible")
    remedy = N_("Date it on or after the reversal date the detail names: until then the reversed document "
                "still settled the invoice.")


class CreditMemoUnlikeInvoice(DomainError):
    """A credit memo reducing an invoice is of the invoice's kind and taxes each order line at
    the code the invoice taxed it: a red-letter invoice (红字发票) reverses what the blue one
    posted. An ordinary memo against a special VAT invoice would fold the input VAT it must
    take back into stock and variance; another rate would take back the wrong VAT; another
    unit price (a price reduction typed as quantity x reduction) would take the whole quantity
    off GR/IR and the invoiced quantity for a fraction of its amount."""

    status = 422
    slug = "credit-memo-unlike-invoice"
    title = N_("The credit memo is not of the kind, tax code or unit price of the invoice it credits")
    remedy = N_("Enter the credit memo with the invoice kind and, line by line, the tax code and unit price of the "
                "invoice it credits, as the detail names them: a credit memo credits quantities.")


class PaymentExceedsOpenItems(DomainError):
    """A payment pays at most the open payables it is applied to."""

    status = 422
    slug = "payment-exceeds-open-items"
    title = N_("The payment is more than the open payables")
    remedy = N_("Pay at most the open amount the detail gives.")


unique_refusal("uq_supplier_invoices_supplier_id_document_kind_number", DuplicateInvoice,
               N_("the supplier's invoice {value} is already entered"))
