"""The DaemonSet's view, for real: in a private mount namespace the host's /proc and /sys
are bind-mounted read-only under a /host-like directory, and `oomutil --root` there gives
the answers `oomutil` gives on the host (top, cgroups, victim, metrics)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
from helpers import oomutil_command

pytestmark = pytest.mark.root

# bind the host's /proc and /sys (with the cgroup mounts below it) read-only at $1/proc
# and $1/sys, then run oomutil --root $1 with the rest of the arguments
MOUNT = ('d="$1"; shift; mkdir -p "$d/proc" "$d/sys" && '
         'mount --bind /proc "$d/proc" && mount -o remount,bind,ro "$d/proc" && '
         'mount --rbind /sys "$d/sys" && mount -o remount,bind,ro "$d/sys" && '
         'exec "$@" --root "$d"')


def _in_namespace(tmp_path, *args):
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root and util-linux's unshare: mounts in a private mount namespace")
    out = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", MOUNT, "sh",
                          str(tmp_path / "host"), *oomutil_command(), *args],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


def _on_host(*args):
    out = subprocess.run([*oomutil_command(), *args], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


def _stable(rows):
    """pid -> what does not move between two reads a moment apart."""
    return {r["pid"]: (r["comm"], r["oom_score_adj"], r["cgroup"], r["uid"], r["killable"]) for r in rows}


def test_top_cgroups_victim_and_metrics_read_the_same_through_host(tmp_path):
    # (kernel threads left out: a kworker's name changes with the work it does)
    before = _stable(json.loads(_on_host("top", "--json")))
    inside = _stable(json.loads(_in_namespace(tmp_path, "top", "--json")))
    host = _stable(json.loads(_on_host("top", "--json")))
    # the processes that lived through all three reads (others' tests may start and end many)
    lasting = set(before) & set(host)
    common = set(inside) & lasting
    assert len(common) > 5 and len(common) >= len(lasting) - 5, sorted(lasting - common)
    assert {p: inside[p] for p in common} == {p: host[p] for p in common}
    # the mounts were private and read-only
    assert str(tmp_path) not in open("/proc/self/mountinfo").read()

    def cgroups(text):
        return {r["cgroup"]["path"]: (r["cgroup"]["limit_bytes"], r["cgroup"]["oom_kill_count"], r["cgroup"]["version"])
                for r in json.loads(text)}

    assert cgroups(_in_namespace(tmp_path, "cgroups", "--all", "--json")) == cgroups(_on_host("cgroups", "--all", "--json"))

    for _ in range(3):  # the victim is a live ranking: a process may start in between
        victim_inside = json.loads(_in_namespace(tmp_path, "victim", "--json"))
        victim_host = json.loads(_on_host("victim", "--json"))
        if victim_inside["victim"]["pid"] == victim_host["victim"]["pid"]:
            break
    assert victim_inside["victim"]["pid"] == victim_host["victim"]["pid"]
    assert (victim_inside["scope"], victim_inside["totalpages"]) == (victim_host["scope"], victim_host["totalpages"])

    parser = pytest.importorskip("prometheus_client.parser", reason="the exporter needs prometheus-client")

    def fixed(text):
        """The samples that do not move from one scrape to the next."""
        keep = ("oomutil_overcommit_memory", "oomutil_panic_on_oom", "oomutil_memory_commit_limit_bytes",
                "oomutil_build_info", "oomutil_cgroup_memory_limit_bytes", "oomutil_vmstat_oom_kill_total",
                "oomutil_scrape_collector_success", "oomutil_kernel_log_source_info")
        return sorted((s.name, tuple(sorted(s.labels.items())), s.value)
                      for f in parser.text_string_to_metric_families(text) for s in f.samples if s.name in keep)

    for _ in range(3):  # a cgroup made or an OOM kill counted on the host in between (ci22 met a
        #               test's cgroup made by another run): the two scrapes agree in one round
        inside, host = fixed(_in_namespace(tmp_path, "metrics")), fixed(_on_host("metrics"))
        if inside == host:
            break
    assert inside == host


def test_system_reads_the_same_through_host(tmp_path):
    """`system`: the same settings, layout, cgroups and findings through /host (the host's
    /etc is not bound here, so the userspace killers, read from unit and config files, are
    left out)."""

    def still(text):
        d = json.loads(text)
        return (d["kernel_release"], d["era"], d["vm"], d["cgroups"], [g["path"] for g in d["limited_cgroups"]],
                d["swap_areas"], d["zswap"], [z["name"] for z in d["zram"]],
                [f["code"] for f in d["checks"]["findings"] if f["code"] != "OOM003"], d["checks"]["not_evaluated"],
                [(u["pid"], u["comm"]) for u in d["unkillable"]])

    inside = still(_in_namespace(tmp_path, "system", "--json"))
    assert inside == still(_on_host("system", "--json"))
    assert not (inside[3]["memory_directory"] or "").startswith(str(tmp_path))  # as the host sees it
