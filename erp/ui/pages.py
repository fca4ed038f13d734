"""What every page blueprint shares: sign-in required, CSRF on every form, the request's
actor and session, refusals shown as pages.

A module's ``pages.py`` makes a ``PageBlueprint``; its views, decorated ``@transaction``
(erp.web: the request's session and the signed-in actor, one transaction committed when the
view returns), read the request, call one service and render a template. A form whose post
may be refused posts inside ``db.begin_nested()``, so that a refusal rolls back to there
and the form is shown again with what the page reads. No business rule lives in a page
view or a template.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, g, redirect, render_template, request, session, url_for
from flask_babel import gettext
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from erp.auth.errors import ReadOnlyRole
from erp.auth.roles import Actor, Role
from erp.errors import DomainError, NotFound, Unauthenticated
from erp.messages import FIELD_MARK_END, FIELD_MARK_START, Message, N_
from erp.db import in_transaction
from erp.web import database_refusal, race_refusal, request_session

log = logging.getLogger(__name__)

csrf = CSRFProtect()
SESSION_TOKEN = "token"
# Endpoints a visitor reaches without signing in.
PUBLIC_ENDPOINTS = {"ui.sign_in", "ui.language", "static"}


def page_session() -> Session:
    """The request's database session (one per request, closed at teardown)."""
    return request_session()


def page_actor() -> Actor:
    """The signed-in user (the guard has made sure there is one)."""
    actor = g.get("actor")
    if actor is None:
        raise Unauthenticated(Message("sign in first"))
    return actor  # type: ignore[no-any-return]


def require_role(*roles: Role) -> None:
    """A page for these roles only: others get 403 (the navigation does not offer it them)."""
    page_actor().require_role(*roles, action="this page")


def safe_next(target: str | None) -> str | None:
    """A same-site path to return to after signing in (never another host)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _signed_in() -> Response | None:
    """Before every page: a valid session token, else off to the sign-in page."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        if request.method == "POST":
            csrf.protect()
        return None
    from erp.auth.services import actor_for_token, describe_user

    token = session.get(SESSION_TOKEN)
    actor = None
    if token:
        db = page_session()

        def signed_in() -> Actor:
            found = actor_for_token(db, token)
            g.profile = describe_user(db, found)
            return found

        try:
            actor = in_transaction(db, signed_in)
        except Unauthenticated:
            session.clear()
    if actor is None:
        return redirect(url_for("ui.sign_in", next=request.full_path.rstrip("?") if request.method == "GET" else None))
    g.actor = actor
    if request.method == "POST":
        csrf.protect()
        if actor.read_only:
            raise ReadOnlyRole(Message("role {role} is read-only", role=actor.role))
    return None


def _refusal_page(error: DomainError) -> tuple[str, int]:
    if isinstance(error, Unauthenticated):
        session.clear()
    template = {404: "ui/not_found.html", 403: "ui/forbidden.html"}.get(error.status, "ui/refused.html")
    return render_template(template, error=error), error.status


def _race_page(error: IntegrityError) -> tuple[str, int]:
    # Another user wrote the same unique value first: the rule's refusal, as a page.
    return _refusal_page(race_refusal(error))


_FIELD_MARK = re.compile(f"{FIELD_MARK_START}([^{FIELD_MARK_END}]*){FIELD_MARK_END}")
_LINE_FIELD = re.compile(r"^(?:.*/)?\w+/(\d+)/(\w+)$")  # lines/0/unit_price: the input unit_price-0


def _label_in(page: str, name: str) -> str | None:
    """The label the page gives the input ``name``: its ``<label for="f-<name>">`` (the ``field``
    macro's), else the input's ``aria-label`` (inputs in a table of lines); text as in the page."""
    tag = re.search(f'<label for="f-{re.escape(name)}"[^>]*>(.*?)</label>', page, re.S)
    if tag:
        # Without the required-field star and any tags (the text is escaped HTML already).
        text = re.sub(r'<span class="req"[^>]*>.*?</span>|<[^>]+>', "", tag.group(1), flags=re.S)
        if text.strip():
            return " ".join(text.split())
    control = re.search(f'<(?:input|select|textarea|fieldset)\\b[^>]*\\bname="{re.escape(name)}"[^>]*>', page)
    described = control and re.search(r'\baria-label="([^"]+)"', control.group(0))
    return " ".join(described.group(1).split()) if described else None


# Words for the parts of a refusal's field path that no input of the page labels (a list as a
# whole, a line of a list): a reader sees "检验结果 第 1 行", never the API's "results/0"
# (trial finding 127 showed "/lines/0/value" on a page).
FIELD_WORDS = {
    "lines": N_("Lines"), "results": N_("Results"), "characteristics": N_("Characteristic"),
    "characteristic": N_("Characteristic"), "value": N_("Value"), "quantity": N_("Quantity"),
    "unit_price": N_("Unit price"), "material_id": N_("Material"), "minimum": N_("Minimum"),
    "maximum": N_("Maximum"), "warehouse_id": N_("Warehouse"), "batch_number": N_("Batch"),
    "posting_date": N_("Posting date"), "customer_id": N_("Customer"),
}


def unlabelled_field(name: str) -> str | None:
    """A field path no input of the page labels, in words: the field's (or its list's) word and
    the line ("明细行 第 1 行" for ``lines/0/value`` without a word for ``value``); None for a
    plain name without a word (shown as it is: a page's own field)."""
    parts = [part for part in name.strip("/").split("/") if part]
    line = next((int(part) + 1 for part in reversed(parts) if part.isdigit()), None)
    words = [gettext(FIELD_WORDS[part]) for part in reversed(parts) if part in FIELD_WORDS]
    if line is None:
        return words[0] if words else None
    at = gettext("Line %(line)s", line=line)
    return f"{words[0]} {at}" if words else at


def field_labels(response: Response) -> Response:
    """Every field name a rendered message marked (erp.ui.i18n.field_label_mark) replaced by
    the label the page's form gives that field, else by the name: a reader sees "单价: 必填",
    not "unit_price: 必填" (UI.md: the rule's message at the top of the form)."""
    if response.mimetype != "text/html" or response.direct_passthrough or response.is_streamed:
        return response
    page = response.get_data(as_text=True)
    if FIELD_MARK_START not in page:
        return response

    def label(found: re.Match[str]) -> str:
        name = found.group(1)
        line = _LINE_FIELD.match(name)
        candidates = [name, *([f"{line.group(2)}-{line.group(1)}"] if line else []), name.rsplit("/", 1)[-1]]
        for candidate in dict.fromkeys(candidates):
            text = _label_in(page, candidate)
            if text:
                return text
        return html.escape(unlabelled_field(name) or name)

    response.set_data(_FIELD_MARK.sub(label, page))
    return response


def _csrf_page(error: CSRFError) -> tuple[str, int]:
    return render_template("ui/refused.html", csrf_failed=True), 400


def _database_page(error: DBAPIError) -> tuple[str, int]:
    # A lost connection, a retried serialisation failure, an amount beyond its column: the
    # refusal's message as a page, as the API answers it with a problem (never JSON to a reader).
    refusal = database_refusal(error)
    if refusal is None:
        return _broken_page(error)
    return _refusal_page(refusal)


def _broken_page(error: Exception) -> tuple[str, int]:
    # A bug: logged as the API logs it, and a page in the reader's language that says so.
    if isinstance(error, HTTPException):  # abort(404) and the like keep their own page
        return render_template("ui/http_error.html", status=error.code or 500, error=error), error.code or 500
    log.exception("unhandled error on a page", exc_info=error)
    return render_template("ui/http_error.html", status=500, error=None), 500


class PageBlueprint(Blueprint):
    """A blueprint of pages: signed-in users only, CSRF-checked forms, refusals as pages.

    Whatever a page's view lets through becomes a page with a message in the reader's
    language: a refusal (its rule's sentence), a write that raced another (the unique rule's
    refusal), a database error that stands for a refusal (erp.web.database_refusal), and
    anything else as "something went wrong" (logged); never the API's problem+json. A view
    that renders its own template with ``error`` in it shows the refusal where the template
    puts it, and at the top of the page when the template does not (ui/base.html)."""

    def __init__(self, name: str, import_name: str, **kwargs: Any) -> None:
        kwargs.setdefault("template_folder", "templates")
        super().__init__(name, import_name, **kwargs)
        self.before_request(_signed_in)
        self.register_error_handler(DomainError, _refusal_page)
        self.register_error_handler(IntegrityError, _race_page)
        self.register_error_handler(CSRFError, _csrf_page)
        self.register_error_handler(DBAPIError, _database_page)
        self.register_error_handler(Exception, _broken_page)
        self.after_request(field_labels)


# A refusal's pointer at a field of a request's line: /lines/2/quantity (a form's own reading
# may name its rows without the leading slash).
LINE_POINTER = re.compile(r"^/?lines/(\d+)/(\w+)$")


def line_refusals(error: DomainError | None, rows: list[int] | None = None) -> dict[str, Any]:
    """A refusal's problems on lines (``/lines/2/unit_price``) keyed ``unit_price-<form row>``
    like a line table's inputs, for the template to show beside each; ``rows``: the form row
    of each line of the request (rows left empty send no line; None: the pointers name form
    rows already). The first problem of a field is kept."""
    found: dict[str, Any] = {}
    for item in error.errors if error else []:
        match = LINE_POINTER.match(str(item.get("pointer", "")))
        if match:
            index = int(match.group(1))
            row = rows[index] if rows is not None and index < len(rows) else index
            found.setdefault(f"{match.group(2)}-{row}", item["detail"])
    return found


def form_refusal(error: DomainError, fields: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A refusal for a form: the rule's message at the top, and each field's problem by
    field name (the last part of the problem's pointer), for the template to show beside
    the field. ``fields`` maps a pointer's name to the form's field where they differ: the
    service's ``/posting_date`` is the credit memo form's ``invoice_date`` (the date a page
    enters is the document's and its posting date), a reversal form's ``reversal_date``
    (the posting writer's refusal of a closed period names the posting date)."""
    found: dict[str, Any] = {}
    for item in error.errors:
        name = str(item.get("pointer", "")).rstrip("/").rsplit("/", 1)[-1]
        if name:
            found.setdefault((fields or {}).get(name, name), item["detail"])
    return {"error": error, "field_errors": found}


def dry_run(db: Session, post: Callable[[], Any]) -> Any:
    """What a posting would write, without writing it (the confirmation step before an
    irreversible posting, docs/ui.md): ``post`` runs the service and reads back what it
    posted inside a savepoint that is then rolled back, so the figures shown are the
    service's own, and a refusal is raised as the posting itself would raise it. A number
    the posting drew from a sequence is not reused (a gap, as any rolled-back posting)."""
    savepoint = db.begin_nested()
    try:
        return post()
    finally:
        savepoint.rollback()


def confirmed(form: Any) -> bool:
    """Whether a form was posted from its confirmation step (``confirm_posting``: the reader
    saw what will be posted and confirmed it), rather than to be checked first."""
    return form.get("confirmed") == "1" and form.get("edit") != "1"


def not_found(what: str, key: Any) -> NotFound:
    return NotFound(Message("{what} {key} not found", what=what, key=key))


PageView = Callable[..., Any]
