"""The HTTP edge shared by every blueprint: API object, errors as problem+json, sign-in check.

A view that reads or writes the database is decorated with ``@transaction``: it receives
the request's session and the authenticated caller as its first two arguments, runs in one
transaction begun and committed by the decorator (retried once on a serialization failure
or deadlock), and nothing else in it begins or commits. Nothing below the views imports Flask.
"""

from __future__ import annotations

import functools
import http
import inspect
import json
import logging
import math
import re
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import flask
import marshmallow as ma
from swagger_ui_bundle import swagger_ui_path
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.common import resolve_schema_cls
from flask import Flask, Response, current_app, g, request
from flask.globals import request_ctx
from flask.views import View
from flask.json.provider import DefaultJSONProvider
from flask_limiter import Limiter, RateLimitExceeded
from flask_smorest import Api as SmorestApi
from flask_smorest import Blueprint as SmorestBlueprint
from webargs.core import missing
from webargs.flaskparser import FlaskParser, abort, is_json_request
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from erp import narration
from erp import text as text_rules
from erp.messages import N_, FilledMessage, Message, Term, as_message
from erp.auth.roles import Actor
from erp.auth.throttle import SignInThrottle
from erp.config import Settings
from erp.db import LOST_CONNECTION_SQLSTATES, begin_with, in_transaction
from erp.schemas import MAX_ID, UNSTORABLE, Schema, in_project_words
from erp.unique import refusal_for
from erp.auth.errors import InvalidToken, ReadOnlyRole
from erp.errors import (
    PROBLEM_BASE_URI, AmountOutOfRange, ConcurrentUpdate, Conflict, DatabaseUnavailable, DomainError, MalformedRequest,
    ProblemType, ReportingUnavailable, RequestTooLarge, TooManyRequests, Unauthenticated, ValidationFailed, problem_type, problem_types,
)

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
API_PREFIX = "/api/v1"
# Reachable without a token: sign-in itself and the API description.
PUBLIC_ENDPOINTS = frozenset(
    {"auth.token", "api-docs.openapi_json", "api-docs.openapi_swagger_ui", "docs_assets.static",
     # a data logger authenticates with its own token, checked by the view (erp.quality.monitoring)
     "quality.post_logger_readings"}
)
SAFE_METHODS = frozenset({"GET", "HEAD"})
# Writes a read-only role may make: signing itself out.
READ_ONLY_MAY = frozenset({"auth.token_revoke"})


class DecimalJSONProvider(DefaultJSONProvider):
    """JSON numbers with a fraction are read as Decimal (never float); Decimals are written as strings."""

    ensure_ascii = False  # Chinese names stay readable in responses

    def __init__(self, app: Flask) -> None:
        super().__init__(app)
        self._compact: tuple[tuple[bool, bool], json.JSONEncoder] | None = None

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        # What ``response`` (every API body) asks for, with one encoder made once: json.dumps
        # given any argument builds a new JSONEncoder on every call (issue #18's receipt profile).
        if kwargs == _COMPACT_SEPARATORS:
            made_for = (self.ensure_ascii, self.sort_keys)
            if self._compact is None or self._compact[0] != made_for:
                self._compact = made_for, json.JSONEncoder(
                    ensure_ascii=self.ensure_ascii, sort_keys=self.sort_keys, default=self.default,
                    separators=(",", ":"))
            return self._compact[1].encode(obj)
        return super().dumps(obj, **kwargs)

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        kwargs.setdefault("parse_float", Decimal)
        return json.loads(s, **kwargs)

    @staticmethod
    def default(o: Any) -> Any:
        if isinstance(o, Decimal):
            return format(o, "f")
        return DefaultJSONProvider.default(o)


_COMPACT_SEPARATORS = {"separators": (",", ":")}


class ErpFlask(Flask):
    """Flask, with ``ensure_sync`` remembering the functions it found synchronous: Flask asks it
    of every hook and view on every request (flask-smorest of each of its three wrappers too),
    and each answer took ``inspect.iscoroutinefunction``'s few calls (issue #18's receipt
    profile). What it answers is Flask's own; coroutine functions and the methods of
    class-based views are not remembered."""

    _SYNCHRONOUS_REMEMBERED = 4096  # at most: hooks and views, not per-request objects

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._synchronous: set[Callable[..., Any]] = set()

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        try:
            if func in self._synchronous:
                return func
        except TypeError:  # an unhashable callable
            return super().ensure_sync(func)
        sync = super().ensure_sync(func)
        # Not a class-based view's methods: they are bound to a view object made per request
        # (flask.views.View.init_every_request) and would fill the set with dead entries.
        if sync is func and not isinstance(getattr(func, "__self__", None), View) \
                and len(self._synchronous) < self._SYNCHRONOUS_REMEMBERED:
            self._synchronous.add(func)
        return sync


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details (documentation only; the handler builds the body)."""

    class Meta:
        # RFC 9457 allows extension members (e.g. a refused order's ``order_status``),
        # so the documented schema must admit properties beyond the ones listed.
        unknown = ma.INCLUDE

    type = ma.fields.String(metadata={"description": "URI naming the rule that refused the request"})
    title = ma.fields.String()
    status = ma.fields.Integer()
    detail = ma.fields.String()
    errors = ma.fields.List(
        ma.fields.Dict(), metadata={"description": "per-field errors: {pointer, detail}"}
    )


# Called with (endpoint, method, problem type) when an API operation answers with a problem
# type it does not declare (Blueprint.refuses): the test suite fails the test; a server logs it.
undeclared_refusal_observers: list[Callable[[str, str, str], None]] = []


def _declared_here() -> dict[str, ProblemType] | None:
    """The problem types the operation answering this request declares (None when the
    request matched no documented API operation)."""
    endpoint = request.endpoint or ""
    blueprint = current_app.blueprints.get(endpoint.partition(".")[0])
    if not isinstance(blueprint, Blueprint):
        return None  # no operation was matched (unknown path): nothing declares anything
    method = "get" if request.method == "HEAD" else request.method.lower()
    return blueprint.declared_problems(endpoint.partition(".")[2], method)


def _check_declared(problem_type_uri: str) -> None:
    if not request.path.startswith(API_PREFIX) or not problem_type_uri.startswith(PROBLEM_BASE_URI):
        return
    declared = _declared_here()
    slug = problem_type_uri.removeprefix(PROBLEM_BASE_URI)
    if declared is not None and slug not in declared:
        endpoint, method = request.endpoint or "", "get" if request.method == "HEAD" else request.method.lower()
        log.warning("%s %s answered with undeclared problem type %s", request.method, endpoint, slug)
        for observe in undeclared_refusal_observers:
            observe(endpoint, method, slug)


# The languages of the API's words (problem titles and details, a credit decision's detail), the
# first what a request gets when its Accept-Language names neither (or is absent, or "*"):
# English, the texts clients were built against; a browser set to Chinese gets Chinese.
API_LANGUAGES = ("en", "zh")
RENDER_MESSAGE = "erp_render_message"  # app.extensions: (message, language) -> text (erp.ui.i18n)


def api_language() -> str:
    """The language the request's Accept-Language prefers among the API's (q-values and
    regional tags such as zh-CN honoured), else English."""
    if not flask.has_request_context():
        return API_LANGUAGES[0]
    # By quality, the first tag whose primary language we have (zh-Hans-CN is Chinese).
    # Werkzeug's best_match prefers an exact tag over a better-liked regional one
    # ("en;q=0.5, zh-CN;q=0.9" would be English), so the tags are read here.
    for tag, quality in request.accept_languages:  # highest quality first
        primary = tag.split("-", 1)[0].split("_", 1)[0].lower()
        if quality > 0 and primary in API_LANGUAGES:
            return primary
    return API_LANGUAGES[0]


def api_renderer() -> Callable[[Message], str]:
    """How the API writes a message for this request: the English template filled in, or the
    catalogue's translation for a request that asks for Chinese."""
    language = api_language()
    render = current_app.extensions.get(RENDER_MESSAGE) if language != API_LANGUAGES[0] else None
    if render is None:
        return str
    return lambda message: render(message, language)  # type: ignore[no-any-return]


def api_text(message: Message | str) -> str:
    """A message (or a message id) in the request's language (``api_renderer``)."""
    return api_renderer()(as_message(message))


class MessageText(ma.fields.Field):
    """A ``Message`` dumped as a string in the request's language (``api_renderer``)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(dump_only=True, metadata={"type": "string", **kwargs.pop("metadata", {})}, **kwargs)

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else api_text(value)


class NarrationText(ma.fields.Field):
    """A stored narration (a journal entry's 摘要, a stock document's reason: erp.narration)
    dumped in the request's language; a person's words as they were typed."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(dump_only=True, metadata={"type": "string", **kwargs.pop("metadata", {})}, **kwargs)

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> str | None:
        said = narration.read(value)
        return api_text(said) if isinstance(said, Message) else said


def problem_response(body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    """A problem+json answer; its words are in ``Content-Language`` (see ``api_language``)."""
    _check_declared(str(body.get("type", "")))
    response = current_app.response_class(
        json.dumps(body, ensure_ascii=False, default=str),
        status=body["status"],
        mimetype=PROBLEM_JSON,
    )
    for key, value in (headers or {}).items():
        response.headers[key] = value
    response.headers["Content-Language"] = api_language()
    response.vary.add("Accept-Language")
    return response


def _flatten_messages(messages: Any, pointer: str = "") -> list[dict[str, str]]:
    """Turn marshmallow's nested error dict into RFC 9457-style ``{pointer, detail}`` items."""
    if isinstance(messages, dict):
        out: list[dict[str, str]] = []
        for key, value in messages.items():
            out.extend(_flatten_messages(value, f"{pointer}/{key}"))
        return out
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return [{"pointer": pointer or "/", "detail": m} for m in messages]
    if isinstance(messages, list):
        out = []
        for item in messages:
            out.extend(_flatten_messages(item, pointer))
        return out
    return [{"pointer": pointer or "/", "detail": str(messages)}]


class _Unreadable(json.JSONDecodeError):
    """A body the parser refuses, with why in a catalogue message."""

    def __init__(self, message: Message, document: str) -> None:
        super().__init__(str(message), document, 0)
        self.message = message


# Why a body is not read, in the catalogues (the request is refused 400 malformed-request).
NOT_JSON = N_("the body is not valid JSON")


class ArgumentsParser(FlaskParser):
    """webargs' parser, with the project's JSON rules: numbers with a fraction are read as
    Decimal (never float), text that no database can store (NUL, unpaired surrogates) and
    absurdly deep nesting are refused as malformed; and the schema decides what an unknown
    query parameter means (ours refuse them: see erp.schemas.Query)."""

    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION, "query": None, "querystring": None}

    def _raw_load_json(self, req: Any) -> Any:
        if not is_json_request(req):
            return missing
        raw = req.get_data(cache=True)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _Unreadable(Message(N_("the body is not encoded in UTF-8")), "") from exc
        try:
            data = json.loads(text, parse_float=Decimal)
        except RecursionError as exc:
            raise _Unreadable(Message(N_("the body is nested too deeply")), text[:100]) from exc
        if text.isascii() and "\\" not in text and "\x7f" not in text:
            # Without an escape, every string of an ASCII body is printable ASCII (JSON refuses
            # raw control characters in strings; DEL is the one unprintable it lets through):
            # nothing for the two walks below to refuse or normalise (issue #18's receipt profile).
            return data
        problem = unstorable_text(data)
        if problem:
            raise _Unreadable(problem, text[:100])
        return clean_text(data)

    def _handle_invalid_json_error(self, error: Any, req: Any, *args: Any, **kwargs: Any) -> Any:
        # webargs' own answer says "Invalid JSON body." in English whatever the reader reads.
        message = getattr(error, "message", None) or Message(NOT_JSON)
        abort(400, exc=error, messages={"json": [FilledMessage(message)]})

    def _get_schema(self, argmap: Any, req: Any) -> ma.Schema:
        # A schema not of ours (flask-smorest's pager) refuses in the project's words too.
        schema = super()._get_schema(argmap, req)
        if not isinstance(schema, Schema) and not getattr(schema, "_project_messages", False):
            in_project_words(schema)
            schema._project_messages = True
        return schema


def _value_for_key(obj: Any, key: str) -> Any:
    # marshmallow.utils' lookup: an item if ``obj`` has one under ``key``, else an attribute.
    if not hasattr(obj, "__getitem__"):
        return getattr(obj, key, ma.missing)
    try:
        return obj[key]
    except (KeyError, IndexError, TypeError, AttributeError):
        return getattr(obj, key, ma.missing)


# Called with (schema, object, many, body) after every ``plain_dump``: the test suite compares
# the body with marshmallow's own dump of the same object (tests/conftest.py).
plain_dump_observers: list[Callable[[ma.Schema, Any, bool | None, Any], None]] = []


def plain_dump(schema: ma.Schema) -> Callable[..., Any] | None:
    """``schema.dump`` without marshmallow's per-field layers: the same body, field for field
    (each field's own ``_serialize`` writes its value), in a third of the calls. None for a
    schema that uses what this does not reproduce: dump hooks, its own ``get_attribute`` or
    ``dump``, a field with its own ``serialize`` or ``get_value``, a ``Nested`` given by name
    or a subclass of ``Nested`` or ``List`` (``Pluck``); marshmallow dumps those. Every
    response of every API test is checked against marshmallow's own dump of the same object
    (``plain_dump_observers``, tests/conftest.py)."""
    one = _plain_one(schema)
    if one is None:
        return None
    default_many = schema.many

    def dump(obj: Any, *, many: bool | None = None) -> Any:
        if (default_many if many is None else many) and obj is not None:
            body: Any = [one(item) for item in obj]
        else:
            body = one(obj)
        for observe in plain_dump_observers:
            observe(schema, obj, many, body)
        return body

    return dump


def _plain_one(schema: ma.Schema) -> Callable[[Any], Any] | None:
    kind = type(schema)
    if (schema._hooks[ma.decorators.PRE_DUMP] or schema._hooks[ma.decorators.POST_DUMP]
            or kind.get_attribute is not ma.Schema.get_attribute or kind.dump is not ma.Schema.dump
            or kind._serialize is not ma.Schema._serialize):
        return None
    plan = []
    for name, field in schema.dump_fields.items():
        serialize = _plain_field(field)
        if serialize is None:
            return None
        key = field.data_key if field.data_key is not None else name
        path = tuple((field.attribute if field.attribute is not None else name).split("."))
        plan.append((key, name, path, field, serialize, field._CHECK_ATTRIBUTE, _passed_through(field)))
    make = schema.dict_class
    missing_ = ma.missing

    def one(obj: Any) -> Any:
        out = make()
        for key, name, path, field, serialize, check, passed in plan:
            if check:
                value = obj
                for part in path:
                    # A dict's own item, as _value_for_key finds it, without its call.
                    value = value[part] if type(value) is dict and part in value else _value_for_key(value, part)
                if value is missing_:
                    default = field.dump_default
                    value = default() if callable(default) else default
                    if value is missing_:
                        continue
            else:
                value = None
            if passed is not None and (value is None or type(value) is passed):
                out[key] = value  # what the field's _serialize returns for it: the value itself
                continue
            value = serialize(value, name, obj)
            if value is not missing_:
                out[key] = value
        return out

    return one


# Called with (schema, data, unknown, result) after every load ``plain_load`` answered itself:
# the test suite compares the result with marshmallow's own load of the same data (tests/conftest.py).
plain_load_observers: list[Callable[[ma.Schema, Any, Any, Any], None]] = []


def plain_load(schema: ma.Schema) -> Callable[..., Any] | None:
    """``schema.load`` without marshmallow's per-schema layers (its error store, the getter and
    ``_call_and_store`` around each field) when the data loads cleanly: each field's own
    ``deserialize`` is called as marshmallow calls it, so every value is the field's. Anything
    else goes to marshmallow itself, which then answers (and words every refusal) as always:
    data that is not a dict, a key the schema does not know, a field that refuses its value,
    ``many`` or ``partial``. None for a schema that uses what this does not reproduce: load or
    validation hooks, its own ``load``/``_do_load``/``_deserialize``/``handle_error``, ``many``
    or ``partial`` set on it, a field stored under a dotted ``attribute``. Every load of every
    API test is checked against marshmallow's own (``plain_load_observers``, tests/conftest.py)."""
    kind = type(schema)
    hooks = schema._hooks
    if (hooks[ma.decorators.PRE_LOAD] or hooks[ma.decorators.POST_LOAD] or hooks[ma.decorators.VALIDATES]
            or hooks[ma.decorators.VALIDATES_SCHEMA] or schema.many or schema.partial
            or kind.load is not ma.Schema.load or kind._do_load is not ma.Schema._do_load
            or kind._deserialize is not ma.Schema._deserialize or kind.handle_error is not ma.Schema.handle_error):
        return None
    plan = []
    for name, field in schema.load_fields.items():
        key = field.attribute or name
        if "." in key:
            return None
        plan.append((field.data_key if field.data_key is not None else name, key, field))
    known = frozenset(data_key for data_key, _key, _field in plan)
    make = schema.dict_class
    missing_ = ma.missing
    marshmallow_load = functools.partial(ma.Schema.load, schema)

    def load(data: Any, *, many: bool | None = None, partial: Any = None, unknown: str | None = None) -> Any:
        mode = schema.unknown if unknown is None else unknown
        if (many or partial or type(data) is not dict
                or (mode != ma.EXCLUDE and not known.issuperset(data))):
            return marshmallow_load(data, many=many, partial=partial, unknown=unknown)
        result = make()
        try:
            for data_key, key, field in plan:
                value = field.deserialize(data.get(data_key, missing_), data_key, data)
                if value is not missing_:
                    result[key] = value
        except ma.ValidationError:
            # marshmallow collects every field's refusal and words them: let it answer.
            return marshmallow_load(data, many=many, partial=partial, unknown=unknown)
        for observe in plain_load_observers:
            observe(schema, data, unknown, result)
        return result

    return load


def _passed_through(field: ma.fields.Field) -> type | None:
    """The type whose values (and None) ``field`` dumps as they are: ``int`` for a plain Integer
    (``int(value)`` of an int is the int), ``str`` for a plain String (``str(value)`` of a str is
    the str); None for any other field, or one whose serialisation is not marshmallow's own."""
    kind = type(field)
    if (kind is ma.fields.Integer and not field.as_string and field.num_type is int
            and kind._serialize is ma.fields.Number._serialize and kind._format_num is ma.fields.Number._format_num):
        return int
    if kind is ma.fields.String and kind._serialize is _STRING_SERIALIZE:
        return str
    return None


_STRING_SERIALIZE = ma.fields.String._serialize


def _plain_field(field: ma.fields.Field) -> Callable[[Any, str, Any], Any] | None:
    kind = type(field)
    if kind.serialize is not ma.fields.Field.serialize or kind.get_value is not ma.fields.Field.get_value:
        return None
    if isinstance(field, ma.fields.Nested):
        if kind is not ma.fields.Nested or not (
                isinstance(field.nested, ma.Schema)
                or (isinstance(field.nested, type) and issubclass(field.nested, ma.Schema))):
            return None
        inner = _plain_one(field.schema)
        if inner is None:
            return None
        many = field.schema.many or field.many

        def nested(value: Any, _attr: str, _obj: Any) -> Any:
            if value is None:
                return None
            return [inner(item) for item in value] if many else inner(value)

        return nested
    if isinstance(field, ma.fields.List):
        each = _plain_field(field.inner) if kind is ma.fields.List else None
        if each is None:
            return None

        def listed(value: Any, attr: str, obj: Any) -> Any:
            return None if value is None else [each(item, attr, obj) for item in value]

        return listed
    return field._serialize


def clean_text(value: Any, pointer: str = "") -> Any:
    """Parsed JSON with every string in NFC; a string with control (but tab and line
    breaks), invisible or direction-changing characters is refused with its JSON pointer
    (erp.text): no field of any endpoint can store them."""
    if isinstance(value, str):
        if value.isascii() and value.isprintable():  # the common case: nothing to refuse, already NFC
            return value
        why = text_rules.refused_character(value)
        if why:
            raise ValidationFailed(Message("{field}: {problem}", field=pointer or "/", problem=why),
                                   errors=[{"pointer": pointer or "/", "detail": why}])
        return text_rules.normalise(value)
    if isinstance(value, dict):
        return {clean_text(key, pointer): clean_text(item, f"{pointer}/{key}") for key, item in value.items()}
    if isinstance(value, list):
        return [clean_text(item, f"{pointer}/{index}") for index, item in enumerate(value)]
    return value


_SURROGATE = re.compile("[\ud800-\udfff]")


def unstorable_text(value: Any, depth: int = 0) -> Message | None:
    """Why ``value`` (parsed JSON) holds text a database cannot store, or None."""
    if isinstance(value, str):
        if "\x00" in value:
            return Message(UNSTORABLE, character="NUL")
        # One search in C, not a Python step per character (issue #18's receipt profile).
        if not value.isascii() and _SURROGATE.search(value):
            return Message(N_("text contains an unpaired surrogate (not valid Unicode)"))
        return None
    if isinstance(value, dict):
        items: Any = list(value.keys()) + list(value.values())
    elif isinstance(value, list):
        items = value
    else:
        return None
    for item in items:
        problem = unstorable_text(item, depth + 1)
        if problem:
            return problem
    return None


class Blueprint(SmorestBlueprint):
    """flask-smorest's Blueprint with the project's page sizes (50 by default, at most 500)
    and argument parser."""

    DEFAULT_PAGINATION_PARAMETERS = {"page": 1, "page_size": 50, "max_page_size": 500}
    ARGUMENTS_PARSER = ArgumentsParser()
    PAGINATION_ARGUMENTS_PARSER = ArgumentsParser()
    # Beyond this a list has nothing to show, and the offset would overflow the database's integers.
    MAX_PAGE = 1_000_000

    def paginate(self, pager: Any = None, **kwargs: Any) -> Any:
        """flask-smorest's paginate, refusing absurd page numbers with a 422."""
        decorate = super().paginate(pager, **kwargs)

        def decorator(func: Any) -> Any:
            @functools.wraps(func)
            def bounded(*args: Any, **view_kwargs: Any) -> Any:
                pagination = view_kwargs.get("pagination_parameters")
                if pagination is not None and pagination.page > self.MAX_PAGE:
                    raise ValidationFailed(
                        Message("page must be at most {maximum}", maximum=self.MAX_PAGE),
                        errors=[{"pointer": "/page", "in": "query",
                                 "detail": Message("at most {maximum}", maximum=self.MAX_PAGE)}],
                    )
                return func(*args, **view_kwargs)

            return decorate(bounded)

        return decorator


    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._prepare_doc_cbks.append(self._document_refusals)

    def arguments(self, schema: Any, *args: Any, **kwargs: Any) -> Any:
        """flask-smorest's arguments, with a schema class made into its instance once, here:
        given the class, webargs builds a new instance (deep-copying its fields) on every
        request (issue #18's profile of a receipt). A schema keeps no state between loads.
        It loads through ``plain_load`` (the same values, marshmallow's own refusals)."""
        if isinstance(schema, type) and issubclass(schema, ma.Schema):
            schema = schema()
        if isinstance(schema, ma.Schema) and "load" not in vars(schema):
            load = plain_load(schema)
            if load is not None:
                schema.load = load  # type: ignore[method-assign]
        return super().arguments(schema, *args, **kwargs)

    def response(self, status_code: Any, schema: Any = None, **kwargs: Any) -> Any:
        """flask-smorest's response, its schema dumping through ``plain_dump`` (the same
        body as marshmallow's ``dump``, without marshmallow's per-field call layers; issue
        #18's profile put 4 % of an HTTP receipt in dumping its document)."""
        if isinstance(schema, type) and issubclass(schema, ma.Schema):
            schema = schema()
        if isinstance(schema, ma.Schema):
            dump = plain_dump(schema)
            if dump is not None:
                schema.dump = dump  # type: ignore[method-assign]
        return super().response(status_code, schema, **kwargs)

    def refuses(self, *refusals: type[DomainError], in_job: Sequence[type[DomainError]] = ()) -> Callable[[Any], Any]:
        """Declare the problem types a view can answer with, besides the edge's own (see
        ``edge_refusals``): the OpenAPI document lists each under its status, and the test
        suite fails on a refusal an endpoint answers with but does not declare. ``in_job``:
        the problem types the background job the view starts can end with (its
        ``result.problem``), listed on the 202 response as ``x-job-problem-types``."""

        def decorator(func: Any) -> Any:
            func._apidoc = {**getattr(func, "_apidoc", {})}
            func._apidoc["refusals"] = [*func._apidoc.get("refusals", ()), *refusals]
            func._apidoc["job_refusals"] = [*func._apidoc.get("job_refusals", ()), *in_job]
            return func

        return decorator

    def _store_endpoint_docs(self, endpoint: str, obj: Any, parameters: Any, tags: Any, **options: Any) -> None:
        super()._store_endpoint_docs(endpoint, obj, parameters, tags, **options)
        for method, doc in self._docs[endpoint].items():
            if method != "parameters":
                doc["endpoint"] = f"{self.name}.{endpoint}"

    def declared_problems(self, endpoint: str, method: str) -> dict[str, ProblemType] | None:
        """The problem types the view of ``endpoint`` (without the blueprint's name) declares
        for ``method``, the edge's included; None for an endpoint this blueprint does not document."""
        doc = self._docs.get(endpoint, {}).get(method.lower())
        return None if doc is None else declared_problems(doc, method)

    @staticmethod
    def _document_refusals(doc: dict[str, Any], doc_info: dict[str, Any], *, method: str,
                           **_kwargs: Any) -> dict[str, Any]:
        """Each 4xx status of the operation, with the problem types it stands for."""
        by_status: dict[int, list[ProblemType]] = {}
        for problem in declared_problems(doc_info, method).values():
            by_status.setdefault(problem.status, []).append(problem)
        responses = doc.setdefault("responses", {})
        for status, problems in sorted(by_status.items()):
            responses.pop(status, None)
            responses[str(status)] = _problem_response(status, problems)
        known = problem_types()
        in_job = [known.get(slug) or problem_type(refusal, slug) for refusal in doc_info.get("job_refusals", ())
                  for slug in refusal.declared_slugs()]
        if in_job:
            accepted = responses.setdefault(202, responses.pop("202", {"description": "Accepted"}))
            listed = "; ".join(f"[{p.slug}]({p.uri}): {p.title}" for p in in_job)
            accepted["description"] = f"{accepted.get('description', '')} The job can end with the problem types: {listed}"
            accepted["x-job-problem-types"] = [p.uri for p in in_job]
        return doc


def edge_refusals(doc_info: dict[str, Any], method: str) -> list[type[DomainError]]:
    """What the edge itself may refuse before or around the view: an unknown or expired token
    (all but the public endpoints), a read-only role (writes), a malformed, oversized or
    invalid body or query, a concurrent update or an overflowing amount (writes), a lost
    database connection (all that reach the database: all but the API description)."""
    endpoint = doc_info.get("endpoint", "")
    write = method.lower() not in ("get", "head")
    found: list[type[DomainError]] = []
    if endpoint not in PUBLIC_ENDPOINTS:
        found += [Unauthenticated, InvalidToken]
        if write and endpoint not in READ_ONLY_MAY:
            found.append(ReadOnlyRole)
    arguments = doc_info.get("arguments", {}).get("parameters", [])
    locations = {argument.get("location", "json") for argument in arguments}
    if locations & {"json", "files", "form"}:
        found += [MalformedRequest, RequestTooLarge]
    if locations or "pagination" in doc_info or write:
        found.append(ValidationFailed)
    if write:
        found += [Conflict, ConcurrentUpdate, AmountOutOfRange]
    if endpoint not in PUBLIC_ENDPOINTS or endpoint == "auth.token":
        found.append(DatabaseUnavailable)
    return found


def declared_problems(doc_info: dict[str, Any], method: str) -> dict[str, ProblemType]:
    """The problem types of one operation: the edge's and the view's ``refuses``."""
    known = problem_types()
    declared: dict[str, ProblemType] = {}
    for refusal in [*edge_refusals(doc_info, method), *doc_info.get("refusals", ())]:
        for slug in refusal.declared_slugs():
            declared[slug] = known.get(slug) or problem_type(refusal, slug)
    return declared


def _problem_response(status: int, problems: list[ProblemType]) -> dict[str, Any]:
    listed = "; ".join(f"[{p.slug}]({p.uri}): {p.title}" for p in problems)
    response: dict[str, Any] = {
        "description": f"{http.HTTPStatus(status).phrase}. Problem types: {listed}",
        "content": {PROBLEM_JSON: {
            "schema": {"$ref": "#/components/schemas/Problem"},
            "examples": {p.slug: {"summary": p.title,
                                  "value": {"type": p.uri, "title": p.title, "status": p.status}}
                         for p in problems},
        }},
        "x-problem-types": [p.uri for p in problems],
    }
    if status == 401:
        response["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
    if status == 429:
        response["headers"] = {"Retry-After": {"schema": {"type": "integer"},
                                               "description": "seconds to wait before retrying"}}
    return response


class KeyConverter(IntegerConverter):
    """``<int:...>`` path ids, bounded like the 32-bit keys they look up: a larger number
    matches no route (404) instead of overflowing the database's integer (500). ASCII
    digits only: werkzeug's ``\\d+`` would match full-width digits too."""

    regex = r"[0-9]+"

    def __init__(self, url_map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min", 0)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


class BigKeyConverter(IntegerConverter):
    """``<bigint:...>`` path ids of the 64-bit keys (stock documents), ASCII digits only."""

    regex = r"[0-9]+"

    def __init__(self, url_map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min", 0)
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(url_map, *args, **kwargs)


def schema_name(schema: Any) -> str:
    """OpenAPI component name: the class name without "Schema"; partial (PATCH) variants get "Patch"."""
    name = resolve_schema_cls(schema).__name__.removesuffix("Schema") or "Schema"
    if isinstance(schema, ma.Schema) and schema.partial:
        name += "Patch"
    return name


def _location_errors(messages: Any) -> list[dict[str, str]]:
    """webargs nests errors by location ({"json": {...}, "query": {...}}). Body errors get a
    JSON pointer into the body; errors elsewhere also say where (``in``: query, headers)."""
    if not isinstance(messages, dict):
        return _flatten_messages(messages)
    items: list[dict[str, str]] = []
    for location, nested in messages.items():
        for item in _flatten_messages(nested):
            if location != "json":
                item["in"] = location
            items.append(item)
    return items


# Where a refused parameter was, as the problem's detail names it (``errors[].in`` keeps the
# location's own name, which a client branches on).
LOCATIONS = {"json": N_("body"), "query": N_("query"), "querystring": N_("query"), "headers": N_("headers"),
             "files": N_("files"), "form": N_("form")}


class Api(SmorestApi):
    """flask-smorest's Api with RFC 9457 problem+json errors instead of its default body."""

    ERROR_SCHEMA = ProblemSchema

    def _register_responses(self) -> None:
        # The error responses are documented with the content type they are served with.
        self.DEFAULT_RESPONSE_CONTENT_TYPE = PROBLEM_JSON
        try:
            super()._register_responses()
        finally:
            del self.DEFAULT_RESPONSE_CONTENT_TYPE

    def handle_http_exception(self, error: HTTPException) -> Response:  # type: ignore[override]
        status = error.code or 500
        body: dict[str, Any] = {
            "type": "about:blank",
            "title": error.name,
            "status": status,
            "detail": error.description or error.name,
        }
        data = getattr(error, "data", None) or {}
        headers = data.get("headers") or {}
        messages = data.get("messages") or data.get("errors")
        if isinstance(error, RateLimitExceeded):
            body.update(type=TooManyRequests.type_uri_of(), title=TooManyRequests.title)
            current = limiter.current_limit
            wait = max(1, math.ceil(current.reset_at - time.time()) if current else 60)
            body["detail"] = Message("too many requests from this address; retry in {seconds} seconds", seconds=wait)
            headers = {**headers, "Retry-After": str(wait)}
        if status == 413:
            body.update(type=RequestTooLarge.type_uri_of(), title=RequestTooLarge.title)
            limit = request.max_content_length
            if limit is not None and (request.content_length or 0) > limit:
                body["detail"] = Message("the request body is larger than the {limit} bytes this endpoint accepts",
                                         limit=limit)
            else:  # werkzeug's form limits: a field held in memory, or the number of parts
                body["detail"] = Message("a form field or the number of form parts is larger than this endpoint "
                                         "accepts")
        if status == 400:
            body.update(type=MalformedRequest.type_uri_of(), title=MalformedRequest.title)
        elif messages:
            body.update(type=ValidationFailed.type_uri_of(), title=ValidationFailed.title)
        render = api_renderer()
        body["title"] = render(as_message(body["title"]))
        if messages:
            items = [{**i, "detail": render(as_message(i["detail"]))} for i in _location_errors(messages)]
            body["errors"] = items
            body["detail"] = "; ".join(
                render(Message("{location} {pointer}: {problem}", location=Term(LOCATIONS.get(i.get("in", "json"), "body")),
                               pointer=i["pointer"], problem=i["detail"]))
                for i in items
            )
        elif "message" in data:
            body["detail"] = data["message"]
        elif isinstance(body["detail"], Message):  # ours (429, 413): in the reader's language
            body["detail"] = render(body["detail"])
        return problem_response(body, headers)


def accepts_upload(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a view that takes a file upload: its body may be up to ``ERP_MAX_UPLOAD_BYTES``
    instead of the ``ERP_MAX_REQUEST_BYTES`` every other request is held to."""
    view.accepts_upload = True  # type: ignore[attr-defined]
    return view


def reads_in_transaction(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark an API GET whose service needs a transaction of its own (a savepoint it rolls
    back, row locks held until the end, transaction-local settings): it is served on the
    request's transactional session instead of the autocommit connections every other API
    read uses (erp.db.autocommit_reads). Put it right under the route, as ``accepts_upload``."""
    view.reads_in_transaction = True  # type: ignore[attr-defined]
    return view


def _view_marked(mark: str) -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, mark, False) or getattr(getattr(view, "view_class", None), mark, False))


def _limit_request_size() -> None:
    # Werkzeug refuses a longer body with 413 before reading it (Content-Length) or as soon
    # as the stream passes the limit (chunked): a 60 MB field is never read or parsed.
    settings = erp_settings()
    upload = _view_marked("accepts_upload")
    request.max_content_length = settings.max_upload_bytes if upload else settings.max_request_bytes


def request_session() -> Session:
    """The database session of the current request (closed at teardown). Inside a view
    marked ``@reporting``, a read-only session on the reporting replica when one is set."""
    end_edge_transaction()
    if g.get("reporting"):
        if "report_session" not in g:
            g.report_session = current_app.extensions["erp"].reporting_session_factory()
        return g.report_session  # type: ignore[no-any-return]
    if "db_session" not in g:
        extension = current_app.extensions["erp"]
        reads = extension.read_session_factory
        # The API's safe methods read on autocommit connections: no BEGIN, no COMMIT
        # (erp.db.autocommit_reads says what that keeps and what it refuses).
        safe = (reads is not None and request.method in SAFE_METHODS and request.path.startswith(API_PREFIX)
                and not _view_marked("reads_in_transaction"))
        g.db_session = (reads if safe else extension.session_factory)()
    return g.db_session  # type: ignore[no-any-return]


def _body_in_hand() -> bool:
    """Whether the request's body has been read (up to its limit) before any transaction is
    begun: JSON and bodiless requests, within ``max_content_length``. Forms and uploads are
    parsed by their views, later, from the stream."""
    req = request._get_current_object()  # type: ignore[attr-defined]  # the proxy looked up once
    environ = req.environ
    if not environ.get("CONTENT_LENGTH") and not environ.get("CONTENT_TYPE") \
            and "chunked" not in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        return True  # no body (most GETs): nothing to read, and no header to parse for it
    if req.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        return False
    length, limit = req.content_length, req.max_content_length
    if length is not None and limit is not None and length > limit:
        return False  # refused with 413 when the view reads it, after the token as before
    req.get_data(cache=True)
    return True


def _end_edge_after_view(response: Response) -> Response:
    # A view that never touched the request's session (a template, a file it streams from a
    # session of its own): nothing stays open while the response is sent.
    end_edge_transaction()
    return response


def end_edge_transaction() -> None:
    """Commit the read-only transaction the token was read in, unless a view's @transaction
    has taken it over: a view without one (or reading the reporting database) starts from
    no open transaction, as if the token had been read in its own (on SQLite an open
    transaction holds the write lock)."""
    edge = g.pop("edge_transaction", None)
    if edge is not None:
        edge.commit()


def reporting_session_factory() -> Any:
    """Sessions for read-only reports: on the replica (``ERP_REPORTING_DATABASE_URL``) when
    one is set, else on the primary. For reports that stream after the view returns."""
    return current_app.extensions["erp"].reporting_session_factory


# How far the reporting database is behind the primary, in seconds: 0 when it has replayed
# all it received (or is the primary itself), else the age of the last transaction replayed.
REPLICA_LAG_SQL = (
    "SELECT pg_is_in_recovery(), CASE WHEN NOT pg_is_in_recovery() "
    "OR pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
    "ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp()) END, pg_last_xact_replay_timestamp()"
)


def reporting(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a read-only report (dashboard, receivables, ageing, valuation, exports): its
    queries run on the reporting replica when ``ERP_REPORTING_DATABASE_URL`` is set, in
    read-only transactions, so a month-end night of reports does not load the primary that
    books receipts. The response says where it was served from (``X-Served-From``) and how
    far behind the primary the data is (``X-Replica-Lag-Seconds``, ``X-Replica-Replayed-At``).
    Writes never go there: the engine's transactions are read-only and a standby refuses them.
    Put it above ``@transaction`` (the transaction's session is then the replica's)."""

    @functools.wraps(view)
    def on_reporting_database(*args: Any, **kwargs: Any) -> Any:
        g.reporting = True
        try:
            return view(*args, **kwargs)
        except OperationalError as exc:
            if current_app.extensions["erp"].reporting_engine is None:
                raise
            log.warning("reporting database unavailable: %s", exc.orig)
            raise ReportingUnavailable(Message("the reporting database does not answer; retry later")) from exc
        finally:
            g.reporting = False

    # Declared like ``Blueprint.refuses``: the replica can be down.
    on_reporting_database._apidoc = {**getattr(view, "_apidoc", {})}  # type: ignore[attr-defined]
    on_reporting_database._apidoc["refusals"] = [  # type: ignore[attr-defined]
        *on_reporting_database._apidoc.get("refusals", ()), ReportingUnavailable]  # type: ignore[attr-defined]
    return on_reporting_database


def _mark_report_source(response: Response) -> Response:
    if "report_session" not in g or response.status_code >= 400:
        return response
    extension = current_app.extensions["erp"]
    if extension.reporting_engine is None:
        response.headers["X-Served-From"] = "primary"
        return response
    try:
        with extension.reporting_engine.connect() as connection:
            in_recovery, lag, replayed_at = connection.execute(text(REPLICA_LAG_SQL)).one()
    except DBAPIError:  # the report itself was read; only its age could not be told
        log.warning("could not read the reporting database's lag", exc_info=True)
        return response
    response.headers["X-Served-From"] = "replica" if in_recovery else "reporting"
    response.headers["X-Replica-Lag-Seconds"] = f"{float(lag):.3f}"
    if replayed_at is not None:
        response.headers["X-Replica-Replayed-At"] = replayed_at.isoformat()
    return response


def erp_settings() -> Settings:
    """The application's settings."""
    return current_app.extensions["erp"].settings  # type: ignore[no-any-return]


def client_address() -> str:
    """The caller's address as this server sees it (behind a proxy, configure the proxy's
    forwarding, e.g. werkzeug's ProxyFix, so that this is the client's)."""
    return request.remote_addr or "unknown"


# Flask-Limiter at the edge: every sign-in attempt from one address counts, on every
# sign-in route that carries ``sign_in_limit`` (the API's and the pages'), against one
# shared ceiling (``ERP_SIGN_IN_RATE_LIMIT``, 60 a minute by default). Failed attempts per user name and address are throttled further, with
# growing lockouts, in the sign-in service (erp.auth.throttle) on the same storage.
limiter = Limiter(key_func=client_address, default_limits=[])
sign_in_limit = limiter.shared_limit(lambda: erp_settings().sign_in_rate_limit, scope="sign-in")


def _check_limits_only_where_set(app: Flask) -> None:
    """Flask-Limiter checks every request before its view (0.1 ms of Python, issue #18's
    profile of a receipt) for default, application-wide and blueprint limits. This app sets
    none (``default_limits=[]``, no ``RATELIMIT_DEFAULT``/``RATELIMIT_APPLICATION``, no
    blueprint limit); the limits it sets are on views (``sign_in_limit``), which their
    decorators check when those views run. So the before-request check runs only while a
    limit of those kinds exists (one configured or added later is still checked).

    Its after-request hook (conditional deductions, rate-limit headers) and its teardown (which
    clears the request's limiter state) read only what a limit checked in this request left in
    that state, which Flask-Limiter creates on the request's context when a limit is checked;
    on a request that checked none they created an empty one and found nothing in it (75 of a
    receipt's 4,770 Python calls, bench.receipt_costs http-profile). They run when a limit was
    checked: every sign-in and every request while a default limit exists, as before."""
    hooks = app.before_request_funcs.get(None, [])
    check = limiter._check_request_limit  # noqa: SLF001 - the hook init_app registered
    if check not in hooks:
        return
    manager = limiter.limit_manager

    def check_limits_beyond_views() -> None:
        if manager._default_limits or manager._application_limits or manager._blueprint_limits:  # noqa: SLF001
            check()

    hooks[hooks.index(check)] = check_limits_beyond_views

    inject = Limiter._Limiter__inject_headers  # type: ignore[attr-defined]  # noqa: SLF001
    release = Limiter._Limiter__release_context  # type: ignore[attr-defined]  # noqa: SLF001
    after = app.after_request_funcs.get(None, [])
    for index, hook in enumerate(after):
        if getattr(hook, "func", None) is inject:
            after[index] = functools.partial(_when_limit_checked_after, hook)
    teardown = app.teardown_request_funcs.get(None, [])
    for index, hook in enumerate(teardown):
        if getattr(hook, "__func__", None) is release:
            teardown[index] = functools.partial(_when_limit_checked_teardown, hook)


def limit_checked() -> bool:
    """Whether Flask-Limiter checked a limit in this request: the state it keeps on the
    request's context (``Limiter.context``) exists."""
    return hasattr(request_ctx, "_limiter_request_context")


def _when_limit_checked_after(hook: Callable[[Response], Response], response: Response) -> Response:
    return hook(response) if limit_checked() else response


def _when_limit_checked_teardown(hook: Callable[[BaseException | None], None], exc: BaseException | None = None) -> None:
    if limit_checked():
        hook(exc)


def sign_in_throttle() -> SignInThrottle:
    """The application's throttle of failed sign-ins."""
    return current_app.extensions["erp_sign_in_throttle"]  # type: ignore[no-any-return]


def current_actor() -> Actor:
    """The authenticated caller; the before-request hook guarantees there is one."""
    actor = g.get("actor")
    if actor is None:  # pragma: no cover - a view registered outside the API prefix
        raise Unauthenticated(Message("authentication required"))
    return actor  # type: ignore[no-any-return]


def transaction(view: Callable[..., Any] | None = None, *, retry: bool = True,
                signed_in: bool = True, reconnect: bool | None = None) -> Any:
    """The request's transaction, in one visible place: ``@transaction`` (innermost, right
    above the ``def``) calls ``view(session, actor, *args)`` inside one transaction of the
    request's session, committed when the view returns and rolled back when it raises.

    A serialization failure or deadlock (SQLSTATE 40001/40P01) rolls everything back and runs
    the view once more from a fresh copy of its arguments (erp.db.in_transaction); a second
    one is answered 409 ``retry``. ``retry=False`` for a view that does something
    a rollback cannot undo (streams a file it reads, starts work outside the database);
    ``reconnect=True`` with it when the view acts outside the database only after its first
    statement, so that a pooled connection found dropped there is replaced and the view run
    on a fresh one (erp.db.in_transaction; the edge does so for the token check of every request).
    ``signed_in=False`` for the public endpoints: the view gets ``(session, *args)``. What
    must wait for the commit (starting a queued job) is registered with ``after_commit``."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        # A MethodView's method gets its instance first, then the session and the actor.
        method = next(iter(inspect.signature(view).parameters), None) == "self"

        @functools.wraps(view)
        def run(*args: Any, **kwargs: Any) -> Any:
            owner, args = (args[:1], args[1:]) if method else ((), args)
            # The transaction the token was read in, if this request began one (_authenticate).
            begun = g.pop("edge_transaction", None)
            session = request_session()
            if begun is not None and begun.session is not session:  # a report on the replica
                begun.commit()
                begun = None
            leading = (current_actor(),) if signed_in else ()
            # The view may consume its arguments (pop from the body): a rerun gets them as sent.
            runs = iter([(_fresh(args), _fresh(kwargs)), (args, kwargs)] if retry or reconnect else [(args, kwargs)])

            def attempt() -> Any:
                given, named = next(runs)
                g.after_commit = []  # what an aborted run asked for is forgotten with it
                return view(*owner, session, *leading, *given, **named)

            result = in_transaction(session, attempt, retry=retry, reconnect=reconnect, begun=begun)
            for callback in g.pop("after_commit"):
                callback()
            return result

        return run

    return decorate if view is None else decorate(view)


def after_commit(callback: Callable[[], Any]) -> None:
    """Run ``callback`` once the view's ``@transaction`` has committed (e.g. start the job the
    view queued: its worker must see the committed row); never if it rolls back."""
    if "after_commit" not in g:
        raise RuntimeError("after_commit is for views decorated with @transaction")
    g.after_commit.append(callback)


def _fresh(value: Any) -> Any:
    """A copy of the parsed arguments' containers (dicts, lists, tuples), sharing everything
    else (values, and objects such as flask-smorest's pagination parameters, which it reads back)."""
    if type(value) is dict:
        return {key: _fresh(item) for key, item in value.items()}
    if type(value) in (list, tuple):
        return type(value)(_fresh(item) for item in value)
    return value


IDEMPOTENCY_HEADER = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "schema": {"type": "string", "maxLength": 100},
    "description": "a retried request with the same key returns the first result and posts nothing twice",
}


def idempotent(session: Session, actor: Actor, payload: Any, post: Callable[[], int]) -> int:
    """Run ``post`` (which returns the id of what it created) at most once per Idempotency-Key.

    Must be called inside the request's transaction, so that the key and the posting commit
    or roll back together (see erp.idempotency).
    """
    from erp import idempotency

    key = request.headers.get("Idempotency-Key")
    if key is None:
        return post()
    if not 1 <= len(key) <= 100 or not key.isprintable():
        raise ValidationFailed(Message("Idempotency-Key must be 1-100 printable characters"),
                               errors=[{"pointer": "/", "in": "header", "detail": Message("bad Idempotency-Key")}])
    claimed = idempotency.claim(
        session, user_id=actor.user_id, key=key, endpoint=str(request.endpoint),
        request_hash=idempotency.fingerprint(payload),
    )
    if claimed.replay_resource_id is not None:
        g.idempotent_replay = True
        return claimed.replay_resource_id
    resource_id = post()
    idempotency.record(session, claimed, resource_id)
    return resource_id


def _mark_replay(response: Response) -> Response:
    if g.get("idempotent_replay"):
        response.headers["Idempotent-Replayed"] = "true"
    return response


def paged(pagination: Any, listing: Callable[..., tuple[list[Any], int]], **filters: Any) -> list[Any]:
    """Run a paginated read (``listing(session, actor, offset=, limit=, **filters)`` returning
    rows and their total) in the request's transaction (the view's ``@transaction``, or one of
    its own when called outside); the total goes to X-Pagination."""
    session = request_session()

    def read() -> tuple[list[Any], int]:
        return listing(session, current_actor(), offset=pagination.first_item, limit=pagination.page_size,
                       **filters)

    rows, total = read() if session.in_transaction() else in_transaction(session, read)
    pagination.item_count = total
    return rows


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _authenticate() -> None:
    """Every API endpoint but sign-in and the docs needs a valid token; CIOs only read."""
    if not request.path.startswith(API_PREFIX) or request.endpoint in PUBLIC_ENDPOINTS:
        return
    if request.method == "OPTIONS":
        return
    from erp.auth.services import actor_for_token  # the web layer depends on auth, not the reverse

    token = bearer_token()
    if token is None:
        raise Unauthenticated(Message("send 'Authorization: Bearer <token>'; get one from POST /api/v1/auth/token"))
    session = request_session()
    if _body_in_hand():
        # Read in a transaction the view's @transaction commits (erp.web.transaction): one
        # BEGIN/COMMIT per request. Any other use of the request's session ends it first, and
        # so does the end of a view that never used it (_end_edge_after_view).
        # A pooled connection the database dropped is found here, at the request's first
        # statement, and replaced (erp.db.begin_with): the pool need not ping each one first.
        actor, g.edge_transaction = begin_with(session, lambda: actor_for_token(session, token))
    else:
        # An upload (or a body too long to take): its own transaction, so that nothing is held
        # while a slow client sends the file (on SQLite a transaction holds the write lock).
        actor = in_transaction(session, lambda: actor_for_token(session, token))
    g.actor = actor
    if actor.read_only and request.method not in ("GET", "HEAD") and request.endpoint not in READ_ONLY_MAY:
        raise ReadOnlyRole(Message("role {role} is read-only", role=actor.role))


def _at_the_edge() -> None:
    """Before every view: the body's size limit, then the token. One hook, not two: Flask
    dispatches each hook of every request through ``ensure_sync`` (issue #18's profile)."""
    _limit_request_size()
    _authenticate()


def _after_the_view(response: Response) -> Response:
    """After every view, in the order Flask ran them as three hooks (the last registered
    first): the report's source, the idempotent replay's mark, then the edge's transaction ends."""
    return _end_edge_after_view(_mark_replay(_mark_report_source(response)))


def _close_session(_exc: BaseException | None) -> None:
    for name in ("db_session", "report_session"):
        session = g.pop(name, None)
        if session is not None:
            session.close()


def _domain_error(error: DomainError) -> Response:
    headers = {"WWW-Authenticate": 'Bearer realm="heyi"'} if error.status == 401 else {}
    if getattr(error, "retry_after", None) is not None:
        headers["Retry-After"] = str(error.retry_after)  # type: ignore[attr-defined]
    return problem_response(error.to_problem(api_renderer()), headers)


def _integrity_error(error: IntegrityError) -> Response:
    # Services check uniqueness and references first and name the field; reaching this
    # handler means two requests raced past those checks. It is still a conflict, not a bug:
    # a unique index answers with the rule it keeps (erp.unique), as the service would have.
    log.info("integrity error turned into 409: %s", error.orig)
    return problem_response(race_refusal(error).to_problem(api_renderer()))


def race_refusal(error: IntegrityError) -> DomainError:
    """The refusal for a write the database refused because another transaction wrote first:
    the unique index's rule when the operation declares it, else the generic conflict (with
    the rule's message), so an operation never answers with a type it does not document."""
    refusal = refusal_for(error)
    if refusal is None:
        return Conflict(Message("the change conflicts with data written at the same time; reload and retry"))
    declared = _declared_here() if flask.has_request_context() else None
    if declared is None or refusal.slug in declared:
        return refusal
    return Conflict(refusal.message, errors=refusal.errors)


def database_refusal(error: DBAPIError) -> DomainError | None:
    """The refusal a database error stands for (an amount beyond its column, a lost
    connection, a serialisation failure or deadlock), None when it is our bug. The API
    answers it as a problem, a page shows it (erp.ui.pages)."""
    sqlstate = getattr(getattr(error, "orig", None), "sqlstate", None)
    if sqlstate == "22003":
        # A computed amount or a running total beyond its column: services check the amounts
        # they compute and name the field; a sum past them still is the input's fault, not ours.
        log.warning("numeric overflow turned into 422: %s", error.orig)
        return AmountOutOfRange(
            Message("the request would make an amount or a quantity larger than the books can hold"))
    if error.connection_invalidated or (sqlstate or "").startswith("08") or sqlstate in LOST_CONNECTION_SQLSTATES:
        # The server rolled the transaction back with the connection: nothing of the request
        # is kept, and the same request (with its Idempotency-Key) can simply be sent again.
        log.warning("database connection lost, request rolled back: %s", error.orig)
        return DatabaseUnavailable(Message("the database connection was lost before the request finished; nothing "
                                           "of it was saved; send it again (with the same Idempotency-Key)"))
    if sqlstate in ("40001", "40P01"):
        # Serialisation failures and deadlocks are safe to retry.
        return ConcurrentUpdate(Message("another transaction changed the same data; retry the request"))
    return None


def _database_error(error: DBAPIError) -> Response:
    refusal = database_refusal(error)
    if refusal is None:
        log.exception("database error")
        return _internal_error(error)
    return _domain_error(refusal)


def _unstorable_text(error: UnicodeEncodeError) -> Response:
    # Text that is not valid Unicode (an unpaired surrogate) in a query string or header.
    return _domain_error(MalformedRequest(Message("the request contains text that is not valid Unicode")))


def _internal_error(error: Exception) -> Response:
    log.exception("unhandled error", exc_info=error)
    return problem_response(
        {
            "type": "about:blank",
            "title": api_text(N_("Internal Server Error")),
            "status": 500,
            "detail": api_text(N_("an unexpected error occurred; it has been logged")),
        }
    )


def init_web(app: Flask) -> Api:
    """Wire a new API object, JSON handling, authentication and error handlers into ``app``."""
    app.url_map.converters["int"] = KeyConverter
    app.url_map.converters["bigint"] = BigKeyConverter
    app.json_provider_class = DecimalJSONProvider
    app.json = DecimalJSONProvider(app)
    app.config.setdefault("API_TITLE", "Heyi (合一) group ERP API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", API_PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault("OPENAPI_SWAGGER_UI_PATH", "docs")
    # Swagger UI's files come with the swagger-ui-bundle package: the docs work offline.
    app.register_blueprint(
        flask.Blueprint("docs_assets", __name__, static_folder=swagger_ui_path,
                        static_url_path=f"{API_PREFIX}/docs/assets")
    )
    app.config.setdefault("OPENAPI_SWAGGER_UI_URL", f"{API_PREFIX}/docs/assets/")
    app.config.setdefault("API_SPEC_OPTIONS", {"security": [{"bearerAuth": []}]})
    api = Api(app, spec_kwargs={"marshmallow_plugin": MarshmallowPlugin(schema_name_resolver=schema_name)})
    for converter, bits in ((KeyConverter, "int32"), (BigKeyConverter, "int64")):
        api.register_converter(converter, lambda _c, bits=bits: {"type": "integer", "format": bits, "minimum": 0})
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "description": "POST /api/v1/auth/token"}
    )
    settings = app.extensions["erp"].settings
    app.config.setdefault("RATELIMIT_STORAGE_URI", settings.ratelimit_storage_uri)
    # Only refusals say when to come back (Retry-After, set by the 429 handler below).
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", False)
    limiter.init_app(app)
    _check_limits_only_where_set(app)
    app.extensions["erp_sign_in_throttle"] = SignInThrottle(limiter.storage)
    app.before_request(_at_the_edge)
    app.after_request(_after_the_view)
    app.teardown_appcontext(_close_session)
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(IntegrityError, _integrity_error)
    app.register_error_handler(DBAPIError, _database_error)
    app.register_error_handler(UnicodeEncodeError, _unstorable_text)
    app.register_error_handler(Exception, _internal_error)
    return api
