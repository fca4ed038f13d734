"""The limit model's parameters as versioned records: the scorecard (weights, bands), the
risk classes and the limit rules per class and customer type.

A version is complete and immutable. The group tunes the model by storing a new version
(who, when, why, in force from which day); earlier versions stay as they were, so every
suggestion can be explained with the parameters that produced it. The documented
defaults (``scorecard.DEFAULT_PARAMETERS``) are stored as version 1 the first time the
model runs, by whoever runs it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from erp.messages import Message
from erp.narration import REASON_LENGTH, narrate
from erp.audit import services as audit
from erp.auth.roles import Actor, Role
from erp.credit.errors import CreditModelParametersInvalid
from erp.credit.models import (
    CreditLimitRule,
    CreditModelVersion,
    CreditRiskClass,
    CreditScoreBand,
    CreditScoreFactor,
)
from erp.credit.scorecard import DEFAULT_PARAMETERS, ModelParameters, parameters_from_records
from erp.db import dialect_insert
from erp.errors import NotFound, ValidationFailed

READ_ROLES = (Role.CREDIT_CONTROLLER, Role.CIO)
DEFAULTS_REASON = "the documented starting parameters (docs/credit.md), stored when the model first ran"


def load_parameters(session: Session, version: CreditModelVersion) -> ModelParameters:
    """A stored version's parameters, rebuilt from its records (rules carry their ids)."""
    return parameters_from_records(
        version,
        session.scalars(select(CreditScoreFactor).where(CreditScoreFactor.version_id == version.id)),
        session.scalars(select(CreditScoreBand).where(CreditScoreBand.version_id == version.id)),
        session.scalars(select(CreditRiskClass).where(CreditRiskClass.version_id == version.id)),
        session.scalars(select(CreditLimitRule).where(CreditLimitRule.version_id == version.id)),
    )


def _write_version(
    session: Session, params: ModelParameters, *, version: int, valid_from: dt.date, reason: str,
    user_id: int | None,
) -> CreditModelVersion | None:
    """Store a complete parameter set as ``version``; None when that version exists already
    (another transaction stored it first)."""
    header = session.execute(
        dialect_insert(session, CreditModelVersion).values(
            version=version, valid_from=valid_from, reason=reason, created_by=user_id,
            agency_grade_a_from=params.agency_grade_a_from, agency_grade_b_from=params.agency_grade_b_from,
            agency_grade_c_from=params.agency_grade_c_from, stale_after_months=params.stale_after_months,
            stale_statement_penalty=params.stale_statement_penalty, stale_rating_penalty=params.stale_rating_penalty,
            hold_overdue_days=params.hold_overdue_days, limit_step=params.limit_step,
        ).on_conflict_do_nothing(index_elements=["version"]).returning(CreditModelVersion.id)
    ).scalar()
    if header is None:
        return None
    session.add_all(CreditScoreFactor(version_id=header, factor=f.factor, weight=f.weight,
                                      no_data_points=f.no_data_points) for f in params.factors)
    session.add_all([
        *(CreditScoreBand(version_id=header, factor=f.factor, lower_bound=b.lower, points=b.points)
          for f in params.factors for b in f.bands),
        *(CreditScoreBand(version_id=header, factor=f.factor, category=category, points=points)
          for f in params.factors for category, points in f.categories.items()),
    ])
    session.add_all(CreditRiskClass(version_id=header, code=c.code, min_score=c.min_score)
                    for c in params.risk_classes)
    session.add_all(CreditLimitRule(
        version_id=header, risk_class=r.risk_class, customer_type=r.customer_type, net_worth_share=r.net_worth_share,
        turnover_share=r.turnover_share, sales_months=r.sales_months, starting_limit=r.starting_limit,
        max_limit=r.max_limit) for r in params.rules)
    session.flush()
    return session.get(CreditModelVersion, header)


def _number(value: Any) -> Any:
    """Decimals without trailing zeros: 1000.00 as stored and 1000 as entered are one value."""
    return format(value.normalize(), "f") if isinstance(value, Decimal) else value


def flattened(params: ModelParameters) -> dict[str, Any]:
    """The parameters as one flat record, for the audit trail to show what a version changed."""
    values: dict[str, Any] = {name: getattr(params, name) for name in (
        "agency_grade_a_from", "agency_grade_b_from", "agency_grade_c_from", "stale_after_months",
        "stale_statement_penalty", "stale_rating_penalty", "hold_overdue_days", "limit_step")}
    for f in params.factors:
        values[f"factor.{f.factor.value}.weight"] = f.weight
        values[f"factor.{f.factor.value}.no_data_points"] = f.no_data_points
        values[f"factor.{f.factor.value}.points"] = (
            ", ".join(f"{'below' if b.lower is None else _number(b.lower)}: {b.points}" for b in f.bands)
            or ", ".join(f"{category}: {points}" for category, points in sorted(f.categories.items())))
    for c in params.risk_classes:
        values[f"class.{c.code}.min_score"] = c.min_score
    for r in params.rules:
        key = f"rule.{r.risk_class}.{r.customer_type.value if r.customer_type else 'any'}"
        values[key] = (f"net worth {_number(r.net_worth_share)}, turnover {_number(r.turnover_share)}, "
                       f"{_number(r.sales_months)} months, starting {_number(r.starting_limit)}, "
                       f"maximum {_number(r.max_limit) if r.max_limit is not None else 'none'}")
    return {key: audit.plain(_number(value)) for key, value in values.items()}


def _audit_version(session: Session, actor: Actor | None, stored: CreditModelVersion,
                   before: ModelParameters | None, after: ModelParameters) -> None:
    audit.record_change(session, actor, entity="credit_model", entity_id=stored.version, action=audit.CREATE,
                        before=None if before is None else flattened(before), after=flattened(after),
                        reason=narrate("credit-model-version", REASON_LENGTH, reason=stored.reason or "",
                                       day=stored.valid_from))


def ensure_model(session: Session, actor: Actor | None, today: dt.date) -> None:
    """Store the documented defaults as version 1 when no version exists yet."""
    if session.scalar(select(CreditModelVersion.id).limit(1)) is None:
        stored = _write_version(session, DEFAULT_PARAMETERS, version=1, valid_from=today, reason=DEFAULTS_REASON,
                                user_id=actor.user_id if actor else None)
        if stored is not None:
            _audit_version(session, actor, stored, None, DEFAULT_PARAMETERS)


def model_in_force(session: Session, on: dt.date) -> CreditModelVersion:
    """The version in force on a day: the highest version valid from then or earlier (the
    first version when the day comes before every version)."""
    found = session.scalars(
        select(CreditModelVersion).where(CreditModelVersion.valid_from <= on)
        .order_by(CreditModelVersion.version.desc()).limit(1)
    ).first()
    if found is None:
        found = session.scalars(select(CreditModelVersion).order_by(CreditModelVersion.version).limit(1)).first()
    if found is None:
        raise NotFound(Message("no version of the credit limit model is stored yet"))
    return found


def store_parameters(
    session: Session, actor: Actor, params: ModelParameters, *, reason: str, valid_from: dt.date,
) -> CreditModelVersion:
    """Store a new version of the model's parameters (credit controllers, with a reason).

    Refused (422, each problem named by its JSON pointer) unless the set is complete and
    sound: every factor once, weights adding up to 100, bands rising, classes from 0,
    a rule for any customer type in every class (``ModelParameters.problems``)."""
    actor.require_role(Role.CREDIT_CONTROLLER, action="changing the credit limit model")
    if not reason.strip():
        raise ValidationFailed.for_field("reason", Message("say why the model changes"))
    problems = params.problems()
    if problems:
        raise CreditModelParametersInvalid(Message("the parameters are not usable: {problems}",
                                                   problems=[m for _, m in problems]),
                                           errors=[{"pointer": p, "detail": m} for p, m in problems])
    ensure_model(session, actor, valid_from)
    latest = session.scalars(select(CreditModelVersion).order_by(CreditModelVersion.version.desc()).limit(1)).one()
    stored = _write_version(session, params, version=latest.version + 1, valid_from=valid_from, reason=reason,
                            user_id=actor.user_id)
    if stored is None:
        raise ValidationFailed.for_field("reason", Message("another change to the model was stored at the same "
                                                           "moment; look at it and try again"))
    _audit_version(session, actor, stored, load_parameters(session, latest), params)
    return stored


def list_versions(session: Session, actor: Actor) -> list[CreditModelVersion]:
    """Every version of the model's parameters, newest first (the audit trail of the model)."""
    actor.require_role(*READ_ROLES, action="reading the credit limit model")
    return list(session.scalars(select(CreditModelVersion).order_by(CreditModelVersion.version.desc())))


def get_version(session: Session, actor: Actor, version_id: int | None, on: dt.date) -> tuple[Any, ModelParameters]:
    """A version with its parameters (the one in force on ``on`` when no id is given). Before
    any version is stored, the defaults that the first run will store (version None)."""
    actor.require_role(*READ_ROLES, action="reading the credit limit model")
    if version_id is None:
        try:
            version = model_in_force(session, on)
        except NotFound:
            return None, DEFAULT_PARAMETERS
    else:
        version = session.get(CreditModelVersion, version_id)
        if version is None:
            raise NotFound(Message("credit model version {key} not found", key=version_id))
    return version, load_parameters(session, version)
