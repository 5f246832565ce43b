"""Open 300 bids of 1 MB and 10 of 100 MB, beside the raw decrypt time of the same bytes.

    .venv/bin/python bench/opening.py [--small 300] [--small-mb 1] [--big 10] [--big-mb 100]

Builds a published lot (2-of-2 custodians) through the API in-process, seals the bids and
stores them as the upload would (blob store + ``bid`` rows), passes the deadline, starts
the opening and times from the second custodian's passphrase (which rebuilds the key and
answers at once) until the background runner has opened and checked every bid and written
the signed record. Prints those seconds beside the
seconds AES-256-GCM alone takes to decrypt the same number of bytes on one core.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import logging
import os
import secrets
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


MB = 1_000_000


def _zip(price: int, size: int, path: Path) -> None:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("bid.json", json.dumps({"price_fen": price, "duration_days": 100}))
        with archive.open("document.bin", "w", force_zip64=True) as doc:
            left = size
            while left > 0:
                step = min(left, 1 << 20)
                doc.write(os.urandom(step))
                left -= step


def _seal_to_store(plain: Path, store_root: Path, *, lot: Any, bidder: str) -> tuple[str, int]:
    from tendering.core.crypto.envelope import EnvelopeSealer

    sealer = EnvelopeSealer(opening_public_key=lot.public_raw, lot=lot.lot, bidder=bidder)
    digest, size = hashlib.sha256(), 0
    tmp = store_root / "tmp" / f"{secrets.token_hex(8)}.part"
    tmp.parent.mkdir(parents=True, exist_ok=True)
    with plain.open("rb") as source, tmp.open("wb") as sink:
        while chunk := source.read(1 << 20):
            for part in [*sealer.feed_parts(chunk)]:
                sink.write(part)
                digest.update(part)
                size += len(part)
        last = sealer.finish()
        sink.write(last)
        digest.update(last)
        size += len(last)
    sha = digest.hexdigest()
    final = store_root / sha[:2] / sha[2:4] / sha
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, final)
    return sha, size


async def _store_bids(world: Any, app: Any, sizes: list[int], scratch: Path) -> int:
    from tendering.bids.evidence import Evidence, seal_evidence
    from tendering.bids.service import tag_for
    from tendering.core.auth.models import OrgKind

    lot_id = (await world.sql("SELECT id FROM tender_lot WHERE code = :c", c=world.lot))[0][0]
    store_root = app.state["settings"].blob_dir
    total = 0
    for index, size in enumerate(sizes):
        org = await world.people.organization(OrgKind.BIDDER)
        await world.pay_deposit(org.id)  # else the opening revokes the bid (no deposit held)
        plain = scratch / "plain.zip"
        _zip(1_000_00 + index, size, plain)
        sha, sealed = _seal_to_store(plain, store_root, lot=world.sealing, bidder=org.code)
        total += sealed
        tag = tag_for(app.state["platform_key"], lot_id=lot_id, organization_id=org.id)
        evidence = seal_evidence(
            Evidence(nonce=secrets.token_hex(16), bidder_signature="bench"),
            lot=world.lot,
            opening_public_raw=world.sealing.public_raw,
        )
        await world.sql(
            "INSERT INTO bid (bidder_tag, seq, state, sha256, size, received_at, evidence)"
            " VALUES (:tag, :seq, 'current', :sha, :size, clock_timestamp(), :evidence)",
            tag=tag,
            seq=index + 1,
            sha=sha,
            size=sealed,
            evidence=evidence,
        )
    return total


def _cpu() -> float:
    times = os.times()
    return times.user + times.system


def _machine() -> tuple[int, int]:
    """(busy, all) jiffies of the whole machine so far (``/proc/stat``)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(values) - values[3] - values[4], sum(values)


def _raw_decrypt_seconds(total: int) -> float:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    aead = AESGCM(os.urandom(32))
    nonce = bytes(12)
    sealed = aead.encrypt(nonce, os.urandom(65536), b"header")
    count = total // (65536 + 16)
    start = time.perf_counter()
    for _ in range(count):
        aead.decrypt(nonce, sealed, b"header")
    return time.perf_counter() - start


async def run(args: argparse.Namespace, database_url: str, tmp: Path) -> None:
    from bench._lot import REDIS_URL, make_world
    from litestar.testing import AsyncTestClient
    from tests.tendering.bids.conftest import PASSPHRASES

    from tendering.app import create_app
    from tendering.core.interpreter import tune_interpreter
    from tendering.core.secrecy import Secrecy
    from tendering.settings import Settings

    tune_interpreter()  # the app runs in this process, as under ``tendering serve``
    settings = Settings(database_url=database_url, redis_url=REDIS_URL, data_dir=tmp / "data")
    app = create_app(settings)
    async with AsyncTestClient(app=app, timeout=3600) as client:
        world = await make_world(
            client, database_url, secrecy=Secrecy.of(app.state["platform_key"])
        )
        await world.publish_lot(n=2, k=2)
        sizes = [args.small_mb * MB] * args.small + [args.big_mb * MB] * args.big
        prep = time.perf_counter()
        total = await _store_bids(world, app, sizes, tmp)
        print(
            f"prepared {len(sizes)} sealed bids, {total / MB:.0f} MB, in "
            f"{time.perf_counter() - prep:.0f} s"
        )
        # The bids came in over days; their writeback is long done when the opening starts.
        # Without this the opening's fsyncs would queue behind 1.3 GB of it.
        os.sync()
        await world.pass_deadline()
        started = await client.post(
            f"/api/lots/{world.lot}/opening", headers=world.desk.staff_headers
        )
        assert started.status_code == 201, started.text
        for index in (0, 1):
            _, headers = world.custodians[index]
            begin, cpu_before, machine_before = time.perf_counter(), _cpu(), _machine()
            response = await client.post(
                f"/api/lots/{world.lot}/opening/passphrase",
                headers=headers,
                json={"passphrase": PASSPHRASES[index]},
            )
            elapsed = time.perf_counter() - begin
            assert response.status_code == 200, response.text
        answered = elapsed
        body = await world.opened(every=0.1)  # the runner works in the background: poll until done
        elapsed = time.perf_counter() - begin
        cpu = _cpu() - cpu_before
        busy = [after - before for after, before in zip(_machine(), machine_before, strict=True)]
        await world.engine.dispose()
    # An opening that revoked or refused bids did not open them all: its time is not the figure.
    assert body["valid_bids"] == len(sizes), json.dumps(body, ensure_ascii=False)[:3000]
    raw = _raw_decrypt_seconds(total)
    print(f"opening: {body['state']}, {body['valid_bids']} valid of {len(body['results'])}")
    print(f"k-th passphrase request answered in        {answered:8.2f} s")
    print(
        f"open every bid (k-th passphrase to record) {elapsed:8.2f} s  "
        f"({total / MB / elapsed:.0f} MB/s)"
    )
    print(f"raw AES-256-GCM decrypt, same bytes        {raw:8.2f} s  ({total / MB / raw:.0f} MB/s)")
    print(f"  ratio opening / raw decrypt              {elapsed / raw:8.1f}")
    share = 100 * busy[0] / max(1, busy[1])
    print(f"this process's CPU during the opening      {cpu:8.2f} s   (all its threads)")
    cores = os.cpu_count()
    print(f"  the machine meanwhile (PostgreSQL too)   {share:8.0f} %   busy, {cores} cores")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=300)
    parser.add_argument("--small-mb", type=int, default=1)
    parser.add_argument("--big", type=int, default=10)
    parser.add_argument("--big-mb", type=int, default=100)
    args = parser.parse_args()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per status poll otherwise
    from bench._lot import scratch_database

    with scratch_database() as database_url, tempfile.TemporaryDirectory() as tmp:
        asyncio.run(run(args, database_url, Path(tmp)))


if __name__ == "__main__":
    main()
