"""A real Prometheus (Debian's) on 127.0.0.1 scrapes a real `oomutil serve` every second and
evaluates deploy/prometheus/oomutil-rules.yaml; a real memcg OOM kill caused here must
reach its query API and fire the memcg kill alert."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from helpers import free_port, memcg_kill, oomutil_command

pytestmark = pytest.mark.root

RULES = Path(__file__).resolve().parents[2] / "deploy" / "prometheus" / "oomutil-rules.yaml"


def _memcg_kill_alert():
    """The alert of deploy/prometheus/oomutil-rules.yaml on memcg kills."""
    text = RULES.read_text()
    for m in re.finditer(r"- alert: (\w+)\n(.*?)(?=\n\s*- alert: |\Z)", text, re.S):
        if 'oomutil_oom_kills_total{constraint="memcg"}' in m.group(2):
            return m.group(1)
    raise AssertionError(f"no alert on oomutil_oom_kills_total{{constraint=\"memcg\"}} in {RULES}")


@pytest.fixture
def prometheus(tmp_path):
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.skip("prometheus not found: apt-get install --no-install-recommends prometheus")
    exporter_port, prometheus_port = free_port(), free_port()
    exporter = subprocess.Popen([*oomutil_command(), "serve", "--listen", f"127.0.0.1:{exporter_port}"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    (tmp_path / "prometheus.yml").write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        f"rule_files: ['{RULES}']\n"
        "scrape_configs:\n"
        "  - job_name: oomutil\n"
        "    scrape_interval: 1s\n"
        "    scrape_timeout: 1s\n"
        f"    static_configs: [{{targets: ['127.0.0.1:{exporter_port}']}}]\n")
    server = subprocess.Popen([binary, f"--config.file={tmp_path / 'prometheus.yml'}",
                               f"--storage.tsdb.path={tmp_path / 'data'}",
                               f"--web.listen-address=127.0.0.1:{prometheus_port}", "--log.level=warn"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    api = f"http://127.0.0.1:{prometheus_port}/api/v1"
    try:
        yield api
    finally:
        for proc in (server, exporter):
            proc.terminate()
            proc.wait(timeout=20)


def _get(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())["data"]


def _query(api, expr):
    return _get(f"{api}/query?query={urllib.parse.quote(expr)}")["result"]


def _until(what, timeout=30.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = what()
        except OSError:  # not listening yet
            value = None
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.25)


@pytest.mark.real_oom
def test_prometheus_sees_the_kill_and_fires_the_alert(prometheus, memcg):
    api = prometheus
    alert = _memcg_kill_alert()
    vmstat = _until(lambda: _query(api, "oomutil_vmstat_oom_kill_total"))
    assert vmstat, "Prometheus never got oomutil_vmstat_oom_kill_total from oomutil serve"
    kernel = int(re.search(r"^oom_kill (\d+)$", open("/proc/vmstat").read(), re.M).group(1))
    assert int(float(vmstat[0]["value"][1])) == kernel
    assert _until(lambda: _query(api, 'oomutil_oom_kills_total{constraint="memcg"}'))  # 0 at start

    cgroup, hog, kills = memcg_kill(memcg)
    assert kills and kills[0] == hog

    grown = _until(lambda: [r for r in _query(api, 'increase(oomutil_oom_kills_total{constraint="memcg"}[1m])')
                            if float(r["value"][1]) > 0])
    assert grown, "no increase of oomutil_oom_kills_total{constraint=\"memcg\"} in Prometheus"
    # the pair's series is born at 0 and shows its kills from the next scrape on (issue 24 item 4)
    series = _until(lambda: [r for r in _query(api, f'oomutil_cgroup_oom_kills_total{{cgroup="{cgroup}"}}')
                             if int(float(r["value"][1])) == len(kills)])
    assert series and int(float(series[0]["value"][1])) == len(kills)
    victim = _until(lambda: _query(api, f'oomutil_oom_last_victim_info{{pid="{kills[-1]}"}}'))
    assert victim and victim[0]["metric"]["cgroup"] == cgroup
    firing = _until(lambda: [a for a in _get(f"{api}/alerts")["alerts"]
                             if a["labels"]["alertname"] == alert and a["state"] == "firing"], timeout=60)
    assert firing, f"alert {alert} did not fire"
