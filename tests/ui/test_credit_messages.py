"""Credit control speaks the reader's language: a credit decision's ``detail`` (why an order
is blocked, warned or passed) and the problems of a credit model's parameters are
translatable messages, read in Chinese by default and in English on request, with the
customer named by code and name and the figures filled in.

K0001 第一医院 / First Hospital has a limit of 15,000.00 (amounts read as money, ¥15,000.00, in
both languages); a first order of 100 x 100.00 =
10,000.00 is confirmed; a second of 10,000.00 would take the exposure to 20,000.00.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from erp.credit.exposure import CreditOutcome
from erp.credit.models import SalesOrderStatus
from erp.credit.scorecard import DEFAULT_PARAMETERS, Factor
from erp.messages import Message
from erp.ui.i18n import LANGUAGE_COOKIE, translate_message
from tests.credit import new_order, put_stock, set_limit
from tests.world import World


def read(app: Flask, message: Message, language: str) -> str:
    """``message`` as a page of a reader who chose ``language`` shows it."""
    with app.test_request_context(headers={"Cookie": f"{LANGUAGE_COOKIE}={language}"}):
        return translate_message(message)


@pytest.mark.parametrize("language, sentence", [
    ("zh", "客户 K0001 第一医院 的集团信用占用将达到 ¥20,000.00（当前 ¥10,000.00，本次 ¥10,000.00），"
           "超过其信用额度 ¥15,000.00"),
    ("en", "group-wide exposure of customer K0001 First Hospital would be ¥20,000.00 (now ¥10,000.00, this action "
           "¥10,000.00), above its credit limit of ¥15,000.00"),
])
def test_a_blocked_confirmation_says_why_in_the_readers_language(
    app: Flask, session_factory: sessionmaker[Session], world: World, language: str, sentence: str
) -> None:
    put_stock(session_factory, world)
    set_limit(session_factory, world, "cust1", "15000")
    new_order(session_factory, world, confirm=True)
    blocked = new_order(session_factory, world, confirm=True)
    assert blocked.order.status == SalesOrderStatus.BLOCKED and blocked.credit is not None
    assert blocked.credit.outcome == CreditOutcome.BLOCKED
    assert read(app, blocked.credit.detail, language) == sentence
    # The refusal a shipment of it would answer with carries the same sentence.
    assert read(app, blocked.credit.refusal().message, language) == sentence


def test_a_passing_check_reads_in_chinese(app: Flask, session_factory: sessionmaker[Session], world: World) -> None:
    put_stock(session_factory, world)
    set_limit(session_factory, world, "cust1", "15000")
    passed = new_order(session_factory, world, confirm=True).credit
    assert passed is not None and passed.outcome == CreditOutcome.PASSED  # 10,000 of 15,000: below 90 %
    assert read(app, passed.detail, "zh") == "此操作后信用占用为 ¥10,000.00，信用额度为 ¥15,000.00"


def test_every_problem_of_a_credit_model_reads_in_chinese(app: Flask) -> None:
    broken = replace(
        DEFAULT_PARAMETERS,
        factors=tuple(replace(f, weight=f.weight + 1) for f in DEFAULT_PARAMETERS.factors
                      if f.factor != Factor.RATING),
        risk_classes=(), stale_after_months=0, hold_overdue_days=0,
    )
    problems = broken.problems()
    pointers = {pointer for pointer, _ in problems}
    assert {"/factors", "/risk_classes", "/stale_after_months", "/hold_overdue_days"} <= pointers
    for pointer, message in problems:
        english, chinese = read(app, message, "en"), read(app, message, "zh")
        assert english == str(message)
        assert chinese != english and any("\u4e00" <= ch <= "\u9fff" for ch in chinese), (pointer, chinese)
