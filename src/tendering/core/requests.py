"""The platform's request class: JSON bodies are checked for depth before they are decoded.

A JSON body a few kilobytes long can nest a thousand levels deep; the decoder recurses once
per level and gives up with ``RecursionError`` (a 500), and a validator walking the value
would do the same. No request the platform takes nests deeper than a handful of levels, so
every JSON body (the login's included) nested deeper than :data:`MAX_JSON_DEPTH` is refused
as input, 400 ``input.invalid``, before a decoder sees it::

    Litestar(..., request_class=PlatformRequest)
"""

from __future__ import annotations

import re
from typing import Any

from litestar import Request

from tendering.core.errors import InvalidInput

__all__ = ["MAX_JSON_DEPTH", "PlatformRequest", "json_depth_exceeds"]

MAX_JSON_DEPTH = 32

_ESCAPED = re.compile(rb"\\.", re.DOTALL)  # a backslash and the byte it escapes
_STRING = re.compile(rb'"[^"]*"')  # once escapes are gone, a string has no quote inside
_BRACKETS = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def json_depth_exceeds(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON text ``raw`` nests arrays and objects deeper than ``limit``.

    Strings are dropped (brackets inside them do not count), then only the brackets kept;
    each pass removes every innermost empty pair, one level of the whole text, so the text is
    at most ``limit`` deep exactly when ``limit`` passes leave nothing; more than ``limit``
    brackets opened in a row are refused at once. Each pass runs in C: a 9 MiB body takes
    about a quarter of the time msgspec then takes to decode it (measured in one run: 0.19 s
    against 0.76 s for a wide body, 0.83 s against 3.6 s for 150,000 arrays 32 deep).

    Brackets that do not match leave something too: such a text is malformed, and is left
    for the decoder to say so (400 ``request.bad``), unless a run of more than ``limit``
    brackets is still open (``[[[[...`` never closed), which would send the decoder down
    the same recursion.
    """
    shape = _STRING.sub(b"", _ESCAPED.sub(b"", raw)).translate(_BRACKETS, _NOT_BRACKETS)
    if b"[" * (limit + 1) in shape:  # so many opened in a row: too deep, whatever follows
        return True
    for _ in range(limit):
        if not shape:
            return False
        shape = shape.replace(b"[]", b"")
    if shape.count(b"[") != shape.count(b"]"):  # malformed; deep only if a run is
        return b"[" * (limit + 1) in shape
    return bool(shape)


class PlatformRequest(Request[Any, Any, Any]):
    """Litestar's request, with a depth check before the JSON body is decoded."""

    async def json(self) -> Any:
        if json_depth_exceeds(await self.body()):
            raise InvalidInput(
                f"请求的 JSON 嵌套超过 {MAX_JSON_DEPTH} 层或括号不配对 (the JSON body nests"
                f" arrays and objects deeper than {MAX_JSON_DEPTH} levels, or its brackets"
                " do not match).",
                field="body",
            )
        return await super().json()
