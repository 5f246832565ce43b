"""tbid1 round trip and tamper detection (DESIGN.md, "Sealed-bid envelope tbid1")."""

from __future__ import annotations

import hashlib
import json
import random
import tracemalloc
from collections.abc import Callable, Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tendering.core.canonical import canonical_json
from tendering.core.crypto import hpke
from tendering.core.crypto.envelope import (
    SEG,
    TAG,
    EnvelopeReader,
    EnvelopeSealer,
    EnvelopeValidator,
    open_envelope,
    parse_header,
    seal,
    sealed_size,
)
from tendering.core.errors import (
    EnvelopeError,
    EnvelopeMismatch,
    EnvelopeUndecryptable,
    MalformedEnvelope,
)

FULL = SEG + TAG


def sealed(public: bytes, plaintext: bytes, *, lot: str = "L-001", bidder: str = "B-042") -> bytes:
    return b"".join(seal([plaintext], opening_public_key=public, lot=lot, bidder=bidder))


def chunks(data: bytes, size: int) -> Iterator[bytes]:
    return (data[i : i + size] for i in range(0, len(data), size))


def opened(private: X25519PrivateKey, data: bytes, **expect: str) -> bytes:
    return b"".join(open_envelope(chunks(data, 7919), private_key=private, **expect))


def prefix_len(data: bytes) -> int:
    header = parse_header(data)
    assert header is not None
    return header.prefix_len


def failure(private: X25519PrivateKey, data: bytes, **expect: str) -> EnvelopeError:
    with pytest.raises(EnvelopeError) as caught:
        opened(private, data, **expect)
    return caught.value


def with_header(data: bytes, **changes: object) -> bytes:
    """``data`` with header fields replaced (re-canonicalized, length fixed)."""
    start = prefix_len(data)
    fields = json.loads(data[10:start])
    fields.update(changes)
    raw = canonical_json(fields)
    return b"TBID1\n" + len(raw).to_bytes(4, "big") + raw + data[start:]


EDGE_SIZES = [0, 1, TAG, SEG - 1, SEG, SEG + 1, 2 * SEG, 2 * SEG + 1, 3 * SEG - 1]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    size=st.sampled_from(EDGE_SIZES) | st.integers(min_value=0, max_value=4 * SEG + 100),
    seed=st.integers(min_value=0, max_value=2**32),
    read_chunk=st.sampled_from([1, 4096, FULL - 1, FULL, FULL + 1, 1 << 20]),
)
def test_round_trip_any_size_any_chunking(
    opening_key: X25519PrivateKey, opening_public: bytes, size: int, seed: int, read_chunk: int
) -> None:
    rng = random.Random(seed)
    plaintext = rng.randbytes(size)
    cuts = sorted(rng.sample(range(size + 1), k=min(size + 1, 5)))
    pieces = [plaintext[a:b] for a, b in zip([0, *cuts], [*cuts, size], strict=True)]
    data = b"".join(seal(pieces, opening_public_key=opening_public, lot="L-1", bidder="B-1"))

    segments = max(1, -(-size // SEG))  # exactly k*SEG -> k segments, 0 -> one empty one
    assert len(data) == prefix_len(data) + size + segments * TAG
    assert len(data) == sealed_size(size, header_len=prefix_len(data) - 10)
    reader = EnvelopeReader(private_key=opening_key, expected_lot="L-1", hash_file=True)
    out = b"".join(reader.feed(chunk) for chunk in chunks(data, read_chunk)) + reader.finish()
    assert out == plaintext
    assert reader.sha256 == hashlib.sha256(data).digest()

    validator = EnvelopeValidator(expected_lot="L-1", expected_bidder="B-1", max_size=len(data))
    for chunk in chunks(data, read_chunk):
        validator.feed(chunk)
    checked = validator.finish()
    assert (checked.size, checked.sha256, checked.segments) == (
        len(data),
        hashlib.sha256(data).digest(),
        segments,
    )


def test_header_is_canonical_json_with_the_seven_fields(opening_public: bytes) -> None:
    data = sealed(opening_public, b"bid")
    assert data[:6] == b"TBID1\n"
    length = int.from_bytes(data[6:10], "big")
    fields = json.loads(data[10 : 10 + length])
    assert (
        data[10 : 10 + length]
        == json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    )
    assert sorted(fields) == ["bidder", "enc", "key_id", "lot", "seg", "suite", "v"]
    assert fields["seg"] == 65536 and fields["v"] == 1
    assert fields["suite"] == "X25519-HKDF-SHA256-AES-256-GCM"
    assert fields["key_id"] == hashlib.sha256(opening_public).hexdigest()
    assert len(data) == 10 + length + 3 + TAG


def test_every_single_byte_flip_of_a_small_envelope_is_detected(
    opening_key: X25519PrivateKey, opening_public: bytes
) -> None:
    data = sealed(opening_public, b'{"price_fen": 123456}')
    for position in range(len(data)):
        for bit in (0x01, 0x80):
            flipped = bytearray(data)
            flipped[position] ^= bit
            with pytest.raises(EnvelopeError):
                opened(opening_key, bytes(flipped))


def test_flips_in_a_three_segment_envelope_are_detected(
    opening_key: X25519PrivateKey, opening_public: bytes
) -> None:
    data = sealed(opening_public, random.Random(1).randbytes(2 * SEG + 1000))
    start = prefix_len(data)
    boundaries = [start + i * FULL for i in range(3)] + [len(data)]
    positions = set(range(start + 64))  # every header byte and the first payload bytes
    for boundary in boundaries:
        positions |= {p for p in range(boundary - 20, boundary + 20) if 0 <= p < len(data)}
    positions |= set(random.Random(2).sample(range(len(data)), 300))
    for position in sorted(positions):
        flipped = bytearray(data)
        flipped[position] ^= 0x04
        with pytest.raises(EnvelopeError):
            opened(opening_key, bytes(flipped))


def test_truncation_at_every_segment_boundary_is_reported(
    opening_key: X25519PrivateKey, opening_public: bytes
) -> None:
    data = sealed(opening_public, random.Random(3).randbytes(3 * SEG))  # three full segments
    start = prefix_len(data)
    assert failure(opening_key, data[:start]).code == "envelope.truncated"
    for kept in (1, 2):
        error = failure(opening_key, data[: start + kept * FULL])
        assert isinstance(error, EnvelopeUndecryptable)
        assert error.code == "envelope.truncated"
    for cut in (5, start - 1, start + 1, start + FULL + 100, len(data) - 1):
        with pytest.raises(EnvelopeError):
            opened(opening_key, data[:cut])


def test_every_truncation_of_a_small_envelope_is_refused(
    opening_key: X25519PrivateKey, opening_public: bytes
) -> None:
    data = sealed(opening_public, b"x" * 40)
    for cut in range(len(data)):
        with pytest.raises(EnvelopeError):
            opened(opening_key, data[:cut])


def test_data_after_the_final_segment_is_reported(
    opening_key: X25519PrivateKey, opening_public: bytes
) -> None:
    data = sealed(opening_public, random.Random(4).randbytes(2 * SEG))
    error = failure(opening_key, data + bytes(TAG + 1))
    assert error.code == "envelope.extended"
    for tail in (b"\x00", bytes(TAG), data[-FULL:]):
        with pytest.raises(EnvelopeError):
            opened(opening_key, data + tail)
    small = sealed(opening_public, b"short")
    with pytest.raises(EnvelopeError):
        opened(opening_key, small + small[prefix_len(small) :])


def test_reordered_segments_are_refused(
    opening_key: X25519PrivateKey, opening_public: bytes
) -> None:
    data = sealed(opening_public, random.Random(5).randbytes(3 * SEG))
    start = prefix_len(data)
    segments = [data[start + i * FULL : start + (i + 1) * FULL] for i in range(3)]
    for order in ([1, 0, 2], [0, 2, 1], [2, 1, 0]):
        shuffled = data[:start] + b"".join(segments[i] for i in order)
        assert failure(opening_key, shuffled).code == "envelope.segment"


def test_a_header_from_another_envelope_is_refused(
    opening_key: X25519PrivateKey, opening_public: bytes
) -> None:
    first = sealed(opening_public, b"A" * 1000)
    second = sealed(opening_public, b"B" * 1000)
    swapped = first[: prefix_len(first)] + second[prefix_len(second) :]
    assert failure(opening_key, swapped).code == "envelope.segment"
    other_bidder = sealed(opening_public, b"C" * 1000, bidder="B-999")
    swapped = other_bidder[: prefix_len(other_bidder)] + second[prefix_len(second) :]
    assert failure(opening_key, swapped).code == "envelope.segment"


def test_a_bid_sealed_for_lot_a_is_refused_as_lot_b(
    opening_key: X25519PrivateKey, opening_public: bytes
) -> None:
    data = sealed(opening_public, b"price", lot="LOT-A")
    error = failure(opening_key, data, expected_lot="LOT-B")
    assert isinstance(error, EnvelopeMismatch) and error.code == "envelope.wrong_lot"
    # Relabelling the header does not help: HPKE's info binds the lot and the bidder.
    assert failure(opening_key, with_header(data, lot="LOT-B"), expected_lot="LOT-B").code == (
        "envelope.file_key"
    )
    assert failure(opening_key, with_header(data, bidder="B-007")).code == "envelope.file_key"
    assert failure(opening_key, data, expected_bidder="B-007").code == "envelope.wrong_bidder"
    assert opened(opening_key, data, expected_lot="LOT-A", expected_bidder="B-042") == b"price"


def test_another_opening_key_is_refused(
    opening_key: X25519PrivateKey, opening_public: bytes
) -> None:
    other = hpke.generate_opening_key()
    data = sealed(opening_public, b"price")
    assert failure(other, data).code == "envelope.wrong_key"
    forged = with_header(data, key_id=hpke.key_id(hpke.public_raw_of(other)))
    assert failure(other, forged).code == "envelope.file_key"
    validator = EnvelopeValidator(expected_key_id=hpke.key_id(hpke.public_raw_of(other)))
    with pytest.raises(EnvelopeMismatch) as caught:
        validator.feed(data)
    assert caught.value.code == "envelope.wrong_key"


def test_validator_refuses_a_wrong_lot_as_soon_as_the_header_arrives(
    opening_public: bytes,
) -> None:
    data = sealed(opening_public, bytes(5 * SEG))
    validator = EnvelopeValidator(expected_lot="L-002")
    for byte in data[: prefix_len(data) - 1]:
        validator.feed(bytes([byte]))
    assert validator.header is None
    with pytest.raises(EnvelopeMismatch):
        validator.feed(data[prefix_len(data) - 1 : prefix_len(data)])


def test_validator_refuses_an_oversized_upload_before_taking_the_chunk(
    opening_public: bytes,
) -> None:
    data = sealed(opening_public, bytes(3 * SEG))
    validator = EnvelopeValidator(max_size=len(data) - 1)
    validator.feed(data[:FULL])
    with pytest.raises(EnvelopeError) as caught:
        validator.feed(data[FULL:])
    assert caught.value.code == "envelope.too_large"
    assert validator.size == FULL


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (b"", "envelope.truncated"),
        (bytes(TAG - 1), "envelope.structure"),
        (bytes(FULL + TAG), "envelope.structure"),  # empty final segment after a full one
        (bytes(FULL + 3), "envelope.structure"),
    ],
)
def test_validator_checks_the_segment_structure(
    opening_public: bytes, payload: bytes, code: str
) -> None:
    data = sealed(opening_public, b"")
    validator = EnvelopeValidator()
    validator.feed(data[: prefix_len(data)] + payload)
    with pytest.raises(MalformedEnvelope) as caught:
        validator.finish()
    assert caught.value.code == code


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda d: b"TBID2\n" + d[6:], "envelope.magic"),
        (lambda d: b"PK\x03\x04" + d[4:], "envelope.magic"),
        (lambda d: d[:6] + (0).to_bytes(4, "big") + d[10:], "envelope.header"),
        (lambda d: d[:6] + (1 << 20).to_bytes(4, "big") + d[10:], "envelope.header"),
        (lambda d: with_header(d, v=2), "envelope.version"),
        (lambda d: with_header(d, v=True), "envelope.version"),
        (lambda d: with_header(d, suite="X25519-HKDF-SHA256-CHACHA20"), "envelope.suite"),
        (lambda d: with_header(d, seg=4096), "envelope.header"),
        (lambda d: with_header(d, key_id="AB" * 32), "envelope.header"),
        (lambda d: with_header(d, enc="AAAA"), "envelope.header"),
        (lambda d: with_header(d, lot="A|B"), "envelope.header"),
        (lambda d: with_header(d, lot=""), "envelope.header"),
        (lambda d: with_header(d, extra=1), "envelope.header"),
    ],
)
def test_malformed_headers_are_refused_without_the_key(
    opening_public: bytes, mutate: Callable[[bytes], bytes], code: str
) -> None:
    data = mutate(sealed(opening_public, b"bid"))
    with pytest.raises(MalformedEnvelope) as caught:
        validator = EnvelopeValidator()
        validator.feed(data)
        validator.finish()
    assert caught.value.code == code


def test_a_header_with_whitespace_is_not_canonical(opening_public: bytes) -> None:
    data = sealed(opening_public, b"bid")
    start = prefix_len(data)
    spaced = json.dumps(json.loads(data[10:start]), sort_keys=True).encode()
    forged = b"TBID1\n" + len(spaced).to_bytes(4, "big") + spaced + data[start:]
    with pytest.raises(MalformedEnvelope, match="canonical"):
        parse_header(forged)


def test_parse_header_waits_for_more_bytes(opening_public: bytes) -> None:
    data = sealed(opening_public, b"bid")
    for cut in (0, 3, 6, 9, 10, prefix_len(data) - 1):
        assert parse_header(data[:cut]) is None
    header = parse_header(data[: prefix_len(data)])
    assert header is not None
    assert (header.lot, header.bidder) == ("L-001", "B-042")


def test_sealer_refuses_a_code_that_would_make_the_info_ambiguous(opening_public: bytes) -> None:
    with pytest.raises(MalformedEnvelope):
        sealed(opening_public, b"", lot="L|1")


def test_streaming_both_ways_holds_bounded_memory(
    opening_key: X25519PrivateKey, opening_public: bytes
) -> None:
    """A 48 MiB bid sealed and opened chunk by chunk never holds more than 4 MiB."""
    block = random.Random(6).randbytes(1 << 20)
    digest = hashlib.sha256()
    tracemalloc.start()
    try:
        file_chunks = seal(
            (block for _ in range(48)), opening_public_key=opening_public, lot="L", bidder="B"
        )
        for piece in open_envelope(file_chunks, private_key=opening_key):
            digest.update(piece)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert digest.digest() == hashlib.sha256(block * 48).digest()
    assert peak < 4 * (1 << 20)


def test_sealer_pieces_make_the_file_and_it_cannot_be_fed_after_finish(
    opening_key: X25519PrivateKey, opening_public: bytes
) -> None:
    sealer = EnvelopeSealer(opening_public_key=opening_public, lot="L", bidder="B")
    data = sealer.feed(b"a" * (SEG + 5)) + sealer.feed(b"") + sealer.feed(b"b" * 7)
    data += sealer.finish()
    assert opened(opening_key, data) == b"a" * (SEG + 5) + b"b" * 7
    with pytest.raises(RuntimeError):
        sealer.feed(b"more")
    lone = EnvelopeSealer(opening_public_key=opening_public, lot="L", bidder="B")
    assert opened(opening_key, lone.finish()) == b""
