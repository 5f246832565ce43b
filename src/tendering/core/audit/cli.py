"""``tendering audit``: verify the audit chain and sign checkpoints, from the command line.

    DATABASE_URL=postgresql://auditor@db/tendering tendering audit verify [--stream lot:L-1]

Without ``DATABASE_URL`` it checks the embedded database under ``TENDERING_DATA_DIR``.
Exit code 0 when every stream checks out, 1 when one is broken (its first bad row is
printed in plain words), 2 when the command cannot run (bad settings, no key, no database).
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import TypeVar

import click
from sqlalchemy.ext.asyncio import AsyncSession

from tendering.core.audit.rules import StreamReport
from tendering.core.audit.verify import CheckpointRun, sign_checkpoints, verify_streams
from tendering.core.cli_support import CannotRun, platform_database, run_in_session
from tendering.core.errors import NotFound
from tendering.core.signing import PlatformKey, load_platform_key
from tendering.settings import Settings, SettingsError

__all__ = ["audit"]

T = TypeVar("T")


@click.group()
def audit() -> None:
    """Verify and checkpoint the audit chain (chain-v1)."""


def _platform_key(settings: Settings) -> PlatformKey:
    if not settings.signing_key_b64 and not settings.signing_key_path.exists():
        raise CannotRun(
            f"No platform signing key: TENDERING_SIGNING_KEY is not set and "
            f"{settings.signing_key_path} does not exist (set TENDERING_DATA_DIR to the "
            "platform's data directory)."
        )
    try:
        return load_platform_key(settings)
    except SettingsError as exc:
        raise CannotRun(str(exc)) from None


def _public_key(settings: Settings, given: str | None) -> bytes:
    if given is None:
        return _platform_key(settings).public_raw
    try:
        raw = base64.b64decode(given, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise CannotRun("--public-key must be the standard base64 of a raw 32-byte Ed25519 key.")
    return raw


def _say(report: StreamReport) -> str:
    if report.ok:
        checkpoint = report.last_checkpoint_seq or "none yet"
        return (
            f"ok      {report.stream}: {report.events} events, head seq {report.head_seq}, "
            f"last signed checkpoint seq {checkpoint}"
        )
    return (
        f"BROKEN  {report.stream}: the first bad row is seq {report.first_bad_seq}: {report.reason}"
    )


@audit.command("verify")
@click.option("--stream", "-s", default=None, help="Only this stream (global, lot:<code> ...).")
@click.option(
    "--public-key",
    default=None,
    help="Base64 Ed25519 key to check checkpoint signatures with (GET /api/platform/key); "
    "default: the platform's own key.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON report per stream per line.")
def verify(stream: str | None, public_key: str | None, as_json: bool) -> None:
    """Re-check every event's hash, link and seq, the heads and the signed checkpoints."""
    with platform_database() as settings:
        _verify(settings, stream, _public_key(settings, public_key), as_json=as_json)


def _verify(settings: Settings, stream: str | None, key: bytes, *, as_json: bool) -> None:

    async def work(session: AsyncSession) -> tuple[int, int]:
        streams = broken = 0
        try:
            async for report in verify_streams(session, public_key=key, stream=stream):
                streams += 1
                broken += not report.ok
                line = json.dumps(report.to_json(), ensure_ascii=False) if as_json else _say(report)
                click.echo(line)
        except NotFound as exc:
            raise CannotRun(exc.message) from None
        return streams, broken

    streams, broken = run_in_session(settings, work, writes=False)
    if broken:
        click.echo(f"审计链被篡改 The audit chain is broken in {broken} of {streams} streams.")
        raise SystemExit(1)
    if not as_json:
        click.echo(f"审计链完好 The audit chain checks out: {streams} streams.")


@audit.command("checkpoint")
def checkpoint() -> None:
    """Sign a checkpoint for every stream whose head moved since its last one."""
    with platform_database() as settings:
        key = _platform_key(settings)
        run: CheckpointRun = run_in_session(
            settings, lambda session: sign_checkpoints(session, key=key), writes=True
        )
    click.echo(f"signed {len(run.signed)} checkpoints")
    for report in run.refused:
        click.echo(f"not signed, {_say(report)}")
    if run.refused:
        raise SystemExit(1)
