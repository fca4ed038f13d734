"""The correction of invoice price differences the rule before 1 December 2026 left on 5001.01,
through the command line and the API (erp/payables/wip_price_differences.py; the books and
figures of tests/service/test_wip_price_difference_correction.py: the invoice at 50.50 for 120
kg of acid the settled order consumed in closed November, Dr 5001.01 60.00 by the old rule)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal as D
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from erp.costing import accounts
from tests.service.test_invoice_price_difference_on_production import NOV, NOV_2, _api_order, _books, _close, _plant
from tests.service.test_wip_price_difference_correction import _faulty_invoice, old_rule  # noqa: F401 - a fixture
from tests.world import ApiClient, World, problem

pytestmark = pytest.mark.postgres
WIP, PRICE_VARIANCE = accounts.WORK_IN_PROCESS, accounts.INPUT_PRICE_VARIANCE


def _faulty_books(sf: sessionmaker[Session], world: World, old_rule: Callable[[], Any]) -> tuple[int, int]:  # noqa: F811
    acid_line = _plant(sf, world, "120", "52")
    order = _api_order(sf, world, "100", "120", "52", on=NOV_2, completed=NOV_2)
    _close(sf, world, NOV)
    return _faulty_invoice(sf, world, old_rule, acid_line), order


def test_the_command_lists_dry_runs_and_corrects_once(app: Flask, session_factory: sessionmaker[Session],
                                                      world: World, old_rule: Callable[[], Any]) -> None:  # noqa: F811
    """``payables wip-price-differences`` lists CA's invoice, its line, the order and 60.00, exit
    1; ``--dry-run`` says what it would post and posts nothing (exit 1: still left); ``--write
    --on 2026-11-30`` is refused (November closed), nothing posted; ``--write`` on the business
    day (15 December) posts Dr 6405.02 60.00 / Cr 5001.01 60.00, exit 0; again: nothing left."""
    invoice, order = _faulty_books(session_factory, world, old_rule)
    runner = app.test_cli_runner()
    listed = runner.invoke(args=["payables", "wip-price-differences", "--company", "CA"])
    assert listed.exit_code == 1, listed.output
    assert (f"CA invoice INV-ACID-1 (id {invoice}, supplier S0001, posted 2026-12-08) line 1 material R-ACID, "
            f"orders MO-{order:08d}: 5001.01 60.00") in listed.output
    dry = runner.invoke(args=["payables", "wip-price-differences", "--dry-run", "--as", "cost_a"])
    assert dry.exit_code == 1, dry.output
    assert "would post: CA INV-ACID-1 material R-ACID: Dr 6405.02 60.00 / Cr 5001.01 60.00 dated 2026-12-15" \
        in dry.output
    assert WIP in _books(session_factory, world) and PRICE_VARIANCE not in _books(session_factory, world)
    refused = runner.invoke(args=["payables", "wip-price-differences", "--write", "--on", "2026-11-30",
                                  "--as", "cost_a"])
    assert refused.exit_code == 1 and "refused, nothing posted" in refused.output
    assert PRICE_VARIANCE not in _books(session_factory, world)
    written = runner.invoke(args=["payables", "wip-price-differences", "--write", "--as", "cost_a"])
    assert written.exit_code == 0, written.output
    assert "1 amount(s) left on 5001.01 by invoices' price differences, 1 corrected" in written.output
    books = _books(session_factory, world)
    assert WIP not in books and books[PRICE_VARIANCE] == D("60.00")
    again = runner.invoke(args=["payables", "wip-price-differences", "--write", "--as", "cost_a"])
    assert again.exit_code == 0 and "0 amount(s)" in again.output


def test_the_api_lists_and_corrects_for_the_companys_cost_accountant_only(
        api: ApiClient, session_factory: sessionmaker[Session], world: World,
        old_rule: Callable[[], Any]) -> None:  # noqa: F811
    """GET lists the 60.00 for cost_a; another company's filter is refused 403; POST for a
    closed period is 422 at /posting_date writing nothing; a dry run answers the correction
    with no entry; POST posts it (201, its entry); again: an empty list; reversing it (200)
    lists it again; reversing again: 409 ``correction-reversed``; accounts payable: 403."""
    invoice, order = _faulty_books(session_factory, world, old_rule)
    cost = api.as_("cost_a")
    (row,) = cost.get("/api/v1/payables/wip-price-differences").get_json()
    assert (row["invoice_id"], row["material_code"], row["orders"], row["invoice_lines"], row["amount"]) == (
        invoice, "R-ACID", [f"MO-{order:08d}"], [1], "60.00")
    assert row["document_number"].startswith("AP-CA-")  # ours, as the page names it
    problem(cost.get(f"/api/v1/payables/wip-price-differences?company_id={world.companies['B']}"), 403)
    url = "/api/v1/payables/wip-price-differences/corrections"
    closed = problem(cost.post(url, json={"company_id": world.companies["A"], "posting_date": "2026-11-30"}), 422)
    assert closed["errors"][0]["pointer"] == "/posting_date"
    (dry,) = cost.post(url, json={"company_id": world.companies["A"], "dry_run": True}).get_json()
    assert (dry["entry_id"], dry["amount"]) == (None, "60.00")
    assert PRICE_VARIANCE not in _books(session_factory, world)
    refused = problem(api.as_("ap_a").post(url, json={"company_id": world.companies["A"]}), 403, "role-not-allowed")
    assert "accounts_payable" in refused["detail"] or "payable" in refused["detail"], refused["detail"]
    assert PRICE_VARIANCE not in _books(session_factory, world)  # nothing written
    posted = cost.post(url, json={"company_id": world.companies["A"], "posting_date": "2026-12-15"})
    assert posted.status_code == 201, posted.get_data(as_text=True)
    (done,) = posted.get_json()
    assert done["invoice_id"] == invoice and done["entry_id"] and done["amount"] == "60.00"
    assert cost.post(url, json={"company_id": world.companies["A"]}).get_json() == []
    assert cost.get("/api/v1/payables/wip-price-differences").get_json() == []
    books = _books(session_factory, world)
    assert WIP not in books and books[PRICE_VARIANCE] == D("60.00")
    reverse = f"{url}/{done['entry_id']}/reverse"
    reversed_ = cost.post(reverse, json={"reason": "dated wrongly"})
    assert reversed_.status_code == 200, reversed_.get_data(as_text=True)
    assert [r["amount"] for r in cost.get("/api/v1/payables/wip-price-differences").get_json()] == ["60.00"]
    problem(cost.post(reverse, json={"reason": "again"}), 409, "correction-reversed")
    assert _books(session_factory, world)[WIP] == D("60.00")
