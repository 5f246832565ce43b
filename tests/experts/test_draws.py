"""A lot's expert draw: the committee rule, avoidance recorded in the transcript, the
places asked, declines and silence moving to backups, supplementary draws, the sealed list."""

from __future__ import annotations

import asyncio
import base64

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from experts.answers import answer, drawn_list, expire_unanswered
from experts.notifier import LogNotifier, deliver_outbox, set_notifier
from experts.personal import open_personal
from experts.requests import (
    draw_experts,
    fix_pools,
    fix_supplement,
    release_experts,
    request_draw,
    waiting_supplements,
)
from tendering.cli import main
from tendering.core.auth.actor import SYSTEM
from tendering.core.canonical import canonical_json
from tendering.core.db import make_sessionmaker
from tendering.core.draw import verify_transcript
from tendering.core.draws import chain_values, read_transcript
from tendering.core.draws.checks import check_stored
from tendering.core.errors import Conflict, ErrorCode, Forbidden, InvalidInput

from .conftest import actor_of


class Inbox:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def send(self, to: str, text: str) -> None:
        self.sent.append((to, text))

    def token_for(self, phone: str) -> str:
        texts = [t for to, t in self.sent if to == phone]
        return texts[-1].rsplit("/", 1)[1]


@pytest.fixture
def inbox():
    box = Inbox()
    set_notifier(box)
    yield box
    set_notifier(LogNotifier())


async def _drawn(session, secrecy, key, desk, **over):
    request = await request_draw(
        session, secrecy=secrecy, spec=desk.spec(**over), actor=desk.staff_actor
    )
    await fix_pools(session, secrecy=secrecy, code=request.draw_code, actor=desk.staff_actor)
    signed, short = await draw_experts(
        session,
        secrecy=secrecy,
        key=key,
        code=request.draw_code,
        witness_entropy="王监督 4821",
        actor=desk.witness_actor,
    )
    return request, signed, short


async def test_the_committee_rule_is_checked_when_requesting(session, secrecy, desk):
    for categories, reps in (([4], 0), ([4, 2], 0), ([3], 2)):
        spec = desk.spec(
            categories=[
                {"specialty": f"A080{n + 1}", "count": c, "backups": 0}
                for n, c in enumerate(categories)
            ],
            tenderer_reps=reps,
        )
        with pytest.raises(InvalidInput) as refused:
            await request_draw(session, secrecy=secrecy, spec=spec, actor=desk.staff_actor)
        assert (
            refused.value.code == ErrorCode.EXPERT_COMMITTEE and refused.value.field == "categories"
        )
    assert await session.scalar(text("SELECT count(*) FROM draw")) == 0


async def test_every_exclusion_is_in_the_transcript_with_its_rule(session, secrecy, key, desk):
    request, signed, short = await _drawn(session, secrecy, key, desk)
    assert short == []
    assert verify_transcript(signed, key.public_raw).ok
    first, second = signed["categories"]
    rules = {e["id"]: e["rule"] for e in first["excluded"]}
    assert rules == {
        "X-001": "employer",
        "X-002": "suspended",
        "X-003": "unavailable",
        "X-004": "staff",
        "X-005": "relation",
        "X-006": "penalized",
        "X-007": "served_tenderer",
        "X-011": "employer",  # left a bidder 2 years ago
    }
    assert "曾参与本项目设计咨询" in next(
        e["detail"] for e in first["excluded"] if e["id"] == "X-004"
    )
    pool = [i for i, _ in first["pool"]]
    # X-009 left a bidder over 3 years ago
    assert pool == ["X-008", "X-009", "X-010", "X-012", "X-013", "X-014"]
    assert [i for i, _ in second["pool"]] == ["X-010", *(f"X-0{n}" for n in range(20, 26))]
    assert len(first["picks"]) == 5 and len(second["picks"]) == 3
    assert not set(first["picks"]) & set(second["picks"])  # X-010 drawn at most once
    chain = await chain_values(session, request.draw_code)
    assert chain["pool_hash"] == signed["pool_hash"] and chain["commitment"] == signed["commitment"]


async def test_the_serving_places_are_asked_and_backups_wait(session, secrecy, key, desk, inbox):
    request, _, _ = await _drawn(session, secrecy, key, desk)
    states = (
        await session.execute(
            text(
                "SELECT category, state FROM expert_assignment WHERE draw_code = :c ORDER BY slot"
            ),
            {"c": request.draw_code},
        )
    ).all()
    assert states == [("A0801", "notified")] * 3 + [("A0801", "waiting")] * 2 + [
        ("A0802", "notified")
    ] * 2 + [("A0802", "waiting")]
    assert await deliver_outbox(session, secrecy) == 5
    assert len(inbox.sent) == 5 and all("交易中心3号评标室" in t for _, t in inbox.sent)
    assert await deliver_outbox(session, secrecy) == 0  # sent once


async def test_a_decline_calls_the_next_backup_and_the_link_works_once(
    session, secrecy, key, desk, inbox
):
    request, signed, _ = await _drawn(session, secrecy, key, desk)
    await deliver_outbox(session, secrecy)
    first = signed["categories"][0]["picks"][0]
    phone = await _phone(session, secrecy, first)
    token = inbox.token_for(phone)
    await answer(session, secrecy=secrecy, token=token, accept=False)
    with pytest.raises(Conflict):
        await answer(session, secrecy=secrecy, token=token, accept=True)
    await deliver_outbox(session, secrecy)
    backup = signed["categories"][0]["picks"][3]
    assert await _phone(session, secrecy, backup) == inbox.sent[-1][0]
    await answer(session, secrecy=secrecy, token=inbox.token_for(inbox.sent[-1][0]), accept=True)
    places = await drawn_list(
        session, secrecy=secrecy, code=request.draw_code, actor=desk.staff_actor
    )
    by_expert = {p.place.expert: p.place.state.value for p in places}
    assert by_expert[first] == "declined" and by_expert[backup] == "confirmed"
    actions = (
        (
            await session.execute(
                text("SELECT action FROM audit_event WHERE stream = :s ORDER BY seq"),
                {"s": f"draw:{request.draw_code}"},
            )
        )
        .scalars()
        .all()
    )
    assert actions[-3:] == ["expert.declined", "expert.called", "expert.confirmed"]


async def test_silence_moves_on_and_running_out_schedules_a_supplementary_draw(
    session, secrecy, key, desk, inbox, tmp_path
):
    request, signed, _ = await _drawn(session, secrecy, key, desk)
    # Nobody answers in time, three times over in A0802 (2 serving + 1 backup).
    for _ in range(2):
        await session.execute(
            text(
                "UPDATE expert_assignment SET deadline = clock_timestamp() - interval '1 minute'"
                " WHERE draw_code = :c AND category = 'A0802' AND state = 'notified'"
            ),
            {"c": request.draw_code},
        )
        assert await expire_unanswered(session, secrecy=secrecy) >= 1
    supplements = (
        await session.execute(
            text(
                "SELECT draw_code, categories, state FROM expert_draw_request"
                " WHERE supplements = :c"
            ),
            {"c": request.draw_code},
        )
    ).all()
    # One draw for both places left empty (the second joined it before its pools were
    # fixed), with its own commitment in its own stream, published before any pool.
    assert len(supplements) == 1
    code, categories, state = supplements[0]
    assert (categories, state) == ([{"specialty": "A0802", "count": 2, "backups": 1}], "scheduled")
    published = await chain_values(session, code)
    assert len(published["commitment"]) == 64 and "pool_hash" not in published
    events = (
        await session.execute(
            text("SELECT action, payload FROM audit_event WHERE stream = :s ORDER BY seq"),
            {"s": f"draw:{request.draw_code}"},
        )
    ).all()
    assert [p for a, p in events if a == "expert.supplement"] == [
        {"category": "A0802", "supplement": code}
    ] * 2
    # Its pools are fixed by the platform (the job), the witness draws it as the first.
    assert await fix_supplement(session, secrecy=secrecy, code=code, actor=SYSTEM)
    assert not await fix_supplement(session, secrecy=secrecy, code=code, actor=SYSTEM)
    extra, short = await draw_experts(
        session,
        secrecy=secrecy,
        key=key,
        code=code,
        witness_entropy="补抽 77",
        actor=desk.witness_actor,
    )
    assert short == [] and len(extra["categories"][0]["picks"]) == 3
    assert extra["draw"] == code and extra["commitment"] == published["commitment"]
    earlier = set(signed["categories"][0]["picks"]) | set(signed["categories"][1]["picks"])
    struck = {e["id"]: e["rule"] for e in extra["categories"][0]["excluded"]}
    # Everyone drawn before (the two silent ones, the backup, and anyone of A0802 drawn in
    # A0801) is out of the pool, as are the staff's and the rules' exclusions.
    a0802 = {"X-010", *(f"X-0{n}" for n in range(20, 26))}
    assert {c: "already_drawn" for c in earlier & a0802}.items() <= struck.items()
    assert not set(extra["categories"][0]["picks"]) & earlier
    pool = {i for i, _ in extra["categories"][0]["pool"]}
    assert pool == a0802 - earlier
    # The two serving picks are asked at once, the third waits as a backup.
    states = (
        await session.execute(
            text("SELECT state FROM expert_assignment WHERE draw_code = :c ORDER BY slot"),
            {"c": code},
        )
    ).scalars()
    assert list(states) == ["notified", "notified", "waiting"]
    # Verifiable like the first: against the chain, and offline with `tendering draws verify`.
    check = await check_stored(
        session, secrecy=secrecy, key=key, code=code, actor=desk.witness_actor
    )
    assert check.ok, check.problems
    saved = tmp_path / f"{code}.json"
    saved.write_bytes(canonical_json(extra))
    public = base64.b64encode(key.public_raw).decode()
    verified = CliRunner().invoke(main, ["draws", "verify", str(saved), "--key", public])
    assert verified.exit_code == 0 and "checks out" in verified.output, verified.output
    tampered = dict(extra, witness_entropy="补抽 78")
    assert not verify_transcript(tampered, key.public_raw).ok
    places = await drawn_list(
        session, secrecy=secrecy, code=request.draw_code, actor=desk.witness_actor
    )
    assert {p.place.draw_code for p in places} == {request.draw_code, code}
    # The supplement is run by the same staff member, who may read it sealed.
    assert await read_transcript(session, secrecy=secrecy, code=code, actor=desk.staff_actor)
    with pytest.raises(Forbidden):
        await read_transcript(session, secrecy=secrecy, code=code, actor=actor_of(desk.other_staff))


async def test_a_later_supplementary_draw_waits_for_the_one_before(session, secrecy, key, desk):
    request, _, _ = await _drawn(session, secrecy, key, desk)

    async def expire_a0802() -> None:
        await session.execute(
            text(
                "UPDATE expert_assignment SET deadline = clock_timestamp() - interval '1 minute'"
                " WHERE category = 'A0802' AND state = 'notified'"
            )
        )
        await expire_unanswered(session, secrecy=secrecy)

    await expire_a0802()  # both serving places: the backup is asked, one place is empty
    (first,) = await waiting_supplements(session)
    assert await fix_supplement(session, secrecy=secrecy, code=first, actor=SYSTEM)
    await expire_a0802()  # the backup is silent too
    # The first supplementary draw's pools are fixed: the next place needs another draw,
    # whose pools wait until the first one is drawn (it must not pick the same experts).
    (second,) = await waiting_supplements(session)
    assert second != first
    assert not await fix_supplement(session, secrecy=secrecy, code=second, actor=SYSTEM)
    with pytest.raises(Conflict) as refused:
        await fix_pools(session, secrecy=secrecy, code=second, actor=desk.staff_actor)
    assert refused.value.details == {"waiting_for": [first]}
    extra, _ = await draw_experts(
        session,
        secrecy=secrecy,
        key=key,
        code=first,
        witness_entropy="一",
        actor=desk.witness_actor,
    )
    assert await fix_supplement(session, secrecy=secrecy, code=second, actor=SYSTEM)
    again, _ = await draw_experts(
        session,
        secrecy=secrecy,
        key=key,
        code=second,
        witness_entropy="二",
        actor=desk.witness_actor,
    )
    assert not set(again["categories"][0]["picks"]) & set(extra["categories"][0]["picks"])
    assert request.draw_code not in (first, second)


async def test_the_list_is_sealed_until_the_evaluation_starts(session, secrecy, key, desk):
    request, signed, _ = await _drawn(session, secrecy, key, desk)
    picks = [p for c in signed["categories"] for p in c["picks"]]
    with pytest.raises(Forbidden):
        await drawn_list(
            session, secrecy=secrecy, code=request.draw_code, actor=actor_of(desk.other_staff)
        )
    with pytest.raises(Forbidden):
        await read_transcript(
            session, secrecy=secrecy, code=request.draw_code, actor=actor_of(desk.other_staff)
        )
    rows: list[str] = []
    for table in ("expert_assignment", "expert_outbox", "expert_draw_request", "draw"):
        rows += (await session.execute(text(f"SELECT t::text FROM {table} t"))).scalars().all()
    dump = " ".join(rows)
    assert not any(p in dump for p in picks)
    assert "丁公司" not in dump  # the bidders, sealed too
    listed = await drawn_list(
        session, secrecy=secrecy, code=request.draw_code, actor=desk.witness_actor
    )
    assert [p.place.expert for p in listed] == picks
    await release_experts(session, secrecy=secrecy, code=request.draw_code, actor=desk.staff_actor)
    seen = await drawn_list(
        session, secrecy=secrecy, code=request.draw_code, actor=actor_of(desk.other_staff)
    )
    assert len(seen) == len(picks)
    assert await read_transcript(
        session, secrecy=secrecy, code=request.draw_code, actor=actor_of(desk.other_staff)
    )


async def test_a_place_moved_in_the_table_is_caught(session, secrecy, key, desk):
    request, _, _ = await _drawn(session, secrecy, key, desk)
    await session.execute(
        text(
            "UPDATE expert_assignment a SET box = b.box FROM expert_assignment b"
            " WHERE a.draw_code = b.draw_code AND a.slot = 0 AND b.slot = 1"
        )
    )
    with pytest.raises(Exception, match="does not open as its own"):
        await drawn_list(session, secrecy=secrecy, code=request.draw_code, actor=desk.staff_actor)


async def test_release_records_who_served_for_later_avoidance(session, secrecy, key, desk, inbox):
    request, signed, _ = await _drawn(session, secrecy, key, desk)
    await deliver_outbox(session, secrecy)
    first = signed["categories"][0]["picks"][0]
    await answer(
        session,
        secrecy=secrecy,
        token=inbox.token_for(await _phone(session, secrecy, first)),
        accept=True,
    )
    await release_experts(session, secrecy=secrecy, code=request.draw_code, actor=desk.staff_actor)
    served = (
        await session.execute(
            text(
                "SELECT e.code, s.tenderer FROM expert_service s"
                " JOIN expert e ON e.id = s.expert_id WHERE s.draw_code = :c"
            ),
            {"c": request.draw_code},
        )
    ).all()
    assert served == [(first, "某县教育局")]
    # The next draw for this tenderer avoids the expert who just served it.
    _, again, _ = await _drawn(session, secrecy, key, desk)
    rules = {e["id"]: e["rule"] for e in again["categories"][0]["excluded"]}
    assert rules[first] == "served_tenderer"


async def _phone(session, secrecy, code: str) -> str:
    tag, box = (
        await session.execute(
            text("SELECT id_tag, personal FROM expert WHERE code = :c"), {"c": code}
        )
    ).one()
    return open_personal(secrecy, tag, box).phone


@pytest.mark.committed
async def test_two_declines_at_once_call_two_different_backups(engine, session, secrecy, key, desk):
    request, _, _ = await _drawn(session, secrecy, key, desk)
    await session.commit()
    maker = make_sessionmaker(engine)
    async with maker() as reader:
        rows = (await reader.execute(text("SELECT box FROM expert_outbox ORDER BY id"))).all()
    tokens = [secrecy.open("expert_outbox", box)["text"].rsplit("/", 1)[1] for (box,) in rows]

    async def decline(token: str) -> None:
        async with maker() as own, own.begin():
            await answer(own, secrecy=secrecy, token=token, accept=False)

    await asyncio.gather(decline(tokens[0]), decline(tokens[1]))  # both in A0801
    async with maker() as reader:
        states = dict(
            (
                await reader.execute(
                    text("SELECT slot, state FROM expert_assignment WHERE draw_code = :c"),
                    {"c": request.draw_code},
                )
            ).all()
        )
        supplements = await reader.scalar(
            text("SELECT count(*) FROM expert_draw_request WHERE supplements IS NOT NULL")
        )
    assert [states[n] for n in range(5)] == ["declined", "declined", "notified"] + ["notified"] * 2
    assert supplements == 0
    async with maker() as reader:
        boxes = (await reader.execute(text("SELECT box FROM expert_outbox ORDER BY id"))).all()
        called = await reader.scalar(
            text("SELECT count(*) FROM audit_event WHERE stream = :s AND action = 'expert.called'"),
            {"s": f"draw:{request.draw_code}"},
        )
    # Each backup was asked exactly once: two new messages, to two different people.
    new = [secrecy.open("expert_outbox", box)["to"] for (box,) in boxes[len(rows) :]]
    assert len(new) == 2 and len(set(new)) == 2 and called == 2


@pytest.mark.committed
async def test_one_link_answered_twice_at_once_counts_once(engine, session, secrecy, key, desk):
    request, _, _ = await _drawn(session, secrecy, key, desk)
    await session.commit()
    maker = make_sessionmaker(engine)
    async with maker() as reader:
        (box,) = (await reader.execute(text("SELECT box FROM expert_outbox ORDER BY id"))).first()
    token = secrecy.open("expert_outbox", box)["text"].rsplit("/", 1)[1]

    async def reply(accept: bool) -> str:
        try:
            async with maker() as own, own.begin():
                await answer(own, secrecy=secrecy, token=token, accept=accept)
        except Conflict:
            return "refused"
        return "counted"

    results = await asyncio.gather(reply(False), reply(False), reply(True))
    assert sorted(results) == ["counted", "refused", "refused"]
    async with maker() as reader:
        state = await reader.scalar(
            text("SELECT state FROM expert_assignment WHERE draw_code = :c AND slot = 0"),
            {"c": request.draw_code},
        )
        actions = (
            await reader.execute(
                text("SELECT action FROM audit_event WHERE stream = :s AND action LIKE 'expert.%'"),
                {"s": f"draw:{request.draw_code}"},
            )
        ).scalars()
        messages = await reader.scalar(text("SELECT count(*) FROM expert_outbox"))
    answered = [a for a in actions if a in ("expert.declined", "expert.confirmed")]
    assert len(answered) == 1 and state == answered[0].split(".")[1]
    # A decline calls one backup (one message more than the five serving places), no more.
    assert messages == 5 + (state == "declined")


async def test_places_asked_in_a_draw_not_yet_released_count_toward_the_yearly_limit(
    session, secrecy, key, desk
):
    _, first, _ = await _drawn(session, secrecy, key, desk)
    asked = first["categories"][0]["picks"][:3]  # the serving places, asked, not answered
    rules = desk.spec().rules.model_dump() | {"max_per_year": 1}
    _, second, _ = await _drawn(session, secrecy, key, desk, rules=rules)
    struck = {e["id"]: e["rule"] for e in second["categories"][0]["excluded"]}
    assert all(struck[code] == "drawn_too_often" for code in asked)
