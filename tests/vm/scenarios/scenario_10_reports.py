"""Real OOM reports of each kind (issue 23, item 6), provoked here and explained by
`oomutil why --json --file` on the captured text: a memcg OOM, sysrq f, a hugepage pool, a
global OOM without swap, a tmpfs fill, a global OOM with zram swap filled, and an order-3
failure with fragmented free memory.

Each case reads /dev/kmsg from its start on, and keeps the lines of its first report:
from ``invoked oom-killer`` through ``Killed process`` and the oom_reaper line of that
pid, with a dmesg prefix (``[    5.123456] ``).  This process runs at oom_score_adj -1000
while the cases run (a global OOM must not take the scenario with it); every hog is a
child it started, which sets its own adj (0) first.  What a case changes (cgroups, the
hugepage pool, a tmpfs, zram swap, sysctls) is undone in its ``finally``.

The fragmentation case: a child maps most of the available memory, locked
(vm.compact_unevictable_allowed=0: compaction may not move it), reads its page frame
numbers from /proc/self/pagemap and unmaps all but one of its pages in every aligned
8-page block, so its free memory is in chunks of 4, 8 and 16 KiB only.  Then it resizes
pipes to 2 MiB: each ring of 512 pipe_buffers (20 KiB) is an order-3 kmalloc from the
page allocator (GFP_KERNEL_ACCOUNT), until none is left and the OOM killer runs, with
hundreds of MiB free but no 32 KiB chunk.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import traceback

from _oom import CGROUP2, MiB, make_cgroup, read, remove_cgroup, write

WORK = "/tmp/oomutil-reports"
TMPFS = "/mnt/oomutil-tmpfs"
ZRAM = "/sys/block/zram0"
_ESCAPE = re.compile(r"\\x([0-9a-f]{2})")

# A process that sets its own oom_score_adj (the scenario's -1000 would be inherited),
# says "ready", waits for a line, then allocates 1 MiB at a time (every byte written)
# up to argv[2] MiB (and reports "done") or until it is killed.
_HOG = r"""
import sys
with open("/proc/self/oom_score_adj", "w") as f:
    f.write(sys.argv[1])
print("ready", flush=True)
sys.stdin.readline()
held = []
for _ in range(int(sys.argv[2])):
    held.append(b"\1" * (1 << 20))
print("done", flush=True)
sys.stdin.readline()
"""

# The fragmenter (see the module's docstring).  argv: adj, MiB to leave unlocked.
_FRAGMENT = r"""
import ctypes, fcntl, os, resource, struct, sys
with open("/proc/self/oom_score_adj", "w") as f:
    f.write(sys.argv[1])
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
for name in ("munmap", "mlock", "madvise"):
    getattr(libc, name).argtypes = [ctypes.c_void_p, ctypes.c_size_t] + ([ctypes.c_int] if name == "madvise" else [])
PAGE = os.sysconf("SC_PAGE_SIZE")
info = dict((line.split(":")[0], int(line.split()[1])) for line in open("/proc/meminfo"))
size = (info["MemAvailable"] - int(sys.argv[2]) * 1024) * 1024 // PAGE * PAGE
addr = libc.mmap(None, size, 3, 0x22, -1, 0)  # PROT_READ|WRITE, MAP_PRIVATE|ANONYMOUS
assert addr not in (None, ctypes.c_void_p(-1).value), ctypes.get_errno()
libc.madvise(addr, size, 15)  # MADV_NOHUGEPAGE: 4 KiB pages, each its own
assert libc.mlock(addr, size) == 0, ctypes.get_errno()  # faults every page in, locked
n = size // PAGE
with open("/proc/self/pagemap", "rb") as f:
    f.seek(addr // PAGE * 8)
    entries = struct.unpack("%dQ" % n, f.read(n * 8))
blocks, release = set(), bytearray(n)
for i, e in enumerate(entries):
    block = (e & ((1 << 55) - 1)) >> 3  # an aligned 8-page block (order 3)
    if block in blocks:
        release[i] = 1
    else:
        blocks.add(block)
i = calls = 0
while i < n:
    if release[i]:
        j = i
        while j < n and release[j]:
            j += 1
        assert libc.munmap(addr + i * PAGE, (j - i) * PAGE) == 0, ctypes.get_errno()
        calls += 1
        i = j
    else:
        i += 1
del entries, release
print("fragmented %d %d %d" % (n, len(blocks), calls), flush=True)
sys.stdin.readline()
resource.setrlimit(resource.RLIMIT_NOFILE, (1 << 20, 1 << 20))
rings = []
while True:
    r, w = os.pipe()
    fcntl.fcntl(w, 1031, 2 << 20)  # F_SETPIPE_SZ: 512 slots, a 20 KiB ring: order 3
    rings.append((r, w))
    if len(rings) % 1000 == 0:
        print("rings %d" % len(rings), flush=True)
"""


class Kmsg:
    """/dev/kmsg from now on: every record, with a dmesg prefix."""

    def __init__(self) -> None:
        self.fd = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
        os.lseek(self.fd, 0, os.SEEK_END)
        self.lines = []

    def poll(self):
        while True:
            try:
                raw = os.read(self.fd, 8192)
            except BlockingIOError:
                return self.lines
            except BrokenPipeError:
                continue
            head, _, text = raw.decode("utf-8", "replace").partition(";")
            usec = int(head.split(",")[2])
            # the record's text, its \xNN escapes undone (Mem-Info is one record of several
            # lines); each line with the record's time, as dmesg prints it
            text = _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text.split("\n", 1)[0])
            prefix = f"[{usec // 1000000:5d}.{usec % 1000000:06d}] "
            self.lines.extend(prefix + line for line in text.split("\n"))

    def close(self) -> None:
        os.close(self.fd)

    def report(self, timeout: float = 120.0):
        """The first report's lines (invoked .. Killed process, and the oom_reaper line of
        that pid if it came: the reaper waits 2 s (OOM_REAPER_DELAY) and finds nothing to
        do when the victim exits first), or None when no kill came in ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            lines = self.poll()
            start = next((i for i, l in enumerate(lines) if "invoked oom-killer:" in l), None)
            kill = None if start is None else next(
                (i for i in range(start, len(lines)) if "Killed process " in lines[i]), None)
            if kill is not None:
                pid = lines[kill].split("Killed process ", 1)[1].split()[0]
                reaper = [l for l in lines[kill + 1:] if f"oom_reaper: reaped process {pid} " in l]
                return lines[start:kill + 1] + reaper[:1]
            if time.monotonic() > deadline:
                return None
            time.sleep(0.1)


def _why(lines, kind):
    os.makedirs(WORK, exist_ok=True)
    path = f"{WORK}/{kind}.txt"
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    out = subprocess.run([sys.executable, "-m", "oomutil", "why", "--json", "--file", path],
                         capture_output=True, text=True)
    if out.returncode != 0:
        return {"rc": out.returncode, "stderr": out.stderr}
    [doc] = json.loads(out.stdout)["reports"]
    return {
        "cause": doc["verdict"]["cause"], "factors": doc["verdict"]["factors"],
        "summary": doc["verdict"]["summary"], "victim_check": doc["victim_check"],
        "kills": [{k: e.get(k) for k in ("pid", "comm", "constraint", "oom_memcg", "task_memcg")}
                  for e in doc["kills"]],
        "trigger": doc["trigger"], "memory": doc["memory"], "memcg": doc["memcg"],
        "zones": doc["zones"], "tasks": len(doc["tasks"]), "constraint": doc["constraint"],
        "kernel": doc["kernel"],
    }


class Child:
    def __init__(self, code: str, *args: str, cgroup: str = "") -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", code, *args], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        self.pid = self.proc.pid
        self.first = self.proc.stdout.readline().strip()
        if cgroup:
            write(f"{CGROUP2}{cgroup}/cgroup.procs", str(self.pid))

    def go(self) -> None:
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()

    def wait(self, timeout: float = 180.0):
        """The child's return code (-9: killed) and what it printed."""
        out, _ = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, out

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def _meminfo():
    return {line.split(":")[0]: int(line.split()[1]) for line in read("/proc/meminfo").splitlines()}


def _provoke(kind: str, start, cgroup: str = "", mib: int = 1 << 16, code: str = _HOG, args=()):
    """Start a hog (in ``cgroup``), call ``start(hog)`` (None: tell it to allocate), wait
    for its end and the report; the why summary and the report's lines."""
    kmsg, hog = Kmsg(), None
    try:
        hog = Child(code, "0", *(args or (str(mib),)), cgroup=cgroup)
        if start is None:
            hog.go()
        else:
            start(hog)
        lines = kmsg.report()
        if lines is None:
            hog.stop()  # no kill in time: stop it (it is reported, not waited for)
        rc, out = hog.wait()  # the victim has exited: its reaper line, if any, is logged
        lines = kmsg.report() if lines else lines
        if lines is None:
            return {"provoked": False, "why_not": f"no report (hog exited {rc}: {out[-300:]})",
                    "hog_first_line": hog.first}
        return {"provoked": True, "hog_pid": hog.pid, "hog_rc": rc, "hog_first_line": hog.first,
                "hog_out": out[-300:], "lines": lines, "why": _why(lines, kind)}
    finally:
        if hog:
            hog.stop()
        kmsg.close()


def memcg():
    path = "/vR1"
    try:
        make_cgroup(path, {"memory.max": str(48 * MiB), "memory.swap.max": "0"})
        return _provoke("memcg", None, cgroup=path, mib=200)
    finally:
        remove_cgroup(path)


def sysrq():
    def start(hog):
        hog.go()
        assert hog.proc.stdout.readline().strip() == "done"
        write("/proc/sysrq-trigger", "f")

    return _provoke("sysrq", start, mib=48)


def hugepages():
    total = _meminfo()["MemTotal"] * 1024
    wanted = int(total * 0.55) // (2 * MiB)
    try:
        write("/proc/sys/vm/nr_hugepages", str(wanted))
        got = int(read("/proc/sys/vm/nr_hugepages"))
        result = _provoke("hugepages", None)
        result.update(nr_hugepages=got, nr_hugepages_wanted=wanted)
        return result
    finally:
        write("/proc/sys/vm/nr_hugepages", "0")


def global_noswap():
    return _provoke("global-noswap", None)


def shmem():
    total = _meminfo()["MemTotal"] * 1024
    fill = int(total * 0.55) // MiB
    os.makedirs(TMPFS, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={fill + 8}m", "tmpfs", TMPFS], check=True)
    try:
        with open(f"{TMPFS}/fill", "wb") as f:
            chunk = b"\2" * MiB
            for _ in range(fill):
                f.write(chunk)
        result = _provoke("shmem", None)
        result["tmpfs_mib"] = fill
        return result
    finally:
        try:
            os.unlink(f"{TMPFS}/fill")
        except OSError:
            pass
        subprocess.run(["umount", TMPFS])


def zram():
    if not os.path.isdir(ZRAM):
        subprocess.run(["modprobe", "zram"], capture_output=True)
    if not os.path.isdir(ZRAM):
        return {"provoked": False, "skip": "no zram0: the zram module is not loaded and modprobe failed"}
    on = False
    try:
        write(f"{ZRAM}/disksize", str(128 * MiB))
        subprocess.run(["mkswap", "/dev/zram0"], check=True, capture_output=True)
        subprocess.run(["swapon", "/dev/zram0"], check=True, capture_output=True)
        on = True
        result = _provoke("global-zram", None)
        result["swaps"] = read("/proc/swaps")
        return result
    finally:
        if on:
            subprocess.run(["swapoff", "/dev/zram0"], capture_output=True)
        try:
            write(f"{ZRAM}/reset", "1")
        except OSError:
            pass


def fragmentation():
    saved = {name: read(f"/proc/sys/vm/{name}").strip() for name in ("compact_unevictable_allowed", "max_map_count")}
    try:
        write("/proc/sys/vm/compact_unevictable_allowed", "0")
        write("/proc/sys/vm/max_map_count", "1000000")

        def start(hog):
            assert hog.first.startswith("fragmented"), hog.first
            hog.go()

        result = _provoke("fragmentation", start, code=_FRAGMENT, args=("48",))
        result["buddyinfo_after"] = read("/proc/buddyinfo")
        return result
    finally:
        for name, value in saved.items():
            write(f"/proc/sys/vm/{name}", value)


CASES = [("memcg", memcg), ("sysrq", sysrq), ("hugepages", hugepages), ("global_noswap", global_noswap),
         ("shmem", shmem), ("zram", zram), ("fragmentation", fragmentation)]


def run(only=None):
    return run_cases("scenario_10_reports", CASES, {}, only)


def run_cases(scenario, cases, results, only=None):
    """Each (name, case) of ``cases`` (those in ``only``), into ``results``, with this process
    at oom_score_adj -1000 meanwhile: the scenario outlives every kill it provokes."""
    adj = read("/proc/self/oom_score_adj").strip()
    write("/proc/self/oom_score_adj", "-1000")
    try:
        for name, case in cases:
            if only and name not in only:
                continue
            started = time.monotonic()
            try:
                results[name] = case()
            except Exception:  # noqa: BLE001 -- one case's failure is its result
                results[name] = {"provoked": False, "error": traceback.format_exc()}
            results[name]["seconds"] = round(time.monotonic() - started, 1)
            sys.stderr.write(f"{scenario}: {name} in {results[name]['seconds']} s\n")
    finally:
        write("/proc/self/oom_score_adj", adj)
    return results
