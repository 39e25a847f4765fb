"""Pods and containers by name (issue 25, docs/kubernetes.md), on the synthetic trees of every
runtime: containerd with the kubelet's systemd and cgroupfs drivers, CRI-O, cri-dockerd and
Docker, Podman.  Each tree's expected-names.json holds what its files name (README.md there)."""

from __future__ import annotations

import json
import os
import re

import pytest
from helpers import FIXTURES, run_oomutil

from oomutil.cgroup_names import describe

SYNTHETIC = FIXTURES / "synthetic"
TREES = ["k8s-containerd-systemd", "k8s-containerd-cgroupfs", "k8s-crio", "k8s-docker", "podman"]
K8S = [t for t in TREES if t.startswith("k8s-")]


def expected(tree):
    return json.loads((SYNTHETIC / tree / "expected-names.json").read_text())


def _json(cli, *args):
    code, out, err = cli(*args)
    assert code == 0, err
    return json.loads(out)


@pytest.mark.parametrize("tree", TREES)
def test_cgroups_names_every_cgroup_its_files_name(cli, tree):
    root = SYNTHETIC / tree
    rows = {row["cgroup"]["path"]: row["cgroup"] for row in _json(cli, "--root", root, "cgroups", "--all", "--json")}
    code, table, _ = cli("--root", root, "cgroups", "--all")
    for want in expected(tree)["cgroups"]:
        got = rows[want["path"]]
        assert (got["namespace"], got["pod"], got["container"]) == (want["namespace"], want["pod"], want["container"]), want
        named = describe(want["path"])  # the UID and id stay, named or not
        assert (got["pod_uid"], got["container_id"]) == (named.pod_uid, named.container_id)
        if want["pod"]:
            shown = f"{want['namespace']}/{want['pod']}" + (f"/{want['container']}" if want["container"] else "")
            assert shown in got["name"] and shown in table
        elif not want["container"] and named.pod_uid:  # unknown: as the path says, as before
            assert got["name"].startswith(f"pod {named.pod_uid[:8]}")


@pytest.mark.parametrize("tree", K8S)
def test_top_groups_by_pod_and_container_by_name(cli, tree):
    root = SYNTHETIC / tree
    pods = {g["group"]: g for g in _json(cli, "--root", root, "top", "--group-by", "pod", "--json")}
    web = pods["shop/web-7d9f8-abcde"]
    assert (web["namespace"], web["pod"], web["container"]) == ("shop", "web-7d9f8-abcde", None)
    assert web["processes"] == 4 and web["pod_uid"]  # pause, nginx master and worker, fluent-bit
    assert "batch/report-28312345-xk2lq" in pods
    ghost = [g for g in pods.values() if g["group"] and g["pod"] is None]
    assert len(ghost) == 1 and ghost[0]["group"] == ghost[0]["pod_uid"]  # no name: its UID, as before
    code, table, _ = cli("--root", root, "top", "--group-by", "container")
    assert code == 0
    for name in ("shop/web-7d9f8-abcde/nginx", "shop/web-7d9f8-abcde/log-shipper", "shop/web-7d9f8-abcde/POD",
                 "batch/report-28312345-xk2lq/report"):
        assert re.search(rf"^{re.escape(name)} ", table, re.M), (name, table)
    code, table, _ = cli("--root", root, "top")
    assert "shop/web-7d9f8-abcde/nginx" in table  # the CGROUP column


@pytest.mark.parametrize("tree", TREES)
def test_events_name_the_kills_of_the_trees_own_log(cli, tree):
    root = SYNTHETIC / tree
    kills = {e["pid"]: e for e in _json(cli, "--root", root, "events", "--json")["events"]}
    code, table, _ = cli("--root", root, "events")
    for want in expected(tree)["kills"]:
        got = kills[want["pid"]]
        assert (got["namespace"], got["pod"], got["container"]) == tuple(want["expect"]), want
        assert (got["pod_uid"], got["container_id"]) == (describe(want["task_memcg"]).pod_uid,
                                                          describe(want["task_memcg"]).container_id)
        if want["expect"][1]:
            assert "/".join(want["expect"]) in table
        elif not any(want["expect"]):
            assert want["task_memcg"] in table  # unnamed: the path, as before


def test_events_filter_by_pod_and_namespace(cli):
    root = SYNTHETIC / "k8s-containerd-systemd"
    by_pod = _json(cli, "--root", root, "events", "--pod", "web-7d9f8-abcde", "--json")["events"]
    assert [e["pid"] for e in by_pod] == [1015]
    by_namespace = _json(cli, "--root", root, "events", "--namespace", "batch", "--json")["events"]
    assert [e["pid"] for e in by_namespace] == [1105]
    ghost = next(k for k in expected("k8s-containerd-systemd")["kills"] if k["pid"] == 1205)
    uid = describe(ghost["task_memcg"]).pod_uid
    assert [e["pid"] for e in _json(cli, "--root", root, "events", "--pod", uid[:8], "--json")["events"]] == [1205]
    code, out, err = cli("--root", root, "events", "--namespace", "nowhere")
    assert code == 0 and out == "" and "no OOM kill matches --namespace nowhere (of 3 in the log)" in err


def test_a_file_log_is_not_named_from_this_node(cli):
    """issue 25 item 3: a --file may be of another boot or machine: its kills keep the UID and
    id of their paths, and their names are unknown (None), never looked up here."""
    root = SYNTHETIC / "k8s-containerd-systemd"
    log = root / "dev" / "kmsg"
    kills = _json(cli, "--root", root, "events", "--file", log, "--json")["events"]
    assert kills and all(e["namespace"] is None and e["pod"] is None and e["container"] is None for e in kills)
    assert all(e["pod_uid"] for e in kills)
    code, _, err = cli("--root", root, "events", "--file", log, "--namespace", "shop")
    assert code == 2 and "--namespace needs names" in err
    code, _, err = cli("--root", root, "events", "--file", log, "--pod", "web-7d9f8-abcde")
    assert code == 2 and "give the pod's UID" in err
    uid = kills[0]["pod_uid"]
    by_uid = _json(cli, "--root", root, "events", "--file", log, "--pod", uid[:8], "--json")["events"]
    assert [e["pid"] for e in by_uid] == [kills[0]["pid"]]


def test_why_names_the_victim_and_the_cgroup_whose_limit_was_hit(cli):
    root = SYNTHETIC / "k8s-crio"
    code, out, err = cli("--root", root, "why", "1015")
    assert code == 0, err
    assert "pid 1015 (nginx) of shop/web-7d9f8-abcde/nginx killed" in out
    assert re.search(r"^Memory cgroup shop/web-7d9f8-abcde \(burstable\) \(/kubepods", out, re.M), out
    [report] = _json(cli, "--root", root, "why", "1015", "--json")["reports"]
    assert (report["memcg"]["namespace"], report["memcg"]["pod"]) == ("shop", "web-7d9f8-abcde")
    assert report["kills"][0]["container"] == "nginx"


def test_show_and_victim_name_the_pod(cli):
    root = SYNTHETIC / "k8s-docker"
    code, out, _ = cli("--root", root, "show", "1016")
    assert code == 0 and re.search(r"memory cgroup\s+shop/web-7d9f8-abcde/nginx \(/kubepods", out), out
    [shown] = _json(cli, "--root", root, "show", "1016", "--json")
    assert shown["memory_cgroup"]["container"] == "nginx"
    # a pod given by its name, as `oomutil cgroups` prints it
    report = _json(cli, "--root", root, "victim", "--cgroup", "shop/web-7d9f8-abcde", "--json")
    assert (report["namespace"], report["pod"], report["container"]) == ("shop", "web-7d9f8-abcde", None)
    assert report["victim"]["pid"] == 1016
    code, out, _ = cli("--root", root, "victim", "--cgroup", "shop/web-7d9f8-abcde/nginx")
    assert code == 0 and "scope: OOM of memory cgroup shop/web-7d9f8-abcde/nginx (/kubepods" in out
    assert "victim: pid 1016 (nginx) of shop/web-7d9f8-abcde/nginx, badness" in out
    code, out, _ = cli("--root", root, "victim")  # system-wide: the victim's pod and container
    assert code == 0 and "victim: pid 1110 (python3) of batch/report-28312345-xk2lq/report, badness" in out


@pytest.mark.parametrize("tree", TREES)
def test_the_exporter_labels_cgroups_by_name(tree):
    from prometheus_client.parser import text_string_to_metric_families

    out = run_oomutil("--root", SYNTHETIC / tree, "metrics", "--cgroup-depth", "6")
    assert out.returncode == 0, out.stderr
    usage = {s.labels["cgroup"]: s.labels for f in text_string_to_metric_families(out.stdout)
             for s in f.samples if s.name == "oomutil_cgroup_memory_usage_bytes"}
    skipped = [s.value for f in text_string_to_metric_families(out.stdout) for s in f.samples
               if s.name == "oomutil_name_files_skipped"]
    assert skipped == [1.0 if tree == "k8s-containerd-cgroupfs" else 0.0]  # its truncated config.json
    checked = 0
    for want in expected(tree)["cgroups"]:
        labels = usage.get(want["path"])
        if labels is None:
            continue  # no limit of its own: not exported
        assert (labels["namespace"], labels["pod"], labels["container"]) == \
            tuple(v or "" for v in (want["namespace"], want["pod"], want["container"])), want
        checked += 1
    assert checked >= 2


def test_kill_counters_keep_the_names_they_were_born_with(tmp_path):
    """The kill counter's workload labels are read when its pair is first shown, and stay
    when the pod's files go (a pod removed after its kill is no new series)."""
    import shutil

    from oomutil import Root
    from oomutil.events.parse import parse_text
    from oomutil.exporter.collector import OomCollector, Options
    from oomutil.exporter.follower import Follower

    tree = tmp_path / "tree"
    shutil.copytree(SYNTHETIC / "k8s-containerd-systemd", tree, symlinks=True)
    follower = Follower(Root(str(tree)), source="none")
    follower.source = "kmsg"  # as a follower that read the tree's log would be
    records = (tree / "dev" / "kmsg").read_text().splitlines()
    for event in parse_text("\n".join(r.split(";", 1)[1] for r in records if ";" in r), "kmsg"):
        follower._count(event)
    collector = OomCollector(Root(str(tree)), Options(), follower)

    def kills():
        return {s.labels["cgroup"]: (s.labels["namespace"], s.labels["pod"], s.labels["container"])
                for f in collector.collect() for s in f.samples if s.name == "oomutil_cgroup_oom_kills_total"}

    first = kills()
    want = {k["task_memcg"]: tuple(v or "" for v in k["expect"]) for k in expected("k8s-containerd-systemd")["kills"]}
    assert first == want
    shutil.rmtree(tree / "run")
    shutil.rmtree(tree / "var")
    assert kills() == want


def test_the_kubernetes_doc_example_reproduces(cli, monkeypatch):
    import shlex

    doc = (FIXTURES.parent.parent / "docs" / "kubernetes.md").read_text()
    blocks = re.findall(r"```console\n\$ oomutil (--root tests/fixtures/[^\n]*)\n(.*?)```", doc, re.S)
    assert blocks
    monkeypatch.chdir(FIXTURES.parent.parent)
    for command, want in blocks:
        code, out, err = cli(*shlex.split(command))
        assert (code, err, out) == (0, "", want)


def test_serve_labels_a_trees_cgroups_by_name():
    import urllib.request

    from helpers import serving
    from prometheus_client.parser import text_string_to_metric_families

    tree = SYNTHETIC / "k8s-crio"
    with serving("--root", str(tree), "--kernel-log", "none", "--cgroup-depth", "6") as (url, _):
        for _ in range(2):  # a second scrape: the names from the cache, unchanged
            text = urllib.request.urlopen(url + "/metrics", timeout=30).read().decode()
            named = {(s.labels["namespace"], s.labels["pod"], s.labels["container"])
                     for f in text_string_to_metric_families(text) for s in f.samples
                     if s.name == "oomutil_cgroup_memory_limit_bytes"}
            assert {("shop", "web-7d9f8-abcde", ""), ("shop", "web-7d9f8-abcde", "nginx"),
                    ("batch", "report-28312345-xk2lq", "")} <= named, named


# -- found by the review of issue 25 --------------------------------------------------------


def test_events_cgroup_by_name_finds_the_kill_of_an_earlier_attempt(cli):
    """The report container was restarted: its kill (pid 1105) was in attempt 0's cgroup,
    which is gone; the name `events` prints for it selects it."""
    root = SYNTHETIC / "k8s-containerd-systemd"
    for name in ("batch/report-28312345-xk2lq/report", "batch/report-28312345-xk2lq"):
        kills = _json(cli, "--root", root, "events", "--cgroup", name, "--json")["events"]
        assert [e["pid"] for e in kills] == [1105], name
    # a --file is not named from this node: the name is no path of its log
    code, _, err = cli("--root", root, "events", "--file", root / "dev" / "kmsg", "--cgroup",
                       "shop/web-7d9f8-abcde/nginx")
    assert code == 1 and "no memory cgroup /shop/web-7d9f8-abcde/nginx" in err


def test_pod_uid_in_the_systemd_drivers_spelling(cli):
    root = SYNTHETIC / "k8s-containerd-systemd"
    uid = "31330bee_2605_4e16_a6be_7045272d4e48"  # as kubepods-burstable-pod<uid>.slice spells it
    for extra in ((), ("--file", root / "dev" / "kmsg")):
        kills = _json(cli, "--root", root, "events", *extra, "--pod", uid, "--json")["events"]
        assert [e["pid"] for e in kills] == [1015]


def test_why_html_names_the_victims_pod(cli, tmp_path):
    root = SYNTHETIC / "k8s-containerd-systemd"
    page = tmp_path / "why.html"
    code, _, err = cli("--root", root, "why", "--all", "--html", page)
    assert code == 0, err
    assert "pid 1015 (nginx) of shop/web-7d9f8-abcde/nginx killed" in page.read_text()


def test_victim_json_names_the_victims_pod_and_container(cli):
    root = SYNTHETIC / "k8s-docker"
    report = _json(cli, "--root", root, "victim", "--json")
    assert report["victim"]["pid"] == 1110 and report["pod"] is None  # the scope: the host
    assert (report["victim_workload"]["namespace"], report["victim_workload"]["pod"],
            report["victim_workload"]["container"]) == ("batch", "report-28312345-xk2lq", "report")
    assert report["victim_cgroup"].endswith(report["victim_workload"]["container_id"] + ".scope")


def test_a_container_outside_pods_has_one_name_everywhere(cli):
    root = SYNTHETIC / "k8s-docker"
    groups = {g["container"]: g["group"] for g in _json(cli, "--root", root, "top", "--group-by", "container", "--json")}
    rows = {r["cgroup"]["container"]: r["cgroup"]["name"] for r in _json(cli, "--root", root, "cgroups", "--json")}
    assert groups["redis-cache"] == rows["redis-cache"] == "docker redis-cache"


def test_the_exporter_writes_any_cgroup_name_as_utf8(tmp_path):
    """A cgroup's name is any bytes: one that is not UTF-8 failed every scrape."""
    import shutil

    tree = tmp_path / "tree"
    shutil.copytree(SYNTHETIC / "cgroup2-k8s", tree, symlinks=True)
    bad = tree / "sys/fs/cgroup/system.slice" / os.fsdecode(b"bad\xffname.service")
    shutil.copytree(tree / "sys/fs/cgroup/system.slice/sshd.service", bad)
    out = run_oomutil("--root", tree, "metrics")
    assert out.returncode == 0, out.stderr
    assert 'cgroup="/system.slice/bad\\\\xffname.service"' in out.stdout
