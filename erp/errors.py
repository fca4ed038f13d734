"""Domain errors: every broken rule is an exception with a stable problem type.

Services raise these; one handler (``erp.web``) turns them into RFC 9457
``application/problem+json``. The ``type`` URI names the rule that was broken, so a client
can branch on it and a reader can find the rule by its slug.

Status codes: 422 for invalid input and broken business rules on the request's content,
409 for a conflict with the current state of the data, 403 for rights, 404 for nothing
found (or not visible to the caller: we do not reveal other companies' records).
"""

from __future__ import annotations

from typing import Any

from erp.messages import N_, Message, as_message

PROBLEM_BASE_URI = "https://heyi.example/problems/"


class DomainError(Exception):
    """A business rule refused the request; carries everything the problem body needs.

    ``detail`` is a ``Message`` (an English template with named parameters), so that a page
    can show it in the reader's language; ``title`` is a message id too. ``errors`` items
    are ``{"pointer": ..., "detail": str | Message}``. The problem body (the API) shows
    them in English.
    """

    status: int = 422
    slug: str = "rule-violation"
    title: str = N_("A business rule refused the request")

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

    def to_problem(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": self.type_uri,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if self.errors:
            body["errors"] = [{**item, "detail": str(item["detail"])} for item in self.errors]
        body.update(self.extensions)
        return body


class ValidationFailed(DomainError):
    """Input that is well-formed JSON but not acceptable; ``errors`` name the fields."""

    status = 422
    slug = "validation-error"
    title = N_("The request is not valid")

    @classmethod
    def for_field(cls, field: str, message: str | Message) -> ValidationFailed:
        message = as_message(message)
        return cls(Message("{field}: {problem}", field=field, problem=message),
                   errors=[{"pointer": f"/{field}", "detail": message}])


class NotFound(DomainError):
    """Nothing with that identity exists, or the caller may not see it."""

    status = 404
    slug = "not-found"
    title = N_("Not found")


class Conflict(DomainError):
    """The request conflicts with the current state (duplicates, wrong status)."""

    status = 409
    slug = "conflict"
    title = N_("Conflict with the current state")


class Forbidden(DomainError):
    """The caller is authenticated but their role or companies do not allow this."""

    status = 403
    slug = "forbidden"
    title = N_("Not allowed")


class Unauthenticated(DomainError):
    """No valid bearer token."""

    status = 401
    slug = "unauthenticated"
    title = N_("Authentication required")
