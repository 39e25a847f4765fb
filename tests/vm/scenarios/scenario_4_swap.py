"""Swap (a zram device): a v2 memcg OOM measures oom_score_adj against memory.max plus the
swap the cgroup may use, min(memory.swap.max, SwapTotal) (mem_cgroup_get_max(), 6.1).
Two real OOMs show it: the same two processes, and the victim changes with swap.max."""

from __future__ import annotations

import subprocess

from _oom import PAGE, MiB, Hog, KernelLog, make_cgroup, oomutil_json, read, remove_cgroup, write

LIMIT = 64 * MiB


def _swap_on() -> int:
    write("/sys/block/zram0/disksize", str(256 * MiB))
    subprocess.run(["mkswap", "/dev/zram0"], check=True, capture_output=True)
    subprocess.run(["swapon", "/dev/zram0"], check=True, capture_output=True)
    total = [line for line in read("/proc/meminfo").splitlines() if line.startswith("SwapTotal:")]
    return int(total[0].split()[1]) * 1024


def _case(path: str, swap_max: str, swap_total: int, cause_oom: bool) -> dict:
    hogs = {}
    try:
        make_cgroup(path, {"memory.max": str(LIMIT), "memory.swap.max": swap_max})
        hogs = {"a40": Hog(path, 40, 0), "b20+200": Hog(path, 20, 200)}
        by_pid = {h.pid: label for label, h in hogs.items()}
        report = oomutil_json("victim", "--cgroup", path)
        allowed = swap_total if swap_max == "max" else min(int(swap_max), swap_total)
        result = {"swap_max": swap_max, "totalpages": report["totalpages"],
                  "expected_totalpages": (LIMIT + allowed) // PAGE,
                  "predicted": by_pid.get((report["victim"] or {}).get("pid"))}
        if cause_oom:
            log = KernelLog()
            usage = int(read(f"/sys/fs/cgroup{path}/memory.current"))
            pusher = Hog(path, 0, -1000)
            hogs["pusher"] = pusher
            pusher.push((LIMIT + allowed - usage) // MiB + 16)
            kills = log.kills(timeout=300)
            result["killed_first"] = by_pid.get(kills[0], kills[0]) if kills else None
            result["swap_used_bytes"] = int(read(f"/sys/fs/cgroup{path}/memory.swap.current"))
        return result
    finally:
        for hog in hogs.values():
            hog.stop()
        remove_cgroup(path)


def run():
    swap_total = _swap_on()
    try:
        return {
            "swap_total_bytes": swap_total,
            "cases": [
                _case("/vS0", "0", swap_total, cause_oom=True),  # b: 20 MiB + 200 x 64 MiB/1000 < 40 MiB
                _case("/vS1", str(128 * MiB), swap_total, cause_oom=True),  # + 200 x 192 MiB/1000 > 40
                _case("/vS2", "max", swap_total, cause_oom=False),  # unset: all of SwapTotal counts
            ],
        }
    finally:
        subprocess.run(["swapoff", "/dev/zram0"], capture_output=True)
