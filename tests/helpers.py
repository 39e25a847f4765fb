"""Helpers the tests import (``pythonpath = tests`` in pyproject.toml)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent
FIXTURES = TESTS / "fixtures"
GOLDEN = TESTS / "golden"
CAPTURES = sorted(p.name for p in FIXTURES.iterdir() if (p / "MANIFEST").is_file())


def oomutil_command():
    """The installed console script next to this interpreter, else ``python -m oomutil``."""
    script = Path(sys.executable).with_name("oomutil")
    if script.is_file():
        return [str(script)]
    found = shutil.which("oomutil")
    return [found] if found else [sys.executable, "-m", "oomutil"]


def run_oomutil(*args, env=None, **kwargs) -> subprocess.CompletedProcess:
    """Run the real command in a child process; text output, no check."""
    full_env = dict(os.environ)
    full_env.pop("OOMUTIL_ROOT", None)
    full_env.update(env or {})
    return subprocess.run(oomutil_command() + [str(a) for a in args], capture_output=True,
                          text=True, env=full_env, timeout=60, **kwargs)


def capture_pids(name: str):
    proc = FIXTURES / name / "proc"
    return sorted(int(p.name) for p in proc.iterdir() if p.name.isdigit())


def read_int(path) -> int:
    return int(Path(path).read_text())


def status_bytes(path, key: str) -> int:
    """A ``Key:  N kB`` line of a status file, in bytes (0 when the line is absent)."""
    for line in Path(path).read_text().splitlines():
        name, _, value = line.partition(":")
        if name == key:
            return int(value.split()[0]) * 1024
    return 0


def meminfo_bytes(path, key: str) -> int:
    return status_bytes(path, key)


def reaped_pid() -> int:
    """The pid of a process that existed a moment ago and is gone now."""
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def set_adj(value: int):
    """preexec_fn: the child writes its own oom_score_adj before exec (inherited by exec)."""

    def write():
        fd = os.open("/proc/self/oom_score_adj", os.O_WRONLY)
        try:
            os.write(fd, str(value).encode())
        finally:
            os.close(fd)

    return write
