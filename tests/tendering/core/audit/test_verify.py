"""Tampering with the tables by raw SQL is caught, at the right first bad seq."""

from __future__ import annotations

import base64

import pytest

from tendering.core.audit.chain import checkpoint_message
from tendering.core.audit.verify import verify_streams
from tendering.core.errors import NotFound

S = "lot:T-1"


@pytest.fixture
async def five(chain):
    """Stream S with seq 1..5, checkpointed at 5, and an untouched neighbour stream."""
    await chain.append(S, 5)
    await chain.append("global", 2)
    run = await chain.checkpoint()
    assert sorted(run.signed) == [("global", 2), (S, 5)]
    return chain


async def first_bad(chain, stream=S, **kw):
    reports = await chain.verify(**kw)
    assert reports["global"].ok, reports["global"].reason  # the neighbour is unaffected
    report = reports[stream]
    assert not report.ok
    return report.first_bad_seq, report.reason


async def test_an_untouched_chain_verifies(five):
    reports = await five.verify()
    assert all(r.ok for r in reports.values())
    assert (reports[S].events, reports[S].head_seq, reports[S].last_checkpoint_seq) == (5, 5, 5)


async def test_an_edited_payload_is_caught_at_its_seq(five):
    await five.sql(
        """UPDATE audit_event SET payload = jsonb_set(payload, '{金额_fen}', '1')
        WHERE stream = :s AND seq = 3""",
        s=S,
    )
    seq, reason = await first_bad(five)
    assert seq == 3 and "was edited" in reason


async def test_an_edited_time_is_caught_at_its_seq(five):
    await five.sql(
        "UPDATE audit_event SET at = at - interval '1 microsecond' WHERE stream = :s AND seq = 2",
        s=S,
    )
    assert (await first_bad(five))[0] == 2


async def test_an_edited_actor_or_action_is_caught(five):
    await five.sql("UPDATE audit_event SET actor = 'user:999' WHERE stream = :s AND seq = 4", s=S)
    await five.sql("UPDATE audit_event SET action = 'x.y' WHERE stream = :s AND seq = 5", s=S)
    assert (await first_bad(five))[0] == 4


async def test_a_float_put_into_the_payload_is_caught(five):
    await five.sql(
        """UPDATE audit_event SET payload = payload || '{"x": 1.5}'
        WHERE stream = :s AND seq = 1""",
        s=S,
    )
    seq, reason = await first_bad(five)
    assert seq == 1 and "whole numbers" in reason


async def test_a_deleted_middle_row_is_caught_at_the_gap(five):
    await five.sql("DELETE FROM audit_event WHERE stream = :s AND seq = 3", s=S)
    seq, reason = await first_bad(five)
    assert seq == 3 and "seq 3 missing" in reason


async def test_a_deleted_last_row_is_caught_by_the_head(five):
    await five.sql("DELETE FROM audit_event WHERE stream = :s AND seq = 5", s=S)
    seq, reason = await first_bad(five)
    assert seq == 5 and "deleted" in reason


async def test_a_deleted_last_row_with_a_moved_back_head_is_caught_by_the_checkpoint(five):
    await five.sql("DELETE FROM audit_event WHERE stream = :s AND seq = 5", s=S)
    await five.sql(
        """UPDATE audit_stream SET seq = 4,
        hash = (SELECT hash FROM audit_event WHERE stream = :s AND seq = 4) WHERE stream = :s""",
        s=S,
    )
    seq, reason = await first_bad(five)
    assert seq == 5 and "signed a checkpoint at seq 5" in reason


async def test_swapped_rows_are_caught_at_the_lower_seq(five):
    for old, new in ((2, -2), (4, 2), (-2, 4)):  # the primary key is checked per statement
        await five.sql(
            "UPDATE audit_event SET seq = :new WHERE stream = :s AND seq = :old",
            s=S,
            old=old,
            new=new,
        )
    seq, reason = await first_bad(five)
    assert seq == 2 and "prev_hash" in reason


async def test_a_broken_link_is_caught_even_when_the_row_hash_was_recomputed(five):
    await five.sql(
        "UPDATE audit_event SET prev_hash = repeat('0', 64) WHERE stream = :s AND seq = 2", s=S
    )
    seq, reason = await first_bad(five)
    assert seq == 2 and "links to prev_hash" in reason


async def test_a_forged_checkpoint_signature_is_caught_at_its_seq(five):
    forged = base64.b64encode(bytes(64)).decode()
    await five.sql(
        "UPDATE audit_checkpoint SET signature = :sig WHERE stream = :s AND seq = 5",
        sig=forged,
        s=S,
    )
    seq, reason = await first_bad(five)
    assert seq == 5 and "not the platform's" in reason


async def test_a_checkpoint_signed_by_another_key_is_forged(five, chain):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    other = Ed25519PrivateKey.generate()
    row = (await five.verify(S))[S]
    assert row.ok
    message = checkpoint_message(stream=S, seq=3, hash_hex="ab" * 32)
    await five.sql(
        "INSERT INTO audit_checkpoint (stream, seq, hash, signature) VALUES (:s, 3, :h, :sig)",
        s=S,
        h="ab" * 32,
        sig=base64.b64encode(other.sign(message)).decode(),
    )
    seq, reason = await first_bad(five)
    assert seq == 3 and "not the platform's" in reason


async def test_a_rewritten_chain_is_caught_by_the_signed_hash(five):
    # The administrator rewrites seq 4 and 5 with their own valid hashes and head, but cannot
    # re-sign the checkpoint: the signed hash of seq 5 no longer matches.
    from tendering.core.audit.chain import event_hash
    from tendering.core.clock import rfc3339

    async with five.maker() as session:
        from sqlalchemy import text

        rows = (
            (
                await session.execute(
                    text("SELECT * FROM audit_event WHERE stream = :s ORDER BY seq"), {"s": S}
                )
            )
            .mappings()
            .all()
        )
    prev = bytes.fromhex(rows[2]["hash"])
    for row in rows[3:]:
        payload = {**row["payload"], "金额_fen": 1}
        digest = event_hash(
            prev,
            stream=S,
            seq=row["seq"],
            action=row["action"],
            actor=row["actor"],
            at=rfc3339(row["at"]),
            payload=payload,
        )
        await five.sql(
            """UPDATE audit_event SET payload = CAST(:p AS jsonb), prev_hash = :prev, hash = :h
            WHERE stream = :s AND seq = :seq""",
            p=__import__("json").dumps(payload),
            prev=prev.hex(),
            h=digest.hex(),
            s=S,
            seq=row["seq"],
        )
        prev = digest
    await five.sql("UPDATE audit_stream SET hash = :h WHERE stream = :s", h=prev.hex(), s=S)
    seq, reason = await first_bad(five)
    assert seq == 5 and "rewritten after signing" in reason


async def test_rows_beyond_the_head_are_caught(five):
    await five.sql(
        """INSERT INTO audit_event (stream, seq, action, actor, at, payload, prev_hash, hash)
        SELECT stream, 6, action, actor, at, payload, hash, repeat('1', 64)
        FROM audit_event WHERE stream = :s AND seq = 5""",
        s=S,
    )
    seq, _ = await first_bad(five)
    assert seq == 6


async def test_a_deleted_stream_leaves_its_checkpoints_as_witnesses(five):
    await five.sql("DELETE FROM audit_event WHERE stream = :s", s=S)
    await five.sql("DELETE FROM audit_stream WHERE stream = :s", s=S)
    assert (await first_bad(five))[0] == 5


async def test_long_streams_are_read_in_pages(five):
    await five.sql("DELETE FROM audit_event WHERE stream = :s AND seq = 4", s=S)
    for size in (1, 2, 3, 5, 1000):
        report = (await five.verify(S, batch_size=size))[S]
        assert (report.first_bad_seq, report.events) == (4, 4), size


async def test_an_unknown_stream_is_not_found(five):
    with pytest.raises(NotFound, match="no audit stream"):
        await five.verify("lot:NOPE")


@pytest.mark.committed
async def test_verification_reads_one_snapshot_while_appends_go_on(chain):
    await chain.append("global", 1)
    await chain.append("lot:Z", 3)
    async with chain.maker() as session:
        reports = verify_streams(session, public_key=chain.key.public_raw)
        first = await anext(reports)
        # Meanwhile the platform appends and signs: none of it is in the snapshot.
        await chain.append("lot:Z", 2, start=4)
        await chain.checkpoint()
        rest = [report async for report in reports]
    assert first.stream == "global"
    [z] = rest
    assert (z.stream, z.ok, z.events, z.head_seq, z.checkpoints) == ("lot:Z", True, 3, 3, 0)
