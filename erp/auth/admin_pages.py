"""Pages of system administration (系统管理): users and companies, for admins.

Users: the list (search, role, company), creating a user (role, companies and a clerk's
warehouses, the initial password under the API's rules: erp.auth.schemas.UserSchema), a
user's page (role and scope, locking and unlocking, revoking every token), each change
recorded in the audit trail by erp.auth.services with its reason, as the API records it.
Companies: the list and a company's page, where the admin links the company to the group
master's customer and supplier records that stand for it in intercompany trade
(docs/intercompany.md; erp.masterdata.services.update_record, audited).

Locking a user and revoking their tokens end their sessions at once: the page shows what
will happen (the service run and rolled back: erp.ui.pages.dry_run) and asks to confirm.
The views parse the form, call one service and render; a refusal is shown beside its field.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import marshmallow as ma
from flask import redirect, render_template, request, url_for
from sqlalchemy.orm import Session

from erp.auth import services
from erp.auth.models import User
from erp.auth.roles import COMPANY_OR_GROUP_ROLES, GROUP_ROLES, Actor, Role
from erp.auth.schemas import UserPatch, UserSchema
from erp.errors import DomainError, ValidationFailed
from erp.masterdata import services as masterdata
from erp.masterdata.models import Company, Customer, Supplier, Warehouse
from erp.messages import FieldName, Message, N_, as_message
from erp.ui import nav
from erp.ui.listing import ListArgs
from erp.ui.pages import PageBlueprint, confirmed, dry_run, form_refusal, not_found, require_role
from erp.web import clean_text, erp_settings, transaction

bp = PageBlueprint("admin_pages", __name__, url_prefix="/admin")

ADMINS = {Role.ADMIN}
nav.add("admin", "admin_pages.users", N_("Users"), ADMINS, landing_for={Role.ADMIN})
nav.add("admin", "admin_pages.new_user", N_("New user"), ADMINS)
nav.add("admin", "admin_pages.companies", N_("Companies"), ADMINS)

# The roles in the order the form offers them.
ROLES = list(Role)


def _companies(db: Session, actor: Actor) -> list[Company]:
    rows, _ = masterdata.list_records(db, actor, masterdata.COMPANIES, {}, offset=0, limit=1000)
    return rows


def _warehouses(db: Session, actor: Actor) -> list[Warehouse]:
    rows, _ = masterdata.list_records(db, actor, masterdata.WAREHOUSES, {}, offset=0, limit=5000)
    return rows


def _loaded(schema: ma.Schema, data: dict[str, Any]) -> dict[str, Any]:
    """``data`` as the API's schema loads it (its rules: a user name's characters, the
    password's length ...); refused field by field as the API refuses it."""
    data = clean_text(data)
    try:
        return schema.load(data)  # type: ignore[no-any-return]
    except ma.ValidationError as error:
        problems = []
        for name, messages in error.messages.items():  # type: ignore[union-attr]
            while isinstance(messages, dict):
                messages = next(iter(messages.values()))
            first = messages[0] if isinstance(messages, list) else messages
            problems.append({"pointer": f"/{name}", "detail": as_message(first)})
        first = problems[0]
        raise ValidationFailed(Message("{field}: {problem}", field=FieldName(first["pointer"][1:]),
                                       problem=first["detail"]), errors=problems) from None


def _ids(form: Any, name: str, records: list[Any]) -> list[int]:
    """The ids of the records whose codes the form's multiple choice ``name`` holds."""
    by_code = {record.code: record.id for record in records}
    chosen = form.getlist(name) if hasattr(form, "getlist") else []
    unknown = [code for code in chosen if code not in by_code]
    if unknown:
        raise ValidationFailed.for_field(name, Message("unknown companies {ids}", ids=repr(unknown))
                                         if name == "company_ids" else
                                         Message("unknown warehouses {ids}", ids=repr(unknown)))
    return [by_code[code] for code in chosen]


def _scope(form: Any, companies: list[Company], warehouses: list[Warehouse]) -> dict[str, Any]:
    return {"role": (form.get("role") or "").strip(), "group_wide": form.get("group_wide") == "1",
            "company_ids": _ids(form, "company_ids", companies),
            "warehouse_ids": _ids(form, "warehouse_ids", warehouses)}


def _reason(form: Any) -> str | None:
    return (form.get("reason") or "").strip()[:500] or None


def _form_context(db: Session, actor: Actor) -> dict[str, Any]:
    companies = _companies(db, actor)
    return {"companies": companies, "warehouses": _warehouses(db, actor), "roles": ROLES,
            "group_roles": sorted(r.value for r in GROUP_ROLES),
            "company_or_group_roles": sorted(r.value for r in COMPANY_OR_GROUP_ROLES)}


# --- users ---------------------------------------------------------------------------------

@bp.route("/users")
@transaction
def users(db: Session, actor: Actor) -> Any:
    """Every user by name: role, the companies (and a clerk's warehouses) they act for, whether
    they may sign in; search by user or display name, filters by role and company."""
    require_role(*ADMINS)
    args = ListArgs.from_request()
    companies = _companies(db, actor)
    filters: dict[str, Any] = {"by_name": True}
    role = request.args.get("role", "")
    if role in {r.value for r in Role}:
        filters["role"] = Role(role)
    company = next((c for c in companies if c.code == request.args.get("company")), None)
    if company is not None:
        filters["company_id"] = company.id
    state = request.args.get("state", "")
    if state in ("active", "locked"):
        filters["active"] = state == "active"
    if args.q:
        filters["text"] = args.q
    rows, total = services.list_users(db, actor, offset=args.offset, limit=args.page_size, **filters)
    by_id = {c.id: c for c in companies}
    warehouse_names = masterdata.names_by_id(db, Warehouse, [w for u in rows for w in u.warehouse_ids])
    return render_template("admin/users.html", rows=rows, total=total, args=args, companies=companies,
                           by_id=by_id, warehouse_names=warehouse_names, roles=ROLES, role=role, state=state), 200


@bp.route("/users/new", methods=["GET", "POST"])
@transaction
def new_user(db: Session, actor: Actor) -> Any:
    """Create a user: user name, display name, initial password (at least 10 characters, stored
    only as a hash), role, and the companies (a clerk: the warehouses) they act for."""
    require_role(*ADMINS)
    context = _form_context(db, actor)
    refusal: dict[str, Any] = {}
    form = request.form
    if request.method == "POST":
        try:
            with db.begin_nested():  # a refusal rolls back to here
                values = {"username": (form.get("username") or "").strip(),
                          "display_name": (form.get("display_name") or "").strip(),
                          "password": form.get("password") or "",
                          **_scope(form, context["companies"], context["warehouses"])}
                data = _loaded(UserSchema(), values)
                user = services.create_user(db, actor, password_hash_method=erp_settings().password_hash_method,
                                            **data)
                user_id = user.id
            return redirect(url_for("admin_pages.user", user_id=user_id, done="created"))
        except DomainError as error:
            if error.status in (403, 404):
                raise
            refusal = form_refusal(error)
    status = refusal["error"].status if refusal else 200
    return render_template("admin/new_user.html", form=form, chosen_companies=form.getlist("company_ids"),
                           chosen_warehouses=form.getlist("warehouse_ids"), **context, **refusal), status


# What each of the user page's forms does: the service call, and whether it asks to confirm.
USER_ACTIONS = ("scope", "lock", "unlock", "revoke", "password")
CONFIRMED_ACTIONS = ("lock", "revoke")


def _user_change(db: Session, actor: Actor, user: User, action: str, form: Any,
                 context: dict[str, Any]) -> Callable[[], Any]:
    """The service call an action of the user page makes (parsed from the form first)."""
    method = erp_settings().password_hash_method
    if action == "scope":
        changes = _loaded(UserPatch(), {**_scope(form, context["companies"], context["warehouses"]),
                                        "display_name": (form.get("display_name") or "").strip()})
        return lambda: services.update_user(db, actor, user.id, password_hash_method=method, reason=_reason(form),
                                            **changes)
    if action in ("lock", "unlock"):
        return lambda: services.update_user(db, actor, user.id, active=action == "unlock", reason=_reason(form))
    if action == "password":
        changes = _loaded(UserPatch(), {"password": form.get("password") or ""})
        return lambda: services.update_user(db, actor, user.id, password_hash_method=method, reason=_reason(form),
                                            **changes)
    return lambda: services.revoke_user_tokens(db, actor, user.id, reason=_reason(form))


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@transaction
def user(db: Session, actor: Actor, user_id: int) -> Any:
    """A user: role, scope, whether they may sign in, their live tokens; changing role,
    companies and warehouses (their tokens are revoked: they sign in again), a new password,
    locking (asks to confirm: it signs them out) and unlocking, revoking every token (asks to
    confirm); each recorded in the audit trail with the reason given."""
    require_role(*ADMINS)
    context = _form_context(db, actor)
    refusal: dict[str, Any] = {}
    confirm: dict[str, Any] | None = None
    found = services.get_user(db, actor, user_id)
    action = request.form.get("action", "") if request.method == "POST" else ""
    if request.method == "POST":
        try:
            with db.begin_nested():  # a refusal rolls back to here
                if action not in USER_ACTIONS:
                    raise ValidationFailed.for_field("action", Message("unknown action"))
                change = _user_change(db, actor, found, action, request.form, context)
                if action in CONFIRMED_ACTIONS and not confirmed(request.form):
                    # what it ends, and its refusal (the last admin) before anything is done
                    tokens = dry_run(db, lambda: services.revoke_user_tokens(db, actor, user_id))
                    dry_run(db, change)
                    confirm = {"action": action, "tokens": tokens}
                else:
                    change()
            if confirm is None:
                return redirect(url_for("admin_pages.user", user_id=user_id, done=action))
        except DomainError as error:
            if error.status in (403, 404):
                raise
            refusal = form_refusal(error)
    found = services.get_user(db, actor, user_id)
    done = None if refusal or confirm else request.args.get("done")
    status = refusal["error"].status if refusal else 200
    by_id = {c.id: c for c in context["companies"]}
    warehouse_names = masterdata.names_by_id(db, Warehouse, found.warehouse_ids)
    return render_template("admin/user.html", user=found, tokens=services.live_tokens(db, actor, user_id),
                           done=done, confirm=confirm, action=action, form=request.form,
                           user_companies=[by_id[c] for c in found.company_ids if c in by_id],
                           user_warehouses=[warehouse_names[w] for w in found.warehouse_ids if w in warehouse_names],
                           **context, **refusal), status


# --- companies -----------------------------------------------------------------------------

@bp.route("/companies")
@transaction
def companies(db: Session, actor: Actor) -> Any:
    """The group's companies by code: segment, unified social credit code, the intercompany
    customer and supplier records that stand for each, whether active; search by code or name."""
    require_role(*ADMINS)
    args = ListArgs.from_request()
    filters: dict[str, Any] = {"q": args.q} if args.q else {}
    rows, total = masterdata.list_records(db, actor, masterdata.COMPANIES, filters, offset=args.offset,
                                          limit=args.page_size)
    customers = masterdata.names_by_id(db, Customer, [c.customer_id for c in rows])
    suppliers = masterdata.names_by_id(db, Supplier, [c.supplier_id for c in rows])
    return render_template("admin/companies.html", rows=rows, total=total, args=args, customers=customers,
                           suppliers=suppliers), 200


def _partner_id(db: Session, actor: Actor, form: Any, name: str, catalog: Any) -> int | None:
    """The record whose code the form's ``name`` holds (None when left empty: unlinked)."""
    code = (form.get(name) or "").strip()
    return masterdata.record_by_code(db, actor, catalog, code, f"{name}_id").id if code else None


@bp.route("/companies/<code>", methods=["GET", "POST"])
@transaction
def company(db: Session, actor: Actor, code: str) -> Any:
    """A company: segment, codes, approval threshold, users, and the group master's customer
    and supplier records that stand for it when another company of the group sells to it or
    buys from it (linked here, with a reason, recorded in the audit trail)."""
    require_role(*ADMINS)
    refusal: dict[str, Any] = {}
    try:
        found = masterdata.record_by_code(db, actor, masterdata.COMPANIES, code[:40], "company")
    except ValidationFailed:
        raise not_found("company", code[:40]) from None
    if request.method == "POST":
        try:
            with db.begin_nested():  # a refusal rolls back to here
                changes = {"customer_id": _partner_id(db, actor, request.form, "customer", masterdata.CUSTOMERS),
                           "supplier_id": _partner_id(db, actor, request.form, "supplier", masterdata.SUPPLIERS)}
                masterdata.update_record(db, actor, masterdata.COMPANIES, found.id, changes,
                                         reason=_reason(request.form))
            return redirect(url_for("admin_pages.company", code=found.code, done="linked"))
        except DomainError as error:
            if error.status in (403, 404):
                raise
            refusal = form_refusal(error, {"customer_id": "customer", "supplier_id": "supplier"})
    db.refresh(found)
    customer = masterdata.names_by_id(db, Customer, [found.customer_id]).get(found.customer_id)
    supplier = masterdata.names_by_id(db, Supplier, [found.supplier_id]).get(found.supplier_id)
    people, people_total = services.list_users(db, actor, offset=0, limit=100, company_id=found.id, by_name=True)
    done = None if refusal else request.args.get("done")
    status = refusal["error"].status if refusal else 200
    return render_template("admin/company.html", company=found, customer=customer, supplier=supplier,
                           people=people, people_total=people_total, done=done, form=request.form,
                           **refusal), status
