"""The kernel's view where /proc is easy to misread: a process whose main thread exited
while a worker holds memory, and processes that tie on oom_score but not on badness."""

from __future__ import annotations

import json
import signal

import pytest
from helpers import build_program, read_int, run_oomutil, start_leaderless

import oomutil

pytestmark = pytest.mark.live

MiB = 1 << 20


@pytest.fixture
def leaderless(tmp_path):
    """leaderless(mib, adj) -> (pid, worker tid) of a running tests/progs/leaderless."""
    exe = build_program("leaderless", tmp_path)
    started = []

    def start(mib, adj=0):
        child = start_leaderless(exe, adj)
        started.append(child)
        child.stdin.write(f"{mib}\n")
        child.stdin.flush()
        word, tid = child.stdout.readline().split()
        assert word == "allocated"
        return child.pid, int(tid)

    yield start
    for child in started:
        child.send_signal(signal.SIGKILL)
        child.wait()


def test_a_process_whose_leader_exited_is_scored_and_listed(leaderless):
    pid, tid = leaderless(120, adj=500)
    with open(f"/proc/{pid}/status") as f:
        status = f.read()
    assert "State:\tZ" in status and "VmRSS" not in status  # what misled oomutil before
    kernel = read_int(f"/proc/{pid}/oom_score")
    assert kernel > 1000  # the kernel counts it: 666 + 333 for adj 500 + its memory
    # show: killable, its memory, and the kernel's number recomputed
    out = run_oomutil("show", "--json", pid)
    assert (out.returncode, out.stderr) == (0, "")
    info = json.loads(out.stdout)[0]
    e = info["explain"]
    assert (e["killable"], e["unkillable_reason"]) == (True, None)
    assert e["agrees"] or e["within_counter_drift"], e
    assert info["rss_bytes"] >= 120 * MiB and e["rss_pages"] * e["page_size"] >= 120 * MiB
    assert "never killed" not in run_oomutil("show", pid).stdout
    # top lists it as a candidate with its memory
    rows = json.loads(run_oomutil("top", "--json", "--pid", pid).stdout)
    assert [(r["pid"], r["killable"]) for r in rows] == [(pid, True)]
    assert rows[0]["rss_bytes"] >= 120 * MiB and rows[0]["badness_pages"] >= 120 * MiB // 4096
    # the library
    assert oomutil.Process(pid).memory().rss_bytes >= 120 * MiB
    # victim (system-wide): a candidate, with adj 500 ahead of every process at adj 0 here
    report = json.loads(run_oomutil("victim", "--json", "-n", "0").stdout)
    assert pid in [c["pid"] for c in report["candidates"]]


def test_top_orders_ties_on_oom_score_as_the_kernel_chooses(hogs_by_size):
    """Four processes of 9 to 18 MiB all read 666 here (one point is about 36 MiB of RAM);
    the kernel would take the largest.  Started largest first, so a tie broken by pid (the
    old order) lists them backwards."""
    pids = hogs_by_size([9, 6, 3, 0])  # extra MiB on top of Python's own
    scores = {read_int(f"/proc/{p}/oom_score") for p in pids}
    if scores != {666}:
        pytest.skip(f"the test processes do not tie on oom_score here ({sorted(scores)}): "
                    "the machine has too little memory for this test's sizes")
    wanted = ",".join(map(str, pids))
    full = json.loads(run_oomutil("top", "--json", "--pid", wanted).stdout)
    order = [r["pid"] for r in full]
    assert order == pids, [(r["pid"], r["badness_pages"]) for r in full]
    # the cut falls inside the tie: the two the kernel would choose first make the table
    out = run_oomutil("top", "-n", "2", "--pid", wanted)
    shown = [int(line.split()[0]) for line in out.stdout.splitlines()[1:]]
    assert shown == pids[:2]
    # and victim ranks them the same way
    report = json.loads(run_oomutil("victim", "--json", "-n", "0").stdout)
    assert [c["pid"] for c in report["candidates"] if c["pid"] in pids] == pids


@pytest.fixture
def hogs_by_size():
    import subprocess
    import sys

    started = []
    code = ("import sys; x = bytearray(int(sys.argv[1]) << 20)\n"
            "for i in range(0, len(x), 4096): x[i] = 1\n"
            "print('ready', flush=True); sys.stdin.read()\n")

    def start(sizes):
        pids = []
        for mib in sizes:
            p = subprocess.Popen([sys.executable, "-c", code, str(mib)], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE)
            started.append(p)
            assert p.stdout.readline() == b"ready\n"
            pids.append(p.pid)
        return pids

    yield start
    for p in started:
        p.kill()
        p.wait()


def test_sorting_by_rss_sees_the_memory_of_a_leaderless_process(leaderless):
    pid, _ = leaderless(300)
    # the host may run bigger processes than ours (a user's server, the suite's VM): ours is
    # placed by its 300 MiB, ahead of every smaller one, in the limited ranking too
    rows = json.loads(run_oomutil("top", "--json", "--sort", "rss").stdout)
    at = next(i for i, r in enumerate(rows) if r["pid"] == pid)
    assert rows[at]["rss_bytes"] >= 300 * MiB and all((r["rss_bytes"] or 0) >= rows[at]["rss_bytes"] for r in rows[:at])
    limited = json.loads(run_oomutil("top", "--json", "--sort", "rss", "-n", str(at + 1)).stdout)
    assert limited[-1]["pid"] == pid and limited[-1]["rss_bytes"] >= 300 * MiB, limited[-3:]
    [own] = json.loads(run_oomutil("top", "--json", "--sort", "rss", "--pid", str(pid)).stdout)
    assert own["rss_bytes"] >= 300 * MiB
