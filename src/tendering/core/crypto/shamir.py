"""Shamir secret sharing k-of-n over GF(256), byte by byte.

The field is GF(2^8) with the AES polynomial x^8 + x^4 + x^3 + x + 1 (0x11B), generator 3;
addition is XOR. Each byte of the secret is the constant term of its own random polynomial
of degree k-1; share i (x = 1..n) holds that polynomial's value at x for every byte::

    shares = split(private_raw, k=3, n=5)       # [Share(x=1, y=b"..."), ..., Share(x=5, ...)]
    combine(shares[1:4]) == private_raw         # any 3 of them
    Share.from_bytes(share.to_bytes())          # x byte || y bytes, for wrapping and storing

Fewer than k shares say nothing about the secret (every value is equally likely), and
:func:`combine` cannot tell: k-1 shares combine into a wrong value without an error. Check
the result (for an opening key: ``hpke.private_matches(result, key_id)``).

Multiplication by a constant over a whole share is one ``bytes.translate`` with that
constant's 256-byte table, so a 3-of-5 split of 32 bytes costs microseconds.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from tendering.core.errors import ShareError

__all__ = ["POLYNOMIAL", "Share", "combine", "gf_div", "gf_mul", "split"]

POLYNOMIAL = 0x11B


def _tables() -> tuple[list[int], list[int]]:
    exp = [0] * 510
    log = [0] * 256
    value = 1
    for power in range(255):
        exp[power] = value
        log[value] = power
        # value * 3 = value * 2 XOR value, reduced by the AES polynomial.
        doubled = value << 1
        if doubled & 0x100:
            doubled ^= POLYNOMIAL
        value = doubled ^ value
    for power in range(255, 510):
        exp[power] = exp[power - 255]
    return exp, log


_EXP, _LOG = _tables()


def gf_mul(a: int, b: int) -> int:
    if a == 0 or b == 0:
        return 0
    return _EXP[_LOG[a] + _LOG[b]]


def gf_div(a: int, b: int) -> int:
    if b == 0:
        raise ZeroDivisionError("division by zero in GF(256)")
    if a == 0:
        return 0
    return _EXP[_LOG[a] + 255 - _LOG[b]]


@cache
def _times(constant: int) -> bytes:
    """The ``bytes.translate`` table multiplying every byte by ``constant``."""
    return bytes(gf_mul(constant, value) for value in range(256))


def _xor(a: bytes, b: bytes) -> bytes:
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).to_bytes(len(a), "big")


@dataclass(frozen=True)
class Share:
    """One custodian's share: ``x`` in 1..255 and ``y``, as long as the secret."""

    x: int
    y: bytes

    def to_bytes(self) -> bytes:
        return bytes([self.x]) + self.y

    @classmethod
    def from_bytes(cls, data: bytes) -> Share:
        if len(data) < 2 or data[0] == 0:
            raise ShareError("a share is an x byte (1..255) followed by at least one byte")
        return cls(x=data[0], y=bytes(data[1:]))


def split(secret: bytes, *, k: int, n: int) -> list[Share]:
    """``n`` shares of ``secret``, any ``k`` of which rebuild it (2 <= k <= n <= 255)."""
    if not secret:
        raise ShareError("there is no secret to split")
    if k < 2:
        raise ShareError(f"the threshold k must be at least 2, got {k}")
    if n > 255:
        raise ShareError(f"GF(256) allows at most 255 shares, got n={n}")
    if k > n:
        raise ShareError(f"the threshold k={k} exceeds the number of shares n={n}")
    # coefficients[0] is the secret; the others are uniformly random bytes.
    coefficients = [secret] + [secrets.token_bytes(len(secret)) for _ in range(k - 1)]
    shares = []
    for x in range(1, n + 1):
        table = _times(x)
        value = coefficients[-1]
        for coefficient in reversed(coefficients[:-1]):  # Horner
            value = _xor(value.translate(table), coefficient)
        shares.append(Share(x=x, y=value))
    return shares


def combine(shares: Sequence[Share]) -> bytes:
    """The secret interpolated at x = 0 from ``shares`` (needs at least k of them)."""
    if len(shares) < 2:
        raise ShareError("at least two shares are needed")
    xs = [share.x for share in shares]
    if len(set(xs)) != len(xs):
        raise ShareError("the same share was given twice")
    if any(not 1 <= x <= 255 for x in xs):
        raise ShareError("a share's x must be in 1..255")
    length = len(shares[0].y)
    if length == 0 or any(len(share.y) != length for share in shares):
        raise ShareError("the shares have different lengths: they are not from one split")
    secret = bytes(length)
    for share in shares:
        # Lagrange basis at 0: product of x_j / (x_j - x_i); subtraction is XOR.
        weight = 1
        for other in xs:
            if other != share.x:
                weight = gf_mul(weight, gf_div(other, other ^ share.x))
        secret = _xor(secret, share.y.translate(_times(weight)))
    return secret
