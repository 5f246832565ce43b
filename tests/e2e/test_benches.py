"""Every benchmark still runs, on tiny sizes: a change that breaks one shows up here, not
on the day someone wants its figures. No figure is asserted (they live in bench/)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]

BENCHES = {
    "seal_upload": (["--mb", "4", "--rounds", "1", "--pause", "0"], "ratio checked / bare"),
    "opening": (["--small", "3", "--big", "1", "--big-mb", "2"], "ratio opening / raw decrypt"),
    "live_fanout": (
        ["--watchers", "5", "--frames", "5", "--idle", "0.1", "--settle", "0"],
        "frames delivered",
    ),
    "crypto_rates": (["--mb", "4", "--rounds", "1", "--per-call-seconds", "0.05"], "ratio"),
    "blob_store": (["--mib", "8"], "MB/s"),
    "audit_verify": (["--events", "2000", "--batch", "500", "--appends", "50"], "events/s"),
    "ledger_import": (["--lines", "200", "--transfers", "200", "--writers", "2"], "/s"),
    "login_storm": (["--wrong", "2", "--right", "2", "--probes", "5"], "ratio /health p99"),
    "stalled_uploads": (
        ["--users", "2", "--per-user", "3", "--cap", "2", "--idle", "1", "--settle", "0.1"],
        "open files",
    ),
    "expert_import": (["--rows", "300"], "import / floor"),
    "draw": (["--experts", "3000", "--runs", "1"], "the SELECT (target"),
    "auction_hot": (["--quick"], "auction_hot: accepted/s"),
}


@pytest.mark.parametrize("name", sorted(BENCHES))
def test_the_benchmark_runs_and_prints_its_figures(
    name: str, servers: Any, template_database: str
) -> None:
    args, line = BENCHES[name]
    # On the tests' PostgreSQL, its scratch databases copies of the run's migrated template
    # (bench/_scratch.py): migrating each anew took 2 s of the check's 3 to 20.
    env = os.environ | {
        "BENCH_POSTGRES_URL": servers.postgres_url,
        "BENCH_TEMPLATE_DATABASE": template_database,
        "BENCH_REDIS_URL": servers.redis_url,
    }
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / f"{name}.py"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert line in result.stdout, result.stdout[-3000:]
