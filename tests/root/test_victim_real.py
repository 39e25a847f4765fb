"""Real memory cgroup OOMs: `oomutil victim --cgroup` names the process the kernel kills.

Each configuration fills a throwaway v1 cgroup with processes of chosen sizes and
oom_score_adj, asks oomutil for the victim, then lets a small process push the cgroup
over its limit and reads, in the kernel log after a marker, which process the kernel
killed first (a pusher that needs more than one kill frees causes a second kill).  The pusher is the
smallest process there (about 10 MiB of Python plus what it touches), so it does not
change the ranking of the others.
"""

from __future__ import annotations

import json
import os
import time

import pytest
from helpers import KernelLog, build_program, let_the_ratelimit_recover, run_oomutil, start_leaderless

pytestmark = pytest.mark.root

MiB = 1 << 20


def _fill(memcg, path, sizes_adjs):
    procs = []
    for mib, adj in sizes_adjs:
        p = memcg.hog(path, adj=adj)
        p.stdin.write(f"{mib}\n")
        p.stdin.flush()
        assert p.stdout.readline() == "allocated\n"
        procs.append(p)
    return procs


def _first_kill(memcg, path, push_mib=64):
    """Push the cgroup over its limit; the pid the kernel killed first, from its log."""
    log = KernelLog()
    pusher = memcg.hog(path)
    pusher.stdin.write(f"{push_mib}\n")
    pusher.stdin.flush()
    kills = log.kills()
    assert kills, "no OOM kill within 60 s"
    return kills[0]


@pytest.mark.parametrize("sizes_adjs, expected", [
    ([(48, 0), (96, 0), (144, 0)], 2),        # the largest
    ([(144, 0), (96, 0), (48, 500)], 2),      # adj 500 outweighs 96 MiB in a ~300 MiB cgroup
    ([(96, 0), (96, 5)], 1),                  # equal sizes: the tie goes to the higher adj
    ([(48, 1000), (144, 0), (96, 0)], 0),     # adj 1000 on the smallest
    ([(144, 0), (48, 400), (96, 100)], 1),    # 48 MiB + 400 units (120 MiB) > 144 MiB > 96 + 100 units
    ([(200, 0), (40, 1)], 0),                 # adj 1 is 300 KiB here: size decides
])
@pytest.mark.real_oom
def test_predicted_victim_is_killed(memcg, sizes_adjs, expected):
    total = sum(mib for mib, _ in sizes_adjs)
    path = memcg.make("", (total + 16) * MiB)
    cgroup = f"/{memcg.name}"
    procs = _fill(memcg, path, sizes_adjs)
    out = run_oomutil("victim", "--cgroup", cgroup, "--json")
    assert (out.returncode, out.stderr) == (0, "")
    report = json.loads(out.stdout)
    assert report["scope"] == cgroup and report["totalpages"] == (total + 16) * MiB // os.sysconf("SC_PAGE_SIZE")
    assert report["victim"]["pid"] == procs[expected].pid
    assert _first_kill(memcg, path) == procs[expected].pid


@pytest.mark.real_oom
def test_nested_limit_kills_across_the_subtree(memcg):
    # parent limited; two children without limits of their own; the pusher is in child a
    parent = memcg.make("", 256 * MiB)
    a = memcg.make("a", 1 << 40)
    b = memcg.make("b", 1 << 40)
    procs_a = _fill(memcg, a, [(64, 0)])
    procs_b = _fill(memcg, b, [(160, 0)])
    out = json.loads(run_oomutil("victim", "--cgroup", f"/{memcg.name}/a", "--json").stdout)
    assert out["scope"] == f"/{memcg.name}"  # the limit that bites is the parent's
    assert out["victim"]["pid"] == procs_b[0].pid
    assert _first_kill(memcg, a) == procs_b[0].pid
    assert parent


def test_what_if_set_and_grow(memcg):
    path = memcg.make("", 400 * MiB)
    small, large = _fill(memcg, path, [(48, 0), (144, 0)])
    cg = f"/{memcg.name}"
    assert json.loads(run_oomutil("victim", "--cgroup", cg, "--json").stdout)["victim"]["pid"] == large.pid
    assert json.loads(run_oomutil("victim", "--cgroup", cg, "--json", "--set", f"{small.pid}=1000")
                      .stdout)["victim"]["pid"] == small.pid
    assert json.loads(run_oomutil("victim", "--cgroup", cg, "--json", "--grow", f"{small.pid}=200M")
                      .stdout)["victim"]["pid"] == small.pid
    text = run_oomutil("victim", "--cgroup", cg, "--set", f"{small.pid}=1000").stdout
    assert f"what if: pid {small.pid} oom_score_adj 1000" in text and f"victim: pid {small.pid}" in text


@pytest.mark.real_oom
def test_a_process_whose_leader_exited_is_the_victim_and_its_kill_is_logged(memcg, tmp_path):
    """The kernel scores a process through any thread that still holds the memory; its
    log names that thread in "Killed process", the summary line the process."""
    exe = build_program("leaderless", tmp_path)
    path = memcg.make("", 224 * MiB)
    cgroup = f"/{memcg.name}"
    child = memcg.adopt(start_leaderless(exe))
    with open(os.path.join(path, "cgroup.procs"), "w") as f:
        f.write(str(child.pid))
    child.stdin.write("120\n")
    child.stdin.flush()
    word, tid = child.stdout.readline().split()
    assert word == "allocated"
    others = _fill(memcg, path, [(40, 0)])
    report = json.loads(run_oomutil("victim", "--cgroup", cgroup, "--json").stdout)
    assert report["victim"]["pid"] == child.pid, report["candidates"]
    assert child.pid not in [p.pid for p in others]
    let_the_ratelimit_recover()
    assert _first_kill(memcg, path) == int(tid)  # the log names the thread
    events = json.loads(run_oomutil("events", "--json", "--pid", child.pid).stdout)["events"]
    kills = [e for e in events if e.get("killer") == "kernel"]
    assert len(kills) == 1
    assert (kills[0]["pid"], kills[0]["tid"], kills[0]["constraint"], kills[0]["oom_memcg"],
            kills[0]["task_memcg"]) == (child.pid, int(tid), "CONSTRAINT_MEMCG", cgroup, cgroup)


def test_oom_kill_disable_means_no_victim(memcg):
    """v1 memory.oom_control oom_kill_disable 1: the kernel kills nobody; the task that
    charged waits (under_oom 1) until memory is freed."""
    path = memcg.make("", 48 * MiB)
    cgroup = f"/{memcg.name}"
    with open(os.path.join(path, "memory.oom_control"), "w") as f:
        f.write("1")
    stuck = memcg.hog(path)
    stuck.stdin.write("96\n")
    stuck.stdin.flush()
    deadline = time.monotonic() + 30
    while "under_oom 1" not in open(os.path.join(path, "memory.oom_control")).read():
        assert time.monotonic() < deadline, "the cgroup never went under OOM"
        time.sleep(0.05)
    report = json.loads(run_oomutil("victim", "--cgroup", cgroup, "--json").stdout)
    assert (report["victim"], report["oom_kill_disabled"]) == (None, True)
    assert stuck.pid in [c["pid"] for c in report["candidates"]]
    text = run_oomutil("victim", "--cgroup", cgroup).stdout
    assert f"no kill: oom_kill_disable is set on {cgroup}; tasks wait until memory is freed" in text
    rows = json.loads(run_oomutil("cgroups", "--json").stdout)
    row = next(r for r in rows if r["cgroup"]["path"] == cgroup)
    assert (row["victim"], row["oom_kill_disabled"], row["cgroup"]["under_oom"]) == (None, True, True)
    line = next(x for x in run_oomutil("cgroups").stdout.splitlines() if x.rstrip().endswith(cgroup))
    assert "none (oom_kill_disable)" in line
    assert stuck.poll() is None  # still waiting, not killed; the fixture frees it (SIGKILL)
