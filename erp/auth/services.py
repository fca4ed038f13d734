"""Sign-in, bearer tokens and user administration."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, func, literal_column, select, union_all, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from erp.audit import services as audit
from erp.auth.errors import BadCredentials, DuplicateUsername, InvalidToken, LastAdmin, TooManySignIns
from erp.auth.models import ApiToken, User, UserCompany, UserWarehouse
from erp.auth.roles import GROUP_ROLES, Actor, Role, role_scope_is_consistent
from erp.auth.throttle import SignInThrottle
from erp.db import DriverRead, page, utcnow
from erp.errors import DomainError, NotFound, ValidationFailed
from erp.masterdata.models import Company, Warehouse
from erp.messages import Message, Named
from erp.search import contains_text

# Changes after which a user's live tokens no longer stand for what they were issued for.
TOKEN_REVOKING_CHANGES = ("password", "role", "group_wide", "company_ids", "warehouse_ids", "active")


@functools.cache
def _dummy_hash() -> str:
    """Checked against when the username is unknown, so that a wrong username and a wrong
    password take the same time."""
    return generate_password_hash("not-a-password", method="scrypt")


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: dt.datetime
    user_id: int


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hash_password(password: str, method: str = "scrypt") -> str:
    """A salted hash of ``password`` (werkzeug's scrypt by default)."""
    return generate_password_hash(password, method=method)


def issue_token(session: Session, user_id: int, *, ttl_minutes: int) -> IssuedToken:
    """Create a new bearer token for ``user_id`` valid for ``ttl_minutes``."""
    token = secrets.token_urlsafe(32)
    expires_at = utcnow() + dt.timedelta(minutes=ttl_minutes)
    session.add(ApiToken(user_id=user_id, token_digest=_digest(token), expires_at=expires_at))
    session.flush()
    return IssuedToken(token=token, expires_at=expires_at, user_id=user_id)


@dataclass(frozen=True)
class SignInOutcome:
    """What a sign-in attempt came to: a token, or the refusal to raise once the attempt's
    audit row is committed (a refusal raised inside the transaction would roll it back)."""

    token: IssuedToken | None = None
    refusal: DomainError | None = None

    def issued(self) -> IssuedToken:
        """The token; raises the refusal (401 or 429) if there is none."""
        if self.refusal is not None:
            raise self.refusal
        assert self.token is not None
        return self.token


def sign_in(
    session: Session,
    username: str,
    password: str,
    *,
    ttl_minutes: int,
    client_address: str | None = None,
    throttle: SignInThrottle | None = None,
) -> SignInOutcome:
    """Check a user name and password and issue a bearer token, recording the attempt.

    Every sign-in path (API token, browser pages) goes through here, so all share the
    throttle (``erp.auth.throttle``: 429 while a name or an address has failed too often)
    and the audit trail (``sign-in``, ``sign-in-failed``, ``sign-in-throttled`` rows on the
    user). Returns a ``SignInOutcome`` instead of raising: commit, then call ``issued()``.
    """
    wait = throttle.retry_after(username, client_address) if throttle else None
    user = session.scalars(select(User).where(User.username == username)).one_or_none()

    def record(action: str, reason: str | None = None) -> None:
        audit.record_event(
            session, actor_id=user.id if user and action == "sign-in" else None, actor_name=username,
            entity="user", entity_id=user.id if user else None, action=action, reason=reason,
            client_address=client_address,
        )

    if wait is not None:
        record("sign-in-throttled", f"too many failed sign-ins; retry after {wait} s")
        return SignInOutcome(refusal=TooManySignIns(
            Message("too many failed sign-ins for this user name or from this address; try again in {wait} seconds",
                    wait=wait),
            retry_after=wait,
        ))
    password_ok = check_password_hash(user.password_hash if user else _dummy_hash(), password)
    if user is None or not password_ok or not user.active:
        record("sign-in-failed", "unknown user" if user is None else "wrong password" if not password_ok
               else "inactive user")
        if throttle:
            throttle.failed(username, client_address)
        return SignInOutcome(refusal=BadCredentials(Message("unknown user, wrong password or inactive user")))
    if throttle:
        throttle.succeeded(username)
    record("sign-in")
    return SignInOutcome(token=issue_token(session, user.id, ttl_minutes=ttl_minutes))


def password_matches(session: Session, user_id: int, password: str) -> bool:
    """Whether ``password`` is the active user's own (an electronic signature's re-entry,
    21 CFR 11.200(a)); checked like a sign-in, against the stored salted hash."""
    user = session.get(User, user_id)
    matches = check_password_hash(user.password_hash if user else _dummy_hash(), password)
    return bool(user is not None and user.active and matches)


# A user's companies ('c') and warehouses ('w') as one relation, joined to the token's user
# below: the token check is one statement on every API request, not three (issue 18's
# profile put a quarter of an HTTP receipt in the token check).
_USER_SCOPE = union_all(
    select(literal_column("'c'").label("kind"), UserCompany.__table__.c.user_id,
           UserCompany.__table__.c.company_id.label("ref")),
    select(literal_column("'w'").label("kind"), UserWarehouse.__table__.c.user_id,
           UserWarehouse.__table__.c.warehouse_id.label("ref")),
).subquery("scope")
# Built once: every API request runs it, and building the expression anew (and its cache
# key) cost as much Python as executing it; sent to the driver as compiled SQL on
# PostgreSQL (erp.db.DriverRead: plain tuples, none of SQLAlchemy's per-statement work).
_USERS, _TOKENS = User.__table__, ApiToken.__table__
_ACTOR_OF_TOKEN = DriverRead(
    select(_USERS.c.id, _USERS.c.username, _USERS.c.role, _USERS.c.group_wide, _USERS.c.active,
           _TOKENS.c.expires_at, _TOKENS.c.revoked_at, _USER_SCOPE.c.kind, _USER_SCOPE.c.ref)
    .join_from(_USERS, _TOKENS, _TOKENS.c.user_id == _USERS.c.id)
    .outerjoin(_USER_SCOPE, _USER_SCOPE.c.user_id == _USERS.c.id)
    .where(_TOKENS.c.token_digest == bindparam("digest"))
)


def actor_for_token(session: Session, token: str) -> Actor:
    """The actor a bearer token stands for; 401 if it is unknown, expired or revoked.

    One statement, in the caller's transaction (every request reads the token as committed
    now: a revocation, an expiry or a deactivation refuses the very next request): the
    token, its user and the user's companies and warehouses (one row per company or
    warehouse, at least one row)."""
    rows = _ACTOR_OF_TOKEN.rows(session.connection(), {"digest": _digest(token)})
    if not rows:
        raise InvalidToken(Message("the bearer token is not known"))
    user_id, username, role, group_wide, active, expires_at, revoked_at = rows[0][:7]
    if revoked_at is not None:
        raise InvalidToken(Message("the bearer token has been revoked"))
    if expires_at <= utcnow():
        raise InvalidToken(Message("the bearer token has expired"))
    if not active:
        raise InvalidToken(Message("the user is inactive"))
    return Actor(
        user_id=user_id, username=username, role=Role(role), group_wide=group_wide,
        company_ids=frozenset(row[8] for row in rows if row[7] == "c"),
        warehouse_ids=frozenset(row[8] for row in rows if row[7] == "w"),
    )


def actor_for_user(user: User) -> Actor:
    """The ``Actor`` for a loaded user."""
    return Actor(
        user_id=user.id,
        username=user.username,
        role=Role(user.role),
        group_wide=user.group_wide,
        company_ids=frozenset(user.company_ids),
        warehouse_ids=frozenset(user.warehouse_ids),
    )


def revoke_token(session: Session, token: str) -> None:
    """Revoke a token (sign out); later calls with it get 401."""
    api_token = session.scalars(
        select(ApiToken).where(ApiToken.token_digest == _digest(token))
    ).one_or_none()
    if api_token is None:
        raise NotFound(Message("token not found"))
    if api_token.revoked_at is None:
        api_token.revoked_at = utcnow()
        user = session.get(User, api_token.user_id)
        audit.record_event(session, actor_id=api_token.user_id, actor_name=user.username if user else "?",
                           entity="user", entity_id=api_token.user_id, action="sign-out",
                           changes={"token": {"before": "live", "after": "revoked"}})


def _revoke_all(session: Session, actor: Actor, user_id: int, reason: str) -> int:
    """Revoke every live token of a user, recorded; returns how many."""
    now = utcnow()
    revoked = session.execute(
        update(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now).execution_options(synchronize_session=False)
    ).rowcount
    if revoked:
        audit.record_change(session, actor, entity="user", entity_id=user_id, action="tokens-revoked",
                            before={"live_tokens": revoked}, after={"live_tokens": 0}, reason=reason)
    return revoked


def revoke_user_tokens(session: Session, actor: Actor, user_id: int, *, reason: str | None = None) -> int:
    """Revoke every live token of a user (an admin locking someone out); returns how many.
    Recorded with the admin's ``reason``, if given."""
    actor.require_role(Role.ADMIN, action="revoking a user's tokens")
    return _revoke_all(session, actor, user_id, reason or "revoked by an admin")


def _check_scope(
    session: Session,
    role: Role,
    group_wide: bool,
    company_ids: Sequence[int],
    warehouse_ids: Sequence[int],
) -> None:
    if role in GROUP_ROLES:
        group_wide = True
    problem = role_scope_is_consistent(role, group_wide, company_ids)
    if problem:
        raise ValidationFailed.for_field("company_ids", problem)
    if company_ids:
        found = set(session.scalars(select(Company.id).where(Company.id.in_(company_ids))))
        missing = sorted(set(company_ids) - found)
        if missing:
            raise ValidationFailed.for_field("company_ids", Message("unknown companies {ids}", ids=repr(missing)))
    if role == Role.CLERK and not warehouse_ids:
        raise ValidationFailed.for_field("warehouse_ids", Message("a clerk needs at least one warehouse"))
    if role != Role.CLERK and warehouse_ids:
        raise ValidationFailed.for_field("warehouse_ids", Message("only clerks are bound to warehouses"))
    if warehouse_ids:
        owners: dict[int, int] = {
            warehouse_id: company_id
            for warehouse_id, company_id in session.execute(
                select(Warehouse.id, Warehouse.company_id).where(Warehouse.id.in_(warehouse_ids))
            )
        }
        missing = sorted(set(warehouse_ids) - set(owners))
        if missing:
            raise ValidationFailed.for_field("warehouse_ids", Message("unknown warehouses {ids}", ids=repr(missing)))
        foreign = sorted(w for w, c in owners.items() if c not in set(company_ids))
        if foreign:
            raise ValidationFailed.for_field(
                "warehouse_ids", Message("warehouses {ids} belong to companies the user does not act for",
                                         ids=repr(foreign))
            )


def create_user(
    session: Session,
    actor: Actor,
    *,
    username: str,
    display_name: str,
    password: str,
    role: Role,
    group_wide: bool = False,
    company_ids: Sequence[int] = (),
    warehouse_ids: Sequence[int] = (),
    password_hash_method: str = "scrypt",
) -> User:
    """Create a user with a role and the companies (and warehouses) they act for."""
    actor.require_role(Role.ADMIN, action="creating users")
    if session.scalar(select(func.count()).select_from(User).where(User.username == username)):
        raise DuplicateUsername(Message("username {username} is taken", username=repr(username)),
                                errors=[{"pointer": "/username", "detail": Message("this user name is taken")}])
    group_wide = group_wide or role in GROUP_ROLES
    _check_scope(session, role, group_wide, company_ids, warehouse_ids)
    user = User(
        username=username,
        display_name=display_name,
        password_hash=hash_password(password, password_hash_method),
        role=role,
        group_wide=group_wide,
        companies=[UserCompany(company_id=c) for c in sorted(set(company_ids))],
        warehouses=[UserWarehouse(warehouse_id=w) for w in sorted(set(warehouse_ids))],
    )
    session.add(user)
    session.flush()
    audit.record_change(session, actor, entity="user", entity_id=user.id, action=audit.CREATE,
                        after=_user_snapshot(user))
    return user


def _user_snapshot(user: User, *, password_changed: bool = False) -> dict[str, object]:
    """What the audit trail records of a user: never the password, only that it changed."""
    values = audit.snapshot(user, exclude=("password_hash",))
    values["password"] = audit.REDACTED + (" (changed)" if password_changed else "")
    values["company_ids"] = user.company_ids
    values["warehouse_ids"] = user.warehouse_ids
    return values


def get_user(session: Session, actor: Actor, user_id: int) -> User:
    """One user (admins see everyone; others only themselves)."""
    if actor.role != Role.ADMIN and actor.user_id != user_id:
        raise NotFound(Message("user {key} not found", key=user_id))
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(Message("user {key} not found", key=user_id))
    return user


def list_users(
    session: Session, actor: Actor, *, offset: int, limit: int, text: str | None = None, role: Role | None = None,
    company_id: int | None = None, active: bool | None = None, by_name: bool = False,
) -> tuple[list[User], int]:
    """All users, for admins, by id (``by_name``: by user name); ``text`` part of the user or display name (typed text
    matched literally), ``company_id`` the users acting for that company (named, or group-wide)."""
    actor.require_role(Role.ADMIN, action="listing users")
    query = select(User)
    if text:
        query = query.where(contains_text(text, User.username, User.display_name))
    if role is not None:
        query = query.where(User.role == role)
    if active is not None:
        query = query.where(User.active.is_(active))
    if company_id is not None:
        query = query.where(User.group_wide.is_(True) | User.id.in_(
            select(UserCompany.user_id).where(UserCompany.company_id == company_id)))
    return page(session, query.order_by(User.username if by_name else User.id),
                offset=offset, limit=limit, entities=True)


def live_tokens(session: Session, actor: Actor, user_id: int) -> int:
    """How many unexpired, unrevoked tokens a user holds (admins): what revoking them ends."""
    actor.require_role(Role.ADMIN, action="listing users")
    return session.scalar(select(func.count()).select_from(ApiToken).where(
        ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None), ApiToken.expires_at > utcnow())) or 0


def _keep_an_admin(session: Session, leaving: User) -> None:
    """Refuse to demote or deactivate the last active admin: nobody could manage users after."""
    others = session.scalar(
        select(func.count()).select_from(User)
        .where(User.role == Role.ADMIN, User.active.is_(True), User.id != leaving.id)
    )
    if not others:
        raise LastAdmin(Message("{user} is the last active admin; make another admin first", user=leaving.username))


def update_user(
    session: Session,
    actor: Actor,
    user_id: int,
    *,
    password_hash_method: str = "scrypt",
    **changes: object,
) -> User:
    """Change a user's name, password, role, scope or active flag (admins only).

    A change of password, role, companies, warehouses or the active flag revokes the
    user's live tokens: they were issued for what the user was before. Recorded in the
    audit trail with ``reason``."""
    actor.require_role(Role.ADMIN, action="changing users")
    reason = changes.pop("reason", None)
    user = get_user(session, actor, user_id)
    before = _user_snapshot(user)
    role = Role(changes.get("role", user.role))  # type: ignore[arg-type]
    group_wide = bool(changes.get("group_wide", user.group_wide)) or role in GROUP_ROLES
    company_ids = list(changes.get("company_ids", user.company_ids))  # type: ignore[call-overload]
    warehouse_ids = list(changes.get("warehouse_ids", user.warehouse_ids))  # type: ignore[call-overload]
    _check_scope(session, role, group_wide, company_ids, warehouse_ids)
    if user.role == Role.ADMIN and (role != Role.ADMIN or changes.get("active") is False):
        _keep_an_admin(session, user)
    user.role = role
    user.group_wide = group_wide
    if "display_name" in changes:
        user.display_name = str(changes["display_name"])
    if "password" in changes:
        user.password_hash = hash_password(str(changes["password"]), password_hash_method)
    if "active" in changes:
        user.active = bool(changes["active"])
    if "company_ids" in changes:
        user.companies = [UserCompany(company_id=c) for c in sorted(set(company_ids))]
    if "warehouse_ids" in changes:
        user.warehouses = [UserWarehouse(warehouse_id=w) for w in sorted(set(warehouse_ids))]
    session.flush()
    after = _user_snapshot(user, password_changed="password" in changes)
    recorded = audit.record_change(session, actor, entity="user", entity_id=user.id, action=audit.CHANGE,
                                   before=before, after=after, reason=str(reason) if reason else None)
    changed = set(recorded.changes) if recorded else set()
    revoking = sorted(changed & set(TOKEN_REVOKING_CHANGES))
    if revoking:
        _revoke_all(session, actor, user.id, f"{', '.join(revoking)} changed")
    return user


@dataclass(frozen=True)
class Profile:
    """Who is signed in, as the top bar shows it: name, role and the companies (and
    warehouses) they act for, by code and name."""

    username: str
    display_name: str
    role: Role
    group_wide: bool
    companies: list[Named]
    warehouses: list[Named]


def describe_user(session: Session, actor: Actor) -> Profile:
    """The signed-in user's name and scope (one query for the companies, one for warehouses)."""
    display_name = session.scalar(select(User.display_name).where(User.id == actor.user_id)) or actor.username
    companies = [] if actor.group_wide else [
        Named.of(c) for c in session.scalars(select(Company).where(Company.id.in_(sorted(actor.company_ids)))
                                             .order_by(Company.code))
    ]
    warehouses = [
        Named.of(w) for w in session.scalars(select(Warehouse).where(Warehouse.id.in_(sorted(actor.warehouse_ids)))
                                             .order_by(Warehouse.code))
    ] if actor.warehouse_ids else []
    return Profile(actor.username, display_name, actor.role, actor.group_wide, companies, warehouses)
