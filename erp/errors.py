"""Domain errors: every broken rule is an exception with a stable problem type.

Services raise these; one handler (``erp.web``) turns them into RFC 9457
``application/problem+json``. The ``type`` URI names the rule that was broken, so a client
can branch on it and a reader can find the rule by its slug.

Status codes: 422 for invalid input and broken business rules on the request's content,
409 for a conflict with the current state of the data, 403 for rights, 404 for nothing
found (or not visible to the caller: we do not reveal other companies' records).

Every problem type is a class here or in a module's ``errors.py``: its ``slug`` is the
type, its docstring states the rule (shown on the type's page, ``GET /problems/<slug>``),
its ``remedy`` says what the user can do. ``problem_types()`` lists them all; each API
operation declares the ones it can answer with (``erp.web.Blueprint.refuses``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from erp.messages import N_, FieldName, Message, as_message

# A relative reference (RFC 9457 section 3.1.1; RFC 3986 section 4.2): it resolves against
# the address the problem came from, to the running app's page about the type.
PROBLEM_BASE_URI = "/problems/"


@dataclass(frozen=True)
class ProblemType:
    """One problem type as documented: the slug of its URI, its status, its title (a message
    id), the rule (the class's docstring) and what the user can do (a message id)."""

    slug: str
    status: int
    title: str
    rule: str
    remedy: str

    @property
    def uri(self) -> str:
        return PROBLEM_BASE_URI + self.slug


_PROBLEM_CLASSES: dict[str, type[DomainError]] = {}


def _rule_of(cls: type) -> str:
    """The first paragraph of the class's own docstring, on one line."""
    doc = inspect.cleandoc(cls.__dict__.get("__doc__") or "")
    return " ".join(doc.split("\n\n", 1)[0].split())


def problem_type(cls: type[DomainError], slug: str | None = None) -> ProblemType:
    """The documented problem type of a refusal class (``slug`` for classes that serve
    several, see ``DomainError.slugs``)."""
    return ProblemType(slug or cls.slug, cls.status, cls.title, _rule_of(cls), cls.remedy)


def problem_types() -> dict[str, ProblemType]:
    """Every problem type of the application by slug (the classes defined so far: the app
    factory imports every module, so after ``create_app`` this is all of them)."""
    types: dict[str, ProblemType] = {}
    for cls in _PROBLEM_CLASSES.values():
        if cls.__dict__.get("abstract", False):
            continue
        for slug in cls.own_slugs():
            types[slug] = problem_type(cls, slug)
    return dict(sorted(types.items()))


def problem_class(slug: str) -> type[DomainError] | None:
    """The class whose problem type is ``slug``, if any."""
    for cls in _PROBLEM_CLASSES.values():
        if slug in cls.own_slugs():
            return cls
    return None


class DomainError(Exception):
    """A business rule refused the request; carries everything the problem body needs.

    ``detail`` is a ``Message`` (an English template with named parameters), so that a page
    can show it in the reader's language; ``title`` is a message id too. ``errors`` items
    are ``{"pointer": ..., "detail": str | Message}``. The problem body (the API) shows
    them in the language the request asks for (``to_problem``'s ``render``; English by default).
    """

    status: int = 422
    slug: str = "rule-violation"
    title: str = N_("A business rule refused the request")
    remedy: str = N_("Read the detail, correct the request and send it again.")
    # A class whose instances carry one of several problem types (a purchasing-rights rule
    # names itself) lists them here, with ``slug=`` given when raised.
    slugs: ClassVar[tuple[str, ...]] = ()
    # Never raised itself, only its subclasses: not a problem type of its own.
    abstract: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "slug" in cls.__dict__ or "slugs" in cls.__dict__:
            _PROBLEM_CLASSES[f"{cls.__module__}.{cls.__qualname__}"] = cls

    @classmethod
    def own_slugs(cls) -> tuple[str, ...]:
        """The problem types this class itself stands for."""
        own = (cls.__dict__["slug"],) if "slug" in cls.__dict__ else ()
        return own + tuple(cls.__dict__.get("slugs", ()))

    @classmethod
    def declared_slugs(cls) -> tuple[str, ...]:
        """The problem types an operation declares by naming this class: its own, else the
        one it inherits (a subclass that only adds a field pointer)."""
        return cls.own_slugs() or (cls.slug,)

    def __init__(
        self,
        detail: str | Message,
        *,
        errors: list[dict[str, Any]] | None = None,
        slug: str | None = None,
        title: str | None = None,
        status: int | None = None,
        **extensions: Any,
    ) -> None:
        self.message = as_message(detail)
        self.detail = str(self.message)
        super().__init__(self.detail)
        self.errors = errors or []
        if slug is not None:
            self.slug = slug
        if title is not None:
            self.title = title
        if status is not None:
            self.status = status
        self.extensions = extensions

    @property
    def type_uri(self) -> str:
        return PROBLEM_BASE_URI + self.slug

    @classmethod
    def type_uri_of(cls) -> str:
        """The type URI of the class's own problem type."""
        return PROBLEM_BASE_URI + cls.slug

    def to_problem(self, render: Callable[[Message], str] = str) -> dict[str, Any]:
        """The RFC 9457 body: title, detail and each field's detail as ``render`` gives them
        (default: the English templates; the API's edge renders in the request's
        Accept-Language, erp.web.api_renderer)."""
        body: dict[str, Any] = {
            "type": self.type_uri,
            "title": render(as_message(self.title)),
            "status": self.status,
            "detail": render(self.message),
        }
        if self.errors:
            body["errors"] = [{**item, "detail": render(as_message(item["detail"]))} for item in self.errors]
        body.update(self.extensions)
        return body


class ValidationFailed(DomainError):
    """Requests are checked field by field (types, formats, bounds, references): a request
    with any invalid field is refused whole, each error pointing at its field (``errors``)."""

    status = 422
    slug = "validation-error"
    title = N_("The request is not valid")
    remedy = N_("Correct the fields the errors point at (errors[].pointer) and send the request again.")

    @classmethod
    def for_field(cls, field: str, message: str | Message) -> ValidationFailed:
        message = as_message(message)
        return cls(Message("{field}: {problem}", field=FieldName(field), problem=message),
                   errors=[{"pointer": f"/{field}", "detail": message}])


class NotFound(DomainError):
    """A record is found only if it exists and belongs to a company the caller acts for:
    other companies' records are not revealed."""

    status = 404
    slug = "not-found"
    title = N_("Not found")
    remedy = N_("Check the identifier. Records of companies you do not act for are not shown to you.")


class Conflict(DomainError):
    """A change applies to the current state of the data: one that would duplicate a record,
    or that collides with a change written at the same time, is refused."""

    status = 409
    slug = "conflict"
    title = N_("Conflict with the current state")
    remedy = N_("Reload the record, check its current state, and send the request again if it still applies.")


class Forbidden(DomainError):
    """The caller is authenticated but their role or companies do not allow this."""

    status = 403
    slug = "forbidden"
    title = N_("Not allowed")
    abstract = True
    remedy = N_("Ask someone with the role and the companies this needs, or ask an administrator to grant them.")


class Unauthenticated(DomainError):
    """Every request to the API but sign-in carries a bearer token."""

    status = 401
    slug = "unauthenticated"
    title = N_("Authentication required")
    remedy = N_("Sign in (POST /api/v1/auth/token) and send the token as 'Authorization: Bearer <token>'.")


_PROBLEM_CLASSES["erp.errors.DomainError"] = DomainError


# Refusals of the HTTP edge itself: the request never reached a use case.

class MalformedRequest(DomainError):
    """The request body is not well-formed JSON (or not UTF-8, or nested too deeply), or the
    request holds text that is not valid Unicode."""

    status = 400
    slug = "malformed-request"
    title = N_("The request is not well-formed")
    remedy = N_("Send a JSON body encoded in UTF-8, with Content-Type: application/json.")


class RequestTooLarge(DomainError):
    """The request body is larger than the endpoint accepts (uploads may take more than
    other requests)."""

    status = 413
    slug = "request-too-large"
    title = N_("The request is too large")
    remedy = N_("Send less in one request: split the list, or import large files through the go-live imports.")


class TooManyRequests(DomainError):
    """Too many requests from one address in the window the endpoint allows."""

    status = 429
    slug = "too-many-requests"
    title = N_("Too many requests")
    remedy = N_("Wait the number of seconds the Retry-After header gives, then send the request again.")


class DatabaseUnavailable(DomainError):
    """The connection to the database was lost before the request finished (a failover, a
    restart, a terminated backend): the database rolled its transaction back, so nothing of
    the request was saved, and it is safe to send it again."""

    status = 503
    slug = "database-unavailable"
    title = N_("The database connection was lost")
    remedy = N_("Send the same request again in a moment: nothing of it was saved. With an Idempotency-Key a "
                "retry never posts twice.")
    retry_after = 1


class ReportingUnavailable(DomainError):
    """Read-only reports are served from the reporting replica (ERP_REPORTING_DATABASE_URL)
    so that month-end reporting does not load the primary that books receipts; while the
    replica does not answer, reports are refused rather than silently moved to the primary."""

    status = 503
    slug = "reporting-unavailable"
    title = N_("The reporting database does not answer")
    remedy = N_("Try the report again in a little while; postings are not affected. If it lasts, ask operations "
                "to check the reporting replica.")
    retry_after = 30


class ConcurrentUpdate(Conflict):
    """Another transaction changed the same rows at the same time (a serialisation failure or
    a deadlock); nothing was written."""

    slug = "retry"
    title = N_("Concurrent update")
    remedy = N_("Send the same request again: nothing was written. With an Idempotency-Key a retry never "
                "posts twice.")


class AmountOutOfRange(ValidationFailed):
    """An amount or a quantity, given or computed, is larger than the books can hold
    (the column's precision)."""

    slug = "amount-out-of-range"
    title = N_("An amount is out of range")
    remedy = N_("Check the quantities and prices: no single posting of this size is plausible.")


class DatedAfterBusinessDay(DomainError):
    """A posting or a document dated after the business day (erp.clock): nothing is
    booked before it happens, and no document is dated after the day it is made."""

    status = 422
    slug = "dated-after-business-day"
    title = N_("Dated after today")
    remedy = N_("Date the document today or earlier, or book it on the day it happens.")


class DatedBeforeSource(DomainError):
    """A document dated before the document it derives from (a receipt before its order,
    an invoice before its sales order, a payment applied before the invoice)."""

    status = 422
    slug = "dated-before-source"
    title = N_("Dated before the document it derives from")
    remedy = N_("Date the document on or after the date of the document the detail names.")
