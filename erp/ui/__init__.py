"""The browser UI's foundation: sessions and CSRF, languages, the layout and its macros,
formatting filters, and the registration of every module's pages.

Pages live in the module that owns them (``erp/<module>/pages.py`` and
``erp/<module>/templates/<module>/``); see docs/ui.md for how to add one.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any

from flask import Flask, g, has_request_context, render_template, request
from flask.sessions import SecureCookieSessionInterface
from flask_babel import format_decimal
from markupsafe import Markup
from werkzeug.exceptions import HTTPException

from erp import narration
from erp.config import PROJECT_ROOT, Settings
from erp.errors import Conflict, DomainError, ValidationFailed
from erp.masterdata import services as masterdata
from erp.messages import Message, Named
from erp.ui import nav
from erp.ui.i18n import LANGUAGES, current_language, format_money, format_quantity_number, init_i18n, page_text
from erp.ui.labels import journal_source, label, lot_origin, risk_class, tone
from erp.ui.pages import csrf
from erp.web import API_PREFIX, request_session

# Units shown in lower case, as written (kg, g, l, m2); the rest by code (BOX, EA).
METRIC_UNITS = {"KG", "G", "L", "M2"}


def _secret_key(settings: Settings) -> str:
    """The configured key, else one made once and kept in instance/secret_key."""
    if settings.secret_key:
        return settings.secret_key
    path = PROJECT_ROOT / "instance" / "secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def money(value: Decimal | None) -> str:
    """¥1,234.50: two decimals, thousands separators, the yuan sign."""
    return "" if value is None else format_money(value)


def quantity(value: Decimal | None) -> str:
    """A number that is not a quantity of goods (a rate, a scrap percentage, hours per base
    quantity's figure): thousands separators, no trailing zeros. A quantity of goods is shown
    with its unit: ``with_unit``."""
    if value is None:
        return ""
    return format_quantity_number(Decimal(value))


def _unit_names() -> dict[str, Named]:
    """The unit master's names by code, read once per request (a handful of rows)."""
    if not has_request_context():
        return {}
    if "unit_names" not in g:
        g.unit_names = masterdata.unit_names(request_session())
    return g.unit_names  # type: ignore[no-any-return]


def unit_name(unit: str | Any | None) -> str:
    """A unit as the reader says it: its Chinese name from the unit master (千克, 个, 盒) on a
    Chinese page; its symbol (kg) or code (EA, BOX) in English. ``unit`` is a unit's code
    (looked up in the unit master) or a record with ``code``, ``name_zh`` (a unit, a ``Named``)."""
    if unit is None or unit == "":
        return ""
    if isinstance(unit, str):
        code, name_zh = unit, getattr(_unit_names().get(unit), "name_zh", "")
    else:
        code, name_zh = unit.code, getattr(unit, "name_zh", "")
    if current_language() == "zh" and name_zh:
        return str(name_zh)
    return code.lower() if code in METRIC_UNITS else code


def with_unit(value: Decimal | None, unit: str | Any | None) -> str:
    """A quantity with its unit as the reader says it: 120.5 千克 on a Chinese page, 120.5 kg in
    English (thousands separators, no trailing zeros). The one way every page shows a
    quantity of goods; ``unit`` as for ``unit_name``."""
    if value is None:
        return ""
    text = format_quantity_number(Decimal(value))
    name = unit_name(unit)
    return f"{text} {name}" if name else text


def price(value: Decimal | None) -> str:
    """A unit price: at least two decimals, up to six (cheap components need them)."""
    if value is None:
        return ""
    value = Decimal(value)
    places = max(2, min(6, -value.normalize().as_tuple().exponent))  # type: ignore[operator]
    return "¥" + format_decimal(value, format="#,##0." + "0" * places)


def percent(value: Decimal | None, places: int = 4) -> str:
    """A rate as a percentage: 0.0123456 -> 1.2346% (variance rates, utilisation)."""
    if value is None:
        return ""
    return format_decimal(Decimal(value) * 100, format="#,##0." + "0" * places) + "%"


def date(value: dt.date | dt.datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


def named(code: str | Named | Any | None, name_zh: str | None = None, name_en: str | None = None) -> str:
    """A record by code and name in the reader's language: ``code|named(name_zh, name_en)``,
    or ``record|named`` for a ``Named`` or any record with ``code``, ``name_zh``, ``name_en``."""
    if code is None:
        return ""
    if not isinstance(code, str):
        return (code if isinstance(code, Named) else Named.of(code)).label(current_language())
    return Named(code, name_zh or "", name_en or name_zh or "").label(current_language())


def status_tag(value: Enum | None) -> Markup:
    """A coloured tag with the status's word (never colour alone)."""
    if value is None:
        return Markup("")
    return Markup('<span class="tag tag-{}">{}</span>').format(tone(value), label(value))


def narration_text(stored: str | None) -> str:
    """A stored narration (a journal entry's 摘要, a stock document's reason: erp.narration) in
    the reader's language; a person's words as they were typed."""
    said = narration.read(stored)
    return page_text(said) if isinstance(said, Message) else (said or "")


def refusal_shown(error: Any) -> str:
    """Called where a template shows a refusal (the ``refusal`` macro): the layout then does
    not show it a second time. Returns nothing to print."""
    g.setdefault("refusals_shown", set()).add(id(error))
    return ""


# The titles of the generic refusal classes: they say that something was refused, not why.
GENERIC_TITLES = frozenset({DomainError.title, ValidationFailed.title, Conflict.title})


@dataclass(frozen=True)
class RefusalHeading:
    """What a refusal's box at the top of a page says: a title that names the rule, and a
    detail under it (None when the title says it all)."""

    title: str
    detail: str | None


def refusal_heading(error: Any) -> RefusalHeading:
    """The refusal's title and detail as the ``refusal`` macro shows them. A refusal class's
    own title names its rule ("批次已过期") and the detail gives the figures; a generic title
    ("请求内容无效", "与当前状态冲突") says nothing a reader can act on, so the detail (the
    first field's label and message: "调入仓库：调出和调入仓库相同") becomes the title, and the
    detail says how many other fields the refusal marks (TRIAL.md findings 7 and 15)."""
    detail = page_text(error.message)
    if error.title not in GENERIC_TITLES:
        return RefusalHeading(page_text(error.title), detail)
    fields = {str(item.get("pointer", "")) for item in error.errors or []}
    more = len(fields) - 1
    return RefusalHeading(detail, page_text(Message(
        "and {count} more fields to correct, each explained under it", count=more)) if more > 0 else None)


def refusal_unshown(error: Any) -> bool:
    """A refusal handed to the page's template that the template did not show (ui/base.html
    shows it at the top): a page never answers 4xx without saying why."""
    return isinstance(error, DomainError) and id(error) not in g.get("refusals_shown", ())


def _http_error(api_handler: Any) -> Any:
    """HTTP errors (unknown URLs, wrong methods) as problem+json under /api, as pages elsewhere."""

    def handle(error: HTTPException) -> Any:
        if request.path.startswith(API_PREFIX):
            return api_handler(error)
        status = error.code or 500
        return render_template("ui/http_error.html", status=status, error=error), status

    return handle


class PagesSessionInterface(SecureCookieSessionInterface):
    """The signed session cookie, for the pages only: an API request authenticates by its
    bearer token and never reads the cookie, so its session is Flask's null session (reading
    it gives nothing, writing it raises) and the cookie is neither verified nor set. Verifying
    it built a signing serializer on every API request (issue #18's profile of a receipt)."""

    def open_session(self, app: Flask, request: Any) -> Any:
        if request.path.startswith(API_PREFIX):
            return self.make_null_session(app)
        return super().open_session(app, request)


def init_ui(app: Flask) -> None:
    """Wire the UI into ``app``: cookies, CSRF, languages, template helpers and every page."""
    settings: Settings = app.extensions["erp"].settings
    app.config["SECRET_KEY"] = _secret_key(settings)
    app.session_interface = PagesSessionInterface()
    app.config.update(
        SESSION_COOKIE_NAME="heyi_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.session_cookie_secure,
        PERMANENT_SESSION_LIFETIME=dt.timedelta(minutes=settings.session_ttl_minutes),
        # Pages check CSRF themselves (erp.ui.pages); the API authenticates by bearer token.
        WTF_CSRF_CHECK_DEFAULT=False,
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_SSL_STRICT=False,
    )
    init_i18n(app)
    csrf.init_app(app)
    # flask-wtf's app-wide before-request check returns at once when WTF_CSRF_CHECK_DEFAULT is
    # off (above): the pages call csrf.protect() themselves (erp.ui.pages). Every request paid
    # its dispatch for nothing (issue #18's profile of an API receipt).
    if not app.config["WTF_CSRF_CHECK_DEFAULT"]:
        app.before_request_funcs[None] = [
            hook for hook in app.before_request_funcs[None]
            if getattr(hook, "__qualname__", "") != "CSRFProtect.init_app.<locals>.csrf_protect"]
    app.jinja_env.filters.update(money=money, quantity=quantity, with_unit=with_unit, unit_name=unit_name, price=price, percent=percent, date=date, named=named,
                                 status_tag=status_tag, label=label, lot_origin=lot_origin, risk_class=risk_class,
                                 t=page_text, narration=narration_text, journal_source=journal_source)
    app.jinja_env.globals.update(LANGUAGES=LANGUAGES, current_language=current_language, menu_for=nav.menu_for,
                                 Message=Message, refusal_shown=refusal_shown, refusal_unshown=refusal_unshown,
                                 refusal_heading=refusal_heading)

    @app.context_processor
    def _page_context() -> dict[str, Any]:
        return {"actor": g.get("actor"), "profile": g.get("profile")}

    from erp.audit.pages import bp as audit_pages
    from erp.auth.admin_pages import bp as admin_pages
    from erp.costing.pages import bp as costing_pages
    from erp.credit.cio_pages import bp as cio_pages
    from erp.consolidation.pages import bp as intercompany_pages  # after the CIO's: the reports menu's order
    from erp.credit.pages import bp as credit_pages
    from erp.credit.sales_pages import bp as sales_pages  # before returns: the sales menu's first entry
    from erp.credit.return_pages import bp as returns_pages
    from erp.golive.pages import bp as golive_pages
    from erp.credit.receipt_pages import bp as receipt_pages
    from erp.inventory.pages import bp as inventory_pages
    from erp.masterdata.pages import bp as masterdata_pages
    from erp.payables.pages import bp as payables_pages
    from erp.payables.repair_pages import bp as payables_repairs
    from erp.purchasing.contract_pages import bp as contract_pages
    from erp.purchasing.pages import bp as purchasing_pages
    from erp.production.pages import bp as production_pages
    from erp.quality.pages import bp as quality_pages
    from erp.ui.auth import bp as ui_pages
    from erp.ui.exports import bp as export_pages
    from erp.ui.problems import bp as problem_pages

    for blueprint in (ui_pages, purchasing_pages, contract_pages, inventory_pages, costing_pages, credit_pages, cio_pages,
                      masterdata_pages, sales_pages, returns_pages, receipt_pages, intercompany_pages, export_pages,
                      payables_pages, payables_repairs, quality_pages, production_pages, problem_pages, admin_pages,
                      audit_pages, golive_pages):
        app.register_blueprint(blueprint)
    api_handler = app.error_handler_spec[None][None].get(HTTPException)
    app.register_error_handler(HTTPException, _http_error(api_handler))
