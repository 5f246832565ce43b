"""Request bodies that stop, clients that leave, and how many uploads one user sends at once.

A body that stops arriving held its request, its socket and its open files forever (300
stalled uploads: 627 open files). So:

- :class:`BodyReads` (ASGI middleware) gives every read of a request body an idle limit
  (``TENDERING_UPLOAD_IDLE_SECONDS``): a body that sends nothing for that long ends its
  request with 408 ``request.body_stalled`` (:class:`RequestTimeout`), which frees what the
  handler held (a staged file is discarded as on any error). A client that closes the
  connection before its body is complete ends it with :class:`ClientGone` (400
  ``request.client_gone``): the client's doing, logged as such, never a 500.
- :class:`UploadSlots` caps the uploads one user sends at once to one process
  (``TENDERING_UPLOADS_PER_USER``); one more is refused at once with 429 ``upload.too_many``
  before its body is read. Upload routes take the ``upload_slot`` dependency
  (``core/deps.py``), which holds a slot for the request's life.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, ReceiveMessage, Scope, Send

from tendering.core.errors import ClientGone, ErrorCode, RequestTimeout, TooManyRequests

__all__ = ["UPLOAD_RETRY_SECONDS", "BodyReads", "UploadSlots"]

UPLOAD_RETRY_SECONDS = 5


class BodyReads:
    """ASGI middleware: an idle limit on each read of an HTTP request's body, and
    :class:`ClientGone` when the client leaves before the body ends (see the module)."""

    def __init__(self, app: ASGIApp, *, idle_seconds: float) -> None:
        self.app = app
        self.idle_seconds = idle_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        body_done = False
        idle = self.idle_seconds

        async def receive_body() -> ReceiveMessage:
            nonlocal body_done
            if body_done:  # after the body, a read waits for the disconnect: no limit
                return await receive()
            try:
                async with asyncio.timeout(idle):
                    message = await receive()
            except TimeoutError:
                raise RequestTimeout(
                    f"请求内容停止发送超过 {idle:g} 秒 (the request body sent nothing for"
                    f" {idle:g} seconds; the upload was dropped: send it again).",
                ) from None
            if message["type"] == "http.disconnect":
                raise ClientGone(
                    "The client closed the connection before the request body was complete.",
                )
            if not message.get("more_body", False):
                body_done = True
            return message

        await self.app(scope, receive_body, send)


class UploadSlots:
    """How many uploads each user is sending to this process; at most ``per_user`` each.

    Counted per process (each ``serve`` process bounds its own sockets and files), on the
    event loop's thread only."""

    def __init__(self, *, per_user: int) -> None:
        self.per_user = per_user
        self._sending: Counter[Any] = Counter()

    def sending(self, user: Any) -> int:
        return self._sending[user]

    @contextmanager
    def hold(self, user: Any) -> Iterator[None]:
        """One slot of ``user``'s for the ``with`` block; 429 ``upload.too_many`` when all
        are taken."""
        if self._sending[user] >= self.per_user:
            raise TooManyRequests(
                f"同时上传的文件过多 (you are already sending {self.per_user} uploads at once;"
                " wait for one to finish).",
                retry_after=UPLOAD_RETRY_SECONDS,
                code=ErrorCode.UPLOAD_TOO_MANY,
            )
        self._sending[user] += 1
        try:
            yield
        finally:
            self._sending[user] -= 1
            if not self._sending[user]:
                del self._sending[user]
