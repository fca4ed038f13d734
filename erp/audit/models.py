"""The append-only audit table.

The database refuses UPDATE and DELETE on ``audit_events`` (triggers on PostgreSQL and
SQLite, written by migration 0014, as for the stock ledger): a row, once written, is the
record. GSP/GMP data integrity (ALCOA: attributable, legible, contemporaneous, original,
accurate) is the reason.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from erp.db import Base, BigId, utcnow


class AuditEvent(Base):
    """One recorded action on one record: a create, a change, a deactivation, a sign-in...

    ``changes`` maps each field that the action touched to ``{"before": ..., "after": ...}``
    (JSON values: decimals and dates as strings); secrets appear as ``"[redacted]"``.
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_entity", "entity", "entity_id", "id"),
        Index("ix_audit_events_occurred_at", "occurred_at"),
    )

    id: Mapped[BigId] = mapped_column(primary_key=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Who: the signed-in user (NULL for a failed sign-in of an unknown name or a command
    # run without a user); the name is kept as it was then, so the row reads on its own.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    actor_name: Mapped[str] = mapped_column(String(64))
    # What: the kind of record ("material", "customer_credit", "user", ...) and its key.
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int | None] = mapped_column(BigInteger)
    # The company the record belongs to, where it belongs to one (standard prices, warehouses).
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id"))
    action: Mapped[str] = mapped_column(String(40))
    changes: Mapped[dict[str, Any]] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(String(500))
    # Where from, for sign-ins (the client's address as the web edge saw it).
    client_address: Mapped[str | None] = mapped_column(String(64))
