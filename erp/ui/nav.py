"""The left navigation: work grouped as 系统管理 / 采购 / 仓储 / 质量 / 成本 / 信用 / 报表 / 主数据 / 审计, each entry
shown only to the roles that may use it.

Modules add their pages with ``add``; the layout shows the groups that have an entry the
signed-in role may use. A role's landing page is its first entry (its daily work).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from erp.auth.roles import Role
from erp.messages import N_


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: str
    roles: frozenset[Role]
    # An entry can be the landing page of some of its roles.
    landing_for: frozenset[Role] = frozenset()
    # Group figures (consolidation, the group close): a company-scoped user of the role is
    # refused the page, so the entry is not offered to them.
    group_wide_only: bool = False


@dataclass
class NavGroup:
    key: str
    label: str
    icon: str
    items: list[NavItem] = field(default_factory=list)


GROUPS: dict[str, NavGroup] = {
    group.key: group
    for group in (
        NavGroup("admin", N_("Administration"), "gear"),
        NavGroup("purchasing", N_("Purchasing"), "cart"),
        NavGroup("warehouse", N_("Warehousing"), "box"),
        NavGroup("quality", N_("Quality"), "shield"),
        NavGroup("production", N_("Production"), "box"),
        NavGroup("costing", N_("Costing"), "calc"),
        NavGroup("credit", N_("Credit"), "card"),
        NavGroup("payables", N_("Payables"), "calc"),
        NavGroup("reports", N_("Reports"), "chart"),
        NavGroup("masterdata", N_("Master data"), "db"),
        NavGroup("audit", N_("Audit"), "shield"),
    )
}


def add(group: str, endpoint: str, label: str, roles: set[Role], *, landing_for: set[Role] | None = None,
        group_wide_only: bool = False) -> None:
    """Add a page to the navigation (idempotent: registering twice keeps one entry).
    ``group_wide_only``: offered only to users of ``roles`` with a group-wide scope."""
    items = GROUPS[group].items
    if any(item.endpoint == endpoint for item in items):
        return
    items.append(NavItem(endpoint, label, frozenset(roles), frozenset(landing_for or ()), group_wide_only))


def menu_for(role: Role, group_wide: bool) -> list[tuple[NavGroup, list[NavItem]]]:
    """The groups and entries a user of ``role`` (group-wide or not) sees, in order; groups
    without entries are left out."""
    menu = []
    for group in GROUPS.values():
        items = [item for item in group.items if role in item.roles and (group_wide or not item.group_wide_only)]
        if items:
            menu.append((group, items))
    return menu


def offers(actor: Any, endpoint: str) -> bool:
    """Whether the navigation offers ``endpoint`` to ``actor`` (an ``Actor``): a page may link
    to another module's page only when its reader may open it."""
    return any(item.endpoint == endpoint for _, items in menu_for(actor.role, actor.group_wide) for item in items)


def landing_endpoint(role: Role, group_wide: bool) -> str | None:
    """The page a user starts on: the entry marked as its role's landing page, else its first entry."""
    entries = [item for _, items in menu_for(role, group_wide) for item in items]
    for item in entries:
        if role in item.landing_for:
            return item.endpoint
    return entries[0].endpoint if entries else None
