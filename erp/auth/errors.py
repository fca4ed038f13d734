"""Refusals of sign-in and user administration."""

from __future__ import annotations

from erp.errors import DomainError
from erp.messages import N_


class TooManySignIns(DomainError):
    """Too many failed sign-ins for this user name or from this address: wait and retry."""

    status = 429
    slug = "too-many-sign-ins"
    title = N_("Too many failed sign-ins")

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, retry_after=retry_after)
        # Sent as the Retry-After header (RFC 9110) as well as in the body.
        self.retry_after = retry_after
