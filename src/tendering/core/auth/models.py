"""Organizations, users and login tokens."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import text
from sqlmodel import Field, SQLModel

from tendering.core.db import enum_check, utc_column

__all__ = ["ApiToken", "OrgKind", "Organization", "Role", "User"]


class OrgKind(StrEnum):
    BIDDER = "bidder"  # 投标人 / 竞买人: a bidding company
    AGENCY = "agency"  # 招标代理机构
    CENTER = "center"  # 公共资源交易中心
    SUPERVISOR = "supervisor"  # 行政监督部门
    TENDERER = "tenderer"  # 招标人: the school, the transport bureau


class Role(StrEnum):
    BIDDER = "bidder"
    STAFF = "staff"
    SUPERVISOR = "supervisor"
    AUCTIONEER = "auctioneer"
    EXPERT = "expert"
    AGENCY = "agency"
    ADMIN = "admin"


class Organization(SQLModel, table=True):
    __tablename__ = "organization"
    __table_args__ = (enum_check("kind", OrgKind, name="kind"),)

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True, description="public code, e.g. BID-0001")
    name: str = Field(max_length=200)
    kind: str = Field(max_length=20)
    region: str = Field(default="", max_length=100)
    # 统一社会信用代码 (unified social credit code), 18 characters when known.
    credit_code: str | None = Field(default=None, max_length=18)
    created_at: datetime | None = Field(
        default=None, sa_column=utc_column(server_default=text("now()"))
    )


class User(SQLModel, table=True):
    __tablename__ = "app_user"
    __table_args__ = (enum_check("role", Role, name="role"),)

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    display_name: str = Field(max_length=100)
    password_hash: str = Field(max_length=200)
    role: str = Field(max_length=20)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    is_active: bool = Field(default=True)
    created_at: datetime | None = Field(
        default=None, sa_column=utc_column(server_default=text("now()"))
    )


class ApiToken(SQLModel, table=True):
    """A login: only the SHA-256 of the bearer token is stored."""

    __tablename__ = "api_token"

    token_hash: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    created_at: datetime | None = Field(
        default=None, sa_column=utc_column(server_default=text("now()"))
    )
    expires_at: datetime = Field(sa_column=utc_column())
    revoked_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
