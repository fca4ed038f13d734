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

PROBLEM_BASE_URI = "https://heyi.example/problems/"


class DomainError(Exception):
    """A business rule refused the request; carries everything the problem body needs."""

    status: int = 422
    slug: str = "rule-violation"
    title: str = "A business rule refused the request"

    def __init__(
        self,
        detail: str,
        *,
        errors: list[dict[str, str]] | None = None,
        slug: str | None = None,
        title: str | None = None,
        status: int | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
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
            body["errors"] = self.errors
        body.update(self.extensions)
        return body


class ValidationFailed(DomainError):
    """Input that is well-formed JSON but not acceptable; ``errors`` name the fields."""

    status = 422
    slug = "validation-error"
    title = "The request is not valid"

    @classmethod
    def for_field(cls, field: str, message: str) -> ValidationFailed:
        return cls(f"{field}: {message}", errors=[{"pointer": f"/{field}", "detail": message}])


class NotFound(DomainError):
    """Nothing with that identity exists, or the caller may not see it."""

    status = 404
    slug = "not-found"
    title = "Not found"


class Conflict(DomainError):
    """The request conflicts with the current state (duplicates, wrong status)."""

    status = 409
    slug = "conflict"
    title = "Conflict with the current state"


class Forbidden(DomainError):
    """The caller is authenticated but their role or companies do not allow this."""

    status = 403
    slug = "forbidden"
    title = "Not allowed"


class Unauthenticated(DomainError):
    """No valid bearer token."""

    status = 401
    slug = "unauthenticated"
    title = "Authentication required"
