"""Stalled and abandoned uploads over real TCP, against ``tendering serve``: each is
answered and its socket and files are let go. The figures (hundreds of stalled uploads)
are ``bench/stalled_uploads.py``'s."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import httpx
import pytest

from tendering.core.auth.models import Role
from tests.conftest import TEST_PASSWORD, People
from tests.e2e.conftest import UPLOAD_IDLE_SECONDS, UPLOADS_PER_USER

USERS = 3
ANSWER_SECONDS = 30  # far beyond the idle limit: without one, a stalled upload never ends


def _open_files(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


async def _tokens(url: str, people: People, count: int) -> list[str]:
    tokens = []
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        for _ in range(count):
            person = await people.user(Role.STAFF)
            response = await client.post(
                "/api/auth/login", json={"username": person.username, "password": TEST_PASSWORD}
            )
            assert response.status_code == 200, response.text
            tokens.append(response.json()["token"])
        # As many requests at once as the stall makes, so that the database pool already
        # holds the connections they need: the count after is then comparable.
        me = [
            client.get("/api/auth/me", headers={"Authorization": f"Bearer {t}"})
            for t in tokens * (UPLOADS_PER_USER + 1)
        ]
        assert {r.status_code for r in await asyncio.gather(*me)} == {200}
    return tokens


async def _stalled_upload(port: int, token: str, *, leave: bool = False) -> int:
    """An upload announcing 1 MB that sends its first bytes only; the answer's status (0
    when the connection closed without one). ``leave``: close it instead of waiting."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        (
            "POST /api/ledger/statements HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
            "Content-Type: text/csv\r\nContent-Length: 1000000\r\n\r\n"
            "value_date,amount_fen,account,payer_name,reference\n"
        ).encode()
    )
    await writer.drain()
    if leave:
        await asyncio.sleep(0.3)  # the request has reached the handler's body read
        writer.close()
        return 0
    try:
        line = await asyncio.wait_for(reader.readline(), ANSWER_SECONDS)
    finally:
        writer.close()
    return int(line.split()[1]) if line else 0


async def _settled(pid: int, at_most: int, seconds: float = 10.0) -> int:
    """The server's open files once they are down to ``at_most`` (or after ``seconds``)."""
    count = _open_files(pid)
    for _ in range(int(seconds / 0.1)):
        if count <= at_most:
            break
        await asyncio.sleep(0.1)
        count = _open_files(pid)
    return count


@pytest.mark.timeout(300)
async def test_stalled_uploads_are_answered_and_their_files_let_go(
    strict_upload_platform, engine, password_hash
):
    live = strict_upload_platform
    port = int(live.url.rsplit(":", 1)[1])
    tokens = await _tokens(live.url, People(engine, password_hash), USERS)
    idle = await _settled(live.process.pid, at_most=0, seconds=0.5)

    uploads = [
        asyncio.create_task(_stalled_upload(port, token))
        for token in tokens
        for _ in range(UPLOADS_PER_USER + 1)
    ]
    await asyncio.sleep(UPLOAD_IDLE_SECONDS / 2)
    stalled = _open_files(live.process.pid)
    answers = sorted(await asyncio.gather(*uploads))

    assert answers == [408] * (USERS * UPLOADS_PER_USER) + [429] * USERS
    assert stalled >= idle + USERS * UPLOADS_PER_USER  # each stalled upload held a socket
    after = await _settled(live.process.pid, at_most=idle)
    assert after <= idle, f"open files: {idle} idle, {stalled} stalled, {after} after"


@pytest.mark.timeout(300)
async def test_a_client_that_leaves_mid_upload_is_logged_at_the_4xx_level(
    strict_upload_platform, engine, password_hash
):
    live = strict_upload_platform
    port = int(live.url.rsplit(":", 1)[1])
    [token] = await _tokens(live.url, People(engine, password_hash), 1)
    log = Path(live.log)
    start = log.stat().st_size  # the server is the module's: what it logs from here on
    await _stalled_upload(port, token, leave=True)

    def logged() -> str:
        with log.open(encoding="utf-8", errors="replace") as file:
            file.seek(start)
            return file.read()

    for _ in range(50):
        if "request.client_gone" in logged():
            break
        await asyncio.sleep(0.1)
    text = logged()
    gone = [line for line in text.splitlines() if "request.client_gone" in line]
    assert len(gone) == 1
    assert gone[0].startswith("WARNING")
    assert "POST /api/ledger/statements: 400 request.client_gone" in gone[0]
    assert "ERROR" not in text
    assert "HTTP 500" not in text
