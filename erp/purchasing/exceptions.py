"""Purchasing exceptions: a steward's dated grant that lets a company's buyers order a
central material (an emergency purchase), and its revocation."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, joinedload

from erp.messages import Message
from erp.audit import services as audit
from erp.audit.models import AuditEvent
from erp.auth.models import User
from erp.auth.roles import Actor, Role
from erp.db import page, utcnow
from erp.errors import NotFound, ValidationFailed
from erp.masterdata.models import Company, Material, ProcurementScope
from erp.masterdata.services import MATERIALS, text_match
from erp.purchasing import errors as e
from erp.purchasing.models import PurchasingException
from erp.purchasing.lookups import active_row, check_validity
from erp.purchasing.rights import ExceptionWindow


def exception_windows(
    session: Session, company_id: int, material_ids: Iterable[int] | None = None
) -> dict[int, list[ExceptionWindow]]:
    """The unrevoked exceptions of a company, by material (whatever their dates)."""
    query = select(PurchasingException).where(
        PurchasingException.company_id == company_id, PurchasingException.revoked_at.is_(None)
    )
    if material_ids is not None:
        query = query.where(PurchasingException.material_id.in_(sorted(set(material_ids))))
    windows: dict[int, list[ExceptionWindow]] = defaultdict(list)
    for exception in session.scalars(query):
        windows[exception.material_id].append(exception.window)
    return windows


@dataclass(frozen=True)
class ExceptionGrant:
    """The steward's exception that lets a company order a central material on a day: who
    granted it (display name), when, from and until which day, and why."""

    exception_id: int
    granted_by: str
    granted_at: dt.datetime
    valid_from: dt.date
    valid_to: dt.date
    reason: str


def covering_exceptions(
    session: Session, company_id: int, day: dt.date, material_ids: Iterable[int]
) -> dict[int, ExceptionGrant]:
    """By material, the unrevoked exception of ``company_id`` in force on ``day`` (of several,
    the one that lasts longest, as the rights rule names it); one query."""
    ids = sorted(set(material_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(PurchasingException, User.display_name)
        .join(User, User.id == PurchasingException.granted_by)
        .where(PurchasingException.company_id == company_id, PurchasingException.revoked_at.is_(None),
               PurchasingException.material_id.in_(ids), PurchasingException.valid_from <= day,
               PurchasingException.valid_to >= day)
        .order_by(PurchasingException.valid_to, PurchasingException.id)
    ).all()
    grants: dict[int, ExceptionGrant] = {}
    for exception, granted_by in rows:  # later valid_to last, so it wins
        grants[exception.material_id] = ExceptionGrant(
            exception.id, granted_by, exception.granted_at, exception.valid_from, exception.valid_to,
            exception.reason)
    return grants


# --- steward exceptions ------------------------------------------------------------------

def grant_exception(
    session: Session,
    actor: Actor,
    *,
    company_id: int,
    material_id: int,
    valid_from: dt.date,
    valid_to: dt.date,
    reason: str,
) -> PurchasingException:
    """Let a company's buyers order a central material themselves for a dated period."""
    actor.require_role(Role.STEWARD, action="granting a purchasing exception")
    check_validity(valid_from, valid_to)
    company = active_row(session, Company, company_id, "company_id")
    material = active_row(session, Material, material_id, "material_id")
    if material.procurement_scope != ProcurementScope.CENTRAL:
        raise e.ExceptionForLocalMaterial(
            Message("{material} is a local material: its company's buyers order it without an exception",
                    material=material.code),
            errors=[{"pointer": "/material_id", "detail": Message("not a central material")}],
        )
    exception = PurchasingException(
        company=company, material=material, valid_from=valid_from, valid_to=valid_to, reason=reason,
        granted_by=actor.user_id,
    )
    session.add(exception)
    session.flush()
    audit.record_change(session, actor, entity="purchasing_exception", entity_id=exception.id, action="grant",
                        after={"company_id": company.id, "material_id": material.id, "valid_from": valid_from,
                               "valid_to": valid_to}, reason=reason, company_id=company.id)
    return exception


REVOKE = "revoke"


def revoke_exception(session: Session, actor: Actor, exception_id: int, *, reason: str) -> PurchasingException:
    """End an exception now, with a reason; orders already submitted under it stand.

    ``reason`` (up to 500 characters, surrounding blanks dropped) is kept in the audit event
    of the revocation (the exception has no column for it; ``revocation_reason`` reads it
    back): DESIGN.md (Audit) asks why for every change to rights. Refused 403 for a
    non-steward, 422 at ``reason`` when blank, 404 for an unknown id, 409 when already
    revoked; a refusal writes nothing."""
    actor.require_role(Role.STEWARD, action="revoking a purchasing exception")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed.for_field("reason", Message("say why the exception is revoked"))
    exception = session.scalars(
        select(PurchasingException).where(PurchasingException.id == exception_id)
        .options(joinedload(PurchasingException.company), joinedload(PurchasingException.material))
        .with_for_update(of=PurchasingException).execution_options(populate_existing=True)
    ).one_or_none()
    if exception is None:
        raise NotFound(Message("purchasing exception {key} not found", key=exception_id))
    if exception.revoked_at is not None:
        raise e.ExceptionAlreadyRevoked(Message("purchasing exception {exception} is already revoked",
                                                exception=exception_id))
    exception.revoked_at = utcnow()
    exception.revoked_by = actor.user_id
    session.flush()
    audit.record_change(session, actor, entity="purchasing_exception", entity_id=exception.id, action=REVOKE,
                        before={"revoked_at": None}, after={"revoked_at": exception.revoked_at},
                        reason=reason[:500], company_id=exception.company_id)
    return exception


def revocation_reason(session: Session, exception_id: int) -> str | None:
    """Why the exception was revoked, from its audit event (None: not revoked, or revoked
    before a reason was asked)."""
    return revocation_reasons(session, [exception_id]).get(exception_id)


def revocation_reasons(session: Session, exception_ids: Iterable[int]) -> dict[int, str]:
    """Why each of these exceptions was revoked, by exception id, from their audit events in
    one query (the latest revocation's reason; left out: not revoked, or revoked before a
    reason was asked)."""
    ids = sorted(set(exception_ids))
    if not ids:
        return {}
    rows = session.execute(select(AuditEvent.entity_id, AuditEvent.reason).where(
        AuditEvent.entity == "purchasing_exception", AuditEvent.entity_id.in_(ids),
        AuditEvent.action == REVOKE, AuditEvent.reason.is_not(None)).order_by(AuditEvent.id))
    return {int(entity_id): reason for entity_id, reason in rows}  # the latest event's reason wins


def get_exception(session: Session, actor: Actor, exception_id: int) -> PurchasingException:
    """One exception with its company and material; 404 for one of a company the caller
    does not act for (stewards act for the group)."""
    exception = session.scalars(
        select(PurchasingException)
        .where(PurchasingException.id == exception_id, actor.company_scope(PurchasingException.company_id))
        .options(joinedload(PurchasingException.company), joinedload(PurchasingException.material))
    ).one_or_none()
    if exception is None:
        raise NotFound(Message("purchasing exception {key} not found", key=exception_id))
    return exception


def user_names(session: Session, user_ids: Iterable[int | None]) -> dict[int, str]:
    """Display names by user id of the users a page names (who made, terminated, granted or
    revoked a contract or exception); one query."""
    ids = sorted({user_id for user_id in user_ids if user_id is not None})
    if not ids:
        return {}
    return {row.id: row.display_name for row in session.execute(select(User.id, User.display_name)
                                                                 .where(User.id.in_(ids)))}


def list_exceptions(
    session: Session, actor: Actor, filters: Mapping[str, Any], *, offset: int, limit: int
) -> tuple[list[PurchasingException], int]:
    """Exceptions of the companies the caller acts for (stewards: all), newest first;
    ``material_text``: of a material whose code or name contains the text (case-insensitive,
    as the lists' search boxes match)."""
    query: Select[Any] = select(PurchasingException).where(actor.company_scope(PurchasingException.company_id))
    for name in ("company_id", "material_id"):
        if name in filters:
            query = query.where(getattr(PurchasingException, name) == filters[name])
    if "material_text" in filters:
        query = query.where(PurchasingException.material_id.in_(
            select(Material.id).where(text_match(MATERIALS, filters["material_text"]))))
    if "valid_on" in filters:
        day = filters["valid_on"]
        query = query.where(PurchasingException.valid_from <= day, PurchasingException.valid_to >= day)
    if not filters.get("include_revoked", False):
        query = query.where(PurchasingException.revoked_at.is_(None))
    rows, total = page(
        session, query.options(joinedload(PurchasingException.company), joinedload(PurchasingException.material))
        .order_by(PurchasingException.valid_from.desc(), PurchasingException.id.desc()),
        offset=offset, limit=limit, entities=True)
    return list(rows), total
