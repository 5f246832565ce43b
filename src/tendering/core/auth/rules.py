"""Pure rules of the organization and user directory: formats and which role fits where.

No I/O here: plain values in, a result or a :class:`RuleViolation` out.

    >>> credit_code_problem("91350100M000100Y43") is None
    True
    >>> role_fits(Role.BIDDER, OrgKind.CENTER)
    False
"""

from __future__ import annotations

import re

from tendering.core.auth.models import OrgKind, Role
from tendering.core.errors import ErrorCode, RuleViolation

__all__ = [
    "CREDIT_CODE_ALPHABET",
    "MAX_PASSWORD_LENGTH",
    "MIN_PASSWORD_LENGTH",
    "ORG_CODE_PATTERN",
    "ROLE_ORG_KINDS",
    "USERNAME_PATTERN",
    "credit_code_check_char",
    "credit_code_problem",
    "ensure_organization_codes",
    "ensure_role_fits",
    "role_fits",
]

# Organization codes appear inside signed contracts (the tbid1 header, ``tbid1|<lot>|<bidder>``
# as HPKE info), so they are kept to characters that need no escaping anywhere: no ``|``.
ORG_CODE_PATTERN = r"^[A-Z0-9][A-Z0-9_-]{0,63}$"
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 200
USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@-]{2,63}$"

# GB 32100-2015 统一社会信用代码: 18 characters from this 31-character alphabet (no I, O, S,
# V, Z); characters 3-8 are the 6-digit administrative division code; the 18th is a check
# character: 31 - (sum of value * 3^(i-1) mod 31 over the first 17) mod 31.
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
_CREDIT_RE = re.compile(rf"^[{CREDIT_CODE_ALPHABET}]{{2}}[0-9]{{6}}[{CREDIT_CODE_ALPHABET}]{{10}}$")


def credit_code_check_char(first17: str) -> str:
    """The check character (18th) for the first 17 characters of a credit code."""
    total = sum(
        CREDIT_CODE_ALPHABET.index(c) * w for c, w in zip(first17, _CREDIT_WEIGHTS, strict=True)
    )
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def credit_code_problem(code: str) -> str | None:
    """Why ``code`` is not a valid unified social credit code, or ``None`` when it is."""
    if len(code) != 18:
        return f"must be 18 characters long, got {len(code)}"
    if not _CREDIT_RE.match(code):
        return (
            "must use digits and capital letters except I, O, S, V, Z,"
            " with digits in positions 3 to 8 (the region code)"
        )
    expected = credit_code_check_char(code[:17])
    if code[17] != expected:
        return f"has a wrong check character: the 18th character should be {expected!r}"
    return None


def ensure_organization_codes(code: str, credit_code: str | None) -> None:
    """The public code and the credit code are well-formed (for callers other than the API,
    whose schema checks the same)."""
    if not re.fullmatch(ORG_CODE_PATTERN, code):
        raise RuleViolation(
            f"The organization code {code!r} must be 1 to 64 capital letters, digits, '-' or"
            " '_', starting with a letter or digit.",
            code=ErrorCode.ORGANIZATION_CODE_INVALID,
            field="code",
        )
    problem = None if credit_code is None else credit_code_problem(credit_code)
    if problem is not None:
        raise RuleViolation(
            f"The unified social credit code (统一社会信用代码) {problem}.",
            code=ErrorCode.ORGANIZATION_CREDIT_CODE_INVALID,
            field="credit_code",
        )


# Which kinds of organization a user of each role may belong to. Bidders and agencies see
# only their own organization's things, so putting them in the wrong organization would leak.
ROLE_ORG_KINDS: dict[Role, frozenset[OrgKind]] = {
    Role.BIDDER: frozenset({OrgKind.BIDDER}),
    Role.AGENCY: frozenset({OrgKind.AGENCY}),
    Role.STAFF: frozenset({OrgKind.CENTER}),
    Role.ADMIN: frozenset({OrgKind.CENTER}),
    Role.SUPERVISOR: frozenset({OrgKind.SUPERVISOR}),
    # Auction companies are registered as agencies; the center also runs its own auctions.
    Role.AUCTIONEER: frozenset({OrgKind.CENTER, OrgKind.AGENCY}),
    # Experts are employed anywhere (that is what the avoidance rules check).
    Role.EXPERT: frozenset(OrgKind),
}


def role_fits(role: Role, kind: OrgKind) -> bool:
    return kind in ROLE_ORG_KINDS[role]


def ensure_role_fits(role: Role, kind: OrgKind, *, organization: str) -> None:
    """Refuse a user whose role does not belong in an organization of ``kind``."""
    if not role_fits(role, kind):
        kinds = ", ".join(sorted(k.value for k in ROLE_ORG_KINDS[role]))
        raise RuleViolation(
            f"A user with the role {role.value} must belong to an organization of kind"
            f" {kinds}; {organization} is of kind {kind.value}.",
            code=ErrorCode.USER_ROLE_ORGANIZATION_MISMATCH,
            field="role",
            details={"role": role.value, "organization_kind": kind.value},
        )
