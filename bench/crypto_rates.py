"""Crypto rates on this machine, and tbid1 throughput as a ratio of the raw primitives.

    .venv/bin/python bench/crypto_rates.py [--mb 200] [--rounds 5] [--per-call-seconds 1]

Prints raw AES-256-GCM and SHA-256 rates, then sealing, validating (the server's check while
uploading: header + size + one SHA-256) and opening a ``--mb`` envelope, each beside the raw
primitive over the same bytes. Each pair is run alternately ``--rounds`` times and the best
of each kept, so a busy shared machine disturbs both sides alike. Then HPKE seals per second
and Shamir 3-of-5 split and combine in µs. Figures only, no pass/fail.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import time
from collections.abc import Callable, Iterator

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tendering.core.crypto import hpke, shamir
from tendering.core.crypto.envelope import SEG, EnvelopeReader, EnvelopeValidator, seal

MB = 1_000_000
CHUNK = 1 << 20


def best_times(fns: list[Callable[[], object]], rounds: int) -> list[float]:
    best = [float("inf")] * len(fns)
    for _ in range(rounds):
        for index, fn in enumerate(fns):
            start = time.perf_counter()
            fn()
            best[index] = min(best[index], time.perf_counter() - start)
    return best


def compare(
    label: str,
    nbytes: int,
    fn: Callable[[], object],
    baseline: Callable[[], object],
    baseline_label: str,
    rounds: int,
) -> None:
    measured, raw = best_times([fn, baseline], rounds)
    print(f"{label:<46} {nbytes / MB / measured:>7.0f} MB/s")
    print(f"  {baseline_label:<44} {nbytes / MB / raw:>7.0f} MB/s   ratio {raw / measured:.2f}")


def plaintext(total: int) -> Iterator[bytes]:
    block = os.urandom(CHUNK)
    for _ in range(total // CHUNK):
        yield block


def aes_over(chunks: list[bytes]) -> Callable[[], None]:
    aead, nonce = AESGCM(os.urandom(32)), os.urandom(12)

    def run() -> None:
        for chunk in chunks:
            view = memoryview(chunk)
            for start in range(0, len(view), SEG):
                aead.encrypt(nonce, view[start : start + SEG], b"")

    return run


def sha_over(chunks: list[bytes]) -> Callable[[], None]:
    def run() -> None:
        digest = hashlib.sha256()
        for chunk in chunks:
            digest.update(chunk)

    return run


def envelope_rates(total: int, rounds: int) -> None:
    private = hpke.generate_opening_key()
    public = hpke.public_raw_of(private)
    source = list(plaintext(total))

    def do_seal() -> None:
        for _ in seal(source, opening_public_key=public, lot="L-1", bidder="B-1"):
            pass

    label = f"seal {total // MB} MB (output dropped)"
    compare(label, total, do_seal, aes_over(source), "raw AES-256-GCM, 64 KiB calls", rounds)
    sealed = list(seal(source, opening_public_key=public, lot="L-1", bidder="B-1"))
    size = sum(map(len, sealed))

    def do_validate() -> None:
        validator = EnvelopeValidator(expected_lot="L-1", max_size=size)
        for chunk in sealed:
            validator.feed(chunk)
        validator.finish()

    compare(
        "validate (header, size, SHA-256)",
        size,
        do_validate,
        sha_over(sealed),
        "raw SHA-256 of the same bytes",
        rounds,
    )

    def do_open(hash_file: bool = False) -> None:
        reader = EnvelopeReader(private_key=private, expected_lot="L-1", hash_file=hash_file)
        for chunk in sealed:
            reader.feed_parts(chunk)
        reader.finish()

    compare("open", size, do_open, aes_over(sealed), "raw AES-256-GCM of the same bytes", rounds)
    blob = b"".join(sealed)
    reads = [blob[i : i + CHUNK] for i in range(0, len(blob), CHUNK)]  # as read from a file
    del blob

    def open_reads() -> None:
        reader = EnvelopeReader(private_key=private)
        for chunk in reads:
            reader.feed_parts(chunk)
        reader.finish()

    compare(
        "open, fed 1 MiB reads (segments straddle)",
        size,
        open_reads,
        aes_over(reads),
        "raw AES-256-GCM of the same bytes",
        rounds,
    )
    aes, sha = aes_over(sealed), sha_over(sealed)

    def both() -> None:
        aes()
        sha()

    compare(
        "open + SHA-256 of the file",
        size,
        lambda: do_open(hash_file=True),
        both,
        "raw AES-256-GCM + SHA-256 of the same bytes",
        rounds,
    )


def per_call(label: str, fn: Callable[[], object], *, seconds: float = 1.0) -> None:
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        count += 1
    elapsed = (time.perf_counter() - start) / count
    print(f"{label:<46} {elapsed * 1e6:>7.1f} µs  ({1 / elapsed:,.0f}/s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200, help="envelope size in MB")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--per-call-seconds",
        type=float,
        default=1.0,
        help="how long each per-call figure (HPKE, Shamir) is timed",
    )
    args = parser.parse_args()
    total = args.mb * MB // CHUNK * CHUNK
    block = [os.urandom(CHUNK)] * 64
    aes_t, sha_t = best_times([aes_over(block), sha_over(block)], args.rounds)
    print(f"{'raw AES-256-GCM, 64 KiB calls (in cache)':<46} {64 * CHUNK / MB / aes_t:>7.0f} MB/s")
    print(f"{'raw SHA-256, 1 MiB updates (in cache)':<46} {64 * CHUNK / MB / sha_t:>7.0f} MB/s")
    envelope_rates(total, args.rounds)

    public = hpke.public_raw_of(hpke.generate_opening_key())
    file_key, info = os.urandom(32), hpke.envelope_info("L-1", "B-1")
    seconds = args.per_call_seconds
    per_call(
        "HPKE seal of the file key",
        lambda: hpke.seal_file_key(file_key, public, info=info),
        seconds=seconds,
    )
    secret = os.urandom(32)
    shares = shamir.split(secret, k=3, n=5)
    per_call(
        "Shamir 3-of-5 split (32 bytes)", lambda: shamir.split(secret, k=3, n=5), seconds=seconds
    )
    per_call("Shamir combine of 3 shares", lambda: shamir.combine(shares[1:4]), seconds=seconds)


if __name__ == "__main__":
    main()
