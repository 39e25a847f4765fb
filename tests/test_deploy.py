"""deploy/: the systemd unit, the Kubernetes manifests, the Prometheus rules and the
Grafana dashboard, checked by the tools their users run (systemd-analyze, the Kubernetes
JSON schemas through kubernetes-validate, promtool) and against docs/metrics.md.

A test skips, saying what to install, only where its tool is missing:
systemd-analyze (Debian: systemd), promtool (Debian: prometheus, with
--no-install-recommends), kubernetes-validate (PyPI, brings PyYAML).
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DEPLOY = REPO / "deploy"
NAME_MOUNTS = {"/host/root/var/log/pods", "/host/root/var/log/containers", "/host/root/run/containerd"}
UNIT = DEPLOY / "systemd" / "oomutil-exporter.service"
K8S = DEPLOY / "kubernetes"
RULES = DEPLOY / "prometheus" / "oomutil-rules.yaml"
RULES_TEST = DEPLOY / "prometheus" / "oomutil-rules.test.yaml"
DASHBOARD = DEPLOY / "grafana" / "oomutil-dashboard.json"
METRICS_DOC = REPO / "docs" / "metrics.md"
FIXTURE = REPO / "tests" / "fixtures" / "x86_64-cgroup1-linux6.18"

# Schemas checked: a version still widely run, and the newest kubernetes-validate 1.37 ships.
K8S_VERSIONS = ("1.33.0", "1.37.0")
TARGET_LABELS = {"instance", "job"}  # what Prometheus adds to every series it scrapes
CGROUP_LABELS = {"cgroup", "pod_uid", "container_id"}  # every family of "Memory cgroups"


def _tool(name: str, install: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} not found: {install}")
    return path


def _yaml():
    return pytest.importorskip("yaml", reason="PyYAML not installed: pip install kubernetes-validate (brings it)")


# --- docs/metrics.md: the contract --------------------------------------------------------


def documented_families() -> dict[str, set[str]]:
    """Each family in the tables of docs/metrics.md -> the label names its row allows."""
    families: dict[str, set[str]] = {}
    section = ""
    for line in METRICS_DOC.read_text().splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
        match = re.match(r"\|\s*`(oomutil_[a-z0-9_]+)`\s*\|(.*)", line)
        if match:
            name, rest = match.groups()
            labels = set(re.findall(r"`([a-z_]+)`", rest)) | TARGET_LABELS
            if section == "Memory cgroups":
                labels |= CGROUP_LABELS
            families[name] = labels
    return families


def test_metrics_doc_parses():
    families = documented_families()
    assert len(families) >= 30, sorted(families)
    assert families["oomutil_oom_kills_total"] >= {"constraint", "instance"}
    assert "kind" in families["oomutil_cgroup_memory_limit_bytes"]


def _deploy_texts() -> dict[str, str]:
    return {str(p.relative_to(REPO)): p.read_text() for p in sorted(DEPLOY.rglob("*")) if p.is_file()}


def test_every_metric_named_in_deploy_is_documented():
    """Rules, their tests, the dashboard, and the comments of the unit and the manifests
    name only families of docs/metrics.md."""
    families = documented_families()
    used: dict[str, set[str]] = {}
    for name, text in _deploy_texts().items():
        for metric in re.findall(r"\boomutil_[a-z0-9_]+", text):
            used.setdefault(metric, set()).add(name)
    undocumented = {m: sorted(files) for m, files in used.items() if m not in families}
    assert not undocumented, undocumented
    assert len(used) >= 20  # the scan found the names at all


def _selectors(text: str):
    """(family, label name) of each `oomutil_x{label="..."}` selector in a text."""
    for family, matchers in re.findall(r"\b(oomutil_[a-z0-9_]+)\s*\{([^{}]*)\}", text):
        for label in re.findall(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)", matchers):
            yield family, label


def test_label_names_in_selectors_are_documented():
    families = documented_families()
    wrong = set()
    for name, text in _deploy_texts().items():
        if not name.startswith(("deploy/prometheus", "deploy/grafana")):
            continue
        for family, label in _selectors(text):
            if family in families and label not in families[family] | {"__name__"}:
                wrong.add((name, family, label))
    assert not wrong, sorted(wrong)


# --- (a) systemd ------------------------------------------------------------------------


def unit_directives(text: str) -> list[tuple[str, str, str]]:
    """(section, key, value) of each directive, in order (keys may repeat)."""
    out, section = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        key, _, value = line.partition("=")
        out.append((section, key.strip(), value.strip()))
    return out


FORBIDDEN = {
    # each hides what the exporter reads: the unit's comment block says why
    "ProtectProc": "hides other users' /proc/PID",
    "ProcSubset": "hides /proc/vmstat, /proc/meminfo, /proc/sys",
    "ProtectKernelLogs": "drops CAP_SYSLOG, blocks /dev/kmsg",
    "PrivateDevices": "no /dev/kmsg",
    "PrivateUsers": "no capability over the host's kernel log",
}

REQUIRED = {
    "DynamicUser": "yes",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "ProtectKernelTunables": "yes",
    "ProtectKernelModules": "yes",
    "ProtectControlGroups": "yes",
    "NoNewPrivileges": "yes",
    "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
    "SystemCallArchitectures": "native",
    "LockPersonality": "yes",
    "RestrictNamespaces": "yes",
    "RestrictRealtime": "yes",
    "RestrictSUIDSGID": "yes",
    "AmbientCapabilities": "CAP_SYSLOG",
    "CapabilityBoundingSet": "CAP_SYSLOG",
    "DevicePolicy": "closed",
    "DeviceAllow": "/dev/kmsg r",
    "Restart": "on-failure",
}


def test_unit_sets_the_hardening_and_nothing_that_blinds_it():
    directives = unit_directives(UNIT.read_text())
    service = {}
    for section, key, value in directives:
        if section == "Service":
            service.setdefault(key, []).append(value)
    for key, why in FORBIDDEN.items():
        assert key not in service, f"{key}= must not be set: {why}"
        assert f"# {key}=" in UNIT.read_text(), f"the comment block should say why {key}= is absent"
    for key, value in REQUIRED.items():
        assert service.get(key) == [value], (key, service.get(key))
    adj = int(service["OOMScoreAdjust"][0])
    assert -1000 < adj <= -500, "low, but not -1000 (never killable)"
    assert re.fullmatch(r"\d+[KMG]", service["MemoryMax"][0])
    assert "LISTEN=127.0.0.1:9788" in service["Environment"]  # loopback unless told otherwise
    (execstart,) = service["ExecStart"]
    assert execstart.split()[:2] == ["/usr/local/bin/oomutil", "serve"]
    assert "--listen ${LISTEN}" in execstart and "--kernel-log kmsg" in execstart
    assert ("Install", "WantedBy", "multi-user.target") in directives


def _unit_for_verify(tmp_path: Path, extra: str = "") -> Path:
    """A copy of the unit whose ExecStart names an executable that exists here.

    `systemd-analyze verify` checks that the ExecStart binary exists and is executable;
    /usr/local/bin/oomutil is where an installed system has it, not a development
    checkout. The copy points at this environment's `oomutil` console script (or, without
    one, /bin/true): the rest of the unit is verified as shipped. The copy keeps the
    unit's name, which verify uses to pick the unit type.
    """
    exe = Path(sys.executable).with_name("oomutil")
    target = str(exe) if os.access(exe, os.X_OK) else (shutil.which("oomutil") or "/bin/true")
    text = UNIT.read_text().replace("ExecStart=/usr/local/bin/oomutil ", f"ExecStart={target} ")
    assert f"ExecStart={target} serve" in text
    path = tmp_path / UNIT.name
    path.write_text(text + extra)
    return path


def _verify(unit: Path) -> tuple[int, list[str]]:
    tool = _tool("systemd-analyze", "apt-get install systemd")
    proc = subprocess.run([tool, "verify", "--man=no", str(unit)], cwd=unit.parent,
                          capture_output=True, text=True, timeout=60, check=False)
    lines = (proc.stdout + proc.stderr).splitlines()
    return proc.returncode, [line for line in lines if unit.name in line]


def test_unit_passes_systemd_analyze_verify(tmp_path):
    rc, problems = _verify(_unit_for_verify(tmp_path))
    assert rc == 0 and problems == [], problems


def test_systemd_analyze_verify_would_report_a_mistake(tmp_path):
    # verify exits 0 on an unknown key or a bad value: only its messages tell, which is
    # why the test above asserts there are none. Show that it does print them.
    _rc, problems = _verify(_unit_for_verify(tmp_path, "[Service]\nProtectSytem=strict\nOOMScoreAdjust=-5000\n"))
    assert any("Unknown key" in line and "ProtectSytem" in line for line in problems), problems
    assert any("OOM score adjust value out of range" in line for line in problems), problems


def test_unit_exposure_level(tmp_path):
    """systemd-analyze security --offline: the unit's exposure (0 best .. 10) stays <= 3.0."""
    tool = _tool("systemd-analyze", "apt-get install systemd")
    unit = _unit_for_verify(tmp_path)
    proc = subprocess.run([tool, "security", "--offline=true", "--threshold=30", str(unit)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False)
    if "offline" in proc.stderr and "unrecognized" in proc.stderr:
        pytest.skip("systemd-analyze security --offline needs systemd 250+")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr
    assert "Overall exposure level" in proc.stdout


MDWE_CHILD = textwrap.dedent("""
    import ctypes, mmap, os, sys
    libc = ctypes.CDLL(None, use_errno=True)
    # prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN): the kernel's own form of systemd's
    # MemoryDenyWriteExecute=yes (Linux 6.3+)
    if libc.prctl(65, 1, 0, 0, 0) != 0:
        sys.exit(77)
    try:
        mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
        sys.exit("a writable and executable mapping was allowed: MDWE is not in force")
    except OSError:
        pass
    from oomutil.cli import main
    for args in (["top", "-n", "3"], ["cgroups"], ["system"], ["victim"]):
        code = main(["--root", sys.argv[1]] + args)
        assert code == 0, (args, code)
    try:
        from prometheus_client import start_http_server
    except ImportError:
        print("prometheus_client not installed: its server not run")
    else:
        import urllib.request
        server, _ = start_http_server(0, addr="127.0.0.1")
        body = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % server.server_port, timeout=10).read()
        assert b"python_info" in body
        server.shutdown()
    print("MDWE-OK")
""")


def test_python_runs_under_memory_deny_write_execute():
    """The unit sets MemoryDenyWriteExecute=yes: oomutil (and prometheus_client's server,
    where installed) run with W+X mappings refused."""
    # the oomutil this interpreter imports: the installed one, as the unit would run it
    proc = subprocess.run([sys.executable, "-c", MDWE_CHILD, str(FIXTURE)], capture_output=True,
                          text=True, timeout=120, check=False)
    if proc.returncode == 77:
        pytest.skip("this kernel has no prctl(PR_SET_MDWE) (Linux 6.3+)")
    assert proc.returncode == 0 and "MDWE-OK" in proc.stdout, proc.stdout[-2000:] + proc.stderr[-2000:]


# --- (b) Kubernetes -----------------------------------------------------------------------


def _k8s_docs(name: str) -> list[dict]:
    yaml = _yaml()
    return [d for d in yaml.safe_load_all((K8S / name).read_text()) if d]


def _by_kind(docs: list[dict]) -> dict[str, dict]:
    return {d["kind"]: d for d in docs}


def _validate(doc: dict) -> None:
    kv = pytest.importorskip("kubernetes_validate",
                             reason="kubernetes-validate not installed: pip install kubernetes-validate")
    for version in K8S_VERSIONS:
        try:
            kv.validate(doc, version, strict=True)
        except kv.ValidationError as err:
            pytest.fail(f"{doc['kind']}/{doc['metadata']['name']} against Kubernetes {version}: "
                        f"{'.'.join(map(str, err.path))}: {err.message}")


# Merge keys of the lists a strategic-merge patch of a DaemonSet touches here
# (x-kubernetes-patch-merge-key in the API); other lists are replaced whole.
MERGE_KEYS = {"containers": "name", "initContainers": "name", "volumes": "name",
              "volumeMounts": "mountPath", "ports": "containerPort", "env": "name"}


def strategic_merge(base, patch, key=None):
    """What `kubectl patch --type strategic` and kustomize do with kmsg-overlay.yaml (the
    subset it uses: maps merge, keyed lists merge by key, other lists are replaced)."""
    if isinstance(base, dict) and isinstance(patch, dict):
        out = copy.deepcopy(base)
        for k, v in patch.items():
            out[k] = strategic_merge(base[k], v, k) if k in base else copy.deepcopy(v)
        return out
    if isinstance(base, list) and isinstance(patch, list) and key in MERGE_KEYS:
        mk = MERGE_KEYS[key]
        out = copy.deepcopy(base)
        for item in patch:
            for i, old in enumerate(out):
                if old.get(mk) == item.get(mk):
                    out[i] = strategic_merge(old, item)
                    break
            else:
                out.append(copy.deepcopy(item))
        return out
    return copy.deepcopy(patch)


def _api_rules(pod: dict) -> list[str]:
    """Cross-field rules the API server and kubelet apply that a JSON schema cannot say."""
    errors = []
    pod_sc = pod.get("securityContext", {})
    for c in pod["containers"]:
        sc = c.get("securityContext", {})
        if sc.get("privileged") and sc.get("allowPrivilegeEscalation") is False:
            errors.append(f"{c['name']}: privileged with allowPrivilegeEscalation: false is rejected")
        uid = sc.get("runAsUser", pod_sc.get("runAsUser"))
        if sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")) and uid == 0:
            errors.append(f"{c['name']}: runAsNonRoot with runAsUser 0 never starts")
        names = {v["name"] for v in pod.get("volumes", [])}
        for m in c.get("volumeMounts", []):
            if m["name"] not in names:
                errors.append(f"{c['name']}: mount of unknown volume {m['name']}")
            if m.get("mountPropagation") == "Bidirectional" and not sc.get("privileged"):
                errors.append(f"{c['name']}: Bidirectional propagation needs privileged")
        for probe in ("livenessProbe", "readinessProbe"):
            port = c.get(probe, {}).get("httpGet", {}).get("port")
            if isinstance(port, str) and port not in {p.get("name") for p in c.get("ports", [])}:
                errors.append(f"{c['name']}: {probe} names no container port {port}")
    return errors


def test_manifests_validate_against_kubernetes_schemas():
    docs = _k8s_docs("daemonset.yaml")
    assert sorted(d["kind"] for d in docs) == ["DaemonSet", "Service", "ServiceAccount"]
    for doc in docs:
        _validate(doc)


def test_daemonset_is_unprivileged_and_reads_the_host_read_only():
    kinds = _by_kind(_k8s_docs("daemonset.yaml"))
    ds, sa, svc = kinds["DaemonSet"], kinds["ServiceAccount"], kinds["Service"]
    pod = ds["spec"]["template"]["spec"]
    (c,) = pod["containers"]
    sc = c["securityContext"]
    assert pod["hostPID"] is True
    assert not pod.get("hostNetwork")
    assert sa["automountServiceAccountToken"] is False and pod["automountServiceAccountToken"] is False
    assert pod["serviceAccountName"] == sa["metadata"]["name"]
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] == 65534
    assert sc["runAsNonRoot"] is True and sc["runAsUser"] == 65534
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc.get("privileged", False) is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert _api_rules(pod) == []
    # the host: / at /host/root and its /sys where --root reads it, all read-only
    mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    # the host's / and /sys, and what names pods and containers (issue 25, docs/kubernetes.md)
    assert set(mounts) == {"/host/root", "/host/root/sys", *NAME_MOUNTS}
    for m in mounts.values():
        assert m["readOnly"] is True and m["mountPropagation"] == "HostToContainer"
    for path, m in mounts.items():  # each at its host path below --root
        assert volumes[m["name"]]["hostPath"]["path"] == (path[len("/host/root"):] or "/")
    types = {p: volumes[mounts[p]["name"]]["hostPath"]["type"] for p in NAME_MOUNTS}
    # the kubelet's directories exist on every node; containerd's not on a CRI-O node, where
    # the pod must start all the same
    assert types == {"/host/root/var/log/pods": "Directory", "/host/root/var/log/containers": "Directory",
                     "/host/root/run/containerd": "DirectoryOrCreate"}
    assert all("kmsg" not in json.dumps(v) for v in pod["volumes"])
    assert c["command"] == ["oomutil"]
    assert c["args"] == ["serve", "--listen", "0.0.0.0:9788", "--root", "/host/root", "--kernel-log", "none"]
    # scraped on port 9788 "metrics": container, annotations, probes, headless Service
    assert c["ports"] == [{"name": "metrics", "containerPort": 9788, "protocol": "TCP"}]
    ann = ds["spec"]["template"]["metadata"]["annotations"]
    assert ann["prometheus.io/scrape"] == "true" and ann["prometheus.io/port"] == "9788"
    for probe in ("livenessProbe", "readinessProbe"):
        assert c[probe]["httpGet"]["port"] == "metrics"
    assert svc["spec"]["clusterIP"] == "None"
    assert svc["spec"]["ports"][0]["port"] == 9788 and svc["spec"]["ports"][0]["targetPort"] == "metrics"
    labels = ds["spec"]["template"]["metadata"]["labels"]
    assert ds["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert svc["spec"]["selector"].items() <= labels.items()
    # every node, critical priority, bounded resources
    assert {"operator": "Exists"} in pod["tolerations"]
    assert pod["priorityClassName"] in ("system-node-critical", "system-cluster-critical")
    for kind in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(c["resources"][kind])


def test_kmsg_overlay_merges_into_a_valid_privileged_daemonset():
    base = _by_kind(_k8s_docs("daemonset.yaml"))["DaemonSet"]
    (patch,) = _k8s_docs("kmsg-overlay.yaml")
    assert (patch["kind"], patch["metadata"]["name"]) == ("DaemonSet", base["metadata"]["name"])
    assert patch["metadata"].get("namespace") == base["metadata"]["namespace"]
    merged = strategic_merge(base, patch)
    _validate(merged)
    pod = merged["spec"]["template"]["spec"]
    (c,) = pod["containers"]
    sc = c["securityContext"]
    assert _api_rules(pod) == []
    assert c["args"][-2:] == ["--kernel-log", "kmsg"] and "--root" in c["args"]
    assert sc["privileged"] is True and sc["runAsUser"] == 0
    assert sc["readOnlyRootFilesystem"] is True  # kept from the base
    mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
    assert {"/host/root", "/host/root/sys", "/host/root/dev/kmsg", *NAME_MOUNTS} == set(mounts)
    assert all(m["readOnly"] is True for m in mounts.values())
    kmsg = {v["name"]: v for v in pod["volumes"]}[mounts["/host/root/dev/kmsg"]["name"]]
    assert kmsg["hostPath"] == {"path": "/dev/kmsg", "type": "CharDevice"}
    # the patch changed nothing else of the container
    for key in ("image", "command", "ports", "resources", "livenessProbe", "readinessProbe"):
        assert c[key] == base["spec"]["template"]["spec"]["containers"][0][key]


def test_kustomization_lists_the_manifests():
    yaml = _yaml()
    text = (K8S / "kustomization.yaml").read_text()
    kust = yaml.safe_load(text)
    assert kust["kind"] == "Kustomization"
    assert all((K8S / r).is_file() for r in kust["resources"])
    # the opt-in patch, commented out, names the overlay
    assert re.search(r"^#\s+- path: kmsg-overlay\.yaml$", text, re.MULTILINE)


# --- (c) Prometheus rules -------------------------------------------------------------------


def _promtool(*args: str) -> subprocess.CompletedProcess:
    tool = _tool("promtool", "apt-get install --no-install-recommends prometheus")
    return subprocess.run([tool, *args], capture_output=True, text=True, timeout=120, cwd=REPO, check=False)


def test_promtool_check_rules():
    proc = _promtool("check", "rules", str(RULES))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SUCCESS" in proc.stdout


def test_promtool_test_rules():
    proc = _promtool("test", "rules", str(RULES_TEST))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SUCCESS" in proc.stdout


def test_every_alert_is_tested_firing_and_quiet():
    yaml = _yaml()
    rules = yaml.safe_load(RULES.read_text())
    alerts = {r["alert"]: r for g in rules["groups"] for r in g["rules"] if "alert" in r}
    required = {"OomutilSystemOOMKill", "OomutilMemcgOOMKill", "OomutilCgroupNearLimit",
                "OomutilCommitNearLimit", "OomutilExporterBlind", "OomutilKillsUnlogged"}
    assert required <= set(alerts)
    assert 'constraint=~"none|unknown"' in alerts["OomutilSystemOOMKill"]["expr"]  # issue 24 item 12
    assert 'constraint="memcg"' in alerts["OomutilMemcgOOMKill"]["expr"]
    assert alerts["OomutilKillsUnlogged"]["labels"]["severity"] == "info"
    for name, rule in alerts.items():
        assert rule["labels"]["severity"] in ("critical", "warning", "info"), name
        assert {"summary", "description"} <= set(rule["annotations"]), name
    tests = yaml.safe_load(RULES_TEST.read_text())
    firing, quiet = set(), set()
    for case in tests["tests"]:
        for check in case.get("alert_rule_test", []):
            (firing if check.get("exp_alerts") else quiet).add(check["alertname"])
    assert set(alerts) <= firing, set(alerts) - firing
    assert set(alerts) <= quiet, set(alerts) - quiet


def _grafana_exprs(dashboard: dict) -> list[str]:
    exprs = []

    def walk(node):
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "expr" and isinstance(v, str):
                    exprs.append(v)
                else:
                    walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(dashboard)
    return exprs


def test_dashboard_queries_are_valid_promql(tmp_path):
    """promtool parses each query of the dashboard (as a recording rule, Grafana's
    variables replaced by what Grafana would put there)."""
    dashboard = json.loads(DASHBOARD.read_text())
    subst = {"$__rate_interval": "1m", "$__range": "1h", "$__interval": "1m",
             "$instance": ".*", "$domain": "/"}
    rules = []
    for i, expr in enumerate(_grafana_exprs(dashboard)):
        for var, value in subst.items():
            expr = expr.replace(var, value)
        assert "$" not in expr, expr
        rules.append({"record": f"dashboard:query{i}", "expr": expr})
    path = tmp_path / "dashboard-queries.rules.json"  # JSON is YAML
    path.write_text(json.dumps({"groups": [{"name": "dashboard", "rules": rules}]}))
    proc = _promtool("check", "rules", str(path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"SUCCESS: {len(rules)} rules found" in proc.stdout


# --- (d) Grafana ----------------------------------------------------------------------------


def test_dashboard_is_valid_and_covers_the_metrics():
    dashboard = json.loads(DASHBOARD.read_text())
    assert 36 <= dashboard["schemaVersion"] <= 41
    assert dashboard["uid"] and dashboard["title"]
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    assert variables["instance"]["type"] == "query" and "oomutil_" in variables["instance"]["query"]
    panels = dashboard["panels"]
    assert len({p["id"] for p in panels}) == len(panels)
    for p in panels:
        g = p["gridPos"]
        assert g["x"] >= 0 and g["w"] > 0 and g["x"] + g["w"] <= 24, p["title"]
        if p["type"] != "row":
            assert p["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, p["title"]
            assert p["targets"] and all(t["datasource"]["uid"] == "${datasource}" for t in p["targets"])
            assert all('instance=~"$instance"' in t["expr"] for t in p["targets"]), p["title"]
    exprs = " ".join(_grafana_exprs(dashboard))
    for metric in ("oomutil_oom_kills_total", "oomutil_cgroup_oom_kills_total", "oomutil_oom_last_victim_info",
                   "oomutil_predicted_victim_info", "oomutil_oom_score", "oomutil_cgroup_memory_headroom_bytes",
                   "oomutil_cgroup_memory_events_total", "oomutil_memory_committed_bytes",
                   "oomutil_memory_commit_limit_bytes", "oomutil_memory_pressure_seconds_total",
                   "oomutil_scrape_collector_success", "oomutil_kernel_log_source_info"):
        assert metric in exprs, metric
    families = documented_families()
    names = set(re.findall(r"\boomutil_[a-z0-9_]+", exprs))
    assert names and names <= set(families), names - set(families)
