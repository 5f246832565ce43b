"""Path parameters every context's routes share.

A malformed value is refused as input (400, naming the parameter) before any lookup, so an
answer never depends on whether something exists unless the value could name it::

    @get("/{lot_code:str}/bid")
    async def my_bid(self, lot_code: PathCode) -> SignedReceipt: ...
"""

from __future__ import annotations

from typing import Annotated

from litestar.params import PathParameter

__all__ = ["MAX_ID", "PathCode", "PathId"]

MAX_ID = 2_147_483_647  # PostgreSQL integer

PathId = Annotated[int, PathParameter(ge=1, le=MAX_ID)]
"""A row id in a path: 1 to 2**31 - 1."""

PathCode = Annotated[str, PathParameter(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,79}$")]
"""A public code in a path (a project's, a lot's, an organization's): letters, digits, '-'."""
