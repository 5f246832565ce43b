"""What tender publication announces to the contexts above it (``core/hooks.py``).

``lots_published`` is announced in the transaction that publishes a notice, once per
publication, after the ``notice.published`` events; ``app.register_contexts`` connects the
opening's key ceremony to it, so a published lot gets its opening key in the same
transaction without this context importing the opening.
"""

from __future__ import annotations

from dataclasses import dataclass

from tendering.core.auth.actor import Actor
from tendering.core.hooks import Hook
from tendering.tenders.lots import LotView

__all__ = ["LotsPublished", "lots_published"]


@dataclass(frozen=True)
class LotsPublished:
    """The lots of a notice just published, by ``actor`` (a user, or the publication job)."""

    lots: tuple[LotView, ...]
    actor: Actor | str


lots_published: Hook[LotsPublished] = Hook("tenders.lots_published")
