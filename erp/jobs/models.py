"""The jobs table: one row per piece of background work, with its progress and outcome."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped, mapped_column

from erp.db import Base, utcnow
from erp.masterdata.models import str_enum

# JSONB on PostgreSQL (indexable, compact), JSON text on SQLite.
JSON_DOCUMENT = JSON().with_variant(postgresql.JSONB(), "postgresql")


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


FINISHED_STATUSES = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED})


class Job(Base):
    """A piece of background work: what (``kind`` and ``params``), who and when, how far it
    got (``rows_done`` of ``rows_total``, ``error_count`` and the first errors) and how it
    ended (``result``, or ``message`` when it failed)."""

    __tablename__ = "jobs"
    __table_args__ = (
        # The worker's queue: the oldest queued job first.
        Index("ix_jobs_status", "status", "id"),
        Index("ix_jobs_created_by", "created_by", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    status: Mapped[JobStatus] = mapped_column(str_enum(JobStatus, "job_status"), default=JobStatus.QUEUED)
    params: Mapped[dict[str, Any]] = mapped_column(JSON_DOCUMENT, default=dict)
    # The company the work is for, when it is for one (scopes who may see the job).
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id"))
    rows_total: Mapped[int | None]
    rows_done: Mapped[int] = mapped_column(default=0)
    error_count: Mapped[int] = mapped_column(default=0)
    # The first errors (at most MAX_KEPT_ERRORS), each a JSON object the kind defines.
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON_DOCUMENT, default=list)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON_DOCUMENT)
    message: Mapped[str | None] = mapped_column(String(1000))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    started_at: Mapped[dt.datetime | None]
    heartbeat_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]

    @property
    def finished(self) -> bool:
        return self.status in FINISHED_STATUSES
