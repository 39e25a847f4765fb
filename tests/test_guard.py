"""The suite's guard: it runs last (tests/conftest.py orders it) and fails if any process
that the suite did not start has another oom_score_adj than before the first test.  The
suite runs on users' own servers: a test may change only processes it started."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import adj_of_every_process, oom_kill_count


def test_no_foreign_process_was_changed(request):
    before = request.config.foreign_adj
    if not before:
        pytest.skip(f"no /proc to compare on {sys.platform}")
    now = adj_of_every_process()
    changed = {key: (old, now[key]) for key, old in before.items() if key in now and now[key] != old}
    assert not changed, "the suite changed processes it did not start: " + ", ".join(
        f"pid {pid} ({_comm(pid)}) oom_score_adj {a} -> {b}" for (pid, _), (a, b) in changed.items())


def test_no_real_oom_kill_on_this_host_when_opted_out(request):
    """With OOMUTIL_REAL_OOM=0 the suite made no OOM kill on this host (the VM's are its
    own): every test that kills here is marked real_oom.  (Runs last too; a kill by something
    else on this machine meanwhile would show here as well.)"""
    if os.environ.get("OOMUTIL_REAL_OOM") != "0":
        pytest.skip("OOMUTIL_REAL_OOM is not 0: this run may kill in throwaway cgroups")
    before, now = request.config.oom_kills_before, oom_kill_count()
    if before is None or now is None:
        pytest.skip("no /proc/vmstat oom_kill here (before 4.13)")
    assert now == before, f"{now - before} OOM kill(s) on this host during a run with OOMUTIL_REAL_OOM=0"


def test_the_opt_out_skips_every_test_that_kills_here():
    """OOMUTIL_REAL_OOM=0: the tests that kill on this host are skipped, with the reason."""
    tests = Path(__file__).parent
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", "-m", "real_oom",
                        str(tests / "root" / "test_events_real.py")], capture_output=True, text=True,
                       env={**os.environ, "OOMUTIL_REAL_OOM": "0"}, timeout=120, cwd=tests.parent)
    assert "2 skipped" in r.stdout and "OOMUTIL_REAL_OOM=0: no real OOM kill on this host" in r.stdout, r.stdout


def _comm(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return "gone"
