"""Purchasing use cases: contracts, steward exceptions, what may be ordered, purchase orders.

The use cases live in one module each (``contracts``, ``exceptions``, ``orders``); this
module is how the rest of the application calls them. One function per use case; each
takes a session (the caller owns the transaction), the acting user and plain values, and
raises the ``DomainError`` subclasses of ``erp.purchasing.errors``. Nothing here imports
Flask.

Prices enter the system only through contract lines: an order line copies the unit price
of the contract line that applies, and its amount is quantity x price rounded half-up to
0.01 CNY.
"""

from __future__ import annotations

from erp.purchasing.contracts import (
    activate_contract,
    applicable_contract_lines,
    company_lines_outside_rights,
    contract_actions,
    contract_id_for_number,
    create_contract,
    get_contract,
    lines_passed_over,
    list_contracts,
    may_make_contract,
    terminate_contract,
)
from erp.purchasing.exceptions import (
    get_exception,
    grant_exception,
    list_exceptions,
    revocation_reason,
    revocation_reasons,
    revoke_exception,
    user_names,
)
from erp.purchasing.orders import (
    Orderable,
    OrderStanding,
    PricedLine,
    approval_threshold,
    approve_order,
    cancel_order,
    close_order,
    create_purchase_order,
    get_purchase_order,
    list_purchase_orders,
    purchase_orders_total,
    may_be_cancelled,
    may_be_closed,
    move_order,
    next_in_series,
    take_yearly_number,
    yearly_number,
    order_id_for_number,
    order_number,
    order_standing,
    orderable,
    reject_order,
    replace_order_lines,
    submit_order,
)

__all__ = [
    "Orderable",
    "OrderStanding",
    "PricedLine",
    "activate_contract",
    "applicable_contract_lines",
    "company_lines_outside_rights",
    "approval_threshold",
    "approve_order",
    "cancel_order",
    "contract_actions",
    "contract_id_for_number",
    "close_order",
    "create_contract",
    "create_purchase_order",
    "get_contract",
    "get_exception",
    "get_purchase_order",
    "grant_exception",
    "lines_passed_over",
    "list_contracts",
    "list_exceptions",
    "list_purchase_orders",
    "purchase_orders_total",
    "may_be_cancelled",
    "may_be_closed",
    "may_make_contract",
    "move_order",
    "next_in_series",
    "take_yearly_number",
    "yearly_number",
    "order_id_for_number",
    "order_number",
    "order_standing",
    "orderable",
    "reject_order",
    "replace_order_lines",
    "revocation_reason",
    "revocation_reasons",
    "revoke_exception",
    "submit_order",
    "terminate_contract",
    "user_names",
]
