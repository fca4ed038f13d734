"""Idempotency-Key: a retried POST returns the first result and posts nothing twice.

The key is claimed inside the same transaction as the posting it protects. Two requests
with one key: the second's INSERT waits on the first's uncommitted row (PostgreSQL's unique
index; on SQLite transactions are serialised anyway); once the first commits, the second
finds the key taken and replays the first result. If the first fails and rolls back, its
claim disappears with it and a retry is processed normally.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ForeignKey, String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from erp.db import BigId, Base, dialect_insert, utcnow
from erp.messages import N_, Message
from erp.errors import DomainError


class IdempotencyKey(Base):
    """A client's Idempotency-Key and the document its first request created."""

    __tablename__ = "idempotency_keys"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    endpoint: Mapped[str] = mapped_column(String(100))
    request_hash: Mapped[str] = mapped_column(String(64))
    resource_id: Mapped[BigId | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class IdempotencyKeyReused(DomainError):
    """An Idempotency-Key stands for one request: a retry with the same key must send the
    same body to the same endpoint (it then gets the first answer, and nothing is posted twice)."""

    status = 422
    slug = "idempotency-key-reused"
    title = N_("Idempotency-Key reused for a different request")
    remedy = N_("Send a new key with a new request; reuse a key only to retry the same request.")


@dataclass(frozen=True)
class Claim:
    user_id: int
    key: str
    replay_resource_id: int | None  # set when an earlier request with this key succeeded


def fingerprint(payload: Any) -> str:
    """A stable hash of a request body, to tell a retry from a different request."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def claim(session: Session, *, user_id: int, key: str, endpoint: str, request_hash: str) -> Claim:
    """Take ``key`` for this request, or learn which resource an earlier request created."""
    inserted = session.execute(
        dialect_insert(session, IdempotencyKey)
        .values(user_id=user_id, key=key, endpoint=endpoint, request_hash=request_hash, created_at=utcnow())
        .on_conflict_do_nothing()
        .returning(IdempotencyKey.key)
    ).first()
    if inserted is not None:
        return Claim(user_id, key, None)
    existing = session.execute(
        select(IdempotencyKey.endpoint, IdempotencyKey.request_hash, IdempotencyKey.resource_id).where(
            IdempotencyKey.user_id == user_id, IdempotencyKey.key == key
        )
    ).one()
    if existing.endpoint != endpoint or existing.request_hash != request_hash:
        raise IdempotencyKeyReused(
            Message("Idempotency-Key {key} was already used for a different request; use a new key", key=repr(key))
        )
    return Claim(user_id, key, existing.resource_id)


def record(session: Session, claimed: Claim, resource_id: int) -> None:
    """Remember which resource the request that claimed the key created."""
    session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.user_id == claimed.user_id, IdempotencyKey.key == claimed.key)
        .values(resource_id=resource_id)
    )
