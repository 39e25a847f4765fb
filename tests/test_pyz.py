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


def test_the_exporter_needs_only_prometheus_client_and_says_so_without_pip(pyz):
    works = subprocess.run([sys.executable, str(pyz), "metrics"], capture_output=True, text=True, timeout=60)
    assert works.returncode == 0 and "oomutil_" in works.stdout  # this python has prometheus-client
    for command in ("serve", "metrics"):  # -S: a python without it (no site-packages)
        out = subprocess.run([sys.executable, "-S", str(pyz), command], capture_output=True, text=True, timeout=60)
        assert (out.returncode, out.stdout) == (1, "") and "Traceback" not in out.stderr
        assert "the exporter needs prometheus-client, which this python" in out.stderr and "pip" not in out.stderr


def _old_pythons():
    """Every python older than 3.9 that pyenv has here ({version: path})."""
    found = {}
    for path in sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/*/bin/python"))):
        version = path.split(os.sep)[-3]
        if tuple(map(int, version.split(".")[:2])) < (3, 9):
            found[version] = path
    return found


def _launcher(pyz) -> str:
    import zipfile

    with zipfile.ZipFile(pyz) as z:
        return z.read("__main__.py").decode()


@pytest.mark.parametrize("version", sorted(_old_pythons()) or ["none"])
def test_an_older_python_is_told_what_it_needs(pyz, version):
    import ast

    source = _launcher(pyz)
    ast.parse(source, feature_version=(3, 6))  # best effort: the run below is the proof
    assert "from __future__" not in source and "f\"" not in source
    if version == "none":
        pytest.skip("pyenv has no python older than 3.9 here: only the launcher's syntax was checked")
    out = subprocess.run([_old_pythons()[version], str(pyz), "top"], capture_output=True, text=True, timeout=60)
    major_minor = ".".join(version.split(".")[:2])
    assert out.returncode == 1 and out.stdout == ""
    assert out.stderr.startswith(f"oomutil needs Python 3.9 or newer (this is {major_minor}, ")
    assert len(out.stderr.splitlines()) == 1


def test_the_readme_says_its_size(pyz):
    import re

    readme = (TOOL.parent.parent / "README.md").read_text()
    said = int(re.search(r"oomutil\.pyz \(about (\d+) KB\)", readme).group(1))
    size = pyz.stat().st_size / 1000
    assert abs(size - said) <= said * 0.1, f"README says about {said} KB; the pyz is {size:.0f} KB"
