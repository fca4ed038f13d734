"""The group's intercompany view: the group trial balance with its eliminations and the
intercompany order lines behind them (goods in transit, unrealised profit), for the CIO
and group-wide cost accountants: the readers of trial balances (erp.costing.reports.READERS)
with a group-wide scope, as the consolidated trial balance's service requires. The figures are
``erp.consolidation.eliminations``'; docs/intercompany.md explains them."""

from __future__ import annotations

from flask import render_template, request
from sqlalchemy.orm import Session

from erp.auth.roles import Actor, Role
from erp.consolidation import eliminations
from erp.clock import business_today
from erp.masterdata.models import Company, Material
from erp.masterdata.services import names_by_id
from erp.messages import N_
from erp.period import Period
from erp.ui import nav
from erp.ui.pages import PageBlueprint, require_role
from erp.web import transaction

bp = PageBlueprint("intercompany_pages", __name__, url_prefix="/intercompany")

READERS = {Role.CIO, Role.COST_ACCOUNTANT}
nav.add("reports", "intercompany_pages.trial_balance", N_("Intercompany eliminations"), READERS, group_wide_only=True)


@bp.route("/")
@transaction
def trial_balance(db: Session, actor: Actor) -> str:
    """The group trial balance at the end of a period: companies, eliminations, consolidated."""
    require_role(*READERS)
    try:
        period = Period(request.args.get("period", ""))
    except ValueError:
        period = Period.of(business_today())
    report = eliminations.consolidated_trial_balance(db, actor, period=period)
    companies = names_by_id(db, Company, [i for t in report.trade for i in (t.seller_id, t.buyer_id)])
    materials = names_by_id(db, Material, (t.material_id for t in report.trade))
    return render_template("intercompany/trial_balance.html", report=report, period=period, companies=companies,
                           materials=materials)
