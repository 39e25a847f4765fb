"""Real v1 memory cgroups with limits, a real OOM kill, and what oomutil reports."""

from __future__ import annotations

import json
import os
import signal

import pytest
from helpers import read_int, run_oomutil

import oomutil
from oomutil.cgroups import memory_cgroup, process_cgroup

pytestmark = pytest.mark.root


def _oom_control(path):
    return dict(line.split() for line in open(os.path.join(path, "memory.oom_control")))


@pytest.mark.real_oom
def test_nested_limits_and_a_real_oom_kill(memcg):
    parent = memcg.make("", 32 << 20)
    child_dir = memcg.make("child", 64 << 20)
    hog = memcg.hog(child_dir)
    path = f"/{memcg.name}/child"

    # before: the parent's 32 MiB bites, not the child's own 64 MiB
    out = run_oomutil("cgroups", "--json", "--all")
    assert (out.returncode, out.stderr) == (0, "")
    rows = {r["cgroup"]["path"]: r for r in json.loads(out.stdout)}
    child = rows[path]["cgroup"]
    assert child["limit_bytes"] == 64 << 20
    assert child["effective_limit_bytes"] == 32 << 20 and child["limited_by"] == f"/{memcg.name}"
    assert child["oom_kill_count"] == 0 and hog.pid in child["pids"]
    assert rows[path]["victim"]["pid"] == hog.pid and rows[path]["scope"] == f"/{memcg.name}"

    shown = json.loads(run_oomutil("show", "--json", hog.pid).stdout)[0]["memory_cgroup"]
    assert shown["path"] == path
    assert (shown["limit_bytes"], shown["effective_limit_bytes"]) == (64 << 20, 32 << 20)
    assert process_cgroup(hog.pid).path == path

    kills_before = oomutil.oom_kill_count()
    hog.stdin.write("100\n")  # far over the parent's limit
    hog.stdin.flush()
    assert hog.wait(timeout=60) == -signal.SIGKILL

    g = memory_cgroup(path)
    assert g.oom_kill_count == 1 == int(_oom_control(child_dir)["oom_kill"])
    assert g.failcnt == read_int(os.path.join(child_dir, "memory.failcnt"))
    # the charge failed against the parent's limit: that is where failcnt grows
    assert memory_cgroup(f"/{memcg.name}").failcnt == read_int(os.path.join(parent, "memory.failcnt")) > 0
    assert g.under_oom is False
    if kills_before is not None:
        assert oomutil.oom_kill_count() == kills_before + 1
    rows = {r["cgroup"]["path"]: r for r in json.loads(run_oomutil("cgroups", "--json", "--all").stdout)}
    assert rows[path]["cgroup"]["oom_kill_count"] == 1
    assert int(_oom_control(parent)["oom_kill"]) == rows[f"/{memcg.name}"]["cgroup"]["oom_kill_count"]


def test_usage_and_limits_equal_the_files(memcg):
    d = memcg.make("", 256 << 20)
    hog = memcg.hog(d)
    hog.stdin.write("20\n")
    hog.stdin.flush()
    assert hog.stdout.readline() == "allocated\n"
    g = memory_cgroup(f"/{memcg.name}")
    assert g.limit_bytes == read_int(os.path.join(d, "memory.limit_in_bytes")) == 256 << 20
    assert g.usage_bytes == read_int(os.path.join(d, "memory.usage_in_bytes")) >= 20 << 20
    assert g.peak_bytes == read_int(os.path.join(d, "memory.max_usage_in_bytes"))
    assert g.pids == (hog.pid,)
    assert g.headroom_bytes == g.limit_bytes - g.usage_bytes
    # the table names it, with usage, limit and headroom
    line = next(l for l in run_oomutil("cgroups").stdout.splitlines() if l.rstrip().endswith(f"/{memcg.name}"))
    assert "256.0 MiB" in line and f"{hog.pid} (python" in line
