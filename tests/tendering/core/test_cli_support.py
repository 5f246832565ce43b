"""Commands that read the platform never invent an empty database to read."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from tendering.cli import main

READ_COMMANDS = (
    ["ledger", "verify"],
    ["audit", "verify"],
    ["audit", "checkpoint"],
    ["users", "list"],
)


@pytest.mark.parametrize("command", READ_COMMANDS, ids=" ".join)
def test_without_a_database_a_read_command_says_so_and_fails(tmp_path, monkeypatch, command):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    data_dir = tmp_path / "not-a-platform"
    result = CliRunner().invoke(main, command, env={"TENDERING_DATA_DIR": str(data_dir)})
    assert result.exit_code == 2, result.output
    assert "no database" in result.output and "DATABASE_URL" in result.output
    assert str(data_dir) in result.output
    assert not (data_dir / "postgres").exists()  # nothing was started or made there
