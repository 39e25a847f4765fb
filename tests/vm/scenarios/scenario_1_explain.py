"""`oomutil show --json` for every process: its recomputed oom_score equals the kernel's,
exactly (6.1 has no per-CPU RSS counter drift: that came with 6.2), for processes of
several sizes and adjustments."""

from __future__ import annotations

import os

from _oom import Hog, make_cgroup, oomutil_json, remove_cgroup


def run():
    make_cgroup("/vX")
    hogs = [Hog("/vX", mib, adj) for mib, adj in ((8, 0), (24, 300), (40, -500), (16, 1000), (4, -999))]
    try:
        pids = sorted(int(name) for name in os.listdir("/proc") if name.isdigit())
        shown = oomutil_json("show", *map(str, pids))
        explained = [r for r in shown if r["explain"] is not None]
        return {
            "listed": len(pids), "shown": len(shown), "explained": len(explained),
            "hogs_explained": sum(1 for r in explained if r["pid"] in {h.pid for h in hogs}),
            "eras": sorted({r["explain"]["era"] for r in explained}),
            "disagree": [{"pid": r["pid"], "predicted": r["explain"]["predicted_oom_score"],
                          "kernel": r["explain"]["kernel_oom_score"]}
                         for r in explained if r["explain"]["agrees"] is not True],
        }
    finally:
        for hog in hogs:
            hog.stop()
        remove_cgroup("/vX")
