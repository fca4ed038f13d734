"""HTTP endpoints of the group's intercompany figures: the trade between companies and the
group trial balance with its eliminations (docs/intercompany.md)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from erp.auth.errors import CompanyOutOfScope, RoleNotAllowed
from erp.auth.roles import Actor
from erp.clock import business_today
from erp.consolidation import eliminations
from erp.consolidation import schemas as s
from erp.credit import schemas as credit_schemas
from erp.errors import NotFound
from erp.web import Blueprint, reporting, transaction

blp = Blueprint("consolidation", __name__, url_prefix="/api/v1",
                description="The group's intercompany trade and its eliminations")


@blp.route("/intercompany/trade", methods=["GET"])
@blp.arguments(credit_schemas.AsOfQuery, location="query")
@blp.response(200, s.TradeLineOut(many=True))
@blp.refuses(CompanyOutOfScope, RoleNotAllowed)
@reporting
@transaction
def get_intercompany_trade(session: Session, actor: Actor, query: dict[str, Any]) -> list[Any]:
    """Intercompany order lines on a key date: shipped, received, in transit, held by the buyer, unrealised profit."""
    return eliminations.trade_lines(session, actor, as_of=query.pop("as_of", None) or business_today())


@blp.route("/intercompany/trial-balance", methods=["GET"])
@blp.arguments(s.PeriodQuery, location="query")
@blp.response(200, s.ConsolidatedTrialBalanceOut)
@blp.refuses(CompanyOutOfScope, RoleNotAllowed, NotFound)
@reporting
@transaction
def get_consolidated_trial_balance(session: Session, actor: Actor,
                                   query: dict[str, Any]) -> eliminations.ConsolidatedTrialBalance:
    """The group trial balance with intercompany eliminations: companies, eliminations, consolidated."""
    return eliminations.consolidated_trial_balance(session, actor, period=query["period"])
