"""Pools built from candidates (pure): every candidate of a category is either in its pool
or excluded with a rule, never both; and an expert draw's transcript re-run by code written
from DESIGN.md alone gives the same picks."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from experts.pools import ALREADY_DRAWN, eligible_pools
from experts.rules import RULES, Avoidance, Candidate, avoided, qualifies
from tendering.core.draw import pool_hash

DAY = date(2026, 12, 10)
SPECIALTIES = ("A0801", "A0802", "A0901", "B0101")
ORGS = ("某县教育局", "乙公司", "丙公司")

facts = st.fixed_dictionaries(
    {
        "specialties": st.lists(st.sampled_from(SPECIALTIES), min_size=1, max_size=3, unique=True),
        "status": st.sampled_from(("active", "suspended")),
        "busy": st.booleans(),
        "employer": st.none() | st.tuples(st.sampled_from(ORGS), st.integers(0, 2000)),
        "relation": st.none() | st.sampled_from(ORGS),
        "penalty": st.booleans(),
        "served": st.none() | st.integers(1, 400),
        "drawn": st.integers(0, 12),
    }
)


def _candidate(n: int, f: dict) -> Candidate:
    return Candidate(
        code=f"E-{n:04d}",
        specialties=tuple(f["specialties"]),
        status=f["status"],
        unavailable=frozenset({DAY}) if f["busy"] else frozenset(),
        employments=((f["employer"][0], None, DAY - timedelta(days=f["employer"][1])),)
        if f["employer"]
        else (),
        relations=((f["relation"], "亲属"),) if f["relation"] else (),
        penalties=(("迟到", DAY - timedelta(days=5), None),) if f["penalty"] else (),
        services=(("某县教育局", DAY - timedelta(days=f["served"])),) if f["served"] else (),
        draws_this_year=f["drawn"],
    )


@settings(max_examples=150, deadline=None)
@given(
    st.lists(facts, min_size=1, max_size=40),
    st.lists(
        st.sampled_from(("A08", "A0801", "A0802", "A09", "B")), min_size=1, max_size=3, unique=True
    ),
    st.sets(st.integers(0, 39) | st.integers(100, 139), max_size=5),
)
def test_every_candidate_is_in_the_pool_or_excluded_with_its_rule(many, wanted, earlier):
    candidates = [_candidate(n, f) for n, f in enumerate(many)]
    # And as many with no fact at all, as most of a real pool is.
    candidates += [
        Candidate(code=f"E-{n + 100:04d}", specialties=tuple(f["specialties"]))
        for n, f in enumerate(many)
    ]
    avoidance = Avoidance(
        day=DAY,
        tenderer="某县教育局",
        bidders=("乙公司",),
        staff={"E-0003": "书面理由", "E-0101": "书面理由"},
    )
    drawn = [f"E-{n:04d}" for n in earlier]
    categories = [{"specialty": s, "count": 1, "backups": 1} for s in wanted]
    built = eligible_pools(candidates, categories, avoidance, already_drawn=drawn)
    for category in built:
        pool = {i for i, _ in category.pool}
        struck = {e.id: e.rule for e in category.excluded}
        members = {c.code for c in candidates if qualifies(c.specialties, category.category)}
        assert pool | set(struck) == members and not pool & set(struck)
        for c in candidates:
            if c.code in pool:
                assert c.code not in drawn and avoided(c, avoidance) is None
            elif c.code in struck:
                expected = ALREADY_DRAWN if c.code in drawn else avoided(c, avoidance)[0]
                assert struck[c.code] == expected and expected in (*RULES, ALREADY_DRAWN)
    again = eligible_pools(list(reversed(candidates)), categories, avoidance, already_drawn=drawn)
    assert pool_hash(again) == pool_hash(built)  # the order candidates come in does not matter
    # Those with no fact, handed in as (code, specialties) as the pool query does: the same.
    bare = [c for c in candidates if c == Candidate(code=c.code, specialties=c.specialties)]
    split = eligible_pools(
        [c for c in candidates if c not in bare],
        categories,
        avoidance,
        already_drawn=drawn,
        plain=[(c.code, c.specialties) for c in bare],
    )
    assert split == built


def _rerun(transcript: dict) -> list[list[str]]:
    """draw-v1 steps 3 and 4, from DESIGN.md alone."""
    secret = bytes.fromhex(transcript["server_secret"])
    entropy = hashlib.sha256(transcript["witness_entropy"].encode()).digest()
    seed = hashlib.sha256(b"draw-v1" + secret + entropy).digest()
    taken: set[str] = set()
    out = []
    for category in transcript["categories"]:
        remaining = sorted(
            ([i, w] for i, w in category["pool"] if i not in taken), key=lambda e: e[0].encode()
        )
        picks = []
        for i in range(category["count"] + category["backups"]):
            if not remaining:
                break
            digest = hmac.new(seed, f"{category['category']}|{i}".encode(), hashlib.sha256).digest()
            r = int.from_bytes(digest, "big") % sum(w for _, w in remaining)
            for n, (candidate, weight) in enumerate(remaining):
                if r < weight:
                    picks.append(candidate)
                    taken.add(candidate)
                    del remaining[n]
                    break
                r -= weight
        out.append(picks)
    return out


async def test_an_expert_draw_re_run_from_design_gives_the_same_picks(session, secrecy, key, desk):
    from .test_draws import _drawn

    for entropy_round in range(3):
        _, signed, _ = await _drawn(session, secrecy, key, desk, title=f"第{entropy_round}次")
        assert _rerun(signed) == [c["picks"] for c in signed["categories"]]
