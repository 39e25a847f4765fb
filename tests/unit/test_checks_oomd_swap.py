"""OOM003 and a systemd-oomd that can never act (issue 24, item 2).

systemd src/oom/oomd-util.c oomd_swap_free_below(): swap free (total - used) is compared
with total * (10000 - SwapUsedLimit) / 10000, so with SwapTotal 0 the test is 0 < 0, false:
a unit with only ManagedOOMSwap=kill is never acted on.  ManagedOOMMemoryPressure=kill acts
on pressure, swap or not.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from helpers import FIXTURES

from oomutil.checks import run_checks
from oomutil.posture import posture

V1 = FIXTURES / "x86_64-cgroup1-linux6.18"  # no swap
PID = 29535


def oomd_tree(tmp_path: Path, dropin: str, swap_kb: int = 0) -> str:
    dest = tmp_path / "tree"
    shutil.copytree(V1, dest, symlinks=True)
    status = (V1 / f"proc/{PID}/status").read_text().replace("Name:\tpython3", "Name:\tsystemd-oomd")
    files = {f"proc/{PID}/comm": "systemd-oomd\n", f"proc/{PID}/status": status,
             f"proc/{PID}/cmdline": "/lib/systemd/systemd-oomd\0",
             "usr/lib/systemd/system/-.slice.d/10-oomd-root-slice-defaults.conf": dropin}
    if swap_kb:
        lines = []
        for line in (V1 / "proc/meminfo").read_text().splitlines():
            key = line.split(":")[0]
            lines.append(f"{key + ':':<16}{swap_kb:>8} kB" if key in ("SwapTotal", "SwapFree") else line)
        files["proc/meminfo"] = "\n".join(lines) + "\n"
    for rel, text in files.items():
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        (dest / rel).write_text(text)
    return str(dest)


def oom003(root: str):
    report = run_checks(posture(root))
    return next((f for f in report.findings if f.code == "OOM003"), None)


def test_only_managed_oom_swap_cannot_act_without_swap(tmp_path):
    root = oomd_tree(tmp_path, "[Slice]\nManagedOOMSwap=kill\n")
    (k,) = posture(root).userspace_killers
    assert k.settings["ManagedOOMSwap"] == "-.slice" and k.settings["ManagedOOMMemoryPressure"] == "none"
    f = oom003(root)
    assert f is not None, "systemd-oomd with only ManagedOOMSwap=kill never acts on a swapless host"
    assert "systemd-oomd running, only ManagedOOMSwap=kill, which never acts without swap" in f.detail


def test_memory_pressure_acts_without_swap(tmp_path):
    root = oomd_tree(tmp_path, "[Slice]\nManagedOOMSwap=kill\nManagedOOMMemoryPressure=kill\n")
    assert oom003(root) is None


def test_managed_oom_swap_acts_with_swap(tmp_path):
    root = oomd_tree(tmp_path, "[Slice]\nManagedOOMSwap=kill\n", swap_kb=2097148)
    assert oom003(root) is None  # OOM003 is quiet with swap anyway; and the killer counts
    (k,) = posture(root).userspace_killers
    assert k.kills


def test_the_text_report_says_it_cannot_act(tmp_path):
    from oomutil.cli.system import _killers
    root = oomd_tree(tmp_path, "[Slice]\nManagedOOMSwap=kill\n")
    (line,) = _killers(posture(root))
    assert "cannot act without swap" in line
