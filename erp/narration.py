"""What Heyi writes in words about its own postings (a journal entry's 摘要, the reason a
stock document gets from the system rather than from a person), stored so that each reader
sees it in their language; likewise the reasons credit control records without a person's
words (a limit approved as the model suggested it, a hold the model's rule put).

The posting services used to store English sentences ("goods receipt PO-…", "usage decision
released: …"), which the journal and document pages showed as stored to Chinese readers. A
narration is stored instead as a key of ``NARRATIONS`` with its values, as a small JSON
object in the same text column (no migration)::

    {"n": "goods-receipt", "v": {"order": "PO-FORM01-2026-000001"}}

``read`` gives back a ``Message`` (the key's English template, the catalogue's message id,
with the values), which a page renders in the reader's language (the ``narration`` filter,
erp.ui) and the API and exports in theirs (English unless Chinese is asked for).

Text stored before narrations (demo, generated and older data: the English sentences above)
still reads in the reader's language: ``read`` matches it against the templates the services
wrote it with (``LEGACY``, the same English) and gives back the message with the values it
held. Text that matches none (a person's words, such as a go-live reason or a price
difference's reason) is shown as it was typed.

Pure code: no Flask, no database.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from typing import Any

from erp.messages import Amount, Message, N_, Named, Term

# A stored narration's limit: journal_entries.memo is 300 characters, stock_documents.reason 500.
MEMO_LENGTH = 300
REASON_LENGTH = 500

# key -> English template (the message id; erp/translations has the Chinese). A key, once
# stored, is kept: a reworded sentence changes its template, never its key.
NARRATIONS: dict[str, str] = {
    # purchasing and payables
    "goods-receipt": N_("goods receipt {order}"),
    "receipt-reversal": N_("reversal of receipt {receipt}: {reason}"),
    "receipt-return": N_("return to supplier of receipt {receipt}: {reason}"),
    "supplier-invoice": N_("supplier invoice {supplier} {number}"),
    "supplier-invoice-number": N_("supplier invoice {number}"),
    "supplier-credit-memo": N_("supplier credit memo {supplier} {number}"),
    "supplier-invoice-reversal": N_("reversal of supplier invoice {supplier} {number}: {reason}"),
    "supplier-credit-memo-reversal": N_("reversal of supplier credit memo {supplier} {number}: {reason}"),
    "supplier-invoice-price-difference": N_("price difference of supplier invoice {supplier} {number}"),
    "supplier-credit-memo-price-difference": N_("price difference of supplier credit memo {supplier} {number}"),
    # since migration 0046: the document named by its own number first
    "supplier-invoice-document": N_("supplier invoice {document} ({supplier} {number})"),
    "supplier-credit-memo-document": N_("supplier credit memo {document} ({supplier} {number})"),
    # a price-reduction credit memo (erp.payables.price_reductions)
    "supplier-price-reduction-document": N_("supplier price reduction {document} on {invoice} ({supplier} {number})"),
    "supplier-invoice-reversal-document": N_("reversal of supplier invoice {document} ({supplier} {number}): {reason}"),
    "supplier-credit-memo-reversal-document": N_("reversal of supplier credit memo {document} ({supplier} {number}): "
                                                 "{reason}"),
    "supplier-invoice-price-difference-document": N_("price difference of supplier invoice {document} ({supplier} "
                                                     "{number})"),
    "supplier-credit-memo-price-difference-document": N_("price difference of supplier credit memo {document} "
                                                         "({supplier} {number})"),
    "price-difference-correction": N_("correction: price difference of {number} posted on {day} before the stock "
                                      "ledger carried it"),
    "wip-price-difference-correction": N_("correction: price difference of {supplier} {number} posted on {day} to "
                                          "work in process, moved to input price variance"),
    "wip-price-difference-correction-reversal": N_("reversal of the correction of {supplier} {number}'s price "
                                                   "difference on work in process: {reason}"),
    "supplier-payment": N_("supplier payment {reference}"),
    "supplier-payment-reversal": N_("reversal of supplier payment {reference} to {supplier}: {reason}"),
    # since migration 0047: the payment named by its own number
    "supplier-payment-document": N_("supplier payment {document} to {supplier}"),
    "supplier-payment-document-reference": N_("supplier payment {document} to {supplier} ({reference})"),
    "supplier-payment-reversal-document": N_("reversal of supplier payment {document} to {supplier}: {reason}"),
    # stock
    "issue-production": N_("goods issue to production"),
    "issue-cost-center": N_("goods issue to cost centre {cost_center}"),
    "issue-production-order": N_("goods issue to production order {order}"),
    "shipment": N_("shipment {reference}"),
    "customer-return": N_("customer return against shipment {shipment}: {reason}"),
    "stock-reversal": N_("reversal of stock document {document}: {reason}"),
    "count-adjustment": N_("count adjustment: {reason}"),
    "scrap-adjustment": N_("scrap adjustment: {reason}"),
    "opening-stock": N_("opening stock ({reason})"),
    "opening-received": N_("goods received not invoiced taken over with order {order} (old order {reference})"),
    "opening-received-undone": N_("import undone: goods received not invoiced taken over with order {order}"),
    # quality
    "usage-decision-released": N_("usage decision released"),
    "usage-decision-rejected": N_("usage decision rejected"),
    "usage-decision-released-reason": N_("usage decision released: {reason}"),
    "usage-decision-rejected-reason": N_("usage decision rejected: {reason}"),
    "usage-decision-released-deviation": N_("usage decision released, deviation {deviation}: {reason}"),
    "usage-decision-rejected-deviation": N_("usage decision rejected, deviation {deviation}: {reason}"),
    "expired": N_("expired: expiry date on or before {day}"),
    "excursion-hold": N_("storage excursion {excursion} in {warehouse}: {low}–{high} °C from {start} for {minutes} min"),
    "excursion-hold-humidity": N_("storage excursion {excursion} in {warehouse}: {low}–{high} °C, relative "
                                  "humidity up to {humidity}% from {start} for {minutes} min"),
    # costing and production
    "revaluation": N_("revaluation at standard prices of {period}"),
    "restatement": N_("restated at the standard prices of {period}"),
    "restatement-reversal": N_("reversal of restatement {document}: {reason}"),
    "variance-allocation": N_("material cost variance allocation {period}"),
    "reopening": N_("reopening {period}: {reason}"),
    "production-variances": N_("production order variances {period}"),
    "production-receipt": N_("production receipt {order}"),
    "production-receipt-reversal": N_("reversal of production receipt {delivery} ({order}): {reason}"),
    # receivables
    "sales-invoice": N_("invoice {invoice}"),
    "sales-invoice-order": N_("invoice {invoice}, sales order {order}"),
    "sales-invoice-corrects": N_("invoice {invoice}, corrects invoice {corrects}"),
    "debit-note": N_("debit note {invoice}"),
    "debit-note-order": N_("debit note {invoice}, sales order {order}"),
    "debit-note-corrects": N_("debit note {invoice}, corrects invoice {corrects}"),
    "customer-payment": N_("customer payment {payment}"),
    "customer-payment-reference": N_("customer payment {payment} ({reference})"),
    "unapplied-credit-applied": N_("unapplied credit of payment {payment} applied"),
    "customer-payment-reversal": N_("reversal of customer payment {payment} from {customer}: {reason}"),
    "credit-note": N_("credit note {note}: {reason}"),
    "credit-note-invoice": N_("credit note {note}, invoice {invoice}: {reason}"),
    "credit-note-kept-applied": N_("credit kept by credit note {note} applied"),
    "opening-receivables": N_("opening receivables ({reason})"),
    # credit control (a credit limit's and a hold's reason when the controller gave none)
    "credit-limit-approved": N_("approved the limit model's suggestion of run {run}"),
    "credit-limit-model-hold": N_("limit model, run {run}: {rule}"),
    # the reasons the system gives in the audit trail (erp.audit) and on inspection lots
    "credit-model-version": N_("{reason} (in force from {day})"),
    "import-undone": N_("go-live import {import_id} undone"),
    "go-live-import": N_("go-live import {import_id}"),
    "imported-row": N_("go-live import {import_id}: {file}, row {row}"),
    "signature-refused": N_("wrong password when signing '{meaning}'"),
    "quarantine-rejected": N_("quarantine rejected: {reason}"),
    "lots-transferred": N_("transferred from {source} to {destination}"),
    "production-receipt-reversed": N_("production receipt {delivery} reversed: {reason}"),
    "period-reopened": N_("period {period} reopened: {reason}"),
    "credit-memo-reversed": N_("reversal of credit memo {number}: {reason}"),
    "credit-memo-credited": N_("credit memo {number}"),
    "credit-memo-credited-reason": N_("credit memo {number}: {reason}"),
    "price-reduction-credited": N_("price reduction {document}: {reason}"),
    "standard-cost-release": N_("standard cost roll-up {run} of {period} released: {reason}"),
}

# What the services wrote before narrations, most specific first: the English each key's
# sentence was stored as, with the values' names. Stored text is matched against these.
LEGACY: list[tuple[str, str]] = [
    # reasons the system wrote in English before they were narrations (the
    # audit trail's, the lots'): before the shorter templates they would also match
    ("import-undone", "go-live import {import_id} undone"),
    ("imported-row", "go-live import {import_id}: {file}, row {row}"),
    ("go-live-import", "go-live import {import_id}"),
    ("signature-refused", "wrong password when signing '{meaning}'"),
    ("quarantine-rejected", "quarantine rejected: {reason}"),
    ("lots-transferred", "transferred from {source} to {destination}"),
    ("production-receipt-reversed", "production receipt {delivery} reversed: {reason}"),
    ("period-reopened", "period {period} reopened: {reason}"),
    ("credit-memo-reversed", "reversal of credit memo {number}: {reason}"),
    ("price-reduction-credited", "price reduction {document}: {reason}"),
    ("receipt-reversal", "receipt reversal of receipt {receipt}: {reason}"),
    ("receipt-return", "return to supplier of receipt {receipt}: {reason}"),
    ("price-difference-correction", "correction: price difference of supplier invoice {supplier} {number} posted on "
                                    "{day} before the stock ledger carried it (0040)"),
    ("price-difference-correction", "correction: price difference of supplier credit memo {supplier} {number} posted "
                                    "on {day} before the stock ledger carried it (0040)"),
    ("supplier-credit-memo-price-difference", "price difference of supplier credit memo {supplier} {number}"),
    ("supplier-invoice-price-difference", "price difference of supplier invoice {supplier} {number}"),
    ("supplier-credit-memo-reversal", "reversal of supplier credit memo {supplier} {number}: {reason}"),
    ("supplier-invoice-reversal", "reversal of supplier invoice {supplier} {number}: {reason}"),
    ("supplier-credit-memo", "supplier credit memo {supplier} {number}"),
    ("supplier-invoice", "supplier invoice {supplier} {number}"),
    ("supplier-invoice-number", "supplier invoice {number}"),
    ("supplier-payment-reversal", "reversal of supplier payment {reference} to {supplier}: {reason}"),
    ("production-receipt-reversal", "reversal of production receipt {delivery} ({order}): {reason}"),
    ("restatement-reversal", "reversal of restatement {document}: {reason}"),
    ("stock-reversal", "reversal of stock document {document}: {reason}"),
    ("supplier-payment", "supplier payment {reference}"),
    ("goods-receipt", "goods receipt {order}"),
    ("issue-production-order", "goods issue to production order {order}"),
    ("issue-cost-center", "goods issue to cost_center {cost_center}"),
    ("issue-production", "goods issue to production"),
    ("customer-return", "customer return against shipment {shipment}: {reason}"),
    ("shipment", "shipment {reference}"),
    ("count-adjustment", "count adjustment: {reason}"),
    ("scrap-adjustment", "scrap adjustment: {reason}"),
    ("opening-stock", "opening stock ({reason})"),
    ("opening-stock", "opening stock, {reason}"),
    ("usage-decision-released-deviation", "usage decision released, deviation {deviation}: {reason}"),
    ("usage-decision-rejected-deviation", "usage decision rejected, deviation {deviation}: {reason}"),
    ("usage-decision-released-reason", "usage decision released: {reason}"),
    ("usage-decision-rejected-reason", "usage decision rejected: {reason}"),
    ("usage-decision-released", "usage decision released"),
    ("usage-decision-rejected", "usage decision rejected"),
    ("expired", "expired: expiry date on or before {day}"),
    ("excursion-hold-humidity", "storage excursion {excursion} in {warehouse}: {low}-{high} °C, up to {humidity} % RH "
                                "from {start} for {minutes} min"),
    ("excursion-hold", "storage excursion {excursion} in {warehouse}: {low}-{high} °C from {start} for {minutes} min"),
    ("revaluation", "revaluation at standard prices of {period}"),
    ("restatement", "restated at the standard prices of {period}"),
    ("variance-allocation", "material cost variance allocation {period}"),
    ("reopening", "reopening {period}: {reason}"),
    ("production-variances", "production order variances {period}"),
    ("production-receipt", "production receipt {order}"),
    ("sales-invoice-order", "invoice {invoice}, sales order {order}"),
    ("sales-invoice-corrects", "invoice {invoice}, corrects invoice {corrects}"),
    ("sales-invoice", "invoice {invoice}"),
    ("debit-note-corrects", "debit note {invoice}, corrects invoice {corrects}"),
    ("debit-note-order", "debit note {invoice}, sales order {order}"),
    ("debit-note", "debit note {invoice}"),
    ("unapplied-credit-applied", "unapplied credit of payment {payment} applied"),
    ("customer-payment-reference", "payment {payment} ({reference})"),
    ("customer-payment", "payment {payment}"),
    ("credit-note-invoice", "credit note {note} ({kind}), invoice {invoice}: {reason}"),
    ("credit-note", "credit note {note} ({kind}): {reason}"),
    ("credit-note-kept-applied", "credit kept by credit note {note} applied"),
    ("opening-receivables", "opening receivables ({reason})"),
    ("credit-limit-approved", "approved the suggestion of run {run}"),
    ("credit-limit-model-hold", "limit model, run {run}: {rule}"),
]

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _pattern(template: str) -> re.Pattern[str]:
    """The template as an anchored pattern: each value any text (the last one greedy)."""
    parts = _PLACEHOLDER.split(template)
    names = parts[1::2]
    pattern = ""
    for index, literal in enumerate(parts[0::2]):
        pattern += re.escape(literal)
        if index < len(names):
            pattern += f"(?P<{names[index]}>.+)" if index == len(names) - 1 else f"(?P<{names[index]}>.+?)"
    return re.compile(pattern + r"\Z", re.S)


_LEGACY_PATTERNS = [(key, _pattern(template)) for key, template in LEGACY]


def narrate(key: str, limit: int = MEMO_LENGTH, /, **values: Any) -> str:
    """The stored form of narration ``key`` with ``values`` (text, ``Named``, ``Term``,
    dates, ``Amount`` and other decimals), at most ``limit`` characters: the longest text
    (a text value, or a record's name; never a record's code) is shortened, ending "…",
    until it fits, never the JSON cut. Master data allows names of 200 characters in each
    language, so a supplier's names alone can pass a memo's 300: they are shortened, not
    refused (a posting must not fail over its 摘要). ``ValueError`` only if the codes and
    fixed values alone do not fit."""
    if key not in NARRATIONS:
        raise KeyError(f"no narration {key!r}")
    encoded = {name: _encode(value) for name, value in values.items()}
    while True:
        stored = json.dumps({"n": key, "v": encoded}, ensure_ascii=False, separators=(",", ":"))
        if len(stored) <= limit:
            return stored
        # (holder, index) of each text that may be shortened: a text value, a record's names
        slots: list[tuple[Any, Any]] = [(encoded, name) for name, value in encoded.items() if isinstance(value, str)]
        slots += [(value["named"], i) for value in encoded.values() if isinstance(value, dict) and "named" in value
                  for i in (1, 2) if isinstance(value["named"][i], str)]
        slots.sort(key=lambda slot: len(slot[0][slot[1]]), reverse=True)
        if not slots or len(slots[0][0][slots[0][1]]) <= 1:
            raise ValueError(f"narration {key!r} does not fit in {limit} characters")
        holder, at = slots[0]
        excess = len(stored) - limit + 1  # +1: the "…"
        # the longest down towards the next longest, so two long names both keep a part
        runner_up = len(slots[1][0][slots[1][1]]) if len(slots) > 1 else 0
        cut = min(excess, max(len(holder[at]) - runner_up, -(-excess // len(slots)), 1))
        text = holder[at].rstrip("…")
        holder[at] = text[:max(0, len(text) - cut)] + "…"


def _encode(value: Any) -> Any:
    if isinstance(value, Named):
        return {"named": [value.code, value.name_zh, value.name_en]}
    if isinstance(value, Term):
        return {"term": str(value)}
    if isinstance(value, Amount):
        return {"amount": str(value)}
    if isinstance(value, Decimal):
        return {"number": str(value)}
    if isinstance(value, (dt.date, dt.datetime)):
        return {"date": value.isoformat()}
    return "" if value is None else str(value)


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if "named" in value:
            code, name_zh, name_en = value["named"]
            return Named(code, name_zh, name_en)
        if "term" in value:
            return Term(value["term"])
        if "amount" in value:
            return Amount(value["amount"])
        if "number" in value:
            return Decimal(value["number"])
        if "date" in value:
            return dt.date.fromisoformat(value["date"][:10])
    return str(value)


def read(stored: str | None) -> Message | str | None:
    """What ``stored`` says: a ``Message`` for a narration (stored as such or as the English
    a service wrote before narrations), else the text as stored (a person's words)."""
    if not stored:
        return stored
    if stored.startswith("{"):
        try:
            data = json.loads(stored)
        except ValueError:
            data = None
        if isinstance(data, dict) and data.get("n") in NARRATIONS and isinstance(data.get("v"), dict):
            return Message(NARRATIONS[data["n"]], **{name: _decode(v) for name, v in data["v"].items()})
    for key, pattern in _LEGACY_PATTERNS:
        found = pattern.match(stored)
        if found:
            values: dict[str, Any] = dict(found.groupdict())
            values.pop("kind", None)
            return Message(NARRATIONS[key], **values)
    return stored


def plain(stored: str | None) -> str:
    """``stored`` in English (the API's default words), as the services wrote it before."""
    said = read(stored)
    return said.render() if isinstance(said, Message) else (said or "")
