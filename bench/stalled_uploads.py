"""Stalled uploads against the real server: how they are answered, and its open files.

    .venv/bin/python bench/stalled_uploads.py [--users 50] [--per-user 8] [--idle 5]

Starts the real ``tendering serve`` on a scratch database with
``TENDERING_UPLOAD_IDLE_SECONDS=--idle`` and ``TENDERING_UPLOADS_PER_USER=6`` (the default).
Each of ``--users`` staff users opens ``--per-user`` bank-statement uploads over raw TCP,
each announcing 1 MB and sending its first bytes only, then nothing. Prints the server's
open files (``/proc/<pid>/fd``) idle, while the uploads stall, and after they are answered,
with how each was answered (408 ``request.body_stalled`` after the idle limit; 429
``upload.too_many`` at once beyond a user's cap) and when the last answer came.

Before the idle limit, 300 stalled uploads held 627 open files until the clients gave up.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ANNOUNCED = 1_000_000
FIRST_BYTES = b"value_date,amount_fen,account,payer_name,reference\n"


async def _tokens(database_url: str, users: int) -> list[str]:
    from tests.conftest import TEST_PASSWORD, People

    from tendering.core.auth.models import Role
    from tendering.core.auth.passwords import hash_password
    from tendering.core.auth.tokens import issue_token
    from tendering.core.db import make_engine, make_sessionmaker

    engine = make_engine(database_url, pool_size=1)
    try:
        people = People(engine, hash_password(TEST_PASSWORD))
        tokens = []
        for _ in range(users):
            person = await people.user(Role.STAFF)
            async with make_sessionmaker(engine)() as session, session.begin():
                token, _ = await issue_token(session, user_id=person.user.id, hours=1)  # type: ignore[arg-type]
            tokens.append(token)
        return tokens
    finally:
        await engine.dispose()


async def _stalled_upload(
    port: int, token: str, answers: list[tuple[int, float]], t0: float
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = (
        "POST /api/ledger/statements HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {token}\r\n"
        "Content-Type: text/csv\r\n"
        f"Content-Length: {ANNOUNCED}\r\n\r\n"
    )
    writer.write(head.encode() + FIRST_BYTES)
    await writer.drain()
    try:
        status_line = await reader.readline()
        status = int(status_line.split()[1]) if status_line else 0  # 0: closed, no answer
    except (ConnectionError, IndexError, ValueError):
        status = 0
    answers.append((status, time.perf_counter() - t0))
    writer.close()
    with contextlib.suppress(ConnectionError):
        await writer.wait_closed()


async def run(port: int, pid: int, tokens: list[str], args: Any) -> None:
    from bench._platform import open_files

    await asyncio.sleep(args.settle)  # let the start-up settle
    idle = open_files(pid)
    answers: list[tuple[int, float]] = []
    t0 = time.perf_counter()
    tasks = [
        asyncio.create_task(_stalled_upload(port, token, answers, t0))
        for token in tokens
        for _ in range(args.per_user)
    ]
    await asyncio.sleep(min(1.0, args.idle / 2))  # all sent; the refusals at once are in
    stalled = open_files(pid)
    refused_at_once = len(answers)
    await asyncio.gather(*tasks)
    last = max(t for _, t in answers)
    await asyncio.sleep(args.settle)  # the server closes what it answered
    after = open_files(pid)
    counts = Counter(status for status, _ in answers)
    print(
        f"{len(tasks)} stalled uploads ({len(tokens)} users x {args.per_user}),"
        f" idle limit {args.idle} s, {args.cap} per user"
    )
    print(f"server open files: idle {idle}, stalled {stalled}, after {after}")
    print(
        f"answers: {dict(sorted(counts.items()))}; {refused_at_once} at once,"
        f" all within {last:.1f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--per-user", type=int, default=8)
    parser.add_argument("--idle", type=int, default=5)
    parser.add_argument("--cap", type=int, default=6)
    parser.add_argument(
        "--settle",
        type=float,
        default=1.0,
        help="seconds before counting open files idle, and again after the answers",
    )
    args = parser.parse_args()
    from bench._platform import serving

    settings = {
        "TENDERING_UPLOAD_IDLE_SECONDS": str(args.idle),
        "TENDERING_UPLOADS_PER_USER": str(args.cap),
    }
    with serving(settings) as served:
        tokens = asyncio.run(_tokens(served.database_url, args.users))
        port = int(served.url.rsplit(":", 1)[1])
        asyncio.run(run(port, served.pid, tokens, args))


if __name__ == "__main__":
    main()
