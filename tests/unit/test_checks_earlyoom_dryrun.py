"""earlyoom --dryrun never kills (issue 24, item 10).

earlyoom main.c: the long option "dryrun" (no argument; getopt_long, so an unambiguous prefix
such as --dry is the same option) sets args.dryrun, "dry run (do not kill any processes)".
Such an earlyoom is no killer for OOM003.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import FIXTURES

from oomutil import killers
from oomutil.checks import run_checks
from oomutil.posture import posture

V1 = FIXTURES / "x86_64-cgroup1-linux6.18"  # no swap
PID = 29535


def earlyoom_tree(tmp_path: Path, args=(), files: dict = {}, running: bool = True) -> str:
    dest = tmp_path / "tree"
    shutil.copytree(V1, dest, symlinks=True)
    status = (V1 / f"proc/{PID}/status").read_text().replace("Name:\tpython3", "Name:\tearlyoom")
    process = {f"proc/{PID}/comm": "earlyoom\n", f"proc/{PID}/status": status,
               f"proc/{PID}/cmdline": "".join(a + "\0" for a in ("/usr/bin/earlyoom", *args))}
    for rel, text in {**(process if running else {}), **files}.items():
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        (dest / rel).write_text(text)
    return str(dest)


def oom003(root: str):
    return next((f for f in run_checks(posture(root)).findings if f.code == "OOM003"), None)


@pytest.mark.parametrize("args", [("--dryrun",), ("-m", "4", "--dryrun"), ("--dry",), ("--dryrun", "-r", "60")])
def test_a_dry_run_earlyoom_does_not_count(tmp_path, args):
    root = earlyoom_tree(tmp_path, args)
    (k,) = posture(root).userspace_killers
    assert k.running and not k.kills and "--dryrun" in k.settings
    f = oom003(root)
    assert f is not None and "earlyoom running, set not to kill" in f.detail


def test_dryrun_from_the_config_file_of_an_earlyoom_not_running(tmp_path):
    root = earlyoom_tree(tmp_path, (), {"etc/default/earlyoom": 'EARLYOOM_ARGS="-r 3600 --dryrun"\n'}, running=False)
    (k,) = posture(root).userspace_killers
    assert not k.running and not k.kills


def test_a_real_earlyoom_still_counts_and_an_argument_named_dryrun_is_no_option(tmp_path):
    assert killers.parse_earlyoom_args(["--prefer", "--dryrun"]).get("--dryrun") is None  # --prefer's value
    assert killers.parse_earlyoom_args(["--", "--dryrun"]).get("--dryrun") is None
    root = earlyoom_tree(tmp_path, ("-m", "4"))
    assert oom003(root) is None
