"""Money is integer fen (分) everywhere; this is the one way to show it as yuan (元)."""

from __future__ import annotations

__all__ = ["yuan"]


def yuan(fen: int, *, grouped: bool = False) -> str:
    """Fen as yuan with two decimals, exactly (no floats).

    >>> yuan(123456789), yuan(123456789, grouped=True), yuan(-5)
    ('1234567.89', '1,234,567.89', '-0.05')

    Ungrouped is what files for banks and reports' number columns take; grouped reads better
    in sentences.
    """
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole:,}.{cents:02d}" if grouped else f"{sign}{whole}.{cents:02d}"
