"""Audit chain API (supervisors): verify streams."""

from __future__ import annotations

from litestar import Controller

__all__ = ["AuditController"]


class AuditController(Controller):
    path = "/api/audit"
    tags = ["audit"]  # noqa: RUF012
