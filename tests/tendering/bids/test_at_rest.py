"""The stored envelope's header is masked (bids/at_rest.py)."""

from __future__ import annotations

import hashlib
import itertools

from hypothesis import given
from hypothesis import strategies as st

from tendering.bids.at_rest import HEADER_AT, blank_header, masked_header, unmask_head
from tendering.core.secrecy import Secrecy

SECRECY = Secrecy.from_seed(bytes(32))
HEADER = b'{"bidder":"B-042","enc":"...","key_id":"00","lot":"L-001","seg":65536,"v":1}'
FILE = b"TBID1\n" + len(HEADER).to_bytes(4, "big") + HEADER + bytes(range(256)) * 40
SHA = hashlib.sha256(FILE).hexdigest()


def _stored(cuts: list[int]) -> bytes:
    """What the upload writes, the file arriving cut at ``cuts``, then the masked header."""
    bounds = [0, *sorted(set(cuts)), len(FILE)]
    parts = [FILE[a:b] for a, b in itertools.pairwise(bounds) if b > a]
    end = HEADER_AT + len(HEADER)
    written, offset = b"", 0
    for part in parts:  # one part a batch: the worst case for the offsets
        written += b"".join(blank_header([part], offset=offset, header_end=end))
        offset += len(part)
    masked = masked_header(SECRECY, HEADER, SHA)
    return written[:HEADER_AT] + masked + written[end:]


@given(st.lists(st.integers(1, len(FILE) - 1), max_size=6))
def test_the_stored_file_names_nobody_and_reads_back_as_sent(cuts: list[int]) -> None:
    stored = _stored(cuts)
    assert len(stored) == len(FILE) and stored[:HEADER_AT] == FILE[:HEADER_AT]
    assert b"B-042" not in stored and b"L-001" not in stored
    assert stored[HEADER_AT + len(HEADER) :] == FILE[HEADER_AT + len(HEADER) :]
    assert unmask_head(stored, secrecy=SECRECY, sha256_hex=SHA) == FILE


def test_blanking_spans_parts_of_a_batch() -> None:
    parts = [FILE[:7], FILE[7:20], FILE[20:]]
    blanked = b"".join(blank_header(parts, offset=0, header_end=HEADER_AT + len(HEADER)))
    assert blanked[HEADER_AT : HEADER_AT + len(HEADER)] == bytes(len(HEADER))
    assert blanked[:HEADER_AT] == FILE[:HEADER_AT]
    assert blank_header(parts, offset=HEADER_AT + len(HEADER), header_end=HEADER_AT) == parts


def test_a_file_stored_with_a_clear_header_reads_as_it_is() -> None:
    assert unmask_head(FILE, secrecy=SECRECY, sha256_hex=SHA) == FILE
    assert unmask_head(b"not an envelope", secrecy=SECRECY, sha256_hex=SHA) == b"not an envelope"


def test_the_wrong_key_does_not_unmask() -> None:
    other = Secrecy.from_seed(b"\x01" * 32)
    assert unmask_head(_stored([]), secrecy=other, sha256_hex=SHA) != FILE


def test_a_file_masked_under_the_keys_before_0027_still_reads_back_as_sent() -> None:
    """Stored envelopes are not rewritten by the re-key: the v1 mask is recognised."""
    old = SECRECY.previous
    assert old is not None and old.version == 1
    stored = FILE[:HEADER_AT] + masked_header(old, HEADER, SHA) + FILE[HEADER_AT + len(HEADER) :]
    assert stored != _stored([])  # the v2 mask differs
    assert unmask_head(stored, secrecy=SECRECY, sha256_hex=SHA) == FILE
