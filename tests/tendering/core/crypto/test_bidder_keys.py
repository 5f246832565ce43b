"""Bidder signing keys and `tendering keygen`."""

from __future__ import annotations

import base64
import hashlib
import json
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from tendering.cli import main
from tendering.core.crypto.bidder_keys import (
    file_sha256,
    generate_bidder_key,
    load_bidder_key,
    parse_public_key,
    save_bidder_key,
    verify_file_signature,
)


def test_save_load_round_trip_with_owner_only_mode(tmp_path: Path) -> None:
    key = generate_bidder_key()
    path = tmp_path / "keys" / "bidder-key.json"
    save_bidder_key(key, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_bidder_key(path).public_b64 == key.public_b64
    with pytest.raises(FileExistsError):
        save_bidder_key(generate_bidder_key(), path)


def test_damaged_key_files_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "k.json"
    save_bidder_key(generate_bidder_key(), path)
    document = json.loads(path.read_text())
    document["public_key"] = generate_bidder_key().public_b64
    damaged = tmp_path / "damaged.json"
    damaged.write_text(json.dumps(document))
    with pytest.raises(ValueError, match="does not match"):
        load_bidder_key(damaged)
    junk = tmp_path / "junk.json"
    junk.write_text("not a key")
    with pytest.raises(ValueError, match="not a tendering bidder key"):
        load_bidder_key(junk)


def test_signature_covers_the_raw_sha256_of_the_whole_file() -> None:
    key = generate_bidder_key()
    data = b"TBID1\n" + bytes(100_000)
    digest = file_sha256(data[i : i + 4096] for i in range(0, len(data), 4096))
    assert digest == hashlib.sha256(data).digest()
    signature = key.sign_digest(digest)
    key.private.public_key().verify(base64.b64decode(signature), digest)  # raw digest signed
    public = parse_public_key(key.public_b64)
    assert verify_file_signature(public, digest, signature)
    assert not verify_file_signature(public, hashlib.sha256(data + b"x").digest(), signature)
    assert not verify_file_signature(public, digest, "not base64!")
    assert not verify_file_signature(generate_bidder_key().public_raw, digest, signature)
    with pytest.raises(ValueError):
        key.sign_digest(digest.hex().encode())


def test_parse_public_key_explains_what_is_wrong() -> None:
    with pytest.raises(ValueError, match="base64"):
        parse_public_key("***")
    with pytest.raises(ValueError, match="32 bytes"):
        parse_public_key(base64.b64encode(bytes(31)).decode())


def test_keygen_writes_a_key_and_prints_its_public_key(tmp_path: Path) -> None:
    out = tmp_path / "mine.json"
    result = CliRunner().invoke(main, ["keygen", "--out", str(out)])
    assert result.exit_code == 0, result.output
    public_b64 = result.stdout.strip()
    assert load_bidder_key(out).public_b64 == public_b64
    assert len(base64.b64decode(public_b64)) == 32
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    again = CliRunner().invoke(main, ["keygen", "--out", str(out)])
    assert again.exit_code != 0
    assert "already exists" in again.output
