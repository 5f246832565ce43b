"""A migrated scratch database for a benchmark, copied from a template when there is one.

Light on purpose (no app, no test builders): every benchmark that makes a database imports it.
"""

from __future__ import annotations

import asyncio
import os

import asyncpg


def database_name(url: str) -> str:
    """The database a postgresql:// URL names."""
    return url.partition("?")[0].rpartition("/")[2]


async def create_migrated(admin: asyncpg.Connection, name: str, url: str) -> None:
    """Database ``name`` (``url``: its asyncpg URL) with the schema of the migrations: a copy
    of ``BENCH_TEMPLATE_DATABASE`` when that names a migrated database nobody is connected to
    (the test suite's, whose benchmark checks would otherwise migrate a database each), else
    migrated here."""
    template = os.environ.get("BENCH_TEMPLATE_DATABASE")
    if template:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return
    from tendering.core.migrate import upgrade  # alembic: half a second to import, unused above

    await admin.execute(f'CREATE DATABASE "{name}"')
    await asyncio.to_thread(upgrade, url)
