"""What each import wrote: a batch per committed file, and a row per record it created.

A batch is written only by a commit that succeeded (dry runs and refused commits leave
nothing). Its checksum over the file's content refuses the same file twice; its records
are what an undo removes.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from erp.db import BigId, Base, utcnow
from erp.jobs.models import JSON_DOCUMENT
from erp.masterdata.models import str_enum


class ImportStatus(StrEnum):
    PENDING = "pending"  # inside the import's own transaction only: never seen committed
    COMMITTED = "committed"
    UNDONE = "undone"


class ImportBatch(Base):
    """One committed import: kind, company, file, content checksum, who and when, and a summary."""

    __tablename__ = "import_batches"
    __table_args__ = (
        # The same content cannot be committed twice for the same kind and company (0: the
        # group master). Partial, so an undone import may be loaded again.
        Index("ux_import_batches_checksum", "kind", "company_key", "checksum", unique=True,
              postgresql_where=text("status = 'committed'"), sqlite_where=text("status = 'committed'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id"))
    company_key: Mapped[int] = mapped_column(Integer, default=0)
    file_name: Mapped[str] = mapped_column(String(255))
    checksum: Mapped[str | None] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(default=0)
    status: Mapped[ImportStatus] = mapped_column(str_enum(ImportStatus, "import_status"),
                                                 default=ImportStatus.PENDING)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON_DOCUMENT, default=dict)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id"))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    undone_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    undone_at: Mapped[dt.datetime | None]


class ImportRecord(Base):
    """A record an import created: its table and id (what an undo deletes)."""

    __tablename__ = "import_records"
    __table_args__ = (Index("ix_import_records_batch", "batch_id", "entity", "record_id"),)

    id: Mapped[BigId] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batches.id"))
    entity: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[int] = mapped_column(BigInteger)
    # The file's row the record came from: a later row repeating its key is reported
    # against it (read back from here, so the import keeps no index of the file's keys).
    row_number: Mapped[int | None]
