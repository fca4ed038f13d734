"""The company link, the intercompany trade view and the consolidated trial balance through
the API: group-wide readers only, amounts as strings."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from tests.service.test_intercompany import intercompany_sale
from tests.world import ApiClient, World

SF = sessionmaker[Session]


def test_consolidated_trial_balance_and_trade(api: ApiClient, world: World, session_factory: SF) -> None:
    intercompany_sale(session_factory, world)
    company = api.as_("admin").get(f"/api/v1/companies/{world.companies['B']}").get_json()
    assert company["customer_id"] == world.customers["company_b"]
    # one customer record stands for one company only
    taken = api.as_("admin").patch(f"/api/v1/companies/{world.companies['C']}",
                                   json={"customer_id": world.customers["company_b"], "reason": "test"})
    assert taken.status_code == 409, taken.get_json()

    report = api.as_("cio").get("/api/v1/intercompany/trial-balance?period=2026-11")
    assert report.status_code == 200, report.get_json()
    body = report.get_json()
    assert body["balanced"] is True
    assert (body["intercompany_revenue"], body["unrealised_profit"]) == ("80000.00", "20000.00")  # all 1,000 held
    revenue = next(line for line in body["lines"] if line["account_code"] == "6001")
    assert (revenue["credit"], revenue["elimination_debit"], revenue["consolidated_credit"]) == (
        "80000.00", "80000.00", "0.00")
    trade = api.as_("credit").get("/api/v1/intercompany/trade?as_of=2026-11-30").get_json()
    assert [(t["shipped_quantity"], t["received_quantity"], t["held_quantity"], t["unrealised_profit"])
            for t in trade] == [("1000.0000", "1000.0000", "1000.0000", "20000.00")]
    assert [t["order_number"] for t in trade] == ["SO-CA-2026-000001"]  # A's first sales order

    assert api.as_("sales_a").get("/api/v1/intercompany/trial-balance?period=2026-11").status_code == 403
    assert api.as_("cost_a").get("/api/v1/intercompany/trade").status_code == 403
    assert api.as_("cio").get("/api/v1/intercompany/trial-balance?period=2026-13").status_code == 422
