"""The CIO's consolidated receivables (read-only): the dashboard with its charts, every
figure as of one chosen date, and the drill-down segment -> company -> customer -> the
customer's invoices per company -> an invoice.

Views read the key date, call the receivables reports (erp.credit.receivables, erp.credit.cio)
and render; the charts draw from the same figures, embedded in the page as JSON, each with
its data table one click away.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from flask import current_app, jsonify, render_template, request, url_for
from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from erp.auth.roles import Actor, Role
from erp.credit import cio, receivables
from erp.credit.exposure import CreditPolicy
from erp.errors import ValidationFailed
from erp.masterdata.models import Company, Segment
from erp.messages import Message, N_
from erp.clock import business_today
from erp.ui import nav
from erp.ui.i18n import current_language
from erp.ui.listing import ListArgs
from erp.ui.pages import PageBlueprint, not_found, require_role
from erp.web import transaction

bp = PageBlueprint("cio_pages", __name__, url_prefix="/receivables")

VIEWERS = {Role.CIO, Role.CREDIT_CONTROLLER}
nav.add("reports", "cio_pages.dashboard", N_("Consolidated receivables"), VIEWERS, landing_for={Role.CIO})
BUCKETS = ("not_due", "days_1_30", "days_31_60", "days_61_90", "over_90")
BUCKET_LABELS = {"not_due": N_("not due"), "days_1_30": N_("1-30 days"), "days_31_60": N_("31-60 days"),
                 "days_61_90": N_("61-90 days"), "over_90": N_("over 90 days")}
# How many customers the dashboard charts and lists (the API's default is 100).
TOP = 15


def _policy() -> CreditPolicy:
    return CreditPolicy.from_settings(current_app.extensions["erp"].settings)


def _as_of() -> dt.date:
    """The key date of ``?as_of=`` (today, the business day, by default; never later)."""
    text = request.args.get("as_of", "").strip()
    today = business_today()
    if not text:
        return today
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed.for_field("as_of", Message("not a date (YYYY-MM-DD): {text}", text=text)) from None
    return min(day, today)


def _plain(value: Any) -> Any:
    """Figures for the charts' JSON: amounts as strings (exact), the rest as they are."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def chart_data(dashboard: receivables.Dashboard, trend: list[cio.TrendPoint]) -> dict[str, Any]:
    """What the charts draw, from the dashboard's own figures."""
    def amounts(row: Any) -> dict[str, str]:
        get = row.get if isinstance(row, dict) else (lambda name: getattr(row, name))
        return {name: _plain(get(name)) for name in ("open_amount", "overdue", *BUCKETS)}

    zh = current_language().startswith("zh")

    def shown(zh_name: str | None, en_name: str | None, code: str) -> str:
        """What an axis shows: the name in the reader's language (trial finding 32: the
        CIO read company and customer codes); the code where there is no name, and on hover."""
        return (zh_name if zh else en_name or zh_name) or code

    return {
        "as_of": dashboard.as_of.isoformat(),
        "totals": {name: _plain(value) for name, value in dashboard.totals.items()},
        "segments": [{"code": s["segment_code"], "name": shown(s.get("segment_name_zh"), s.get("segment_name_en"),
                                                              s["segment_code"]), **amounts(s)}
                     for s in dashboard.by_segment],
        "companies": [{"code": c.company_code, "name": shown(c.company_name_zh, c.company_name_en, c.company_code),
                       **amounts(c)} for c in dashboard.by_company],
        "top_customers": [{"code": c.customer_code,
                           "name": shown(getattr(c, "customer_name_zh", ""), getattr(c, "customer_name_en", ""),
                                        c.customer_code),
                           "exposure": _plain(c.exposure), "credit_limit": _plain(c.credit_limit)}
                          for c in dashboard.top_customers],
        "trend": [{"day": p.day.isoformat(), "open_amount": _plain(p.open_amount), "overdue": _plain(p.overdue)}
                  for p in trend],
    }


@bp.route("")
@transaction
def dashboard(db: Session, actor: Actor) -> str:
    """Consolidated receivables as of a chosen date: totals, charts and alerts."""
    require_role(*VIEWERS)
    as_of = _as_of()
    board = receivables.dashboard(db, actor, as_of=as_of, policy=_policy(), top=TOP)
    trend = cio.receivables_trend(db, actor, as_of=as_of, key_date_totals=_key_date_totals(board))
    unapplied = cio.unapplied_payments(db, actor, as_of=as_of)
    return render_template("credit/dashboard.html", board=board, trend=trend, unapplied=unapplied, as_of=as_of,
                           charts=chart_data(board, trend), buckets=BUCKETS, bucket_labels=BUCKET_LABELS,
                           today=business_today(), labels=_chart_labels(as_of))


def _key_date_totals(board: receivables.Dashboard) -> tuple[Decimal, Decimal]:
    """The trend's last point is the key date: the dashboard's own totals, not computed twice."""
    return board.totals["open_amount"], board.totals["overdue"]


def _chart_labels(as_of: dt.date) -> dict[str, Any]:
    """The charts' words in the reader's language, and the drill-down addresses."""
    language = current_language()
    return {
        "lang": language, "buckets": list(BUCKETS), "bucket_names": [gettext(BUCKET_LABELS[b]) for b in BUCKETS],
        # Large amounts in 万元 in Chinese, in thousands in English (the tooltip has the exact figure).
        "unit": gettext("10k CNY") if language == "zh" else gettext("thousand CNY"),
        "exposure": gettext("Exposure"), "limit": gettext("Credit limit"), "open": gettext("Open receivables"),
        "overdue": gettext("Overdue"),
        "segment_url": url_for("cio_pages.segment", code="__CODE__", as_of=as_of.isoformat()),
        "company_url": url_for("cio_pages.company", code="__CODE__", as_of=as_of.isoformat()),
        "customer_url": url_for("cio_pages.customer", code="__CODE__", as_of=as_of.isoformat()),
    }


@bp.route("/charts.json")
@transaction
def charts_json(db: Session, actor: Actor) -> Any:
    """What the dashboard's charts draw, as JSON (the same figures the page embeds)."""
    require_role(*VIEWERS)
    as_of = _as_of()
    board = receivables.dashboard(db, actor, as_of=as_of, policy=_policy(), top=TOP)
    trend = cio.receivables_trend(db, actor, as_of=as_of, key_date_totals=_key_date_totals(board))
    return jsonify(chart_data(board, trend))


@bp.route("/segments/<code>")
@transaction
def segment(db: Session, actor: Actor, code: str) -> str:
    """One segment's companies with their receivables and ageing, as of the key date."""
    require_role(*VIEWERS)
    as_of = _as_of()
    found = db.scalars(select(Segment).where(Segment.code == code)).one_or_none()
    if found is None:
        raise not_found("segment", code)
    companies = [c for c in receivables.receivables_by_company(db, actor, as_of=as_of)
                 if c.segment_id == found.id]
    return render_template("credit/segment.html", segment=found, companies=companies, as_of=as_of,
                           buckets=BUCKETS, bucket_labels=BUCKET_LABELS)


@bp.route("/companies/<code>")
@transaction
def company(db: Session, actor: Actor, code: str) -> str:
    """One company's customers with their receivables and ageing, as of the key date."""
    require_role(*VIEWERS)
    as_of = _as_of()
    args = ListArgs.from_request()
    found = db.scalars(select(Company).where(Company.code == code)).one_or_none()
    if found is None:
        raise not_found("company", code)
    rows, total = receivables.receivables_by_customer(db, actor, as_of=as_of, policy=_policy(),
                                                      company_id=found.id, offset=args.offset,
                                                      limit=args.page_size)
    # the company's totals over every customer (not only this page's), and what companies of
    # the group owe it, which the consolidated figures leave out
    figures = next((c for c in receivables.receivables_by_company(db, actor, as_of=as_of)
                    if c.company_id == found.id), None)
    return render_template("credit/company_receivables.html", company=found, rows=rows, total=total, args=args,
                           as_of=as_of, buckets=BUCKETS, bucket_labels=BUCKET_LABELS, figures=figures,
                           can_see_eliminations=nav.offers(actor, "intercompany_pages.trial_balance"))


@bp.route("/customers/<code>")
@transaction
def customer(db: Session, actor: Actor, code: str) -> str:
    """One customer's invoices open on the key date in every company, and its payments not
    yet applied then."""
    require_role(*VIEWERS)
    as_of = _as_of()
    from erp.credit.desk import customer_by_code

    found = customer_by_code(db, actor, code)
    invoices = cio.customer_invoices(db, actor, customer_id=found.id, as_of=as_of)
    unapplied = cio.unapplied_payments(db, actor, as_of=as_of, customer_id=found.id)
    rows, _ = receivables.receivables_by_customer(db, actor, as_of=as_of, policy=_policy(), customer_id=found.id)
    companies: dict[str, list[Any]] = {}
    for invoice in invoices:
        companies.setdefault(invoice.company_code, []).append(invoice)
    return render_template("credit/customer_invoices.html", customer=found, companies=companies, as_of=as_of,
                           summary=rows[0] if rows else None, unapplied=unapplied, buckets=BUCKETS,
                           bucket_labels=BUCKET_LABELS)


@bp.route("/invoices/<int:invoice_id>")
@transaction
def invoice(db: Session, actor: Actor, invoice_id: int) -> str:
    """One invoice: its lines, the payments applied to it, and what was open on the key date."""
    require_role(*VIEWERS)
    as_of = _as_of()
    view = cio.invoice_view(db, actor, invoice_id, as_of=as_of)
    return render_template("credit/invoice.html", view=view, as_of=as_of)
