"""Storage-condition monitoring: readings, excursions detected set-based, gaps flagged, and
the quarantine of exactly the batches whose storage requirement an excursion broke."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from erp.clock import business_day
from erp.masterdata.models import Material, MaterialType, ProcurementScope, Warehouse
from erp.period import Period
from erp.posting.models import AccountingPeriod, PeriodStatus, StockDocument
from erp.quality import errors, monitoring
from erp.quality.models import ExcursionBatch, ExcursionKind, InspectionLot, LotOrigin, StorageExcursion, StorageReading
from tests.stock import balances, batch_id, decide, open_order, receive, set_standard
from tests.quality import release_lot
from tests.ui.conftest import sign_in
from tests.world import World

UTC = dt.UTC
# 20 Nov 2026, 08:00 in Beijing
START = dt.datetime(2026, 11, 20, 0, 0, tzinfo=UTC)


def minutes(n: int) -> dt.timedelta:
    return dt.timedelta(minutes=n)


def log(readings: list[tuple[dt.datetime, str, str | None]]) -> str:
    return "read_at,temperature,humidity\n" + "\n".join(
        f"{at.isoformat()},{t},{h or ''}" for at, t, h in readings) + "\n"


def cold_room_morning(warm_from: int, warm_for: int, *, skip: range = range(0)) -> list[tuple[dt.datetime, str, str | None]]:
    """Four hours of one-minute readings at 5.0 °C / 55 %, at 9.5 °C from minute
    ``warm_from`` for ``warm_for`` minutes; minutes in ``skip`` have no reading."""
    return [(START + minutes(i), "9.50" if warm_from <= i < warm_from + warm_for else "5.00", "55")
            for i in range(240) if i not in skip]


@pytest.fixture
def cold_room(session_factory: sessionmaker[Session], world: World) -> dict[str, int]:
    """Company A's cold room (2-8 °C) holding three released batches: a 2-8 °C API, an API
    kept at up to 20 °C, and a 15-25 °C excipient (received before its label changed)."""
    with session_factory() as session, session.begin():
        kg = session.scalars(select(Material.unit_id).where(Material.id == world.materials["api_central"])).one()
        room_temp = Material(code="EXC-RT", name_zh="室温辅料", name_en="room-temperature excipient",
                             material_type=MaterialType.RAW, procurement_scope=ProcurementScope.LOCAL, unit_id=kg,
                             shelf_life_days=1095, batch_managed=True, inspection_required=False,
                             over_receipt_tolerance_pct=D("0"))
        session.add(room_temp)
        session.flush()
        world.materials["room_temp"] = room_temp.id
    for material, price in (("cold_central", "300.00"), ("api_central", "52.00"), ("room_temp", "10.00")):
        set_standard(session_factory, world, material, price)
    lines = open_order(session_factory, world, [("cold_central", "10", "300.00", "A-COLD"),
                                                ("api_central", "40", "52.00", "A-COLD"),
                                                ("room_temp", "100", "10.00", "A-COLD")])
    for line, batch in zip(lines, ("INS-1", "AMX-1", "RT-1"), strict=True):
        receive(session_factory, world, line, {"INS-1": "10", "AMX-1": "40", "RT-1": "100"}[batch], batch=batch)
    batches = {b: batch_id(session_factory, world, m, b)
               for m, b in (("cold_central", "INS-1"), ("api_central", "AMX-1"), ("room_temp", "RT-1"))}
    decide(session_factory, world, "A-COLD", batches["INS-1"])
    decide(session_factory, world, "A-COLD", batches["AMX-1"])
    with session_factory() as session, session.begin():  # the steward labels it 15-25 °C afterwards
        material = session.get(Material, world.materials["room_temp"])
        assert material is not None
        material.storage_temp_min, material.storage_temp_max = D("15"), D("25")
    return batches


def ingest(session_factory: sessionmaker[Session], world: World, content: str) -> monitoring.Ingested:
    with session_factory() as session, session.begin():
        return monitoring.import_readings(session, world.actors["quality_a"],
                                          warehouse_id=world.warehouses["A-COLD"], content=content)


def test_a_cold_room_at_9_5_for_45_minutes_quarantines_exactly_the_2_8_degree_batches(
    session_factory: sessionmaker[Session], world: World, cold_room: dict[str, int]
) -> None:
    outcome = ingest(session_factory, world, log(cold_room_morning(60, 45)))
    assert (outcome.received, outcome.stored) == (240, 240)
    (excursion,) = outcome.excursions
    # out from 01:00 to the first reading back in range at 01:45 UTC: 45 minutes > 30 allowed
    assert (excursion.kind, excursion.started_at, excursion.ended_at, excursion.minutes) == (
        ExcursionKind.OUT_OF_RANGE, START + minutes(60), START + minutes(105), D("45.00"))
    assert (excursion.min_temperature, excursion.max_temperature, excursion.max_humidity) == (
        D("9.50"), D("9.50"), D("55.00"))
    assert len(outcome.hold_document_ids) == 1
    with session_factory() as session:
        cold = world.warehouses["A-COLD"]
        held = {(b, s): q for b, s, q, _ in balances(session, warehouse_id=cold) if q}
        assert held == {("INS-1", "quarantine"): D("10"), ("AMX-1", "unrestricted"): D("40"),
                        ("RT-1", "unrestricted"): D("100")}
        document = session.get(StockDocument, outcome.hold_document_ids[0])
        assert document is not None and (document.doc_type, document.reference) == (
            "quality_hold", f"EXC-{excursion.id}")
        (lot,) = session.scalars(select(InspectionLot).where(InspectionLot.origin == LotOrigin.EXCURSION)).all()
        assert (lot.batch_id, lot.quantity, lot.excursion_id, lot.source_document_id) == (
            cold_room["INS-1"], D("10"), excursion.id, document.id)


def test_a_sensor_log_of_a_closed_month_is_stored_and_its_hold_posted_on_the_day_of_discovery(
    session_factory: sessionmaker[Session], world: World, cold_room: dict[str, int]
) -> None:
    december = dt.date(2026, 12, 3)
    with session_factory() as session, session.begin():  # November's books are closed
        november = session.get(AccountingPeriod, (world.companies["A"], Period("2026-11")))
        assert november is not None
        november.status = PeriodStatus.CLOSED
    with business_day(december):
        outcome = ingest(session_factory, world, log(cold_room_morning(60, 45)))
    assert (outcome.received, outcome.stored) == (240, 240)
    (excursion,) = outcome.excursions
    assert (excursion.started_at, excursion.ended_at) == (START + minutes(60), START + minutes(105))
    (document_id,) = outcome.hold_document_ids
    with session_factory() as session:
        assert len(session.scalars(select(StorageReading)).all()) == 240
        document = session.get(StockDocument, document_id)
        assert document is not None and (document.posting_date, document.reference) == (
            december, f"EXC-{excursion.id}")


def test_an_excursion_within_the_allowance_is_none(
    session_factory: sessionmaker[Session], world: World, cold_room: dict[str, int]
) -> None:
    outcome = ingest(session_factory, world, log(cold_room_morning(60, 25)))  # 25 minutes <= 30
    assert outcome.excursions == [] and outcome.hold_document_ids == []
    with session_factory() as session:
        assert session.scalars(select(StorageExcursion)).all() == []


def test_a_gap_in_readings_is_flagged_as_an_excursion_of_unknown_state(
    session_factory: sessionmaker[Session], world: World, cold_room: dict[str, int]
) -> None:
    # nothing read from 02:00 to 02:19: the readings at 01:59 and 02:20 are 21 minutes apart (> 5)
    outcome = ingest(session_factory, world, log(cold_room_morning(0, 0, skip=range(120, 140))))
    (gap,) = outcome.excursions
    assert (gap.kind, gap.started_at, gap.ended_at, gap.minutes) == (
        ExcursionKind.GAP, START + minutes(119), START + minutes(140), D("21.00"))
    assert gap.max_temperature is None
    assert outcome.hold_document_ids == []  # flagged for QA; unknown is not shown to be out of range


def every_five_minutes(count: int, *, late: dict[int, int] | None = None,
                       warm: frozenset[int] = frozenset()) -> list[tuple[dt.datetime, str, str | None]]:
    """``count`` readings exactly five minutes apart (the default logging interval) from
    START, reading ``i`` taken ``late[i]`` seconds late, at 9.5 °C for the readings in ``warm``."""
    late = late or {}
    return [(START + minutes(5 * i) + dt.timedelta(seconds=late.get(i, 0)),
             "9.50" if i in warm else "5.00", "55") for i in range(count)]


def test_readings_exactly_one_logging_interval_apart_make_no_gap(
    session_factory: sessionmaker[Session], world: World, cold_room: dict[str, int]
) -> None:
    # A day of readings every 5 minutes: on SQLite, (julianday(b) - julianday(a)) * 1440.0 came
    # out as 5.000000000x for about half of these pairs, each recorded as a 5-minute gap.
    outcome = ingest(session_factory, world, log(every_five_minutes(288)))
    assert outcome.excursions == []
    with session_factory() as session:
        assert session.scalars(select(StorageExcursion)).all() == []


def test_readings_one_second_more_than_the_interval_apart_are_a_gap(
    session_factory: sessionmaker[Session], world: World, cold_room: dict[str, int]
) -> None:
    # reading 13 (01:05) is a second late: 5 min 1 s after reading 12, 4 min 59 s before reading 14
    outcome = ingest(session_factory, world, log(every_five_minutes(288, late={13: 1})))
    (gap,) = outcome.excursions
    assert (gap.kind, gap.started_at, gap.ended_at, gap.minutes) == (
        ExcursionKind.GAP, START + minutes(60), START + minutes(65) + dt.timedelta(seconds=1), D("5.02"))


def test_an_excursion_lasting_exactly_the_allowance_is_none_and_a_second_longer_is_one(
    session_factory: sessionmaker[Session], world: World, cold_room: dict[str, int]
) -> None:
    # Out of range for exactly 30 minutes (the allowance) from 00:00, 00:35, 01:10, 01:45 and
    # 02:20 (the first reading back in range 30 minutes after each start): none is an excursion.
    # The one from 03:30 ends a second late, at 04:00:01: 30 min 1 s > 30 allowed (and the
    # reading that ends it, 5 min 1 s after the one before, is a gap as well).
    warm = frozenset(i for start in (0, 7, 14, 21, 28, 42) for i in range(start, start + 6))
    outcome = ingest(session_factory, world, log(every_five_minutes(288, late={48: 1}, warm=warm)))
    assert [(e.kind, e.started_at, e.minutes) for e in outcome.excursions] == [
        (ExcursionKind.OUT_OF_RANGE, START + minutes(210), D("30.02")),
        (ExcursionKind.GAP, START + minutes(235), D("5.02"))]


@pytest.mark.parametrize(("language", "quarantined", "span"), [
    ("zh", "1 批转入待检隔离", "5 分 1 秒"), ("en", "1 batches put into quarantine", "5 min 1 s")])
def test_the_excursion_list_says_the_batches_went_to_quarantine_and_shows_whole_minutes(
    client: FlaskClient, session_factory: sessionmaker[Session], world: World, cold_room: dict[str, int],
    language: str, quarantined: str, span: str
) -> None:
    # 45 minutes out of range from 01:00 (INS-1 quarantined), and reading 30 a second late: a gap
    ingest(session_factory, world, log(every_five_minutes(288, late={30: 1}, warm=frozenset(range(12, 21)))))
    sign_in(client, world, "quality_a", language)
    table = client.get("/quality/excursions").get_data(as_text=True)
    table = table[table.index('data-testid="excursions"'):table.index("</table>")]
    assert quarantined in table and ("冻结" not in table and "held" not in table)
    assert '<td class="num">45</td>' in table and span in table and ".00<" not in table


def test_readings_sent_again_are_not_doubled_nor_held_twice(
    session_factory: sessionmaker[Session], world: World, cold_room: dict[str, int]
) -> None:
    content = log(cold_room_morning(60, 45))
    ingest(session_factory, world, content)
    again = ingest(session_factory, world, content)
    assert (again.received, again.stored, again.hold_document_ids) == (240, 0, [])
    with session_factory() as session:
        assert len(session.scalars(select(StorageExcursion)).all()) == 1
        assert len(session.scalars(select(StorageReading)).all()) == 240


def test_an_excursion_under_way_is_extended_by_later_readings(
    session_factory: sessionmaker[Session], world: World, cold_room: dict[str, int]
) -> None:
    readings = cold_room_morning(200, 40)  # warm from 03:20 to the end of the log at 04:00
    first = ingest(session_factory, world, log(readings[:235]))  # up to 03:54: 34 minutes, still under way
    (excursion,) = first.excursions
    assert excursion.ended_at is None and excursion.minutes == D("34.00")
    later = [(START + minutes(240 + i), "9.50" if i < 10 else "5.00", "55") for i in range(20)]
    second = ingest(session_factory, world, log(readings[235:] + later))
    (extended,) = second.excursions
    assert extended.id == excursion.id
    assert (extended.ended_at, extended.minutes) == (START + minutes(250), D("50.00"))
    assert second.hold_document_ids == []  # already held when first seen


def test_a_logger_posts_readings_with_its_own_token(
    session_factory: sessionmaker[Session], world: World, cold_room: dict[str, int]
) -> None:
    with session_factory() as session, session.begin():
        _, token = monitoring.register_logger(session, world.actors["quality_a"],
                                              warehouse_id=world.warehouses["A-COLD"], code="LOG-COLD-1")
    readings = [monitoring.Reading(at, D(t), D(h) if h else None) for at, t, h in cold_room_morning(60, 45)]
    with session_factory() as session, session.begin():
        outcome = monitoring.post_logger_readings(session, token=token, readings=readings)
    assert len(outcome.hold_document_ids) == 1
    with session_factory() as session, session.begin(), pytest.raises(errors.LoggerNotRecognised):
        monitoring.post_logger_readings(session, token="not-a-token", readings=readings)


def test_a_sensor_log_with_bad_rows_is_refused_whole(
    session_factory: sessionmaker[Session], world: World, cold_room: dict[str, int]
) -> None:
    content = "read_at,temperature,humidity\n2026-11-20T08:00:00+08:00,5.0,55\n2026-11-20T08:01:00,5.0,55\n" \
              "2026-11-20T08:02:00+08:00,warm,55\n0001-01-01T00:00:00+08:00,5.0,55\n9999-12-31T23:59:00-08:00,5.0,55\n"
    with pytest.raises(errors.ReadingsInvalid) as refused:
        ingest(session_factory, world, content)
    # an instant of year 1 or 9999 is a bad row, not an overflow putting it in UTC
    assert [e["pointer"] for e in refused.value.errors] == ["/rows/3", "/rows/4", "/rows/5", "/rows/6"]
    with session_factory() as session:
        assert session.scalars(select(StorageReading)).all() == []
        assert session.get(Warehouse, world.warehouses["A-COLD"]) is not None


def test_a_logger_that_went_silent_is_flagged_and_the_gap_closed_when_readings_resume(
    session_factory: sessionmaker[Session], world: World, cold_room: dict[str, int]
) -> None:
    ingest(session_factory, world, log(cold_room_morning(0, 0)))  # the last reading at 03:59 UTC
    with session_factory() as session, session.begin():
        (gap,) = monitoring.flag_silent_warehouses(session, world.actors["quality_a"], now=START + minutes(300))
        assert (gap.kind, gap.started_at, gap.ended_at, gap.minutes) == (
            ExcursionKind.GAP, START + minutes(239), None, D("61.00"))
    with session_factory() as session, session.begin():  # 4 minutes after the last reading: within the interval
        assert monitoring.flag_silent_warehouses(session, world.actors["quality_a"], now=START + minutes(243)) == []
    resumed = ingest(session_factory, world, log([(START + minutes(310), "5.00", "55")]))
    (closed,) = resumed.excursions
    assert (closed.started_at, closed.ended_at, closed.minutes) == (START + minutes(239), START + minutes(310),
                                                                    D("71.00"))
    with session_factory() as session:
        assert len(session.scalars(select(StorageExcursion)).all()) == 1


def test_the_scheduled_silence_check_names_the_silent_warehouses(
    app: Flask, session_factory: sessionmaker[Session], world: World, cold_room: dict[str, int]
) -> None:
    ingest(session_factory, world, log(cold_room_morning(0, 0)))  # readings of 20 Nov, none since
    result = app.test_cli_runner().invoke(args=["quality", "check-silence", "--as", "quality_a"])
    assert result.exit_code == 0, result.output
    assert f"warehouse {world.warehouses['A-COLD']}: no readings for" in result.output
    assert "1 silent warehouses" in result.output
    refused = app.test_cli_runner().invoke(args=["quality", "check-silence", "--as", "clerk_a"])
    assert refused.exit_code != 0 and "refused" in refused.output


# --- an excursion that goes on: widened, answered again; answered once when unchanged ------------

def excursion_lots(session: Session) -> list[tuple[int, int | None, D]]:
    """(batch, excursion, quantity) of every excursion lot, in the order opened."""
    return [(lot.batch_id, lot.excursion_id, lot.quantity) for lot in session.scalars(
        select(InspectionLot).where(InspectionLot.origin == LotOrigin.EXCURSION).order_by(InspectionLot.id))]


def test_a_batch_put_into_the_room_during_an_excursion_under_way_is_held_when_later_readings_extend_it(
    session_factory: sessionmaker[Session], world: World, cold_room: dict[str, int]
) -> None:
    readings = cold_room_morning(200, 40)  # warm from 03:20 on
    first = ingest(session_factory, world, log(readings))  # 40 minutes so far, under way at 03:59
    (excursion,) = first.excursions
    assert excursion.ended_at is None and len(first.hold_document_ids) == 1
    # the clerk puts into the warm room, the same day, another batch of the 2-8 °C product (inspected:
    # it enters quarantine under its receipt's lot) and a batch of a 2-8 °C excipient (not inspected:
    # it enters unrestricted)
    with session_factory() as session, session.begin():
        kg = session.scalars(select(Material.unit_id).where(Material.id == world.materials["api_central"])).one()
        cold_excipient = Material(code="EXC-COLD", name_zh="冷藏辅料", name_en="cold excipient",
                                  material_type=MaterialType.RAW, procurement_scope=ProcurementScope.LOCAL,
                                  unit_id=kg, shelf_life_days=365, batch_managed=True, inspection_required=False,
                                  over_receipt_tolerance_pct=D("0"), storage_temp_min=D("2"), storage_temp_max=D("8"))
        session.add(cold_excipient)
        session.flush()
        world.materials["cold_excipient"] = cold_excipient.id
    set_standard(session_factory, world, "cold_excipient", "20.00")
    insulin_line, excipient_line = open_order(session_factory, world, [("cold_central", "4", "300.00", "A-COLD"),
                                                                       ("cold_excipient", "6", "20.00", "A-COLD")])
    receive(session_factory, world, insulin_line, "4", batch="INS-2")
    receive(session_factory, world, excipient_line, "6", batch="CE-1")
    insulin_2 = batch_id(session_factory, world, "cold_central", "INS-2")
    excipient = batch_id(session_factory, world, "cold_excipient", "CE-1")
    later = [(START + minutes(240 + i), "9.50" if i < 10 else "5.00", "55") for i in range(20)]
    second = ingest(session_factory, world, log(later))  # the same excursion, now 03:20-04:10
    (extended,) = second.excursions
    assert extended.id == excursion.id and extended.ended_at == START + minutes(250)
    with session_factory() as session:
        lots = excursion_lots(session)
        # INS-1 was held when the excursion was first seen, and not again; CE-1 arrived during it and
        # is held now; INS-2 is in quarantine already (its receipt's lot): referenced, not held
        assert lots == [(cold_room["INS-1"], excursion.id, D("10")), (excipient, excursion.id, D("6"))]
        referenced = {(b.batch_id, b.stock_status.value, b.quantity, b.lot_id is not None) for b in session.scalars(
            select(ExcursionBatch).where(ExcursionBatch.excursion_id == excursion.id))}
        assert referenced == {(cold_room["INS-1"], "unrestricted", D("10"), True),
                              (excipient, "unrestricted", D("6"), True),
                              (insulin_2, "quarantine", D("4"), False)}
        held = {(b, s): q for b, s, q, _ in balances(session, warehouse_id=world.warehouses["A-COLD"]) if q}
        assert held[("CE-1", "quarantine")] == D("6") and ("CE-1", "unrestricted") not in held
    assert len(second.hold_document_ids) == 1


def test_a_batch_released_during_an_excursion_under_way_is_held_again_when_it_goes_on(
    session_factory: sessionmaker[Session], world: World, cold_room: dict[str, int]
) -> None:
    readings = cold_room_morning(200, 40)
    first = ingest(session_factory, world, log(readings))
    (excursion,) = first.excursions
    with session_factory() as session:
        (lot_id,) = session.scalars(select(InspectionLot.id).where(InspectionLot.origin == LotOrigin.EXCURSION))
    # QA releases the held batch while the room is still warm
    release_lot(session_factory, world, lot_id)
    later = [(START + minutes(240 + i), "9.50") for i in range(10)]
    second = ingest(session_factory, world, log([(at, t, "55") for at, t in later]))
    assert len(second.hold_document_ids) == 1
    with session_factory() as session:
        assert [b for b, _, _ in excursion_lots(session)] == [cold_room["INS-1"], cold_room["INS-1"]]
        held = {(b, s): q for b, s, q, _ in balances(session, warehouse_id=world.warehouses["A-COLD"]) if q}
        assert held[("INS-1", "quarantine")] == D("10")


def test_an_excursion_that_worsens_holds_what_its_new_extreme_breaks(
    session_factory: sessionmaker[Session], world: World, cold_room: dict[str, int]
) -> None:
    readings = cold_room_morning(200, 40)  # 9.5 °C: breaks the 2-8 °C product only
    first = ingest(session_factory, world, log(readings))
    (excursion,) = first.excursions
    # the room goes on warming: 21 °C is beyond the amoxicillin's 20 °C (and within RT-1's 25 °C)
    later = [(START + minutes(240 + i), "21.00", "55") for i in range(10)]
    second = ingest(session_factory, world, log(later))
    (worse,) = second.excursions
    assert worse.id == excursion.id and worse.max_temperature == D("21.00")
    with session_factory() as session:
        assert [b for b, _, _ in excursion_lots(session)] == [cold_room["INS-1"], cold_room["AMX-1"]]
        held = {(b, s): q for b, s, q, _ in balances(session, warehouse_id=world.warehouses["A-COLD"]) if q}
        assert held == {("INS-1", "quarantine"): D("10"), ("AMX-1", "quarantine"): D("40"),
                        ("RT-1", "unrestricted"): D("100")}


def test_answering_excursions_again_holds_nothing_twice(
    session_factory: sessionmaker[Session], world: World, cold_room: dict[str, int]
) -> None:
    ingest(session_factory, world, log(cold_room_morning(60, 45)))
    with session_factory() as session, session.begin():
        warehouse = session.get(Warehouse, world.warehouses["A-COLD"])
        assert warehouse is not None
        again = monitoring.detect_excursions(session, warehouse)  # every reading, from the first
        assert len(again) == 1
        assert monitoring.hold_for_excursions(session, warehouse, user_id=world.users["quality_a"],
                                              posting_date=dt.date(2026, 12, 15)) == []
    with session_factory() as session:
        assert len(excursion_lots(session)) == 1
        assert len(session.scalars(select(ExcursionBatch)).all()) == 1


def test_a_material_without_storage_limits_is_judged_against_the_rooms_range(
    session_factory: sessionmaker[Session], world: World, cold_room: dict[str, int]
) -> None:
    with session_factory() as session, session.begin():  # the excipient states no requirement of its own
        material = session.get(Material, world.materials["room_temp"])
        assert material is not None
        material.storage_temp_min = material.storage_temp_max = None
    ingest(session_factory, world, log(cold_room_morning(60, 45)))
    with session_factory() as session:
        assert sorted(b for b, _, _ in excursion_lots(session)) == sorted([cold_room["INS-1"], cold_room["RT-1"]])


def test_a_monitored_warehouse_that_never_sent_a_reading_is_silent_too(
    session_factory: sessionmaker[Session], world: World
) -> None:
    with session_factory() as session, session.begin():
        logger, token = monitoring.register_logger(session, world.actors["quality_a"],
                                                   warehouse_id=world.warehouses["A-COOL"], code="LOG-COOL-1")
        registered = logger.created_at
    with session_factory() as session, session.begin():
        # 20 minutes after registration, nothing read (interval 5): A-COOL is silent; A-AMB has no
        # logger, no readings and no rules: it is not monitored, so not flagged
        (gap,) = monitoring.flag_silent_warehouses(session, world.actors["quality_a"],
                                                   now=registered + minutes(20))
        assert (gap.warehouse_id, gap.kind, gap.started_at, gap.ended_at, gap.minutes) == (
            world.warehouses["A-COOL"], ExcursionKind.GAP, registered, None, D("20.00"))
    with session_factory() as session, session.begin():  # the logger finally reads, 25 minutes after
        outcome = monitoring.post_logger_readings(session, token=token, readings=[
            monitoring.Reading(registered + minutes(25), D("12.00"), D("50"))])
        (closed,) = outcome.excursions
        assert (closed.id, closed.ended_at, closed.minutes) == (gap.id, registered + minutes(25), D("25.00"))
