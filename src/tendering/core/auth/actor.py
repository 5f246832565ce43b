"""Who is calling: the one value every service receives to decide what is allowed."""

from __future__ import annotations

from dataclasses import dataclass

from tendering.core.auth.models import OrgKind, Role

__all__ = ["SYSTEM", "Actor"]


@dataclass(frozen=True, slots=True)
class Actor:
    user_id: int | None
    username: str
    role: Role | None
    organization_id: int | None
    organization_kind: OrgKind | None
    system_name: str | None = None

    @property
    def ref(self) -> str:
        """The audit chain's ``actor``: ``user:<id>`` or ``system:<job>``."""
        if self.user_id is None:
            return f"system:{self.system_name or 'platform'}"
        return f"user:{self.user_id}"

    def has_role(self, *roles: Role) -> bool:
        return self.role is not None and self.role in roles

    @classmethod
    def system(cls, job: str) -> Actor:
        return cls(None, f"system:{job}", None, None, None, system_name=job)


SYSTEM = Actor.system("platform")
