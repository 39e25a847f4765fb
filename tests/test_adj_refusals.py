"""Why a write of oom_score_adj or oom_adj is refused, decided as the kernel decides it
(issue 24): first the file's permissions (mode 0644, owned by the process's effective uid,
root when the process is not dumpable: task_dump_owner()), then the floor and capability
rule, in oom_score_adj units also for a legacy oom_adj write.  Only processes started here."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import has_capability, read_int, sleeper

import oomutil

pytestmark = pytest.mark.live

NOBODY = 65534
SRC = str(Path(oomutil.__file__).resolve().parent.parent)


DROP = """
import ctypes, errno, importlib, os, oomutil, oomutil.process
from oomutil import AccessDenied, Process
os.setgroups([])
os.setgid(%d)
os.setuid(%d)
""" % (NOBODY, NOBODY)


def _as_nobody(code: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a Python child that has become uid/gid 65534 (no capabilities) after
    importing oomutil (the interpreter may live where that user cannot read)."""
    if os.geteuid() != 0:
        pytest.skip("needs root to start a child as another user")
    env = dict(os.environ, PYTHONPATH=SRC)
    env.pop("OOMUTIL_ROOT", None)
    return subprocess.run([sys.executable, "-c", DROP + code], cwd="/", env=env, capture_output=True,
                          text=True, timeout=60)


REFUSE = """
try:
    Process({pid}).{call}
except AccessDenied as err:
    print(err)
else:
    print("TAKEN")
"""


def test_a_legacy_oom_adj_lowering_is_judged_in_oom_score_adj_units(sleeper):
    """At oom_score_adj 500, oom_adj 8 stores 470 (8 * 1000 / 17): a lowering, refused
    without CAP_SYS_RESOURCE although oom_adj reads 8 before and after."""
    if has_capability(24):
        pytest.skip("this process has CAP_SYS_RESOURCE: the kernel takes any lowering")
    child = sleeper()
    p = oomutil.Process(child.pid)
    p.set_oom_score_adj(500)
    assert read_int(f"/proc/{child.pid}/oom_adj") == 8
    with pytest.raises(oomutil.AccessDenied) as err:
        p.set_oom_adj(8)
    why = str(err.value)
    assert "another user" not in why
    assert "oom_adj 8 is oom_score_adj 470, below the current 500" in why
    assert "CAP_SYS_RESOURCE, which this process lacks" in why
    assert read_int(f"/proc/{child.pid}/oom_score_adj") == 500


def test_another_users_process_is_refused_for_ownership_first(sleeper):
    """A uid-65534 process lowering (and raising) a process of root: open() fails on the
    file's mode before any floor is looked at; the reason is the owner, not the capability."""
    child = sleeper()
    oomutil.Process(child.pid).set_oom_score_adj(700)
    for value in (100, 900):
        out = _as_nobody(REFUSE.format(pid=child.pid, call=f"set_oom_score_adj({value})"))
        assert out.returncode == 0, out.stderr
        why = out.stdout
        assert "TAKEN" not in why and "CAP_SYS_RESOURCE" not in why
        assert "owned by uid 0" in why and "mode 0644" in why and "this process's effective uid is 65534" in why
    predicted = _as_nobody(f"print(Process({child.pid}).write_refusal(100))")
    assert "owned by uid 0" in predicted.stdout and "CAP_SYS_RESOURCE" not in predicted.stdout
    assert read_int(f"/proc/{child.pid}/oom_score_adj") == 700


def test_a_process_that_is_not_dumpable_may_not_raise_itself():
    """PR_SET_DUMPABLE 0 makes root the owner of the process's /proc files: a uid-65534
    process then may not write its own oom_score_adj, not even a raise."""
    out = _as_nobody("""
libc = ctypes.CDLL(None, use_errno=True)
assert libc.prctl(4, 0, 0, 0, 0) == 0  # PR_SET_DUMPABLE 0
me = Process()
try:
    me.set_oom_score_adj(500)
except AccessDenied as err:
    print(err)
else:
    print("TAKEN")
print("PREDICTED", me.write_refusal(600))
print("NOW", open("/proc/self/oom_score_adj").read().strip())
""")
    assert out.returncode == 0, out.stderr
    assert "TAKEN" not in out.stdout and "CAP_SYS_RESOURCE" not in out.stdout
    assert "owned by uid 0" in out.stdout and "not dumpable" in out.stdout
    assert "PREDICTED None" not in out.stdout and "NOW 0" in out.stdout
