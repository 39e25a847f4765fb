"""Predicted oom_score equals the kernel's, for every process here and for processes of
sizes from a few MiB to 2 GiB at adjustments 0..1000 started by the test."""

from __future__ import annotations

import json
import re
import os
import subprocess
import sys

import pytest
from helpers import run_oomutil

import oomutil

pytestmark = pytest.mark.live

HOG = ("import sys; mib = int(sys.argv[1]); x = bytearray(mib << 20)\n"
       "for i in range(0, len(x), 4096): x[i] = 1\n"
       "print('ready', flush=True); sys.stdin.read()\n")


@pytest.fixture
def hogs():
    started = []

    def start(mib, adj):
        def set_adj():
            with open("/proc/self/oom_score_adj", "w") as f:
                f.write(str(adj))

        p = subprocess.Popen([sys.executable, "-c", HOG, str(mib)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, preexec_fn=set_adj)
        started.append(p)
        assert p.stdout.readline() == b"ready\n"
        return p

    yield start
    for p in started:
        p.kill()
        p.wait()


def test_every_process_here_agrees():
    checked = 0
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            e = oomutil.explain_process(oomutil.Process(int(name)))
        except oomutil.NoSuchProcess:
            continue
        # exact, or off only where the kernel's per-CPU RSS counters (6.2+) lag behind
        # status, which no reader can see: such a case is reported, never an unexplained miss
        assert e.agrees or e.within_counter_drift, (name, e)
        checked += 1
    assert checked > 10


@pytest.mark.parametrize("mib, adj", [(4, 0), (16, 7), (64, 1), (512, 333), (1024, 500), (2048, 999),
                                      (2048, 1000), (256, 0)])
def test_sizes_and_adjustments_agree(hogs, mib, adj):
    p = hogs(mib, adj)
    e = oomutil.explain_process(oomutil.Process(p.pid))
    assert e.oom_score_adj == adj and e.rss_pages * e.page_size >= mib << 20
    assert e.agrees or e.within_counter_drift, e


def test_show_json_all_processes_agree(hogs):
    hogs(300, 250)
    pids = [name for name in os.listdir("/proc") if name.isdigit()]
    out = run_oomutil("show", "--json", *pids)
    records = json.loads(out.stdout)
    assert len(records) > 10
    # processes that exited between listdir and show are reported on stderr, nothing else
    assert all(line.endswith("no such process") for line in out.stderr.splitlines())
    unexplained = [r for r in records if not (r["explain"]["agrees"] or r["explain"]["within_counter_drift"])]
    assert unexplained == []
    fields = {"rss_pages", "swap_pages", "pgtables_pages", "totalpages", "adj_pages", "badness_pages",
              "predicted_oom_score", "kernel_oom_score"}
    assert fields <= set(records[0]["explain"])


def test_show_text_explains(hogs):
    p = hogs(512, 500)
    out = run_oomutil("show", p.pid).stdout
    score = int(open(f"/proc/{p.pid}/oom_score").read())
    assert f"oom_score         {score} = 666 baseline + " in out
    assert "for oom_score_adj 500   (the kernel says the same)" in out
    # first, unless a process of this machine outranks it (one at a high adj on a user's server)
    assert "the first candidate of a system-wide OOM now" in out or \
        re.search(r"oom_score_adj \d+ or more makes it the first candidate of a system-wide OOM", out), out
