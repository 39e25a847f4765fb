"""Real OOM kills in throwaway cgroups, seen by `oomutil events` and `events --follow`."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import threading
import time

import pytest
from helpers import default_sigint, let_the_ratelimit_recover, oomutil_command, run_oomutil

pytestmark = pytest.mark.root


def _needs_kmsg():
    if not os.access("/dev/kmsg", os.R_OK):
        pytest.skip("/dev/kmsg is not readable here (needs CAP_SYSLOG with dmesg_restrict)")


def _start_follower():
    """`oomutil events --follow --ndjson`, its lines read by a thread into a queue, so a
    missing event fails the test after a timeout instead of hanging it."""
    follower = subprocess.Popen(oomutil_command() + ["events", "--follow", "--ndjson"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                preexec_fn=default_sigint)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in follower.stdout], daemon=True).start()
    follower.lines = lines
    time.sleep(1.0)  # let it open /dev/kmsg and seek to the end
    return follower


def _next_event(follower, timeout=10.0):
    try:
        return json.loads(follower.lines.get(timeout=timeout))
    except queue.Empty:
        raise AssertionError(f"no event from `events --follow` within {timeout} s") from None


def _kill_one(memcg, path, mib=100):
    hog = memcg.hog(path)
    hog.stdin.write(f"{mib}\n")
    hog.stdin.flush()
    assert hog.wait(timeout=60) == -signal.SIGKILL
    return hog.pid


@pytest.mark.real_oom
def test_follow_reports_a_real_kill_within_a_second_and_history_has_it(memcg):
    _needs_kmsg()
    path = memcg.make("", 32 << 20)
    cgroup = f"/{memcg.name}"
    let_the_ratelimit_recover()
    follower = _start_follower()
    try:
        pid = _kill_one(memcg, path)
        killed_at = time.monotonic()
        event = _next_event(follower)
        seen_at = time.monotonic()
        assert (event["pid"], event["constraint"], event["task_memcg"], event["oom_memcg"]) == (
            pid, "CONSTRAINT_MEMCG", cgroup, cgroup)
        assert event["comm"].startswith("python")
        # the process was reaped (SIGKILL seen) before the line was read: 1 s is generous
        assert seen_at - killed_at < 1.0
    finally:
        follower.send_signal(signal.SIGINT)
        follower.wait(timeout=30)
    assert follower.returncode == 130 and follower.stderr.read() == ""

    history = json.loads(run_oomutil("events", "--json", "--pid", pid).stdout)["events"]
    kills = [e for e in history if e.get("pid") == pid]
    assert len(kills) == 1 and kills[0]["task_memcg"] == cgroup and kills[0]["source"] == "kmsg"
    # reconciliation: nothing missing for this cgroup (its counter equals the log)
    gaps = [e for e in history if "missing" in e and e["counter"].startswith(cgroup + " ")]
    assert gaps == []

    # why explains the same kill from the live log (no second kill): the cgroup's limit, and
    # the hog first in the kernel's own table, recomputed
    [doc] = json.loads(run_oomutil("why", str(pid), "--json").stdout)["reports"]
    assert doc["kills"][0]["pid"] == pid and doc["verdict"]["cause"] == "memcg_limit"
    assert doc["memcg"]["limit_bytes"] == 32 << 20 and doc["memcg"]["usage_bytes"] >= (32 << 20) - (1 << 20)
    assert doc["victim_check"]["ranked_first"] is True and [t["pid"] for t in doc["tasks"] if t["rank"] == 1] == [pid]
    assert doc["kernel"] == os.uname().release


# mm/oom_kill.c prints at most 10 report headers per 5 s (DEFAULT_RATELIMIT_BURST and
# _INTERVAL); one kill more in that time is the smallest storm with a header left out.  Each
# kill here pushes older reports out of the host's kernel log: no more than the claim needs.
STORM = 11


@pytest.mark.real_oom
def test_a_storm_past_the_report_ratelimit_is_all_reported(memcg):
    _needs_kmsg()
    path = memcg.make("", 24 << 20)
    cgroup = f"/{memcg.name}"
    # no --cgroup filter: in a storm the kernel rate-limits report headers (10 per 5 s), and
    # a report without its header names no cgroup
    follower = _start_follower()
    try:
        let_the_ratelimit_recover()
        started = time.monotonic()
        pids = [_kill_one(memcg, path, 60) for _ in range(STORM)]
        assert time.monotonic() - started < 5, "the kills took longer than the ratelimit's 5 s: no storm"
        followed = [_next_event(follower)["pid"] for _ in range(STORM)]
    finally:
        follower.send_signal(signal.SIGINT)
        follower.wait(timeout=30)
    assert followed == pids
    events = json.loads(run_oomutil("events", "--json").stdout)["events"]
    logged = [e["pid"] for e in events if e.get("killer") == "kernel" and e["pid"] in pids]
    assert logged == pids
    counter = int(dict(l.split() for l in open(os.path.join(path, "memory.oom_control")))["oom_kill"])
    assert counter == STORM
    gaps = json.loads(run_oomutil("events", "--json").stdout)["gaps"]
    assert not [g for g in gaps if g["counter"].startswith(cgroup + " ")]
