"""The companies of the group as partners: the customer and supplier records that stand for
them (``companies.customer_id`` / ``companies.supplier_id``), which sales (an intercompany
order fills the buyer's purchase order line, erp.credit.services) and the consolidated
receivables (invoices to group customers left out) tell apart. The eliminations of the
group's figures are erp.consolidation's (docs/intercompany.md)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from erp.masterdata.models import Company


def group_customer_ids() -> Any:
    """The customer records that stand for companies of the group (a subquery)."""
    return select(Company.customer_id).where(Company.customer_id.is_not(None))


def group_supplier_ids() -> Any:
    """The supplier records that stand for companies of the group (a subquery)."""
    return select(Company.supplier_id).where(Company.supplier_id.is_not(None))
