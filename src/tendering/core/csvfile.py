"""CSV the platform writes, safe to open in a spreadsheet.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and, in some, a tab
or carriage return before one of them) as a formula: a payee named ``=HYPERLINK(...)`` in a
refund file would run on the cashier's machine (CSV injection, OWASP). Every CSV the platform
writes goes through :func:`writer` or :func:`dict_writer`, which prefix such a cell with ``'``
so it is shown as text. A plain negative number (``-12.50``) is left as it is: it is data,
not a formula, and a spreadsheet must keep reading it as a number::

    out = io.StringIO()
    rows = csvfile.writer(out)
    rows.writerow(["=1+1", "-12.50", 3])   # '=1+1,-12.50,3
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

__all__ = ["FORMULA_STARTS", "SafeDictWriter", "SafeWriter", "dict_writer", "escape", "writer"]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NEGATIVE = re.compile(r"-[0-9]+(?:\.[0-9]+)?")


class _Writable(Protocol):
    def write(self, s: str, /) -> Any: ...


def escape(value: object) -> object:
    """``value`` as a cell a spreadsheet shows and never runs; non-strings unchanged."""
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS):
        return value
    if _PLAIN_NEGATIVE.fullmatch(value):
        return value
    return "'" + value


class SafeWriter:
    """``csv.writer`` whose every cell passes through :func:`escape`."""

    def __init__(self, out: _Writable, **options: Any) -> None:
        self._writer = csv.writer(out, **options)

    def writerow(self, row: Iterable[object]) -> None:
        self._writer.writerow([escape(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)


class SafeDictWriter:
    """``csv.DictWriter`` whose every value passes through :func:`escape`."""

    def __init__(self, out: _Writable, fieldnames: Iterable[str], **options: Any) -> None:
        self._writer = csv.DictWriter(out, fieldnames=list(fieldnames), **options)

    def writeheader(self) -> None:
        self._writer.writeheader()

    def writerow(self, row: Mapping[str, object]) -> None:
        self._writer.writerow({key: escape(value) for key, value in row.items()})


def writer(out: _Writable, *, lineterminator: str = "\r\n") -> SafeWriter:
    """A CSV writer (RFC 4180 line ends by default) that escapes formula cells."""
    return SafeWriter(out, lineterminator=lineterminator)


def dict_writer(
    out: _Writable, fieldnames: Iterable[str], *, lineterminator: str = "\r\n"
) -> SafeDictWriter:
    """A CSV dict writer (RFC 4180 line ends by default) that escapes formula cells."""
    return SafeDictWriter(out, fieldnames, lineterminator=lineterminator)
