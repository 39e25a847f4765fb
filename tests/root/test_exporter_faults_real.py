"""Faults the exporter meets on a busy node, for real (issue 22): memory cgroups removed
while it reads them (v1 cgroups made and removed in a loop beside the collector: skipped and
counted as vanished, no part fails), and a kill line that user space writes into /dev/kmsg
(not the kernel's: never counted)."""

from __future__ import annotations

import os
import re
import threading
import time
import urllib.request
import uuid

import pytest
from helpers import let_the_ratelimit_recover, oom_kill_count, serving

pytestmark = pytest.mark.root
pytest.importorskip("prometheus_client", reason="the exporter needs prometheus-client (test extra)")


def test_cgroups_removed_during_scrapes_are_skipped_and_counted(memcg):
    from oomutil.exporter.collector import OomCollector, Options
    from oomutil.root import Root

    top = memcg.make("", 512 << 20)
    names = [os.path.join(top, f"c{i}") for i in range(60)]
    stop = threading.Event()

    def churn():  # make and remove empty limited cgroups as fast as the kernel lets us
        while not stop.is_set():
            for path in names:
                try:
                    os.mkdir(path)
                    with open(os.path.join(path, "memory.limit_in_bytes"), "w") as f:
                        f.write(str(64 << 20))
                except OSError:
                    pass
            for path in names:
                try:
                    os.rmdir(path)
                except OSError:
                    pass

    thread = threading.Thread(target=churn)
    thread.start()
    collector = OomCollector(Root("/"), Options(cgroup_depth=8, max_cgroup_series=5000))
    try:
        deadline, scrapes = time.monotonic() + 30, 0
        while time.monotonic() < deadline and (collector.errors["vanished"] == 0 or scrapes < 5):
            families = {f.name: f for f in collector.collect()}
            scrapes += 1
            success = {s.labels["collector"]: s.value for s in families["oomutil_scrape_collector_success"].samples}
            assert success == {"system": 1, "kills": 1, "prediction": 1, "cgroups": 1, "checks": 1}, \
                (scrapes, collector.errors)
    finally:
        stop.set()
        thread.join()
        for path in names:
            try:
                os.rmdir(path)
            except OSError:
                pass
    assert collector.errors["vanished"] > 0, f"no cgroup vanished mid-read in {scrapes} scrapes"
    assert collector.errors["other"] == 0 and collector.errors["parse"] == 0


@pytest.mark.real_oom  # it writes a fake kill line into this host's kernel log
def test_a_kill_line_written_by_user_space_into_kmsg_is_not_counted():
    if not os.access("/dev/kmsg", os.R_OK | os.W_OK):
        pytest.skip("/dev/kmsg is not readable and writable here (needs root, CAP_SYSLOG)")
    name = f"f{uuid.uuid4().hex[:10]}"
    fake = (f"Memory cgroup out of memory: Killed process 99999 ({name}) total-vm:1000kB, anon-rss:500kB, "
            "file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:40kB oom_score_adj:0\n")
    let_the_ratelimit_recover()  # 6 s after the last report: no kill of another test still coming
    with serving("--kernel-log", "kmsg") as (url, _):
        vmstat = oom_kill_count()
        before = urllib.request.urlopen(url + "/metrics", timeout=30).read().decode()
        with open("/dev/kmsg", "w") as kmsg:  # facility user (1): what `echo ... > /dev/kmsg` makes
            kmsg.write(fake)
        time.sleep(1.0)  # the follower reads it at once
        after = urllib.request.urlopen(url + "/metrics", timeout=30).read().decode()

    def kills(text):
        return sum(float(v) for v in re.findall(r"^oomutil_oom_kills_total\{[^}]*\} (\S+)$", text, re.M))

    # what the kernel killed meanwhile (nothing, on a quiet machine) counts; the fake never does
    assert 'source="kmsg"' in after and kills(after) - kills(before) == oom_kill_count() - vmstat
    assert name not in after  # no last victim made of it
