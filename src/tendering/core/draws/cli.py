"""``tendering draws verify TRANSCRIPT.json``: re-run a draw-v1 transcript, anywhere.

    tendering draws verify D-2026-0001.json --url https://ggzy.example.gov.cn
    tendering draws verify D-2026-0001.json --key <base64 from /api/platform/key>

Needs no database: the transcript holds everything a draw was made from. The signature is
checked with ``--key`` (standard base64 of the raw 32-byte Ed25519 key), else the key that
``--url``'s ``/api/platform/key`` publishes, else the platform's own key on this machine.
Exit code 0 when the transcript checks out, 1 when it does not (every problem is printed in
plain words), 2 when the command cannot run (unreadable file, no key).
"""

from __future__ import annotations

import base64
import binascii
import json
from pathlib import Path

import click
import httpx

from tendering.core.cli_support import CannotRun, platform_settings
from tendering.core.draw import verify_transcript
from tendering.core.signing import load_platform_key
from tendering.settings import SettingsError

__all__ = ["draws"]


@click.group()
def draws() -> None:
    """Verify draws of experts and agencies (draw-v1)."""


def _decode_key(given: str, source: str) -> bytes:
    try:
        raw = base64.b64decode(given.strip(), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise CannotRun(f"{source} must be the standard base64 of a raw 32-byte Ed25519 key.")
    return raw


def _key_from(url: str) -> bytes:
    address = url.rstrip("/") + "/api/platform/key"
    try:
        response = httpx.get(address, timeout=30)
        response.raise_for_status()
        public = response.json()["public_key"]
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
        raise CannotRun(f"cannot read the platform key from {address}: {exc}") from None
    return _decode_key(str(public), f"the public_key of {address}")


def _local_key() -> bytes:
    settings = platform_settings()
    if not settings.signing_key_b64 and not settings.signing_key_path.exists():
        raise CannotRun(
            "No key to check the signature with: pass --key (GET /api/platform/key) or --url "
            "(the platform's address), or run this where TENDERING_SIGNING_KEY is set."
        )
    try:
        return load_platform_key(settings).public_raw
    except SettingsError as exc:
        raise CannotRun(str(exc)) from None


def _read(path: Path) -> object:
    try:
        return json.loads(path.read_bytes())
    except OSError as exc:
        raise CannotRun(f"cannot read {path}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CannotRun(f"{path} is not a JSON document: {exc}") from None


@draws.command("verify")
@click.argument("transcript", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--key", "key", default=None, help="Base64 Ed25519 public key of the platform.")
@click.option("--url", "url", default=None, help="The platform's address, to fetch its key.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
def verify(transcript: Path, key: str | None, url: str | None, as_json: bool) -> None:
    """Re-derive commitment, pool hash, seed and picks, and check the platform's signature.

    重算抽取记录：承诺值、候选池哈希、种子、抽取结果与平台签名。
    """
    document = _read(transcript)
    if key is not None:
        public = _decode_key(key, "--key")
    elif url is not None:
        public = _key_from(url)
    else:
        public = _local_key()
    check = verify_transcript(document, public)
    if as_json:
        click.echo(json.dumps(check.to_json(), ensure_ascii=False))
    elif check.ok:
        click.echo(
            f"抽取记录完好 The transcript of draw {check.draw} checks out: commitment, pool hash,"
            " seed and picks re-derived; the platform's signature is valid."
        )
    else:
        click.echo(f"抽取记录不符 The transcript of draw {check.draw} does NOT check out:")
        for problem in check.problems:
            click.echo(f"  - {problem}")
    if not check.ok:
        raise SystemExit(1)
