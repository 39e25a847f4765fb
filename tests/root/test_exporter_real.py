"""A real memcg OOM kill seen by a running ``oomutil serve``: the kill counters move, the
cgroup's series appears, the last victim is named, and the kernel's counter agrees."""

from __future__ import annotations

import re
import time
import urllib.request

import pytest
from helpers import memcg_kill, serving

parser = pytest.importorskip("prometheus_client.parser", reason="the exporter needs prometheus-client (test extra)")
pytestmark = pytest.mark.root



def _scrape(url):
    text = urllib.request.urlopen(url, timeout=30).read().decode()
    return [s for f in parser.text_string_to_metric_families(text) for s in f.samples]


def _value(samples, name, **labels):
    found = [s.value for s in samples if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())]
    return found[0] if found else None


@pytest.mark.real_oom
def test_a_real_memcg_kill_shows_up_in_the_metrics(memcg):
    with serving() as (base, _):
        url = base + "/metrics"
        before = _scrape(url)
        assert _value(before, "oomutil_kernel_log_source_info", source="kmsg") == 1
        cgroup, hog, kills = memcg_kill(memcg)
        assert kills and kills[0] == hog
        deadline = time.monotonic() + 10
        while True:  # the follower reads the log in its own thread
            after = _scrape(url)
            memcg_kills = _value(after, "oomutil_oom_kills_total", constraint="memcg")
            # a new (cgroup, trigger) pair is shown at 0 in one scrape first (issue 24 item 4)
            pair = _value(after, "oomutil_cgroup_oom_kills_total", cgroup=cgroup, trigger_cgroup=cgroup)
            if (memcg_kills - _value(before, "oomutil_oom_kills_total", constraint="memcg") >= len(kills)
                    and pair == len(kills)) or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert memcg_kills - _value(before, "oomutil_oom_kills_total", constraint="memcg") == len(kills)
        assert _value(after, "oomutil_cgroup_oom_kills_total", cgroup=cgroup, trigger_cgroup=cgroup) == len(kills)
        [victim] = [s for s in after if s.name == "oomutil_oom_last_victim_info"]
        assert (int(victim.labels["pid"]), victim.labels["cgroup"], victim.labels["constraint"]) == \
            (kills[-1], cgroup, "memcg")
        vmstat = int(re.search(r"^oom_kill (\d+)$", open("/proc/vmstat").read(), re.M).group(1))
        assert _value(after, "oomutil_vmstat_oom_kill_total") == vmstat
        assert _value(after, "oomutil_oom_kills_unlogged_total") == 0
