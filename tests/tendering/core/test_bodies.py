"""Request bodies that stall or stop, and the cap on one user's uploads at once.

Each upload here is a raw ASGI call whose body the test sends by hand (a test client sends
whole bodies). The figures (open files under hundreds of stalled uploads) are
``bench/stalled_uploads.py``'s; ``tests/e2e/test_stalled_uploads.py`` checks them over TCP.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import replace
from typing import Any

import pytest

from tendering.core.auth.models import Role
from tendering.core.deps import platform_of

pytestmark = pytest.mark.committed  # uploads run side by side, each with its own session

IDLE_SECONDS = 1
PER_USER = 2
WAIT_SECONDS = 10  # far beyond the idle limit: a body read without one never ends


@pytest.fixture
def settings(settings):
    return replace(settings, upload_idle_seconds=IDLE_SECONDS, uploads_per_user=PER_USER)


class Upload:
    """A ``POST`` (a bank statement by default) as a raw ASGI call; the test feeds its body."""

    def __init__(
        self,
        app: Any,
        headers: dict[str, str],
        *,
        path: str = "/api/ledger/statements",
        media_type: str = "text/csv",
    ) -> None:
        self.app = app
        self.path = path
        self.headers = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        self.headers.append((b"content-type", media_type.encode()))
        self.incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.status: int | None = None
        self.response_headers: dict[str, str] = {}
        self.body = b""
        self.task: asyncio.Task[None] | None = None

    def start(self) -> Upload:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": self.path,
            "raw_path": self.path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": self.headers,
            "client": ("127.0.0.1", 40000),
            "server": ("testserver", 80),
            "state": {},
        }
        self.task = asyncio.create_task(self.app(scope, self.incoming.get, self._send))
        return self

    async def _send(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.response_headers = {k.decode(): v.decode() for k, v in message["headers"]}
        elif message["type"] == "http.response.body":
            self.body += message.get("body", b"")

    def send(self, data: bytes, *, more: bool = True) -> Upload:
        self.incoming.put_nowait({"type": "http.request", "body": data, "more_body": more})
        return self

    def leave(self) -> None:
        self.incoming.put_nowait({"type": "http.disconnect"})

    async def answer(self) -> tuple[int, dict[str, Any]]:
        if self.task is None:
            raise RuntimeError("start() it first")
        await asyncio.wait_for(self.task, WAIT_SECONDS)
        if self.status is None:
            raise AssertionError("the app sent no response")
        return self.status, json.loads(self.body or b"{}")


CSV_HEAD = b"value_date,amount_fen,account,payer_name,reference\n"


async def _until(condition: Any, seconds: float = WAIT_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the condition never came true"
        await asyncio.sleep(0.01)


async def test_a_body_that_stops_sending_is_refused_after_the_idle_limit(app, people, login):
    staff = await login(await people.user(Role.STAFF))
    upload = Upload(app, staff).start().send(CSV_HEAD)  # ... and nothing more
    started = time.monotonic()
    status, body = await upload.answer()
    assert status == 408
    assert body["code"] == "request.body_stalled"
    assert time.monotonic() - started >= IDLE_SECONDS


async def test_every_body_has_the_idle_limit_a_stalled_login_too(app):
    login = Upload(app, {}, path="/api/auth/login", media_type="application/json")
    status, body = await login.start().send(b'{"username": "clerk", ').answer()
    assert status == 408
    assert body["code"] == "request.body_stalled"


async def test_a_client_that_leaves_mid_body_is_a_4xx_event_not_a_500(app, people, login, caplog):
    staff = await login(await people.user(Role.STAFF))
    upload = Upload(app, staff).start().send(CSV_HEAD)
    await asyncio.sleep(0.05)
    with caplog.at_level(logging.INFO):
        upload.leave()
        status, body = await upload.answer()
    assert status == 400
    assert body["code"] == "request.client_gone"
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    gone = [r for r in caplog.records if "request.client_gone" in r.getMessage()]
    assert [r.levelno for r in gone] == [logging.WARNING]


async def test_one_user_may_send_only_so_many_uploads_at_once(app, people, login):
    person = await people.user(Role.STAFF)
    staff = await login(person)
    other = await login(await people.user(Role.STAFF))
    slots = platform_of(app.state).uploads
    stalled = [Upload(app, staff).start().send(CSV_HEAD) for _ in range(PER_USER)]
    await _until(lambda: slots.sending(person.user.id) == PER_USER)

    one_more = Upload(app, staff).start().send(CSV_HEAD, more=False)
    status, body = await one_more.answer()
    assert status == 429
    assert body["code"] == "upload.too_many"
    assert int(one_more.response_headers["retry-after"]) > 0
    # Someone else's upload is not counted against them.
    status, body = await Upload(app, other).start().send(CSV_HEAD, more=False).answer()
    assert status not in (429, 408)

    assert [(await s.answer())[0] for s in stalled] == [408] * PER_USER
    assert slots.sending(person.user.id) == 0
    status, _ = await Upload(app, staff).start().send(CSV_HEAD, more=False).answer()
    assert status not in (429, 408)
