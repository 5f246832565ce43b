"""What the auth API takes and gives."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from tendering.core.auth.models import OrgKind, Role
from tendering.core.auth.rules import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    ORG_CODE_PATTERN,
    USERNAME_PATTERN,
    credit_code_problem,
)

__all__ = [
    "LoginRequest",
    "LoginResponse",
    "Me",
    "OrganizationCreate",
    "OrganizationRead",
    "PasswordChange",
    "PlainText",
    "UserCreate",
    "UserRead",
]


def _no_control_characters(value: str) -> str:
    # PostgreSQL text cannot hold NUL, and no name or password needs a control character.
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError("must not contain control characters (such as NUL or newlines)")
    return value


def _credit_code(value: str | None) -> str | None:
    if value is None or value.strip() == "":
        return None
    value = value.strip().upper()
    problem = credit_code_problem(value)
    if problem is not None:
        raise ValueError(f"the unified social credit code (统一社会信用代码) {problem}")
    return value


PlainText = Annotated[str, AfterValidator(_no_control_characters)]
"""A one-line text field: no control characters (use with ``Field(max_length=...)``)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginRequest(BaseModel):
    username: PlainText = Field(min_length=1, max_length=64)
    password: PlainText = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)


class Me(BaseModel):
    id: int
    username: str
    display_name: str
    role: str
    organization: str
    organization_name: str
    organization_kind: str


class LoginResponse(BaseModel):
    token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_at: str
    csrf_token: str = Field(
        description="With the session cookie (pages), send it back as the X-CSRF-Token header"
        " on POST/PUT/PATCH/DELETE; bearer-token clients need not."
    )
    user: Me


class PasswordChange(_Strict):
    current_password: PlainText = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)
    new_password: PlainText = Field(
        min_length=MIN_PASSWORD_LENGTH,
        max_length=MAX_PASSWORD_LENGTH,
        description=f"at least {MIN_PASSWORD_LENGTH} characters",
    )


class OrganizationCreate(_Strict):
    code: Annotated[str, StringConstraints(pattern=ORG_CODE_PATTERN)] = Field(
        description="public code: capital letters, digits, '-' and '_', e.g. BID-0001",
        examples=["BID-0001"],
    )
    name: PlainText = Field(min_length=1, max_length=200, examples=["某某建设工程有限公司"])
    kind: OrgKind
    region: PlainText = Field(default="", max_length=100)
    credit_code: Annotated[str | None, AfterValidator(_credit_code)] = Field(
        default=None,
        max_length=20,
        description="统一社会信用代码, 18 characters (GB 32100-2015)",
        examples=["91350100M000100Y43"],
    )


class OrganizationRead(BaseModel):
    code: str
    name: str
    kind: OrgKind
    region: str
    credit_code: str | None
    created_at: datetime | None


class UserCreate(_Strict):
    username: Annotated[str, StringConstraints(pattern=USERNAME_PATTERN)] = Field(
        description="3 to 64 letters, digits and . _ @ -", examples=["zhang.wei"]
    )
    password: PlainText = Field(
        min_length=MIN_PASSWORD_LENGTH,
        max_length=MAX_PASSWORD_LENGTH,
        description=f"at least {MIN_PASSWORD_LENGTH} characters",
    )
    role: Role
    organization: Annotated[str, StringConstraints(max_length=64)] = Field(
        description="the organization's code"
    )
    display_name: PlainText | None = Field(default=None, min_length=1, max_length=100)


class UserRead(BaseModel):
    username: str
    display_name: str
    role: Role
    organization: str
    is_active: bool
    created_at: datetime | None
