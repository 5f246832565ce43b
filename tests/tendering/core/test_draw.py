"""draw-v1 (core/draw.py) against DESIGN.md: a bureau's own code must agree with ours.

``Reference`` below is written from DESIGN.md's text alone, on purpose in another style
(cumulative weights, explicit byte keys, the standard library's json), and must agree with
the platform's code on hundreds of generated draws.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import os
from dataclasses import dataclass

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from hypothesis import given, settings
from hypothesis import strategies as st

from tendering.core.draw import (
    Category,
    Exclusion,
    commitment_of,
    derive_seed,
    pool_hash,
    run_draw,
    sign_transcript,
    signed_transcript,
    verify_transcript,
)
from tendering.core.errors import InvalidInput
from tendering.core.signing import PlatformKey

KEY = PlatformKey(Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"draw test key").digest()))
PUBLIC = KEY.public_raw


# --- an independent implementation, from DESIGN.md's words --------------------------------


@dataclass
class RefCategory:
    category: str
    count: int
    backups: int
    pool: dict[str, int]  # id -> weight, any order
    excluded: list[dict[str, str]]


def _ref_canonical(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def _ref_sorted(pool: dict[str, int]) -> list[list[object]]:
    # "sorted by id (ids are JSON strings ...; sorted by UTF-8 bytes)"
    return [[i, pool[i]] for i in sorted(pool, key=lambda i: i.encode("utf-8"))]


def reference_transcript(
    code: str, secret: bytes, entropy: str, request: list[RefCategory]
) -> dict[str, object]:
    seed = hashlib.sha256(
        b"draw-v1" + secret + hashlib.sha256(entropy.encode("utf-8")).digest()
    ).digest()
    gone: list[str] = []
    categories = []
    for cat in request:
        ordered = _ref_sorted(cat.pool)
        left = [(i, w) for i, w in ordered if i not in gone]
        picks: list[str] = []
        for i in range(cat.count + cat.backups):
            if not left:
                break
            mac = hmac.new(seed, f"{cat.category}|{i}".encode(), "sha256").digest()
            r = int(mac.hex(), 16) % sum(w for _, w in left)
            running = 0
            for index, (candidate, weight) in enumerate(left):
                running += weight
                if r < running:
                    picks.append(candidate)
                    gone.append(candidate)
                    left.pop(index)
                    break
        categories.append(
            {
                "category": cat.category,
                "count": cat.count,
                "backups": cat.backups,
                "pool": ordered,
                "excluded": cat.excluded,
                "picks": picks,
            }
        )
    pools = {c["category"]: c["pool"] for c in categories}
    return {
        "algorithm": "draw-v1",
        "draw": code,
        "commitment": hashlib.sha256(secret).hexdigest(),
        "pool_hash": hashlib.sha256(_ref_canonical(pools)).hexdigest(),
        "server_secret": secret.hex(),
        "witness_entropy": entropy,
        "seed": seed.hex(),
        "categories": categories,
    }


def reference_signature_ok(transcript: dict[str, object], public: bytes) -> bool:
    body = {k: v for k, v in transcript.items() if k != "signature"}
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(
            base64.b64decode(str(transcript["signature"])), _ref_canonical(body)
        )
    except Exception:
        return False
    return True


# --- generated draws ------------------------------------------------------------------------

# ASCII, Chinese, a 2-byte Latin letter, the top of the BMP and an emoji: UTF-8 byte order
# and UTF-16 order disagree between U+FF61 and U+1F600, and short alphabets make prefix ties.
ALPHABET = "Aa0-_|中文专家评\u00e9\uff61\U0001f600"
ids = st.text(alphabet=ALPHABET, min_size=1, max_size=4)


@st.composite
def draws(draw: st.DrawFn) -> tuple[list[RefCategory], bytes, str]:
    universe = draw(st.lists(ids, min_size=1, max_size=25, unique=True))
    names = draw(
        st.lists(
            st.text(alphabet=ALPHABET, min_size=1, max_size=6), min_size=1, max_size=4, unique=True
        )
    )
    weighted = draw(st.booleans())
    request = []
    for name in names:
        members = draw(st.lists(st.sampled_from(universe), max_size=len(universe), unique=True))
        pool = {m: (draw(st.integers(1, 9)) if weighted else 1) for m in members}
        outside = [u for u in universe if u not in pool]
        struck = draw(st.lists(st.sampled_from(outside), unique=True)) if outside else []
        excluded = [
            {
                "id": s,
                "rule": draw(st.sampled_from(["employer", "relation", "staff"])),
                "detail": draw(st.text(alphabet=ALPHABET, max_size=8)),
            }
            for s in struck
        ]
        request.append(
            RefCategory(name, draw(st.integers(1, 6)), draw(st.integers(0, 4)), pool, excluded)
        )
    secret = draw(st.binary(min_size=32, max_size=32))
    entropy = draw(st.text(max_size=20).filter(lambda t: _utf8(t)))
    return request, secret, entropy


def _utf8(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _ours(request: list[RefCategory]) -> list[Category]:
    return [
        Category.of(
            c.category,
            count=c.count,
            backups=c.backups,
            pool=list(c.pool.items()),
            excluded=[Exclusion(**e) for e in c.excluded],
        )
        for c in request
    ]


@settings(max_examples=400, deadline=None)
@given(draws())
def test_an_independent_implementation_agrees_on_generated_draws(generated) -> None:
    request, secret, entropy = generated
    ours = sign_transcript(
        run_draw(
            draw="D-1", server_secret=secret, witness_entropy=entropy, categories=_ours(request)
        ),
        KEY,
    )
    theirs = reference_transcript("D-1", secret, entropy, request)
    assert {k: v for k, v in ours.items() if k != "signature"} == theirs
    # The bytes the platform hashes and seals with the signature are the canonical ones.
    again, encoded = signed_transcript(ours, KEY)
    assert again == ours and encoded == _ref_canonical(ours)
    made = run_draw(
        draw="D-1", server_secret=secret, witness_entropy=entropy, categories=_ours(request)
    )
    assert signed_transcript(made, KEY, made_here=True) == (ours, encoded)
    # Pools as the platform seals and reopens them are the categories they were (and as
    # it sealed them before the columns, one object per entry).
    for c in _ours(request):
        assert Category.stored(json.loads(json.dumps(c.to_stored()))) == c
        before = {"category": c.category, "count": c.count, "backups": c.backups}
        before |= {"pool": c.pool_json(), "excluded": [e.to_json() for e in c.excluded]}
        assert Category.stored(json.loads(json.dumps(before))) == c
    assert reference_signature_ok(ours, PUBLIC)
    assert verify_transcript(json.loads(json.dumps(ours)), PUBLIC).ok
    # Nobody is picked twice, in or across categories, and only from the pools.
    everyone = [p for c in ours["categories"] for p in c["picks"]]
    assert len(everyone) == len(set(everyone))
    for c, ref in zip(ours["categories"], request, strict=True):
        assert set(c["picks"]) <= set(ref.pool)
        assert len(c["picks"]) <= c["count"] + c["backups"]


def _request() -> list[Category]:
    return [
        Category.of(
            "A0801",
            count=5,
            backups=2,
            pool=[(f"E-{n:03d}", 1) for n in range(30)],
            excluded=[Exclusion("E-100", "employer", "投标人 BID-0001 在职")],
        ),
        Category.of("A0802", count=2, backups=1, pool=[(f"E-{n:03d}", 1) for n in range(20, 40)]),
    ]


def _signed(**changes: object) -> dict:
    transcript = run_draw(
        draw="D-2026-0001",
        server_secret=bytes(range(32)),
        witness_entropy="监督人 赵红 2026-11-24 一二三",
        categories=_request(),
    )
    return sign_transcript(transcript, KEY)


def test_the_same_inputs_always_give_the_same_transcript() -> None:
    assert _signed() == _signed()
    assert json.dumps(_signed(), ensure_ascii=False) == json.dumps(_signed(), ensure_ascii=False)


def test_a_picked_expert_is_removed_from_later_categories() -> None:
    transcript = _signed()
    first, second = transcript["categories"]
    assert not set(first["picks"]) & set(second["picks"])
    assert len(first["picks"]) == 7 and len(second["picks"]) == 3


def test_a_short_pool_gives_fewer_picks_instead_of_failing() -> None:
    categories = [Category.of("X", count=3, backups=2, pool=[("a", 1), ("b", 2)])]
    transcript = run_draw(
        draw="D", server_secret=bytes(32), witness_entropy="w", categories=categories
    )
    assert sorted(transcript["categories"][0]["picks"]) == ["a", "b"]


def test_the_seed_pool_hash_and_commitment_follow_design() -> None:
    secret = os.urandom(32)
    assert commitment_of(secret) == hashlib.sha256(secret).hexdigest()
    entropy_hash = hashlib.sha256("见证".encode()).digest()
    assert (
        derive_seed(secret, "见证") == hashlib.sha256(b"draw-v1" + secret + entropy_hash).digest()
    )
    cats = [Category.of("专业", count=1, backups=0, pool=[("b", 1), ("a", 3)])]
    expected = hashlib.sha256('{"专业":[["a",3],["b",1]]}'.encode()).hexdigest()
    assert pool_hash(cats) == expected


def test_a_signed_transcript_verifies() -> None:
    check = verify_transcript(_signed(), PUBLIC)
    assert check.ok, check.problems
    assert check.draw == "D-2026-0001"


def _tampered(change) -> tuple[str, ...]:
    transcript = copy.deepcopy(_signed())
    change(transcript)
    check = verify_transcript(transcript, PUBLIC)
    assert not check.ok
    return check.problems


def _joined(problems: tuple[str, ...]) -> str:
    return "\n".join(problems)


def test_a_changed_pool_fails() -> None:
    def drop_one(t: dict) -> None:
        del t["categories"][0]["pool"][3]

    problems = _joined(_tampered(drop_one))
    assert "pool_hash is not the SHA-256" in problems
    assert "signature does not match" in problems


def test_a_changed_weight_fails() -> None:
    def heavier(t: dict) -> None:
        t["categories"][1]["pool"][0][1] = 5

    assert "pool_hash is not the SHA-256" in _joined(_tampered(heavier))


def test_a_changed_secret_fails() -> None:
    def other_secret(t: dict) -> None:
        t["server_secret"] = "ff" * 32

    problems = _joined(_tampered(other_secret))
    assert "commitment is not the SHA-256 of server_secret" in problems
    assert "seed is not" in problems


def test_a_changed_entropy_fails() -> None:
    def other_entropy(t: dict) -> None:
        t["witness_entropy"] += "!"

    assert "seed is not" in _joined(_tampered(other_entropy))


def test_changed_picks_fail() -> None:
    def swapped(t: dict) -> None:
        picks = t["categories"][0]["picks"]
        picks[0], picks[1] = picks[1], picks[0]

    assert "the picks of A0801 differ from a re-run" in _joined(_tampered(swapped))


def test_a_changed_seed_fails() -> None:
    def forged(t: dict) -> None:
        t["seed"] = "00" * 32

    assert "seed is not" in _joined(_tampered(forged))


def test_a_changed_signature_fails() -> None:
    def flipped(t: dict) -> None:
        raw = bytearray(base64.b64decode(t["signature"]))
        raw[0] ^= 1
        t["signature"] = base64.b64encode(bytes(raw)).decode()

    assert _tampered(flipped) == (
        "平台签名无效 (the platform's Ed25519 signature does not match the transcript: it was"
        " altered after signing, or signed with another key)",
    )


def test_another_key_fails() -> None:
    other = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    assert "signature does not match" in _joined(verify_transcript(_signed(), other).problems)


def test_an_excluded_expert_put_back_into_the_pool_fails() -> None:
    def put_back(t: dict) -> None:
        t["categories"][0]["pool"].append(["E-100", 1])

    assert "an excluded id cannot be in the pool" in _joined(_tampered(put_back))


def test_an_unsorted_pool_fails() -> None:
    def reversed_pool(t: dict) -> None:
        t["categories"][0]["pool"].reverse()

    assert "not sorted by the ids' UTF-8 bytes" in _joined(_tampered(reversed_pool))


def test_the_chain_values_must_match_too() -> None:
    transcript = _signed()
    assert verify_transcript(
        transcript,
        PUBLIC,
        commitment=transcript["commitment"],
        pool_hash_recorded=transcript["pool_hash"],
    ).ok
    problems = _joined(
        verify_transcript(
            transcript, PUBLIC, commitment="0" * 64, pool_hash_recorded="1" * 64
        ).problems
    )
    assert "commitment differs from the one the audit chain published" in problems
    assert "pool_hash differs from the one the audit chain fixed" in problems


@pytest.mark.parametrize(
    "document",
    [
        [],
        "draw",
        {},
        {"algorithm": "draw-v1"},
        {
            **{
                k: ""
                for k in (
                    "algorithm",
                    "draw",
                    "commitment",
                    "pool_hash",
                    "server_secret",
                    "witness_entropy",
                    "seed",
                    "signature",
                )
            },
            "categories": [],
        },
        {
            **{k: "0" * 64 for k in ("commitment", "pool_hash", "server_secret", "seed")},
            "algorithm": "draw-v1",
            "draw": "D",
            "witness_entropy": "\ud800",
            "signature": "",
            "categories": [
                {
                    "category": "A",
                    "count": 1.0,
                    "backups": 0,
                    "pool": [["a", 1.5]],
                    "excluded": [],
                    "picks": ["a"],
                }
            ],
        },
    ],
)
def test_a_malformed_document_is_a_problem_not_a_crash(document) -> None:
    check = verify_transcript(document, PUBLIC)
    assert not check.ok and check.problems


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
    ),
    st.sampled_from(["algorithm", "categories", "draw", "seed", "witness_entropy"]),
)
def test_any_value_in_any_field_is_reported_never_raised(value, name) -> None:
    transcript = _signed()
    transcript[name] = value
    assert not verify_transcript(transcript, PUBLIC).ok


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"count": 0}, "count must be at least 1"),
        ({"backups": -1}, "backups cannot be negative"),
        ({"pool": [("a", 1), ("a", 1)]}, "an id appears twice"),
        ({"pool": [("a", 0)]}, "weights are whole numbers from 1"),
        ({"pool": [("", 1)]}, "an id is 1 to"),
        ({"pool": [("a", 1)], "excluded": [Exclusion("a", "staff", "x")]}, "excluded id"),
        ({"pool": [("b", 1), ("a\ud800", 1)]}, "an id is 1 to"),
        ({"pool": [("b", 1), ("a", True)]}, "weights are whole numbers from 1"),
        ({"pool": [("b", 1), ("a", 1.0)]}, "weights are whole numbers from 1"),
        ({"pool": [("b", 1), (7, 1)]}, "an id is 1 to"),
        ({"pool": [("b", 1), ("a" * 201, 1)]}, "an id is 1 to"),
    ],
)
def test_a_category_refuses_bad_input_in_plain_words(kwargs, words) -> None:
    spec = {"count": 1, "backups": 0, "pool": [("a", 1)]} | kwargs
    with pytest.raises(InvalidInput) as caught:
        Category.of("A08", **spec)
    assert words in caught.value.message


def test_a_category_may_appear_only_once() -> None:
    twice = [Category.of("A", count=1, backups=0, pool=[("a", 1)])] * 2
    with pytest.raises(InvalidInput, match="only once"):
        pool_hash(twice)


# --- fairness: fixed seeds, so the bound holds or fails the same way on every run -----------

# Chi-square critical values at p = 0.001 (upper tail).
CHI2_999 = {19: 43.82, 29: 58.30, 3: 16.27}


def _chi2(observed: list[int], expected: list[float]) -> float:
    return sum((o - e) ** 2 / e for o, e in zip(observed, expected, strict=True))


def _runs(n: int, categories: list[Category]) -> list[list[list[str]]]:
    out = []
    for i in range(n):
        secret = hashlib.sha256(b"fairness" + i.to_bytes(4, "big")).digest()
        t = run_draw(
            draw="F", server_secret=secret, witness_entropy=f"witness {i}", categories=categories
        )
        out.append([c["picks"] for c in t["categories"]])
    return out


def test_each_eligible_expert_is_first_picked_about_equally_often() -> None:
    pool = [(f"专家{n:02d}", 1) for n in range(30)]
    runs = _runs(3000, [Category.of("A08", count=1, backups=0, pool=pool)])
    counts = {p: 0 for p, _ in pool}
    for (picks,) in runs:
        counts[picks[0]] += 1
    assert _chi2(list(counts.values()), [100.0] * 30) < CHI2_999[29]


def test_each_eligible_expert_serves_about_equally_often_in_a_committee() -> None:
    pool = [(f"E{n}", 1) for n in range(20)]
    runs = _runs(2000, [Category.of("A08", count=5, backups=3, pool=pool)])
    counts = {p: 0 for p, _ in pool}
    for (picks,) in runs:
        for p in picks[:5]:
            counts[p] += 1
    assert _chi2(list(counts.values()), [2000 * 5 / 20] * 20) < CHI2_999[19]


def test_weighted_candidates_are_picked_in_proportion_to_their_weights() -> None:
    pool = [("agency-a", 1), ("agency-b", 2), ("agency-c", 3), ("agency-d", 4)]
    runs = _runs(2000, [Category.of("代理", count=1, backups=0, pool=pool)])
    counts = {p: 0 for p, _ in pool}
    for (picks,) in runs:
        counts[picks[0]] += 1
    expected = [2000 * w / 10 for _, w in pool]
    assert _chi2(list(counts.values()), expected) < CHI2_999[3]
