"""Refusals of the posting module: rules every posting obeys, whoever posts it."""

from __future__ import annotations

from erp.errors import Conflict, DomainError
from erp.messages import N_


class PeriodClosed(Conflict):
    """Postings go into open periods only: once a company's month-end close has locked a
    period (or locks it before the posting commits), nothing is posted into it or before it.
    Corrections of a closed month are posted in the open month."""

    slug = "period-closed"
    title = N_("The accounting period is closed")
    remedy = N_("Date the posting in the open period, or ask a group cost accountant to reopen the period.")


class NoStandardPrice(DomainError):
    """Stock is valued at standard cost: a material moves in a company only once a
    standard price is in force for it there (set for the period or an earlier one)."""

    status = 422
    slug = "no-standard-price"
    title = N_("No standard price for the material in this period")
    remedy = N_("Ask the company's cost accountant to set the material's standard price for the period.")


class UnbalancedEntry(AssertionError):
    """A bug, not a user error: a posting whose lines do not sum to zero, or are not
    rounded to the cent, must never be written."""
