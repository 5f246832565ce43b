"""A draw's steps through the shared registry: order, witness, chain events, sealing."""

from __future__ import annotations

import asyncio
import hashlib

import pytest
from sqlalchemy import text

from tendering.core.audit.service import list_events
from tendering.core.canonical import canonical_json
from tendering.core.db import make_engine, make_sessionmaker
from tendering.core.draw import derive_seed, sign_transcript, verify_transcript
from tendering.core.draws import (
    DrawKind,
    DrawState,
    chain_values,
    draw_pools,
    fix_draw_pools,
    list_draws,
    make_draw,
    next_draw_code,
    read_transcript,
    release_draw,
    schedule_draw,
)
from tendering.core.draws.checks import check_document, check_stored
from tendering.core.errors import Conflict, Forbidden, InvalidInput
from tendering.core.pagination import LimitOffset

from .conftest import actor_of, categories


async def _scheduled(session, cast, secrecy, *, sealed: bool = True, code: str | None = None):
    code = code or await next_draw_code(session, "ED")
    return await schedule_draw(
        session,
        secrecy=secrecy,
        kind=DrawKind.EXPERTS,
        code=code,
        subject="lot:L-2026-001",
        title="县第一中学教学楼 评标专家抽取",
        witness_id=cast.witness.user.id,
        actor=cast.staff_actor,
        sealed=sealed,
    )


async def _drawn(session, cast, secrecy, key, **options):
    view = await _scheduled(session, cast, secrecy, **options)
    await fix_draw_pools(
        session, secrecy=secrecy, code=view.code, categories=categories(), actor=cast.staff_actor
    )
    signed = await make_draw(
        session,
        secrecy=secrecy,
        key=key,
        code=view.code,
        witness_entropy="赵红 7391 晴",
        actor=cast.witness_actor,
    )
    return view.code, signed


async def test_codes_count_up_per_prefix_and_year(session, cast, secrecy):
    first = await _scheduled(session, cast, secrecy)
    second = await _scheduled(session, cast, secrecy)
    year = first.code.split("-")[1]
    assert (first.code, second.code) == (f"ED-{year}-0001", f"ED-{year}-0002")
    assert await next_draw_code(session, "AG") == f"AG-{year}-0001"


async def test_the_chain_publishes_commitment_then_pool_hash_then_the_transcript_hash(
    session, cast, secrecy, key
):
    code, signed = await _drawn(session, cast, secrecy, key)
    events = await list_events(session, stream=f"draw:{code}")
    assert [e["action"] for e in events] == ["draw.scheduled", "draw.pools_fixed", "draw.drawn"]
    assert events[0]["payload"]["commitment"] == signed["commitment"]
    assert events[1]["payload"]["pool_hash"] == signed["pool_hash"]
    assert (
        events[2]["payload"]["transcript_sha256"]
        == hashlib.sha256(canonical_json(signed)).hexdigest()
    )
    assert (
        events[2]["payload"]["entropy_sha256"]
        == hashlib.sha256("赵红 7391 晴".encode()).hexdigest()
    )
    # Nothing in the chain names a pick or the secret before the release.
    chain_text = str([e["payload"] for e in events])
    assert signed["server_secret"] not in chain_text
    assert all(p not in chain_text for c in signed["categories"] for p in c["picks"])
    assert verify_transcript(signed, key.public_raw).ok
    assert await chain_values(session, code) == {
        "commitment": signed["commitment"],
        "pool_hash": signed["pool_hash"],
        "transcript_sha256": events[2]["payload"]["transcript_sha256"],
    }


async def test_a_sealed_draw_keeps_secret_pools_and_transcript_out_of_the_table(
    session, cast, secrecy, key
):
    code, signed = await _drawn(session, cast, secrecy, key)
    row = (await session.execute(text("SELECT * FROM draw WHERE code = :c"), {"c": code})).one()
    stored = " ".join(str(v) for v in row)
    assert signed["server_secret"] not in stored
    assert "E-0001" not in stored and "E-9000" not in stored
    assert row.published is None
    opened = await draw_pools(session, secrecy=secrecy, code=code)
    assert [c.category for c in opened] == ["A0801", "A0802"]


async def test_only_the_witness_enters_entropy_and_only_after_the_pools_are_fixed(
    session, cast, secrecy, key
):
    view = await _scheduled(session, cast, secrecy)
    with pytest.raises(Conflict) as early:
        await make_draw(
            session,
            secrecy=secrecy,
            key=key,
            code=view.code,
            witness_entropy="x",
            actor=cast.witness_actor,
        )
    assert early.value.code == "draw.state"
    await fix_draw_pools(
        session, secrecy=secrecy, code=view.code, categories=categories(), actor=cast.staff_actor
    )
    for intruder in (cast.staff, cast.other_supervisor):
        with pytest.raises(Forbidden) as refused:
            await make_draw(
                session,
                secrecy=secrecy,
                key=key,
                code=view.code,
                witness_entropy="x",
                actor=actor_of(intruder),
            )
        assert refused.value.code == "draw.not_witness"
    with pytest.raises(InvalidInput, match="witness_entropy"):
        await make_draw(
            session,
            secrecy=secrecy,
            key=key,
            code=view.code,
            witness_entropy="  ",
            actor=cast.witness_actor,
        )
    await make_draw(
        session,
        secrecy=secrecy,
        key=key,
        code=view.code,
        witness_entropy="x",
        actor=cast.witness_actor,
    )
    with pytest.raises(Conflict):  # once only
        await make_draw(
            session,
            secrecy=secrecy,
            key=key,
            code=view.code,
            witness_entropy="y",
            actor=cast.witness_actor,
        )


async def test_pools_are_fixed_once(session, cast, secrecy):
    view = await _scheduled(session, cast, secrecy)
    await fix_draw_pools(
        session, secrecy=secrecy, code=view.code, categories=categories(), actor=cast.staff_actor
    )
    with pytest.raises(Conflict):
        await fix_draw_pools(
            session,
            secrecy=secrecy,
            code=view.code,
            categories=categories()[:1],
            actor=cast.staff_actor,
        )


async def test_the_witness_must_be_an_active_supervisor(session, cast, secrecy):
    with pytest.raises(InvalidInput) as refused:
        await schedule_draw(
            session,
            secrecy=secrecy,
            kind=DrawKind.EXPERTS,
            code="ED-X-1",
            subject="lot:L",
            title="t",
            witness_id=cast.other_staff.user.id,
            actor=cast.staff_actor,
        )
    assert refused.value.field == "witness_id"


async def test_a_code_is_used_once(session, cast, secrecy):
    await _scheduled(session, cast, secrecy, code="ED-2026-0100")
    with pytest.raises(Conflict) as taken:
        await _scheduled(session, cast, secrecy, code="ED-2026-0100")
    assert taken.value.code == "draw.duplicate"


async def test_a_sealed_transcript_is_for_the_runner_and_the_witness_until_released(
    session, cast, secrecy, key
):
    code, signed = await _drawn(session, cast, secrecy, key)
    for allowed in (cast.staff, cast.witness):
        assert (
            await read_transcript(session, secrecy=secrecy, code=code, actor=actor_of(allowed))
            == signed
        )
    for outsider in (cast.other_staff, cast.other_supervisor):
        with pytest.raises(Forbidden) as sealed:
            await read_transcript(session, secrecy=secrecy, code=code, actor=actor_of(outsider))
        assert sealed.value.code == "draw.sealed"
    view = await release_draw(session, secrecy=secrecy, code=code, actor=cast.staff_actor)
    assert view.state == DrawState.RELEASED
    again = await release_draw(session, secrecy=secrecy, code=code, actor=cast.staff_actor)
    assert again.released_at == view.released_at
    assert (
        await read_transcript(
            session, secrecy=secrecy, code=code, actor=actor_of(cast.other_supervisor)
        )
        == signed
    )
    events = await list_events(session, stream=f"draw:{code}")
    assert [e["action"] for e in events][-1] == "draw.released"
    assert events[-1]["payload"]["server_secret"] == signed["server_secret"]


async def test_an_unsealed_draw_is_published_when_drawn(session, cast, secrecy, key):
    code, signed = await _drawn(session, cast, secrecy, key, sealed=False)
    assert (
        await read_transcript(session, secrecy=secrecy, code=code, actor=actor_of(cast.other_staff))
        == signed
    )


async def test_the_stored_transcript_and_a_handed_in_one_check_against_the_chain(
    session, cast, secrecy, key
):
    code, signed = await _drawn(session, cast, secrecy, key)
    stored = await check_stored(
        session, secrecy=secrecy, key=key, code=code, actor=cast.witness_actor
    )
    assert stored.ok, stored.problems
    assert (await check_document(session, key=key, document=signed)).ok
    # A whole new draw, signed by the platform but never published in the chain.
    forged = dict(signed, server_secret="11" * 32)
    forged["commitment"] = hashlib.sha256(bytes.fromhex(forged["server_secret"])).hexdigest()
    forged["seed"] = derive_seed(bytes([0x11] * 32), forged["witness_entropy"]).hex()
    check = await check_document(session, key=key, document=sign_transcript(forged, key))
    assert not check.ok
    assert any("differs from the one the audit chain published" in p for p in check.problems)
    unknown = await check_document(session, key=key, document=dict(signed, draw="ED-1999-0001"))
    assert any("holds no draw of this code" in p for p in unknown.problems)


async def test_a_tampered_stored_transcript_is_found(session, cast, secrecy, key):
    code, signed = await _drawn(session, cast, secrecy, key)
    await release_draw(session, secrecy=secrecy, code=code, actor=cast.staff_actor)
    tampered = dict(signed, witness_entropy="别的")
    await session.execute(
        text("UPDATE draw SET published = CAST(:t AS jsonb) WHERE code = :c"),
        {"t": canonical_json(tampered).decode(), "c": code},
    )
    check = await check_stored(session, secrecy=secrecy, key=key, code=code, actor=cast.staff_actor)
    assert not check.ok
    assert any("seed is not" in p for p in check.problems)


async def test_the_list_is_newest_first_and_filters(session, cast, secrecy, key):
    await _drawn(session, cast, secrecy, key)
    await _scheduled(session, cast, secrecy)
    views, total = await list_draws(session, LimitOffset(limit=10, offset=0))
    assert total == 2
    assert [v.state for v in views] == [DrawState.SCHEDULED, DrawState.DRAWN]
    assert (await list_draws(session, LimitOffset(10, 0), kind=DrawKind.AGENCIES))[1] == 0
    assert (await list_draws(session, LimitOffset(10, 0), subject="lot:L-2026-001"))[1] == 2


@pytest.mark.committed  # a race: two transactions on connections of their own
async def test_two_witness_submissions_at_once_draw_once(database_url, cast, secrecy, key):
    engine = make_engine(database_url, pool_size=4)
    maker = make_sessionmaker(engine)
    try:
        async with maker() as session, session.begin():
            view = await _scheduled(session, cast, secrecy)
            await fix_draw_pools(
                session,
                secrecy=secrecy,
                code=view.code,
                categories=categories(),
                actor=cast.staff_actor,
            )

        async def submit(entropy: str) -> str:
            try:
                async with maker() as session, session.begin():
                    await make_draw(
                        session,
                        secrecy=secrecy,
                        key=key,
                        code=view.code,
                        witness_entropy=entropy,
                        actor=cast.witness_actor,
                    )
                return "drawn"
            except Conflict:
                return "refused"

        results = await asyncio.gather(submit("one"), submit("two"))
        assert sorted(results) == ["drawn", "refused"]
        async with maker() as session:
            events = await list_events(session, stream=f"draw:{view.code}")
        assert [e["action"] for e in events].count("draw.drawn") == 1
    finally:
        await engine.dispose()
