"""A real container runtime for the root tests: Debian's podman, with nothing pulled.

    reason = podman_support.why_not()          # "" when podman can run containers here
    with podman_support.container(["sleep", "1000"], memory="64m") as c:
        c.id, c.name, c.pid, c.cgroup          # pid in the host's pid namespace
        hog = podman_support.exec_hog(c)       # `tail /dev/zero` inside it: a real OOM kill
    podman_support.teardown()                  # once per session: image and cgroups we made

The image is a tarball of a few host programs (dash, sleep, tail, cat) and the libraries
ldd names, turned into an image by `podman import`: nothing comes from a registry.  It is
built once per process, under a tag of its own, so a CI run and a session on the same
machine never remove each other's image.

Every podman invocation carries the global options in _GLOBAL; each is explained there.
Findings behind them (Debian 12, podman 4.3.1, crun 1.8.1, runc 1.1.5, cgroup v1 with a
cgroup2 hierarchy at /sys/fs/cgroup/unified that holds hugetlb, no systemd, root without
CAP_SYS_RESOURCE):
- crun refuses: "cgroups in hybrid mode not supported, drop all controllers from cgroupv2";
  runc works.
- podman puts RLIMIT_NOFILE and RLIMIT_NPROC = 1048576 into every root container's spec,
  which setrlimit refuses without CAP_SYS_RESOURCE ("setrlimit `RLIMIT_NOFILE`: Operation
  not permitted"), so both are passed explicitly at values the runtime may set: the hard
  NOFILE limit podman itself runs with, and NPROC at most 32768, which podman sets on itself
  at start (and so on conmon and the runtime) whatever it inherited.
Needs the Debian packages podman and runc (apt-get install --no-install-recommends).
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import resource
import secrets
import shutil
import subprocess
import tarfile
import tempfile
import time
from dataclasses import dataclass
from typing import Iterator, List, Sequence

_GLOBAL = [
    # crun 1.8 fails in hybrid cgroup mode (see above); runc joins the v1 hierarchies.
    "--runtime", "runc",
    # Pinned so the cgroup path is known: /libpod_parent/libpod-<id> (with systemd as
    # PID 1, podman would choose systemd and machine.slice/libpod-<id>.scope instead).
    "--cgroup-manager", "cgroupfs",
    # podman's own log of create/start/died, in /run/libpod/events/events.log; journald is
    # the default where systemd runs, and there is none here.
    "--events-backend", "file",
]
_PROGRAMS = ("dash", "sleep", "tail", "cat")
_TAG = f"localhost/oomutil-test-{os.getpid()}:latest"
_V1_PARENT = "/sys/fs/cgroup/memory/libpod_parent"
# libpod_parent (and its child conmon) are made by podman in every hierarchy and never
# removed by it; teardown() removes them only if they were not there before we started.
_parent_was_there = os.path.isdir(_V1_PARENT)
# The same for podman's storage: a machine that had none gets none back (a store left behind
# would make every later oomutil run read its containers.json: a node "with runtime files").
_storage_was_there = any(os.path.exists(p) for p in ("/var/lib/containers/storage", "/run/containers/storage"))
_image_built = False


# Every podman runs in a directory of its own: conmon, which podman starts and which
# outlives it, writes a file named "oom" into its working directory when the container is
# OOM-killed (it left one in the checkout the tests ran from).
_CWD = os.path.join(tempfile.gettempdir(), f"oomutil-podman-{os.getpid()}")


def _cwd() -> str:
    os.makedirs(_CWD, exist_ok=True)
    return _CWD


def _podman(*args: str, timeout: float = 60, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["podman", *_GLOBAL, *args], capture_output=True, text=True,
                          timeout=timeout, check=check, cwd=_cwd())


def podman(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """``podman ARGS`` as the tests run it (the options of _GLOBAL, its own directory);
    CalledProcessError if it fails."""
    return _podman(*args, timeout=timeout)


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


@functools.lru_cache(maxsize=None)
def why_not() -> str:
    """"" if a container with a memory limit starts here, else why not (for pytest.skip)."""
    if os.geteuid() != 0:
        return "podman tests need root (rootless podman would use another storage and cgroup layout)"
    for tool in ("podman", "runc"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (Debian: apt-get install --no-install-recommends podman runc)"
    try:
        _podman("info", timeout=30)
        ensure_image()
        # The real test: start and remove one container with the options the tests use.
        _podman("run", "--rm", *_run_options("16m"), _TAG, "sleep", "0")
    except subprocess.CalledProcessError as err:
        return f"podman cannot run a container here: {_last_line(err.stderr) or err}"
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"podman cannot run a container here: {err}"
    return ""


def _rootfs_tar() -> bytes:
    """A tarball of /bin/{sh,sleep,tail,cat} and the shared libraries they load."""
    files = {}
    for prog in _PROGRAMS:
        real = os.path.realpath(shutil.which(prog) or f"/usr/bin/{prog}")
        files[f"bin/{prog}"] = real
        ldd = subprocess.run(["ldd", real], capture_output=True, text=True, check=True).stdout
        for line in ldd.splitlines():  # "libc.so.6 => /lib/.../libc.so.6 (0x..)" or "/lib64/ld-... (0x..)"
            path = line.split("=>")[-1].split("(")[0].strip()
            if path.startswith("/"):
                files[path.lstrip("/")] = os.path.realpath(path)  # stored under the name ldd gives
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        dirs = {"proc", "sys", "dev", "tmp", "etc"}  # mount points runc would otherwise create
        for name in files:
            parts = name.split("/")[:-1]
            dirs.update("/".join(parts[:i]) for i in range(1, len(parts) + 1))
        for d in sorted(dirs):
            info = tarfile.TarInfo(d)
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(info)
        for name, real in sorted(files.items()):
            tar.add(real, arcname=name)
        link = tarfile.TarInfo("bin/sh")
        link.type, link.linkname = tarfile.SYMTYPE, "dash"
        tar.addfile(link)
    return buf.getvalue()


def ensure_image() -> str:
    """Import the rootfs tarball as this process's image, once; returns its tag."""
    global _image_built
    if not _image_built:
        subprocess.run(["podman", *_GLOBAL, "import", "-", _TAG], input=_rootfs_tar(),
                       capture_output=True, timeout=60, check=True, cwd=_cwd())
        _image_built = True
    return _TAG


def _run_options(memory: str) -> List[str]:
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    nofile = 1048576 if nofile == resource.RLIM_INFINITY else min(nofile, 1048576)
    nproc = resource.getrlimit(resource.RLIMIT_NPROC)[1]
    nproc = 32768 if nproc == resource.RLIM_INFINITY else min(nproc, 32768)
    return [
        # No CNI bridge, iptables or netns setup: less to fail, faster, nothing left behind.
        "--network", "none",
        "--memory", memory,
        # Equal to --memory: memsw is 2x memory by default, and with swap on the host the
        # kill would wait for the container to fill swap too.
        "--memory-swap", memory,
        "--ulimit", f"nofile={nofile}:{nofile}",
        "--ulimit", f"nproc={nproc}:{nproc}",
    ]


@dataclass
class Container:
    id: str       # 64 hex digits, as in containers.json and the cgroup path
    name: str     # as in containers.json "names"
    pid: int      # the container's main process, in the host's pid namespace
    cgroup: str   # its memory cgroup: v1 "memory" line, else the v2 "0::" line


def _cgroup_of(pid: int) -> str:
    with open(f"/proc/{pid}/cgroup") as f:
        lines = [line.rstrip("\n").split(":", 2) for line in f]
    for _, controllers, path in lines:
        if "memory" in controllers.split(","):
            return path
    return next(path for hid, _, path in lines if hid == "0")


@contextlib.contextmanager
def container(command: Sequence[str], memory: str = "64m", name: str = "") -> Iterator[Container]:
    """Start `command` in a new named container with that memory limit; always remove it.

    Not --rm: a container whose main process was killed stays in containers.json until
    the end of the block, as on a node where nothing has cleaned up yet."""
    name = name or f"oomutil-test-{os.getpid()}-{secrets.token_hex(3)}"
    ensure_image()
    try:
        cid = _podman("run", "--detach", "--name", name, *_run_options(memory), _TAG,
                      *command).stdout.strip()
        pid = int(_podman("inspect", "--format", "{{.State.Pid}}", cid).stdout)
        yield Container(cid, name, pid, _cgroup_of(pid))
    finally:
        # By name, so a container whose `run` failed half-way goes too; -t 0: SIGKILL now.
        _podman("rm", "--force", "--ignore", "--time", "0", name, check=False)


def exec_hog(c: Container) -> subprocess.Popen:
    """`tail /dev/zero` in the container (its cgroup, not conmon's): tail keeps the current
    line, and /dev/zero has no newline, so it grows until the limit's OOM kill.  The
    Popen (podman exec) ends with status 137 when the kernel kills tail."""
    return subprocess.Popen(["podman", *_GLOBAL, "exec", c.name, "tail", "/dev/zero"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=_cwd())


def _podman_running() -> bool:
    """Is a conmon or a podman process running (this process starts none at this point)?"""
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/comm") as f:
                if f.read().strip() in ("conmon", "podman"):
                    return True
        except OSError:  # not a pid, or gone
            continue
    return False


def teardown() -> None:
    """Remove this process's image; podman's storage and the libpod_parent cgroups if
    podman made them during this process (rmdir: refused while any other run's container
    is in them)."""
    if _image_built:
        _podman("rmi", "--force", _TAG, check=False)
    if not _storage_was_there and shutil.which("podman"):
        # Nothing of anyone else's can be in a store this process made: podman's own reset.
        # But first every container's conmon must be gone: when a container exits, conmon
        # runs `podman container cleanup` a moment after `rm` returned, and a podman started
        # after the reset makes the store anew (CI left one so, and every later command
        # then read its containers.json).
        deadline = time.monotonic() + 15
        while _podman_running() and time.monotonic() < deadline:
            time.sleep(0.1)
        if not _podman_running():  # else someone else's podman: their store, leave it
            subprocess.run(["podman", "system", "reset", "--force"], capture_output=True, timeout=120, check=False,
                           cwd=_cwd())
    shutil.rmtree(_CWD, ignore_errors=True)
    if _parent_was_there:
        return
    for hierarchy in os.listdir("/sys/fs/cgroup"):
        parent = os.path.join("/sys/fs/cgroup", hierarchy, "libpod_parent")
        for path in (os.path.join(parent, "conmon"), parent):
            with contextlib.suppress(OSError):
                os.rmdir(path)
