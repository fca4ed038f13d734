"""Roles and the actor: who is calling, and which companies and warehouses they act for.

Pure code (no Flask, no database): services receive an ``Actor`` and ask it questions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, false, true

from erp.messages import Message, Term
from erp.auth.errors import CompanyOutOfScope, RoleNotAllowed
from erp.errors import NotFound


class Role(StrEnum):
    STEWARD = "steward"
    GROUP_BUYER = "group_buyer"
    BUYER = "buyer"
    PURCHASING_MANAGER = "purchasing_manager"
    CLERK = "clerk"
    QUALITY = "quality"
    COST_ACCOUNTANT = "cost_accountant"
    SALES = "sales"
    CREDIT_CONTROLLER = "credit_controller"
    CIO = "cio"
    ADMIN = "admin"
    # Reads the audit trail (QA, internal audit, an inspector's session); changes nothing.
    AUDITOR = "auditor"
    # Enters supplier invoices and credit memos, pays suppliers (应付会计), per company.
    ACCOUNTS_PAYABLE = "accounts_payable"


# These roles always act for the whole group.
GROUP_ROLES = frozenset(
    {Role.STEWARD, Role.GROUP_BUYER, Role.CREDIT_CONTROLLER, Role.CIO, Role.ADMIN, Role.AUDITOR}
)
# These roles act for one or more companies, or for the whole group when the user is
# flagged group-wide (a group cost accountant, central purchasing's manager, group QA).
COMPANY_OR_GROUP_ROLES = frozenset({Role.COST_ACCOUNTANT, Role.PURCHASING_MANAGER, Role.QUALITY})
# These roles act only for named companies (clerks also for named warehouses).
COMPANY_ROLES = frozenset({Role.BUYER, Role.CLERK, Role.SALES, Role.ACCOUNTS_PAYABLE})
# Read-only roles may call GET and nothing else.
READ_ONLY_ROLES = frozenset({Role.CIO, Role.AUDITOR})
# Roles that maintain the group master data.
MASTER_DATA_ROLES = frozenset({Role.STEWARD, Role.ADMIN})


@dataclass(frozen=True)
class Actor:
    """The authenticated caller as services see it."""

    user_id: int
    username: str
    role: Role
    group_wide: bool
    company_ids: frozenset[int] = field(default_factory=frozenset)
    warehouse_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def read_only(self) -> bool:
        return self.role in READ_ONLY_ROLES

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles

    def require_role(self, *roles: Role, action: str | Message) -> None:
        """Refuse with 403 unless the caller has one of ``roles``. ``action`` (what the caller
        was doing) is a message id: scripts/i18n.py extracts the literal ones."""
        if self.role not in roles:
            raise RoleNotAllowed(Message("{action} requires one of the roles: {allowed}; you are {role}",
                                         action=action if isinstance(action, Message) else Term(action),
                                         allowed=sorted(roles, key=lambda r: r.value),
                                         role=self.role))

    def acts_for_company(self, company_id: int) -> bool:
        return self.group_wide or company_id in self.company_ids

    def acts_for_warehouse(self, warehouse_id: int, company_id: int) -> bool:
        """Clerks act for their named warehouses; everyone else for their companies' ones."""
        if self.role == Role.CLERK:
            return warehouse_id in self.warehouse_ids
        return self.acts_for_company(company_id)

    def require_company(self, company_id: int, *, what: str = "company") -> None:
        """Refuse with 403 when the caller does not act for ``company_id``."""
        if not self.acts_for_company(company_id):
            raise CompanyOutOfScope(Message("you do not act for this {what} (company id {company})",
                                            what=Term(what), company=company_id))

    def company_scope(self, column: Any) -> ColumnElement[bool]:
        """A WHERE clause restricting ``column`` (a company id) to the caller's companies."""
        if self.group_wide:
            return true()
        if not self.company_ids:
            return false()
        return column.in_(sorted(self.company_ids))

    def warehouse_scope(self, warehouse_column: Any, company_column: Any) -> ColumnElement[bool]:
        """A WHERE clause restricting rows to the warehouses the caller acts for."""
        if self.role == Role.CLERK:
            if not self.warehouse_ids:
                return false()
            return warehouse_column.in_(sorted(self.warehouse_ids))
        return self.company_scope(company_column)


def visible_or_404(actor: Actor, company_id: int, what: str, key: Any) -> None:
    """Hide records of companies the caller does not act for: they get 404, not 403."""
    if not actor.acts_for_company(company_id):
        raise NotFound(Message("{what} {key} not found", what=Term(what), key=key))


def role_scope_is_consistent(role: Role, group_wide: bool, companies: Iterable[int]) -> Message | None:
    """Why a role/scope combination is invalid, or None when it is fine."""
    companies = list(companies)
    if role in GROUP_ROLES and not group_wide:
        return Message("role {role} always acts for the whole group", role=role)
    if role in COMPANY_ROLES and group_wide:
        return Message("role {role} acts for named companies only", role=role)
    if not group_wide and not companies:
        return Message("role {role} needs at least one company", role=role)
    return None
