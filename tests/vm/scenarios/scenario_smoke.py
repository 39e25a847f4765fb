"""Smoke scenario: the VM is what the others expect, and one real cgroup v2 memcg OOM.

Returns the kernel release, the cgroup v2 controllers, the python version, oomutil's
reading of its own oom_score, the zram module state, and the outcome of one OOM: a child
python in /sys/fs/cgroup/smoke (memory.max 64M, memory.swap.max 0) that allocates up to
200 MiB in 1 MiB chunks.
"""

import os
import signal
import subprocess
import sys
import time

CGROUP = "/sys/fs/cgroup"
SMOKE = os.path.join(CGROUP, "smoke")

# Touches each MiB (bytes * n writes every page) and reports how far it got.
HOG = (
    "import sys\n"
    "chunks = []\n"
    "for i in range(1, 201):\n"
    "    chunks.append(bytes([i & 255]) * (1 << 20))\n"
    "    sys.stdout.write('%d\\n' % i)\n"
    "    sys.stdout.flush()\n"
)


def read(path):
    with open(path) as f:
        return f.read()


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def flat_keyed(path):
    return {key: int(value) for key, value in (line.split() for line in read(path).splitlines())}


def kmsg_records(fd):
    """Every record readable from a non-blocking /dev/kmsg descriptor: (prio, seq, text)."""
    records = []
    while True:
        try:
            raw = os.read(fd, 8192)
        except BlockingIOError:
            return records
        except BrokenPipeError:  # overwritten while we read: go on with the next
            continue
        head, _, rest = raw.decode("utf-8", "replace").partition(";")
        fields = head.split(",")
        records.append((int(fields[0]) & 7, int(fields[1]), rest.split("\n", 1)[0]))


def memcg_oom():
    os.mkdir(SMOKE)
    try:
        write(os.path.join(SMOKE, "memory.max"), "64M")
        write(os.path.join(SMOKE, "memory.swap.max"), "0")
        kmsg = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
        os.lseek(kmsg, 0, os.SEEK_END)  # only what this OOM logs

        def join():
            write(os.path.join(SMOKE, "cgroup.procs"), str(os.getpid()))

        started = time.monotonic()
        child = subprocess.Popen([sys.executable, "-c", HOG], stdout=subprocess.PIPE,
                                 preexec_fn=join)
        out, _ = child.communicate(timeout=120)
        took = time.monotonic() - started
        records = kmsg_records(kmsg)
        os.close(kmsg)
        killed = [text for _prio, _seq, text in records if "Killed process" in text]
        events = flat_keyed(os.path.join(SMOKE, "memory.events"))
        events_local = flat_keyed(os.path.join(SMOKE, "memory.events.local"))
        allocated = out.split()
        code = child.returncode
        return {
            "pid": child.pid,
            "returncode": code,
            "signal": -code if code < 0 else None,
            "signal_name": signal.Signals(-code).name if code < 0 else None,
            "allocated_mib": int(allocated[-1]) if allocated else 0,
            "seconds": round(took, 2),
            "killed_line": killed[0] if killed else None,
            "killed_lines": killed,
            "kmsg_lines": len(records),
            "kmsg_oom_lines": [text for _p, _s, text in records
                               if "oom" in text.lower() or "out of memory" in text.lower()][:20],
            "memory_events": events,
            "memory_events_local": events_local,
            "oom_kill": events.get("oom_kill"),
        }
    finally:
        for _ in range(50):
            try:
                os.rmdir(SMOKE)
                break
            except OSError:
                time.sleep(0.1)


def zram_state():
    """zram loaded by init, and its default compressor usable (disksize succeeds)."""
    modules = [line.split()[0] for line in read("/proc/modules").splitlines()]
    state = {"modules": sorted(modules), "zram0": os.path.exists("/sys/block/zram0")}
    if state["zram0"]:
        state["comp_algorithm"] = read("/sys/block/zram0/comp_algorithm").strip()
        try:
            write("/sys/block/zram0/disksize", str(16 << 20))
            state["disksize"] = int(read("/sys/block/zram0/disksize"))
        except OSError as exc:
            state["disksize_error"] = str(exc)
        finally:
            try:
                write("/sys/block/zram0/reset", "1")
            except OSError:
                pass
    return state


def run():
    import oomutil

    controllers = read(os.path.join(CGROUP, "cgroup.controllers")).split()
    version = subprocess.run(["python3", "--version"], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, universal_newlines=True).stdout.strip()
    return {
        "release": os.uname().release,
        "controllers": controllers,
        "memory_controller": "memory" in controllers,
        "subtree_control": read(os.path.join(CGROUP, "cgroup.subtree_control")).split(),
        "python_version": version,
        "oom_score": oomutil.Process().oom_score(),
        "zram": zram_state(),
        "oom": memcg_oom(),
    }
