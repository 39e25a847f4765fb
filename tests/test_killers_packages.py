"""The userspace OOM killers as Debian ships them: the real packages (earlyoom, nohang,
systemd-oomd, low-memory-monitor) unpacked with dpkg -x over a captured tree, enabled as
`systemctl enable` would (a .wants link), with their processes running under the names
their binaries give them.  What `oomutil system` finds must be what the packages say."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import FIXTURES, run_oomutil

from oomutil.checks import run_checks
from oomutil.posture import posture

PACKAGES = ("earlyoom", "nohang", "systemd-oomd", "low-memory-monitor")
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "oomutil-pkgs"
V1 = FIXTURES / "x86_64-cgroup1-linux6.18"
# pids of the capture given the killers' names (comm, argv): the kernel cuts comm to 15 bytes
RUNNING = {
    29532: ("earlyoom", ["/usr/bin/earlyoom", "-r", "3600"]),  # as the unit runs it: $EARLYOOM_ARGS
    29533: ("nohang", ["/usr/bin/python3", "/usr/sbin/nohang", "--monitor", "--config", "/etc/nohang/nohang.conf"]),
    29534: ("systemd-oomd", ["/lib/systemd/systemd-oomd"]),
    29535: ("low-memory-moni", ["/usr/libexec/low-memory-monitor"]),
}


@pytest.fixture(scope="module")
def debs():
    """The four .deb files, downloaded once into ~/.cache/oomutil-pkgs."""
    if shutil.which("apt-get") is None or shutil.which("dpkg") is None:
        pytest.skip("needs apt-get and dpkg (Debian) to fetch the killers' packages")
    CACHE.mkdir(parents=True, exist_ok=True)
    have = {p: sorted(CACHE.glob(f"{p}_*.deb")) for p in PACKAGES}
    missing = [p for p in PACKAGES if not have[p]]
    if missing:
        out = subprocess.run(["apt-get", "download", *missing], cwd=CACHE, capture_output=True, text=True, timeout=300)
        if out.returncode != 0:
            pytest.skip(f"apt-get download {' '.join(missing)} failed (offline, or no such package here): "
                        f"{out.stderr.strip().splitlines()[-1:]}")
    return [sorted(CACHE.glob(f"{p}_*.deb"))[-1] for p in PACKAGES]


@pytest.fixture
def host(tmp_path, debs):
    root = tmp_path / "host"
    shutil.copytree(V1, root, symlinks=True)
    for deb in debs:
        subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True)
    wants = root / "etc/systemd/system/multi-user.target.wants"
    wants.mkdir(parents=True)
    for unit in ("earlyoom.service", "nohang.service", "systemd-oomd.service"):
        (wants / unit).symlink_to(f"/lib/systemd/system/{unit}")
    return root


def _run(root: Path, pid: int, comm: str, argv) -> None:
    d = root / "proc" / str(pid)
    status = d.joinpath("status").read_text().splitlines()
    d.joinpath("status").write_text("\n".join([f"Name:\t{comm}"] + status[1:]) + "\n")
    d.joinpath("comm").write_text(comm + "\n")
    d.joinpath("cmdline").write_text("".join(a + "\0" for a in argv))


def test_installed_enabled_not_running(host):
    found = {k.name: k for k in posture(str(host)).userspace_killers}
    assert set(found) == set(PACKAGES)
    e = found["earlyoom"]
    assert (e.unit, e.enabled, e.config, e.pids) == ("/lib/systemd/system/earlyoom.service", True,
                                                      "/etc/default/earlyoom", ())
    assert e.settings == {"-m": "10,5", "-s": "10,5"}  # Debian's EARLYOOM_ARGS="-r 3600": the defaults
    n = found["nohang"]
    assert n.config == "/etc/nohang/nohang.conf" and n.settings["soft_threshold_min_mem"] == "5 %"
    assert n.settings["hard_threshold_min_swap"] == "4 %" and "warning_threshold_min_mem" not in n.settings
    o = found["systemd-oomd"]
    assert o.config == "/etc/systemd/oomd.conf" and o.kills  # Debian's drop-ins hand -.slice and user@ to it
    assert o.settings == {"SwapUsedLimit": "90%", "DefaultMemoryPressureLimit": "60%",
                          "DefaultMemoryPressureDurationSec": "20s",  # /usr/lib/systemd/oomd.conf.d/10-oomd-defaults.conf
                          "ManagedOOMSwap": "-.slice", "ManagedOOMMemoryPressure": "user@.service"}
    lm = found["low-memory-monitor"]
    assert (lm.enabled, lm.config, lm.kills) == (False, None, False)  # no .wants link made; no config shipped
    f = next(f for f in run_checks(posture(str(host))).findings if f.code == "OOM003")
    assert "earlyoom installed, not running" in f.detail and "low-memory-monitor installed, not running" in f.detail


def test_running_as_the_units_start_them(host):
    for pid, (comm, argv) in RUNNING.items():
        _run(host, pid, comm, argv)
    found = {k.name: k for k in posture(str(host)).userspace_killers}
    assert {name: k.pids for name, k in found.items()} == {
        "earlyoom": (29532,), "nohang": (29533,), "systemd-oomd": (29534,), "low-memory-monitor": (29535,)}
    assert found["earlyoom"].settings == {"-m": "10,5", "-s": "10,5"}
    assert found["nohang"].config == "/etc/nohang/nohang.conf"
    assert not found["low-memory-monitor"].kills
    report = run_checks(posture(str(host)))
    assert "OOM003" not in [f.code for f in report.findings]  # earlyoom, nohang and systemd-oomd act
    text = run_oomutil("--root", host, "system").stdout
    assert "earlyoom running (pid 29532): -m 10,5, -s 10,5\n" in text
    assert "low-memory-monitor running (pid 29535), set not to kill: TriggerKernelOom=false" in text


def test_a_capture_of_that_host_keeps_what_the_killers_read(host, tmp_path):
    tool = Path(__file__).resolve().parents[1] / "tools" / "capture-fixture"
    out = subprocess.run([sys.executable, str(tool), "--root", str(host), "--out", str(tmp_path / "cap"), "t"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert posture(str(tmp_path / "cap" / "t")).userspace_killers == posture(str(host)).userspace_killers
