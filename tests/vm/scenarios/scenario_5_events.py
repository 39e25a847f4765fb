"""`oomutil events` on 6.1's /dev/kmsg, reconciled with the counters: two OOMs in nested
cgroups that stay alive, so memory.events and memory.events.local can be compared.

The kernel counts oom_kill on the *victim's* cgroup (memcg_memory_event_mm()) and "oom"
on the cgroup whose limit was hit; memory.events adds the descendants, .local does not.
"""

from __future__ import annotations

from _oom import MiB, Hog, KernelLog, let_the_ratelimit_recover, make_cgroup, oomutil_json, read, remove_cgroup, write

CGROUPS = ("/vV", "/vV/a", "/vV/b")


def _events(path: str, name: str) -> dict:
    return {k: int(v) for k, v in (line.split() for line in read(f"/sys/fs/cgroup{path}/{name}").splitlines())}


def _oom(push_into: str, scope: str) -> int:
    log = KernelLog()
    limit, usage = int(read(f"/sys/fs/cgroup{scope}/memory.max")), int(read(f"/sys/fs/cgroup{scope}/memory.current"))
    pusher = Hog(push_into, 0, -1000)
    pusher.push((limit - usage) // MiB + 16)
    kills = log.kills()
    pusher.stop()  # it holds what it pushed: gone, the next OOM starts from the hogs alone
    return kills[0] if kills else None


def run():
    hogs = []
    try:
        make_cgroup("/vV", {"memory.max": "200M", "memory.swap.max": "0"}, parent=True)
        make_cgroup("/vV/a", {"memory.max": "60M"})
        make_cgroup("/vV/b")
        hogs += [Hog("/vV/a", 20), Hog("/vV/b", 90)]
        labels = {hogs[0].pid: "a20", hogs[1].pid: "b90"}
        let_the_ratelimit_recover()
        first = _oom("/vV/a", "/vV/a")  # a's own limit: the victim is a20
        let_the_ratelimit_recover()
        write("/sys/fs/cgroup/vV/a/memory.max", "max")  # now only the parent's limit bites
        hogs.append(Hog("/vV/a", 40))
        labels[hogs[-1].pid] = "a40"
        second = _oom("/vV/a", "/vV")  # the parent's limit: b90 across the subtree
        let_the_ratelimit_recover(2)
        doc = oomutil_json("events")
        ours = [e for e in doc["events"] if e["pid"] in labels]
        return {
            "killed": [labels.get(first, first), labels.get(second, second)],
            "events": [{k: e[k] for k in ("pid", "comm", "constraint", "oom_memcg", "task_memcg", "anon_rss_bytes",
                                          "oom_score_adj", "trigger_comm", "source")} | {"label": labels[e["pid"]]}
                       for e in ours],
            "gaps": doc["gaps"],
            "all_events": len(doc["events"]),
            "vmstat_oom_kill": int([line for line in read("/proc/vmstat").splitlines()
                                    if line.startswith("oom_kill ")][0].split()[1]),
            "memory_events": {p: _events(p, "memory.events") for p in CGROUPS},
            "memory_events_local": {p: _events(p, "memory.events.local") for p in CGROUPS},
        }
    finally:
        for hog in hogs:
            hog.stop()
        remove_cgroup("/vV")
