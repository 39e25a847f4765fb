"""The exporter (docs/metrics.md): a real ``oomutil serve`` on 127.0.0.1, ``oomutil metrics``
on the live /proc and on the captured cgroup v2 host, promtool's lint, and 500 scrapes
from 8 concurrent clients."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from helpers import FIXTURES, run_oomutil, serving

parser = pytest.importorskip("prometheus_client.parser", reason="the exporter needs prometheus-client (test extra)")

DOCS = Path(__file__).resolve().parent.parent / "docs" / "metrics.md"
V2 = FIXTURES / "x86_64-cgroup2-linux6.1"


def families(text):
    return {f.name: f for f in parser.text_string_to_metric_families(text)}


def samples(text, name):
    return [s for f in parser.text_string_to_metric_families(text) for s in f.samples if s.name == name]


def documented():
    return set(re.findall(r"^\| `(oomutil_\w+)`", DOCS.read_text(), re.M))


def test_every_family_is_documented_and_every_documented_one_exists(tmp_path):
    out = run_oomutil("metrics")
    assert out.returncode == 0, out.stderr
    exposed = {s.name for f in parser.text_string_to_metric_families(out.stdout) for s in f.samples}
    # only the documented series: no *_created beside a counter (issue 22)
    assert exposed <= documented() and not [n for n in exposed if n.endswith("_created")]
    # the families only serve has (a follower) or only some hosts have (cgroups with limits,
    # a kill seen, protected processes) are checked on the v2 capture and by the serve tests
    assert {"oomutil_vmstat_oom_kill_total", "oomutil_predicted_victim_info", "oomutil_oom_score",
            "oomutil_build_info", "oomutil_scrape_collector_success"} <= exposed


def test_vmstat_counter_equals_the_file():
    out = run_oomutil("metrics").stdout
    vmstat = int(re.search(r"^oom_kill (\d+)$", open("/proc/vmstat").read(), re.M).group(1))
    [sample] = samples(out, "oomutil_vmstat_oom_kill_total")
    assert sample.value == vmstat


def test_captured_v2_host_cgroups_and_prediction_equal_its_files():
    out = run_oomutil("--root", V2, "metrics")
    assert out.returncode == 0, out.stderr
    base = V2 / "sys" / "fs" / "cgroup" / "oomutil-capture" / "app"
    limit = [s for s in samples(out.stdout, "oomutil_cgroup_memory_limit_bytes")
             if s.labels["cgroup"] == "/oomutil-capture/app"]
    assert [(s.labels["kind"], s.value) for s in limit] == [("max", int((base / "memory.max").read_text()))]
    usage = {s.labels["cgroup"]: s.value for s in samples(out.stdout, "oomutil_cgroup_memory_usage_bytes")}
    assert usage["/oomutil-capture/app"] == int((base / "memory.current").read_text())
    events = {s.labels["event"]: s.value for s in samples(out.stdout, "oomutil_cgroup_memory_events_total")
              if s.labels["cgroup"] == "/oomutil-capture/app"}
    assert events == {k: int(v) for k, v in (line.split() for line in (base / "memory.events").read_text().splitlines())}
    group = {s.labels["cgroup"]: s.value for s in samples(out.stdout, "oomutil_cgroup_memory_oom_group")}
    assert group["/oomutil-capture/app"] == 1
    # the prediction agrees with `victim` on the same tree
    victims = {s.labels["domain"]: int(s.labels["pid"]) for s in samples(out.stdout, "oomutil_predicted_victim_info")}
    for domain in ("/", "/oomutil-capture/app", "/oomutil-capture"):
        args = ["victim", "--json"] + (["--cgroup", domain] if domain != "/" else [])
        report = json.loads(run_oomutil("--root", V2, *args).stdout)
        assert victims[domain] == report["victim"]["pid"], domain
    protected = {s.labels["domain"]: s.value for s in samples(out.stdout, "oomutil_oom_protected_processes")}
    assert protected["/oomutil-capture/app"] == 0
    assert {s.labels["collector"]: s.value for s in samples(out.stdout, "oomutil_scrape_collector_success")} == \
        {"system": 1, "kills": 1, "prediction": 1, "cgroups": 1, "checks": 1}


def test_textfile_is_written_whole_without_timestamps(tmp_path):
    out = run_oomutil("metrics", "--textfile", tmp_path)
    assert (out.returncode, out.stderr) == (0, "")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["oomutil.prom"]  # no temporary left
    text = (tmp_path / "oomutil.prom").read_text()
    assert families(text) and all(s.timestamp is None for f in families(text).values() for s in f.samples)
    missing = run_oomutil("metrics", "--textfile", tmp_path / "nope")
    assert missing.returncode == 1 and missing.stderr == f"oomutil: {tmp_path / 'nope'}: no such directory\n"


def test_promtool_finds_nothing_to_lint():
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool not found: apt-get install --no-install-recommends prometheus")
    for exposition in (run_oomutil("--root", V2, "metrics").stdout, run_oomutil("metrics").stdout):
        assert "oomutil_predicted_victim_info" in exposition
        lint = subprocess.run([promtool, "check", "metrics"], input=exposition, capture_output=True, text=True)
        assert (lint.returncode, lint.stdout + lint.stderr) == (0, ""), lint.stdout + lint.stderr


@pytest.fixture
def server():
    with serving() as running:
        yield running


def _get(url):
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.status, response.headers.get("Content-Type"), response.read().decode()


def test_serve_answers_metrics_a_page_and_404(server):
    url, _ = server
    status, kind, text = _get(url + "/metrics")
    assert status == 200 and kind.startswith("text/plain") and samples(text, "oomutil_oom_kills_total")
    kills = {s.labels["constraint"]: s.value for s in samples(text, "oomutil_oom_kills_total")}
    assert set(kills) == {"none", "memcg", "cpuset", "mempolicy", "unknown"}  # all from 0 at start
    [source] = samples(text, "oomutil_kernel_log_source_info")
    assert source.labels["source"] in ("kmsg", "none")
    status, kind, page = _get(url + "/")
    assert status == 200 and "/metrics" in page
    with pytest.raises(urllib.error.HTTPError) as missing:
        _get(url + "/nothing")
    assert missing.value.code == 404


def _rss_kib(pid):
    return int(re.search(r"^VmRSS:\s+(\d+) kB", open(f"/proc/{pid}/status").read(), re.M).group(1))


def test_500_scrapes_from_8_clients(server):
    url, proc = server
    _get(url + "/metrics")  # the first scrape imports what scrapes need
    before = _rss_kib(proc.pid)
    errors, done = [], []

    def client(n):
        for _ in range(n):
            try:
                status, _, text = _get(url + "/metrics")
                if status != 200 or "oomutil_scrape_collector_success" not in families(text):
                    errors.append(status)
                done.append(1)
            except Exception as exc:  # noqa: BLE001 -- every failure is counted, then asserted on
                errors.append(repr(exc))

    threads = [threading.Thread(target=client, args=(500 // 8 + (i < 500 % 8),)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert (len(done), errors) == (500, [])
    assert _rss_kib(proc.pid) - before < 5 * 1024


def test_the_source_of_kills_is_said_with_the_reason_when_there_is_none():
    with serving("--kernel-log", "none") as (url, _):
        [source] = samples(_get(url + "/metrics")[2], "oomutil_kernel_log_source_info")
        assert source.labels == {"source": "none", "reason": "--kernel-log none"}
    with serving("--kernel-log", "journal") as (url, _):
        [source] = samples(_get(url + "/metrics")[2], "oomutil_kernel_log_source_info")
        if shutil.which("journalctl"):
            assert source.labels == {"source": "journal", "reason": ""}
        else:
            assert source.labels == {"source": "none", "reason": "journalctl is not installed"}
    with serving("--root", V2, "--kernel-log", "journal") as (url, _):  # never this host's journal for another root
        [source] = samples(_get(url + "/metrics")[2], "oomutil_kernel_log_source_info")
        assert source.labels == {"source": "none", "reason": f"the journal is this machine's, not {V2}'s"}


def test_the_working_set_of_each_limited_cgroup_is_exported():
    """Issue 24 item 12: OomutilCgroupNearLimit uses the working set (usage less inactive
    page cache), as OOM006 does, not usage: a cgroup full of cache is not near its OOM."""
    out = run_oomutil("--root", V2, "metrics")
    assert out.returncode == 0, out.stderr
    base = V2 / "sys" / "fs" / "cgroup" / "oomutil-capture" / "app"
    stat = dict(line.split() for line in (base / "memory.stat").read_text().splitlines())
    current = int((base / "memory.current").read_text())
    ws = {s.labels["cgroup"]: s.value for s in samples(out.stdout, "oomutil_cgroup_memory_working_set_bytes")}
    assert ws["/oomutil-capture/app"] == current - min(int(stat["inactive_file"]), current)
    usage = {s.labels["cgroup"] for s in samples(out.stdout, "oomutil_cgroup_memory_usage_bytes")}
    assert set(ws) == usage


def test_the_series_churn_of_pid_labels_is_documented():
    """Issue 24 item 18: labels are bounded per scrape only; each family with a pid label
    makes new series as pids change, which docs/metrics.md says, with the churn to expect."""
    text = DOCS.read_text()
    head = text.split("## Kills", 1)[0]
    assert "per scrape" in head and "churn" in head.lower()
    section = text.split("## Series churn", 1)[1].split("\n## ", 1)[0]
    out = run_oomutil("--root", V2, "metrics").stdout
    with_pid = {"oomutil_oom_last_victim_info"} | {  # a serve family: its labels from the docs
        s.name for f in parser.text_string_to_metric_families(out) for s in f.samples if "pid" in s.labels}
    assert with_pid >= {"oomutil_oom_score", "oomutil_predicted_victim_info"}
    for name in with_pid:
        assert f"`{name}`" in section, name
    assert re.search(r"per day", section) and "metric_relabel_configs" in section


V1 = FIXTURES / "x86_64-cgroup1-linux6.18"


def test_v1_cgroups_export_oom_kill_only_as_the_docs_say():
    """Issue 24 item 19: cgroup v1 has no count of OOMs (memory.oom_control's under_oom is a
    state), so only oom_kill is exported there, and docs/metrics.md says so."""
    out = run_oomutil("--root", V1, "metrics")
    assert out.returncode == 0, out.stderr
    events = {s.labels["event"] for s in samples(out.stdout, "oomutil_cgroup_memory_events_total")}
    assert events == {"oom_kill"}
    row = next(line for line in DOCS.read_text().splitlines()
               if line.startswith("| `oomutil_cgroup_memory_events_total`"))
    assert "v1: oom_kill only" in row and "v1: oom (" not in row


def test_records_lost_is_absent_where_unknown_and_blind_is_not_for_a_single_run():
    """Issue 24 item 19: the journal says nothing of what it lost, so
    oomutil_kernel_log_records_lost_total is absent there (unknown), not 0; a single run
    (metrics, --textfile) follows no log by design and OomutilExporterBlind, whose rule
    leaves that reason out, stays quiet for it."""
    from oomutil.exporter.collector import OomCollector, Options
    from oomutil.exporter.follower import Follower
    from oomutil.root import Root

    f = Follower(Root(str(V2)), source="none")
    f.source, f.reason = "journal", ""  # as on a host with journalctl
    text = "".join(f"{s.name} {s.value}\n" for m in OomCollector(Root(str(V2)), Options(), f).collect()
                   for s in m.samples)
    assert "oomutil_oom_kills_total" in text and "oomutil_kernel_log_records_lost_total" not in text
    f.source = "kmsg"
    text = "".join(f"{s.name}\n" for m in OomCollector(Root(str(V2)), Options(), f).collect() for s in m.samples)
    assert "oomutil_kernel_log_records_lost_total" in text
    [source] = samples(run_oomutil("metrics").stdout, "oomutil_kernel_log_source_info")
    rules = (Path(__file__).resolve().parent.parent / "deploy" / "prometheus" / "oomutil-rules.yaml").read_text()
    blind = rules.split("alert: OomutilExporterBlind", 1)[1].split("expr:", 1)[1].split("\n", 1)[0]
    assert f'reason!="{source.labels["reason"]}"' in blind


@pytest.mark.parametrize("tree", [V2, V1, None])
def test_the_findings_of_system_check_are_exported(tree):
    """Issue 24 item 21: oomutil_check_finding{code,severity} is 1 for each finding
    `system --check` makes on the same tree, none for the rest: at most one series a check
    of the catalogue."""
    from oomutil.checks import CHECKS

    args = ("--root", str(tree)) if tree else ()
    out = run_oomutil(*args, "metrics")
    assert out.returncode == 0, out.stderr
    check = json.loads(run_oomutil(*args, "system", "--check", "--json").stdout)
    findings = check["checks"]["findings"]
    exported = {(s.labels["code"], s.labels["severity"]): s.value for s in samples(out.stdout, "oomutil_check_finding")}
    assert exported == {(f["code"], f["severity"]): 1 for f in findings}
    assert exported  # OOM003 on the captures and here (no swap, no killer)
    assert {code for code, _ in exported} <= {c.code for c in CHECKS}
    assert "`oomutil_check_finding`" in DOCS.read_text()


@pytest.mark.parametrize("fields, expected", [
    # hidepid=invisible: 2 listed but unreadable, 3 not listed (cgroup.procs); loadavg's 400
    # missing threads are threads, not processes
    (dict(hidepid="invisible", threads_total=500, threads_visible=100, processes_unreadable=2,
          complete=False, processes_hidden=3), 5),
    # hidepid=noaccess lists every process: the unreadable ones only
    (dict(hidepid="noaccess", threads_total=500, threads_visible=100, processes_unreadable=7,
          complete=False, processes_hidden=0), 7),
    # the hidden ones cannot be counted: unknown, absent
    (dict(hidepid="invisible", threads_total=None, threads_visible=100, processes_unreadable=2,
          complete=False, processes_hidden=None), None),
    (dict(hidepid=None, threads_total=500, threads_visible=500, processes_unreadable=0,
          complete=True, processes_hidden=None), 0),
])
def test_processes_hidden_counts_processes_not_threads(monkeypatch, fields, expected):
    """Issue 24 item 14 (the exporter's part): oomutil_processes_hidden is the processes this
    view cannot read (listed but unreadable, and not listed, from cgroup.procs), never
    threads added to processes."""
    from oomutil.exporter import collector as module
    from oomutil.root import Root
    from oomutil.visibility import View

    seen = View(subset_pid=False, initial_pid_namespace=True, **fields)
    monkeypatch.setattr(module, "view", lambda root: seen)
    c = module.OomCollector(Root(str(V2)), module.Options())
    values = [s.value for m in c.collect() for s in m.samples if s.name == "oomutil_processes_hidden"]
    assert values == ([] if expected is None else [expected])
