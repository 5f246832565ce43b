"""The whole API fuzzed as every caller: operations x callers, requests, answers of 5xx.

    .venv/bin/python bench/api_fuzz.py [--examples 50] [--callers bidder staff ...]

Makes a scratch database on ``BENCH_POSTGRES_URL`` (default the local server), fills it with
``tendering demo``, serves it with a real ``tendering serve``, has schemathesis generate cases
for every operation of its OpenAPI schema (in-process, once for the roles and once for the
public) and sends them once per role of ``Role`` (with that role's demo login) and once
without a token (``tests/e2e/fuzzing.py``). Prints a line per caller and the totals; exits 1
when any answer was a 5xx or a request went unanswered (each listed). ``--examples`` is
schemathesis' ``--max-examples`` per operation (the test suite runs 3); ``--phases`` some of
``examples,coverage,fuzzing`` (the test suite runs ``examples,fuzzing``).
"""

from __future__ import annotations

import argparse
import base64
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._lot import (
    REDIS_URL,
    SERVER_SEED,
    free_port,
    scratch_database,
    wait_until_up,
)
from tests.e2e.fuzzing import BIN, LONG_PHASES, SEED, CallerRun, callers, fuzz_callers, totals


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--examples", type=int, default=50, help="max examples per operation")
    parser.add_argument(
        "--phases",
        default=LONG_PHASES,
        help="schemathesis' phases, some of examples,coverage,fuzzing",
    )
    parser.add_argument("--seed", type=int, default=SEED, help="schemathesis' seed")
    parser.add_argument("--callers", nargs="*", default=callers(), choices=callers())
    args = parser.parse_args()
    with scratch_database() as database_url, tempfile.TemporaryDirectory() as tmp:
        env = os.environ | {
            "DATABASE_URL": database_url,
            "REDIS_URL": REDIS_URL,
            "TENDERING_DATA_DIR": str(Path(tmp) / "data"),
            "TENDERING_SIGNING_KEY": base64.b64encode(SERVER_SEED).decode(),
            "TENDERING_QUEUE": f"tendering-fuzz-{os.getpid()}",
        }
        demo = subprocess.run([str(BIN / "tendering"), "demo"], env=env, capture_output=True)
        if demo.returncode != 0:
            print(demo.stdout.decode(), demo.stderr.decode(), file=sys.stderr)
            return 2
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        log = (Path(tmp) / "serve.log").open("w")
        server = subprocess.Popen(
            [str(BIN / "tendering"), "serve"],
            env=env | {"TENDERING_PORT": str(port)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        runs: list[CallerRun] = []
        try:
            wait_until_up(url, seconds=120)
            started = time.monotonic()
            for run in fuzz_callers(
                url,
                examples=args.examples,
                phases=args.phases,
                only=args.callers,
                seed=args.seed,
            ):
                runs.append(run)
                print(
                    f"{run.caller}: {run.requests} requests, {len(run.server_errors)} 5xx "
                    f"({time.monotonic() - started:.0f} s so far)",
                    flush=True,
                )
                for line in run.server_errors[:20] + run.failures:
                    print(f"  {line}", flush=True)
        finally:
            server.terminate()
            server.wait(timeout=60)
            log.close()
            if any(r.server_errors for r in runs):
                print((Path(tmp) / "serve.log").read_text()[-20000:], file=sys.stderr)
    print(
        f"\nphases {args.phases}, examples per operation {args.examples}, seed {args.seed}"
        f"\n{totals(runs)}"
    )
    return 1 if any(r.server_errors or r.failures for r in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
