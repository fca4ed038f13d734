"""Refusals of the costing module.

The period and price refusals every posting can meet are the posting module's
(``erp.posting.errors``); they are re-exported here for the costing use cases that raise
them too.
"""

from __future__ import annotations

from erp.posting.errors import NoStandardPrice, PeriodClosed, UnbalancedEntry  # noqa: F401 - re-exported
