"""A real container runtime (Debian's podman, image imported from host programs, nothing
pulled) named by its own files: containers.json names the container in cgroups, top, show,
events and the exporter; one real OOM kill of it is named in events and the kill counter
(issue 25).  Skipped, with the reason, where podman cannot run a container."""

from __future__ import annotations

import json
import re
import time
import urllib.request

import podman_support
import pytest
from helpers import let_the_ratelimit_recover, run_oomutil, serving
from kernel_log import KernelLog

parser = pytest.importorskip("prometheus_client.parser", reason="the exporter needs prometheus-client (test extra)")
pytestmark = pytest.mark.root


@pytest.fixture(scope="module")
def podman():
    reason = podman_support.why_not()
    if reason:
        pytest.skip(reason)
    yield podman_support
    podman_support.teardown()


def _samples(url):
    text = urllib.request.urlopen(url, timeout=30).read().decode()
    return [s for f in parser.text_string_to_metric_families(text) for s in f.samples]


def test_a_running_container_is_named_by_its_runtime(podman):
    with podman.container(["sleep", "1000"], memory="64m") as c:
        assert c.cgroup == f"/libpod_parent/libpod-{c.id}"  # podman's cgroupfs manager on v1
        rows = json.loads(run_oomutil("cgroups", "--all", "--json").stdout)
        [row] = [r["cgroup"] for r in rows if r["cgroup"]["path"] == c.cgroup]
        assert (row["container"], row["container_id"], row["name"]) == (c.name, c.id, f"podman {c.name}")
        groups = json.loads(run_oomutil("top", "--group-by", "container", "--json").stdout)
        [group] = [g for g in groups if g["container_id"] == c.id]
        assert (group["group"], group["container"], group["top_pid"]) == (f"podman {c.name}", c.name, c.pid)
        shown = run_oomutil("show", str(c.pid)).stdout
        assert re.search(rf"memory cgroup\s+podman {re.escape(c.name)} \({re.escape(c.cgroup)}\)", shown), shown


@pytest.mark.real_oom
def test_a_real_kill_of_a_container_is_named_in_events_and_the_exporter(podman):
    """The container's main process waits for a file, then becomes `tail /dev/zero`, which
    grows past the 64 MiB limit: the kernel's first choice after the marker must be it."""
    let_the_ratelimit_recover()
    wait_then_hog = "while [ ! -e /tmp/go ]; do sleep 0.1; done; exec tail /dev/zero"
    with serving() as (base, _), podman.container(["sh", "-c", wait_then_hog], memory="64m") as c:
        url = base + "/metrics"
        usage = [s for s in _samples(url) if s.name == "oomutil_cgroup_memory_usage_bytes"
                 and s.labels["cgroup"] == c.cgroup]
        assert [s.labels["container"] for s in usage] == [c.name]
        log = KernelLog()
        podman.podman("exec", c.name, "sh", "-c", ": > /tmp/go")
        kills = log.kills()
        assert kills and kills[0] == c.pid, (kills, c.pid)
        events = json.loads(run_oomutil("events", "--json").stdout)["events"]
        [kill] = [e for e in events if e["pid"] == c.pid and e["task_memcg"] == c.cgroup]
        assert (kill["container"], kill["container_id"], kill["comm"]) == (c.name, c.id, "tail")
        table = run_oomutil("events", "--pid", str(c.pid)).stdout
        assert f"podman {c.name}" in table
        deadline = time.monotonic() + 20
        while True:  # a new pair is shown at 0 first, its count from the next scrape on
            pair = [s for s in _samples(url) if s.name == "oomutil_cgroup_oom_kills_total"
                    and s.labels["cgroup"] == c.cgroup]
            if (pair and pair[0].value == 1) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert [(s.value, s.labels["container"], s.labels["container_id"]) for s in pair] == [(1.0, c.name, c.id)]
