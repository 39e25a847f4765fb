"""`oomutil system` on a real cgroup v2 host: a cgroup filled to 95 % of its memory.max
(OOM006, its working set read from v2 memory.stat), a process at oom_score_adj -1000 holding
over 10 % of the memory (OOM004, which this VM's root may set and the project's machine may
not), panic_on_oom=2 for a moment (OOM001, critical), and `--check`'s exit codes."""

from __future__ import annotations

import subprocess
import sys

from _oom import Hog, make_cgroup, oomutil_json, read, remove_cgroup, write


def _check(*args: str):
    out = subprocess.run([sys.executable, "-m", "oomutil", "system", "--check", *args], capture_output=True, text=True)
    return {"rc": out.returncode, "first": (out.stdout.splitlines() or [""])[0], "stderr": out.stderr}


def run():
    hogs = []
    panic = read("/proc/sys/vm/panic_on_oom").strip()
    try:
        make_cgroup("/vK", {"memory.max": "64M", "memory.swap.max": "0"})
        make_cgroup("/vP")
        hogs = [Hog("/vK", 61), Hog("/vP", 100, -1000)]
        doc = oomutil_json("system")
        found = {f["code"]: f for f in doc["checks"]["findings"]}
        before = _check()
        everything = _check("--ignore", ",".join(found))
        write("/proc/sys/vm/panic_on_oom", "2")
        critical = _check()
        write("/proc/sys/vm/panic_on_oom", panic)
        return {
            "found": found, "status": doc["checks"]["status"], "not_evaluated": doc["checks"]["not_evaluated"],
            "cgroups": doc["cgroups"], "limited": {g["path"]: g for g in doc["limited_cgroups"]},
            "swaps": read("/proc/swaps"), "swap_areas": doc["swap_areas"],
            "psi_readable": _readable("/proc/pressure/memory"),
            "unkillable": doc["unkillable"], "hog_pids": [h.pid for h in hogs],
            "usage": int(read("/sys/fs/cgroup/vK/memory.current")),
            "check": before, "check_all_ignored": everything, "check_panic": critical,
        }
    finally:
        write("/proc/sys/vm/panic_on_oom", panic)
        for hog in hogs:
            hog.stop()
        remove_cgroup("/vK")
        remove_cgroup("/vP")


def _readable(path: str) -> bool:
    try:
        read(path)
        return True
    except OSError:
        return False
