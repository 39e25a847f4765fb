"""memory.oom.group 1 (4.19+): the whole cgroup dies with its victim, except adj -1000.

`oomutil victim` must say so (group_kill), the real OOM must kill every member but the
protected one, memory.events must count one oom_group_kill, and `oomutil events` must
show every kill of the group.
"""

from __future__ import annotations

from _oom import MiB, Hog, KernelLog, let_the_ratelimit_recover, make_cgroup, oomutil_json, read, remove_cgroup

PATH = "/vG"


def run():
    let_the_ratelimit_recover()  # this report's lines are all needed
    procs = {}
    try:
        make_cgroup(PATH, {"memory.max": "160M", "memory.swap.max": "0", "memory.oom.group": "1"})
        for label, mib, adj in (("a", 30, 0), ("b", 50, 0), ("c", 20, 100), ("protected", 10, -1000)):
            procs[label] = Hog(PATH, mib, adj)
        by_pid = {h.pid: label for label, h in procs.items()}
        report = oomutil_json("victim", "--cgroup", PATH)
        log = KernelLog()
        limit, usage = int(read(f"/sys/fs/cgroup{PATH}/memory.max")), int(read(f"/sys/fs/cgroup{PATH}/memory.current"))
        pusher = Hog(PATH, 0, 0)  # a member too: adj 0 and small, it dies with the group
        procs["pusher"] = pusher
        by_pid[pusher.pid] = "pusher"
        pusher.push((limit - usage) // MiB + 16)
        for label, hog in procs.items():  # every member but the protected one dies
            if label != "protected":
                hog.proc.wait(timeout=120)
        kills = log.kills(wait_for=4)  # all logged by now (the victim maybe twice)
        alive = sorted(label for label, h in procs.items() if h.proc.poll() is None)
        events = {k: int(v) for k, v in (line.split() for line in read(f"/sys/fs/cgroup{PATH}/memory.events").splitlines())}
        logged = oomutil_json("events")["events"]
        in_log = sorted(by_pid[e["pid"]] for e in logged if e["pid"] in by_pid)
        return {
            "predicted_victim": by_pid.get((report["victim"] or {}).get("pid")),
            "group_kill": report["group_kill"],
            "kills": [by_pid.get(p, p) for p in kills],
            "alive": alive,
            "memory_events": events,
            "events_logged": in_log,
        }
    finally:
        for hog in procs.values():
            hog.stop()
        remove_cgroup(PATH)
