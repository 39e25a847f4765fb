"""The checks on real v1 memory cgroups: a process filling its cgroup to its limit (OOM006),
and the cgroup's OOM killer switched off (OOM005), read live by `oomutil system`."""

from __future__ import annotations

import json
import os

from helpers import run_oomutil


def _finding(code: str):
    doc = json.loads(run_oomutil("system", "--json").stdout)
    return next((f for f in doc["checks"]["findings"] if f["code"] == code), None)


def test_cgroup_near_its_limit_then_oom_kill_disabled(memcg):
    path = memcg.make("", 64 << 20)
    child = memcg.hog(path)
    child.stdin.write("61\n")  # 61 MiB of 64 (what the process touches once moved is charged): 95.5 %+
    child.stdin.flush()
    assert child.stdout.readline() == "allocated\n"
    f = _finding("OOM006")
    assert f is not None and f"/{memcg.name}" in f["subjects"], f
    assert _finding("OOM005") is None or f"/{memcg.name}" not in _finding("OOM005")["subjects"]

    with open(os.path.join(path, "memory.oom_control"), "w") as control:
        control.write("1")
    f = _finding("OOM005")
    assert f is not None and f["subjects"] == [f"/{memcg.name}"] and f["severity"] == "warning"
    r = run_oomutil("system", "--check")
    assert r.returncode >= 1 and "OOM005" in r.stdout.splitlines()[0]
