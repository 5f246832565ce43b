"""``tendering keygen``: make a bidder's Ed25519 signing key on the bidder's own machine."""

from __future__ import annotations

from pathlib import Path

import click

from tendering.core.crypto.bidder_keys import generate_bidder_key, save_bidder_key

__all__ = ["keygen"]


@click.command()
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("bidder-key.json"),
    show_default=True,
    help="Where to write the private key (created with mode 0600; never overwritten).",
)
def keygen(out: Path) -> None:
    """Make a bidder signing key; print its public key (base64) to register on the platform.

    生成投标人签名密钥。Only the public key leaves this machine: register it to your
    organization through the API; keep the key file private.
    """
    if out.exists():
        raise click.ClickException(f"{out} already exists; choose another --out path")
    key = generate_bidder_key()
    save_bidder_key(key, out)
    click.echo(f"private key written to {out} (mode 0600)", err=True)
    click.echo(key.public_b64)
