"""Refusals of the costing module."""

from __future__ import annotations

from erp.messages import N_
from erp.errors import Conflict, DomainError


class PeriodClosed(Conflict):
    slug = "period-closed"
    title = N_("The accounting period is closed")


class NoStandardPrice(DomainError):
    status = 422
    slug = "no-standard-price"
    title = N_("No standard price for the material in this period")


class UnbalancedEntry(AssertionError):
    """A bug, not a user error: a posting whose lines do not sum to zero must never be written."""
