#!/usr/bin/env python3
"""A throwaway node-like memory cgroup tree with idle processes in it, and the exporter
measured on it (issue 22).  Root only.  bench/scrape --node is the usual way in.

usage:
  nodetree.py measure --oomutil PATH --out DIR [tree options] [measure options]
  nodetree.py hold [tree options] -- COMMAND [ARG ...]
  nodetree.py clean

The tree (cgroup v1 memory controller; cgroup2 where the memory controller is there):
  /kubepods-oomutil-bench-<pid>                           limited (16 GiB)
    /burstable                                             limited (12 GiB)
      /pod<uuid>                          x PODS (300)      limited (1 GiB each)
        /<64 hex container id>            x CONTAINERS (3)  limited (256 MiB each)
that is PODS x (CONTAINERS + 1) + 2 limited cgroups (1,202 by default), and PROCS (6000)
idle processes of bench/spawn.c, process i in container i % (PODS x CONTAINERS).  The top
is named kubepods-... because oomutil names a pod uid only on a path whose first
component starts with "kubepods" (cgroup_names.describe): the exporter's pod_uid and
container_id labels are both filled.  --qos guaranteed puts the pods right under the top
(/kubepods-oomutil-bench-<pid>/pod<uuid>/<id>, 1,201 limited cgroups): then pods are at
depth 2 and containers at depth 3, within the default --cgroup-depth 3.

The tree is always taken down (also on an error, Ctrl-C, SIGTERM or SIGHUP): spawn is
told to SIGKILL and reap its children (bench/spawn.c; it is started with
PR_SET_PDEATHSIG, so it does so too if this script is killed), every child is checked
gone, and the cgroups are removed children first.  `clean` removes the trees of runs
that died without it (their pid no longer runs).

measure: for each --config NAME=ARGS (default "default=" and
"depth5=--cgroup-depth 5 --max-cgroup-series 2000"), starts `OOMUTIL serve` on a free
127.0.0.1 port and
  - times `curl -s -o /dev/null URL` against ps (the yardstick's
    `sh -c 'ps -eo pid,oom,oomadj,rss,comm --sort=-oom | head -21'`) and the plain
    `ps -eo pid,oom,oomadj,rss,comm` with bench/pairtime.py, in turns, paired ratios;
  - counts what one scrape reads: read syscalls (syscr of /proc/SERVER/io, no tracer
    attached) and opened files (`strace -f -y -e trace=openat,open -p SERVER` around one
    more scrape: calls, failed, distinct paths, paths opened more than once, by kind);
  - reads the server's peak RSS (VmHWM) after those scrapes and the CPU one scrape costs;
  - with -c N: N clients, each sending a request every --interval seconds (default: the
    timeout) and giving up after --timeout seconds, for -t seconds, with Prometheus'
    X-Prometheus-Scrape-Timeout-Seconds header; Threads and VmRSS of the server sampled
    every 0.25 s (max, at the end, after --settle seconds), answered/failed by kind, then
    one more scrape without a timeout and its time.
Writes DIR/tree.json, DIR/<config>.json (everything), DIR/<config>.pairtime.json,
DIR/<config>.strace.txt (the per-kind counts), DIR/<config>.serve.log, DIR/summary.txt.
Needs python3 3.9+, curl, procps ps, a C compiler (spawn), strace (optional).
"""

from __future__ import annotations

import argparse
import collections
import ctypes
import errno
import http.client
import json
import os
import random
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
TOP_PREFIX = "kubepods-oomutil-bench-"
GIB, MIB = 1 << 30, 1 << 20
LIMITS = {"top": 16 * GIB, "qos": 12 * GIB, "pod": 1 * GIB, "container": 256 * MIB}
DEFAULT_CONFIGS = ["default=", "depth5=--cgroup-depth 5 --max-cgroup-series 2000"]
PS_YARDSTICK = "sh -c 'ps -eo pid,oom,oomadj,rss,comm --sort=-oom | head -21'"
PS_PLAIN = "ps -eo pid,oom,oomadj,rss,comm"


def say(*words) -> None:
    print(*words, flush=True)


class Stop(BaseException):
    """SIGTERM or SIGHUP: unwind as Ctrl-C does, through every finally."""


def _on_signal(signo, _frame):
    raise Stop(f"signal {signo}")


# --- the memory controller ----------------------------------------------------------------

def memory_mount():
    """(version, mount point) of the memory controller, v1 first; None when there is none."""
    v2 = None
    with open("/proc/self/mounts", encoding="utf-8") as fh:
        for line in fh:
            dev, where, fstype, opts = line.split()[:4]
            where = where.replace("\\040", " ")
            if fstype == "cgroup" and "memory" in opts.split(","):
                return 1, where
            if fstype == "cgroup2" and v2 is None:
                try:
                    with open(os.path.join(where, "cgroup.controllers"), encoding="ascii") as c:
                        if "memory" in c.read().split():
                            v2 = where
                except OSError:
                    pass
    return (2, v2) if v2 else None


def write_file(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def default_spawn() -> str:
    """bench/spawn.c compiled into ~/.cache/oomutil-bench/spawn (as bench/run does)."""
    bindir = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "oomutil-bench")
    exe, src = os.path.join(bindir, "spawn"), os.path.join(HERE, "spawn.c")
    if not os.access(exe, os.X_OK) or os.path.getmtime(src) > os.path.getmtime(exe):
        os.makedirs(bindir, exist_ok=True)
        subprocess.run([os.environ.get("CC", "cc"), "-O2", "-Wall", "-o", exe + ".new", src], check=True)
        os.replace(exe + ".new", exe)
    return exe


def _pdeathsig_term():
    """In the child before exec: SIGTERM when this script dies, whatever kills it."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Tree:
    """Build with up(), take down with down(); down() is safe to call at any point."""

    def __init__(self, pods: int, containers: int, procs: int, qos: str, spawn: str, seed: int = 22) -> None:
        found = memory_mount()
        if found is None:
            raise SystemExit("nodetree: no memory cgroup controller is mounted")
        self.version, self.mount = found
        self.pods, self.containers, self.procs, self.qos = pods, containers, procs, qos
        self.spawn_exe = spawn
        self.rng = random.Random(seed)
        self.name = f"{TOP_PREFIX}{os.getpid()}"
        self.made: list = []  # directories, parents first
        self.leaves: list = []
        self.spawn = None
        self.children: list = []
        self.work = None
        self.info: dict = {}

    # -- building --
    def _mkdir(self, rel: str, limit: int, kind: str) -> str:
        path = os.path.join(self.mount, rel.lstrip("/"))
        os.mkdir(path)
        self.made.append(path)
        if self.version == 1:
            write_file(os.path.join(path, "memory.limit_in_bytes"), str(limit))
        else:
            write_file(os.path.join(path, "memory.max"), str(limit))
            if kind != "container":  # v2: the controller must be handed down to the children
                write_file(os.path.join(path, "cgroup.subtree_control"), "+memory")
        return path

    def up(self) -> dict:
        t0 = time.monotonic()
        if self.version == 2:
            with open(os.path.join(self.mount, "cgroup.subtree_control"), encoding="ascii") as fh:
                if "memory" not in fh.read().split():
                    raise SystemExit(f"nodetree: the memory controller is not enabled in {self.mount}'s "
                                     "cgroup.subtree_control")
        top = "/" + self.name
        self._mkdir(top, LIMITS["top"], "top")
        parent = top
        if self.qos == "burstable":
            parent = top + "/burstable"
            self._mkdir(parent, LIMITS["qos"], "qos")
        for _ in range(self.pods):
            pod = f"{parent}/pod{uuid.UUID(int=self.rng.getrandbits(128), version=4)}"
            self._mkdir(pod, LIMITS["pod"], "pod")
            for _ in range(self.containers):
                cid = f"{self.rng.getrandbits(256):064x}"
                self.leaves.append(self._mkdir(f"{pod}/{cid}", LIMITS["container"], "container"))
        t_dirs = time.monotonic() - t0

        t1 = time.monotonic()
        import tempfile
        self.work = tempfile.mkdtemp(prefix="oomutil-nodetree.")
        pidfile = os.path.join(self.work, "spawn.pids")
        log = open(os.path.join(self.work, "spawn.log"), "w")
        self.spawn = subprocess.Popen([self.spawn_exe, str(self.procs), pidfile], stdin=subprocess.DEVNULL,
                                      stdout=subprocess.DEVNULL, stderr=log, preexec_fn=_pdeathsig_term)
        log.close()
        deadline = time.monotonic() + 120
        while not os.path.exists(pidfile):
            if self.spawn.poll() is not None or time.monotonic() > deadline:
                with open(os.path.join(self.work, "spawn.log"), encoding="utf-8", errors="replace") as fh:
                    raise RuntimeError(f"spawn failed: {fh.read().strip()}")
            time.sleep(0.05)
        with open(pidfile, encoding="ascii") as fh:
            header = fh.readline().split()
            self.children = [int(line) for line in fh if line.strip()]
        if len(self.children) != self.procs or header[3] != str(self.spawn.pid):
            raise RuntimeError(f"spawn: unexpected pidfile ({header}, {len(self.children)} pids)")
        t_spawn = time.monotonic() - t1

        t2 = time.monotonic()
        fds = [os.open(os.path.join(leaf, "cgroup.procs"), os.O_WRONLY) for leaf in self.leaves]
        try:
            for i, pid in enumerate(self.children):
                os.write(fds[i % len(fds)], str(pid).encode())
        finally:
            for fd in fds:
                os.close(fd)
        t_move = time.monotonic() - t2
        placed = 0
        for leaf in self.leaves:
            with open(os.path.join(leaf, "cgroup.procs"), encoding="ascii") as fh:
                placed += sum(1 for _ in fh)
        limited = len(self.made)
        self.info = {
            "cgroup_version": self.version, "mount": self.mount, "top": "/" + self.name, "qos": self.qos,
            "pods": self.pods, "containers_per_pod": self.containers, "containers": len(self.leaves),
            "limited_cgroups": limited, "processes": self.procs, "processes_placed": placed,
            "processes_in_proc": sum(1 for n in os.listdir("/proc") if n.isdigit()),
            "example_container": self.leaves[0][len(self.mount):] if self.leaves else None,
            "seconds": {"mkdir_and_limits": round(t_dirs, 2), "spawn": round(t_spawn, 2),
                        "move_into_containers": round(t_move, 2)},
        }
        say(f"tree: cgroup v{self.version} at {self.mount}, /{self.name}: {limited} limited cgroups "
            f"({self.pods} pods x {self.containers} containers, qos {self.qos}), {placed} of {self.procs} idle "
            f"processes placed in the {len(self.leaves)} containers; {self.info['processes_in_proc']} in /proc "
            f"(built in {t_dirs + t_spawn + t_move:.1f} s: mkdir {t_dirs:.1f}, spawn {t_spawn:.1f}, "
            f"move {t_move:.1f})")
        return self.info

    # -- taking down --
    def _alive_children(self) -> int:
        left = 0
        for pid in self.children:
            try:
                with open(f"/proc/{pid}/stat", "rb") as fh:
                    stat = fh.read()
            except OSError:
                continue
            name_end = stat.rfind(b")")
            if stat[stat.find(b"(") + 1:name_end] == b"spawn" and stat[name_end + 2:name_end + 3] != b"Z":
                left += 1
        return left

    def down(self) -> bool:
        ok = True
        if self.spawn is not None:
            spawn, self.spawn = self.spawn, None
            if spawn.poll() is None:
                spawn.send_signal(signal.SIGTERM)
                try:
                    spawn.wait(60)
                except subprocess.TimeoutExpired:
                    say(f"nodetree: spawn {spawn.pid} still running after 60 s: SIGKILL to its group")
                    try:
                        os.killpg(spawn.pid, signal.SIGKILL)
                    except OSError:
                        pass
                    spawn.wait()
            for _ in range(100):  # children of a SIGKILLed spawn die by PDEATHSIG; init reaps them
                left = self._alive_children()
                if not left:
                    break
                time.sleep(0.1)
            if left:
                say(f"nodetree: WARNING: {left} spawned processes still alive (pids in {self.work}/spawn.pids)")
                ok = False
        failed = []
        for path in reversed(self.made):  # children first
            for attempt in range(200):
                try:
                    os.rmdir(path)
                    break
                except FileNotFoundError:
                    break
                except OSError as err:
                    if err.errno != errno.EBUSY or attempt == 199:
                        failed.append(f"{path}: {err.strerror}")
                        break
                    time.sleep(0.05)
        self.made = [p for p in self.made if os.path.isdir(p)]
        if failed:
            say(f"nodetree: WARNING: {len(failed)} cgroups not removed, e.g. {failed[0]}")
            ok = False
        if self.work and ok:
            shutil.rmtree(self.work, ignore_errors=True)
        if self.info:
            say(f"teardown: {'all processes gone, every cgroup removed' if ok else 'INCOMPLETE'}; "
                f"{sum(1 for n in os.listdir('/proc') if n.isdigit())} processes in /proc")
        return ok


def clean() -> int:
    """Remove the trees of dead runs."""
    found = memory_mount()
    if found is None:
        return 0
    _, mount = found
    status = 0
    for name in sorted(os.listdir(mount)):
        if not name.startswith(TOP_PREFIX):
            continue
        pid = name[len(TOP_PREFIX):]
        if pid.isdigit() and os.path.exists(f"/proc/{pid}"):
            say(f"clean: {name}: its run ({pid}) is alive, left alone")
            continue
        dirs = [d for d, _, _ in os.walk(os.path.join(mount, name))]
        for d in reversed(dirs):
            with open(os.path.join(d, "cgroup.procs"), encoding="ascii") as fh:
                for line in fh:
                    try:
                        os.kill(int(line), signal.SIGKILL)
                    except (OSError, ValueError):
                        pass
        time.sleep(0.5)
        for d in reversed(dirs):
            try:
                os.rmdir(d)
            except OSError as err:
                say(f"clean: {d}: {err.strerror}")
                status = 1
        say(f"clean: removed {name} ({len(dirs)} cgroups)")
    return status


# --- the server and what it costs ------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_status(pid: int) -> dict:
    out = {}
    with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as fh:
        for line in fh:
            key, _, value = line.partition(":")
            if key in ("Threads", "VmRSS", "VmHWM"):
                out[key] = int(value.split()[0])
    return out


def proc_io(pid: int) -> dict:
    with open(f"/proc/{pid}/io", encoding="ascii") as fh:
        return {k: int(v) for k, v in (line.split(":") for line in fh)}


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
        fields = fh.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def scrape(url: str, timeout: float = 120.0):
    """(seconds, status, body) of one GET."""
    host, port = url.split("/")[2].split(":")
    t0 = time.monotonic()
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request("GET", "/metrics")
        resp = conn.getresponse()
        body = resp.read()
        return time.monotonic() - t0, resp.status, body
    finally:
        conn.close()


class Server:
    def __init__(self, oomutil: str, args: list, log: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/metrics"
        self.log_path = log
        with open(log, "wb") as fh:
            self.proc = subprocess.Popen([oomutil, "serve", "--listen", f"127.0.0.1:{self.port}", *args],
                                         stdin=subprocess.DEVNULL, stdout=fh, stderr=fh,
                                         preexec_fn=_pdeathsig_term)
        self.pid = self.proc.pid
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"oomutil serve exited {self.proc.returncode}: {self.log_tail()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("oomutil serve does not listen after 60 s")
                time.sleep(0.05)

    def log_tail(self) -> str:
        with open(self.log_path, encoding="utf-8", errors="replace") as fh:
            return fh.read()[-2000:]

    def check(self, what: str) -> None:
        """Raise, saying how, when the server is no longer running."""
        code = self.proc.poll()
        if code is not None:
            how = f"killed by signal {-code}" if code < 0 else f"exited {code}"
            raise RuntimeError(f"oomutil serve (pid {self.pid}) {how} during {what}; its log: {self.log_tail()!r}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def series_counts(body: bytes) -> dict:
    lines = [ln for ln in body.decode("utf-8", "replace").splitlines() if ln and not ln.startswith("#")]
    fam = collections.Counter(re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", ln).group(0) for ln in lines)
    usage = [ln for ln in lines if ln.startswith("oomutil_cgroup_memory_usage_bytes{")]
    return {
        "samples": len(lines),
        "cgroups_with_series": len(usage),
        "cgroups_with_pod_uid": sum(1 for ln in usage if re.search(r'pod_uid="[0-9a-f]', ln)),
        "cgroups_with_container_id": sum(1 for ln in usage if re.search(r'container_id="[0-9a-f]', ln)),
        "prediction_domains": sum(1 for ln in lines if ln.startswith("oomutil_oom_protected_processes{")),
        "families": dict(sorted(fam.items())),
        "collector_seconds": {m.group(1): float(m.group(2)) for m in re.finditer(
            r'oomutil_scrape_collector_duration_seconds\{collector="(\w+)"\} (\S+)', "\n".join(lines))},
    }


STRACE_CALL = re.compile(r'^\s*(\d+)\s+(?:openat\((AT_FDCWD|\d+)(?:<([^>]*)>)?, "([^"]*)"|open\("([^"]*)")')
STRACE_FAIL = re.compile(r"= -1 (E\w+)")


def classify(path: str, mount: str) -> str:
    m = re.match(r"/proc/(\d+|self|thread-self)(/.*)?$", path)
    if m:
        rest = m.group(2) or " (dir)"
        return "/proc/PID" + re.sub(r"/task/\d+", "/task/TID", rest)
    if path.startswith(mount + "/") or path == mount:
        rel = path[len(mount):]
        if rel.count("/") and os.path.basename(rel).startswith(("memory.", "cgroup.", "tasks", "notify_")):
            return "cgroup file " + os.path.basename(rel)
        return "cgroup (dir)"
    return path


def strace_scrape(server: Server, url: str, log: str, mount: str) -> dict:
    """Opened files of one scrape, from strace attached to every thread of the server."""
    tracer = subprocess.Popen(["strace", "-f", "-y", "-qq", "-e", "trace=openat,open", "-o", log,
                               "-p", str(server.pid)], stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while True:  # attached when the main thread's TracerPid is strace
            with open(f"/proc/{server.pid}/status", encoding="ascii") as fh:
                if re.search(r"^TracerPid:\s+%d$" % tracer.pid, fh.read(), re.M):
                    break
            if time.monotonic() > deadline or tracer.poll() is not None:
                raise RuntimeError("strace did not attach")
            time.sleep(0.05)
        time.sleep(0.3)
        seconds, status, _ = scrape(url)
        time.sleep(0.5)
    finally:
        tracer.send_signal(signal.SIGINT)
        try:
            tracer.wait(30)
        except subprocess.TimeoutExpired:
            tracer.kill()
            tracer.wait()
    calls, failed = 0, collections.Counter()
    paths = collections.Counter()
    with open(log, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            m = STRACE_CALL.match(line)
            if m:
                calls += 1
                if m.group(5) is not None:
                    path = m.group(5)
                else:
                    arg, base = m.group(4), m.group(3) or ""
                    path = arg if arg.startswith("/") else os.path.normpath(f"{base}/{arg}")
                paths[path] += 1
            f = STRACE_FAIL.search(line)
            if f and ("openat(" in line or "open(" in line or "resumed" in line):
                failed[f.group(1)] += 1
    kinds = collections.Counter(classify(p, mount) for p in paths.elements())
    distinct_kinds = collections.Counter(classify(p, mount) for p in paths)
    repeated = {p: c for p, c in paths.items() if c > 1}
    repeated_kinds = collections.Counter()
    for p, c in repeated.items():
        repeated_kinds[classify(p, mount)] += c - 1
    os.remove(log)
    return {
        "scrape_seconds_under_strace": round(seconds, 3), "status": status,
        "openat_calls": calls, "failed": dict(failed), "distinct_paths": len(paths),
        "paths_opened_more_than_once": len(repeated), "extra_opens_of_those": sum(c - 1 for c in repeated.values()),
        "max_opens_of_one_path": max(paths.values()) if paths else 0,
        "by_kind": dict(kinds.most_common()), "distinct_by_kind": dict(distinct_kinds.most_common()),
        "extra_opens_by_kind": dict(repeated_kinds.most_common()),
    }


def clients_run(server: Server, n: int, seconds: float, timeout: float, interval: float, settle: float) -> dict:
    """n clients, a request every `interval` s each, giving up after `timeout` s."""
    url = server.url
    stop_at = time.monotonic() + seconds
    lock = threading.Lock()
    outcome = collections.Counter()
    answered_times = []

    def client(k: int) -> None:
        nxt = time.monotonic() + interval * k / n  # spread the first requests over one interval
        while True:
            now = time.monotonic()
            if nxt > now:
                time.sleep(nxt - now)
            if time.monotonic() >= stop_at:
                return
            nxt += interval
            t0 = time.monotonic()
            kind = None
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
            try:
                conn.request("GET", "/metrics", headers={"X-Prometheus-Scrape-Timeout-Seconds": f"{timeout:g}"})
                resp = conn.getresponse()
                resp.read()
                took = time.monotonic() - t0
                if resp.status != 200:
                    kind = f"http {resp.status}"
                elif took > timeout:
                    kind = "late"
                else:
                    kind = "answered"
            except socket.timeout:
                kind = "timeout"
            except (OSError, http.client.HTTPException) as err:
                kind = type(err).__name__
            finally:
                conn.close()
            with lock:
                outcome[kind] += 1
                if kind == "answered":
                    answered_times.append(time.monotonic() - t0)
            while nxt <= time.monotonic():  # a slot missed while waiting is skipped, as Prometheus does
                nxt += interval

    samples = []
    t_start = time.monotonic()
    cpu0 = cpu_seconds(server.pid)
    threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(n)]
    for t in threads:
        t.start()

    def sample(phase: str) -> None:
        st = proc_status(server.pid)
        samples.append((round(time.monotonic() - t_start, 2), phase, st["Threads"], st["VmRSS"]))

    while any(t.is_alive() for t in threads):
        sample("clients")
        time.sleep(0.25)
    cpu1 = cpu_seconds(server.pid)
    t_clients = time.monotonic() - t_start
    end_of_clients = proc_status(server.pid)
    settle_until = time.monotonic() + settle
    while time.monotonic() < settle_until:
        sample("settle")
        time.sleep(0.25)
    after = proc_status(server.pid)
    try:
        next_seconds, next_status, _ = scrape(url, timeout=120)
    except OSError as err:
        next_seconds, next_status = None, type(err).__name__
    during = [s for s in samples if s[1] == "clients"]
    total = sum(outcome.values())
    return {
        "clients": n, "seconds": seconds, "timeout": timeout, "interval": interval,
        "requests": total, "outcome": dict(outcome),
        "answered": outcome["answered"], "failed": total - outcome["answered"],
        "answered_seconds_median": sorted(answered_times)[len(answered_times) // 2] if answered_times else None,
        "answered_seconds_max": max(answered_times) if answered_times else None,
        "threads_max": max(s[2] for s in during), "rss_mib_max": round(max(s[3] for s in during) / 1024, 1),
        "threads_at_clients_end": end_of_clients["Threads"],
        "rss_mib_at_clients_end": round(end_of_clients["VmRSS"] / 1024, 1),
        "threads_after_settle": after["Threads"], "rss_mib_after_settle": round(after["VmRSS"] / 1024, 1),
        "vmhwm_mib": round(after["VmHWM"] / 1024, 1),
        "server_cores": round((cpu1 - cpu0) / t_clients, 2),
        "settle_seconds": settle,
        "next_scrape_seconds": None if next_seconds is None else round(next_seconds, 3),
        "next_scrape_status": next_status,
        "samples": samples,
    }


def max_requests_of(oomutil: str) -> int | None:
    text = subprocess.run([oomutil, "serve", "--help"], capture_output=True, text=True,
                          env=dict(os.environ, COLUMNS="200")).stdout
    # the option's own help line, not the usage line: "  --max-requests N   ... (default 10)"
    m = re.search(r"^\s+--max-requests\b[^\n]*?\(default (\d+)", text, re.M)
    return int(m.group(1)) if m else None


def measure(args, tree: Tree) -> int:
    out = args.out
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "tree.json"), "w", encoding="utf-8") as fh:
        json.dump(tree.info, fh, indent=1)
    version = subprocess.run([args.oomutil, "--version"], capture_output=True, text=True).stdout.strip()
    max_req = max_requests_of(args.oomutil)
    summary = [f"{version}; {tree.info['limited_cgroups']} limited cgroups (v{tree.version}, {tree.qos}), "
               f"{tree.info['processes_in_proc']} processes in /proc; {os.cpu_count()} cores, {os.uname().release}"]
    have_strace = shutil.which("strace") is not None
    failed = False
    for spec in args.config:
        name, _, words = spec.partition("=")
        opts = shlex.split(words)
        say(f"\n== {name}: oomutil serve {' '.join(opts) or '(default options)'}")
        server = Server(args.oomutil, opts, os.path.join(out, f"{name}.serve.log"))
        result: dict = {"config": name, "serve_args": opts, "oomutil": version, "server_pid": server.pid}
        try:
            first, status, body = scrape(server.url)
            result["first_scrape_seconds"] = round(first, 3)
            result["series"] = series_counts(body)
            sc = result["series"]
            say(f"first scrape {first:.2f} s, HTTP {status}: {sc['samples']} samples, {sc['cgroups_with_series']} "
                f"cgroups with series ({sc['cgroups_with_pod_uid']} with pod_uid, {sc['cgroups_with_container_id']} "
                f"with container_id), {sc['prediction_domains']} prediction domains")
            pt_json = os.path.join(out, f"{name}.pairtime.json")
            subprocess.run([sys.executable, os.path.join(HERE, "pairtime.py"), "--runs", str(args.runs),
                            "--warmup", "1", "--json", pt_json,
                            f"scrape=curl -s -o /dev/null {server.url}", f"ps={PS_YARDSTICK}",
                            f"ps_plain={PS_PLAIN}"], check=True)
            server.check("the timed scrapes")
            with open(pt_json, encoding="utf-8") as fh:
                result["pairtime"] = json.load(fh)
            if result["pairtime"]["commands"]["scrape"]["exit_codes"] != [0]:
                raise RuntimeError(f"a timed scrape failed: curl exit codes "
                                   f"{result['pairtime']['commands']['scrape']['exit_codes']}")
            # one scrape's reads and CPU, no tracer attached
            time.sleep(0.3)
            io0, cpu0 = proc_io(server.pid), cpu_seconds(server.pid)
            seconds, _, _ = scrape(server.url)
            time.sleep(0.5)
            io1, cpu1 = proc_io(server.pid), cpu_seconds(server.pid)
            result["one_scrape"] = {"seconds": round(seconds, 3), "syscr": io1["syscr"] - io0["syscr"],
                                    "rchar": io1["rchar"] - io0["rchar"], "cpu_seconds": round(cpu1 - cpu0, 3)}
            st = proc_status(server.pid)
            result["vmhwm_mib_after_scrapes"] = round(st["VmHWM"] / 1024, 1)
            result["rss_mib_after_scrapes"] = round(st["VmRSS"] / 1024, 1)
            result["threads_after_scrapes"] = st["Threads"]
            if have_strace:
                result["openat"] = strace_scrape(server, server.url, os.path.join(out, f"{name}.strace.log"), tree.mount)
                with open(os.path.join(out, f"{name}.strace.txt"), "w", encoding="utf-8") as fh:
                    json.dump(result["openat"], fh, indent=1)
            if args.clients:
                say(f"-- {args.clients} clients, timeout {args.timeout:g} s, a request each every "
                    f"{args.interval or args.timeout:g} s, for {args.seconds:g} s")
                result["max_requests"] = max_req
                result["load"] = clients_run(server, args.clients, args.seconds, args.timeout,
                                             args.interval or args.timeout, args.settle)
                server.check("the clients' run")
            result["stderr_tracebacks"] = server.log_tail().count("Traceback")
        except RuntimeError as err:
            say(f"nodetree: {name}: {err}")
            with open(os.path.join(out, f"{name}.failed.txt"), "w", encoding="utf-8") as fh:
                fh.write(f"{err}\n")
            summary.append(f"{name}: FAILED: {err}")
            failed = True
            continue
        finally:
            server.stop()
        with open(os.path.join(out, f"{name}.json"), "w", encoding="utf-8") as fh:
            json.dump(result, fh, indent=1)
        summary += summarize(result, max_req)
        say("\n".join(summarize(result, max_req)))
    text = "\n".join(summary) + "\n"
    with open(os.path.join(out, "summary.txt"), "w", encoding="utf-8") as fh:
        fh.write(text)
    say("\n### summary\n" + text + f"figures in {out}")
    return 1 if failed else 0


def summarize(r: dict, max_req) -> list:
    pt = r["pairtime"]
    c, ratios = pt["commands"], pt["ratios"]
    yard, plain = ratios.get("scrape/ps", {}), ratios.get("scrape/ps_plain", {})
    lines = [f"{r['config']} ({' '.join(r['serve_args']) or 'default options'}): "
             f"scrape {c['scrape']['wall_median']:.3f} s, ps {c['ps']['wall_median']:.3f} s, "
             f"ratio {yard.get('median', float('nan')):.2f}x (min {yard.get('min', float('nan')):.2f}, "
             f"max {yard.get('max', float('nan')):.2f}); ps_plain {c['ps_plain']['wall_median']:.3f} s, "
             f"ratio {plain.get('median', float('nan')):.2f}x; {pt['runs']} rounds"]
    one = r["one_scrape"]
    line = (f"  one scrape: {one['syscr']} read syscalls (syscr), CPU {one['cpu_seconds']:.2f} s; "
            f"peak RSS (VmHWM) {r['vmhwm_mib_after_scrapes']} MiB; {r['series']['samples']} samples, "
            f"{r['series']['prediction_domains']} domains, {r['series']['cgroups_with_series']} cgroups")
    lines.append(line)
    o = r.get("openat")
    if o:
        top = ", ".join(f"{k} {v}" for k, v in list(o["by_kind"].items())[:6])
        again = ", ".join(f"{k} +{v}" for k, v in list(o["extra_opens_by_kind"].items())[:4]) or "none"
        lines.append(f"  files opened (strace openat): {o['openat_calls']} calls, {sum(o['failed'].values())} failed, "
                     f"{o['distinct_paths']} distinct; {o['paths_opened_more_than_once']} opened more than once "
                     f"(+{o['extra_opens_of_those']}: {again}); by kind: {top}")
    load = r.get("load")
    if load:
        bound = f"{max_req + 2}" if max_req else "n/a: no --max-requests on this build (10 + 2 = 12 by the issue)"
        lines.append(
            f"  {load['clients']} clients x {load['seconds']:g} s, timeout {load['timeout']:g} s: "
            f"{load['answered']} of {load['requests']} answered, {load['failed']} failed {load['outcome']}; "
            f"threads max {load['threads_max']} (bound {bound}), RSS max {load['rss_mib_max']} MiB; "
            f"after {load['settle_seconds']:g} s: threads {load['threads_after_settle']}, RSS "
            f"{load['rss_mib_after_settle']} MiB; server {load['server_cores']} cores; next scrape "
            f"{load['next_scrape_seconds']} s (HTTP {load['next_scrape_status']})")
    lines.append(f"  tracebacks on the server's stderr: {r['stderr_tracebacks']}")
    return lines


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    tree_opts = argparse.ArgumentParser(add_help=False)
    tree_opts.add_argument("--pods", type=int, default=300)
    tree_opts.add_argument("--containers", type=int, default=3, help="per pod")
    tree_opts.add_argument("--procs", type=int, default=6000)
    tree_opts.add_argument("--qos", choices=("burstable", "guaranteed"), default="burstable")
    tree_opts.add_argument("--spawn", help="bench/spawn.c compiled (default: built into ~/.cache/oomutil-bench)")
    m = sub.add_parser("measure", parents=[tree_opts])
    m.add_argument("--oomutil", required=True, help="the console script to serve with")
    m.add_argument("--out", required=True)
    m.add_argument("--runs", type=int, default=10)
    m.add_argument("--config", action="append", metavar="NAME=ARGS",
                   help=f"serve options to measure (default: {DEFAULT_CONFIGS})")
    m.add_argument("-c", "--clients", type=int, default=0)
    m.add_argument("-t", "--seconds", type=float, default=60.0)
    m.add_argument("--timeout", type=float, default=1.0)
    m.add_argument("--interval", type=float, default=None, help="between a client's requests (default: --timeout)")
    m.add_argument("--settle", type=float, default=10.0, help="seconds sampled after the clients stop")
    h = sub.add_parser("hold", parents=[tree_opts])
    h.add_argument("command", nargs=argparse.REMAINDER)
    sub.add_parser("clean")
    args = p.parse_args(argv)
    if os.geteuid() != 0:
        raise SystemExit("nodetree: needs root (it makes cgroups and moves processes into them)")
    if args.cmd == "clean":
        return clean()
    if args.cmd == "measure" and not args.config:
        args.config = DEFAULT_CONFIGS
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)
    tree = Tree(args.pods, args.containers, args.procs, args.qos, args.spawn or default_spawn())
    status = 1
    try:
        tree.up()
        if args.cmd == "measure":
            status = measure(args, tree)
        else:
            command = args.command[1:] if args.command[:1] == ["--"] else args.command
            env = dict(os.environ, OOMUTIL_BENCH_TREE=tree.info["top"])
            status = subprocess.run(command or ["true"], env=env).returncode
    except (KeyboardInterrupt, Stop) as why:
        say(f"\nnodetree: interrupted ({str(why) or 'Ctrl-C'}): taking the tree down")
        status = 130
    finally:
        for signo in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signo, signal.SIG_IGN)  # the teardown is bounded; let it finish
        if not tree.down():
            status = status or 1
    return status


if __name__ == "__main__":
    sys.exit(main())
