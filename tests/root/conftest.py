"""Real memory cgroups (cgroup v1) and real OOM kills in throwaway cgroups.

Needs root and the v1 memory controller at /sys/fs/cgroup/memory; elsewhere these
tests are skipped with the reason.  Everything they create is removed afterwards, also
when a test fails: processes are killed and reaped, cgroups removed children first.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import time

import pytest

V1 = "/sys/fs/cgroup/memory"

# A child that waits for a number of MiB on stdin, touches that much memory, reports, sleeps.
HOG = (
    "import sys, time\n"
    "print('ready', flush=True)\n"
    "mib = int(sys.stdin.readline())\n"
    "x = bytearray(mib << 20)\n"
    "for i in range(0, len(x), 4096): x[i] = 1\n"
    "print('allocated', flush=True)\n"
    "time.sleep(600)\n"
)


def _why_not() -> str:
    if os.geteuid() != 0:
        return "needs root to create memory cgroups"
    if not os.path.isfile(os.path.join(V1, "memory.limit_in_bytes")):
        return f"needs the cgroup v1 memory controller at {V1} (cgroup v2 is covered by tests/fixtures/synthetic)"
    return ""


@pytest.fixture
def memcg():
    """make(rel, limit) creates V1/<unique>/<rel> with that limit; hog(path) starts a
    process in it.  All is torn down afterwards."""
    reason = _why_not()
    if reason:
        pytest.skip(reason)
    top = f"oomutil-test-{os.getpid()}-{time.monotonic_ns()}"
    made, children = [], []

    class Memcg:
        name = top

        def make(self, rel, limit):
            path = os.path.join(V1, top, rel) if rel else os.path.join(V1, top)
            os.mkdir(path)
            made.append(path)
            with open(os.path.join(path, "memory.limit_in_bytes"), "w") as f:
                f.write(str(limit))
            return path

        def adopt(self, child):
            """Kill and reap this child too at the end."""
            children.append(child)
            return child

        def hog(self, path, adj=None):
            child = subprocess.Popen([sys.executable, "-c", HOG], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
            children.append(child)
            assert child.stdout.readline() == "ready\n"
            with open(os.path.join(path, "cgroup.procs"), "w") as f:
                f.write(str(child.pid))
            if adj is not None:
                with open(f"/proc/{child.pid}/oom_score_adj", "w") as f:
                    f.write(str(adj))
            return child

    yield Memcg()
    for child in children:
        if child.poll() is None:
            child.kill()
        child.wait()
    for path in reversed(made):
        for _ in range(100):
            try:
                os.rmdir(path)
                break
            except OSError as err:
                if err.errno == errno.ENOENT:
                    break
                time.sleep(0.05)  # EBUSY while the last task's charges drain
        assert not os.path.exists(path), f"could not remove {path}"
