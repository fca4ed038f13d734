"""Users, the companies and warehouses they act for, and their bearer tokens."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from erp.auth.roles import Role
from erp.db import Base, utcnow
from erp.masterdata.models import str_enum


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"))
    # Group-wide users act for every company (always so for group roles).
    group_wide: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    companies: Mapped[list[UserCompany]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )
    warehouses: Mapped[list[UserWarehouse]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def company_ids(self) -> list[int]:
        return sorted(link.company_id for link in self.companies)

    @property
    def warehouse_ids(self) -> list[int]:
        return sorted(link.warehouse_id for link in self.warehouses)


class UserCompany(Base):
    __tablename__ = "user_companies"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), primary_key=True)


class UserWarehouse(Base):
    __tablename__ = "user_warehouses"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"), primary_key=True)


class ApiToken(Base):
    """An opaque bearer token; only its SHA-256 digest is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]
