"""Seal and upload a big bid to a real server, beside a bare upload of the same bytes.

    .venv/bin/python bench/seal_upload.py [--mb 200] [--rounds 3] [--pause 0.2]

Starts ``tendering``'s app under uvicorn in a subprocess (its own database, the local Redis),
with one extra bench-only route that streams a body to a file with no checks. Prints the
sealing rate, the checked upload's MB/s beside the bare upload's (the ratio is the figure;
target >= 0.8), beside a bare upload made durable (fsync) and one that also hashes the file
as a receipt must (so the last ratio is what the checks themselves cost), each path's
server CPU seconds and how busy the whole machine was (client included), the disk's own
durable write rate (which bounds any upload whose receipt promises the bytes are on disk,
hence the ratio's ceiling on this machine), the raw AES-256-GCM rate, and the server's peak
RSS (target < 150 MB). Rounds alternate the paths; each path's best round is reported.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

MB = 1_000_000
CHUNK = 1 << 20


def serve() -> None:
    """The server process: the platform's app plus a bare upload route."""
    import uvicorn
    from litestar import Request, put

    from tendering.app import create_app
    from tendering.core.blobs import drop_later
    from tendering.core.interpreter import tune_interpreter
    from tendering.core.writeback import Flusher, write_batch
    from tendering.settings import Settings

    settings = Settings.from_env()

    @put("/bench/bare-upload", request_max_body_size=None, opt={"public": "bench only"})
    async def bare_upload(
        request: Request[Any, Any, Any], durable: bool = False, hashed: bool = False
    ) -> dict[str, int]:
        """Streams the body to a file the way the checked path does (batches of 1 MiB, one
        in flight while the next arrives), without any check. durable: what a receipt
        promises (the bytes on disk before it is signed), made durable the way the checked
        path does it; hashed: also the SHA-256 a receipt names, hashed in a thread beside
        the write, as the checked path does. With both, only the checks differ."""
        size, pending, batch = 0, 0, []
        digest = hashlib.sha256()
        writing: asyncio.Future[Any] | None = None
        path = Path(settings.data_dir) / f"bare-{os.urandom(6).hex()}"
        with path.open("xb", buffering=0) as sink:
            flusher = Flusher(sink.fileno())
            write = partial(write_batch, sink.fileno()) if durable else sink.writelines

            def store(parts: list[bytes]) -> asyncio.Future[Any]:
                steps = [asyncio.to_thread(write, parts)]
                if hashed:
                    steps.append(asyncio.to_thread(_hash_all, digest, parts))
                if durable:
                    flusher.wrote(sum(map(len, parts)))
                return asyncio.gather(*steps)

            async for chunk in request.stream():
                size += len(chunk)
                batch.append(chunk)
                pending += len(chunk)
                if pending >= CHUNK:
                    if writing is not None:
                        await writing
                    writing, batch, pending = store(batch), [], 0
            if writing is not None:
                await writing
            await store(batch)
            if durable:
                await flusher.finish()
        drop_later(path)  # as the checked path keeps its file: removing it is not the upload
        return {"size": size}

    tune_interpreter()  # as ``tendering serve`` does
    app = create_app(settings)
    app.register(bare_upload)
    uvicorn.run(app, host="127.0.0.1", port=settings.port, log_level="warning")


def _hash_all(digest: Any, parts: list[bytes]) -> None:
    for part in parts:
        digest.update(part)


def _peak_rss_mb(pid: int, field: str = "VmHWM:") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1]) / 1024
    return float("nan")


def _cpu_seconds(pid: int) -> float:
    """User plus system CPU time of process ``pid`` (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _machine_busy() -> tuple[float, float]:
    """(busy, all) jiffies of the whole machine so far, every core (``/proc/stat``)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


def _reset_peak_rss(pid: int) -> bool:
    """Start the server's VmHWM afresh (Linux: ``5`` to clear_refs), so the peak measured is
    the uploads' own and not the set-up's: every login verifies an Argon2id hash, which
    takes 64 MiB for a moment by design."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _disk_seconds(source: Path, directory: Path, rounds: int) -> float:
    """Best time to put the file's bytes on this disk durably (the checked path's writes and
    fsync, no network, no hashing): a receipt that promises the bytes are stored cannot
    come sooner, so ``disk / bare`` bounds ``checked / bare`` on this machine."""
    from tendering.core.writeback import write_batch

    best = float("inf")
    for _ in range(rounds):
        with source.open("rb") as handle, tempfile.NamedTemporaryFile(dir=directory) as sink:
            os.sync()
            start = time.perf_counter()
            while batch := handle.read(CHUNK):
                write_batch(sink.fileno(), [batch])
            os.fsync(sink.fileno())
            best = min(best, time.perf_counter() - start)
    return best


def _sha_rate(data_mb: int) -> float:
    block, digest = os.urandom(MB), hashlib.sha256()
    start = time.perf_counter()
    for _ in range(data_mb):
        digest.update(block)
    return data_mb / (time.perf_counter() - start)


def _aes_rate(data_mb: int) -> float:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    aead, block = AESGCM(os.urandom(32)), os.urandom(65536)
    count = data_mb * MB // 65536
    start = time.perf_counter()
    for i in range(count):
        aead.encrypt(i.to_bytes(12, "big"), block, b"h")
    return count * 65536 / MB / (time.perf_counter() - start)


def _seal(path: Path, plain: Path, world: Any, bidder: Any) -> tuple[float, Any]:
    from tendering.bids.client import SealedBid
    from tendering.core.crypto.envelope import EnvelopeSealer

    lot = world.sealing
    sealer = EnvelopeSealer(opening_public_key=lot.public_raw, lot=lot.lot, bidder=bidder.code)
    digest, size = hashlib.sha256(), 0
    start = time.perf_counter()
    with plain.open("rb") as source, path.open("wb") as sink:
        while chunk := source.read(CHUNK):
            for part in sealer.feed_parts(chunk):
                sink.write(part)
                digest.update(part)
                size += len(part)
        last = sealer.finish()
        sink.write(last)
        digest.update(last)
        size += len(last)
    elapsed = time.perf_counter() - start
    sha = digest.digest()
    return elapsed, SealedBid(path, lot.lot, size, sha, bidder.key.sign_digest(sha))


def _bare(url: str, path: Path, size: int, *, durable: bool = False, hashed: bool = False) -> None:
    def body():  # type: ignore[no-untyped-def]
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                yield chunk

    response = httpx.put(
        f"{url}/bench/bare-upload?durable={str(durable).lower()}&hashed={str(hashed).lower()}",
        content=body(),
        headers={"Content-Length": str(size)},
        timeout=600,
    )
    assert response.status_code == 200, response.text


async def _prepare(url: str, database_url: str) -> tuple[Any, Any]:
    from bench._lot import make_world

    client = httpx.AsyncClient(base_url=url, timeout=60)
    world = await make_world(client, database_url)
    await world.publish_lot(n=2, k=2)
    bidder = await world.bidder()
    return world, bidder


@dataclass
class Measured:
    seconds: dict[str, float] = field(default_factory=dict)  # best of the rounds, per path
    cpu: dict[str, float] = field(default_factory=dict)  # server CPU s per upload, per path
    busy: dict[str, float] = field(default_factory=dict)  # machine's busy share, per path
    rss: float = 0.0
    reset: bool = False


def _measure(url: str, pid: int, sealed: Any, token: str, rounds: int, pause: float) -> Measured:
    from tendering.bids.client import upload_bid

    paths = {
        "checked": lambda: upload_bid(url, sealed, token=token),
        "bare": lambda: _bare(url, sealed.path, sealed.size),
        "durable": lambda: _bare(url, sealed.path, sealed.size, durable=True),
        "receipted": lambda: _bare(url, sealed.path, sealed.size, durable=True, hashed=True),
    }
    measured = Measured(reset=_reset_peak_rss(pid))
    # Rounds alternate the paths, so that a slow spell of the (virtual) disk or of a
    # neighbour falls on all of them rather than on one path's rounds.
    for kind, upload in (pair for _ in range(rounds) for pair in paths.items()):
        if kind == "checked":
            _reset_peak_rss(pid)
        os.sync()  # no round pays for the writeback of the one before (or of the sealing)
        time.sleep(pause)  # the previous round's dropped file is freed meanwhile
        before, start = _cpu_seconds(pid), time.perf_counter()
        busy_before, all_before = _machine_busy()
        upload()
        elapsed = time.perf_counter() - start
        busy_after, all_after = _machine_busy()
        share = (busy_after - busy_before) / max(1, all_after - all_before)
        measured.busy[kind] = measured.busy.get(kind, 0.0) + share / rounds
        measured.cpu[kind] = measured.cpu.get(kind, 0.0) + (_cpu_seconds(pid) - before) / rounds
        measured.seconds[kind] = min(measured.seconds.get(kind, float("inf")), elapsed)
        if kind == "checked":  # the checked path's own peak, not the bare ones'
            measured.rss = max(measured.rss, _peak_rss_mb(pid))
    return measured


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--pause", type=float, default=0.2, help="seconds between uploads (a file is freed)"
    )
    args = parser.parse_args()
    from bench._lot import scratch_database, server_process

    with (
        scratch_database() as database_url,
        tempfile.TemporaryDirectory() as tmp,
        server_process(__file__, database_url, str(Path(tmp) / "data")) as (url, pid),
    ):
        world, bidder = asyncio.run(_prepare(url, database_url))
        token = bidder.headers["Authorization"].split()[1]
        idle = _peak_rss_mb(pid, "VmRSS:")
        plain = Path(tmp) / "plain.bin"
        with plain.open("wb") as out:
            for _ in range(args.mb):
                out.write(os.urandom(MB))
        seal_s, sealed = _seal(Path(tmp) / "bid.tbid1", plain, world, bidder)
        plain.unlink()
        setup_peak = _peak_rss_mb(pid)
        measured = _measure(url, pid, sealed, token, args.rounds, args.pause)
        measured.seconds["disk"] = _disk_seconds(sealed.path, Path(tmp), args.rounds)
    _report(args, sealed, seal_s, measured, idle=idle, setup_peak=setup_peak)


def _report(
    args: argparse.Namespace,
    sealed: Any,
    seal_s: float,
    measured: Measured,
    *,
    idle: float,
    setup_peak: float,
) -> None:
    seconds, cpu, rss = measured.seconds, measured.cpu, measured.rss
    checked, bare = seconds["checked"], seconds["bare"]
    durable, receipted = seconds["durable"], seconds["receipted"]
    reset = measured.reset
    size_mb = sealed.size / MB
    print(f"bid size                                  {size_mb:8.1f} MB")
    print(f"seal (AES-256-GCM + SHA-256, to disk)     {size_mb / seal_s:8.0f} MB/s")
    print(f"upload, checked and receipted             {size_mb / checked:8.0f} MB/s")
    print(f"upload, bare (no checks, same server)     {size_mb / bare:8.0f} MB/s")
    print(f"  ratio checked / bare                    {bare / checked:8.2f}   (target >= 0.8)")
    print(f"upload, bare + fsync (same durability)    {size_mb / durable:8.0f} MB/s")
    print(f"  ratio checked / bare + fsync            {durable / checked:8.2f}")
    print(f"upload, bare + fsync + SHA-256, no checks {size_mb / receipted:8.0f} MB/s")
    print(f"  ratio checked / that (the checks' cost) {receipted / checked:8.2f}")
    floor = bare / receipted  # seconds: the rate of bare + fsync + SHA-256 over bare's
    print(f"  ratio that / bare                       {floor:8.2f}   (the SHA-256 and fsync a")
    print("                                                     receipt needs, alone: the checked")
    print("                                                     upload does this and more)")
    sha_rate = _sha_rate(args.mb)
    print(f"raw SHA-256 (hashed once while streaming) {sha_rate:8.0f} MB/s")
    disk = seconds["disk"]
    print(f"disk: write + fsync, no network           {size_mb / disk:8.0f} MB/s")
    print(f"  ceiling of checked / bare on this disk  {bare / disk:8.2f}   (a durable receipt")
    print(f"  checked as a share of that ceiling      {disk / checked:8.2f}    cannot beat it)")
    print("server CPU seconds per upload (all threads; the client shares the same cores)")
    cores = os.cpu_count()
    for kind, label in (
        ("checked", "checked"),
        ("bare", "bare"),
        ("durable", "bare + fsync"),
        ("receipted", "bare + fsync + SHA-256"),
    ):
        busy = measured.busy[kind] * 100
        print(f"  {label:40s}{cpu[kind]:8.2f} s   (machine {busy:3.0f}% busy, {cores} cores)")
    print(f"  SHA-256 of the file alone               {size_mb / sha_rate:8.2f} s")
    print(f"raw AES-256-GCM, one core                 {_aes_rate(args.mb):8.0f} MB/s")
    during = "during the checked uploads" if reset else "since start (could not reset)"
    print(f"server peak RSS {during:26s}{rss:8.0f} MB   (target < 150 MB)")
    print(f"  server RSS when idle, before uploading  {idle:8.0f} MB")
    print(f"  server peak RSS during set-up (logins)  {setup_peak:8.0f} MB")


if __name__ == "__main__":
    if sys.argv[1:] == ["--serve"]:
        serve()
    else:
        main()
