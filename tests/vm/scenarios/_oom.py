"""What the scenarios share inside the VM (cgroup v2, Linux 6.1, root with every
capability): throwaway memory cgroups, processes of chosen size and oom_score_adj, and
the kernel log after a marker, to read the kernel's *first* choice (a pusher that needs
more than one kill frees causes a second kill: who is dead afterwards proves nothing)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from kernel_log import KernelLog  # noqa: F401 -- for the scenarios; tests/kernel_log.py, copied by vm.py

CGROUP2 = "/sys/fs/cgroup"
MiB = 1 << 20
PAGE = os.sysconf("SC_PAGE_SIZE")

# A process that joins nothing by itself: the scenario moves it into a cgroup, then sends
# "N\n" to make it hold N MiB (bytes filled, so every page is resident), "push N\n" to
# allocate N MiB one MiB at a time (a pusher), and it answers "allocated".
_HOG = r"""
import os, sys
adj = int(sys.argv[1])
if adj:
    with open("/proc/self/oom_score_adj", "w") as f:
        f.write(str(adj))
print("ready", flush=True)
held = []
for line in sys.stdin:
    words = line.split()
    if words[0] == "push":
        for _ in range(int(words[1])):
            held.append(b"\1" * (1 << 20))
    else:
        held.append(b"\1" * (int(words[0]) << 20))
    print("allocated", flush=True)
"""


def write(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


def read(path: str) -> str:
    with open(path) as f:
        return f.read()


def make_cgroup(path: str, files: dict = None, parent: bool = False) -> str:
    """/sys/fs/cgroup/PATH (its parents must exist) with ``files`` written
    ({"memory.max": "64M"}); ``parent``: memory enabled for its children (such a cgroup
    may then hold no process itself: cgroup v2's no-internal-process rule)."""
    full = CGROUP2 + path
    os.makedirs(full, exist_ok=True)
    for name, value in (files or {}).items():
        write(f"{full}/{name}", value)
    if parent:
        write(f"{full}/cgroup.subtree_control", "+memory")
    return full


def remove_cgroup(path: str) -> None:
    """Kill what is left in PATH and below, then remove the directories, deepest first."""
    full = CGROUP2 + path
    if not os.path.isdir(full):
        return
    for here, dirs, _ in os.walk(full, topdown=False):
        for pid in read(f"{here}/cgroup.procs").split():
            try:
                os.kill(int(pid), 9)
            except ProcessLookupError:
                pass
        for _ in range(100):
            if not read(f"{here}/cgroup.procs").strip():
                break
            time.sleep(0.05)
        os.rmdir(here)


class Hog:
    """A python3 child in cgroup ``path`` holding ``mib`` MiB, with oom_score_adj ``adj``."""

    def __init__(self, path: str, mib: int = 0, adj: int = 0) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", _HOG, str(adj)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        self.pid = self.proc.pid
        assert self.proc.stdout.readline() == "ready\n"
        write(f"{CGROUP2}{path}/cgroup.procs", str(self.pid))
        if mib:
            self.ask(str(mib))

    def ask(self, command: str) -> None:
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        assert self.proc.stdout.readline() == "allocated\n", f"pid {self.pid} did not allocate"

    def push(self, mib: int) -> None:
        """Allocate ``mib`` MiB one at a time, without waiting for the answer (it may be killed)."""
        self.proc.stdin.write(f"push {mib}\n")
        self.proc.stdin.flush()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:  # a pipe to a killed child
                pass


def oomutil_json(*args: str):
    """``python3 -m oomutil ARGS --json`` inside the VM, parsed (its stderr kept on failure)."""
    out = subprocess.run([sys.executable, "-m", "oomutil", *args, "--json"], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"oomutil {' '.join(args)} exited {out.returncode}: {out.stderr.strip()}")
    return json.loads(out.stdout)


def let_the_ratelimit_recover(seconds: float = 6.0) -> None:
    """The kernel prints at most 10 OOM report headers per 5 s (oom_rs): wait before a
    report whose every line is needed."""
    time.sleep(seconds)
