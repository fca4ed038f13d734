"""Inspection lots: opened by receipts of inspected materials, results judged against the
specification in force on the receipt date, and QA's signed usage decision (four eyes,
password re-entry, deviations for results out of specification)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from erp.audit.models import AuditEvent
from erp.auth.models import User, UserCompany
from erp.auth.errors import RoleNotAllowed
from erp.auth.roles import Actor, Role
from erp.auth.services import actor_for_user
from erp.inventory import services as inventory
from erp.masterdata.models import Warehouse
from erp.posting.models import StockDocument, StockStatus
from erp.quality import errors, services
from erp.quality.models import InspectionLot, LotOrigin, LotStatus, UsageDecision, UsageDecisionKind
from erp.clock import business_day
from tests.quality import group_qa
from tests.stock import NOV_20, balances, batch_id, open_order, receive, set_standard
from tests.world import PASSWORD, PASSWORD_HASH, World

C = services.CharacteristicInput
R = services.ResultInput
AMOX_SPEC = [
    C("ASSAY", "含量", "Assay", "%", minimum=D("98.0"), maximum=D("102.0")),
    C("WATER", "水分", "Water content", "%", maximum=D("0.5")),
    C("APPEARANCE", "性状", "Appearance", expected_text="white crystalline powder"),
]
CONFORMING = [R("ASSAY", D("99.6")), R("WATER", D("0.21")), R("APPEARANCE", text="White crystalline powder ")]


@pytest.fixture
def qa(session_factory: sessionmaker[Session], world: World) -> Actor:
    """A second quality user of company A: the QA person who signs what the analyst tested."""
    with session_factory() as session, session.begin():
        user = User(username="qa_a", display_name="QA Wang", password_hash=PASSWORD_HASH, role=Role.QUALITY,
                    group_wide=False, companies=[UserCompany(company_id=world.companies["A"])])
        session.add(user)
        session.flush()
        return actor_for_user(user)


def specify(session_factory: sessionmaker[Session], world: World, material: str = "api_central", *,
            effective: dt.date = dt.date(2026, 1, 1), characteristics: list[C] | None = None) -> int:
    """A version by group QA, recorded on the day it takes effect (never back-dated)."""
    author = group_qa(session_factory, world)
    with business_day(effective), session_factory() as session, session.begin():
        return services.create_specification(
            session, author, material_id=world.materials[material], effective_from=effective,
            reason="pharmacopoeia monograph", characteristics=characteristics or AMOX_SPEC).id


def received_lot(session_factory: sessionmaker[Session], world: World, quantity: str = "120") -> InspectionLot:
    set_standard(session_factory, world, "api_central", "52.00")
    (line,) = open_order(session_factory, world, [("api_central", "200", "55.50", "A-COOL")])
    document = receive(session_factory, world, line, quantity)
    with session_factory() as session:
        return session.scalars(select(InspectionLot).where(InspectionLot.source_document_id == document)).one()


def record(session_factory: sessionmaker[Session], actor: Actor, lot_id: int, results: list[R]) -> None:
    with session_factory() as session, session.begin():
        services.record_results(session, actor, lot_id=lot_id, results=results)


def sign(session_factory: sessionmaker[Session], actor: Actor, lot_id: int, *, password: str = PASSWORD,
         decision: UsageDecisionKind = UsageDecisionKind.RELEASE, **kwargs: object) -> UsageDecision:
    """Sign as the view does: commit the attempt, then raise a refusal."""
    with session_factory() as session:
        with session.begin():
            outcome = services.decide_usage(session, actor, lot_id=lot_id, decision=decision, password=password,
                                            posting_date=NOV_20, **kwargs)  # type: ignore[arg-type]
        decision_row = outcome.signed()
        session.expunge(decision_row)
        return decision_row


# --- lots and results ----------------------------------------------------------------------

def test_receipt_of_an_inspected_material_opens_a_lot_under_the_specification_in_force_that_day(
    session_factory: sessionmaker[Session], world: World
) -> None:
    first = specify(session_factory, world, effective=dt.date(2026, 1, 1))
    specify(session_factory, world, effective=dt.date(2026, 12, 1))  # a later version, not yet in force on 20 Nov
    lot = received_lot(session_factory, world)
    assert (lot.origin, lot.status, lot.quantity, lot.inspection_date) == (
        LotOrigin.RECEIPT, LotStatus.OPEN, D("120"), NOV_20)
    assert lot.specification_id == first
    assert lot.warehouse_id == world.warehouses["A-COOL"]
    assert lot.batch_id == batch_id(session_factory, world, "api_central", "B-001")
    assert lot.number == f"IL-{lot.id:08d}"


def test_receipt_of_a_material_without_inspection_opens_no_lot(
    session_factory: sessionmaker[Session], world: World
) -> None:
    set_standard(session_factory, world, "exc_local", "8.40")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "8.40", "A-AMB")])
    receive(session_factory, world, line, "100")
    with session_factory() as session:
        assert session.scalars(select(InspectionLot)).all() == []


def test_results_are_judged_against_the_limits_and_text_criteria(
    session_factory: sessionmaker[Session], world: World
) -> None:
    specify(session_factory, world)
    lot = received_lot(session_factory, world)
    # assay 97.9 < 98.0: out; water 0.5 = maximum: in (limits inclusive); appearance differs only in case/blanks
    record(session_factory, world.actors["quality_a"], lot.id,
           [R("ASSAY", D("97.9")), R("WATER", D("0.5")), R("APPEARANCE", text=" WHITE crystalline powder")])
    with session_factory() as session:
        view = services.lot_view(session, world.actors["quality_a"], lot.id)
        judged = {r.code: r.laboratory.conforms for r in view.results if r.laboratory}
        assert judged == {"ASSAY": False, "WATER": True, "APPEARANCE": True}
        assert view.out_of_specification and view.complete
    # a re-test supersedes the first result for the decision; both stay recorded
    record(session_factory, world.actors["quality_a"], lot.id, [R("ASSAY", D("98.4"))])
    with session_factory() as session:
        view = services.lot_view(session, world.actors["quality_a"], lot.id)
        assert not view.out_of_specification


def test_a_result_for_a_characteristic_not_in_the_specification_is_refused(
    session_factory: sessionmaker[Session], world: World
) -> None:
    specify(session_factory, world)
    lot = received_lot(session_factory, world)
    with pytest.raises(errors.ResultNotApplicable):
        record(session_factory, world.actors["quality_a"], lot.id, [R("PH", D("6.5"))])
    with pytest.raises(errors.ResultNotApplicable):  # a text criterion takes a text
        record(session_factory, world.actors["quality_a"], lot.id, [R("APPEARANCE", D("1"))])


def test_the_certificate_of_analysis_is_compared_with_the_laboratory(
    session_factory: sessionmaker[Session], world: World
) -> None:
    specify(session_factory, world)
    lot = received_lot(session_factory, world)
    record(session_factory, world.actors["quality_a"], lot.id, CONFORMING)
    with session_factory() as session, session.begin():
        services.record_certificate(session, world.actors["quality_a"], lot_id=lot.id, number="COA-2611-07",
                                    issued_on=dt.date(2026, 11, 10), file_name="coa.pdf",
                                    content_type="application/pdf", content=b"%PDF-1.4 certificate",
                                    results=[R("ASSAY", D("99.9")), R("WATER", D("0.18"))])
    with session_factory() as session:
        view = services.lot_view(session, world.actors["quality_a"], lot.id)
        differences = {r.code: r.difference for r in view.results}
        # 99.6 - 99.9 = -0.3; 0.21 - 0.18 = 0.03; no certificate value for the appearance
        assert differences == {"ASSAY": D("-0.3"), "WATER": D("0.03"), "APPEARANCE": None}
        assert view.certificate is not None and view.certificate.number == "COA-2611-07"
        assert len(view.certificate.sha256) == 64


def test_a_specification_version_per_date(session_factory: sessionmaker[Session], world: World) -> None:
    specify(session_factory, world, effective=dt.date(2026, 1, 1))
    with pytest.raises(errors.SpecificationDateTaken):
        specify(session_factory, world, effective=dt.date(2026, 1, 1))
    with session_factory() as session:
        versions = services.list_specifications(session, world.actors["quality_a"], world.materials["api_central"])
        assert [v.version for v in versions] == [1]
        events = session.scalars(select(AuditEvent).where(AuditEvent.entity == "specification")).all()
        assert [e.action for e in events] == ["create"]


# --- the usage decision ------------------------------------------------------------------------

def test_results_within_specification_and_a_qa_signature_release_the_lot(
    session_factory: sessionmaker[Session], world: World, qa: Actor
) -> None:
    specify(session_factory, world)
    lot = received_lot(session_factory, world)
    record(session_factory, world.actors["quality_a"], lot.id, CONFORMING)
    signed = sign(session_factory, qa, lot.id)
    assert (signed.signed_by, signed.signer_name, signed.meaning) == (qa.user_id, "QA Wang", "released")
    assert signed.signed_at is not None and not signed.out_of_specification
    with session_factory() as session:
        # 120 kg at 52.00 = 6,240.00 moved from quarantine to unrestricted
        assert balances(session, warehouse_id=world.warehouses["A-COOL"]) == [
            ("B-001", "quarantine", D("0.0000"), D("0.00")), ("B-001", "unrestricted", D("120.0000"), D("6240.00"))]
        assert session.get(InspectionLot, lot.id).status == LotStatus.RELEASED  # type: ignore[union-attr]
        document = session.get(StockDocument, signed.document_id)
        assert document is not None and document.reference == lot.number
        assert document.doc_type == "quality_release"


def test_the_analyst_cannot_sign_their_own_lot(
    session_factory: sessionmaker[Session], world: World
) -> None:
    specify(session_factory, world)
    lot = received_lot(session_factory, world)
    record(session_factory, world.actors["quality_a"], lot.id, CONFORMING)
    with pytest.raises(errors.SignerRecordedResults):
        sign(session_factory, world.actors["quality_a"], lot.id)
    with session_factory() as session:
        assert session.get(InspectionLot, lot.id).status == LotStatus.OPEN  # type: ignore[union-attr]
        assert balances(session, warehouse_id=world.warehouses["A-COOL"]) == [
            ("B-001", "quarantine", D("120.0000"), D("6240.00"))]


def test_a_wrong_password_at_signing_is_refused_and_recorded(
    session_factory: sessionmaker[Session], world: World, qa: Actor
) -> None:
    specify(session_factory, world)
    lot = received_lot(session_factory, world)
    record(session_factory, world.actors["quality_a"], lot.id, CONFORMING)
    with pytest.raises(errors.SignatureNotVerified):
        sign(session_factory, qa, lot.id, password="not my password")
    with session_factory() as session:
        assert session.scalars(select(UsageDecision)).all() == []
        assert session.get(InspectionLot, lot.id).status == LotStatus.OPEN  # type: ignore[union-attr]
        (event,) = session.scalars(select(AuditEvent).where(AuditEvent.entity == "inspection_lot",
                                                            AuditEvent.entity_id == lot.id)).all()
        assert (event.action, event.actor_id, event.company_id) == (
            "signature-refused", qa.user_id, world.companies["A"])


def test_a_result_out_of_specification_blocks_release_without_a_deviation(
    session_factory: sessionmaker[Session], world: World, qa: Actor
) -> None:
    specify(session_factory, world)
    lot = received_lot(session_factory, world)
    record(session_factory, world.actors["quality_a"], lot.id,
           [R("ASSAY", D("99.6")), R("WATER", D("0.74")), R("APPEARANCE", text="white crystalline powder")])
    with pytest.raises(errors.OutOfSpecification):
        sign(session_factory, qa, lot.id)
    with pytest.raises(errors.OutOfSpecification):  # a reference without a reason is not enough
        sign(session_factory, qa, lot.id, deviation_reference="DEV-2026-031")
    with session_factory() as session:
        assert session.get(InspectionLot, lot.id).status == LotStatus.OPEN  # type: ignore[union-attr]
    signed = sign(session_factory, qa, lot.id, deviation_reference="DEV-2026-031",
                  reason="water re-tested after drying; use approved for granulation")
    assert signed.out_of_specification and signed.deviation_reference == "DEV-2026-031"


def test_rejection_moves_the_lot_to_blocked_stock(
    session_factory: sessionmaker[Session], world: World, qa: Actor
) -> None:
    specify(session_factory, world)
    lot = received_lot(session_factory, world)
    record(session_factory, world.actors["quality_a"], lot.id, [R("ASSAY", D("91.0"))])
    signed = sign(session_factory, qa, lot.id, decision=UsageDecisionKind.REJECT, reason="assay far below limit")
    assert signed.meaning == "rejected"
    with session_factory() as session:
        assert balances(session, warehouse_id=world.warehouses["A-COOL"]) == [
            ("B-001", "blocked", D("120.0000"), D("6240.00")), ("B-001", "quarantine", D("0.0000"), D("0.00"))]
    with pytest.raises(errors.LotNotOpen):  # decided once, for good
        sign(session_factory, qa, lot.id)


def test_release_needs_a_result_for_every_characteristic(
    session_factory: sessionmaker[Session], world: World, qa: Actor
) -> None:
    specify(session_factory, world)
    lot = received_lot(session_factory, world)
    record(session_factory, world.actors["quality_a"], lot.id, [R("ASSAY", D("99.6"))])
    with pytest.raises(errors.ResultsIncomplete):
        sign(session_factory, qa, lot.id)


def test_reversing_the_receipt_cancels_its_open_lot(
    session_factory: sessionmaker[Session], world: World
) -> None:
    lot = received_lot(session_factory, world)
    with session_factory() as session, session.begin():
        inventory.reverse_receipt(session, world.actors["clerk_a"], document_id=lot.source_document_id,
                                  posting_date=NOV_20, reason="wrong delivery")
    with session_factory() as session:
        assert session.get(InspectionLot, lot.id).status == LotStatus.CANCELLED  # type: ignore[union-attr]


def test_reversing_a_receipt_whose_lot_moved_away_leaves_that_lot_and_takes_what_left_off_the_lot_here(
    session_factory: sessionmaker[Session], world: World
) -> None:
    """R1 brings 40 of batch B-001 into A-COOL (lot L1); all of it is transferred to a second
    cool room, L1 with it; R3 brings 120 more of B-001 into A-COOL (lot L3). Reversing R1
    takes 40 of R3's goods from A-COOL: L1 stays open on its 40 in the other room, and L3
    covers the 80 left here, not 120."""
    set_standard(session_factory, world, "api_central", "52.00")
    (line,) = open_order(session_factory, world, [("api_central", "200", "55.50", "A-COOL")])
    r1 = receive(session_factory, world, line, "40")
    cool, batch = world.warehouses["A-COOL"], batch_id(session_factory, world, "api_central", "B-001")
    with session_factory() as session, session.begin():
        first = session.get(Warehouse, cool)
        assert first is not None
        other = Warehouse(code="CA-COOL2", company_id=first.company_id, name_zh="备用阴凉库", name_en="second cool room",
                          temp_min=first.temp_min, temp_max=first.temp_max, max_humidity=first.max_humidity)
        session.add(other)
        session.flush()
        other_id = other.id
        inventory.transfer_stock(session, world.actors["clerk_a"], from_warehouse_id=cool, to_warehouse_id=other_id,
                                 material_id=world.materials["api_central"], quantity=D("40"), posting_date=NOV_20,
                                 batch_id=batch, status=StockStatus.QUARANTINE)
    r3 = receive(session_factory, world, line, "120")
    with session_factory() as session, session.begin():
        inventory.reverse_receipt(session, world.actors["clerk_a"], document_id=r1, posting_date=NOV_20,
                                  reason="wrong delivery")
    with session_factory() as session:
        l1 = session.scalars(select(InspectionLot).where(InspectionLot.source_document_id == r1)).one()
        l3 = session.scalars(select(InspectionLot).where(InspectionLot.source_document_id == r3)).one()
        assert (l1.warehouse_id, l1.status, l1.quantity) == (other_id, LotStatus.OPEN, D("40"))
        assert (l3.warehouse_id, l3.status, l3.quantity) == (cool, LotStatus.OPEN, D("80"))
        assert [(s, q) for _, s, q, _ in balances(session, warehouse_id=cool) if q] == [("quarantine", D("80"))]
        assert [(s, q) for _, s, q, _ in balances(session, warehouse_id=other_id) if q] == [("quarantine", D("40"))]


def test_a_lot_opened_before_any_specification_takes_the_version_in_force_when_it_is_tested(
    session_factory: sessionmaker[Session], world: World, qa: Actor
) -> None:
    lot = received_lot(session_factory, world)  # received 20 Nov, no specification then
    assert lot.specification_id is None
    with pytest.raises(errors.ResultNotApplicable):
        record(session_factory, world.actors["quality_a"], lot.id, CONFORMING)
    with business_day(dt.date(2026, 12, 10)):  # group QA writes one on 10 Dec, in force from 1 Jan
        specify_on = services.create_specification
        with session_factory() as session, session.begin():
            specify_on(session, group_qa(session_factory, world), material_id=lot.material_id,
                       effective_from=dt.date(2027, 1, 1), reason="new monograph", characteristics=AMOX_SPEC)
    with pytest.raises(errors.ResultNotApplicable):  # not in force yet on 15 Dec
        record(session_factory, world.actors["quality_a"], lot.id, CONFORMING)
    in_force = specify(session_factory, world, effective=dt.date(2026, 12, 12))  # in force today, 15 Dec
    record(session_factory, world.actors["quality_a"], lot.id, CONFORMING)
    with session_factory() as session:
        assert session.get(InspectionLot, lot.id).specification_id == in_force  # type: ignore[union-attr]


def test_a_plain_quality_decision_cannot_bypass_the_signature_of_a_specified_lot(
    session_factory: sessionmaker[Session], world: World
) -> None:
    specify(session_factory, world)
    lot = received_lot(session_factory, world)
    with session_factory() as session, session.begin(), pytest.raises(errors.InspectionLotOpen):
        inventory.decide_quarantine(session, world.actors["quality_a"], warehouse_id=lot.warehouse_id,
                                    batch_id=lot.batch_id, decision=inventory.QualityDecision.RELEASE,
                                    posting_date=NOV_20)
    with session_factory() as session:
        assert balances(session, warehouse_id=world.warehouses["A-COOL"]) == [
            ("B-001", "quarantine", D("120.0000"), D("6240.00"))]


def test_a_plain_quality_decision_cannot_release_an_inspected_batch_whose_material_has_no_specification(
    session_factory: sessionmaker[Session], world: World, qa: Actor
) -> None:
    lot = received_lot(session_factory, world)  # no specification of the material at all
    with session_factory() as session, session.begin(), pytest.raises(errors.InspectionLotOpen):
        inventory.decide_quarantine(session, world.actors["quality_a"], warehouse_id=lot.warehouse_id,
                                    batch_id=lot.batch_id, decision=inventory.QualityDecision.RELEASE,
                                    posting_date=NOV_20)
    # nor does QA's signature release it before it was tested against a specification
    with pytest.raises(errors.ResultsIncomplete):
        sign(session_factory, qa, lot.id)
    # a plain rejection (to blocked) takes nothing into use: still allowed, the lot stays to decide
    with session_factory() as session, session.begin():
        inventory.decide_quarantine(session, world.actors["quality_a"], warehouse_id=lot.warehouse_id,
                                    batch_id=lot.batch_id, decision=inventory.QualityDecision.REJECT,
                                    posting_date=NOV_20, quantity=D("20"))
    with session_factory() as session:
        assert balances(session, warehouse_id=world.warehouses["A-COOL"]) == [
            ("B-001", "blocked", D("20.0000"), D("1040.00")), ("B-001", "quarantine", D("100.0000"), D("5200.00"))]


def test_quarantined_stock_of_an_inspected_material_without_a_lot_is_not_released_plainly(
    session_factory: sessionmaker[Session], world: World
) -> None:
    lot = received_lot(session_factory, world)
    with session_factory() as session, session.begin():  # e.g. a go-live balance in quarantine: no lot
        session.get(InspectionLot, lot.id).status = LotStatus.CANCELLED  # type: ignore[union-attr]
    with session_factory() as session, session.begin(), pytest.raises(errors.SignedReleaseRequired):
        inventory.decide_quarantine(session, world.actors["quality_a"], warehouse_id=lot.warehouse_id,
                                    batch_id=lot.batch_id, decision=inventory.QualityDecision.RELEASE,
                                    posting_date=NOV_20)


def test_only_group_qa_keeps_specifications_and_never_back_dated(
    session_factory: sessionmaker[Session], world: World
) -> None:
    today = dt.date(2026, 12, 15)  # the run's business day
    for actor, effective, refusal in (
        (world.actors["quality_a"], today, RoleNotAllowed),  # company A's quality user: not the group's
        (group_qa(session_factory, world), today - dt.timedelta(days=1), errors.SpecificationBackDated),
    ):
        with session_factory() as session, session.begin(), pytest.raises(refusal):
            services.create_specification(session, actor, material_id=world.materials["api_central"],
                                          effective_from=effective, reason="monograph", characteristics=AMOX_SPEC)
    with session_factory() as session, session.begin():
        spec = services.create_specification(session, group_qa(session_factory, world),
                                             material_id=world.materials["api_central"], effective_from=today,
                                             reason="monograph", characteristics=AMOX_SPEC)
        assert (spec.version, spec.effective_from) == (1, today)


def test_a_customer_return_opens_a_lot_for_the_goods_in_quarantine(
    session_factory: sessionmaker[Session], world: World
) -> None:
    set_standard(session_factory, world, "exc_local", "8.00")
    (line,) = open_order(session_factory, world, [("exc_local", "100", "8.00", "A-AMB")])
    receive(session_factory, world, line, "100", batch="ST-1")
    with session_factory() as session, session.begin():
        shipment = inventory.ship_goods(session, world.actors["clerk_a"], warehouse_id=world.warehouses["A-AMB"],
                                        material_id=world.materials["exc_local"], quantity=D("30"),
                                        posting_date=NOV_20, customer_id=world.customers["cust1"], reference="SO-9")
    with session_factory() as session, session.begin():
        returned, _, _ = inventory.take_back_goods(session, world.actors["clerk_a"], shipment_document_id=shipment,
                                                   quantity=D("12"), posting_date=NOV_20, reason="damaged cartons")
    with session_factory() as session:
        lot = session.scalars(select(InspectionLot).where(InspectionLot.source_document_id == returned)).one()
        assert (lot.origin, lot.status, lot.quantity, lot.warehouse_id) == (
            LotOrigin.CUSTOMER_RETURN, LotStatus.OPEN, D("12"), world.warehouses["A-AMB"])
