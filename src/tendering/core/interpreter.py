"""The interpreter's settings for a serving process: apart from ``core/runtime.py``, so that
a process may tune itself without importing the server's machinery (uvicorn, arq, alembic):
the bare floors of ``bench/`` do.
"""

from __future__ import annotations

import sys

# How long a thread may keep the GIL while another waits for it (CPython's default: 5 ms).
# The event loop runs Python almost all the time; the threads beside it (an opening's
# decryption, an upload's hashing and writes) let go of the GIL at each C call, 30-odd times
# per MiB, and each time waited up to 5 ms to get it back while the loop served requests.
# Four threads opening 200 bids of 1 MB beside one busy Python thread took 13 s at 5 ms and
# 2.3 s at 0.5 ms (1.1 s with nothing beside them, either way).
SWITCH_INTERVAL = 0.0005


def tune_interpreter() -> None:
    """Settings of the interpreter for a serving process (see ``SWITCH_INTERVAL``)."""
    sys.setswitchinterval(SWITCH_INTERVAL)
