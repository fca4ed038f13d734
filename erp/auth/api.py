"""Sign-in (``/api/v1/auth``) and user administration (``/api/v1/users``)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters

from erp.auth import services
from erp.auth.errors import BadCredentials, DuplicateUsername, LastAdmin, RoleNotAllowed, TooManySignIns
from erp.auth.schemas import Credentials, RevokedOut, TokenOut, UserPatch, UserSchema
from erp.errors import NotFound, TooManyRequests
from erp.web import (
    Blueprint, bearer_token, client_address, current_actor, erp_settings, paged, request_session, sign_in_limit,
    sign_in_throttle,
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
    session = request_session()
    with session.begin():
        outcome = services.sign_in(
            session, credentials["username"], credentials["password"],
            ttl_minutes=erp_settings().token_ttl_minutes, client_address=client_address(),
            throttle=sign_in_throttle(),
        )
    return outcome.issued()


@blp.route("/auth/token", methods=["DELETE"], endpoint="token_revoke")
@blp.response(204)
@blp.refuses(NotFound)
def token_revoke() -> None:
    """Revoke the token this request was made with (sign out)."""
    session = request_session()
    with session.begin():
        services.revoke_token(session, bearer_token() or "")


@blp.route("/auth/me", methods=["GET"], endpoint="me")
@blp.response(200, UserSchema)
@blp.refuses(NotFound)
def me() -> Any:
    """The signed-in user, their role and the companies they act for."""
    session = request_session()
    actor = current_actor()
    with session.begin():
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
    def post(self, data: dict[str, Any]) -> Any:
        """Create a user with a role and the companies (and warehouses) they act for (admins)."""
        session = request_session()
        with session.begin():
            return services.create_user(
                session, current_actor(), password_hash_method=erp_settings().password_hash_method, **data
            )


@blp.route("/users/<int:user_id>")
class UserItem(MethodView):
    @blp.response(200, UserSchema)
    @blp.refuses(NotFound)
    def get(self, user_id: int) -> Any:
        """Read a user (admins, or oneself)."""
        session = request_session()
        with session.begin():
            return services.get_user(session, current_actor(), user_id)

    @blp.arguments(UserPatch)
    @blp.response(200, UserSchema)
    @blp.refuses(RoleNotAllowed, NotFound, LastAdmin)
    def patch(self, changes: dict[str, Any], user_id: int) -> Any:
        """Change a user's name, password, role, scope or active flag (admins)."""
        session = request_session()
        with session.begin():
            return services.update_user(
                session, current_actor(), user_id,
                password_hash_method=erp_settings().password_hash_method, **changes,
            )


@blp.route("/users/<int:user_id>/revoke-tokens", methods=["POST"], endpoint="revoke_user_tokens")
@blp.response(200, RevokedOut)
@blp.refuses(RoleNotAllowed)
def revoke_user_tokens(user_id: int) -> dict[str, int]:
    """Revoke every live token of a user (admins)."""
    session = request_session()
    with session.begin():
        return {"revoked": services.revoke_user_tokens(session, current_actor(), user_id)}
