"""Entering a supplier credit memo (红字发票) against the invoice it corrects, with a reason.

The posting and its refusals are ``services.enter_invoice``'s with ``DocumentKind.CREDIT_MEMO``
(the mirror of an invoice for the lines credited; at most what was invoiced on each order line,
409 ``over-credited``; its total taken off the invoice it reduces, at most that invoice's open
amount). What this adds is the trail a correction needs (docs/payables.md, *Credit memos*):

- on the credit memo, entity ``supplier_invoice`` action ``enter-credit-memo``, with the reason
  the accountant gave (the supplier's, as printed on the 红字发票 or its 红字信息表) and what it
  credits;
- on the invoice it reduces, action ``credited``, its open amount before and after, the reason
  naming the credit memo (as a reversed credit memo gives it back: ``credit-memo-reversed``).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from erp.audit import services as audit
from erp.audit.models import AuditEvent
from erp.auth.roles import Actor
from erp.narration import REASON_LENGTH, narrate
from erp.payables import services
from erp.payables.models import DocumentKind, SupplierInvoice

ENTER_CREDIT_MEMO = "enter-credit-memo"
ENTER_PRICE_REDUCTION = "enter-price-reduction"  # erp.payables.price_reductions
CREDITED = "credited"


def enter_credit_memo(session: Session, actor: Actor, request: services.InvoiceRequest, *,
                      reason: str | None) -> SupplierInvoice:
    """Post the credit memo ``request`` describes (``credits_invoice_id``: the invoice it
    reduces) and record it, with ``reason`` (stripped; None when not given, as the API allows),
    in the audit trail of the memo and of the invoice it reduces. Returns the memo.

    Refuses as ``services.enter_invoice`` does (403, 404, 409 ``duplicate-invoice``,
    ``over-credited``, ``invoice-reversed``, ``period-closed``, 422 ``invoice-totals-disagree``
    and the rest); nothing is written then."""
    memo = services.enter_invoice(session, actor, request, DocumentKind.CREDIT_MEMO)
    reason = (reason or "").strip()[:500] or None
    audit.record_change(session, actor, entity="supplier_invoice", entity_id=memo.id, action=ENTER_CREDIT_MEMO,
                        after={"number": memo.number, "credits_invoice_id": memo.credits_invoice_id,
                               "gross_total": memo.gross_total},
                        reason=reason, company_id=memo.company_id)
    if memo.credits_invoice_id is not None:
        credited = session.get(SupplierInvoice, memo.credits_invoice_id)
        assert credited is not None  # enter_invoice locked it
        applied = memo.gross_total - memo.open_amount  # what came off the invoice's open amount
        audit.record_change(session, actor, entity="supplier_invoice", entity_id=credited.id, action=CREDITED,
                            before={"open_amount": credited.open_amount + applied},
                            after={"open_amount": credited.open_amount},
                            reason=(narrate("credit-memo-credited-reason", REASON_LENGTH, number=memo.number,
                                            reason=reason) if reason
                                    else narrate("credit-memo-credited", REASON_LENGTH, number=memo.number)),
                            company_id=credited.company_id)
    return memo


def credit_memo_reason(session: Session, memo_id: int) -> str | None:
    """The reason given when the credit memo (or price reduction) was entered (None: none given, or entered before
    the reason was kept)."""
    return session.scalar(select(AuditEvent.reason).where(
        AuditEvent.entity == "supplier_invoice", AuditEvent.entity_id == memo_id,
        AuditEvent.action.in_((ENTER_CREDIT_MEMO, ENTER_PRICE_REDUCTION))).order_by(AuditEvent.id.desc()).limit(1))
