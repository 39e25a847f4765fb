"""Helpers the tests import (``pythonpath = tests`` in pyproject.toml)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import kernel_log
import pytest

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


def default_sigint():
    """preexec_fn for a child that a test stops with SIGINT: a shell that runs the suite in
    the background (``tools/test &``) starts it with SIGINT ignored, and Python then never
    raises KeyboardInterrupt; the child gets the default disposition back."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def build_program(name: str, out_dir) -> str:
    """Compile tests/progs/NAME.c with cc into ``out_dir``; skip (saying why) without cc."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip(f"no C compiler (cc) to build tests/progs/{name}.c")
    exe = str(Path(out_dir) / name)
    subprocess.run([cc, "-O2", "-pthread", "-o", exe, str(TESTS / "progs" / f"{name}.c")], check=True)
    return exe


def start_leaderless(exe: str, adj: int = 0) -> subprocess.Popen:
    """Start tests/progs/leaderless (built by build_program) and wait for it to be ready;
    the caller writes the MiB to its stdin and reads "allocated TID"."""
    child = subprocess.Popen([exe, str(adj)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline() == "ready\n"
    return child


def capture_pids(name: str):
    proc = FIXTURES / name / "proc"
    return sorted(int(p.name) for p in proc.iterdir() if p.name.isdigit())


def has_capability(bit: int) -> bool:
    """Whether this process holds capability ``bit`` (include/uapi/linux/capability.h):
    CAP_SYS_RESOURCE is 24, CAP_DAC_OVERRIDE 1."""
    caps = int([line for line in open("/proc/self/status") if line.startswith("CapEff:")][0].split()[1], 16)
    return bool(caps >> bit & 1)


@pytest.fixture
def sleeper():
    """start() -> a `sleep 60` of this test's own, killed at the end."""
    started = []

    def start():
        child = subprocess.Popen(["sleep", "60"])
        started.append(child)
        return child

    yield start
    for child in started:
        child.kill()
        child.wait()


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


def adj_of_every_process(but: int = 0) -> dict:
    """(pid, start time) -> oom_score_adj of every process this /proc shows but ``but``
    (empty off Linux)."""
    found = {}
    if not os.path.isfile("/proc/self/stat"):
        return found
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == but:
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                start = int(f.read().rsplit(b")", 1)[1].split()[19])
            with open(f"/proc/{name}/oom_score_adj") as f:
                found[int(name), start] = int(f.read())
        except (OSError, ValueError, IndexError):  # gone meanwhile, or not ours to read
            continue
    return found


def oom_kill_count():
    """/proc/vmstat oom_kill (4.13+): every OOM kill of this kernel so far; None without it."""
    try:
        with open("/proc/vmstat") as f:
            return next((int(line.split()[1]) for line in f if line.startswith("oom_kill ")), None)
    except OSError:
        return None


def set_adj(value: int):
    """preexec_fn: the child writes its own oom_score_adj before exec (inherited by exec)."""

    def write():
        fd = os.open("/proc/self/oom_score_adj", os.O_WRONLY)
        try:
            os.write(fd, str(value).encode())
        finally:
            os.close(fd)

    return write


class KernelLog(kernel_log.KernelLog):
    """kernel_log.KernelLog, skipped (with the reason) where /dev/kmsg cannot be written and read."""

    def __init__(self) -> None:
        if not os.access("/dev/kmsg", os.R_OK | os.W_OK):
            pytest.skip("/dev/kmsg is not readable and writable here (needs root, CAP_SYSLOG)")
        super().__init__()


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on now."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving(*args, env=None):
    """A real ``oomutil serve`` on a free loopback port, answering: yields (base URL, process).
    ``env``: variables added to this environment (OOMUTIL_ROOT is dropped)."""
    import urllib.request

    port = free_port()
    full_env = {k: v for k, v in os.environ.items() if k != "OOMUTIL_ROOT"}
    full_env.update(env or {})
    proc = subprocess.Popen([*oomutil_command(), "serve", "--listen", f"127.0.0.1:{port}", *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=full_env)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(url + "/", timeout=1).read()
                break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail(f"oomutil serve exited {proc.returncode}: {proc.stderr.read()}")
                time.sleep(0.05)
        yield url, proc
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def let_the_ratelimit_recover():
    """The kernel prints at most 10 OOM report headers per 5 s (oom_rs): wait until 6 s have
    passed since the last report in the log, so the next report comes whole (its summary
    line, which names the cgroups, too)."""
    import json

    events = [e for e in json.loads(run_oomutil("events", "--json").stdout)["events"] if e.get("time_seconds")]
    if events:
        uptime = float(open("/proc/uptime").read().split()[0])
        time.sleep(max(0.0, events[-1]["time_seconds"] + 6 - uptime))


def memcg_kill(memcg, limit_mib=160, hog_mib=96, push_mib=64):
    """A real OOM kill in a throwaway v1 cgroup (tests/root's ``memcg`` fixture): a hog of
    ``hog_mib`` and a pusher; returns (cgroup path as /proc shows it, the hog's pid, the
    pids the kernel killed after the marker, first choice first)."""
    path = memcg.make("", limit_mib << 20)
    hog = memcg.hog(path)
    hog.stdin.write(f"{hog_mib}\n")
    hog.stdin.flush()
    assert hog.stdout.readline() == "allocated\n"
    let_the_ratelimit_recover()
    log = KernelLog()
    pusher = memcg.hog(path)
    pusher.stdin.write(f"{push_mib}\n")
    pusher.stdin.flush()
    return f"/{memcg.name}", hog.pid, log.kills()


def fork_at(pid: int, tries: int = 50):
    """Start a process (sleep 30) that gets ``pid``, by setting ns_last_pid just below it:
    how a test forces a pid reuse.  None if the pid was not handed out in ``tries``."""
    for _ in range(tries):
        with open("/proc/sys/kernel/ns_last_pid", "w") as f:
            f.write(str(pid - 1))
        child = subprocess.Popen(["sleep", "30"])
        if child.pid == pid:
            return child
        child.kill()
        child.wait()
    return None

