"""Refusals a background job ends with (kept as the job's ``result.problem``)."""

from __future__ import annotations

from erp.errors import DomainError
from erp.messages import N_


class JobUserInactive(DomainError):
    """A job acts for the user who started it; it does not run once that user has been
    deactivated."""

    slug = "job-user-inactive"
    title = N_("The user who started the job is inactive")
    remedy = N_("Start the job again as an active user.")


class UnknownJobKind(DomainError):
    """A job runs only when this server has a handler for its kind (a job queued by a newer
    version waits for a worker that knows it)."""

    slug = "unknown-job-kind"
    title = N_("No handler for this kind of job")
    remedy = N_("Run the job on a server of the version that queued it.")
