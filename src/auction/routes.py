"""The auction context's controllers, gathered for ``tendering/app.py``."""

from __future__ import annotations

from typing import Any

__all__ = ["auction_handlers"]

auction_handlers: list[Any] = []
