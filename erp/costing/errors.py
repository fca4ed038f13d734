"""Refusals of the costing module: standard prices, the month-end close and reopening.

The period and price refusals every posting can meet are the posting module's
(``erp.posting.errors``); they are re-exported here for the costing use cases that raise
them too.
"""

from __future__ import annotations

from erp.errors import Conflict, Forbidden
from erp.messages import N_
from erp.posting.errors import NoStandardPrice, PeriodClosed, UnbalancedEntry  # noqa: F401 - re-exported


class StandardPriceInUse(Conflict):
    """A standard price cannot change for a period whose postings already valued the
    material at it: the books of that period would no longer agree with their own
    postings. A new price takes effect from the period after the last one used."""

    slug = "standard-price-in-use"
    title = N_("The standard price is already used by postings")
    remedy = N_("Set the new price for the period the detail names (the one after the last posting).")


class EarlierPeriodOpen(Conflict):
    """Periods close in order: a company's period closes only after every earlier one, and
    the first period after its last closed one is the only one that can close next."""

    slug = "earlier-period-open"
    title = N_("An earlier period is still open")
    remedy = N_("Close the period the detail names first.")


class PeriodAlreadyClosed(Conflict):
    """A close is previewed only for an open period: a closed one's allocation is already
    posted and shown in its report."""

    slug = "period-already-closed"
    title = N_("The period is already closed")
    remedy = N_("Open the period's variance allocation report instead.")


class PeriodNotEnded(Conflict):
    """A period closes only after its last day (in the group's time zone, Asia/Shanghai):
    until then postings into it are still to come."""

    slug = "period-not-ended"
    title = N_("The period has not ended")
    remedy = N_("Close the period from the day the detail gives on.")


class PeriodNotClosed(Conflict):
    """Only a closed period can be reopened."""

    slug = "period-not-closed"
    title = N_("The period is not closed")
    remedy = N_("Nothing to reopen: the period already takes postings.")


class LaterPeriodClosed(Conflict):
    """Periods reopen in reverse order: the latest closed period first, so that no closed
    period rests on an open one."""

    slug = "later-period-closed"
    title = N_("A later period is closed")
    remedy = N_("Reopen the later period the detail names first.")


class GroupCostAccountantOnly(Forbidden):
    """Reopening a closed period changes books the group has reported on: only a group-wide
    cost accountant may do it, with a reason."""

    slug = "group-cost-accountant-only"
    title = N_("Only a group cost accountant may do this")
    remedy = N_("Ask a group cost accountant to reopen the period.")
