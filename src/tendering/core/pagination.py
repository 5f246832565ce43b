"""One way to page every list.

A list endpoint takes ``page: LimitOffset`` (the ``page`` dependency: query parameters
``current_page`` from 1 and ``page_size`` from 1 to 100, default 20) and answers
``OffsetPagination[ItemRead]``: ``{"items", "limit", "offset", "total"}``::

    @get("/statements")
    async def statements(db_session: DbSession, page: LimitOffset) -> OffsetPagination[ImportRead]:
        rows, total = await paginate(db_session, select(Import).order_by(...), page)
        return OffsetPagination(items=[...], limit=page.limit, offset=page.offset, total=total)

Lists are ordered by the caller's query (newest first, usually); a page past the end is empty.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, TypeVar, TypeVarTuple

from advanced_alchemy.filters import LimitOffset
from advanced_alchemy.service import OffsetPagination
from litestar.params import QueryParameter
from sqlalchemy import Row, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

__all__ = [
    "MAX_PAGE_SIZE",
    "LimitOffset",
    "OffsetPagination",
    "page_of",
    "paginate",
    "provide_page",
]

MAX_PAGE_SIZE = 100
Ts = TypeVarTuple("Ts")
T = TypeVar("T")


def provide_page(
    current_page: Annotated[int, QueryParameter(ge=1, le=1_000_000, description="from 1")] = 1,
    page_size: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE_SIZE, description="1 to 100")] = 20,
) -> LimitOffset:
    return LimitOffset(limit=page_size, offset=(current_page - 1) * page_size)


async def paginate(
    session: AsyncSession, query: Select[*Ts], page: LimitOffset
) -> tuple[Sequence[Row[*Ts]], int]:
    """The page's rows of ``query`` and the total count of all its rows, in two statements."""
    total = await session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = (await session.execute(query.limit(page.limit).offset(page.offset))).all()
    return rows, int(total or 0)


def page_of(items: Sequence[T], page: LimitOffset) -> OffsetPagination[T]:
    """A page of a list that SQL cannot page: rows kept or dropped only once their sealed
    boxes are opened (the ledger's deposit accounts). ``items`` is the whole list, in order."""
    chosen = list(items[page.offset : page.offset + page.limit])
    return OffsetPagination(items=chosen, limit=page.limit, offset=page.offset, total=len(items))
