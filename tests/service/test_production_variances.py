"""Order variances settled by the month-end close, split by category to the cent; work in
process at month end; the close stays atomic and repeatable and the books balance.

The order of tests/production.py's make_tablets, worked by hand (prices of the roll-up:
API-X 110.40/kg, EXC-STAR 10.00/kg, TAB-X 0.018080, TAB-PRESS 60.00 + 40.00 per hour, 0.05 h
per 1,000 tablets). 100,000 tablets planned; 98,000 delivered, so the target is:

    API-X     0.1 kg x 98 = 9.8 kg        issued 10.2 kg (2 % more than the 10 kg the BOM allows)
    EXC-STAR  0.204 kg x 98 = 19.992 kg   issued 20.4 kg

    input quantity variance  API-X    (10.2 - 9.8) x 110.40  = 44.16
                             EXC-STAR (20.4 - 19.992) x 10.00 = 4.08
    input price variance     0.00 (issued at the prices the standard was rolled up with)
    order balance on 5001.01 1,126.08 + 204.00 + 490.00 - 1,771.84 = 48.24
    lot-size / remaining     48.24 - 44.16 - 4.08 = 0.00
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from erp.costing import accounts
from erp.costing import close as closing
from erp.costing.models import JournalEntry, JournalLine
from erp.costing.reports import trial_balance
from erp.production import variances
from erp.production.models import ProductionOrder
from erp.inventory import services as inventory
from tests.production import NOV, build_plant, complete, deliver, issue, make_tablets, release_rollup
from tests.stock import account_balance, set_standard, variance_carried
from tests.world import World

DEC = "2026-12"


def _close(sf: sessionmaker[Session], world: World, period: str = NOV) -> None:
    with sf() as session, session.begin():
        closing.close_period(session, world.actors["cost_a"], company_id=world.companies["A"], period=period)


def _split(sf: sessionmaker[Session], order: int) -> dict[tuple[str, str | None], D]:
    from erp.masterdata.models import Material

    with sf() as session:
        codes = dict(session.execute(select(Material.id, Material.code)).all())
        return {(row.category.value, codes.get(row.component_id)): row.amount
                for row in variances.order_variances(session, order)}


def _balanced(sf: sessionmaker[Session], world: World, period: str) -> None:
    with sf() as session:
        for company in (world.companies["A"], None):
            assert trial_balance(session, world.actors["cost_group"], company_id=company, period=period).balanced
        # Summed to the cent: on SQLite amounts are binary floats and a balanced entry's sum
        # may be 1e-13 rather than 0 (amounts are stored to the cent, so a real imbalance is
        # at least 0.01 and survives the rounding).
        off = session.execute(select(JournalLine.entry_id, func.sum(JournalLine.amount))
                              .group_by(JournalLine.entry_id)
                              .having(func.round(func.sum(JournalLine.amount), 2) != 0)).all()
        assert off == []
    _kept_at_the_cent(sf)


def _kept_at_the_cent(sf: sessionmaker[Session]) -> None:
    """Every settled amount is stored at the cent and no settlement line is 0.00 (trial
    finding 121: on SQLite a difference computed in SQL was stored as -93.6800000000001 and a
    lot-size variance of 0.00 posted a journal line of 5e-15, read back as 0.00)."""
    from erp.production.models import ProductionOrderVariance

    v, j, e = ProductionOrderVariance, JournalLine, JournalEntry
    with sf() as session:
        assert session.scalars(select(v.amount).where(v.amount != func.round(v.amount, 2))).all() == []
        settlement_lines = (select(j.account_code, j.amount).join(e, e.id == j.entry_id)
                            .where(e.source_type.like("production_settlement%")))
        assert session.execute(settlement_lines.where(j.amount != func.round(j.amount, 2))).all() == []
        assert session.execute(settlement_lines.where(func.round(j.amount, 2) == 0)).all() == []


def test_the_close_settles_a_completed_orders_variance_by_category_to_the_cent(
        session_factory: sessionmaker[Session], world: World) -> None:
    plant = build_plant(session_factory, world)
    release_rollup(session_factory, world)
    made = make_tablets(session_factory, world, plant)
    company = world.companies["A"]
    _close(session_factory, world)
    assert _split(session_factory, made.tablet_order) == {
        ("input_quantity", "API-X"): D("44.16"), ("input_quantity", "EXC-STAR"): D("4.08"),
        ("input_price", "API-X"): D("0.00"), ("input_price", "EXC-STAR"): D("0.00"),
        ("lot_size", None): D("0.00"),
    }
    # The API order issued exactly its plan for what it delivered: no variance at all.
    assert set(_split(session_factory, made.api_order).values()) == {D("0.00")}
    with session_factory() as session:
        assert account_balance(session, company, accounts.INPUT_QUANTITY_VARIANCE) == D("48.24")
        assert account_balance(session, company, accounts.INPUT_PRICE_VARIANCE) == D("0.00")
        assert account_balance(session, company, accounts.WORK_IN_PROCESS) == D("0.00")
        assert session.get(ProductionOrder, made.tablet_order).settled_period == NOV  # type: ignore[union-attr]
        entries = session.scalar(select(func.count(JournalEntry.id)))
    _balanced(session_factory, world, NOV)
    # Closing again changes nothing.
    _close(session_factory, world)
    with session_factory() as session:
        assert session.scalar(select(func.count(JournalEntry.id))) == entries
        assert account_balance(session, company, accounts.INPUT_QUANTITY_VARIANCE) == D("48.24")


def test_an_issue_at_a_standard_other_than_the_rolled_up_one_is_an_input_price_variance(
        session_factory: sessionmaker[Session], world: World) -> None:
    plant = build_plant(session_factory, world)
    release_rollup(session_factory, world)
    # After the roll-up (which costed the tablets with the excipient at 10.00) the excipient's
    # November standard becomes 10.50, before anything used it; it is bought at 10.50.
    with session_factory() as session, session.begin():
        from erp.costing.standards import PriceChange, set_standard_prices

        set_standard_prices(session, world.actors["cost_a"], company_id=world.companies["A"], period=NOV,
                            prices=[PriceChange(plant.excipient, D("10.50"))])
    made = make_tablets(session_factory, world, plant, excipient_price="10.50")
    _close(session_factory, world)
    # EXC-STAR issued 20.4 kg x 10.50 = 214.20; at the planned 10.00: 204.00; price variance 10.20.
    # The quantity variance stays at the planned price: (20.4 - 19.992) x 10.00 = 4.08.
    # Balance 1,126.08 + 214.20 + 490.00 - 1,771.84 = 58.44 = 44.16 + 4.08 + 10.20 + 0.00.
    assert _split(session_factory, made.tablet_order) == {
        ("input_quantity", "API-X"): D("44.16"), ("input_quantity", "EXC-STAR"): D("4.08"),
        ("input_price", "API-X"): D("0.00"), ("input_price", "EXC-STAR"): D("10.20"),
        ("lot_size", None): D("0.00"),
    }
    with session_factory() as session:
        company = world.companies["A"]
        assert account_balance(session, company, accounts.INPUT_PRICE_VARIANCE) == D("10.20")
        assert account_balance(session, company, accounts.WORK_IN_PROCESS) == D("0.00")
    _balanced(session_factory, world, NOV)


def test_a_half_finished_order_stays_in_work_in_process_until_the_month_it_completes(
        session_factory: sessionmaker[Session], world: World, set_business_day: Callable[[dt.date], dt.date]) -> None:
    plant = build_plant(session_factory, world)
    release_rollup(session_factory, world)
    made = make_tablets(session_factory, world, plant, tablets_delivered="50000", complete_order=False)
    company = world.companies["A"]
    _close(session_factory, world)
    # 50,000 delivered: 1,126.08 + 204.00 + 2.5 h x 100.00 - 50,000 x 0.018080 (904.00) = 676.08
    with session_factory() as session:
        assert account_balance(session, company, accounts.WORK_IN_PROCESS) == D("676.08")
        assert session.get(ProductionOrder, made.tablet_order).settled_period is None  # type: ignore[union-attr]
    assert _split(session_factory, made.tablet_order) == {}
    _balanced(session_factory, world, NOV)
    # December: the other 48,000 and completion; December's close settles the same 48.24.
    deliver(session_factory, world, made.tablet_order, "48000", batch="TAB-B1", on=dt.date(2026, 12, 5))
    complete(session_factory, world, made.tablet_order, dt.date(2026, 12, 10))
    set_business_day(dt.date(2027, 1, 4))
    _close(session_factory, world, DEC)
    assert _split(session_factory, made.tablet_order)[("input_quantity", "API-X")] == D("44.16")
    with session_factory() as session:
        assert account_balance(session, company, accounts.WORK_IN_PROCESS) == D("0.00")
        assert account_balance(session, company, accounts.INPUT_QUANTITY_VARIANCE) == D("48.24")
    _balanced(session_factory, world, DEC)


def test_reopening_reverses_the_settlement_and_the_next_close_settles_again(
        session_factory: sessionmaker[Session], world: World) -> None:
    plant = build_plant(session_factory, world)
    release_rollup(session_factory, world)
    made = make_tablets(session_factory, world, plant)
    company = world.companies["A"]
    _close(session_factory, world)
    with session_factory() as session, session.begin():
        closing.reopen_period(session, world.actors["cost_group"], company_id=company, period=NOV,
                              reason="late scrap")
    with session_factory() as session:
        assert account_balance(session, company, accounts.WORK_IN_PROCESS) == D("48.24")
        assert account_balance(session, company, accounts.INPUT_QUANTITY_VARIANCE) == D("0.00")
        assert session.get(ProductionOrder, made.tablet_order).settled_period is None  # type: ignore[union-attr]
    assert _split(session_factory, made.tablet_order) == {}
    _close(session_factory, world)
    assert sum(_split(session_factory, made.tablet_order).values()) == D("48.24")
    _balanced(session_factory, world, NOV)


def test_a_reversed_issue_no_longer_counts_in_its_orders_variance(
        session_factory: sessionmaker[Session], world: World) -> None:
    plant = build_plant(session_factory, world)
    release_rollup(session_factory, world)
    made = make_tablets(session_factory, world, plant, complete_order=False)
    # 0.2 kg more API issued by mistake, then reversed: the order cost 0.2 x 110.40 = 22.08 more, then not.
    (extra,) = issue(session_factory, world, made.tablet_order, [("api", "0.2", made.api_batch)],
                     on=dt.date(2026, 11, 21), over_issue_reason="issued by mistake (reversed below)")
    with session_factory() as session, session.begin():
        inventory.reverse_issue(session, world.actors["clerk_a"], document_id=extra,
                                posting_date=dt.date(2026, 11, 22), reason="wrong order")
    complete(session_factory, world, made.tablet_order)
    _close(session_factory, world)
    split = _split(session_factory, made.tablet_order)
    assert split[("input_quantity", "API-X")] == D("44.16")
    assert sum(split.values()) == D("48.24")
    with session_factory() as session:
        assert account_balance(session, world.companies["A"], accounts.WORK_IN_PROCESS) == D("0.00")


def test_material_cost_variance_the_close_puts_on_work_in_process_is_settled_with_the_order(
        session_factory: sessionmaker[Session], world: World, set_business_day: Callable[[dt.date], dt.date]) -> None:
    """The excipient is bought off standard: 50 kg at 10.50 against the standard 10.00, a
    purchase price variance of +25.00 on 1404. November's rate is 25.00 / 500.00; the 20.4 kg
    issued to the order (204.00 at standard) bear round(204.00 x 25 / 500, 2) = 10.20, which
    the close debits to 5001.01. Work in process at actual: 676.08 + 10.20 = 686.28 for the
    half-finished order. When it completes in December, the 10.20 is the excipient's input
    price variance (actual 214.20 against 20.4 kg x the planned 10.00 = 204.00): Dr 6405.02
    10.20, and 5001.01 ends at exactly 0.00."""
    plant = build_plant(session_factory, world)
    release_rollup(session_factory, world)
    made = make_tablets(session_factory, world, plant, tablets_delivered="50000", complete_order=False,
                        excipient_price="10.50")
    company = world.companies["A"]
    _close(session_factory, world)
    with session_factory() as session:
        assert account_balance(session, company, accounts.WORK_IN_PROCESS) == D("686.28")
        assert variance_carried(session, company, plant.excipient) == D("14.80")
    deliver(session_factory, world, made.tablet_order, "48000", batch="TAB-B1", on=dt.date(2026, 12, 5))
    complete(session_factory, world, made.tablet_order, dt.date(2026, 12, 10))
    set_business_day(dt.date(2027, 1, 4))
    _close(session_factory, world, DEC)
    assert _split(session_factory, made.tablet_order) == {
        ("input_quantity", "API-X"): D("44.16"), ("input_quantity", "EXC-STAR"): D("4.08"),
        ("input_price", "API-X"): D("0.00"), ("input_price", "EXC-STAR"): D("10.20"),
        ("lot_size", None): D("0.00"),
    }
    with session_factory() as session:
        assert account_balance(session, company, accounts.WORK_IN_PROCESS) == D("0.00")
        assert account_balance(session, company, accounts.INPUT_PRICE_VARIANCE) == D("10.20")
        assert account_balance(session, company, accounts.INPUT_QUANTITY_VARIANCE) == D("48.24")
    _balanced(session_factory, world, DEC)


def test_an_order_completed_in_the_month_of_its_issues_settles_their_material_cost_variance_too(
        session_factory: sessionmaker[Session], world: World) -> None:
    """As above, completed in November: the close allocates 10.20 to 5001.01 and settles it
    in the same transaction; 5001.01 ends at 0.00."""
    plant = build_plant(session_factory, world)
    release_rollup(session_factory, world)
    made = make_tablets(session_factory, world, plant, excipient_price="10.50")
    _close(session_factory, world)
    assert _split(session_factory, made.tablet_order)[("input_price", "EXC-STAR")] == D("10.20")
    with session_factory() as session:
        company = world.companies["A"]
        assert account_balance(session, company, accounts.WORK_IN_PROCESS) == D("0.00")
        assert account_balance(session, company, accounts.INPUT_PRICE_VARIANCE) == D("10.20")
    _balanced(session_factory, world, NOV)


def test_an_issue_reversed_after_a_standard_price_change_takes_back_what_it_put_on_the_order(
        session_factory: sessionmaker[Session], world: World, set_business_day: Callable[[dt.date], dt.date]) -> None:
    """1 kg of excipient too many is issued on 21 November (10.00 at the standard then),
    November closes (bought at standard: no variance to bear), the excipient's standard is
    12.00 from December, and the issue is reversed on 3 December. The reversal credits the
    order's 5001.01 the 10.00 the issue charged (the kilogram comes back at 12.00, the 2.00
    restated against 1404): the order's split is the one of the worked example, and 5001.01
    ends at 0.00."""
    plant = build_plant(session_factory, world)
    release_rollup(session_factory, world)
    made = make_tablets(session_factory, world, plant, complete_order=False)
    (extra,) = issue(session_factory, world, made.tablet_order, [("exc_local", "1", None)], on=dt.date(2026, 11, 21),
                     over_issue_reason="extra granulation after a spill")
    set_standard(session_factory, world, "exc_local", "12.00", period=DEC)
    _close(session_factory, world)
    company = world.companies["A"]
    with session_factory() as session:
        # 48.24 of the worked example + the extra 10.00.
        assert account_balance(session, company, accounts.WORK_IN_PROCESS) == D("58.24")
    with session_factory() as session, session.begin():
        inventory.reverse_issue(session, world.actors["clerk_a"], document_id=extra,
                                posting_date=dt.date(2026, 12, 3), reason="one kilogram too many")
    with session_factory() as session:
        assert account_balance(session, company, accounts.WORK_IN_PROCESS) == D("48.24")
    complete(session_factory, world, made.tablet_order, dt.date(2026, 12, 10))
    set_business_day(dt.date(2027, 1, 4))
    _close(session_factory, world, DEC)
    assert _split(session_factory, made.tablet_order) == {
        ("input_quantity", "API-X"): D("44.16"), ("input_quantity", "EXC-STAR"): D("4.08"),
        ("input_price", "API-X"): D("0.00"), ("input_price", "EXC-STAR"): D("0.00"),
        ("lot_size", None): D("0.00"),
    }
    with session_factory() as session:
        assert account_balance(session, company, accounts.WORK_IN_PROCESS) == D("0.00")
        assert account_balance(session, company, accounts.INPUT_QUANTITY_VARIANCE) == D("48.24")
    _balanced(session_factory, world, DEC)


def test_an_issue_reversed_after_its_close_gives_back_its_part_of_the_variance_on_work_in_process(
        session_factory: sessionmaker[Session], world: World, set_business_day: Callable[[dt.date], dt.date]) -> None:
    """The excipient bought at 10.50 (+25.00 on 1404 for 50 kg at the standard 10.00), 1 kg
    too many issued on 21 November: November's issues to the order are 20.4 kg (204.00) and
    1 kg (10.00); 5001.01 bears round(214.00 x 25 / 500, 2) = 10.70 of which the issues'
    parts are round(10.70 x 204 / 214, 2) = 10.20 and round(10.70 x 10 / 214, 2) = 0.50.
    Work in process: 48.24 + 10.00 + 10.70 = 68.94. Reversed on 3 December, the kilogram
    takes back 10.00 + 0.50 (58.44 left); completed in December, the order settles 58.44:
    the excipient's input price variance is 204.00 + 10.20 - 204.00 = 10.20."""
    plant = build_plant(session_factory, world)
    release_rollup(session_factory, world)
    made = make_tablets(session_factory, world, plant, complete_order=False, excipient_price="10.50")
    (extra,) = issue(session_factory, world, made.tablet_order, [("exc_local", "1", None)], on=dt.date(2026, 11, 21),
                     over_issue_reason="extra granulation after a spill")
    _close(session_factory, world)
    company = world.companies["A"]
    with session_factory() as session:
        assert account_balance(session, company, accounts.WORK_IN_PROCESS) == D("68.94")
    with session_factory() as session, session.begin():
        inventory.reverse_issue(session, world.actors["clerk_a"], document_id=extra,
                                posting_date=dt.date(2026, 12, 3), reason="one kilogram too many")
    with session_factory() as session:
        assert account_balance(session, company, accounts.WORK_IN_PROCESS) == D("58.44")
    complete(session_factory, world, made.tablet_order, dt.date(2026, 12, 10))
    set_business_day(dt.date(2027, 1, 4))
    _close(session_factory, world, DEC)
    split = _split(session_factory, made.tablet_order)
    assert split[("input_price", "EXC-STAR")] == D("10.20")
    assert split[("input_quantity", "EXC-STAR")] == D("4.08")
    assert sum(split.values()) == D("58.44")
    with session_factory() as session:
        assert account_balance(session, company, accounts.WORK_IN_PROCESS) == D("0.00")
    # The reversal gave the 0.50 back on the excipient, where the close had put it.
    assert set(_wip_by_material(session_factory, world).values()) == {D("0.00")}
    _balanced(session_factory, world, DEC)


def _wip_by_material(sf: sessionmaker[Session], world: World) -> dict[str | None, D]:
    from erp.masterdata.models import Material

    with sf() as session:
        rows = session.execute(
            select(Material.code, func.sum(JournalLine.amount))
            .select_from(JournalLine).outerjoin(Material, Material.id == JournalLine.material_id)
            .where(JournalLine.company_id == world.companies["A"],
                   JournalLine.account_code == accounts.WORK_IN_PROCESS)
            .group_by(Material.code)).all()
    return {code: D(amount).quantize(D("0.01")) for code, amount in rows}


def test_work_in_process_nets_per_material_once_the_order_is_settled(
        session_factory: sessionmaker[Session], world: World, set_business_day: Callable[[dt.date], dt.date]) -> None:
    """5001.01's lines carry the material they moved: the components issued, with the
    material cost variance the close allocated to them (on the component too), and the output
    delivered less the conversion it absorbed. Half-finished at the end of November
    (excipient bought at 10.50): API-X 1,126.08, EXC-STAR 204.00 + 10.20 = 214.20 (at actual),
    TAB-X -(904.00 - 250.00) = -654.00: 686.28 in all, nothing on no material. The API order,
    settled in November, nets on each of its materials. Once the tablet order is settled in
    December, every material's 5001.01 is 0.00."""
    plant = build_plant(session_factory, world)
    release_rollup(session_factory, world)
    made = make_tablets(session_factory, world, plant, tablets_delivered="50000", complete_order=False,
                        excipient_price="10.50")
    _close(session_factory, world)
    wip = {code: amount for code, amount in _wip_by_material(session_factory, world).items() if amount}
    assert wip == {"API-X": D("1126.08"), "EXC-STAR": D("214.20"), "TAB-X": D("-654.00")}
    deliver(session_factory, world, made.tablet_order, "48000", batch="TAB-B1", on=dt.date(2026, 12, 5))
    complete(session_factory, world, made.tablet_order, dt.date(2026, 12, 10))
    set_business_day(dt.date(2027, 1, 4))
    _close(session_factory, world, DEC)
    assert set(_wip_by_material(session_factory, world).values()) == {D("0.00")}


def test_an_order_without_variance_is_settled_by_an_entry_on_work_in_process_alone(
        session_factory: sessionmaker[Session], world: World) -> None:
    """The API order issues exactly its plan (120 kg R-ACID x 50.00 = 6,000.00, 52 kg R-SOLV x
    20.00 = 1,040.00) and delivers 100 kg of API-X at 110.40 (11,040.00), absorbing 20 h x
    200.00 = 4,000.00: 5001.01 is 0.00 in total, but R-ACID 6,000.00, R-SOLV 1,040.00 and
    API-X -7,040.00. Its settlement, the only one of November (the tablet order still runs),
    posts no variance line, only the 5001.01 lines that net each material."""
    from erp.masterdata.models import Material

    plant = build_plant(session_factory, world)
    release_rollup(session_factory, world)
    make_tablets(session_factory, world, plant, complete_order=False)
    _close(session_factory, world)
    with session_factory() as session:
        lines = session.execute(
            select(JournalLine.account_code, Material.code, JournalLine.amount)
            .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
            .outerjoin(Material, Material.id == JournalLine.material_id)
            .where(JournalEntry.source_type == variances.SETTLEMENT_SOURCE)).all()
    assert sorted((account, code, amount) for account, code, amount in lines) == [
        (accounts.WORK_IN_PROCESS, "API-X", D("7040.00")),
        (accounts.WORK_IN_PROCESS, "R-ACID", D("-6000.00")),
        (accounts.WORK_IN_PROCESS, "R-SOLV", D("-1040.00")),
    ]
    wip = _wip_by_material(session_factory, world)
    assert (wip["R-ACID"], wip["R-SOLV"]) == (D("0.00"), D("0.00"))


def test_variance_a_close_put_on_no_material_before_5001_01_carried_it_is_cleared_there(
        session_factory: sessionmaker[Session], world: World, set_business_day: Callable[[dt.date], dt.date],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """November is closed as closes were before 5001.01 carried the material (3da21ad): its
    work in process share of the variance, 10.70 (the 20.4 kg's 10.20 and the extra
    kilogram's 0.50), on no material. The extra kilogram is reversed on 3 December (giving
    its 0.50 back on no material, where that close put it); the order is finished and
    completed in December, whose close carries the material. Settled, every material's
    5001.01 is 0.00 and so is the line on no material: the 10.20 is cleared where it stands."""
    plant = build_plant(session_factory, world)
    release_rollup(session_factory, world)
    made = make_tablets(session_factory, world, plant, tablets_delivered="50000", complete_order=False,
                        excipient_price="10.50")
    (extra,) = issue(session_factory, world, made.tablet_order, [("exc_local", "1", None)], on=dt.date(2026, 11, 21),
                     over_issue_reason="extra granulation after a spill")
    with monkeypatch.context() as before:
        before.setattr(closing, "ALLOCATED_PER_MATERIAL", frozenset())
        _close(session_factory, world)
    assert _wip_by_material(session_factory, world)[None] == D("10.70")
    with session_factory() as session, session.begin():
        inventory.reverse_issue(session, world.actors["clerk_a"], document_id=extra,
                                posting_date=dt.date(2026, 12, 3), reason="one kilogram too many")
    assert _wip_by_material(session_factory, world)[None] == D("10.20")
    deliver(session_factory, world, made.tablet_order, "48000", batch="TAB-B1", on=dt.date(2026, 12, 5))
    complete(session_factory, world, made.tablet_order, dt.date(2026, 12, 10))
    set_business_day(dt.date(2027, 1, 4))
    _close(session_factory, world, DEC)
    assert _split(session_factory, made.tablet_order)[("input_price", "EXC-STAR")] == D("10.20")
    assert set(_wip_by_material(session_factory, world).values()) == {D("0.00")}
    _balanced(session_factory, world, DEC)
