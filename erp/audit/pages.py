"""Pages of the audit trail (审计追踪): the trail across records with filters, and one record's
history with each change's values before and after, the reason, who and when.

For the trail's readers (erp.audit.services.AUDIT_READERS: auditors, whose landing page it is,
stewards, the CIO and admins), read-only. The views parse the filters, call the audit
service the API calls (``list_events``, ``record_history``) and render; the records are named
by erp.audit.records.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Any

from flask import redirect, render_template, request, url_for
from flask_babel import gettext
from sqlalchemy.orm import Session

from erp.audit import services
from erp.audit.records import TrailNames, record_id, trail_names
from erp.auth.roles import Actor, Role
from erp.clock import BUSINESS_TIME_ZONE
from erp.errors import DomainError, ValidationFailed
from erp.masterdata import services as masterdata
from erp.messages import Message, N_, Named, Term
from erp.ui import nav
from erp.ui.i18n import current_language
from erp.ui.forms import form_day
from erp.ui.labels import AUDIT_ACTIONS, AUDIT_ENTITIES, AUDIT_FIELDS, LABELS, audit_word
from erp.ui.listing import ListArgs
from erp.ui.pages import PageBlueprint, form_refusal, require_role
from erp.web import transaction

bp = PageBlueprint("audit_pages", __name__, url_prefix="/audit")

READERS = set(services.AUDIT_READERS)
nav.add("audit", "audit_pages.trail", N_("Audit trail"), READERS, landing_for={Role.AUDITOR})

# A recorded value that is an enum's (a role, a status) reads as its word.
_WORDS_BY_VALUE: dict[str, str] = {}
for _member, _word in LABELS.items():
    if isinstance(_member.value, str):
        _WORDS_BY_VALUE.setdefault(_member.value, _word)


def recorded_value(value: Any) -> str:
    """A value of an entry's changes as a page shows it: a record by code and name, a list one
    by one, yes or no, an enum's value by its word, nothing as a dash."""
    if value is None or value == [] or value == "":
        return "—"
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if isinstance(value, Named):
        return value.label(current_language())
    if isinstance(value, list):
        return "、".join(recorded_value(item) for item in value)
    if isinstance(value, dict):
        return "；".join(f"{key}: {recorded_value(item)}" for key, item in value.items())
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, str) and value in _WORDS_BY_VALUE:
        return gettext(_WORDS_BY_VALUE[value])
    if value == services.REDACTED:
        return gettext("(hidden)")
    if isinstance(value, str) and value.startswith(services.REDACTED):
        return gettext("(hidden, changed)")
    return str(value)


def _shown(names: TrailNames) -> dict[str, Any]:
    """What the templates use to name records and words."""
    return {
        "names": names,
        "entity_word": lambda slug: audit_word(AUDIT_ENTITIES, slug),
        "action_word": lambda slug: audit_word(AUDIT_ACTIONS, slug),
        "field_word": lambda slug: audit_word(AUDIT_FIELDS, slug),
        "recorded": lambda event, name, value: recorded_value(
            names.value(event.entity, event.entity_id, name, value)),
    }


def _instant(day: dt.date) -> dt.datetime:
    """The start of ``day`` in the group's time zone (the trail records UTC instants)."""
    return dt.datetime.combine(day, dt.time(), tzinfo=BUSINESS_TIME_ZONE)


@bp.route("/")
@transaction
def trail(db: Session, actor: Actor) -> Any:
    """The audit trail across records, newest first (or oldest first): when, who, which record,
    what was done to which fields, why; filtered by kind of record, action, user, company and
    days, with a search of the user's name and the reason (a record named by its code, user
    name or number: its history)."""
    require_role(*READERS)
    args = ListArgs.from_request(sortable=("time",), default_sort="time", default_desc=True)
    companies, _ = masterdata.list_records(db, actor, masterdata.COMPANIES, {}, offset=0, limit=500)
    filters: dict[str, Any] = {}
    refusal: dict[str, Any] = {}
    rows: list[Any] = []
    total = 0
    entity = request.args.get("entity", "").strip()
    action = request.args.get("action", "").strip()
    try:
        if entity:
            if not services.ENTITY_PATTERN.match(entity):
                raise ValidationFailed.for_field("entity", Message("a lower-case name such as material or sign-in"))
            filters["entity"] = entity
        record = request.args.get("record", "").strip()[:64]
        if record:
            if not entity:
                raise ValidationFailed.for_field("entity", Message("choose the kind of record first"))
            found = record_id(db, entity, record)
            if found is None:
                raise ValidationFailed.for_field("record", Message(
                    "no {kind} with code {code}", kind=Term(AUDIT_ENTITIES.get(entity, entity)), code=record))
            return redirect(url_for("audit_pages.history", entity=entity, entity_id=found))
        if action:
            if not services.ACTION_PATTERN.match(action):
                raise ValidationFailed.for_field("action", Message("a lower-case name such as material or sign-in"))
            filters["action"] = action
        user = request.args.get("user", "").strip()[:64]
        if user:
            filters["actor_name"] = user
        code = request.args.get("company", "").strip()
        if code:
            filters["company_id"] = masterdata.record_by_code(db, actor, masterdata.COMPANIES, code, "company").id
        since = form_day(request.args.get("since"), "since", required=False)
        until = form_day(request.args.get("until"), "until", required=False)
        if since is not None:
            filters["since"] = _instant(since)
        if until is not None:
            filters["until"] = _instant(until + dt.timedelta(days=1))
        if since is not None and until is not None and until < since:
            raise ValidationFailed.for_field("until", Message("must not be before {day}", day=since))
        if args.q:
            filters["text"] = args.q
        rows, total = services.list_events(db, actor, **filters, oldest_first=not args.desc,
                                           offset=args.offset, limit=args.page_size)
    except DomainError as error:
        if error.status != 422:
            raise
        refusal = form_refusal(error)
    return render_template("audit/trail.html", rows=rows, total=total, args=args, companies=companies,
                           entities=sorted(AUDIT_ENTITIES), actions=sorted(AUDIT_ACTIONS), entity=entity,
                           action=action, **_shown(trail_names(db, rows)), **refusal), 200


@bp.route("/<string(length=None, maxlength=40):entity>/<int:entity_id>")
@transaction
def history(db: Session, actor: Actor, entity: str, entity_id: int) -> Any:
    """One record's history, newest first: each entry's values before and after, the reason,
    who and when (a standard price: the material's prices in every company, or one company's)."""
    require_role(*READERS)
    args = ListArgs.from_request()
    company_id = None
    code = request.args.get("company", "").strip()
    if code:
        company_id = masterdata.record_by_code(db, actor, masterdata.COMPANIES, code, "company").id
    rows, total = services.record_history(db, actor, entity=entity, entity_id=entity_id, company_id=company_id,
                                          offset=args.offset, limit=args.page_size)
    names = trail_names(db, rows, [(entity, entity_id)])
    return render_template("audit/history.html", rows=rows, total=total, args=args, entity=entity,
                           entity_id=entity_id, record=names.record(entity, entity_id),
                           **_shown(names)), 200
