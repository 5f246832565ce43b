"""Re-checking one ``chain-v1`` stream, row by row, with no I/O (pure).

Feed the rows of one stream in ``seq`` order to a :class:`StreamVerifier`, then
:meth:`~StreamVerifier.finish` with the stream's head (``audit_stream``); the report names the
first bad ``seq`` and why, in plain words. Memory stays constant however long the stream is.

    verifier = StreamVerifier("lot:L-1", public_key=key.public_raw)
    for row in rows:            # ordered by seq, each with its checkpoint if any
        verifier.event(row)
    for cp in orphan_checkpoints:   # checkpoints whose event row is gone
        verifier.checkpoint(cp, row_hash=None)
    report = verifier.finish(Head(seq=5, hash="ab..."))

What is caught, and at which ``seq``:

- an edited row (any of ``action``, ``actor``, ``at``, ``payload``, ``hash``): its own seq;
- a deleted row: the first missing seq (a gap, or the head/checkpoints beyond the last row);
- reordered rows (swapped ``seq``): the lower of the two seqs;
- a ``prev_hash`` that is not the previous row's ``hash``: that row's seq;
- a checkpoint whose signature is not the platform's, or whose hash is not the row's: its seq.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tendering.core.audit.chain import GENESIS, checkpoint_message, event_hash
from tendering.core.clock import rfc3339
from tendering.core.errors import Inconsistent
from tendering.core.signing import verify_signature

__all__ = ["CheckpointRow", "EventRow", "Head", "Problem", "StreamReport", "StreamVerifier"]

MAX_PROBLEMS = 20


@dataclass(frozen=True, slots=True)
class EventRow:
    """One ``audit_event`` row as stored, with the checkpoint signed at its seq, if any."""

    stream: str
    seq: int
    action: str
    actor: str
    at: datetime
    payload: Any
    prev_hash: str
    hash: str
    checkpoint_hash: str | None = None
    checkpoint_signature: str | None = None


@dataclass(frozen=True, slots=True)
class CheckpointRow:
    stream: str
    seq: int
    hash: str
    signature: str


@dataclass(frozen=True, slots=True)
class Head:
    """The stream's head row (``audit_stream``): the last seq and hash the platform wrote."""

    seq: int
    hash: str


@dataclass(frozen=True, slots=True)
class Problem:
    seq: int
    reason: str


@dataclass(frozen=True)
class StreamReport:
    stream: str
    events: int
    head_seq: int | None
    checkpoints: int
    last_checkpoint_seq: int | None
    problems: tuple[Problem, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_bad_seq(self) -> int | None:
        return self.problems[0].seq if self.problems else None

    @property
    def reason(self) -> str | None:
        return self.problems[0].reason if self.problems else None

    def to_json(self) -> dict[str, Any]:
        return {
            "stream": self.stream,
            "ok": self.ok,
            "events": self.events,
            "head_seq": self.head_seq,
            "checkpoints": self.checkpoints,
            "last_checkpoint_seq": self.last_checkpoint_seq,
            "first_bad_seq": self.first_bad_seq,
            "reason": self.reason,
            "problems": [{"seq": p.seq, "reason": p.reason} for p in self.problems],
        }


def _short(hex_hash: str) -> str:
    return hex_hash[:16] + "…" if len(hex_hash) > 16 else hex_hash or "(empty)"


class StreamVerifier:
    """Checks one stream's rows in ``seq`` order; starts at seq 1, or after a trusted
    ``(after_seq, after_hash)`` (the checkpoint job re-checks only what is new)."""

    def __init__(
        self,
        stream: str,
        *,
        public_key: bytes | None,
        after_seq: int = 0,
        after_hash: bytes = GENESIS,
    ) -> None:
        self.stream = stream
        self._public_key = public_key
        self._expected = after_seq + 1
        self._prev = after_hash
        self._broken = False
        self._events = 0
        self._last_seq = after_seq
        self._last_hash = after_hash.hex() if after_seq else None
        self._checkpoints = 0
        self._last_checkpoint: int | None = None
        self._problems: list[Problem] = []

    def event(self, row: EventRow) -> None:
        self._events += 1
        if not self._broken:
            problem = self._chain_problem(row)
            if problem is None:
                self._prev = bytes.fromhex(row.hash)
                self._expected = row.seq + 1
            else:
                self._add(problem)
                self._broken = True  # later rows only repeat the same break
        self._last_seq, self._last_hash = row.seq, row.hash
        if row.checkpoint_hash is not None:
            signed = CheckpointRow(
                row.stream, row.seq, row.checkpoint_hash, row.checkpoint_signature or ""
            )
            self.checkpoint(signed, row_hash=row.hash)

    def checkpoint(self, cp: CheckpointRow, *, row_hash: str | None) -> None:
        """One signed checkpoint; ``row_hash`` is the stored hash of the row at its seq."""
        self._checkpoints += 1
        self._last_checkpoint = max(self._last_checkpoint or 0, cp.seq)
        if self._public_key is not None and not self._signature_ok(cp):
            self._add(
                Problem(
                    cp.seq,
                    f"the checkpoint at seq {cp.seq} carries a signature that is not the "
                    "platform's (forged or altered checkpoint)",
                )
            )
        if row_hash is None:
            self._add(
                Problem(
                    cp.seq,
                    f"seq {cp.seq} is missing: the platform signed a checkpoint at seq {cp.seq}"
                    " but that row is no longer in the table (deleted)",
                )
            )
        elif row_hash != cp.hash:
            self._add(
                Problem(
                    cp.seq,
                    f"the row at seq {cp.seq} has hash {_short(row_hash)} but the platform "
                    f"signed {_short(cp.hash)} for it (the chain was rewritten after signing)",
                )
            )

    def finish(self, head: Head | None) -> StreamReport:
        """The report, after comparing the last row with the stream's head."""
        if head is None:
            if self._events:
                self._add(
                    Problem(
                        self._last_seq,
                        "the stream has events but its head row in audit_stream is missing",
                    )
                )
        elif head.seq > self._last_seq:
            self._add(
                Problem(
                    self._last_seq + 1,
                    f"seq {self._last_seq + 1} is missing: the stream head says the last event "
                    f"is seq {head.seq} but the table ends at seq {self._last_seq} (deleted)",
                )
            )
        elif head.seq < self._last_seq:
            self._add(
                Problem(
                    head.seq + 1,
                    f"seq {head.seq + 1} to {self._last_seq} lie beyond the stream head "
                    f"(seq {head.seq}): the platform did not append them",
                )
            )
        elif head.hash != self._last_hash:
            self._add(
                Problem(
                    head.seq,
                    f"the stream head says seq {head.seq} has hash {_short(head.hash)} but the "
                    f"row holds {_short(self._last_hash or '')}",
                )
            )
        return StreamReport(
            stream=self.stream,
            events=self._events,
            head_seq=head.seq if head else None,
            checkpoints=self._checkpoints,
            last_checkpoint_seq=self._last_checkpoint,
            problems=tuple(sorted(self._problems, key=lambda p: p.seq)),
        )

    def _add(self, problem: Problem) -> None:
        if len(self._problems) < MAX_PROBLEMS:
            self._problems.append(problem)
        else:  # keep the earliest ones: the first bad seq is what an auditor starts from
            latest = max(self._problems, key=lambda p: p.seq)
            if problem.seq < latest.seq:
                self._problems[self._problems.index(latest)] = problem

    def _signature_ok(self, cp: CheckpointRow) -> bool:
        if self._public_key is None:
            raise Inconsistent("self._public_key is missing")
        try:
            signature = base64.b64decode(cp.signature, validate=True)
        except (binascii.Error, ValueError):
            return False
        message = checkpoint_message(stream=cp.stream, seq=cp.seq, hash_hex=cp.hash)
        return verify_signature(self._public_key, message, signature)

    def _chain_problem(self, row: EventRow) -> Problem | None:
        if row.seq != self._expected:
            gap = self._expected if row.seq == self._expected + 1 else None
            missing = f"seq {gap}" if gap else f"seq {self._expected} to {row.seq - 1}"
            return Problem(
                self._expected,
                f"{missing} missing: the next row is seq {row.seq} (rows deleted or renumbered)",
            )
        if row.prev_hash != self._prev.hex():
            before = f"seq {row.seq - 1}'s hash" if row.seq > 1 else "32 zero bytes (seq 1)"
            return Problem(
                row.seq,
                f"the row at seq {row.seq} links to prev_hash {_short(row.prev_hash)}, not to "
                f"{before} {_short(self._prev.hex())} (rows reordered, replaced or edited)",
            )
        try:
            if not isinstance(row.payload, dict):
                raise TypeError("not an object")
            computed = event_hash(
                self._prev,
                stream=row.stream,
                seq=row.seq,
                action=row.action,
                actor=row.actor,
                at=rfc3339(row.at),
                payload=row.payload,
            ).hex()
        except (TypeError, ValueError):
            return Problem(
                row.seq,
                f"the payload at seq {row.seq} is not a JSON object with whole numbers only, "
                "as chain-v1 requires (the row was edited)",
            )
        if computed != row.hash:
            return Problem(
                row.seq,
                f"the row at seq {row.seq} no longer matches its hash: one of action, actor, "
                "at, payload or hash was edited",
            )
        return None
