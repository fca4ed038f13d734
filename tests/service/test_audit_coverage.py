"""Every change an auditor asks about is in the audit trail, with who, when, what and why
(trial findings 122 and 136).

Two halves. ``test_every_write_service_is_classified`` reads the services' source: every
function that checks a role for an action that is not a read (``actor.require_role(...,
action="...")``) must be named in ``WRITES`` below, either as audited (the entity and
actions it records) or as a posting (the journal and the stock ledger record it with its
user and time) or a run of a job: a write service added later fails here until someone
decides. The walk then performs each kind the findings named (production orders, the
roll-up's release, the month-end and group closes, a reopening, a credit release) and
asserts its audit row: the actor, the record, and the reason where the business requires
one (releases, reopenings, reversals); and that a system-written reason reads in Chinese.
"""

from __future__ import annotations

import ast
import datetime as dt
from decimal import Decimal as D
from pathlib import Path

import pytest
from babel.support import Translations
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from erp.audit import services as audit
from erp.audit.models import AuditEvent
from erp.costing import close as closing
from erp.credit import services as credit
from erp.errors import ValidationFailed
from erp.narration import read
from erp.production import orders, rollup
from tests.credit import POLICY, new_order as new_sales_order, set_limit
from tests.production import (
    NOV,
    build_plant,
    buy,
    complete,
    deliver,
    issue,
    new_order,
    refused_in,
    release_rollup,
)
from tests.world import World

SF = sessionmaker[Session]
ERP = Path(__file__).resolve().parents[2] / "erp"
ZH = Translations.load(str(ERP / "translations"), ["zh"]).gettext

# module:function -> how the change is recorded. "audit entity action[,action]": rows of the
# audit trail; "posting": a journal entry / stock document carrying the user and time (a
# reversal's reason on the document); "job": a job run recorded by the job runner (its
# user, start and outcome); "none: why" for a write nobody audits.
WRITES: dict[str, str] = {
    # master data, users, rights, prices, limits, quality decisions: audited since before
    "auth/services.py:create_user": "audit user create",
    "auth/services.py:update_user": "audit user change",
    "auth/services.py:revoke_user_tokens": "audit user tokens-revoked",
    "costing/standards.py:set_standard_prices": "audit standard_price create,change",
    "credit/limits.py:set_credit_limit": "audit customer_credit limit-set,hold",
    "credit/limits.py:suggest_limits": "job",
    "credit/jobs.py:queue_recompute": "job",
    "credit/jobs.py:queue_snapshots": "job",
    "credit/jobs.py:take_snapshots": "job",
    "credit/parameters.py:store_parameters": "audit credit_model create",
    "credit/profiles.py:record_credit_data": "audit customer_credit_data create",
    "credit/profiles.py:open_dispute": "none: a dispute is a row of its own with who, when and why",
    "credit/profiles.py:resolve_dispute": "none: the dispute keeps who resolved it, when and why",
    "credit/services.py:set_credit_hold": "audit customer_credit hold,hold-lifted",
    "credit/services.py:release_order": "audit sales_order credit-release",
    "credit/services.py:cancel_order": "audit sales_order cancel",
    "credit/services.py:create_order": "none: the sales order keeps its author and time",
    "credit/services.py:confirm_order": "none: the order keeps who confirmed it; a block is the credit check's",
    "credit/services.py:ship_order": "posting",
    "credit/services.py:record_payment": "posting",
    "credit/services.py:apply_credit": "posting",
    "credit/sales_desk.py:form_choices": "none: a read of the order form",
    "credit/sales_desk.py:partner_lines": "none: a read of the buyer's open purchase order lines for the order form",
    "credit/payment_reversals.py:reverse_customer_payment": "audit customer_payment reverse",
    "credit/notes.py:issue_credit_note": "posting",
    "credit/notes.py:return_goods": "posting",
    "credit/notes.py:apply_credit_note": "posting",
    "credit/notes.py:issue_debit_note": "posting",
    "credit/opening.py:take_over_receivables": "posting",
    "purchasing/contracts.py:_require_contract_author": "audit contract create,activate,terminate",
    "purchasing/exceptions.py:grant_exception": "audit purchasing_exception grant",
    "purchasing/exceptions.py:revoke_exception": "audit purchasing_exception revoke",
    "purchasing/orders.py:create_purchase_order": "none: the purchase order keeps its author, approvals and time",
    "payables/services.py:set_tolerances": "audit payables_tolerance change",
    "payables/services.py:release_invoice": "audit supplier_invoice release",
    "payables/services.py:reverse_invoice": "audit supplier_invoice reverse",
    "payables/services.py:pay_supplier": "posting",
    "payables/services.py:reverse_payment": "audit supplier_payment reverse",
    "payables/price_reductions.py:enter_price_reduction": "audit supplier_invoice enter-price-reduction",
    "payables/price_differences.py:write_missing_price_differences": "posting",
    "payables/wip_price_differences.py:correct_orphans": "audit supplier_invoice wip-price-difference-corrected",
    "payables/wip_price_differences.py:reverse_correction": "audit supplier_invoice "
                                                            "wip-price-difference-correction-reversed",
    "quality/services.py:create_specification": "audit specification create",
    "quality/services.py:record_results": "none: each result keeps who recorded it and when",
    "quality/services.py:record_certificate": "none: the certificate keeps who recorded it and when",
    "quality/services.py:decide_usage": "audit inspection_lot usage-decision-signed,signature-refused",
    "quality/expiry.py:block_expired": "posting",
    "quality/monitoring.py:configure_monitoring": "audit storage_monitoring create,change",
    "quality/monitoring.py:register_logger": "audit data_logger create",
    "quality/monitoring.py:deactivate_logger": "audit data_logger deactivate",
    "quality/monitoring.py:import_readings": "none: the readings keep the logger or user and time",
    "quality/monitoring.py:flag_silent_warehouses": "posting",
    "inventory/services.py:book_receipt": "posting",
    "inventory/services.py:book_receipt_reversal": "posting",
    "inventory/services.py:book_quality_decision": "posting",
    "inventory/services.py:book_return": "posting",
    "inventory/services.py:book_issue": "posting",
    "inventory/services.py:book_issue_reversal": "posting",
    "inventory/services.py:issue_lines_to_production_order": "posting",
    "inventory/services.py:issue_to_production_order": "posting",
    "inventory/services.py:ship_goods": "posting",
    "inventory/services.py:ship_lines": "posting",
    "inventory/services.py:take_back_goods": "posting",
    "inventory/services.py:book_transfer": "posting",
    "inventory/services.py:book_adjustment": "posting",
    # what findings 122 and 136 found missing
    "production/orders.py:create_order": "audit production_order create",
    "production/orders.py:release_order": "audit production_order release",
    "production/orders.py:cancel_order": "audit production_order cancel",
    "production/orders.py:complete_order": "audit production_order complete",
    "production/orders.py:issue_components": "posting",
    "production/orders.py:deliver_output": "posting",
    "production/orders.py:reverse_delivery": "audit production_order reverse-delivery",
    "production/rollup.py:run_rollup": "audit cost_rollup create",
    "production/rollup.py:release_rollup": "audit cost_rollup release",
    "production/boms.py:create_bom": "audit bom create",
    "production/boms.py:set_cost_center_rates": "audit cost_center_rate create,change",
    "costing/close.py:close_periods": "audit period close,group-close",
    "costing/close.py:reopen_period": "audit period reopen",
    "costing/jobs.py:queue_close": "job",
}

READS = ("read", "list", "look", "see", "view", "asking")


def _write_services() -> set[str]:
    """module:function of every function in erp/ (not its pages or API) that checks a role
    for an action that is not a read."""
    found: set[str] = set()
    for path in sorted(ERP.rglob("*.py")):
        if path.name in ("api.py", "pages.py") or path.name.endswith("_pages.py"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in ast.walk(tree):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for call in ast.walk(function):
                if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                        and call.func.attr == "require_role"):
                    continue
                action = next((k.value.value for k in call.keywords if k.arg == "action"
                               and isinstance(k.value, ast.Constant)), "")
                if action and not action.startswith(READS):
                    found.add(f"{path.relative_to(ERP).as_posix()}:{function.name}")
    return found


def test_every_write_service_is_classified() -> None:
    found = _write_services()
    unclassified = sorted(found - set(WRITES))
    assert not unclassified, f"write services nobody decided how to audit (add them to WRITES): {unclassified}"
    gone = sorted(set(WRITES) - found)
    assert not gone, f"WRITES names services that no longer check a role for a write: {gone}"


def test_every_audited_entity_and_action_has_its_words_on_the_page() -> None:
    from erp.ui.labels import AUDIT_ACTIONS, AUDIT_ENTITIES

    for how in WRITES.values():
        if how.startswith("audit "):
            _, entity, actions = how.split(" ", 2)
            assert entity in AUDIT_ENTITIES, entity
            for action in actions.split(","):
                assert action in AUDIT_ACTIONS, action


def _events(session_factory: SF, entity: str, entity_id: int | None = None) -> list[AuditEvent]:
    with session_factory() as session:
        query = select(AuditEvent).where(AuditEvent.entity == entity)
        if entity_id is not None:
            query = query.where(AuditEvent.entity_id == entity_id)
        return list(session.scalars(query.order_by(AuditEvent.id)))


def _one(events: list[AuditEvent], action: str, actor: str, *, reason: str | None = None) -> AuditEvent:
    matching = [e for e in events if e.action == action]
    assert len(matching) == 1, (action, [(e.action, e.reason) for e in events])
    event = matching[0]
    assert event.actor_name == actor and event.actor_id is not None and event.occurred_at is not None
    if reason is not None:
        assert event.reason == reason
    return event


def test_production_orders_are_audited_from_creation_to_completion(session_factory: SF, world: World) -> None:
    plant = build_plant(session_factory, world)
    release_rollup(session_factory, world)
    buy(session_factory, world, "acid", "150", "50.00", "ACID-1")
    buy(session_factory, world, "solvent", "60", "20.00", "SOLV-1", supplier="sup2")
    order = new_order(session_factory, world, "api", "100")
    issue(session_factory, world, order, [("acid", "120", None), ("solvent", "52", None)])
    delivery = deliver(session_factory, world, order, "40")
    with refused_in(session_factory, ValidationFailed) as session:
        orders.reverse_delivery(session, world.actors["clerk_a"], order, delivery, posting_date=dt.date(2026, 11, 21),
                                reason="  ")
    with session_factory() as session, session.begin():
        orders.reverse_delivery(session, world.actors["clerk_a"], order, delivery, posting_date=dt.date(2026, 11, 21),
                                reason="wrong batch label")
    complete(session_factory, world, order)
    cancelled = new_order(session_factory, world, "api", "10", release=False)
    with session_factory() as session, session.begin():
        orders.cancel_order(session, world.actors["clerk_a"], cancelled)

    events = _events(session_factory, "production_order", order)
    created = _one(events, "create", "clerk_a")
    assert created.company_id == world.companies["A"]
    assert created.changes["material_id"]["after"] == plant.api and created.changes["quantity"]["after"] == "100.0000"
    assert _one(events, "release", "clerk_a").changes["status"] == {"before": "created", "after": "released"}
    reversed_ = _one(events, "reverse-delivery", "clerk_a", reason="wrong batch label")
    assert reversed_.changes["delivered_quantity"] == {"before": "40.0000", "after": "0.0000"}
    assert _one(events, "complete", "clerk_a").changes["completed_on"]["after"] == "2026-11-28"
    assert _one(_events(session_factory, "production_order", cancelled), "cancel", "clerk_a")


def test_a_roll_ups_release_needs_a_reason_and_records_it_on_the_run_and_each_price(
        session_factory: SF, world: World) -> None:
    plant = build_plant(session_factory, world)
    with session_factory() as session, session.begin():
        run = rollup.run_rollup(session, world.actors["cost_a"], company_id=world.companies["A"], period=NOV).id
    with refused_in(session_factory, ValidationFailed) as session:
        rollup.release_rollup(session, world.actors["cost_a"], run, reason=" ")
    with session_factory() as session, session.begin():
        rollup.release_rollup(session, world.actors["cost_a"], run, reason="annual standards 2027")
    events = _events(session_factory, "cost_rollup", run)
    assert _one(events, "create", "cost_a").changes["materials"]["after"] == 2
    _one(events, "release", "cost_a", reason="annual standards 2027")
    prices = [e for e in _events(session_factory, "standard_price") if e.entity_id in (plant.api, plant.tablet)]
    assert len(prices) == 2
    for price in prices:
        said = read(price.reason)
        assert said is not None and not isinstance(said, str)
        assert said.render() == f"standard cost roll-up {run} of 2026-11 released: annual standards 2027"
        assert "标准成本卷积" in said.render(ZH)


def test_closes_group_closes_and_reopenings_are_audited(session_factory: SF, world: World) -> None:
    period = audit.period_key(NOV)
    with session_factory() as session, session.begin():
        closing.close_period(session, world.actors["cost_a"], company_id=world.companies["A"], period=NOV)
    with session_factory() as session, session.begin():
        closing.close_periods(session, world.actors["cost_group"], company_ids=None, period=NOV)
    with refused_in(session_factory, ValidationFailed) as session:
        closing.reopen_period(session, world.actors["cost_group"], company_id=world.companies["A"], period=NOV,
                              reason="")
    with session_factory() as session, session.begin():
        closing.reopen_period(session, world.actors["cost_group"], company_id=world.companies["A"], period=NOV,
                              reason="late supplier invoice")
    events = _events(session_factory, audit.PERIOD, period)
    of_a = [e for e in events if e.company_id == world.companies["A"]]
    closed = _one(of_a, "close", "cost_a")
    assert closed.changes["closed"] == {"before": False, "after": True}
    reopened = _one(of_a, "reopen", "cost_group", reason="late supplier invoice")
    assert reopened.changes["closed"] == {"before": True, "after": False}
    # the group's close closed every other company, one row each, as the group's month end
    group = [e for e in events if e.action == "group-close"]
    assert group and world.companies["A"] not in {e.company_id for e in group}
    assert {e.actor_name for e in group} == {"cost_group"}
    with session_factory() as session:
        history, _ = audit.record_history(session, world.actors["auditor"], entity=audit.PERIOD, entity_id=period,
                                          company_id=world.companies["A"])
    assert [e.action for e in history] == ["reopen", "close"]


def test_a_credit_release_is_audited_with_its_reason(session_factory: SF, world: World) -> None:
    set_limit(session_factory, world, "cust1", "1000.00")
    blocked = new_sales_order(session_factory, world, lines=[("50", "100.00")], confirm=True).order
    with session_factory() as session, session.begin():
        credit.release_order(session, world.actors["credit"], blocked.id, reason="bank guarantee", policy=POLICY)
    event = _one(_events(session_factory, "sales_order", blocked.id), "credit-release", "credit",
                 reason="bank guarantee")
    assert event.changes["credit_released"] == {"before": False, "after": True}
    assert event.changes["credit_limit"]["after"] == "1000.00" and event.company_id == world.companies["A"]


@pytest.mark.parametrize("key, values, english, chinese", [
    ("import-undone", {"import_id": 7}, "go-live import 7 undone", "撤销"),
    ("period-reopened", {"period": "2026-11", "reason": "x"}, "period 2026-11 reopened: x", "2026-11"),
    ("production-receipt-reversed", {"delivery": "D-1", "reason": "x"}, "production receipt D-1 reversed: x", "D-1"),
])
def test_system_reasons_are_stored_as_narrations_that_read_in_chinese(
        key: str, values: dict[str, object], english: str, chinese: str) -> None:
    from erp.narration import narrate

    said = read(narrate(key, 500, **values))
    assert not isinstance(said, str) and said is not None
    assert said.render() == english
    zh = said.render(ZH)
    assert chinese in zh and zh != english
    # what was stored in English before reads in Chinese too
    legacy = read(english)
    assert not isinstance(legacy, str) and legacy is not None and legacy.render(ZH) == zh
