"""Refusals of sign-in and user administration."""

from __future__ import annotations

from erp.errors import Conflict, DomainError, Forbidden, Unauthenticated
from erp.messages import N_
from erp.unique import unique_refusal


class TooManySignIns(DomainError):
    """Too many failed sign-ins for this user name or from this address: wait and retry."""

    status = 429
    slug = "too-many-sign-ins"
    title = N_("Too many failed sign-ins")
    remedy = N_("Wait the number of seconds the Retry-After header gives; an administrator can reset the password.")

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, retry_after=retry_after)
        # Sent as the Retry-After header (RFC 9110) as well as in the body.
        self.retry_after = retry_after


class BadCredentials(Unauthenticated):
    """Sign-in needs a known, active user name and its password; which of them was wrong is
    not said (it would tell an attacker which names exist)."""

    slug = "bad-credentials"
    title = N_("Sign-in refused")
    remedy = N_("Check the user name and the password. After repeated failures sign-in waits; an administrator "
                "can reset a password or reactivate a user.")


class InvalidToken(Unauthenticated):
    """A bearer token counts only while it is known, not expired, not revoked and its user
    is active."""

    slug = "invalid-token"
    title = N_("The bearer token is not valid")
    remedy = N_("Sign in again (POST /api/v1/auth/token) for a new token.")


class RoleNotAllowed(Forbidden):
    """Each use case is open to some roles only (docs/security.md lists them)."""

    slug = "role-not-allowed"
    title = N_("Your role does not allow this")
    remedy = N_("Ask a user with one of the roles the detail names, or an administrator to change your role.")


class CompanyOutOfScope(Forbidden):
    """Users act for their companies only (group-wide roles for every company); group-wide
    figures need a group-wide role."""

    slug = "company-out-of-scope"
    title = N_("You do not act for this company")
    remedy = N_("Name a company you act for, or ask an administrator to add the company to your scope.")


class ReadOnlyRole(Forbidden):
    """The CIO and the auditor read everything in their scope and change nothing."""

    slug = "read-only-role"
    title = N_("Your role only reads")
    remedy = N_("Ask a user with a role that makes this change.")


class DuplicateUsername(Conflict):
    """User names are unique."""

    slug = "duplicate-username"
    title = N_("The user name is taken")
    remedy = N_("Choose another user name.")


class LastAdmin(Conflict):
    """The last active administrator cannot lose the role or be deactivated: nobody could
    administer users any more."""

    slug = "last-admin"
    title = N_("The last active administrator stays")
    remedy = N_("Make another user an administrator first.")


unique_refusal("uq_users_username", DuplicateUsername, N_("the user name {value} is taken"))
