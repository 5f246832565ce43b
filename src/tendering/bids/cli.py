"""``tendering seal`` (a bidder's machine) and ``tendering opening ...`` (custodians, staff).

::

    tendering seal JY-2026-0001-01 --url https://ggzy.example.gov.cn --token $T \\
        --bidder B-0042 --key bidder-key.json --form bid.json --document 技术标.pdf
    tendering opening register-key --url ... --token ...      # custodian, once
    tendering opening start JY-2026-0001-01 --url ... --token ...       # staff
    tendering opening passphrase JY-2026-0001-01 --url ... --token ...  # each custodian
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import httpx

from tendering.bids.client import BidError, fetch_lot_key, seal_bid, upload_bid
from tendering.core.crypto.bidder_keys import load_bidder_key
from tendering.core.money import yuan

__all__ = ["opening", "seal"]

_url = click.option("--url", envvar="TENDERING_URL", required=True, help="the platform's URL")
_token = click.option("--token", envvar="TENDERING_TOKEN", required=True, help="API token")


@click.command()
@click.argument("lot")
@_url
@_token
@click.option("--bidder", required=True, help="your organization's public code")
@click.option("--key", "key_path", type=click.Path(exists=True, path_type=Path), required=True)
@click.option(
    "--form",
    "form_path",
    type=click.Path(exists=True, path_type=Path),
    required=True,
    help="bid.json: price_fen and the lot's own fields",
)
@click.option(
    "--document",
    "documents",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option(
    "--out", type=click.Path(path_type=Path), default=Path("bid.tbid1"), show_default=True
)
@click.option("--key-id", "key_id", default=None, help="refuse unless the lot's key_id is this")
@click.option("--no-upload", is_flag=True, help="seal and sign only")
def seal(
    lot: str,
    url: str,
    token: str,
    bidder: str,
    key_path: Path,
    form_path: Path,
    documents: tuple[Path, ...],
    out: Path,
    key_id: str | None,
    no_upload: bool,
) -> None:
    """Seal a bid to the lot's opening key, sign it, and upload it (密封并上传投标文件)."""
    if out.exists():  # before asking the platform anything
        raise _exists(out)
    try:
        found = fetch_lot_key(url, lot, token=token, expected_key_id=key_id)
        form = json.loads(form_path.read_text(encoding="utf-8"))
        sealed = seal_bid(
            form=form,
            documents=list(documents),
            lot=found,
            bidder=bidder,
            signing_key=load_bidder_key(key_path),
            out=out,
        )
        click.echo(f"sealed {out} ({sealed.size} bytes, sha256 {sealed.sha256.hex()})", err=True)
        if no_upload:
            return
        with click.progressbar(length=sealed.size, label="uploading") as bar:
            done = [0]

            def progress(sent: int, _total: int) -> None:
                bar.update(sent - done[0])
                done[0] = sent

            receipt = upload_bid(url, sealed, token=token, progress=progress)
    except FileExistsError:
        raise _exists(out) from None
    except (BidError, ValueError, OSError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(json.dumps(receipt, ensure_ascii=False, sort_keys=True))


def _exists(out: Path) -> click.ClickException:
    return click.ClickException(
        f"{out} 已存在 (already exists): it may be a bid you sealed before; move it away or "
        "name another file with --out"
    )


def _call(method: str, url: str, token: str, path: str, body: Any = None) -> Any:
    response = httpx.request(
        method,
        f"{url.rstrip('/')}{path}",
        headers={"Authorization": f"Bearer {token}"},
        json=body,
        timeout=600.0,
    )
    if response.status_code >= 400:
        raise click.ClickException(f"{response.status_code}: {response.text}")
    return response.json()


@click.group()
def opening() -> None:
    """Key custodians and bid opening (密钥保管与开标)."""


@opening.command("register-key")
@_url
@_token
def register_key(url: str, token: str) -> None:
    """Register your custodian key, wrapped by a passphrase you choose."""
    passphrase = click.prompt("passphrase (口令)", hide_input=True, confirmation_prompt=True)
    click.echo(
        json.dumps(_call("POST", url, token, "/api/custodians/me/key", {"passphrase": passphrase}))
    )


@opening.command("start")
@click.argument("lot")
@_url
@_token
def start(lot: str, url: str, token: str) -> None:
    """Start the lot's opening (staff)."""
    click.echo(
        json.dumps(_call("POST", url, token, f"/api/lots/{lot}/opening"), ensure_ascii=False)
    )


@opening.command("passphrase")
@click.argument("lot")
@_url
@_token
def passphrase(lot: str, url: str, token: str) -> None:
    """Enter your custodian passphrase for the lot's opening."""
    secret = click.prompt("passphrase (口令)", hide_input=True)
    result = _call(
        "POST", url, token, f"/api/lots/{lot}/opening/passphrase", {"passphrase": secret}
    )
    if result["state"] == "opening":  # yours was the k-th: show the bids opening, live
        _follow(url, token, lot, after_seq=0)
        result = _call("GET", url, token, f"/api/lots/{lot}/opening")
    click.echo(json.dumps(result, ensure_ascii=False))


def _follow(url: str, token: str, lot: str, *, after_seq: int) -> None:
    """Print each step of the opening (to stderr) until it finishes or goes back to waiting."""
    with httpx.stream(
        "GET",
        f"{url.rstrip('/')}/api/lots/{lot}/opening/live?after_seq={after_seq}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=httpx.Timeout(10.0, read=None),
    ) as live:
        if live.status_code >= 400:
            raise click.ClickException(f"{live.status_code}: {live.read().decode()}")
        for line in live.iter_lines():
            if not line.startswith("data: "):
                continue
            step = json.loads(line[6:])
            click.echo(_describe(step), err=True)
            if step["kind"] in ("finished", "interrupted"):
                return


def _describe(step: dict[str, Any]) -> str:
    payload = step["payload"]
    if step["kind"] == "bid_opened":
        price = payload.get("price_fen")
        shown = yuan(price) if price is not None else "-"
        detail = f"{payload['bidder']} {payload['outcome']} {shown} {payload['reason']}"
    elif step["kind"] == "opening_bids":
        detail = f"{payload['bids']} bids"
    else:
        detail = json.dumps(payload, ensure_ascii=False)
    return f"[{step['seq']}] {step['kind']}: {detail}".rstrip()
