"""The payables clerk's pages: supplier invoices (entered against an order with the
three-way match shown line by line before posting), the blocked-invoice queue and its
release, payables ageing and the GR/IR clearing report.

Views parse the form, call one service or query and render; the rules are the services'.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask import redirect, render_template, request, url_for
from sqlalchemy import Numeric
from sqlalchemy.orm import Session

from erp.auth.models import User
from erp.auth.roles import Actor, Role
from erp.errors import DomainError, ValidationFailed
from erp.masterdata import services as masterdata
from erp.messages import Message, N_
from erp.payables import credit_memos, price_reductions, queries, services
from erp.payables.models import DocumentKind, InvoiceKind, SupplierInvoice, SupplierPayment
from erp.clock import business_today
from erp.db import MONEY, QUANTITY, UNIT_PRICE
from erp.ui import nav
from erp.ui.listing import ListArgs
from erp.ui.pages import PageBlueprint, confirmed, dry_run, form_refusal, line_refusals, require_role
from erp.ui.forms import form_day, form_number
from erp.web import transaction

bp = PageBlueprint("payables_pages", __name__, url_prefix="/payables")
READERS = set(queries.READERS)
nav.add("payables", "payables_pages.invoices", N_("Supplier invoices"), READERS,
        landing_for={Role.ACCOUNTS_PAYABLE})
nav.add("payables", "payables_pages.new_invoice", N_("Enter an invoice"), {Role.ACCOUNTS_PAYABLE})
nav.add("payables", "payables_pages.start_credit_memo", N_("Enter a credit memo"), {Role.ACCOUNTS_PAYABLE})
nav.add("payables", "payables_pages.ageing", N_("Payables ageing"), READERS)
nav.add("payables", "payables_pages.grir", N_("GR/IR clearing"), READERS)


# A refusal's pointer at a field these forms call otherwise (erp.ui.pages.form_refusal): the
# services' /posting_date (a closed period, a date before the reversal that made it possible)
# is the date the form gives: an invoice's or credit memo's own date (a page posts it on that
# day), a payment's date, a reversal's date.
ENTERED_ON = {"posting_date": "invoice_date"}
PAID_ON = {"posting_date": "payment_date"}
REVERSED_ON = {"posting_date": "reversal_date"}


def _decimal(text: str | None, field: str, column: Numeric = MONEY) -> Decimal | None:
    return form_number(text, field, column, required=False)


def _day(text: str | None, field: str) -> dt.date | None:
    return form_day(text, field, required=False)


def _required(value: Any, field: str) -> Any:
    if value is None or value == "":
        raise ValidationFailed.for_field(field, Message("required"))
    return value


def _invoice_request(order: queries.InvoiceableOrder, form: Any) -> tuple[services.InvoiceRequest, list[int]]:
    """The invoice the form describes: one line per order line given a quantity, and the
    form's row of each (for the refusals on lines)."""
    lines, rows = [], []
    for index, line in enumerate(order.lines):
        quantity = _decimal(form.get(f"quantity-{index}"), f"lines/{index}/quantity", QUANTITY)
        if quantity is None:
            continue
        price = _required(_decimal(form.get(f"unit_price-{index}"), f"lines/{index}/unit_price", UNIT_PRICE),
                          f"lines/{index}/unit_price")
        tax = (form.get(f"tax_code_id-{index}") or "").strip()
        lines.append(services.LineRequest(po_line_id=line.po_line_id, quantity=quantity, unit_price=price,
                                          tax_code_id=int(tax) if tax.isascii() and tax.isdigit() else None))
        rows.append(index)
    if not lines:
        raise ValidationFailed.for_field("lines", Message("give the invoiced quantity of at least one line"))
    net = _required(_decimal(form.get("net_total"), "net_total"), "net_total")
    tax_total = _required(_decimal(form.get("tax_total"), "tax_total"), "tax_total")
    gross = _required(_decimal(form.get("gross_total"), "gross_total"), "gross_total")
    kind = form.get("invoice_kind") or InvoiceKind.SPECIAL.value
    return services.InvoiceRequest(
        company_id=order.company_id, supplier_id=order.supplier_id,
        number=_required((form.get("number") or "").strip()[:40], "number"),
        invoice_date=_required(_day(form.get("invoice_date"), "invoice_date"), "invoice_date"),
        due_date=_day(form.get("due_date"), "due_date"), net_total=net, tax_total=tax_total, gross_total=gross,
        invoice_kind=InvoiceKind(kind) if kind in {k.value for k in InvoiceKind} else InvoiceKind.SPECIAL,
        lines=lines), rows


def _preview(invoice: Any) -> dict[str, Any]:
    """What the match found, as plain values (read before the preview's rollback)."""
    return {"blocked": invoice.blocked, "reasons": invoice.reasons,
            "lines": [{"line_no": line.line_no, "po_line_id": line.po_line_id, "quantity": line.quantity,
                       "unit_price": line.unit_price, "contract_price": line.contract_price,
                       "net": line.net_amount, "tax": line.tax_amount, "grir": line.grir_amount,
                       "difference": line.price_difference, "open_received": line.open_received_quantity,
                       "quantity_blocked": line.quantity_blocked, "price_blocked": line.price_blocked}
                      for line in invoice.lines]}


def _posting_of(db: Session, invoice: SupplierInvoice) -> dict[str, Any]:
    """What an invoice about to be posted posts, as plain values (read before the dry run's
    rollback): its match, number, totals, the GR/IR it clears, its price differences and
    the journal."""
    return {"match": _preview(invoice), "document_number": invoice.document_number,
            "posting_date": invoice.posting_date, "due_date": invoice.due_date,
            "net": invoice.net_total, "tax": invoice.tax_total, "gross": invoice.gross_total,
            "grir": sum((line.grir_amount for line in invoice.lines), Decimal(0)),
            "difference": sum((line.price_difference for line in invoice.lines), Decimal(0)),
            "journal": queries.entry_lines(db, invoice.entry_id)}


@bp.route("/invoices")
@transaction
def invoices(db: Session, actor: Actor) -> str:
    """Supplier invoices and credit memos, newest first; the blocked queue as a filter; the
    search box finds part of our number, the supplier's number or the supplier's code or name."""
    require_role(*READERS)
    args = ListArgs.from_request()
    view = request.args.get("view", "all")
    filters: dict[str, Any] = {"blocked": True} if view == "blocked" else {"open": True} if view == "open" else {}
    if args.q:
        filters["q"] = args.q
    rows, total = queries.list_invoices(db, actor, filters, offset=args.offset, limit=args.page_size)
    suppliers = {s.id: s for s in masterdata.list_records(db, actor, masterdata.SUPPLIERS,
                                                           {}, offset=0, limit=500)[0]}
    return render_template("payables/invoices.html", rows=rows, total=total, args=args, view=view,
                           suppliers=suppliers, can_enter=actor.has_role(Role.ACCOUNTS_PAYABLE),
                           totals=queries.invoice_totals(db, actor, filters) if rows else None)


@bp.route("/invoices/new", methods=["GET", "POST"])
@transaction
def new_invoice(db: Session, actor: Actor) -> Any:
    """Enter a supplier's invoice against an order: the match line by line, then post."""
    require_role(Role.ACCOUNTS_PAYABLE)
    number = (request.values.get("order") or "").strip()[:50]
    form = request.form if request.method == "POST" else {}
    refusal: dict[str, Any] = {}
    preview = pending = None
    order = None
    order_error = None
    rows: list[int] = []
    if number:
        try:
            with db.begin_nested():  # a refusal rolls back to here
                order = queries.order_for_invoicing(db, actor, number)
                tax_codes, _ = masterdata.list_records(db, actor, masterdata.TAX_CODES, {"active": True},
                                                       offset=0, limit=100)
        except DomainError as error:
            if error.status != 404:
                raise
            order_error = error
    if order is not None and request.method == "GET":
        form = _prefilled(order, request.args.get("line"))
    if order is not None and request.method == "POST" and request.form.get("edit") != "1":
        try:
            invoice_request, rows = _invoice_request(order, request.form)

            def post() -> SupplierInvoice:
                return services.enter_invoice(db, actor, invoice_request)

            # the match, or all the invoice will post (confirm_posting), as the service itself
            # would post it and rolled back (erp.ui.pages.dry_run); confirmed, it posts
            if request.form.get("action") != "post":
                preview = dry_run(db, lambda: _preview(post()))
            elif not confirmed(request.form):
                pending = dry_run(db, lambda: _posting_of(db, post()))
                preview = pending["match"]
            else:
                with db.begin_nested():  # a refusal rolls back to here
                    invoice_id = post().id
                return redirect(url_for("payables_pages.invoice", invoice_id=invoice_id, posted=1))
        except DomainError as error:
            if error.status == 404:
                raise
            refusal = form_refusal(error, ENTERED_ON)
    status = refusal["error"].status if refusal else 200
    return render_template("payables/new_invoice.html", number=number, order=order, order_error=order_error,
                           form=form, preview=preview, pending=pending,
                           line_errors=line_refusals(refusal.get("error"), rows),
                           tax_codes=tax_codes if order is not None else [], today=business_today(),
                           kinds=list(InvoiceKind), price_text=price_text, **refusal), status


def _prefilled(order: queries.InvoiceableOrder, line: str | None) -> dict[str, str]:
    """The invoice form opened for one order line (``?line=<po_line_id>``, the GR/IR report's
    录入发票): that line's quantity received and not yet invoiced filled in, nothing else."""
    wanted = (line or "").strip()
    for index, found in enumerate(order.lines):
        if wanted.isascii() and wanted.isdigit() and found.po_line_id == int(wanted) and found.open_received > 0:
            return {f"quantity-{index}": format(found.open_received.normalize(), "f")}
    return {}


@bp.route("/invoices/<int:invoice_id>", methods=["GET", "POST"])
@transaction
def invoice(db: Session, actor: Actor, invoice_id: int) -> Any:
    """One invoice: header, matched lines, the block and its release, its reversal (冲销)."""
    require_role(*READERS)
    refusal: dict[str, Any] = {}
    pending = None
    action = request.form.get("action") if request.method == "POST" else None
    if request.method == "POST" and not (action == "reverse" and request.form.get("edit") == "1"):
        try:
            if action == "reverse":
                if not confirmed(request.form):
                    # first what the reversal will post (the service's own, rolled back), then the post
                    pending = dry_run(db, lambda: {"journal": queries.entry_lines(
                        db, _reverse(db, actor, invoice_id).reversal_entry_id)})
                else:
                    with db.begin_nested():  # a refusal rolls back to here
                        _reverse(db, actor, invoice_id)
                    return redirect(url_for("payables_pages.invoice", invoice_id=invoice_id, reversed=1))
            else:
                with db.begin_nested():  # a refusal rolls back to here
                    services.release_invoice(db, actor, invoice_id,
                                             reason=(request.form.get("reason") or "")[:500])
                return redirect(url_for("payables_pages.invoice", invoice_id=invoice_id, released=1))
        except DomainError as error:
            if error.status == 404:
                raise
            refusal = form_refusal(error, REVERSED_ON)
    found = queries.get_invoice(db, actor, invoice_id)
    supplier = masterdata.get_record(db, actor, masterdata.SUPPLIERS, found.supplier_id)
    lines = list(found.lines)
    can_release = (found.blocked and not found.reversed and actor.has_role(*services.RELEASERS)
                   and found.created_by != actor.user_id)
    # a paid invoice is reversed only after its payments: not offered, the payments linked instead
    paid_by = queries.standing_payments(db, found.id) if not found.reversed else []
    can_reverse = not found.reversed and not paid_by and actor.has_role(*services.REVERSERS)
    reverser = db.get(User, found.reversed_by) if found.reversed_by is not None else None
    credit_memo = found.document_kind == DocumentKind.CREDIT_MEMO
    credited = (queries.get_invoice(db, actor, found.credits_invoice_id)
                if found.credits_invoice_id is not None else None)
    status = refusal["error"].status if refusal else 200
    return render_template("payables/invoice.html", invoice=found, lines=lines, supplier=supplier,
                           journal=queries.entry_lines(db, found.entry_id),
                           reversal_journal=queries.entry_lines(db, found.reversal_entry_id),
                           credited=credited,
                           memo_reason=credit_memos.credit_memo_reason(db, found.id) if credit_memo else None,
                           memos=[] if credit_memo else queries.credit_memos_of(db, found.id),
                           can_credit=(not credit_memo and not found.reversed
                                       and actor.has_role(*services.ENTERERS)),
                           reduced_lines=({line.id: line for line in credited.lines} if credited is not None else {}),
                           can_release=can_release, can_reverse=can_reverse, reverser=reverser, action=action, paid_by=paid_by,
                           form=request.form, today=business_today(), DocumentKind=DocumentKind,
                           grir_total=sum((line.grir_amount for line in lines), Decimal(0)),
                           posted=request.args.get("posted"), released=request.args.get("released"),
                           reversed=request.args.get("reversed"), pending=pending, **refusal), status


def _reverse(db: Session, actor: Actor, invoice_id: int) -> SupplierInvoice:
    """The reversal form: a reason and the reversal date (confirmed on the step that shows
    what it posts, ``confirm_posting``)."""
    return services.reverse_invoice(
        db, actor, invoice_id, reason=(request.form.get("reason") or "")[:500],
        reversal_date=form_day(request.form.get("reversal_date"), "reversal_date") or business_today())


def price_text(value: Decimal | None) -> str:
    """A unit price as a form field holds it: its real precision, at least two decimals and
    no thousands separators (12.000000 -> 12.00, 0.123400 -> 0.1234)."""
    if value is None:
        return ""
    exponent = Decimal(value).normalize().as_tuple().exponent
    places = max(2, -exponent) if isinstance(exponent, int) else 2
    return f"{Decimal(value):.{places}f}"


@bp.route("/credit-memos/new")
@transaction
def start_credit_memo(db: Session, actor: Actor) -> Any:
    """Enter a credit memo (红字发票): find the invoice it corrects by our number (AP-…) or by
    the number printed on it; one found opens its credit memo form, several (different
    suppliers) are listed by our number with the supplier's beside."""
    require_role(Role.ACCOUNTS_PAYABLE)
    number = (request.args.get("invoice") or "").strip()[:40]
    rows: list[SupplierInvoice] = []
    if number:
        found: dict[int, SupplierInvoice] = {}
        # ours as typed or in capitals (ap-a-2026-000001), the supplier's exactly as printed
        for key, value in (*(("document_number", n) for n in dict.fromkeys((number, number.upper()))),
                           ("number", number)):
            matched, _ = queries.list_invoices(db, actor, {key: value, "document_kind": DocumentKind.INVOICE},
                                               offset=0, limit=50)
            found.update((row.id, row) for row in matched)
        rows = sorted(found.values(), key=lambda row: row.id, reverse=True)
        if len(rows) == 1:
            return redirect(url_for("payables_pages.new_credit_memo", invoice_id=rows[0].id))
    suppliers = {s.id: s for s in masterdata.list_records(db, actor, masterdata.SUPPLIERS,
                                                           {}, offset=0, limit=500)[0]} if rows else {}
    return render_template("payables/start_credit_memo.html", number=number, rows=rows, suppliers=suppliers)


def _printed(form: Any) -> dict[str, Any]:
    """What a credit memo or price reduction form gives of the red-letter invoice as printed
    (红字发票): its number, date and totals, each required."""
    return {"number": _required((form.get("number") or "").strip()[:40], "number"),
            "invoice_date": _required(_day(form.get("invoice_date"), "invoice_date"), "invoice_date"),
            **{total: _required(_decimal(form.get(total), total), total)
               for total in ("net_total", "tax_total", "gross_total")}}


@dataclass(frozen=True)
class _Corrected:
    """The invoice a credit memo or price reduction corrects, as both forms show it: the
    invoice, its supplier, its lines, what is open on it before the memo, and whether it
    can be corrected at all (an invoice, not reversed: else the page says so, no form)."""

    invoice: SupplierInvoice
    supplier: Any
    lines: list[queries.CreditableLine]
    open_before: Decimal
    correctable: bool


def _corrected(db: Session, actor: Actor, invoice_id: int) -> _Corrected:
    """The invoice ``invoice_id`` as a credit memo's or price reduction's form shows it (404
    outside the actor's companies)."""
    found = queries.get_invoice(db, actor, invoice_id)
    return _Corrected(found, masterdata.get_record(db, actor, masterdata.SUPPLIERS, found.supplier_id),
                      queries.creditable_lines(db, actor, invoice_id), found.open_amount,
                      found.document_kind == DocumentKind.INVOICE and not found.reversed)


def _memo_page(template: str, corrected: _Corrected, db: Session, actor: Actor, form: Any,
               refusal: dict[str, Any], rows: list[int], **context: Any) -> tuple[str, int]:
    """A credit memo's or price reduction's form (again), with the refusal beside its field or
    line and every tax code (active or not: the invoice's lines name the code they were taxed at)."""
    tax_codes = {t.id: t for t in masterdata.list_records(db, actor, masterdata.TAX_CODES, {}, offset=0,
                                                          limit=500)[0]}
    status = refusal["error"].status if refusal else 200
    return render_template(template, invoice=corrected.invoice, supplier=corrected.supplier, lines=corrected.lines,
                           open_before=corrected.open_before, correctable=corrected.correctable, form=form,
                           line_errors=line_refusals(refusal.get("error"), rows), tax_codes=tax_codes,
                           today=business_today(), price_text=price_text, **context, **refusal), status


def _credit_memo_request(invoice: SupplierInvoice, lines: list[queries.CreditableLine],
                         form: Any) -> tuple[services.InvoiceRequest, list[int]]:
    """The credit memo the form describes against ``invoice``: one line per invoice line given a
    quantity, and the form's row of each (for the refusals on lines)."""
    requested, rows = [], []
    for index, line in enumerate(lines):
        quantity = _decimal(form.get(f"quantity-{index}"), f"lines/{index}/quantity", QUANTITY)
        if quantity is None:
            continue
        price = _required(_decimal(form.get(f"unit_price-{index}"), f"lines/{index}/unit_price", UNIT_PRICE),
                          f"lines/{index}/unit_price")
        # the invoice line's tax code, shown read-only: a memo reverses what the invoice posted
        requested.append(services.LineRequest(po_line_id=line.po_line_id, quantity=quantity, unit_price=price,
                                              tax_code_id=line.tax_code_id))
        rows.append(index)
    if not requested:
        raise ValidationFailed.for_field("lines", Message("give the credited quantity of at least one line"))
    return services.InvoiceRequest(
        company_id=invoice.company_id, supplier_id=invoice.supplier_id, **_printed(form),
        invoice_kind=invoice.invoice_kind,  # the invoice's, shown read-only
        credits_invoice_id=invoice.id, lines=requested), rows


@bp.route("/invoices/<int:invoice_id>/credit-memo", methods=["GET", "POST"])
@transaction
def new_credit_memo(db: Session, actor: Actor, invoice_id: int) -> Any:
    """A credit memo (红字发票) against one invoice: the invoice's lines with the quantity,
    price and tax code credited, the memo's number, date, totals as printed and the reason;
    检查 shows what it would post (rolled back), 过账 posts it and opens the memo's page."""
    require_role(Role.ACCOUNTS_PAYABLE)
    corrected = _corrected(db, actor, invoice_id)
    form = request.form if request.method == "POST" else {}
    refusal: dict[str, Any] = {}
    rows: list[int] = []
    preview = None
    if request.method == "POST" and corrected.correctable:
        try:
            memo_request, rows = _credit_memo_request(corrected.invoice, corrected.lines, form)
            if request.form.get("action") == "post":
                reason = (form.get("reason") or "").strip()
                if not reason:
                    raise ValidationFailed.for_field("reason", Message("say why the supplier credits the invoice"))
                with db.begin_nested():  # a refusal rolls back to here
                    memo_id = credit_memos.enter_credit_memo(db, actor, memo_request, reason=reason).id
                return redirect(url_for("payables_pages.invoice", invoice_id=memo_id, posted=1))

            def read() -> dict[str, Any]:
                memo = credit_memos.enter_credit_memo(db, actor, memo_request, reason=form.get("reason"))
                return {"lines": [{"line_no": corrected.lines[rows[i]].line_no, "quantity": line.quantity,
                                   "unit_price": line.unit_price, "tax_rate": line.tax_rate,
                                   "net": line.net_amount, "tax": line.tax_amount, "grir": line.grir_amount,
                                   "difference": line.price_difference} for i, line in enumerate(memo.lines)],
                        "journal": queries.entry_lines(db, memo.entry_id), "gross": memo.gross_total,
                        "open_after": db.get(SupplierInvoice, invoice_id).open_amount}  # type: ignore[union-attr]

            # what it would post: the service's own, rolled back (nothing is written)
            preview = dry_run(db, read)
        except DomainError as error:
            if error.status == 404:
                raise
            refusal = form_refusal(error, ENTERED_ON)
    return _memo_page("payables/new_credit_memo.html", corrected, db, actor, form, refusal, rows, preview=preview)


def _price_reduction_request(invoice: SupplierInvoice, lines: list[queries.CreditableLine], ids: dict[int, int],
                             form: Any) -> tuple[price_reductions.PriceReductionRequest, list[int]]:
    """The price reduction the form describes against ``invoice``: one line per invoice line
    given a reduction or a new unit price, and the form's row of each (for the refusals)."""
    requested, rows = [], []
    for index, line in enumerate(lines):
        amount = _decimal(form.get(f"amount-{index}"), f"lines/{index}/amount")
        new_price = _decimal(form.get(f"new_unit_price-{index}"), f"lines/{index}/new_unit_price", UNIT_PRICE)
        if amount is None and new_price is None:
            continue
        requested.append(price_reductions.ReductionLine(invoice_line_id=ids[line.line_no], amount=amount,
                                                        new_unit_price=new_price))
        rows.append(index)
    if not requested:
        raise ValidationFailed.for_field("lines", Message("give the reduction or the new unit price of at least one "
                                                          "line"))
    return price_reductions.PriceReductionRequest(invoice_id=invoice.id, **_printed(form), lines=requested), rows


@bp.route("/invoices/<int:invoice_id>/price-reduction", methods=["GET", "POST"])
@transaction
def new_price_reduction(db: Session, actor: Actor, invoice_id: int) -> Any:
    """A supplier's price reduction (降价红字发票) on one invoice: per line the reduction or the
    new unit price, the red-letter invoice's number, date, totals and the reason; 检查 shows
    the journal it will post (the service's own, rolled back) and asks to confirm; confirmed,
    it posts and opens the memo's page."""
    require_role(Role.ACCOUNTS_PAYABLE)
    corrected = _corrected(db, actor, invoice_id)
    found, lines = corrected.invoice, corrected.lines
    ids = {line.line_no: line.id for line in found.lines}
    reducible = price_reductions.reducible_amounts(db, found)
    left = {line.line_no: reducible[line.id] for line in found.lines}
    form = request.form if request.method == "POST" else {}
    refusal: dict[str, Any] = {}
    rows: list[int] = []
    pending = None
    if request.method == "POST" and corrected.correctable and form.get("edit") != "1":
        try:
            reduction, rows = _price_reduction_request(found, lines, ids, form)
            reason = (form.get("reason") or "").strip()[:500]

            def post() -> SupplierInvoice:
                return price_reductions.enter_price_reduction(db, actor, reduction, reason=reason)

            if not confirmed(form):
                def read() -> dict[str, Any]:
                    memo = post()
                    return {"journal": queries.entry_lines(db, memo.entry_id),
                            "lines": [(lines[rows[i]], line.net_amount, line.tax_amount)
                                      for i, line in enumerate(memo.lines)],
                            "gross": memo.gross_total, "document_number": memo.document_number,
                            "open_after": db.get(SupplierInvoice, invoice_id).open_amount}  # type: ignore[union-attr]
                pending = dry_run(db, read)
            else:
                with db.begin_nested():  # a refusal rolls back to here
                    memo_id = post().id
                return redirect(url_for("payables_pages.invoice", invoice_id=memo_id, posted=1))
        except DomainError as error:
            if error.status == 404:
                raise
            refusal = form_refusal(error, ENTERED_ON)
    return _memo_page("payables/new_price_reduction.html", corrected, db, actor, form, refusal, rows,
                      left=left, pending=pending)


def _as_of() -> dt.date:
    try:
        return _day(request.args.get("as_of"), "as_of") or business_today()
    except ValidationFailed:
        return business_today()


@bp.route("/ageing")
@transaction
def ageing(db: Session, actor: Actor) -> str:
    """Open payables per supplier in ageing buckets, with the group's total."""
    require_role(*READERS)
    as_of = _as_of()
    rows = queries.ageing(db, actor, as_of, by="supplier")
    (total,) = queries.ageing(db, actor, as_of, by="group")
    return render_template("payables/ageing.html", rows=rows, total=total, as_of=as_of,
                           buckets=queries.AGEING_BUCKETS)


@bp.route("/grir")
@transaction
def grir(db: Session, actor: Actor) -> str:
    """GR/IR clearing for one company: per order line, and the month-end check."""
    require_role(*READERS)
    as_of = _as_of()
    companies, _ = masterdata.list_records(db, actor, masterdata.COMPANIES, {}, offset=0, limit=100)
    chosen = request.args.get("company", "")
    company = next((c for c in companies if c.code == chosen), companies[0] if companies else None)
    lines, check = [], None
    if company is not None:
        lines = queries.grir_lines(db, actor, company.id, as_of)
        check = queries.grir_check(db, actor, company.id, as_of)
    return render_template("payables/grir.html", lines=lines, check=check, company=company, companies=companies,
                           as_of=as_of, can_enter=actor.has_role(*services.ENTERERS))


nav.add("payables", "payables_pages.pay", N_("Pay a supplier"), {Role.ACCOUNTS_PAYABLE})
nav.add("payables", "payables_pages.payments", N_("Supplier payments"), READERS)


@bp.route("/payments/new", methods=["GET", "POST"])
@transaction
def pay(db: Session, actor: Actor) -> Any:
    """Pay a supplier: its open invoices of one company, the blocked ones shown but not payable;
    the ticked invoices in due order, or oldest due first when none is ticked."""
    require_role(Role.ACCOUNTS_PAYABLE)
    supplier_code = (request.values.get("supplier") or "").strip()[:32]
    form = request.form if request.method == "POST" else {}
    refusal: dict[str, Any] = {}
    companies, _ = masterdata.list_records(db, actor, masterdata.COMPANIES, {}, offset=0, limit=100)
    company = next((c for c in companies if c.code == request.values.get("company")),
                   companies[0] if companies else None)
    supplier = None
    if supplier_code:
        try:
            supplier = masterdata.record_by_code(db, actor, masterdata.SUPPLIERS, supplier_code, "supplier")
        except DomainError as error:
            refusal = form_refusal(error)
    pending = None
    if (request.method == "POST" and supplier is not None and company is not None and not refusal
            and form.get("edit") != "1"):
        try:
            payment_request = services.PaymentRequest(
                company_id=company.id, supplier_id=supplier.id,
                payment_date=_required(_day(form.get("payment_date"), "payment_date"), "payment_date"),
                amount=_required(_decimal(form.get("amount"), "amount"), "amount"),
                invoice_ids=[int(v) for v in form.getlist("invoice") if v.isascii() and v.isdigit()] or None,
                reference=(form.get("reference") or "").strip()[:64] or None)

            def post() -> SupplierPayment:
                return services.pay_supplier(db, actor, payment_request)

            if not confirmed(form):
                # first what the payment will post and settle (the service's own, rolled back)
                pending = dry_run(db, lambda: _payment_posting_of(db, actor, post()))
            else:
                with db.begin_nested():  # a refusal rolls back to here
                    payment_id = post().id
                return redirect(url_for("payables_pages.payment", payment_id=payment_id, posted=1))
        except DomainError as error:
            if error.status == 404:
                raise
            refusal = form_refusal(error, PAID_ON)
    status = refusal["error"].status if refusal else 200
    return render_template("payables/pay.html", companies=companies, company=company, supplier=supplier,
                           supplier_code=supplier_code, form=form, today=business_today(), pending=pending,
                           **_open_items(db, actor, company, supplier, request.values), **refusal), status


def _payment_posting_of(db: Session, actor: Actor, payment: SupplierPayment) -> dict[str, Any]:
    """What a payment about to be posted posts, as plain values (read before the dry run's
    rollback): the invoices it settles and by how much, in the order it settles them, and
    the journal."""
    settled = [(queries.get_invoice(db, actor, a.invoice_id), a.amount) for a in payment.allocations]
    return {"document_number": payment.document_number, "amount": payment.amount,
            "settled": [{"document_number": found.document_number, "number": found.number,
                         "due_date": found.due_date, "amount": amount, "open_after": found.open_amount}
                        for found, amount in settled],
            "journal": queries.entry_lines(db, payment.entry_id)}


def _open_items(db: Session, actor: Actor, company: Any, supplier: Any, values: Any) -> dict[str, Any]:
    """The supplier's open invoices in the company, due first, with what a payment dated the
    form's payment date (today when none, or one that is not a date) may pay of each."""
    try:
        day = form_day(values.get("payment_date"), "payment_date") or business_today()
    except DomainError:  # the form shows that refusal when it is posted; the table shows today's
        day = business_today()
    rows: list[Any] = []
    if supplier is not None and company is not None:
        rows, _ = queries.list_invoices(db, actor, {"company_id": company.id, "supplier_id": supplier.id,
                                                    "open": True, "document_kind": DocumentKind.INVOICE},
                                        offset=0, limit=200)
        rows = sorted(rows, key=lambda r: (r.due_date, r.id))
    payable = services.open_to_pay_on(db, [r for r in rows if not r.blocked], day)
    return {"rows": rows, "day": day, "payable": payable, "payable_total": sum(payable.values(), Decimal(0)),
            "unblocked_open": sum((r.open_amount for r in rows if not r.blocked), Decimal(0)),
            "ticked": [v for v in values.getlist("invoice") if v.isascii() and v.isdigit()]}


@bp.route("/payments/new/open-items")
@transaction
def pay_open_items(db: Session, actor: Actor) -> Any:
    """The payment form's open invoices as of the payment date typed (htmx, on its change)."""
    require_role(Role.ACCOUNTS_PAYABLE)
    companies, _ = masterdata.list_records(db, actor, masterdata.COMPANIES, {}, offset=0, limit=100)
    company = next((c for c in companies if c.code == request.args.get("company")), None)
    supplier = masterdata.record_by_code(db, actor, masterdata.SUPPLIERS,
                                         (request.args.get("supplier") or "").strip()[:32], "supplier")
    return render_template("payables/_open_items.html", **_open_items(db, actor, company, supplier, request.args))


@bp.route("/payments")
@transaction
def payments(db: Session, actor: Actor) -> str:
    """Supplier payments, newest first; reversed ones marked (已冲销); the search box finds part
    of our number, the reference or the supplier's code or name."""
    require_role(*READERS)
    args = ListArgs.from_request()
    view = request.args.get("view", "all")
    filters: dict[str, Any] = {"reversed": True} if view == "reversed" else {}
    if args.q:
        filters["q"] = args.q
    rows, total = queries.list_payments(db, actor, filters, offset=args.offset, limit=args.page_size)
    suppliers = {s.id: s for s in masterdata.list_records(db, actor, masterdata.SUPPLIERS,
                                                           {}, offset=0, limit=500)[0]}
    return render_template("payables/payments.html", rows=rows, total=total, args=args, view=view,
                           suppliers=suppliers)


@bp.route("/payments/<int:payment_id>", methods=["GET", "POST"])
@transaction
def payment(db: Session, actor: Actor, payment_id: int) -> Any:
    """One supplier payment: the invoices it settled, and its reversal (冲销付款)."""
    require_role(*READERS)
    refusal: dict[str, Any] = {}
    pending = None
    if request.method == "POST" and request.form.get("edit") != "1":
        try:
            def post() -> SupplierPayment:
                return services.reverse_payment(
                    db, actor, payment_id, reason=(request.form.get("reason") or "")[:500],
                    reversal_date=form_day(request.form.get("reversal_date"), "reversal_date") or business_today())

            if not confirmed(request.form):
                # first what the reversal will post (the service's own, rolled back), then the post
                pending = dry_run(db, lambda: {"journal": queries.entry_lines(db, post().reversal_entry_id)})
            else:
                with db.begin_nested():  # a refusal rolls back to here
                    post()
                return redirect(url_for("payables_pages.payment", payment_id=payment_id, reversed=1))
        except DomainError as error:
            if error.status == 404:
                raise
            refusal = form_refusal(error, REVERSED_ON)
    found = queries.get_payment(db, actor, payment_id)
    supplier = masterdata.get_record(db, actor, masterdata.SUPPLIERS, found.supplier_id)
    invoices = {a.invoice_id: queries.get_invoice(db, actor, a.invoice_id) for a in found.allocations}
    reverser = db.get(User, found.reversed_by) if found.reversed_by is not None else None
    can_reverse = not found.reversed and actor.has_role(*services.PAYMENT_REVERSERS)
    status = refusal["error"].status if refusal else 200
    return render_template("payables/payment.html", payment=found, supplier=supplier, invoices=invoices,
                           journal=queries.entry_lines(db, found.entry_id),
                           reversal_journal=queries.entry_lines(db, found.reversal_entry_id),
                           reverser=reverser, can_reverse=can_reverse, form=request.form, today=business_today(),
                           posted=request.args.get("posted"), reversed=request.args.get("reversed"),
                           pending=pending, **refusal), status
