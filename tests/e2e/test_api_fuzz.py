"""The whole API, fuzzed from its own OpenAPI schema (schemathesis): whatever a caller
sends, the answer is never a 5xx. Runs a real ``tendering serve`` on the test database
with the demo data, and fuzzes every operation as each role of ``Role`` (its demo login's
token) and as the public (no token): ``tests/e2e/fuzzing.py``, which generates the cases
once in-process and sends each as every caller.

The budget is small (``TENDERING_FUZZ_EXAMPLES`` cases per operation, default 3; set
``TENDERING_FUZZ_LONG=1`` to add schemathesis' coverage phase, boundary values of every
parameter). ``bench/api_fuzz.py`` is the long run whose totals the closing note quotes."""

from __future__ import annotations

import os

import pytest

from tendering.core.auth.models import Role
from tests.e2e.conftest import LivePlatform
from tests.e2e.fuzzing import LONG_PHASES, PUBLIC, QUICK_PHASES, callers, fuzz_callers, totals

EXAMPLES = int(os.environ.get("TENDERING_FUZZ_EXAMPLES", "3"))
PHASES = LONG_PHASES if os.environ.get("TENDERING_FUZZ_LONG") == "1" else QUICK_PHASES


def test_every_role_and_the_public_are_fuzzed():
    assert set(callers()) == {role.value for role in Role} | {PUBLIC}


@pytest.mark.timeout(3600)
def test_no_request_of_any_caller_makes_the_platform_answer_5xx(live_platform: LivePlatform):
    runs = list(
        fuzz_callers(
            live_platform.url,
            examples=EXAMPLES,
            phases=PHASES,
            meanwhile=lambda: live_platform.tendering("demo", check=True),
        )
    )
    print(totals(runs))  # with -s: the figures of this run
    for run in runs:
        # Every operation was asked as this caller (many answer 401/403 to the wrong role).
        assert sorted(run.operations - run.asked) == [], run.caller
    server_errors = [f"{r.caller}: {line}" for r in runs for line in r.server_errors]
    assert server_errors == [], (
        "\n".join(server_errors) + "\n" + live_platform.log.read_text()[-8000:]
    )
    assert [f for r in runs for f in r.failures] == []
