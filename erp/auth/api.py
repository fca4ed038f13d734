"""Sign-in (``/api/v1/auth``) and user administration (``/api/v1/users``)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters
from sqlalchemy.orm import Session

from erp.auth import services
from erp.auth.errors import BadCredentials, DuplicateUsername, LastAdmin, RoleNotAllowed, TooManySignIns
from erp.auth.schemas import Credentials, RevokedOut, TokenOut, UserPatch, UserSchema
from erp.errors import NotFound, TooManyRequests
from erp.auth.roles import Actor
from erp.web import (
    bearer_token, Blueprint, client_address, erp_settings, paged, sign_in_limit, sign_in_throttle, transaction,
)

blp = Blueprint("auth", __name__, url_prefix="/api/v1", description="Sign-in, tokens and users")


@blp.route("/auth/token", methods=["POST"], endpoint="token")
@blp.arguments(Credentials)
@blp.response(201, TokenOut)
@blp.doc(security=[])
@sign_in_limit
@blp.refuses(BadCredentials, TooManySignIns, TooManyRequests)
def token(credentials: dict[str, str]) -> services.IssuedToken:
    """Exchange a username and password for an expiring bearer token (throttled, recorded)."""
    return _sign_in(credentials).issued()


# Not retried: the throttle counts failed attempts outside the database, never twice; but
# it only reads the throttle before the user's row, so a dropped pooled connection found
# there is replaced and the attempt made on a fresh one (reconnect).
@transaction(signed_in=False, retry=False, reconnect=True)
def _sign_in(session: Session, credentials: dict[str, str]) -> services.SignInOutcome:
    """The attempt, committed (a refused one is recorded too) before its outcome is answered."""
    return services.sign_in(
        session, credentials["username"], credentials["password"],
        ttl_minutes=erp_settings().token_ttl_minutes, client_address=client_address(),
        throttle=sign_in_throttle(),
    )


@blp.route("/auth/token", methods=["DELETE"], endpoint="token_revoke")
@blp.response(204)
@blp.refuses(NotFound)
@transaction
def token_revoke(session: Session, actor: Actor) -> None:
    """Revoke the token this request was made with (sign out)."""
    services.revoke_token(session, bearer_token() or "")


@blp.route("/auth/me", methods=["GET"], endpoint="me")
@blp.response(200, UserSchema)
@blp.refuses(NotFound)
@transaction
def me(session: Session, actor: Actor) -> Any:
    """The signed-in user, their role and the companies they act for."""
    return services.get_user(session, actor, actor.user_id)


@blp.route("/users")
class Users(MethodView):
    @blp.response(200, UserSchema(many=True))
    @blp.paginate()
    @blp.refuses(RoleNotAllowed)
    def get(self, pagination_parameters: PaginationParameters) -> list[Any]:
        """List users (admins)."""
        return paged(pagination_parameters, services.list_users)

    @blp.arguments(UserSchema)
    @blp.response(201, UserSchema)
    @blp.refuses(RoleNotAllowed, DuplicateUsername)
    @transaction
    def post(self, session: Session, actor: Actor, data: dict[str, Any]) -> Any:
        """Create a user with a role and the companies (and warehouses) they act for (admins)."""
        return services.create_user(
            session, actor, password_hash_method=erp_settings().password_hash_method, **data
        )


@blp.route("/users/<int:user_id>")
class UserItem(MethodView):
    @blp.response(200, UserSchema)
    @blp.refuses(NotFound)
    @transaction
    def get(self, session: Session, actor: Actor, user_id: int) -> Any:
        """Read a user (admins, or oneself)."""
        return services.get_user(session, actor, user_id)

    @blp.arguments(UserPatch)
    @blp.response(200, UserSchema)
    @blp.refuses(RoleNotAllowed, NotFound, LastAdmin)
    @transaction
    def patch(self, session: Session, actor: Actor, changes: dict[str, Any], user_id: int) -> Any:
        """Change a user's name, password, role, scope or active flag (admins)."""
        return services.update_user(
            session, actor, user_id,
            password_hash_method=erp_settings().password_hash_method, **changes,
        )


@blp.route("/users/<int:user_id>/revoke-tokens", methods=["POST"], endpoint="revoke_user_tokens")
@blp.response(200, RevokedOut)
@blp.refuses(RoleNotAllowed)
@transaction
def revoke_user_tokens(session: Session, actor: Actor, user_id: int) -> dict[str, int]:
    """Revoke every live token of a user (admins)."""
    return {"revoked": services.revoke_user_tokens(session, actor, user_id)}
