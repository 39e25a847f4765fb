"""The follower's bookkeeping: constraints, the bound on cgroup pairs and their retention."""

from __future__ import annotations

import pytest

pytest.importorskip("prometheus_client", reason="the exporter needs prometheus-client (test extra)")

from oomutil.events.parse import OomKillEvent  # noqa: E402
from oomutil.exporter.collector import _workload_labels  # noqa: E402
from oomutil.exporter.follower import OTHER, CgroupKills, constraint_of  # noqa: E402
from oomutil.workloads import EMPTY  # noqa: E402


@pytest.mark.parametrize("constraint, name", [("CONSTRAINT_NONE", "none"), ("CONSTRAINT_MEMCG", "memcg"),
                                              ("CONSTRAINT_CPUSET", "cpuset"), ("CONSTRAINT_MEMORY_POLICY", "unknown"),
                                              ("CONSTRAINT_MEMPOLICY", "mempolicy"), (None, "unknown")])
def test_constraint_label(constraint, name):
    assert constraint_of(OomKillEvent(constraint=constraint)) == name


def test_pairs_past_the_bound_share_one_series_and_old_ones_expire():
    kills = CgroupKills(max_series=2, retention=60.0)
    kills.add("/a", "/a", now=0.0)
    kills.add("/b", "/", now=1.0)
    kills.add("/c", "/c", now=2.0)  # the third pair: counted, in __other__
    kills.add("/a", "/a", now=3.0)
    assert {pair: entry[0] for pair, entry in kills.counts.items()} == {("/a", "/a"): 2, ("/b", "/"): 1, (OTHER, OTHER): 1}
    kills.expire(now=62.5)  # /b's last kill was 61.5 s ago, __other__'s 60.5 s, /a's 59.5 s
    assert set(kills.counts) == {("/a", "/a")}


def test_pod_and_container_labels_come_from_the_path():
    path = ("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0f1e2d3c_1111_2222_3333_444455556666.slice/"
            "cri-containerd-4f2a9c8e1d3b5a7f9e0c2d4b6a8f1e3c5d7b9a0f2e4c6d8b0a1f3e5c7d9b2a4c.scope")
    assert _workload_labels(EMPTY, path) == ["0f1e2d3c-1111-2222-3333-444455556666",
                                             "4f2a9c8e1d3b5a7f9e0c2d4b6a8f1e3c5d7b9a0f2e4c6d8b0a1f3e5c7d9b2a4c", "", "", ""]
    assert _workload_labels(EMPTY, "/system.slice/sshd.service") == [""] * 5
    assert _workload_labels(EMPTY, OTHER) == [""] * 5


def _promtool_increase(tmp_path, series: str, eval_minute: int, window: str = "5m") -> float:
    """What promtool's increase() over ``window`` gives at ``eval_minute`` for one series
    sampled once a minute (``series``: promtool's notation, "_" where it was absent)."""
    import json
    import shutil
    import subprocess

    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool not found: apt-get install --no-install-recommends prometheus")
    name = 'oomutil_cgroup_oom_kills_total{cgroup="/pod",trigger_cgroup="/pod"}'
    for expected in ("0", "1", "2", "3"):
        test = {"rule_files": [], "evaluation_interval": "1m", "tests": [{
            "interval": "1m", "input_series": [{"series": name, "values": series}],
            "promql_expr_test": [{"expr": f"increase(oomutil_cgroup_oom_kills_total[{window}])",
                                  "eval_time": f"{eval_minute}m",
                                  "exp_samples": [{"labels": name.replace("oomutil_cgroup_oom_kills_total", ""),
                                                   "value": float(expected)}]}]}]}
        path = tmp_path / "t.test.json"
        path.write_text(json.dumps(test))
        if subprocess.run([promtool, "test", "rules", str(path)], capture_output=True).returncode == 0:
            return float(expected)
    raise AssertionError(f"increase() is none of 0..3 for {series}")


def test_a_new_pairs_first_kill_is_counted_by_increase(tmp_path, monkeypatch):
    """Issue 24 item 4: a (cgroup, trigger) pair is exposed at 0 before its first kill shows,
    so increase() counts that kill; again after --kill-retention dropped the pair."""
    from oomutil.exporter import follower as module
    from oomutil.exporter.follower import Follower
    from oomutil.root import Root

    clock = [1000.0]
    monkeypatch.setattr(module.time, "monotonic", lambda: clock[0])
    f = Follower(Root("/"), source="none", retention=600.0)
    kill = OomKillEvent(constraint="CONSTRAINT_MEMCG", task_memcg="/pod", oom_memcg="/pod", pid=1, comm="x")
    values = []
    for minute in range(30):
        if minute in (3, 20):  # a kill just before these scrapes (20: after the pair expired)
            f._count(kill)
        snapshot = f.snapshot()  # one scrape a minute
        values.append(str(snapshot["cgroups"].get(("/pod", "/pod"), "_")))
        clock[0] += 60
    series = " ".join(values)
    assert _promtool_increase(tmp_path, series, 8) == 1, series
    assert values[14] == "_"  # gone after its retention
    assert _promtool_increase(tmp_path, series, 25) == 1, series


def test_the_kmsg_follower_knows_when_it_has_read_everything():
    """Issue 24 item 5: the reconciler compares counts only when the follower has read all
    the log holds; kmsg says so by poll(), without taking a record."""
    import os
    import time

    from oomutil.exporter.follower import Follower
    from oomutil.root import Root

    try:
        os.close(os.open("/dev/kmsg", os.O_RDONLY))
    except OSError as err:
        pytest.skip(f"/dev/kmsg: {err}")
    f = Follower(Root("/"), source="kmsg")
    assert f.source == "kmsg" and f.counted_at_start is not None
    assert f.position()[2] is False or f.position()[:2] == (0, 0)
    f.start()
    deadline = time.monotonic() + 5
    while not f.position()[2] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert f.position() == (0, 0, True)
