"""The suite's guard: it runs last (tests/conftest.py orders it) and fails if any process
that the suite did not start has another oom_score_adj than before the first test.  The
suite runs on users' own servers: a test may change only processes it started."""

from __future__ import annotations

import sys

import pytest
from helpers import adj_of_every_process


def test_no_foreign_process_was_changed(request):
    before = request.config.foreign_adj
    if not before:
        pytest.skip(f"no /proc to compare on {sys.platform}")
    now = adj_of_every_process()
    changed = {key: (old, now[key]) for key, old in before.items() if key in now and now[key] != old}
    assert not changed, "the suite changed processes it did not start: " + ", ".join(
        f"pid {pid} ({_comm(pid)}) oom_score_adj {a} -> {b}" for (pid, _), (a, b) in changed.items())


def _comm(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return "gone"
