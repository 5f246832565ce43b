"""Weights from grades: the draw follows them (chi-square over fixed seeds); D never enters."""

from __future__ import annotations

import hashlib
from datetime import date

from agencies.rules import Candidate, Certificate, weigh
from agencies.scoring import DEFAULT_RULEBOOK, Rulebook
from tendering.core.draw import Category, Exclusion, pick

DAY = date(2026, 6, 30)
BOOK = Rulebook.from_json(1, date(2020, 1, 1), DEFAULT_RULEBOOK)
CERT = (Certificate("audit", date(2020, 1, 1), date(2030, 1, 1)),)
# Chi-square critical value for 3 degrees of freedom at p = 0.001.
CHI2_3DF_0001 = 16.266


def _candidate(code: str, grade: str, **changes) -> Candidate:
    values = {
        "code": code,
        "filing_approved": True,
        "suspended": False,
        "certificates": CERT,
        "grade": grade,
        "score": {"A": 92, "B": 80, "C": 65, "D": 40}[grade],
        "affiliations": frozenset(),
        "open_engagements": 0,
    }
    return Candidate(**{**values, **changes})


def _weigh(candidate: Candidate, **options):
    return weigh(
        candidate,
        category="audit",
        on=DAY,
        client_credit_code=options.get("client", "91339901MA00000001"),
        max_open=options.get("max_open", 3),
        book=options.get("book", BOOK),
    )


def test_weights_come_from_the_grade_and_d_is_never_eligible():
    verdicts = [_weigh(_candidate(f"AG-{g}", g)) for g in "ABCD"]
    assert verdicts[:3] == [4, 3, 1]
    assert isinstance(verdicts[3], Exclusion) and verdicts[3].rule == "grade"


def test_configured_weights_replace_the_defaults():
    book = Rulebook.from_json(2, DAY, {**DEFAULT_RULEBOOK, "weights": {"A": 10, "B": 5, "C": 2}})
    assert [_weigh(_candidate("X", g), book=book) for g in "ABC"] == [10, 5, 2]


def test_each_avoidance_rule_strikes_with_its_name():
    client = "91339901MA00000001"
    cases = {
        "filing": _candidate("X", "A", filing_approved=False),
        "suspended": _candidate("X", "A", suspended=True),
        "certificate": _candidate(
            "X", "A", certificates=(Certificate("audit", date(2020, 1, 1), date(2026, 6, 29)),)
        ),
        "affiliated": _candidate("X", "A", affiliations=frozenset({client})),
        "engagements": _candidate("X", "A", open_engagements=3),
    }
    for rule, candidate in cases.items():
        verdict = _weigh(candidate, client=client)
        assert isinstance(verdict, Exclusion) and verdict.rule == rule, rule
    # A certificate valid through the day itself still counts; another category's does not.
    last_day = (Certificate("audit", date(2020, 1, 1), DAY),)
    assert _weigh(_candidate("X", "B", certificates=last_day)) == 3
    other = (Certificate("surveying", date(2020, 1, 1), date(2030, 1, 1)),)
    assert isinstance(_weigh(_candidate("X", "B", certificates=other)), Exclusion)


def test_first_picks_follow_the_grade_weights_over_many_fixed_seeds():
    candidates = [
        _candidate("AG-1", "A"),
        _candidate("AG-2", "B"),
        _candidate("AG-3", "C"),
        _candidate("AG-4", "C"),
        _candidate("AG-5", "D"),
    ]
    pool, excluded = [], []
    for c in candidates:
        verdict = _weigh(c)
        (excluded if isinstance(verdict, Exclusion) else pool).append(
            verdict if isinstance(verdict, Exclusion) else (c.code, verdict)
        )
    category = Category.of("audit", count=1, backups=2, pool=pool, excluded=excluded)
    runs = 9000
    counts = dict.fromkeys(("AG-1", "AG-2", "AG-3", "AG-4"), 0)
    for n in range(runs):
        seed = hashlib.sha256(f"chi-square seed {n}".encode()).digest()
        picks = pick(seed, [category])[0]
        assert "AG-5" not in picks and len(picks) == 3
        counts[picks[0]] += 1
    weights = dict(pool)
    total = sum(weights.values())
    chi2 = sum(
        (counts[code] - runs * w / total) ** 2 / (runs * w / total) for code, w in weights.items()
    )
    assert chi2 < CHI2_3DF_0001, (counts, chi2)
    # And the weights matter: a uniform draw would be rejected by the same test.
    uniform = sum((counts[c] - runs / 4) ** 2 / (runs / 4) for c in counts)
    assert uniform > CHI2_3DF_0001, (counts, uniform)
