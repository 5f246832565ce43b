"""Re-running a draw against what the audit chain published, for the supervisory bureau.

    check = await check_stored(session, secrecy=s, key=k, code="ED-2026-0001", actor=supervisor)
    check = await check_document(session, key=k, document=uploaded_json)

Beyond :func:`tendering.core.draw.verify_transcript`, both compare the transcript with the
chain of ``draw:<code>``: the commitment published when it was scheduled, the pool hash
fixed before the entropy, and the SHA-256 of the transcript recorded when it was drawn.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tendering.core.auth.actor import Actor
from tendering.core.canonical import canonical_json
from tendering.core.draw import TranscriptCheck, verify_transcript
from tendering.core.draws.queries import chain_values, read_transcript
from tendering.core.draws.views import transcript_sha256
from tendering.core.secrecy import Secrecy
from tendering.core.signing import PlatformKey

__all__ = ["check_document", "check_stored"]


def _against_chain(
    document: object, public_key: bytes, chain: dict[str, str], *, known: bool
) -> TranscriptCheck:
    check = verify_transcript(
        document,
        public_key,
        commitment=chain.get("commitment"),
        pool_hash_recorded=chain.get("pool_hash"),
    )
    problems = list(check.problems)
    if not known:
        problems.append(
            "审计链中没有这次抽取 (the audit chain holds no draw of this code: nothing was"
            " published before this draw)"
        )
        return TranscriptCheck(check.draw, tuple(problems))
    for name in ("commitment", "pool_hash"):
        if name not in chain:
            problems.append(f"审计链中没有 {name} (the audit chain never published the {name})")
    recorded = chain.get("transcript_sha256")
    if recorded is not None and isinstance(document, dict) and check.ok:
        try:
            digest = transcript_sha256(document)
        except TypeError:
            digest = ""
        if digest != recorded:
            problems.append(
                "记录与抽取时审计链记下的哈希不同 (this transcript is not the one whose SHA-256"
                " the audit chain recorded when the draw was made)"
            )
    return TranscriptCheck(check.draw, tuple(problems))


async def check_stored(
    session: AsyncSession, *, secrecy: Secrecy, key: PlatformKey, code: str, actor: Actor
) -> TranscriptCheck:
    """Re-run the platform's stored transcript of ``code`` (who may see it: as the route)."""
    transcript = await read_transcript(session, secrecy=secrecy, code=code, actor=actor)
    chain = await chain_values(session, code)
    return _against_chain(transcript, key.public_raw, chain, known=bool(chain))


async def check_document(
    session: AsyncSession, *, key: PlatformKey, document: Any
) -> TranscriptCheck:
    """Re-run a transcript someone hands in (a file kept for the record, say)."""
    code = document.get("draw") if isinstance(document, dict) else None
    if not isinstance(code, str):
        return verify_transcript(document, key.public_raw)
    try:
        canonical_json(document)
    except (TypeError, ValueError, UnicodeEncodeError):
        return verify_transcript(document, key.public_raw)
    chain = await chain_values(session, code) if len(code) <= 64 else {}
    return _against_chain(document, key.public_raw, chain, known=bool(chain))
