"""Sales' pages for customer returns: the shipments that can take a return, the return
form with what it will do, and the posted credit note. Quality decides on the returned
goods in its quarantine list (erp/inventory/pages.py).

Views parse the request, call one service or query of the module and render; the rules
(what may come back, quarantine, the credit note's amount) are ``erp.credit.notes``'.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import redirect, render_template, request, url_for
from sqlalchemy.orm import Session

from erp.auth.roles import Actor, Role
from erp.credit import notes, queries
from erp.errors import DomainError, ValidationFailed
from erp.messages import Message, N_
from erp.clock import business_today
from erp.ui import nav
from erp.ui.listing import ListArgs
from erp.ui.pages import PageBlueprint, form_refusal, require_role
from erp.web import transaction

bp = PageBlueprint("returns_pages", __name__, url_prefix="/returns")

nav.add("credit", "returns_pages.shipments", N_("Customer returns"), {Role.SALES})


@bp.route("/")
@transaction
def shipments(db: Session, actor: Actor) -> str:
    """Invoiced shipments of the caller's companies, newest first, searchable."""
    require_role(Role.SALES)
    args = ListArgs.from_request(tuple(notes.RETURN_SORTS), default_sort="date", default_desc=True)
    rows, total = notes.returnable_shipments(db, actor, q=args.q or None, sort=args.sort,
                                             descending=args.desc, offset=args.offset, limit=args.page_size)
    return render_template("returns/shipments.html", rows=rows, total=total, args=args)


def _form_values(form: Any) -> dict[str, Any]:
    """The return the form asks for (422 naming the field for what cannot be read)."""
    try:
        quantity = Decimal((form.get("quantity") or "").replace(",", "").strip())
    except InvalidOperation:
        raise ValidationFailed.for_field("quantity", Message("enter a number")) from None
    if not quantity.is_finite() or quantity <= 0:
        raise ValidationFailed.for_field("quantity", Message("enter a number"))
    try:
        day = dt.date.fromisoformat(form.get("posting_date") or "") if form.get("posting_date") else business_today()
    except ValueError:
        raise ValidationFailed.for_field("posting_date", Message("not a date (YYYY-MM-DD): {text}",
                                                                 text=form.get("posting_date"))) from None
    batch = form.get("batch_id") or None
    return {"quantity": quantity, "posting_date": day, "reason": (form.get("reason") or "").strip()[:500],
            "batch_id": int(batch) if batch and batch.isdigit() else None}


@bp.route("/shipments/<int:document_id>", methods=["GET", "POST"])
@transaction
def return_form(db: Session, actor: Actor, document_id: int) -> Any:
    """The return form: per batch what can still come back, the credit note it will raise."""
    require_role(Role.SALES)
    refusal: dict[str, Any] = {}
    if request.method == "POST":
        try:
            values = _form_values(request.form)
            with db.begin_nested():  # a refusal rolls back to here
                note = notes.return_goods(db, actor, shipment_document_id=document_id, **values)
                note_id = note.id
            return redirect(url_for("returns_pages.credit_note", note_id=note_id, posted=1))
        except DomainError as error:
            if error.status == 404:
                raise
            refusal = form_refusal(error)
    preview = notes.return_preview(db, actor, document_id)
    status = refusal["error"].status if refusal else 200
    return render_template("returns/return_form.html", preview=preview, form=request.form,
                           today=business_today(), **refusal), status


@bp.route("/credit-notes/<int:note_id>")
@transaction
def credit_note(db: Session, actor: Actor, note_id: int) -> str:
    """A credit note: what it credited, the invoices it settled, what it kept as credit."""
    require_role(Role.SALES, Role.COST_ACCOUNTANT, Role.CREDIT_CONTROLLER, Role.CIO)
    note = queries.get_credit_note(db, actor, note_id)
    numbers = notes.return_document_numbers(db, note)
    return render_template("returns/credit_note.html", note=note, numbers=numbers,
                           invoice_numbers=notes.invoice_numbers(db, note), posted=request.args.get("posted"))
