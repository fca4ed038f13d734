"""Signing in and out, the language switch, and the landing page of each role."""

from __future__ import annotations

from typing import Any

from flask import current_app, g, make_response, redirect, render_template, request, session, url_for
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from erp.auth import services
from erp.auth.errors import TooManySignIns
from erp.errors import Unauthenticated
from erp.ui import nav
from erp.ui.i18n import LANGUAGE_COOKIE, LANGUAGE_COOKIE_MAX_AGE, LANGUAGES
from erp.ui.pages import SESSION_TOKEN, PageBlueprint, page_actor, safe_next
from erp.web import client_address, sign_in_limit, sign_in_throttle, transaction

bp = PageBlueprint("ui", __name__)


@bp.route("/sign-in", methods=["GET", "POST"])
@sign_in_limit
def sign_in() -> Any:
    """The sign-in form; a correct password starts a session (an HttpOnly cookie holding a
    sign-in token, revoked at sign-out). Throttled and recorded like the API's sign-in."""
    target = safe_next(request.values.get("next"))
    if request.method == "GET":
        return render_template("ui/sign_in.html", next=target, username="")
    username = request.form.get("username", "").strip()[:64]
    password = request.form.get("password", "")[:200]
    settings = current_app.extensions["erp"].settings
    outcome = _sign_in(username, password, settings.session_ttl_minutes)
    try:
        issued = outcome.issued()
    except TooManySignIns as refusal:
        page = render_template("ui/sign_in.html", next=target, username=username, retry_after=refusal.retry_after)
        return page, 429, {"Retry-After": str(refusal.retry_after)}
    except Unauthenticated:
        return render_template("ui/sign_in.html", next=target, username=username, failed=True), 401
    session.clear()
    session[SESSION_TOKEN] = issued.token
    session.permanent = True
    return redirect(target or url_for("ui.home"))


# Not retried: the throttle counts failed attempts outside the database, never twice; but
# it only reads the throttle before the user's row, so a dropped pooled connection found
# there is replaced and the attempt made on a fresh one (reconnect).
@transaction(signed_in=False, retry=False, reconnect=True)
def _sign_in(db: Session, username: str, password: str, ttl_minutes: int) -> services.SignInOutcome:
    """The attempt, committed (a refused one is recorded too) before its outcome is shown."""
    return services.sign_in(db, username, password, ttl_minutes=ttl_minutes, client_address=client_address(),
                            throttle=sign_in_throttle())


@bp.route("/sign-out", methods=["POST"])
@transaction(signed_in=False)
def sign_out(db: Session) -> Response:
    """End the session: the token is revoked, the cookie cleared."""
    token = session.get(SESSION_TOKEN)
    if token:
        services.revoke_token(db, token)
    session.clear()
    return redirect(url_for("ui.sign_in"))


@bp.route("/language/<code>")
def language(code: str) -> Response:
    """Switch the language and remember it (a cookie, a year); back to the same page."""
    response = make_response(redirect(safe_next(request.args.get("next")) or url_for("ui.home")))
    if code in LANGUAGES:
        response.set_cookie(LANGUAGE_COOKIE, code, max_age=LANGUAGE_COOKIE_MAX_AGE, samesite="Lax",
                            secure=current_app.config["SESSION_COOKIE_SECURE"], httponly=True)
    return response


@bp.route("/")
def home() -> Any:
    """The role's daily work (its landing page), or a short overview for roles whose pages
    are still to come."""
    actor = page_actor()
    endpoint = nav.landing_endpoint(actor.role, actor.group_wide)
    if endpoint is not None:
        return redirect(url_for(endpoint))
    return render_template("ui/home.html", profile=g.profile)
