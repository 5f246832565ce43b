"""The statement file as the request body, with a size limit the 413 names.

Litestar refuses bodies over 10 MB by default with a bare "Request Entity Too Large"; a
statement route sets no limit of its own there and reads the body here, so the refusal
says the limit and what to do (split the file).
"""

from __future__ import annotations

from typing import Any

from litestar import Request

from tendering.core.errors import ErrorCode, PayloadTooLarge

__all__ = ["MAX_STATEMENT_BYTES", "statement_body"]

MAX_STATEMENT_BYTES = 64 * 1024 * 1024  # a day of 100,000 CSV lines is about 16 MiB
_MIB = 1024 * 1024


def _too_large() -> PayloadTooLarge:
    limit = MAX_STATEMENT_BYTES
    shown = f"{limit // _MIB} MiB" if limit % _MIB == 0 else f"{limit} bytes"
    return PayloadTooLarge(
        f"银行对账单文件过大，每个文件最多 {shown} (a statement file may be at most {shown},"
        f" {limit} bytes: split it by day or by account and import each part)",
        code=ErrorCode.LEDGER_STATEMENT_TOO_LARGE,
        details={"limit_bytes": limit},
    )


async def statement_body(request: Request[Any, Any, Any]) -> bytes:
    """The raw body, refused past :data:`MAX_STATEMENT_BYTES` with the limit named."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_STATEMENT_BYTES:
        raise _too_large()
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_STATEMENT_BYTES:
            raise _too_large()
        chunks.append(chunk)
    return b"".join(chunks)
