"""The hourly sweep of stored files that no row references.

A file enters the blob store before the row that names it commits (a document, an envelope,
an opening record); when that transaction fails, or a process dies between the two, the
file is kept by nobody. Each context declares the columns that name blobs (their SHA-256) in
``app.register_contexts`` with :func:`reference`; every hour the worker removes stored files
older than a day that none of those columns names::

    blob_sweep.reference("bid", "sha256", holds="sealed bid envelopes")
    jobs.register(blob_sweep.sweep_unreferenced_blobs, cron_minute_step=60)

A file is never removed from under a row about to reference it: storing content that is
already there touches the file (``BlobStore.claim``), and the sweep first moves a candidate
out of the store (one rename, so a new upload of the same content writes its own copy),
then checks its age and the references again, and puts it back if either changed. With no
column declared the sweep removes nothing.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tendering.core.blobs import BlobStore

__all__ = [
    "BLOB_REFERENCES",
    "ORPHAN_AGE",
    "BlobReference",
    "reference",
    "referenced",
    "sweep_unreferenced",
    "sweep_unreferenced_blobs",
]

log = logging.getLogger("tendering.blobs")

ORPHAN_AGE = 24 * 3600  # a file unused this long belongs to no write still to commit
_BATCH = 1000
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass(frozen=True, slots=True)
class BlobReference:
    table: str
    column: str
    holds: str  # what the files are, for the reader of the list


BLOB_REFERENCES: dict[tuple[str, str], BlobReference] = {}


def reference(table: str, column: str, *, holds: str) -> None:
    """Declare that ``table.column`` holds the SHA-256 (lowercase hex) of a stored blob."""
    if not (_NAME.match(table) and _NAME.match(column)):
        raise ValueError(f"not a table and column name: {table}.{column}")
    BLOB_REFERENCES[(table, column)] = BlobReference(table, column, holds)


async def referenced(session: AsyncSession, shas: list[str]) -> set[str]:
    """Which of ``shas`` some declared column names (committed rows)."""
    if not shas or not BLOB_REFERENCES:
        return set(shas)  # nothing declared: everything counts as used
    # Names come from the declarations above (checked identifiers), never from input.
    union = " UNION ".join(
        f"SELECT {r.column} AS sha FROM {r.table} WHERE {r.column} = ANY(:shas)"  # noqa: S608
        for r in sorted(BLOB_REFERENCES.values(), key=lambda r: (r.table, r.column))
    )
    rows = await session.execute(text(union), {"shas": shas})
    return {sha for (sha,) in rows}


async def sweep_unreferenced(
    store: BlobStore,
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    now: float | None = None,
    age: int = ORPHAN_AGE,
) -> int:
    """Remove stored files older than ``age`` seconds that no row references; how many."""
    if not BLOB_REFERENCES:
        return 0
    cutoff = (time.time() if now is None else now) - age
    candidates = await asyncio.to_thread(store.stored_before, cutoff)
    removed = 0
    for start in range(0, len(candidates), _BATCH):
        batch = candidates[start : start + _BATCH]
        async with sessionmaker() as session:
            used = await referenced(session, batch)
        for sha in batch:
            if sha not in used and await _remove(store, sessionmaker, sha, cutoff):
                removed += 1
    if removed:
        log.info("removed %d stored files no row references", removed)
    return removed


async def _remove(
    store: BlobStore, sessionmaker: async_sessionmaker[AsyncSession], sha: str, cutoff: float
) -> bool:
    aside = await asyncio.to_thread(store.take_aside, sha)
    if aside is None:
        return False
    async with sessionmaker() as session:
        used = sha in await referenced(session, [sha])
    touched = await asyncio.to_thread(lambda: aside.stat().st_mtime >= cutoff)
    if used or touched:  # claimed since the first look: it stays
        await asyncio.to_thread(store.settle, aside, sha)
        return False
    await asyncio.to_thread(aside.unlink, missing_ok=True)
    return True


async def sweep_unreferenced_blobs(ctx: dict[str, Any]) -> int:
    """The worker's hourly job: :func:`sweep_unreferenced` on the platform's store."""
    return await sweep_unreferenced(BlobStore(ctx["settings"].blob_dir), ctx["sessionmaker"])
