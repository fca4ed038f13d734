"""The cost accountants' repair pages of payables' price differences (docs/payables.md):

- what invoices' price differences left on 5001.01 work in process under the rule before
  1 December 2026, per company, corrected to 6405.02 with a date in an open period, and the
  corrections made, each with its reversal (erp/payables/wip_price_differences.py; the
  ``payables wip-price-differences`` command and ``/api/v1/payables/wip-price-differences``
  do the same);
- the invoices posted before migration 0040 whose price difference is not in the stock
  ledger, per company, written as dated corrections (erp/payables/price_differences.py; the
  ``payables price-differences`` command).

Views parse the form, call one service and render; the rules are the services'.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import redirect, render_template, request, url_for
from sqlalchemy.orm import Session

from erp.auth.roles import Actor
from erp.clock import business_today
from erp.errors import DomainError
from erp.masterdata import services as masterdata
from erp.messages import N_
from erp.payables import price_differences, wip_price_differences
from erp.ui import nav
from erp.ui.forms import form_day
from erp.ui.pages import PageBlueprint, form_refusal, not_found, require_role
from erp.web import transaction

bp = PageBlueprint("payables_repairs", __name__, url_prefix="/payables/repairs")
nav.add("payables", "payables_repairs.wip_price_differences_page", N_("Price differences left on WIP"),
        set(wip_price_differences.READERS))
nav.add("payables", "payables_repairs.price_differences_page", N_("Price differences missing from the stock ledger"),
        set(price_differences.READERS))


def _company(db: Session, actor: Actor) -> tuple[list[Any], Any]:
    """The companies the caller acts for, and the one the request names (the first when none;
    404 when it names one that is not the caller's: nothing is read or written for another)."""
    companies, _ = masterdata.list_records(db, actor, masterdata.COMPANIES, {}, offset=0, limit=100)
    chosen = (request.values.get("company") or "").strip()[:32]
    if not chosen:
        return companies, companies[0] if companies else None
    company = next((c for c in companies if c.code == chosen), None)
    if company is None:
        raise not_found("company", chosen)
    return companies, company


@bp.route("/wip-price-differences", methods=["GET", "POST"])
@transaction
def wip_price_differences_page(db: Session, actor: Actor) -> Any:
    """What invoices' price differences left on 5001.01 in one company (invoice by our number
    and its supplier, material, the orders that consumed it, amount), its correction dated in
    an open period (cost accountants), and the corrections made with their reversal."""
    require_role(*wip_price_differences.READERS)
    companies, company = _company(db, actor)
    refusal: dict[str, Any] = {}
    form = request.form if request.method == "POST" else {}
    if request.method == "POST" and company is not None:
        action = request.form.get("action")
        try:
            with db.begin_nested():  # a refusal rolls back to here
                if action == "reverse":
                    entry = request.form.get("entry_id", "")
                    wip_price_differences.reverse_correction(
                        db, actor, int(entry) if entry.isascii() and entry.isdigit() else 0,
                        form_day(request.form.get("reversal_date"), "posting_date") or business_today(),
                        reason=(request.form.get("reason") or "")[:500])
                    done = {"reversed": entry}
                else:
                    made = wip_price_differences.correct_orphans(
                        db, actor, company.id,
                        form_day(request.form.get("posting_date"), "posting_date") or business_today())
                    done = {"corrected": len(made)}
            return redirect(url_for("payables_repairs.wip_price_differences_page", company=company.code, **done))
        except DomainError as error:
            if error.status == 404 and action != "reverse":
                raise
            refusal = form_refusal(error)
    left: list[Any] = []
    corrections: list[Any] = []
    if company is not None:
        left = wip_price_differences.list_orphans(db, actor, company.id)
        corrections = wip_price_differences.list_corrections(db, actor, company.id)
    status = refusal["error"].status if refusal else 200
    return render_template(
        "payables/wip_price_differences.html", companies=companies, company=company, left=left,
        total=sum((o.amount for o in left), Decimal(0)), corrections=corrections, form=form,
        today=business_today(), can_write=actor.has_role(*wip_price_differences.WRITERS),
        corrected=request.args.get("corrected"), reversed=request.args.get("reversed"), **refusal), status


@bp.route("/price-differences", methods=["GET", "POST"])
@transaction
def price_differences_page(db: Session, actor: Actor) -> Any:
    """The invoices of one company posted before migration 0040 whose price difference (1404)
    is not in the stock ledger, per period, invoice and material, and their correction (the
    missing ledger rows, no journal entry) dated in an open period (cost accountants)."""
    require_role(*price_differences.READERS)
    companies, company = _company(db, actor)
    refusal: dict[str, Any] = {}
    form = request.form if request.method == "POST" else {}
    if request.method == "POST" and company is not None:
        try:
            with db.begin_nested():  # a refusal rolls back to here
                written = price_differences.write_missing_price_differences(
                    db, actor, company.id, form_day(request.form.get("posting_date"), "posting_date")
                    or business_today())
            return redirect(url_for("payables_repairs.price_differences_page", company=company.code,
                                    written=len({m.invoice_id for m, _ in written})))
        except DomainError as error:
            if error.status == 404:
                raise
            refusal = form_refusal(error)
    missing: list[Any] = []
    if company is not None:
        missing = price_differences.list_missing(db, actor, company.id)
    status = refusal["error"].status if refusal else 200
    return render_template(
        "payables/price_differences.html", companies=companies, company=company, missing=missing,
        total=sum((m.amount for m in missing), Decimal(0)), form=form, today=business_today(),
        can_write=actor.has_role(*price_differences.WRITERS), written=request.args.get("written"),
        **refusal), status
