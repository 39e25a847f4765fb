"""The benchmark runs from a clone of this repository alone: its C reader and spawner
build with cc and work, its timing harness runs, and nothing points outside the repo."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


def test_nothing_outside_the_repository():
    for script in ("run", "scrape", "events"):
        text = (BENCH / script).read_text()
        assert "../shared" not in text and "shared/bench" not in text, script


def test_the_c_floor_builds_and_reads_every_process(tmp_path):
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler (apt-get install --no-install-recommends gcc libc6-dev)")
    for name in ("floor", "spawn"):
        out = subprocess.run([cc, "-O2", "-Wall", "-Werror", "-o", str(tmp_path / name), str(BENCH / f"{name}.c")],
                             capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
    floor = subprocess.run([str(tmp_path / "floor"), "-n", "3"], capture_output=True, text=True)
    assert floor.returncode == 0 and len(floor.stdout.splitlines()) == 4 and "processes scanned" in floor.stderr
    record = subprocess.run([str(tmp_path / "floor"), "-f", "oom_score,oom_score_adj,status,cgroup,stat"],
                            capture_output=True, text=True)
    assert record.returncode == 0 and "processes scanned" in record.stderr


def test_the_harness_times_commands_in_turns(tmp_path):
    out = subprocess.run([sys.executable, str(BENCH / "pairtime.py"), "--runs", "2", "--warmup", "0",
                          "--json", str(tmp_path / "t.json"), "a=true", "b=sh -c 'exit 0'"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    figures = json.loads((tmp_path / "t.json").read_text())
    assert set(figures["commands"]) == {"a", "b"} and "a/b" in figures["ratios"]
