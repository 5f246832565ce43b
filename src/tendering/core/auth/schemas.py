"""What the auth API takes and gives."""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = ["LoginRequest", "LoginResponse", "Me"]


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


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
    user: Me
