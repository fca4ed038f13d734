"""What the system writes about its own postings reads in the reader's language: a journal
entry's 摘要 on the journal page and a quality decision's reason on the stock document's page
(erp.narration). They were stored as English sentences and shown as stored to Chinese readers.

Worked example: company A receives 120 kg of API-AMOX on order PO-A-0001 (quarantined, an
inspection lot opened); QA Wang releases the lot with the reason 供应商COA已核对. The journal
says 采购收货 PO-A-0001 in Chinese, "goods receipt PO-A-0001" in English and to an API client
that asks for neither; the release document's reason says 使用决策放行：供应商COA已核对.
An entry stored before narrations, in English ("goods receipt PO-OLD-7"), reads 采购收货
PO-OLD-7 too; one typed by a person in Chinese (旧系统未结发票) stays as typed.
"""

from __future__ import annotations

import ast
import datetime as dt
import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from erp import narration
from erp.config import PROJECT_ROOT
from erp.costing.models import Account
from erp.posting.models import JournalEntry, JournalLine, StockDocument
from erp.quality import services as quality
from erp.quality.models import InspectionLot, UsageDecisionKind
from tests.quality import qa_signer, specify
from tests.stock import open_order, receive, set_standard
from tests.ui.conftest import sign_in
from tests.world import PASSWORD, ApiClient, World

pytestmark = pytest.mark.postgres

ENGLISH_WORD = re.compile(r"\b[a-z]{3,}\b")


def memos(page: str) -> list[str]:
    """The 摘要 cell of each journal line on the page, tags dropped."""
    return [" ".join(re.sub(r"<[^>]+>", " ", cell).split())
            for cell in re.findall(r'data-testid="memo">(.*?)</td>', page, re.S)]


def _receipt(session_factory: sessionmaker[Session], world: World) -> int:
    set_standard(session_factory, world, "api_central", "52.00")
    (line,) = open_order(session_factory, world, [("api_central", "120", "55.50", "A-COOL")], number="PO-A-0001")
    return receive(session_factory, world, line, "120")


def test_the_journal_says_what_each_entry_is_in_the_readers_language(
        client: FlaskClient, api: ApiClient, world: World, session_factory: sessionmaker[Session]) -> None:
    _receipt(session_factory, world)
    with session_factory() as session, session.begin():
        # Stored before narrations: the services' English, and a person's Chinese words.
        for memo in ("goods receipt PO-OLD-7", "旧系统未结发票，上线时转入"):
            entry = JournalEntry(company_id=world.companies["A"], entry_date=dt.date(2026, 11, 2), period="2026-11",
                                 source_type="stock_document", source_id=None, memo=memo)
            session.add(entry)
            session.flush()
            session.add_all([JournalLine(entry_id=entry.id, company_id=entry.company_id, period="2026-11",
                                         account_code=code, amount=amount)
                             for code, amount in (("1403", 1), ("2202.01", -1))])
    sign_in(client, world, "cost_a")
    shown = set(memos(client.get("/costing/journal", query_string={"company": "CA"}).get_data(as_text=True)))
    assert shown == {"采购收货 PO-A-0001", "采购收货 PO-OLD-7", "旧系统未结发票，上线时转入"}, shown
    assert not any(ENGLISH_WORD.search(memo) for memo in shown)
    # Each line's account by code and name, not its code alone.
    page = client.get("/costing/journal", query_string={"company": "CA"}).get_data(as_text=True)
    with session_factory() as session:
        names = {code: name for code, name in session.execute(select(Account.code, Account.name_zh))}
    accounts = re.findall(r'data-testid="account">(.*?)</td>', page, re.S)
    assert accounts and all(a.strip() == f"{a.split()[0]} {names[a.split()[0]]}" for a in accounts), accounts

    sign_in(client, world, "cost_a", "en")
    shown = set(memos(client.get("/costing/journal", query_string={"company": "CA"}).get_data(as_text=True)))
    assert shown == {"goods receipt PO-A-0001", "goods receipt PO-OLD-7", "旧系统未结发票，上线时转入"}, shown

    # The API: English unless Chinese is asked for, never the stored form.
    for language, expected in ((None, "goods receipt PO-A-0001"), ("zh-CN", "采购收货 PO-A-0001")):
        rows = api.as_("cost_a").get("/api/v1/costing/journal", query_string={"company_id": world.companies["A"]},
                                     headers={"Accept-Language": language} if language else {}).get_json()
        said = {row["memo"] for row in rows["items"]} if isinstance(rows, dict) else {row["memo"] for row in rows}
        assert expected in said and not any(memo.startswith("{") for memo in said), said


def test_a_quality_release_gives_its_reason_in_the_readers_language(
        client: FlaskClient, api: ApiClient, world: World, session_factory: sessionmaker[Session]) -> None:
    specify(session_factory, world, "api_central")
    document = _receipt(session_factory, world)
    with session_factory() as session:
        lot = session.scalars(select(InspectionLot).where(InspectionLot.source_document_id == document)).one()
        characteristics = quality.spec_for_lot(session, lot).characteristics  # type: ignore[union-attr]
    with session_factory() as session, session.begin():
        quality.record_results(session, world.actors["quality_a"], lot_id=lot.id, results=[
            quality.ResultInput(c.code, text=c.expected_text) for c in characteristics])
    signer = qa_signer(session_factory, world)
    with session_factory() as session:
        with session.begin():
            outcome = quality.decide_usage(session, signer, lot_id=lot.id, decision=UsageDecisionKind.RELEASE,
                                           password=PASSWORD, posting_date=dt.date(2026, 11, 20),
                                           reason="供应商COA已核对")
        released = outcome.signed().document_id
        number = session.get(StockDocument, released).number  # type: ignore[union-attr]

    sign_in(client, world, "quality_a")
    page = client.get(f"/inventory/documents/{number}").get_data(as_text=True)
    text = " ".join(re.sub(r"<[^>]+>", " ", page).split())
    assert "使用决策放行：供应商COA已核对" in text
    assert "usage decision" not in text and '{"n"' not in page
    sign_in(client, world, "quality_a", "en")
    text = " ".join(re.sub(r"<[^>]+>", " ", client.get(f"/inventory/documents/{number}").get_data(as_text=True)).split())
    assert "usage decision released: 供应商COA已核对" in text

    said = api.as_("quality_a").get(f"/api/v1/inventory/documents/{released}").get_json()["reason"]
    assert said == "usage decision released: 供应商COA已核对"


def test_old_english_narrations_read_in_chinese() -> None:
    """Each sentence the services stored before narrations reads as its narration."""
    cases = {
        "receipt reversal of receipt 12: 数量录错": ("reversal of receipt {receipt}: {reason}", {"receipt": "12"}),
        "usage decision released, deviation DEV-1: ok": ("usage decision released, deviation {deviation}: {reason}",
                                                         {"deviation": "DEV-1", "reason": "ok"}),
        "supplier invoice S0001 INV-9": ("supplier invoice {supplier} {number}", {"supplier": "S0001"}),
        "goods issue to cost_center CC-100": ("goods issue to cost centre {cost_center}", {"cost_center": "CC-100"}),
        "credit note 4 (price), invoice 9: 折让": ("credit note {note}, invoice {invoice}: {reason}", {"invoice": "9"}),
        "payment 17 (BANK-1)": ("customer payment {payment} ({reference})", {"reference": "BANK-1"}),
    }
    for stored, (template, values) in cases.items():
        said = narration.read(stored)
        assert isinstance(said, narration.Message) and said.template == template, (stored, said)
        assert all(said.params[name] == value for name, value in values.items()), said.params


def test_a_narration_never_outgrows_its_column() -> None:
    stored = narration.narrate("stock-reversal", document="GI-00000001", reason="原因" * 400)
    assert len(stored) <= narration.MEMO_LENGTH
    said = narration.read(stored)
    assert isinstance(said, narration.Message) and said.params["reason"].endswith("…")


def test_a_narration_shortens_records_names_rather_than_refuse() -> None:
    """A supplier may have names of 200 characters in each language (master data's limit):
    the memo of its invoice (300 characters) keeps the code and the invoice number whole and
    shortens both names (they were stored whole and the posting failed with ValueError)."""
    long_name = narration.Named("S0001", "华康" * 100, "Huakang " * 25)
    stored = narration.narrate("supplier-invoice", supplier=long_name, number="INV-2026-000123")
    assert len(stored) <= narration.MEMO_LENGTH
    said = narration.read(stored)
    assert isinstance(said, narration.Message)
    supplier = said.params["supplier"]
    assert (supplier.code, said.params["number"]) == ("S0001", "INV-2026-000123")
    assert supplier.name_zh.endswith("…") and supplier.name_en.endswith("…")
    assert len(supplier.name_zh) > 20 and len(supplier.name_en) > 20  # both keep a part


def test_no_posting_writes_its_narration_as_a_sentence() -> None:
    """Every ``memo=`` of a posting (and ``reason=`` of a stock ``Document``) in erp/ is a
    narration or a person's words passed through, never an English sentence written there
    (a string or f-string literal): that is how 摘要 came to read in English."""
    offenders = []
    for path in sorted((PROJECT_ROOT / "erp").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            watched = {"memo"} if name != "Document" else {"memo", "reason"}
            for keyword in node.keywords:
                literal = isinstance(keyword.value, ast.JoinedStr) or (
                    isinstance(keyword.value, ast.Constant) and isinstance(keyword.value.value, str)
                    and re.search(r"[A-Za-z]{3}", keyword.value.value))
                if keyword.arg in watched and literal:
                    offenders.append(f"{Path(path).relative_to(PROJECT_ROOT)}:{node.lineno} {keyword.arg}=")
    assert not offenders, offenders
