"""Path parameters every context's routes share.

A malformed value is refused as input (400, naming the parameter) before any lookup, so an
answer never depends on whether something exists unless the value could name it::

    @get("/{lot_code:str}/bid")
    async def my_bid(self, lot_code: PathCode) -> SignedReceipt: ...
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, TypeVar

from litestar.params import PathParameter
from pydantic import AfterValidator, AwareDatetime, BeforeValidator

from tendering.core.errors import InvalidInput

__all__ = [
    "EARLIEST_YEAR",
    "LATEST_YEAR",
    "MAX_ID",
    "Boolean",
    "CalendarDate",
    "CalendarMoment",
    "Integer",
    "PathCode",
    "PathId",
    "in_calendar",
    "in_calendar_range",
    "json_boolean",
    "json_integer",
]

D = TypeVar("D", bound=date)  # a date or a datetime

# The years a date the platform takes may fall in. Beyond them a date is a typing slip, and
# arithmetic near year 1 or 9999 overflows (a 500) when converted to UTC or pushed by days.
EARLIEST_YEAR, LATEST_YEAR = 1900, 2999

MAX_ID = 2_147_483_647  # PostgreSQL integer

PathId = Annotated[int, PathParameter(ge=1, le=MAX_ID)]
"""A row id in a path: 1 to 2**31 - 1."""

PathCode = Annotated[str, PathParameter(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,79}$")]
"""A public code in a path (a project's, a lot's, an organization's): letters, digits, '-'."""


def json_integer(value: object) -> object:
    """Refuse what lax validation would turn into an integer: ``true`` is not 1 fen, ``"100"``
    is not 100, and ``100.0`` or ``1e2`` is not a count."""
    if type(value) is not int:
        raise ValueError("must be a JSON integer (digits, no quotes, fraction or exponent)")
    return value


def json_boolean(value: object) -> object:
    """Refuse what lax validation would turn into a flag: ``1``, ``"true"``, ``"yes"``."""
    if type(value) is not bool:
        raise ValueError("must be true or false (a JSON boolean, not a number or string)")
    return value


Integer = Annotated[int, BeforeValidator(json_integer)]
"""An integer in a request body (money in fen, a count, an id): a JSON integer and nothing
that merely converts to one. (Pydantic's own ``Strict`` is overridden by Litestar, which
validates bodies with ``strict=False``.)"""

Boolean = Annotated[bool, BeforeValidator(json_boolean)]
"""A flag in a request body: JSON ``true`` or ``false`` only."""


def in_calendar_range(value: D) -> D:
    """Refuse a date or time outside the years :data:`EARLIEST_YEAR`-:data:`LATEST_YEAR`."""
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(f"must be a date between the years {EARLIEST_YEAR} and {LATEST_YEAR}")
    return value


def in_calendar(value: D | None, *, field: str) -> D | None:
    """``value`` (a path or query parameter), or 400 naming ``field`` when out of range."""
    if value is None:
        return None
    try:
        return in_calendar_range(value)
    except ValueError as error:
        raise InvalidInput(f"{field}: {error} (got {value.isoformat()}).", field=field) from None


CalendarDate = Annotated[date, AfterValidator(in_calendar_range)]
"""A calendar date in a request body, within the years 1900-2999."""

CalendarMoment = Annotated[AwareDatetime, AfterValidator(in_calendar_range)]
"""A time with its UTC offset in a request body, within the years 1900-2999."""
