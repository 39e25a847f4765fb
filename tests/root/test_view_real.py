"""Partial views, for real: a private /proc mounted hidepid=... in a mount namespace of its
own, read by an unprivileged user; a pid namespace of its own; and the full view."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from helpers import run_oomutil

import oomutil

pytestmark = pytest.mark.root

NOBODY = 65534


def _needs(*tools):
    if os.geteuid() != 0:
        pytest.skip("needs root: mounts a private /proc in a mount namespace")
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (util-linux)")


@pytest.fixture(scope="module")
def package_for_nobody():
    """(python, PYTHONPATH) that uid 65534 can run oomutil with: the test's interpreter may
    live under /root (pyenv), so a system python3 runs a copy of the installed package."""
    python = next((p for p in ("/usr/bin/python3", "/usr/local/bin/python3") if os.access(p, os.X_OK)), None)
    if python is None:
        pytest.skip("no system python3 outside /root for an unprivileged user to run")
    place = tempfile.mkdtemp(prefix="oomutil-view-", dir="/tmp")
    os.chmod(place, 0o755)
    shutil.copytree(Path(oomutil.__file__).parent, os.path.join(place, "oomutil"))
    yield python, place
    shutil.rmtree(place)


def _as_nobody_with_private_proc(package, options, *args, sleeper=False):
    """oomutil run as nobody under a private /proc mounted with ``options``; ``sleeper``: with
    a sleep of nobody's beside it (oomutil leaves itself out of victim's answer), killed after."""
    python, path = package
    start = ""
    if sleeper:
        pidfile = tempfile.mktemp(prefix="oomutil-sleeper-", dir="/tmp")
        start = f'sleep 600 >/dev/null 2>&1 </dev/null & echo $! > {pidfile}; '  # outlives the run's timeout
    script = ('mount -t proc -o "$1" proc /proc && shift && exec setpriv --reuid=65534 --regid=65534 '
              f'--clear-groups env PYTHONPATH="$PYTHONPATH_FOR_NOBODY" sh -c \'{start}exec "$@"\' sh "$@"')
    env = dict(os.environ, PYTHONPATH_FOR_NOBODY=path)
    env.pop("OOMUTIL_ROOT", None)
    try:
        return subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh", options,
                               python, "-m", "oomutil", *map(str, args)],
                              capture_output=True, text=True, env=env, timeout=120)
    finally:
        if sleeper and os.path.exists(pidfile):  # absent: the shell failed before it, said by the run
            with open(pidfile) as f:
                pid = int(f.read())
            os.unlink(pidfile)
            if open(f"/proc/{pid}/comm").read() == "sleep\n" and os.stat(f"/proc/{pid}").st_uid == NOBODY:
                os.kill(pid, 9)  # the sleep this call started (it sleeps longer than the run may take)


def _threads_total():
    return int(open("/proc/loadavg").read().split()[3].split("/")[1])


@pytest.mark.parametrize("options, shown", [("hidepid=2", "invisible"), ("hidepid=invisible", "invisible")])
def test_hidepid_invisible(package_for_nobody, options, shown):
    _needs("unshare", "setpriv")
    before = _threads_total()
    out = _as_nobody_with_private_proc(package_for_nobody, options, "top")
    after = _threads_total()
    assert out.returncode == 0, out.stderr
    m = re.search(r"about ([\d,]+) of ([\d,]+) threads on this kernel are not visible here "
                  rf"\(/proc hidepid={shown}\): the system-wide victim may be one of them", out.stderr)
    assert m, out.stderr
    hidden, seen_total = (int(g.replace(",", "")) for g in m.groups())
    # the kernel's count as the test reads it before and after (threads come and go)
    slack = max(10, max(before, after) // 10)
    assert min(before, after) - slack <= seen_total <= max(before, after) + slack
    assert hidden >= seen_total - 10  # nobody sees only its own few
    assert all(line.split()[1] == "nobody" for line in out.stdout.splitlines()[1:])
    # victim: no system-wide victim named as certain, the best visible one as such
    out = _as_nobody_with_private_proc(package_for_nobody, options, "victim", "--json", sleeper=True)
    report = json.loads(out.stdout)
    assert (report["victim"], report["partial"], report["view"]["hidepid"]) == (None, True, shown)
    assert report["best_visible"]["comm"] == "sleep" and report["view"]["initial_pid_namespace"] is True
    text = _as_nobody_with_private_proc(package_for_nobody, options, "victim", sleeper=True).stdout
    assert "victim: not known from here (see above); best visible candidate: pid" in text
    # show 1: it exists, hidden from this user
    out = _as_nobody_with_private_proc(package_for_nobody, options, "show", 1)
    assert (out.returncode, out.stderr) == (1, f"oomutil: pid 1: hidden from this user (/proc is mounted hidepid={shown})\n")
    out = _as_nobody_with_private_proc(package_for_nobody, options, "show", 4194303)  # the highest pid: unused
    assert out.stderr.endswith("no such process\n")
    # nothing leaked out of the mount namespace
    assert "hidepid" not in open("/proc/self/mountinfo").read()
    assert os.path.isdir("/proc/1")


def test_hidepid_noaccess_lists_unreadable_processes(package_for_nobody):
    _needs("unshare", "setpriv")
    out = _as_nobody_with_private_proc(package_for_nobody, "hidepid=noaccess", "victim", "--json")
    report = json.loads(out.stdout)
    assert (report["victim"], report["partial"]) == (None, True)
    assert report["view"]["processes_unreadable"] > 10, report["view"]
    assert re.search(r"[\d,]+ processes listed here cannot be read \(/proc hidepid=noaccess\)", out.stderr)


def test_own_pid_namespace(memcg):
    _needs("unshare")
    env = dict(os.environ)
    env.pop("OOMUTIL_ROOT", None)
    cmd = [sys.executable, "-m", "oomutil"]
    out = subprocess.run(["unshare", "-p", "-f", "--mount-proc", *cmd, "victim", "--json"],
                         capture_output=True, text=True, env=env, timeout=120)
    report = json.loads(out.stdout)
    assert (report["victim"], report["partial"], report["view"]["initial_pid_namespace"]) == (None, True, False)
    assert "this /proc shows one pid namespace only" in out.stderr
    # a memory cgroup whose processes are all inside: answered in full
    path = memcg.make("", 256 << 20)
    # a sleep beside oomutil in the cgroup (oomutil leaves itself out: it will be gone); the
    # kernel kills it when the namespace's init, the shell exec'd into oomutil, exits
    script = f'echo $$ > {path}/cgroup.procs && {{ sleep 120 & }} && exec "$@"'
    out = subprocess.run(["unshare", "-p", "-f", "--mount-proc", "sh", "-c", script, "sh", *cmd, "victim",
                          "--cgroup", f"/{memcg.name}", "--json"], capture_output=True, text=True, env=env,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["partial"] is False and report["hidden_processes"] == 0
    assert (report["victim"]["pid"], report["victim"]["comm"]) == (2, "sleep")


def test_the_full_view_says_nothing():
    """root in the initial namespaces, /proc without hidepid: no warning at all."""
    if os.geteuid() != 0:
        pytest.skip("needs root to see every process")
    for args in (["top", "-n", "3"], ["victim", "-n", "3"], ["victim", "--json"], ["top", "--json"]):
        out = run_oomutil(*args)
        assert (out.returncode, out.stderr) == (0, ""), args
    report = json.loads(run_oomutil("victim", "--json").stdout)
    assert report["partial"] is False and report["view"]["complete"] is True and report["victim"] is not None
    v = oomutil.view()
    assert (v.hidepid, v.initial_pid_namespace, v.complete) == (None, True, True)


def test_a_cgroup_with_hidden_processes_gets_no_victim(package_for_nobody, memcg):
    """nobody, /proc hidepid=invisible: a limited cgroup holding a root process it cannot
    see.  victim --cgroup and cgroups say how many are hidden instead of naming one."""
    _needs("unshare", "setpriv")
    path = memcg.make("", 256 << 20)
    hog = memcg.hog(path)  # root's, so hidden from nobody
    cgroup = f"/{memcg.name}"
    out = _as_nobody_with_private_proc(package_for_nobody, "hidepid=invisible", "victim", "--cgroup", cgroup, "--json")
    report = json.loads(out.stdout)
    assert (report["victim"], report["partial"], report["hidden_processes"]) == (None, True, 1), out.stderr
    assert f"oomutil: 1 process(es) of {cgroup} cannot be read here: the victim may be one of them" in out.stderr
    out = _as_nobody_with_private_proc(package_for_nobody, "hidepid=invisible", "cgroups")
    line = next(x for x in out.stdout.splitlines() if x.rstrip().endswith(cgroup))
    assert "? (1 hidden)" in line
    # root sees it: answered
    report = json.loads(run_oomutil("victim", "--cgroup", cgroup, "--json").stdout)
    assert report["victim"]["pid"] == hog.pid and report["partial"] is False
