"""`oomutil system`: the posture report and the checks OOM001... (docs/checks.md).

Each check fires on a tree made from a real capture with the one file it reads changed,
and stays quiet on the same capture with the file as it was (or set the other way).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import FIXTURES, run_oomutil

from oomutil import killers
from oomutil.checks import CHECKS, run_checks
from oomutil.posture import posture

V1 = FIXTURES / "x86_64-cgroup1-linux6.18"  # no swap, no userspace killer, /oomutil-capture/app limited to 64 MiB
V2 = FIXTURES / "x86_64-cgroup2-linux6.1"
APP_V1 = "sys/fs/cgroup/memory/oomutil-capture/app"
APP_V2 = "sys/fs/cgroup/oomutil-capture/app"
UNLIMITED_V1 = "9223372036854771712\n"
PID = 29535  # python3 in /oomutil-capture/app of the v1 capture, 43 MiB


def tree(tmp_path: Path, files: dict, base: Path = V1) -> str:
    """A copy of ``base`` with ``files`` (path -> text; None removes it) written over it."""
    dest = tmp_path / "tree"
    shutil.copytree(base, dest, symlinks=True)
    for rel, text in files.items():
        path = dest / rel
        if text is None:
            path.unlink()
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return str(dest)


def meminfo(base: Path = V1, **kb: int) -> str:
    """The capture's meminfo with some lines (MemTotal=..., in kB) changed."""
    lines = []
    for line in (base / "proc/meminfo").read_text().splitlines():
        key = line.split(":")[0]
        lines.append(f"{key + ':':<16}{kb[key]:>8} kB" if key in kb else line)
    return "\n".join(lines) + "\n"


def status_with(pid: int, base: Path = V1, **kb: int) -> str:
    lines = []
    for line in (base / f"proc/{pid}/status").read_text().splitlines():
        key = line.split(":")[0]
        lines.append(f"{key}:\t{kb[key]:>8} kB" if key in kb else line)
    return "\n".join(lines) + "\n"


def finding(root: str, code: str, ignore=()):
    """The finding ``code`` makes on ``root``, or None; the report checks itself too."""
    report = run_checks(posture(root), ignore)
    assert code not in report.not_evaluated, report.not_evaluated
    return next((f for f in report.findings if f.code == code), None)


# -- one tree per check, positive and negative ----------------------------------------------


def test_every_check_is_quiet_on_the_captures_but_oom003():
    for base in (V1, V2):
        report = run_checks(posture(str(base)))
        assert [f.code for f in report.findings] == ["OOM003"], report.findings  # no swap, no killer
        assert report.status == "warning" and report.not_evaluated == {}


@pytest.mark.parametrize("value,severity", [("1", "warning"), ("2", "critical"), ("0", None)])
def test_oom001_panic_on_oom(tmp_path, value, severity):
    f = finding(tree(tmp_path, {"proc/sys/vm/panic_on_oom": value + "\n"}), "OOM001")
    assert (f and f.severity) == severity
    if f:
        assert f.detail.startswith(f"panic_on_oom={value}")


@pytest.mark.parametrize("mode,committed_kb,severity", [
    ("2", 12342044 * 92 // 100, "warning"),
    ("2", 12342044 * 99 // 100, "critical"),
    ("2", 12342044 * 80 // 100, None),  # mode 2, room left
    ("0", 12342044 * 99 // 100, None),  # near the limit, but nothing enforces it
])
def test_oom002_commit_near_limit_under_mode_2(tmp_path, mode, committed_kb, severity):
    root = tree(tmp_path, {"proc/sys/vm/overcommit_memory": mode + "\n",
                           "proc/meminfo": meminfo(Committed_AS=committed_kb)})
    f = finding(root, "OOM002")
    assert (f and f.severity) == severity
    if f:
        assert "of CommitLimit 11.8 GiB" in f.detail


def test_oom003_no_swap_no_killer(tmp_path):
    assert finding(str(V1), "OOM003").severity == "warning"  # the capture: no swap, no killer
    swap = tree(tmp_path, {"proc/meminfo": meminfo(SwapTotal=2097148, SwapFree=2097148),
                           "proc/swaps": "Filename\tType\tSize\tUsed\tPriority\n/swapfile file 2097148 0 -2\n"})
    assert finding(swap, "OOM003") is None
    assert posture(swap).swap_areas[0].filename == "/swapfile"


def _running(tmp_path, name: str, comm: str, files: dict = {}, args=()) -> str:
    """The v1 capture with process PID renamed ``comm`` (a killer running with ``args``),
    plus ``files``."""
    status = (V1 / f"proc/{PID}/status").read_text().replace("Name:\tpython3", f"Name:\t{comm}")
    return tree(tmp_path, {f"proc/{PID}/comm": comm + "\n", f"proc/{PID}/status": status,
                           f"proc/{PID}/cmdline": "".join(a + "\0" for a in (name, *args)), **files})


def test_oom003_quiet_with_a_killer_running_and_loud_with_one_that_only_warns(tmp_path):
    root = _running(tmp_path / "a", "earlyoom", "earlyoom", {"etc/default/earlyoom": 'EARLYOOM_ARGS="-m 4 -s 8,2"\n'},
                    args=("-m", "4", "-s", "8,2"))  # as the unit starts it: earlyoom $EARLYOOM_ARGS
    assert finding(root, "OOM003") is None
    (k,) = posture(root).userspace_killers
    assert (k.name, k.pids, k.config, k.settings, k.kills) == (
        "earlyoom", (PID,), "/etc/default/earlyoom", {"-m": "4,2", "-s": "8,2"}, True)
    lmm = _running(tmp_path / "b", "low-memory-monitor", "low-memory-moni",
                   {"etc/low-memory-monitor.conf": "[Configuration]\nTriggerKernelOom=false\n"})
    f = finding(lmm, "OOM003")
    assert f is not None and "low-memory-monitor running, set not to kill" in f.detail
    lmm_kills = _running(tmp_path / "c", "low-memory-monitor", "low-memory-moni",
                         {"etc/low-memory-monitor.conf": "[Configuration]\nTriggerKernelOom=true\n"})
    assert finding(lmm_kills, "OOM003") is None


def test_oom003_installed_not_running_unit_and_enabled(tmp_path):
    root = tree(tmp_path, {"usr/lib/systemd/system/earlyoom.service": "[Service]\nExecStart=/usr/bin/earlyoom\n"})
    wants = Path(root) / "etc/systemd/system/multi-user.target.wants"
    wants.mkdir(parents=True)
    (wants / "earlyoom.service").symlink_to("/usr/lib/systemd/system/earlyoom.service")  # dangling in a tree
    (k,) = posture(root).userspace_killers
    assert (k.unit, k.enabled, k.pids, k.settings) == (
        "/usr/lib/systemd/system/earlyoom.service", True, (), {"-m": "10,5", "-s": "10,5"})
    assert "earlyoom installed, not running" in finding(root, "OOM003").detail


def test_oom004_big_unkillable(tmp_path):
    big = tree(tmp_path / "a", {f"proc/{PID}/oom_score_adj": "-1000\n",
                                f"proc/{PID}/status": status_with(PID, VmRSS=3 << 20)})  # 3 GiB of 23.5
    f = finding(big, "OOM004")
    assert f.severity == "warning" and f.subjects == (f"{PID}:python3",)
    assert "3.0 GiB" in f.detail
    small = tree(tmp_path / "b", {f"proc/{PID}/oom_score_adj": "-1000\n"})  # 43 MiB
    assert finding(small, "OOM004") is None
    assert [u.pid for u in posture(small).unkillable] == [PID]


@pytest.mark.parametrize("under_oom,severity", [("0", "warning"), ("1", "critical")])
def test_oom005_v1_oom_kill_disable(tmp_path, under_oom, severity):
    root = tree(tmp_path, {f"{APP_V1}/memory.oom_control":
                           f"oom_kill_disable 1\nunder_oom {under_oom}\noom_kill 0\n"})
    f = finding(root, "OOM005")
    assert f.severity == severity and f.subjects == ("/oomutil-capture/app",)
    assert finding(str(V1), "OOM005") is None and finding(str(V2), "OOM005") is None


@pytest.mark.parametrize("base,app,usage,inactive,fires", [
    (V1, APP_V1, 62 << 20, 0, True),  # 97 % of 64 MiB
    (V1, APP_V1, 62 << 20, 20 << 20, False),  # 97 %, but 20 MiB of it inactive page cache
    (V1, APP_V1, 58 << 20, 0, False),  # 91 %
    (V2, APP_V2, 62 << 20, 0, True),
    (V2, APP_V2, 62 << 20, 20 << 20, False),
])
def test_oom006_cgroup_near_its_limit(tmp_path, base, app, usage, inactive, fires):
    usage_file = "memory.usage_in_bytes" if base is V1 else "memory.current"
    stat = "total_inactive_file" if base is V1 else "inactive_file"
    root = tree(tmp_path, {f"{app}/{usage_file}": f"{usage}\n", f"{app}/memory.stat": f"{stat} {inactive}\n"}, base)
    f = finding(root, "OOM006")
    assert bool(f) == fires
    if f:
        assert f.subjects == ("/oomutil-capture/app",) and "(97%)" in f.detail


@pytest.mark.parametrize("full,severity", [(15.0, "warning"), (55.5, "critical"), (3.0, None)])
def test_oom007_memory_pressure(tmp_path, full, severity):
    psi = f"some avg10={full + 5:.2f} avg60=1.00 avg300=0.50 total=100\nfull avg10={full:.2f} avg60=1.00 avg300=0.50 total=50\n"
    f = finding(tree(tmp_path, {"proc/pressure/memory": psi}), "OOM007")
    assert (f and f.severity) == severity


def test_oom007_not_evaluated_without_psi(tmp_path):
    report = run_checks(posture(tree(tmp_path, {"proc/pressure/memory": None})))
    assert "OOM007" in report.not_evaluated and "4.20" in report.not_evaluated["OOM007"]


@pytest.mark.parametrize("value,fires", [("1", True), ("0", False)])
def test_oom008_oom_kill_allocating_task(tmp_path, value, fires):
    assert bool(finding(tree(tmp_path, {"proc/sys/vm/oom_kill_allocating_task": value + "\n"}), "OOM008")) == fires


def test_oom009_always_overcommit_without_limits(tmp_path):
    unlimited = tree(tmp_path / "a", {"proc/sys/vm/overcommit_memory": "1\n",
                                      f"{APP_V1}/memory.limit_in_bytes": UNLIMITED_V1,
                                      "sys/fs/cgroup/memory/oomutil-capture/memory.limit_in_bytes": UNLIMITED_V1})
    assert finding(unlimited, "OOM009").detail == "overcommit_memory=1 and no memory cgroup has a limit"
    limited = tree(tmp_path / "b", {"proc/sys/vm/overcommit_memory": "1\n"})  # /oomutil-capture has 256 MiB
    assert finding(limited, "OOM009") is None


def test_oom010_no_task_dump_is_info_and_status_stays_ok(tmp_path):
    root = tree(tmp_path, {"proc/sys/vm/oom_dump_tasks": "0\n"})
    report = run_checks(posture(root), ["OOM003"])
    assert [(f.code, f.severity) for f in report.findings] == [("OOM010", "info")]
    assert report.status == "ok" and report.ignored == ("OOM003",)


def test_ignore_and_unknown_codes():
    report = run_checks(posture(str(V1)), ["oom003"])
    assert report.findings == () and report.status == "ok"
    with pytest.raises(ValueError, match="no such check: OOM999"):
        run_checks(posture(str(V1)), ["OOM999"])


# -- the command: exit codes, the status line, JSON -----------------------------------------


PLUGIN_LINE = re.compile(r"^OOM (OK|WARNING|CRITICAL) - .+ \| (\S+=\S+)( \S+=\S+)*$")
PERFDATA = re.compile(r"^[a-z_0-9]+=[0-9.]+(B|%|c)?(;[0-9.]*){0,4}$")


@pytest.mark.parametrize("files,ignore,code,status", [
    ({}, ["--ignore", "OOM003"], 0, "OK"),
    ({}, [], 1, "WARNING"),
    ({"proc/sys/vm/panic_on_oom": "2\n"}, [], 2, "CRITICAL"),
    ({"proc/sys/vm/panic_on_oom": "1\n"}, ["--ignore", "OOM003,OOM001"], 0, "OK"),
])
def test_check_exit_codes_and_status_line(tmp_path, files, ignore, code, status):
    root = tree(tmp_path, files)
    r = run_oomutil("--root", root, "system", "--check", *ignore)
    assert r.returncode == code, r.stdout + r.stderr
    first, *rest = r.stdout.splitlines()
    assert PLUGIN_LINE.match(first) and first.startswith(f"OOM {status} - "), first
    for item in first.split(" | ", 1)[1].split():
        assert PERFDATA.match(item), item
    assert len(rest) == len(run_checks(posture(root), [c for a in ignore[1:] for c in a.split(",")]).findings)
    assert r.stderr == ""
    plain = run_oomutil("--root", root, "system", *ignore)  # without --check, the report exits 0
    assert plain.returncode == 0


@pytest.mark.parametrize("args", [
    ["--root", "/no/such/dir", "system", "--check"],
    ["system", "--check", "--ignore", "OOM999"],
    ["system", "--check", "--no-such-option"],
])
def test_check_unknown_is_3_on_stdout(args):
    r = run_oomutil(*args)
    assert r.returncode == 3 and r.stdout.startswith("OOM UNKNOWN - ") and r.stderr == "", r
    assert len(r.stdout.splitlines()) == 1


def test_usage_errors_without_check_stay_2(cli):
    code, out, err = cli("system", "--ignore", "OOM999")
    assert code == 2 and "no such check: OOM999" in err and out == ""


def test_json_keys(cli):
    code, out, err = cli("--root", str(V2), "system", "--json")
    assert code == 0 and err == ""
    doc = json.loads(out)
    assert list(doc) == ["kernel_release", "era", "vm", "meminfo", "swap_areas", "zswap", "zram", "pressure",
                         "oom_kill_count", "cgroups", "limited_cgroups", "userspace_killers", "unkillable", "view", "checks"]
    assert set(doc["vm"]) >= {"overcommit_memory", "panic_on_oom", "oom_kill_allocating_task", "oom_dump_tasks",
                              "watermark_scale_factor", "min_free_kbytes"}
    assert doc["cgroups"] == {"mode": "v2", "memory_version": 2, "memory_directory": "/sys/fs/cgroup"}
    assert set(doc["limited_cgroups"][0]) == {"path", "name", "version", "usage_bytes", "working_set_bytes",
                                              "limit_bytes", "oom_kill_disable", "under_oom"}
    checks = doc["checks"]
    assert list(checks) == ["status", "findings", "ignored", "not_evaluated"] and checks["status"] == "warning"
    assert list(checks["findings"][0]) == ["code", "severity", "title", "detail", "subjects", "why", "advice"]
    code, out, _ = cli("--root", str(V2), "system", "--json", "--check")  # JSON, with the plugin's exit code
    assert code == 1 and json.loads(out)["checks"]["status"] == "warning"


# -- the live machine --------------------------------------------------------------------


def test_live_report_fits_one_screen_and_agrees_with_check():
    r = run_oomutil("system")
    assert r.returncode == 0 and r.stderr == ""
    lines = r.stdout.splitlines()
    doc = json.loads(run_oomutil("system", "--json").stdout)
    # one 100x24 screen with one finding (this machine: OOM003); each more takes 2 or 3 lines
    assert len(lines) <= 21 + 3 * max(1, len(doc["checks"]["findings"])) and max(map(len, lines)) <= 100, r.stdout
    check = run_oomutil("system", "--check")
    assert check.returncode == {"ok": 0, "warning": 1, "critical": 2}[doc["checks"]["status"]]
    assert check.stdout.startswith(f"OOM {doc['checks']['status'].upper()} - ")
    kills = int(re.search(r"oom_kills=(\d+)c", check.stdout).group(1))
    assert kills >= doc["oom_kill_count"]  # read a moment later
    assert doc["kernel_release"] == Path("/proc/sys/kernel/osrelease").read_text().strip()


def test_live_killer_running_is_found_with_its_arguments(tmp_path):
    """A real process named earlyoom (Python started through a link of that name: the
    kernel names a process after the file it executed) with earlyoom's options."""
    exe = tmp_path / "earlyoom"
    exe.symlink_to(sys.executable)
    proc = subprocess.Popen([str(exe), "-c", "import time; time.sleep(30)", "-m", "5", "-s", "20,3"])
    try:
        comm, cmdline = Path(f"/proc/{proc.pid}/comm"), Path(f"/proc/{proc.pid}/cmdline")
        # Popen returns once exec() closed its pipe, a moment before the kernel names the
        # process after the new file (setup_new_exec()), and a moment more before the new
        # program's arguments are in place (create_elf_tables(): ci23 read the new comm with
        # an empty cmdline, so earlyoom's defaults)
        deadline = time.monotonic() + 5
        while (comm.read_text() != "earlyoom\n" or b"20,3" not in cmdline.read_bytes()) \
                and time.monotonic() < deadline:
            time.sleep(0.01)
        assert comm.read_text() == "earlyoom\n"
        k = {k.name: k for k in posture("/").userspace_killers}["earlyoom"]
        assert proc.pid in k.pids and k.kills and k.settings == {"-m": "5,2.5", "-s": "20,3"}
        assert finding("/", "OOM003") is None  # a killer runs: OOM003 is quiet here now
    finally:
        proc.kill()
        proc.wait()


# -- parsers -----------------------------------------------------------------------------


@pytest.mark.parametrize("args,settings", [
    ([], {"-m": "10,5", "-s": "10,5"}),
    (["-m", "15", "-r", "3600"], {"-m": "15,7.5", "-s": "10,5"}),
    (["-m5,2", "-s", "100"], {"-m": "5,2", "-s": "100,50"}),
    (["-M", "409600", "-S", "102400,51200"], {"-M": "409600,204800", "-S": "102400,51200"}),
])
def test_parse_earlyoom_args(args, settings):
    assert killers.parse_earlyoom_args(args) == settings


def test_parse_nohang_and_oomd_configs():
    conf = b"# comment\n@BADNESS_ADJ_RE_NAME 200 /// ^foo$\nsoft_threshold_min_mem = 8 %\nhard_threshold_min_swap = 4 %\n" \
           b"warning_threshold_min_mem = 20 %\nmem_min_sigterm = 10 %\n"
    assert killers.nohang_settings(killers.parse_config(conf)) == {
        "soft_threshold_min_mem": "8 %", "hard_threshold_min_swap": "4 %", "mem_min_sigterm": "10 %"}
    doc = b'{"rulesets": [{"name": "memory pressure", "detectors": [["d", {"name": "pressure_above", ' \
          b'"args": {"cgroup": "workload.slice", "resource": "memory", "threshold": 80}}]], "actions": []}]}'
    assert killers.parse_oomd_json(doc) == {"memory pressure": "pressure_above(resource=memory, threshold=80)"}
    assert killers.parse_oomd_json(b"not json") == {}
    yaml = "kind: KubeletConfiguration\nevictionHard:\n  memory.available: \"500Mi\"\n  nodefs.available: 10%\nfoo: 1\n"
    assert killers.kubelet_settings([], yaml) == {"eviction-hard": "memory.available<500Mi,nodefs.available<10%"}
    assert killers.kubelet_settings(["kubelet", "--eviction-hard=memory.available<1Gi"], None) == {
        "eviction-hard": "memory.available<1Gi"}


def test_systemd_oomd_defaults_and_drop_ins(tmp_path):
    root = _running(tmp_path, "systemd-oomd", "systemd-oomd", {
        "usr/lib/systemd/oomd.conf": "[OOM]\n#SwapUsedLimit=90%\n",
        "etc/systemd/oomd.conf.d/10-limit.conf": "[OOM]\nDefaultMemoryPressureLimit=50%\n",
        "usr/lib/systemd/oomd.conf.d/20-swap.conf": "[OOM]\nSwapUsedLimit=80%\n",
    })
    (k,) = posture(root).userspace_killers
    assert k.config == "/usr/lib/systemd/oomd.conf" and k.settings == {
        "SwapUsedLimit": "80%", "DefaultMemoryPressureLimit": "50%", "DefaultMemoryPressureDurationSec": "30s",
        "ManagedOOMSwap": "none", "ManagedOOMMemoryPressure": "none"}
    assert not k.kills and "systemd-oomd running, set not to kill" in finding(root, "OOM003").detail
    # a unit that hands its cgroup to systemd-oomd (as Fedora's drop-ins do) makes it act
    drop_in = Path(root) / "usr/lib/systemd/system/user@.service.d/10-oomd-user-service-defaults.conf"
    drop_in.parent.mkdir(parents=True)
    drop_in.write_text("[Service]\nManagedOOMMemoryPressure=kill\nManagedOOMMemoryPressureLimit=50%\n")
    (k,) = posture(root).userspace_killers
    assert k.kills and k.settings["ManagedOOMMemoryPressure"] == "user@.service" and finding(root, "OOM003") is None


def test_fedoras_earlyoom_config_a_masked_unit_and_odd_oomd_json(tmp_path):
    root = tree(tmp_path, {
        "etc/sysconfig/earlyoom": "EARLYOOM_ARGS=\"-r 0 -m 4 -n --avoid '^(dnf|packagekitd|gnome-shell)$'\"\n",
        "etc/oomd/oomd.json": '{"rulesets": [{"name": "x", "detectors": 5}]}',
    })
    masked = Path(root) / "etc/systemd/system/nohang.service"
    masked.parent.mkdir(parents=True, exist_ok=True)
    masked.symlink_to("/dev/null")
    found = {k.name: k for k in posture(root).userspace_killers}
    assert found["earlyoom"].settings == {"-m": "4,2", "-s": "10,5"} and found["earlyoom"].pids == ()
    assert found["oomd"].settings == {"x": ""} and "nohang" not in found
    assert killers.shell_words("\"-m 4 --avoid '^(a|b)$'\"") == ["-m", "4", "--avoid", "^(a|b)$"]
    assert killers.shell_words("'unbalanced") == ["unbalanced"]


def test_kubelet_without_memory_eviction_does_not_count(tmp_path):
    yaml = "evictionHard:\n  nodefs.available: 10%\n"  # the other defaults become 0 (kubelet docs)
    root = _running(tmp_path, "kubelet", "kubelet", {"var/lib/kubelet/config.yaml": yaml},
                    args=("--config=/var/lib/kubelet/config.yaml",))
    (k,) = posture(root).userspace_killers
    assert k.settings == {"eviction-hard": "nodefs.available<10%"} and not k.kills
    assert finding(root, "OOM003") is not None


def test_partial_process_view_leaves_oom003_and_oom004_unjudged(tmp_path):
    root = Path(tree(tmp_path, {"proc/loadavg": "0.00 0.00 0.00 1/200 999\n"}))
    mountinfo = root / "proc" / "self" / "mountinfo"
    mountinfo.unlink()  # a link into the capturing process's directory
    mountinfo.write_text("22 1 0:20 / /proc rw,relatime - proc proc rw,hidepid=invisible\n")
    for d in (root / "proc").iterdir():  # what hidepid=invisible shows another user: little
        if d.name.isdigit() and int(d.name) not in (1, PID):
            shutil.rmtree(d)
    report = run_checks(posture(str(root)))
    assert {"OOM003", "OOM004"} <= set(report.not_evaluated) and "hidepid" in report.not_evaluated["OOM003"]
    r = run_oomutil("--root", root, "system", "--check")
    assert "unkillable=" not in r.stdout  # nothing to say of processes it cannot see
    text = run_oomutil("--root", root, "system").stdout
    assert "no process at oom_score_adj -1000 seen (this /proc shows only part of the processes)" in text


def test_check_without_the_basics_is_unknown(tmp_path):
    (tmp_path / "proc").mkdir()  # a /host whose /proc was not mounted
    (tmp_path / "sys").mkdir()
    r = run_oomutil("--root", tmp_path, "system", "--check")
    assert (r.returncode, r.stdout) == (3, "OOM UNKNOWN - cannot read /proc/meminfo under this root: no status to give\n")
    assert run_oomutil("--root", tmp_path, "system").returncode == 0  # the report says what it could not read


def test_parse_swaps_zram_and_escapes():
    from oomutil.procfs.swaps import parse_swaps

    data = (b"Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
            b"/dev/zram0                              partition\t262140\t\t1024\t\t100\n"
            b"/swap\\040file (deleted)                  file\t\t2097148\t\t0\t\t-2\n")
    zram, f = parse_swaps(data)
    assert (zram.is_zram, zram.size_bytes, zram.used_bytes, zram.priority) == (True, 262140 * 1024, 1024 * 1024, 100)
    assert (f.filename, f.type, f.is_zram) == ("/swap file (deleted)", "file", False)


def test_capture_keeps_what_the_killers_read():
    text = (Path(__file__).parent.parent / "tools" / "capture-fixture").read_text()
    for known in killers._KNOWN:
        for unit in known.units:
            assert f'"{unit}"' in text, unit
        for config in known.configs:
            assert f'"etc/{config}"' in text, config


def test_docs_list_every_check():
    doc = (Path(__file__).parent.parent / "docs" / "checks.md").read_text()
    headings = re.findall(r"^## (OOM\d{3}) (\w+): (.+)$", doc, re.M)
    assert [(c.code, c.severity, c.title) for c in CHECKS] == headings


def test_a_python_daemon_is_found_by_its_script_and_a_reader_of_its_config_is_not(tmp_path):
    other = 29534  # another process of the capture, renamed less
    status = re.sub(r"^Name:.*$", "Name:\tless", (V1 / f"proc/{other}/status").read_text(), flags=re.M)
    root = tree(tmp_path, {f"proc/{PID}/cmdline": "python3\0-u\0/usr/sbin/nohang\0--monitor\0",
                           f"proc/{other}/comm": "less\n", f"proc/{other}/status": status,
                           f"proc/{other}/cmdline": "less\0/etc/default/earlyoom\0"})
    assert [(k.name, k.pids) for k in posture(root).userspace_killers] == [("nohang", (PID,))]


def test_plugin_output_keeps_a_pipe_in_a_name_out_of_perfdata(tmp_path):
    """A process can name itself "a|b": in a plugin's output every "|" starts perfdata, so the
    name's is shown as \\x7c (and a control character as \\xNN), on every line."""
    status = status_with(PID, VmRSS=3 << 20).replace("Name:\tpython3", "Name:\ta|b\x1b[2J")
    root = tree(tmp_path, {f"proc/{PID}/oom_score_adj": "-1000\n", f"proc/{PID}/status": status})
    r = run_oomutil("--root", root, "system", "--check")
    assert r.returncode == 1 and "\x1b" not in r.stdout
    assert [line.count("|") for line in r.stdout.splitlines()] == [1] + [0] * (len(r.stdout.splitlines()) - 1)
    assert f"a\\x7cb\\x1b[2J ({PID})" in r.stdout.split(" | ")[0]
