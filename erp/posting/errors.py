"""Refusals of the posting module: rules every posting obeys, whoever posts it."""

from __future__ import annotations

from erp.errors import Conflict, DomainError
from erp.messages import N_


class PeriodClosed(Conflict):
    """The posting's accounting period is closed (or closes before the posting commits)."""

    slug = "period-closed"
    title = N_("The accounting period is closed")


class NoStandardPrice(DomainError):
    """Stock cannot be valued: no standard price is in force for the material."""

    status = 422
    slug = "no-standard-price"
    title = N_("No standard price for the material in this period")


class UnbalancedEntry(AssertionError):
    """A bug, not a user error: a posting whose lines do not sum to zero, or are not
    rounded to the cent, must never be written."""
