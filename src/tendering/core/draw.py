"""The verifiable draw ``draw-v1`` (DESIGN.md, "Verifiable draw"): pure, no I/O.

Experts and agencies are drawn the same way; a supervisory bureau re-runs a transcript with
its own code and must agree, so every byte below is the contract::

    secret = new_server_secret()                 # at scheduling
    commitment = commitment_of(secret)           # -> audit chain, draw:<code>
    categories = [Category.of("A0801", count=5, backups=3, pool=[("E-001", 1), ...],
                              excluded=[Exclusion("E-007", "employer", "...")])]
    fixed = pool_hash(categories)                # -> audit chain, before the entropy
    transcript = run_draw(draw="D-1", server_secret=secret, witness_entropy="...",
                          categories=categories)
    signed = sign_transcript(transcript, platform_key)
    verify_transcript(signed, public_key_raw).ok

The steps, as DESIGN.md states them:

- ``commitment = SHA-256(server_secret)`` (lowercase hex), ``server_secret`` 32 bytes.
- The pool hash is the SHA-256 of the canonical JSON (``core/canonical.py``) of
  ``{category: [[id, weight], ...]}`` over every category, ids sorted by their UTF-8 bytes.
- ``seed = SHA-256(b"draw-v1" || server_secret || SHA-256(utf8(witness_entropy)))``.
- For each category in request order, pick ``i = 0, 1, ...`` up to ``count + backups``:
  ``r = int.from_bytes(HMAC-SHA256(seed, utf8(f"{category}|{i}")), "big") %
  total_remaining_weight``; walk the remaining candidates in id order subtracting weights
  until ``r < weight``; that one is picked and removed, also from later categories (so a
  category starts without everyone picked before it). When no candidate remains, the
  category's picking stops: its ``picks`` are then shorter than ``count + backups``.
- The transcript is ``{"algorithm", "draw", "commitment", "pool_hash", "server_secret",
  "witness_entropy", "seed", "categories": [{"category", "count", "backups", "pool",
  "excluded": [{"id", "rule", "detail"}], "picks"}], "signature"}``; the signature is the
  platform's Ed25519 (standard base64) over the canonical bytes of the object without
  ``"signature"``.

A category's ``pool`` holds the eligible candidates only: an id recorded in ``excluded``
(with the avoidance rule that struck it) is never in the pool. Weights are whole numbers
from 1 (1 for every expert; the integrity weight for agencies).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from tendering.core.canonical import canonical_json
from tendering.core.errors import ErrorCode, InvalidInput
from tendering.core.signing import PlatformKey, verify_signature

__all__ = [
    "ALGORITHM",
    "SECRET_BYTES",
    "Category",
    "Exclusion",
    "TranscriptCheck",
    "commitment_of",
    "derive_seed",
    "id_order",
    "new_server_secret",
    "pick",
    "pool_hash",
    "run_draw",
    "sign_transcript",
    "signed_transcript",
    "transcript_message",
    "verify_transcript",
]

ALGORITHM = "draw-v1"
SECRET_BYTES = 32
MAX_ID_CHARS = 200
MAX_CATEGORY_CHARS = 100
_HEX64 = re.compile(r"[0-9a-f]{64}")
_TRANSCRIPT_KEYS = frozenset(
    {
        "algorithm",
        "draw",
        "commitment",
        "pool_hash",
        "server_secret",
        "witness_entropy",
        "seed",
        "categories",
        "signature",
    }
)
_CATEGORY_KEYS = frozenset({"category", "count", "backups", "pool", "excluded", "picks"})
_EXCLUSION_KEYS = frozenset({"id", "rule", "detail"})


def id_order(candidate_id: str) -> bytes:
    """The sort key of ids: their UTF-8 bytes (Python's ``str`` order agrees for every
    string that has UTF-8 bytes; JavaScript's UTF-16 order does not, past U+FFFF)."""
    return candidate_id.encode()


def _refuse(message: str, field: str) -> InvalidInput:
    return InvalidInput(message, code=ErrorCode.DRAW_INVALID_POOL, field=field)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_text(value: object) -> bool:
    """A string that has UTF-8 bytes (JSON lets a lone surrogate through; UTF-8 does not)."""
    if not isinstance(value, str):
        return False
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def _all_text(value: object) -> bool:
    if isinstance(value, str):
        return _is_text(value)
    if isinstance(value, dict):
        return all(_is_text(k) and _all_text(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_all_text(v) for v in value)
    return True


@dataclass(frozen=True, slots=True)
class Exclusion:
    """One candidate struck from a category's pool, with the rule and its plain reason."""

    id: str
    rule: str
    detail: str

    def to_json(self) -> dict[str, str]:
        return {"id": self.id, "rule": self.rule, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class Category:
    """One category of a draw: how many serve, how many backups, the eligible pool (sorted by
    :func:`id_order`) and who was excluded. Build it with :meth:`of`, which checks and sorts."""

    category: str
    count: int
    backups: int
    pool: tuple[tuple[str, int], ...]
    excluded: tuple[Exclusion, ...] = field(default=())

    @classmethod
    def of(
        cls,
        category: str,
        *,
        count: int,
        backups: int,
        pool: Iterable[tuple[str, int]],
        excluded: Iterable[Exclusion] = (),
    ) -> Category:
        """Raises ``InvalidInput`` (``draw.invalid_pool``) naming the field and the rule."""
        if not _is_text(category) or not 0 < len(category) <= MAX_CATEGORY_CHARS:
            raise _refuse(
                f"类别名称须为1至{MAX_CATEGORY_CHARS}个字符 (a category is 1 to "
                f"{MAX_CATEGORY_CHARS} characters)",
                "category",
            )
        if not _is_int(count) or count < 1:
            raise _refuse(f"{category}: 抽取人数至少为1 (count must be at least 1)", "count")
        if not _is_int(backups) or backups < 0:
            raise _refuse(f"{category}: 备选人数不能为负 (backups cannot be negative)", "backups")
        entries = list(pool)
        if _plain_pool(entries):
            # Every id text, none twice, every weight a whole number from 1: for text, the
            # code points' order is the UTF-8 bytes' order, so sorting by ``str`` is it.
            entries.sort(key=itemgetter(0))
            return cls(
                category,
                count,
                backups,
                tuple(entries),
                cls._checked_struck(category, excluded, {e[0] for e in entries}),
            )
        for candidate_id, _ in entries:
            if not _is_text(candidate_id) or not 0 < len(candidate_id) <= MAX_ID_CHARS:
                raise _refuse(
                    f"{category}: 候选编号须为1至{MAX_ID_CHARS}个字符 (an id is 1 to"
                    f" {MAX_ID_CHARS} characters of Unicode text)",
                    "pool",
                )
        entries.sort(key=lambda e: id_order(e[0]))
        seen: set[str] = set()
        for candidate_id, weight in entries:
            if candidate_id in seen:
                raise _refuse(
                    f"{category}: 候选 {candidate_id} 重复 (an id appears twice in a pool)", "pool"
                )
            seen.add(candidate_id)
            if not _is_int(weight) or weight < 1:
                raise _refuse(
                    f"{category}: 候选 {candidate_id} 的权重须为正整数 (weights are whole "
                    "numbers from 1)",
                    "pool",
                )
        return cls(
            category, count, backups, tuple(entries), cls._checked_struck(category, excluded, seen)
        )

    @staticmethod
    def _checked_struck(
        category: str, excluded: Iterable[Exclusion], seen: set[str]
    ) -> tuple[Exclusion, ...]:
        struck = tuple(excluded)
        for exclusion in struck:
            if exclusion.id in seen:
                raise _refuse(
                    f"{category}: 已回避的 {exclusion.id} 不能留在候选池中 (an excluded id "
                    "cannot be in the pool)",
                    "excluded",
                )
        return struck

    @classmethod
    def stored(cls, value: Mapping[str, Any]) -> Category:
        """A category as the platform itself sealed it once checked (:meth:`to_stored`, or
        before it ``pool_json`` and ``Exclusion.to_json``): rebuilt without checking each
        entry again. Only for what the platform sealed; anything handed in goes through
        :meth:`of`."""
        if "ids" in value:
            pool = tuple(zip(value["ids"], value["weights"], strict=True))
            struck = tuple(map(Exclusion, value["excluded_ids"], value["rules"], value["details"]))
            return cls(value["category"], value["count"], value["backups"], pool, struck)
        return cls(
            value["category"],
            value["count"],
            value["backups"],
            tuple(map(tuple, value["pool"])),
            tuple(Exclusion(e["id"], e["rule"], e["detail"]) for e in value["excluded"]),
        )

    def to_stored(self) -> dict[str, Any]:
        """The category as the platform seals it between fixing and drawing: columns (ids,
        weights; excluded ids, rules, details) rather than an object per entry, so a pool of
        tens of thousands encodes and decodes as a few lists of text."""
        return {
            "category": self.category,
            "count": self.count,
            "backups": self.backups,
            "ids": [e[0] for e in self.pool],
            "weights": [e[1] for e in self.pool],
            "excluded_ids": [e.id for e in self.excluded],
            "rules": [e.rule for e in self.excluded],
            "details": [e.detail for e in self.excluded],
        }

    @property
    def wanted(self) -> int:
        return self.count + self.backups

    def pool_json(self) -> list[list[str | int]]:
        return list(map(list, self.pool))


def _plain_pool(entries: list[tuple[str, int]]) -> bool:
    """Whether every entry is ``(text id, weight from 1)`` with no id twice, checked in bulk
    (a pool has tens of thousands); when not, :meth:`Category.of` finds and names the entry."""
    if not entries or any(len(e) != 2 for e in entries):
        return False
    ids, weights = zip(*entries, strict=True)
    if set(map(type, ids)) != {str} or set(map(type, weights)) != {int}:
        return False
    lengths = set(map(len, ids))
    if min(lengths) < 1 or max(lengths) > MAX_ID_CHARS or min(weights) < 1:
        return False
    try:
        "".join(ids).encode()  # a lone surrogate has no UTF-8 bytes
    except UnicodeEncodeError:
        return False
    return len(set(ids)) == len(ids)


def new_server_secret() -> bytes:
    """32 random bytes from the operating system's CSPRNG."""
    return secrets.token_bytes(SECRET_BYTES)


def commitment_of(server_secret: bytes) -> str:
    """``SHA-256(server_secret)``, lowercase hex: published when the draw is scheduled."""
    return hashlib.sha256(server_secret).hexdigest()


def _distinct(categories: Sequence[Category]) -> None:
    names = [c.category for c in categories]
    if not names:
        raise _refuse("至少需要一个抽取类别 (a draw needs at least one category)", "categories")
    if len(set(names)) != len(names):
        raise _refuse(
            "同一类别不能出现两次 (a category may appear only once in a draw)", "categories"
        )


def pool_hash(categories: Sequence[Category]) -> str:
    """SHA-256 (lowercase hex) of canonical ``{category: [[id, weight], ...]}``."""
    _distinct(categories)
    # Tuples encode as JSON arrays, byte for byte as the lists of ``pool_json``; every id
    # and weight was checked (text, whole numbers) when the category was made, so these
    # are canonical_json's bytes without its walk of every entry for floats.
    pools = {c.category: c.pool for c in categories}
    return hashlib.sha256(_encode(pools)).hexdigest()


def _encode(value: Any) -> bytes:
    """canonical_json for a value known to hold only text, whole numbers, lists and objects
    keyed by text (built here from checked categories)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def derive_seed(server_secret: bytes, witness_entropy: str) -> bytes:
    """``SHA-256(b"draw-v1" || server_secret || SHA-256(utf8(witness_entropy)))``, raw bytes."""
    entropy_digest = hashlib.sha256(witness_entropy.encode()).digest()
    return hashlib.sha256(ALGORITHM.encode() + server_secret + entropy_digest).digest()


def pick(seed: bytes, categories: Sequence[Category]) -> list[list[str]]:
    """The picks of every category, in request order and pick order."""
    taken: set[str] = set()
    result: list[list[str]] = []
    for category in categories:
        remaining = [(i, w) for i, w in category.pool if i not in taken]
        total = sum(w for _, w in remaining)
        picks: list[str] = []
        unweighted = total == len(remaining)  # every weight 1 (experts): r is the index
        for i in range(category.wanted):
            if not remaining:
                break
            message = f"{category.category}|{i}".encode()
            r = int.from_bytes(hmac.new(seed, message, hashlib.sha256).digest(), "big") % total
            if unweighted:
                candidate_id = remaining.pop(r)[0]
                picks.append(candidate_id)
                taken.add(candidate_id)
                total -= 1
                continue
            for index, (candidate_id, weight) in enumerate(remaining):
                if r < weight:
                    picks.append(candidate_id)
                    taken.add(candidate_id)
                    total -= weight
                    del remaining[index]
                    break
                r -= weight
        result.append(picks)
    return result


def run_draw(
    *,
    draw: str,
    server_secret: bytes,
    witness_entropy: str,
    categories: Sequence[Category],
    known_pool_hash: str | None = None,
) -> dict[str, Any]:
    """The unsigned transcript of a draw (everything but ``signature``).

    ``known_pool_hash``: the hash these very pools were fixed with (the platform sealed them
    with it), so it is not computed again; verification always recomputes it."""
    if len(server_secret) != SECRET_BYTES:
        raise _refuse("服务器密钥须为32字节 (server_secret must be 32 bytes)", "server_secret")
    if not _is_text(witness_entropy) or not _is_text(draw):
        raise _refuse("见证随机数须为文本 (witness_entropy must be text)", "witness_entropy")
    seed = derive_seed(server_secret, witness_entropy)
    picks = pick(seed, categories)
    return {
        "algorithm": ALGORITHM,
        "draw": draw,
        "commitment": commitment_of(server_secret),
        "pool_hash": known_pool_hash or pool_hash(categories),
        "server_secret": server_secret.hex(),
        "witness_entropy": witness_entropy,
        "seed": seed.hex(),
        "categories": [
            {
                "category": c.category,
                "count": c.count,
                "backups": c.backups,
                "pool": c.pool_json(),
                "excluded": [e.to_json() for e in c.excluded],
                "picks": chosen,
            }
            for c, chosen in zip(categories, picks, strict=True)
        ],
    }


def transcript_message(transcript: Mapping[str, Any]) -> bytes:
    """The bytes signed: canonical JSON of the transcript without ``signature``."""
    return canonical_json({k: v for k, v in transcript.items() if k != "signature"})


def sign_transcript(transcript: Mapping[str, Any], key: PlatformKey) -> dict[str, Any]:
    """``transcript`` with the platform's ``signature`` added (replacing any)."""
    return signed_transcript(transcript, key)[0]


def _members(obj: bytes) -> list[bytes]:
    """The members of a canonical JSON object's bytes, as one piece (``{}``: none)."""
    return [] if obj == b"{}" else [obj[1:-1]]


def signed_transcript(
    transcript: Mapping[str, Any], key: PlatformKey, *, made_here: bool = False
) -> tuple[dict[str, Any], bytes]:
    """``transcript`` signed, and the canonical bytes of the signed transcript (whose SHA-256
    the chain records), both from one encoding of the pools: a canonical object is its
    members in key order, so the bytes signed and the bytes with ``signature`` differ only
    by that member, between the keys before and after it. ``made_here``: the transcript is
    :func:`run_draw`'s (text and whole numbers only), so the walk for floats is skipped."""
    encode = _encode if made_here else canonical_json
    unsigned = {k: v for k, v in transcript.items() if k != "signature"}
    before = encode({k: v for k, v in unsigned.items() if k < "signature"})
    after = encode({k: v for k, v in unsigned.items() if k > "signature"})
    message = b"{" + b",".join(_members(before) + _members(after)) + b"}"
    signature = key.sign_b64(message)
    member = canonical_json({"signature": signature})
    whole = b"{" + b",".join(_members(before) + _members(member) + _members(after)) + b"}"
    return {**unsigned, "signature": signature}, whole


# --- verification -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TranscriptCheck:
    """What :func:`verify_transcript` found: ``ok``, else every problem in plain words."""

    draw: str | None
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {"draw": self.draw, "ok": self.ok, "problems": list(self.problems)}


def _shape_problems(transcript: Mapping[str, Any]) -> list[str]:
    """Type and key checks; a transcript that fails them is not re-run."""
    problems: list[str] = []
    if not _all_text(transcript):
        return ["记录含有无法以UTF-8编码的字符 (the transcript holds text with no UTF-8 bytes)"]
    keys = set(transcript)
    if keys != _TRANSCRIPT_KEYS:
        missing = sorted(_TRANSCRIPT_KEYS - keys)
        extra = sorted(keys - _TRANSCRIPT_KEYS)
        problems.append(
            f"字段不符 (the transcript's fields differ from draw-v1: missing {missing}, "
            f"unexpected {extra})"
        )
        return problems
    if transcript["algorithm"] != ALGORITHM:
        problems.append(f"算法不是 {ALGORITHM} (algorithm is {transcript['algorithm']!r})")
    for name in ("draw", "witness_entropy", "signature"):
        if not isinstance(transcript[name], str):
            problems.append(f"{name} 须为字符串 ({name} must be a string)")
    for name in ("commitment", "pool_hash", "server_secret", "seed"):
        if not isinstance(transcript[name], str) or not _HEX64.fullmatch(transcript[name]):
            problems.append(f"{name} 须为64位小写十六进制 ({name} must be 64 lowercase hex digits)")
    categories = transcript["categories"]
    if not isinstance(categories, list) or not categories:
        problems.append("categories 须为非空数组 (categories must be a non-empty array)")
        return problems
    for n, category in enumerate(categories):
        problems.extend(_category_shape(n, category))
    return problems


def _category_shape(n: int, category: object) -> list[str]:
    where = f"categories[{n}]"
    if not isinstance(category, dict) or set(category) != _CATEGORY_KEYS:
        return [f"{where} 的字段不符 (must have exactly {sorted(_CATEGORY_KEYS)})"]
    problems: list[str] = []
    if not isinstance(category["category"], str):
        problems.append(f"{where}.category 须为字符串 (must be a string)")
    for name in ("count", "backups"):
        if not _is_int(category[name]):
            problems.append(f"{where}.{name} 须为整数 (must be an integer)")
    pool = category["pool"]
    if not isinstance(pool, list) or not all(
        isinstance(e, list) and len(e) == 2 and isinstance(e[0], str) and _is_int(e[1])
        for e in pool
    ):
        problems.append(f"{where}.pool 须为 [[id, weight], ...] (must be [[id, weight], ...])")
    excluded = category["excluded"]
    if not isinstance(excluded, list) or not all(
        isinstance(e, dict)
        and set(e) == _EXCLUSION_KEYS
        and all(isinstance(v, str) for v in e.values())
        for e in excluded
    ):
        problems.append(f"{where}.excluded 须为 [{{id, rule, detail}}, ...]")
    picks = category["picks"]
    if not isinstance(picks, list) or not all(isinstance(p, str) for p in picks):
        problems.append(f"{where}.picks 须为编号数组 (must be an array of ids)")
    return problems


def _rebuild(transcript: Mapping[str, Any]) -> tuple[list[Category], list[str]]:
    """The categories as :meth:`Category.of` accepts them, with what it refused."""
    categories: list[Category] = []
    problems: list[str] = []
    for n, raw in enumerate(transcript["categories"]):
        pool = [(e[0], e[1]) for e in raw["pool"]]
        if [e[0] for e in raw["pool"]] != sorted((e[0] for e in raw["pool"]), key=id_order):
            problems.append(
                f"categories[{n}] ({raw['category']}) 的候选池未按编号的UTF-8字节排序 "
                "(the pool is not sorted by the ids' UTF-8 bytes)"
            )
        try:
            categories.append(
                Category.of(
                    raw["category"],
                    count=raw["count"],
                    backups=raw["backups"],
                    pool=pool,
                    excluded=[Exclusion(**e) for e in raw["excluded"]],
                )
            )
        except InvalidInput as exc:
            problems.append(f"categories[{n}]: {exc.message}")
    return categories, problems


def verify_transcript(
    transcript: object,
    public_key: bytes,
    *,
    commitment: str | None = None,
    pool_hash_recorded: str | None = None,
) -> TranscriptCheck:
    """Re-derive every field of a signed transcript and check its signature.

    ``commitment`` and ``pool_hash_recorded``, when given, are what the audit chain holds
    (published before the witness's entropy); the transcript must carry the same values.
    Never raises on bad input: a malformed transcript is a problem like any other.
    """
    if not isinstance(transcript, dict):
        return TranscriptCheck(None, ("记录不是JSON对象 (the transcript is not a JSON object)",))
    draw = transcript.get("draw") if isinstance(transcript.get("draw"), str) else None
    problems = _shape_problems(transcript)
    if problems:
        return TranscriptCheck(draw, tuple(problems))
    secret = bytes.fromhex(transcript["server_secret"])
    if commitment_of(secret) != transcript["commitment"]:
        problems.append(
            "承诺值与服务器密钥不符 (commitment is not the SHA-256 of server_secret: the secret"
            " was changed after it was committed)"
        )
    if commitment is not None and commitment != transcript["commitment"]:
        problems.append(
            "承诺值与审计链中公布的不同 (commitment differs from the one the audit chain"
            " published when the draw was scheduled)"
        )
    categories, rebuilt = _rebuild(transcript)
    problems.extend(rebuilt)
    if rebuilt:
        return TranscriptCheck(draw, tuple(problems))
    try:
        recomputed_hash = pool_hash(categories)
    except InvalidInput as exc:
        return TranscriptCheck(draw, (*problems, exc.message))
    if recomputed_hash != transcript["pool_hash"]:
        problems.append(
            "候选池哈希不符 (pool_hash is not the SHA-256 of the categories' pools: a pool was"
            " changed)"
        )
    if pool_hash_recorded is not None and pool_hash_recorded != transcript["pool_hash"]:
        problems.append(
            "候选池哈希与审计链中固定的不同 (pool_hash differs from the one the audit chain"
            " fixed before the witness's entropy)"
        )
    seed = derive_seed(secret, transcript["witness_entropy"])
    if seed.hex() != transcript["seed"]:
        problems.append(
            "种子不符 (seed is not SHA-256(b'draw-v1' || server_secret ||"
            " SHA-256(witness_entropy)): the secret, the entropy or the seed was changed)"
        )
    for raw, expected in zip(transcript["categories"], pick(seed, categories), strict=True):
        if raw["picks"] != expected:
            problems.append(
                f"类别 {raw['category']} 的抽取结果与重算不符 (the picks of {raw['category']}"
                f" differ from a re-run: recorded {raw['picks']}, re-run gives {expected})"
            )
    problems.extend(_signature_problems(transcript, public_key))
    return TranscriptCheck(draw, tuple(problems))


def _signature_problems(transcript: Mapping[str, Any], public_key: bytes) -> list[str]:
    try:
        signature = base64.b64decode(transcript["signature"], validate=True)
    except (binascii.Error, ValueError):
        return ["签名不是标准base64 (signature is not standard base64)"]
    if not verify_signature(public_key, transcript_message(transcript), signature):
        return [
            "平台签名无效 (the platform's Ed25519 signature does not match the transcript:"
            " it was altered after signing, or signed with another key)"
        ]
    return []
