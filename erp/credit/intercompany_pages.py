"""The group's intercompany view: the group trial balance with its eliminations and the
intercompany order lines behind them (goods in transit, unrealised profit), for the CIO,
group cost accountants and credit controllers. The figures are
``erp.credit.intercompany``'s; docs/intercompany.md explains them."""

from __future__ import annotations

import re

from flask import render_template, request
from sqlalchemy.orm import Session

from erp.auth.roles import Actor, Role
from erp.credit import intercompany
from erp.messages import N_
from erp.clock import business_today
from erp.ui import nav
from erp.ui.pages import PageBlueprint, require_role
from erp.web import transaction

bp = PageBlueprint("intercompany_pages", __name__, url_prefix="/intercompany")

READERS = {Role.CIO, Role.COST_ACCOUNTANT, Role.CREDIT_CONTROLLER}
nav.add("reports", "intercompany_pages.trial_balance", N_("Intercompany eliminations"), READERS)
PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@bp.route("/")
@transaction
def trial_balance(db: Session, actor: Actor) -> str:
    """The group trial balance at the end of a period: companies, eliminations, consolidated."""
    require_role(*READERS)
    period = request.args.get("period", "")
    if not PERIOD.match(period):
        period = business_today().strftime("%Y-%m")
    report = intercompany.consolidated_trial_balance(db, actor, period=period)
    return render_template("intercompany/trial_balance.html", report=report, period=period)
