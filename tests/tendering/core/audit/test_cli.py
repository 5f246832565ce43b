"""``tendering audit verify | checkpoint`` against the test database, as an operator runs it."""

from __future__ import annotations

import asyncio
import base64
import json
import shutil
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from tendering.cli import main
from tendering.core.signing import PlatformKey


@pytest.fixture
def env(committed, monkeypatch, database_url, key):
    seed = key.private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("TENDERING_SIGNING_KEY", base64.b64encode(seed).decode())
    # Not under pytest's tmp_path: as root, pgserver runs the embedded PostgreSQL as the user
    # `pgserver`, which must traverse the parents, and any pytest run starting meanwhile
    # puts /tmp/pytest-of-root back to mode 0700.
    base = Path(tempfile.mkdtemp(prefix="tendering-audit-cli-"))
    monkeypatch.setenv("TENDERING_DATA_DIR", str(base / "data"))
    yield monkeypatch
    shutil.rmtree(base, ignore_errors=True)


async def tendering(*args: str):
    # The command runs its own event loop, so it runs off the test's loop, in a thread.
    return await asyncio.to_thread(CliRunner().invoke, main, list(args))


async def test_an_intact_chain_exits_0(env, chain):
    await chain.append("lot:K-1", 3)
    await chain.append("global", 1)
    signed = await tendering("audit", "checkpoint")
    assert signed.exit_code == 0, signed.output
    assert "signed 2 checkpoints" in signed.output
    result = await tendering("audit", "verify")
    assert result.exit_code == 0, result.output
    assert "ok      lot:K-1: 3 events, head seq 3, last signed checkpoint seq 3" in result.output
    assert "checks out: 2 streams" in result.output


async def test_a_tampered_row_exits_1_naming_the_first_bad_row(env, chain):
    await chain.append("lot:K-1", 4)
    await chain.append("global", 1)
    await chain.sql("UPDATE audit_event SET payload = '{}' WHERE stream = 'lot:K-1' AND seq = 3")
    result = await tendering("audit", "verify")
    assert result.exit_code == 1, result.output
    assert (
        "BROKEN  lot:K-1: the first bad row is seq 3: the row at seq 3 no longer" in result.output
    )
    assert "ok      global" in result.output
    assert "broken in 1 of 2 streams" in result.output


async def test_one_stream_as_json(env, chain):
    await chain.append("lot:K-1", 2)
    await chain.append("global", 1)
    await chain.sql("DELETE FROM audit_event WHERE stream = 'lot:K-1' AND seq = 2")
    result = await tendering("audit", "verify", "--stream", "lot:K-1", "--json")
    assert result.exit_code == 1
    [line] = [json.loads(x) for x in result.output.splitlines() if x.startswith("{")]
    assert (line["stream"], line["ok"], line["first_bad_seq"]) == ("lot:K-1", False, 2)


async def test_checkpoints_checked_with_another_public_key_are_forged(env, chain):
    await chain.append("global", 1)
    assert (await tendering("audit", "checkpoint")).exit_code == 0
    other = PlatformKey(Ed25519PrivateKey.generate()).public_b64
    result = await tendering("audit", "verify", "--public-key", other)
    assert result.exit_code == 1
    assert "seq 1: the checkpoint at seq 1 carries a signature that is not" in result.output


async def test_without_database_url_it_checks_the_embedded_database(env):
    env.delenv("DATABASE_URL")
    missing = await tendering("audit", "verify")  # nothing there yet: not made to be checked
    assert missing.exit_code == 2 and "no database" in missing.output
    # The first administrator may come before the first `serve`: that makes the database.
    made = await asyncio.to_thread(
        CliRunner().invoke,
        main,
        ["users", "create-admin", "--username", "admin", "--password-stdin"],
        input="a-long-admin-password\n",
    )
    assert made.exit_code == 0, made.output
    result = await tendering("audit", "verify")
    assert result.exit_code == 0, result.output
    assert "starting the embedded servers" in result.output
    assert "The audit chain checks out" in result.output


async def test_without_any_platform_key_it_says_so(env, chain):
    env.delenv("TENDERING_SIGNING_KEY")
    result = await tendering("audit", "checkpoint")
    assert result.exit_code == 2
    assert "No platform signing key" in result.output


async def test_an_unknown_stream_is_named(env, chain):
    result = await tendering("audit", "verify", "--stream", "lot:NOPE")
    assert result.exit_code == 2
    assert "There is no audit stream 'lot:NOPE'" in result.output
