"""Canonical JSON: the exact bytes that are hashed and signed.

Sorted keys, no whitespace, UTF-8 (not ASCII-escaped), integers only. Every contract in
DESIGN.md (audit chain, receipts, draw transcripts, checkpoints) signs these bytes, so an
auditor reproduces them with ``json.dumps(obj, sort_keys=True, separators=(",", ":"),
ensure_ascii=False).encode()``.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["canonical_json"]


def _reject_floats(value: Any, path: str = "$") -> None:
    if isinstance(value, float):
        raise TypeError(f"{path}: floats are not allowed in canonical JSON (use integers)")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{path}: object keys must be strings")
            _reject_floats(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _reject_floats(item, f"{path}[{index}]")


def _clean(value: Any) -> bool:
    """True when ``value`` holds no float and no non-string key: the walk every call makes,
    iterative and without the paths (a draw transcript has a node per pool entry); the
    paths are built only to name what is wrong."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str or kind is int or kind is bool or item is None:
            continue
        if kind is list or kind is tuple:
            stack.extend(item)
        elif isinstance(item, dict):
            if not all(type(k) is str for k in item):
                return False
            stack.extend(item.values())
        elif isinstance(item, float):
            return False
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return True


def canonical_json(value: Any) -> bytes:
    """The canonical UTF-8 bytes of ``value``; raises ``TypeError`` on a float."""
    if not _clean(value):
        _reject_floats(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
