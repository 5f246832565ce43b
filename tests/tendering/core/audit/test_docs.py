"""The auditor's own code in docs/audit-chain.md runs, and agrees with the platform."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[4] / "docs" / "audit-chain.md"


@pytest.fixture
def auditor(committed, database_url):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) == 2
    namespace: dict = {"__name__": "auditor"}  # not "__main__": the script part stays idle
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), namespace)
    namespace["dsn"] = "postgresql://" + database_url.split("://", 1)[1]
    return namespace


async def test_the_auditors_code_passes_an_intact_chain(auditor, chain):
    await chain.append("lot:D-1", 4)
    await chain.append("global", 2)
    await chain.checkpoint()
    assert await auditor["check"](auditor["dsn"]) == {"global": None, "lot:D-1": None}
    assert await auditor["check_checkpoints"](auditor["dsn"], chain.key.public_b64) == []


async def test_the_auditors_code_finds_what_the_platform_finds(auditor, chain):
    await chain.append("lot:D-1", 4)
    await chain.append("lot:D-2", 3)
    await chain.append("global", 3)
    await chain.checkpoint()
    await chain.sql("UPDATE audit_event SET at = now() WHERE stream = 'lot:D-1' AND seq = 3")
    await chain.sql("DELETE FROM audit_event WHERE stream = 'lot:D-2' AND seq = 3")
    for old, new in ((1, -1), (2, 1), (-1, 2)):
        await chain.sql(
            f"UPDATE audit_event SET seq = {new} WHERE stream = 'global' AND seq = {old}"
        )
    found = await auditor["check"](auditor["dsn"])
    assert found == {"global": 1, "lot:D-1": 3, "lot:D-2": 3}
    platform = await chain.verify()
    assert {s: r.first_bad_seq for s, r in platform.items()} == found
    # Only the deleted row's checkpoint is missing; the other two still match their rows.
    assert await auditor["check_checkpoints"](auditor["dsn"], chain.key.public_b64) == [
        ("lot:D-2", 3)
    ]
