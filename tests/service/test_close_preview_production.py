"""The close's preview shows everything the close will post (finding 123): with a completed
production order, the settlement of its variance (5001.01 to the production variances)
besides the material cost variance allocation, entry by entry, and the close then posts
exactly that. And an order's work in process (finding 119): issued + absorbed - delivered
at standard while it runs, nothing once the close settled it.

The plant of tests/production.py: the API-X order for 100 kg issues its plan (120 kg acid,
52 kg solvent: 7,040.00) and absorbs 4,000.00 of conversion (20 h x 200.00), delivering
100 kg at 110.40 = 11,040.00: balance 0.00. The tablets' order issues 10.2 kg of API-X
(1,126.08) and 20.4 kg of excipient (204.00), absorbs 490.00 for 98,000 tablets and
delivers them at 0.018080 (1,771.84): 48.24 on 5001.01, its variance once completed.
"""

from __future__ import annotations

from decimal import Decimal as D

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from erp.costing import board, close
from erp.posting.models import JournalEntry
from erp.production import variances
from tests.production import NOV, build_plant, make_tablets, release_rollup
from tests.world import World


def _entries(session_factory: sessionmaker[Session], world: World) -> list[tuple[str, dict[str, D]]]:
    """What the close posted for company A: per entry, its source and its amounts per account."""
    with session_factory() as session:
        since = 0
        closing = session.scalars(select(JournalEntry).where(
            JournalEntry.company_id == world.companies["A"],
            JournalEntry.source_type.in_(("period_close", "production_settlement")))
            .order_by(JournalEntry.id)).all()
        assert closing
        since = closing[0].id - 1
        postings = board.close_postings(session, world.actors["cost_a"], [world.companies["A"]], since)
    return [(p.source_type, {line["account_code"]: line["amount"] for line in p.lines})
            for p in postings[world.companies["A"]]]


def test_the_preview_shows_the_production_settlement_the_close_posts(
        session_factory: sessionmaker[Session], world: World) -> None:
    plant = build_plant(session_factory, world)
    release_rollup(session_factory, world)
    made = make_tablets(session_factory, world, plant)
    with session_factory() as session:
        wip = variances.order_work_in_process(session, made.tablet_order)
        assert (wip.issued, wip.absorbed, wip.delivered) == (D("1330.08"), D("490.00"), D("1771.84"))
        assert wip.balance == wip.on_work_in_process == D("48.24") and wip.settled_period is None
        api = variances.order_work_in_process(session, made.api_order)
        assert (api.issued, api.absorbed, api.delivered, api.balance) == (
            D("7040.00"), D("4000.00"), D("11040.00"), D("0.00"))

    with session_factory() as session, session.begin():
        preview = board.preview_close(session, world.actors["cost_a"], company_id=world.companies["A"], period=NOV)
    sources = [entry.source_type for entry in preview.entries]
    assert "production_settlement" in sources, sources
    (settlement,) = [entry for entry in preview.entries if entry.source_type == "production_settlement"]
    settled = {line["account_code"]: line["amount"] for line in settlement.lines}
    # the orders' balances leave 5001.01 (48.24 of the tablets' order) for the variance accounts
    assert settled.pop("5001.01") == D("-48.24") and sum(settled.values()) == D("48.24")
    # the confirmation's journal is every entry's, summed per account
    by_account = {line["account_code"]: line["amount"] for line in preview.journal}
    assert by_account.get("5001.01", D("0")) == sum(
        (line["amount"] for entry in preview.entries for line in entry.lines if line["account_code"] == "5001.01"),
        D("0"))

    with session_factory() as session, session.begin():
        close.close_period(session, world.actors["cost_a"], company_id=world.companies["A"], period=NOV)
    # the close posted exactly the previewed entries
    assert _entries(session_factory, world) == [
        (entry.source_type, {line["account_code"]: line["amount"] for line in entry.lines})
        for entry in preview.entries]
    with session_factory() as session:
        wip = variances.order_work_in_process(session, made.tablet_order)
        assert wip.settled_period == NOV and wip.on_work_in_process == D("0") and wip.balance == D("48.24")
