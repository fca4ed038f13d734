"""The cost accountant's month end before it happens: the preview of an open period's
variance allocation (the close's own figures, nothing written), the period board, and the
close as a background job reporting its steps.

Worked example (as in test_close.py): standard 10.00 per kg of company A's excipient;
receipts 100 kg at 10.50 (variance +50.00) and 200 kg at 9.80 (variance -40.00);
issues of 150 kg to production (1,500.00 at standard) and 30 kg to a cost centre (300.00).
rate = (0 + 10.00) / (0 + 3,000.00) = 1/300; production bears 5.00, the cost centre 1.00,
the variance account gives up 6.00 and 4.00 stays with the 120 kg left.
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from erp.config import Settings
from erp.costing import board, close, jobs
from erp.costing.close import CLOSE_STEPS
from erp.errors import Conflict
from erp.costing.models import JournalEntry, MaterialPeriodBalance, VarianceAllocation
from erp.inventory.services import IssueDestination
from erp.jobs.models import Job, JobStatus
from erp.jobs.runner import JobEnvironment, run_job
from erp.messages import message_from_data
from erp.posting.models import AccountingPeriod, PeriodStatus
from tests.service.test_close import DEC, NOV, Books, _winter_2027  # noqa: F401 - its autouse clock
from tests.stock import set_standard
from tests.world import World


@pytest.fixture
def books(session_factory: sessionmaker[Session], world: World) -> Books:
    set_standard(session_factory, world, "exc_local", "10.00", period=NOV)
    books = Books(session_factory, world)
    books.receive("100", "10.50", batch="R1")
    books.receive("200", "9.80", batch="R2")
    books.issue("150")
    books.issue("30", IssueDestination.COST_CENTER)
    return books


def _preview(session_factory: sessionmaker[Session], world: World, period: str = NOV,
             user: str = "cost_a") -> board.ClosePreview:
    with session_factory() as session, session.begin():
        return board.preview_close(session, world.actors[user], company_id=world.companies["A"], period=period)


def _written(session_factory: sessionmaker[Session]) -> tuple[int, int, int]:
    with session_factory() as session:
        return (session.scalar(select(func.count()).select_from(MaterialPeriodBalance)) or 0,
                session.scalar(select(func.count()).select_from(VarianceAllocation)) or 0,
                session.scalar(select(func.count()).select_from(JournalEntry)
                               .where(JournalEntry.source_type == "period_close")) or 0)


def test_the_preview_shows_the_allocation_the_close_will_post_and_writes_nothing(
    books: Books, session_factory: sessionmaker[Session], world: World
) -> None:
    preview = _preview(session_factory, world)
    (material,) = preview.materials
    assert material.variance_rate == D("0.0033333333")
    assert (material.receipts_value, material.receipts_variance) == (D("3000.00"), D("10.00"))
    assert (material.consumption_value, material.consumption_variance) == (D("1800.00"), D("6.00"))
    assert (material.closing_value, material.closing_variance) == (D("1200.00"), D("4.00"))
    assert {line.account_code: line.allocated_variance for line in preview.lines} == {"5001": D("5.00"),
                                                                                       "5101": D("1.00")}
    assert {j["account_code"]: j["amount"] for j in preview.journal} == {"5001": D("5.00"), "5101": D("1.00"),
                                                                         "1404": D("-6.00")}
    assert (preview.variance_allocated, preview.variance_remaining) == (D("6.00"), D("4.00"))
    assert _written(session_factory) == (0, 0, 0)
    with session_factory() as session:
        period = session.get(AccountingPeriod, (world.companies["A"], NOV))
        assert period is None or period.status == PeriodStatus.OPEN
    # The close then posts exactly what was previewed.
    books.close()
    assert books.close_entry() == {"5001": D("5.00"), "5101": D("1.00"), "1404": D("-6.00")}
    assert books.row().closing_variance == D("4.00")


def test_the_preview_refuses_a_closed_period_and_one_the_close_would_refuse(
    books: Books, session_factory: sessionmaker[Session], world: World
) -> None:
    with pytest.raises(Conflict):  # November is still open: the close itself refuses December
        _preview(session_factory, world, period=DEC)
    assert _written(session_factory) == (0, 0, 0)
    books.close()
    with pytest.raises(board.PeriodAlreadyClosed):
        _preview(session_factory, world)
    assert _preview(session_factory, world, period=DEC).materials[0].opening_variance == D("4.00")


def test_the_board_shows_each_companys_periods_closed_open_and_future(
    books: Books, session_factory: sessionmaker[Session], world: World
) -> None:
    books.close()
    periods = board.board_periods(DEC, back=1, ahead=1)
    assert periods == [NOV, DEC, "2027-01"]
    with session_factory() as session:
        rows = board.period_board(session, world.actors["cost_group"], periods=periods, current=DEC)
        only_a = board.period_board(session, world.actors["cost_a"], periods=periods, current=DEC)
    by_code = {row.company.code: row for row in rows}
    assert set(by_code) == {"CA", "CB", "CC"}
    assert [s.value for s in by_code["CA"].states.values()] == ["closed", "open", "not_yet_begun"]
    assert (by_code["CA"].latest_closed, by_code["CA"].next_to_close) == (NOV, DEC)
    assert [s.value for s in by_code["CB"].states.values()] == ["open", "open", "not_yet_begun"]
    assert [row.company.code for row in only_a] == ["CA"]


def test_the_board_takes_its_states_from_the_close_service_through_a_reopen(
    books: Books, session_factory: sessionmaker[Session], world: World
) -> None:
    books.close()
    periods = [NOV, DEC, "2027-01"]
    ids = [world.companies[key] for key in "ABC"]

    def board_and_close() -> tuple[dict[str, list[str]], dict[str, list[str]], str]:
        with session_factory() as session:
            rows = board.period_board(session, world.actors["cost_group"], periods=periods, current=DEC)
            states = close.period_states(session, ids, periods, current=DEC)
            stored = {r.company_id: r.status.value for r in close.close_results(session, ids, NOV)}
        codes = {world.companies[key]: f"C{key}" for key in "ABC"}
        return ({row.company.code: [s.value for s in row.states.values()] for row in rows},
                {codes[c]: [s.value for s in by_period.values()] for c, by_period in states.items()},
                stored[world.companies["A"]])

    shown, ruled, stored = board_and_close()
    assert shown == ruled
    assert shown["CA"] == ["closed", "open", "not_yet_begun"] and stored == "closed"
    with session_factory() as session, session.begin():
        close.reopen_period(session, world.actors["cost_group"], company_id=world.companies["A"], period=NOV,
                            reason="late supplier invoice")
    shown, ruled, stored = board_and_close()
    assert shown == ruled
    assert shown["CA"] == ["open", "open", "not_yet_begun"] and stored == "open"


def test_the_group_close_runs_as_a_job_that_reports_each_step(
    books: Books, session_factory: sessionmaker[Session], world: World, settings: Settings, engine: Engine
) -> None:
    with session_factory() as session, session.begin():
        job_id = jobs.queue_close(session, world.actors["cost_group"], period=NOV, company_ids=None).id
    assert run_job(JobEnvironment(settings, engine, session_factory), job_id) == JobStatus.SUCCEEDED
    with session_factory() as session:
        job = session.get(Job, job_id)
        assert job is not None
        assert (job.rows_done, job.rows_total) == (len(CLOSE_STEPS), len(CLOSE_STEPS))
        results = {c["company_code"]: c for c in job.result["companies"]}
        assert set(results) == {"CA", "CB", "CC"}
        assert results["CA"]["status"] == "closed"
        assert (results["CA"]["variance_allocated"], results["CA"]["variance_remaining"]) == ("6.00", "4.00")
        states = dict(session.execute(select(AccountingPeriod.company_id, AccountingPeriod.status)
                                      .where(AccountingPeriod.period == NOV)).all())
    assert all(states[world.companies[key]] == PeriodStatus.CLOSED for key in ("A", "B", "C"))


def test_a_close_job_the_calendar_refuses_fails_with_the_reason_kept_as_a_message(
    books: Books, session_factory: sessionmaker[Session], world: World, settings: Settings, engine: Engine
) -> None:
    with session_factory() as session, session.begin():
        # March 2027 has not ended on the day these run (2027-03-01): period-not-ended
        job_id = jobs.queue_close(session, world.actors["cost_group"], period="2027-03",
                                  company_ids=[world.companies["A"]]).id
    assert run_job(JobEnvironment(settings, engine, session_factory), job_id) == JobStatus.FAILED
    with session_factory() as session:
        job = session.get(Job, job_id)
        assert job is not None and job.message
        problem = job.result["problem"]
    assert problem["status"] == 409
    # The reason comes back as the message it was raised with (for the reader's language).
    assert str(message_from_data(problem["message_data"])) == job.message
    assert _written(session_factory) == (0, 0, 0)
