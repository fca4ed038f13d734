"""The authorisation matrix: every operation of the app's URL map x every role (x own and
other company where the operation is scoped by company), with the outcome expected.

Built from ``app.url_map``: a route that is not in ``OPERATIONS`` fails
``test_the_matrix_covers_every_operation``, so a new endpoint cannot escape it.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from erp import create_app
from erp.auth.roles import Role
from erp.config import Settings
from tests.stock import open_order, receive, set_standard
from tests.world import USERS, ApiClient, World, problem

# One user per role (tests/world.py); company roles act for company A.
ROLES = ("admin", "steward", "group_buyer", "buyer_a", "pm_a", "clerk_a", "quality_a", "cost_a", "sales_a",
         "credit", "cio", "auditor", "ap_a")
EVERYONE = frozenset(ROLES)
COSTING_READERS = frozenset({"admin", "cost_a", "cio"})
INTERCOMPANY_READERS = frozenset({"admin", "credit", "cio"})
PAYABLES_READERS = frozenset({"ap_a", "pm_a", "cost_a", "cio", "auditor"})
PUBLIC = frozenset({("auth.token", "POST"), ("api-docs.openapi_json", "GET"),
                    ("api-docs.openapi_swagger_ui", "GET"), ("docs_assets.static", "GET"),
                    # a data logger's own token, not a user's (tests/api/test_quality_api.py)
                    ("quality.post_logger_readings", "POST")})

# Reads whose outcome per role is checked here: who gets 200 (everyone else 403). Query
# parameters name company A's records (``{A}``); with company B's instead, roles scoped to
# company A get 403 or 404 (``OTHER_COMPANY``).
READS: dict[str, tuple[frozenset[str], dict[str, str]]] = {
    "audit.events": (frozenset({"admin", "steward", "cio", "auditor"}), {}),
    "auth.me": (EVERYONE, {}),
    "auth.Users": (frozenset({"admin"}), {}),
    "masterdata.companies_collection": (EVERYONE, {}),
    "masterdata.customers_collection": (EVERYONE, {}),
    "masterdata.materials_collection": (EVERYONE, {}),
    "masterdata.segments_collection": (EVERYONE, {}),
    "masterdata.suppliers_collection": (EVERYONE, {}),
    "masterdata.units_collection": (EVERYONE, {}),
    "masterdata.warehouses_collection": (EVERYONE, {}),
    "masterdata.tax-codes_collection": (EVERYONE, {}),
    "costing.get_valuation": (frozenset({"admin", "cio"}), {}),
    # Costing reports: cost accountants, the CIO and admins (erp/costing/reports.py READERS).
    "costing.get_journal": (COSTING_READERS, {"company_id": "{A}", "period": "2026-11"}),
    "costing.get_trial_balance": (COSTING_READERS, {"company_id": "{A}", "period": "2026-11"}),
    "costing.get_variance_allocation": (COSTING_READERS, {"company_id": "{A}", "period": "2026-11"}),
    # Standard prices: whoever acts for the company.
    # Where every company's books stand: anyone posting needs to know which periods take postings.
    "costing.get_calendars": (EVERYONE, {}),
    "costing.get_standard_prices": (EVERYONE, {"company_id": "{A}", "period": "2026-11"}),
    # What may be ordered: buyers.
    "purchasing.orderable": (frozenset({"group_buyer", "buyer_a"}), {"company_id": "{A}", "date": "2026-11-20"}),
    # A batch's flow (company A received batch B-001 of the central API): whoever sees its warehouse.
    "inventory.lookup_batch_flow": (EVERYONE, {"material_id": "{api_central}", "batch_number": "B-001"}),
    "credit.get_alerts": (frozenset({"credit", "cio"}), {}),
    "credit.get_blocked_orders": (frozenset({"credit", "cio"}), {}),
    "credit.get_dashboard": (frozenset({"credit", "cio"}), {}),
    "credit.get_disputes": (frozenset({"sales_a", "credit", "cio"}), {}),
    "credit.get_suggestions": (frozenset({"credit", "cio"}), {}),
    "credit.get_model": (frozenset({"credit", "cio"}), {}),
    "credit.get_model_versions": (frozenset({"credit", "cio"}), {}),
    # Allowed past the role check, then 404: no credit model has been stored in this world.
    "credit.get_backtest": (frozenset({"credit", "cio"}), {"from": "2026-09", "to": "2026-10"}),
    "credit.get_company_receivables": (frozenset({"cost_a", "sales_a", "credit", "cio"}), {}),
    "credit.get_customer_receivables": (frozenset({"cost_a", "sales_a", "credit", "cio"}), {}),
    "credit.get_segment_receivables": (frozenset({"cost_a", "sales_a", "credit", "cio"}), {}),
    "credit.get_invoices": (frozenset({"cost_a", "sales_a", "credit", "cio"}), {}),
    "credit.get_payments": (frozenset({"cost_a", "sales_a", "credit", "cio"}), {}),
    "credit.get_orders": (frozenset({"cost_a", "sales_a", "credit", "cio"}), {}),
    "credit.get_credit_notes": (frozenset({"cost_a", "sales_a", "credit", "cio"}), {}),
    # Payables (erp/payables/queries.py READERS).
    "payables.get_invoices": (PAYABLES_READERS, {}),
    "payables.get_ageing": (PAYABLES_READERS, {}),
    "payables.get_grir": (PAYABLES_READERS, {"company_id": "{A}"}),
    "payables.get_grir_check": (PAYABLES_READERS, {"company_id": "{A}"}),
    "payables.get_payments": (PAYABLES_READERS, {"company_id": "{A}"}),
    # What invoices' price differences left on work in process (erp/payables/wip_price_differences.py READERS).
    "payables.get_wip_price_differences": (COSTING_READERS, {"company_id": "{A}"}),
    # The group's intercompany figures: group-wide readers only (a company's cost accountant is refused).
    "consolidation.get_intercompany_trade": (INTERCOMPANY_READERS, {}),
    # ... and of those, the ones who may read trial balances (costing READERS): not credit control.
    "consolidation.get_consolidated_trial_balance": (frozenset({"admin", "cio"}), {"period": "2026-11"}),
    "exports.get_reports": (EVERYONE, {}),
    "imports.get_kinds": (EVERYONE, {}),
    "imports.get_batches": (EVERYONE, {}),
    "inventory.get_movements": (EVERYONE, {}),
    "inventory.get_lines_open_for_receipt": (EVERYONE, {}),
    "inventory.get_receivable_lines": (EVERYONE, {}),
    "inventory.get_stock": (EVERYONE, {}),
    "jobs.get_jobs": (EVERYONE, {}),
    "purchasing.Contracts": (EVERYONE, {}),
    "purchasing.Exceptions": (EVERYONE, {}),
    "purchasing.Orders": (EVERYONE, {}),
    # Inspection lots: quality, the warehouse's clerks (their warehouses), auditors, admins.
    "quality.get_lots": (frozenset({"admin", "clerk_a", "quality_a", "auditor"}), {}),
    # Specifications are the group's, per material: everyone reads them.
    "quality.get_specifications": (EVERYONE, {"material_id": "{api_central}"}),
    # Excursions: whoever acts for the warehouse (clerks: their own warehouses).
    "quality.get_excursions": (EVERYONE, {}),
    "quality.get_near_expiry": (EVERYONE, {"on": "2026-11-20"}),
    # Bills of materials and production orders: whoever acts for the company, like its standard
    # prices (erp/production boms.list_boms, orders.list_orders).
    "production.get_boms": (EVERYONE, {"company_id": "{A}"}),
    "production.get_orders": (EVERYONE, {"company_id": "{A}"}),
}
ALLOWED_STATUS = {"credit.get_backtest": 404}
# Roles scoped to company A that must not read company B through these parameters.
COMPANY_A_ROLES = ("buyer_a", "pm_a", "clerk_a", "quality_a", "cost_a", "sales_a", "ap_a")
OTHER_COMPANY = {"costing.get_journal": ("cost_a",), "costing.get_trial_balance": ("cost_a",),
                 "costing.get_variance_allocation": ("cost_a",),
                 "costing.get_standard_prices": COMPANY_A_ROLES,
                 "purchasing.orderable": ("buyer_a",),
                 "production.get_boms": COMPANY_A_ROLES, "production.get_orders": COMPANY_A_ROLES,
                 "payables.get_payments": ("ap_a", "pm_a", "cost_a"),
                 "payables.get_wip_price_differences": ("cost_a",)}


@pytest.fixture
def app(settings: Settings, engine: Engine) -> Flask:
    """The app with background jobs left queued (``ERP_JOB_RUNNER=worker``): an operation
    that starts one is checked on its answer, and no job thread outlives the test."""
    application = create_app(settings.model_copy(update={"job_runner": "worker"}), engine=engine)
    application.config["TESTING"] = True
    return application


def operations(app: Flask) -> set[tuple[str, str]]:
    """(endpoint, method) of every API operation in the URL map."""
    return {(rule.endpoint, method) for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1")
            for method in rule.methods or () if method not in ("HEAD", "OPTIONS")}


def _fill(app: Flask, endpoint: str) -> str:
    [rule] = [rule for rule in app.url_map.iter_rules() if rule.endpoint == endpoint]
    path = rule.rule
    for converter, value in (("<int:", "999999"), ("<bigint:", "999999")):
        while converter in path:
            start = path.index(converter)
            path = path[:start] + value + path[path.index(">", start) + 1:]
    for placeholder, value in (("<string(length=None, maxlength=40):entity>", "material"),
                               ("<string:period>", "2026-11"), ("<report>", "stock"), ("<kind>", "materials"),
                               ("<path:filename>", "x.css")):
        path = path.replace(placeholder, value)
    assert "<" not in path, path
    return path


def call(api: ApiClient, user: str | None, method: str, path: str, **kwargs: Any) -> Any:
    """The response, read to its end: a streamed export that fails half-way fails here too."""
    client = api.as_(user) if user else api
    response = getattr(client, method.lower())(path, **kwargs)
    response.get_data()
    response.close()
    return response


def test_the_matrix_covers_every_operation(app: Flask) -> None:
    listed = {(endpoint, "GET") for endpoint in READS} | PUBLIC
    unlisted_reads = {(e, m) for e, m in operations(app) if m == "GET" and (e, m) not in listed and not any(
        "<" in rule.rule for rule in app.url_map.iter_rules() if rule.endpoint == e)}
    # Every read without path parameters has its row in READS; writes and item reads are in
    # the token and read-only checks below, which run over the whole URL map.
    assert unlisted_reads == set(), f"add these reads to READS with who may read them: {sorted(unlisted_reads)}"


def test_the_matrix_signs_in_as_every_role() -> None:
    assert {USERS[user][0] for user in ROLES} == set(Role), "add a user of the new role to ROLES (tests/world.py)"


def test_every_operation_but_sign_in_and_the_docs_needs_a_token(app: Flask, api: ApiClient) -> None:
    for endpoint, method in sorted(operations(app) - PUBLIC):
        path = _fill(app, endpoint)
        for headers in ({}, {"Authorization": "Bearer not-a-token"}):
            response = call(api, None, method, path, headers=headers, json={})
            assert response.status_code == 401, (
                f"{method} {path} ({endpoint}) answers {response.status_code} without a valid token; "
                "if it is meant to be public, add it to PUBLIC here and to erp.web.PUBLIC_ENDPOINTS")


def test_read_only_roles_change_nothing_anywhere(app: Flask, api: ApiClient) -> None:
    writes = sorted((e, m) for e, m in operations(app) - PUBLIC if m != "GET" and e != "auth.token_revoke")
    assert len(writes) > 50
    for user in ("cio", "auditor"):
        for endpoint, method in writes:
            response = call(api, user, method, _fill(app, endpoint), json={})
            problem(response, 403, "read-only-role")


def test_no_role_gets_a_server_error_from_any_operation(app: Flask, api: ApiClient) -> None:
    for endpoint, method in sorted(operations(app) - PUBLIC):
        if (endpoint, method) == ("auth.token_revoke", "DELETE"):
            continue  # would sign the user out for the rest of the test
        for user in ROLES:
            response = call(api, user, method, _fill(app, endpoint), json={})
            assert response.status_code < 500, (endpoint, method, user, response.get_data(as_text=True)[:300])
            assert response.status_code != 401, (endpoint, method, user)


@pytest.mark.parametrize("endpoint", sorted(READS))
def test_each_role_reads_what_the_matrix_allows(app: Flask, api: ApiClient, world: World, endpoint: str,
                                                session_factory: sessionmaker[Session]) -> None:
    allowed, query = READS[endpoint]
    if endpoint == "inventory.lookup_batch_flow":
        set_standard(session_factory, world, "api_central", "52.00")
        (line,) = open_order(session_factory, world, [("api_central", "200", "55.50", "A-COOL")])
        receive(session_factory, world, line, "120", warehouse="A-COOL")
    names = {"A": world.companies["A"], "api_central": world.materials["api_central"]}
    own = {key: value.format(**names) for key, value in query.items()}
    outcome = {user: call(api, user, "GET", _fill(app, endpoint), query_string=own).status_code for user in ROLES}
    expected = {user: ALLOWED_STATUS.get(endpoint, 200) if user in allowed else 403 for user in ROLES}
    assert outcome == expected
    if endpoint in OTHER_COMPANY:
        other = {key: value.format(**{**names, "A": world.companies["B"]}) for key, value in query.items()}
        for user in OTHER_COMPANY[endpoint]:
            status = call(api, user, "GET", _fill(app, endpoint), query_string=other).status_code
            assert status in (403, 404), (endpoint, user, status)
