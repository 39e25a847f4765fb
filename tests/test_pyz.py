"""oomutil.pyz (tools/build-pyz): one file, copied to an empty folder, runs with a plain
python3 of the oldest and the newest version we support, no install, no pip."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

TOOL = Path(__file__).resolve().parent.parent / "tools" / "build-pyz"


def _pythons():
    """python3.9 and the newest python3 here (pyenv's, or on PATH), and this one."""
    found = {}
    for version in ("3.9", "3.13", "3.12"):
        candidates = sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}.*/bin/python3")))
        path = candidates[-1] if candidates else shutil.which(f"python{version}")
        if path:
            found[version] = path
    found.setdefault(f"{sys.version_info[0]}.{sys.version_info[1]}", sys.executable)
    return found


@pytest.fixture(scope="module")
def pyz(tmp_path_factory):
    built = tmp_path_factory.mktemp("build") / "oomutil.pyz"
    out = subprocess.run([sys.executable, str(TOOL), str(built)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    alone = tmp_path_factory.mktemp("empty") / "oomutil.pyz"
    shutil.copy2(built, alone)
    return alone


@pytest.mark.parametrize("version", sorted(_pythons()))
def test_runs_from_an_empty_folder(pyz, version):
    python = _pythons()[version]
    env = {"PATH": "/usr/bin:/bin"}  # nothing of this checkout or its venvs
    out = subprocess.run([python, str(pyz), "top", "-n", "3"], capture_output=True, text=True, cwd=pyz.parent,
                         env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split()[:3] == ["PID", "USER", "SCORE"] and len(lines) == 4
    version_out = subprocess.run([python, str(pyz), "--version"], capture_output=True, text=True, env=env)
    assert version_out.stdout.startswith("oomutil ")


def test_has_no_exporter_and_says_so(pyz):
    out = subprocess.run([sys.executable, str(pyz), "metrics"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 1 and "pip install 'oomutil[exporter]'" in out.stderr and "Traceback" not in out.stderr
