"""The checkpoint job: signs moved heads once, never a broken chain; runs in the arq worker."""

from __future__ import annotations

import base64

import pytest
from arq.constants import job_key_prefix, result_key_prefix
from arq.worker import Worker
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import text

from tendering.app import register_contexts
from tendering.core.audit.jobs import checkpoint_streams
from tendering.core.jobs import WorkerSettings, connect_queue, enqueue
from tendering.core.signing import load_platform_key


async def checkpoints(chain):
    async with chain.maker() as session:
        rows = await session.execute(
            text("SELECT stream, seq, hash, signature FROM audit_checkpoint ORDER BY stream, seq")
        )
        return rows.all()


async def test_checkpoints_are_signed_once_per_moved_head(chain, key):
    ctx = {"sessionmaker": chain.maker, "platform_key": key}
    await chain.append("global", 3)
    await chain.append("lot:C-1", 2)
    assert await checkpoint_streams(ctx) == 2
    assert await checkpoint_streams(ctx) == 0  # idempotent: nothing moved
    await chain.append("lot:C-1", 1, start=3)
    assert await checkpoint_streams(ctx) == 1
    rows = await checkpoints(chain)
    assert [(r.stream, r.seq) for r in rows] == [("global", 3), ("lot:C-1", 2), ("lot:C-1", 3)]
    # An auditor checks a signature with the public key alone.
    public = Ed25519PublicKey.from_public_bytes(key.public_raw)
    for row in rows:
        message = f'{{"hash":"{row.hash}","seq":{row.seq},"stream":"{row.stream}"}}'.encode()
        public.verify(base64.b64decode(row.signature), message)  # raises if forged


async def test_a_broken_chain_is_not_signed_and_others_still_are(chain, key):
    ctx = {"sessionmaker": chain.maker, "platform_key": key}
    await chain.append("lot:OK", 2)
    await chain.append("lot:BAD", 3)
    assert await checkpoint_streams(ctx) == 2
    await chain.append("lot:OK", 1, start=3)
    await chain.append("lot:BAD", 2, start=4)
    await chain.sql("UPDATE audit_event SET actor = 'user:0' WHERE stream = 'lot:BAD' AND seq = 4")
    run = await chain.checkpoint()
    assert run.signed == [("lot:OK", 3)]
    assert [(r.stream, r.first_bad_seq) for r in run.refused] == [("lot:BAD", 4)]


async def test_a_forged_last_checkpoint_is_not_built_upon(chain, key):
    await chain.append("lot:F", 2)
    await chain.checkpoint()
    await chain.sql("UPDATE audit_checkpoint SET signature = 'AAAA' WHERE stream = 'lot:F'")
    await chain.append("lot:F", 1, start=3)
    run = await chain.checkpoint()
    assert run.signed == [] and run.refused[0].first_bad_seq == 2


@pytest.mark.committed
async def test_the_worker_runs_the_job_from_the_queue(chain, settings):
    register_contexts()
    await chain.append("global", 2)
    queue = await connect_queue(settings)
    try:
        assert await enqueue(queue, "checkpoint_streams", key="test") is not None
        worker = Worker(**WorkerSettings.build(settings), burst=True, handle_signals=False)
        try:
            await worker.main()
        finally:
            await worker.close()
        assert worker.jobs_complete >= 1 and worker.jobs_failed == 0
    finally:
        # Only this job's keys: other test runs share the Redis server.
        job_id = f"{settings.queue_name}:checkpoint_streams:test"
        await queue.delete(result_key_prefix + job_id, job_key_prefix + job_id)
        await queue.aclose()
    [row] = await checkpoints(chain)
    assert (row.stream, row.seq) == ("global", 2)
    signer = load_platform_key(settings)  # the worker signed with the platform's own key
    Ed25519PublicKey.from_public_bytes(signer.public_raw).verify(
        base64.b64decode(row.signature),
        f'{{"hash":"{row.hash}","seq":2,"stream":"global"}}'.encode(),
    )
