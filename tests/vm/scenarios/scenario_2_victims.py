"""v2 memory cgroup OOMs: `oomutil victim --cgroup` names the process the kernel kills first.

Each configuration builds throwaway cgroups, fills them with processes of chosen size
and oom_score_adj, asks `oomutil victim --cgroup` (the cgroup the pusher charges to),
then a pusher with oom_score_adj -1000 (never a candidate, so it changes no ranking)
allocates past the limit and the kernel log after a marker tells which process the
kernel killed first.
"""

from __future__ import annotations

from _oom import MiB, Hog, KernelLog, make_cgroup, oomutil_json, read, remove_cgroup

# name: (cgroups {path: files}, parents, hogs [(label, cgroup, MiB, adj)], pusher's cgroup, expected label, scope)
CONFIGS = {
    "largest": ({"/vA": {"memory.max": "200M", "memory.swap.max": "0"}}, (),
                [("s", "/vA", 30, 0), ("m", "/vA", 60, 0), ("l", "/vA", 90, 0)], "/vA", "l", "/vA"),
    "adj outweighs size": ({"/vB": {"memory.max": "200M", "memory.swap.max": "0"}}, (),
                           [("l", "/vB", 90, 0), ("m", "/vB", 60, 0), ("s+500", "/vB", 30, 500)], "/vB", "s+500", "/vB"),
    "parent limit bites through a child without one": (
        {"/vC": {"memory.max": "160M", "memory.swap.max": "0"}, "/vC/a": {}, "/vC/b": {}}, ("/vC",),
        [("a40", "/vC/a", 40, 0), ("b70", "/vC/b", 70, 0)], "/vC/a", "b70", "/vC"),
    "child's tighter limit": (
        {"/vD": {"memory.max": "400M", "memory.swap.max": "0"}, "/vD/a": {"memory.max": "80M"}, "/vD/b": {}},
        ("/vD",), [("a30", "/vD/a", 30, 0), ("b100", "/vD/b", 100, 0)], "/vD/a", "a30", "/vD/a"),
    "memory.high set never kills; negative adj": (
        {"/vE": {"memory.max": "160M", "memory.high": "150M", "memory.swap.max": "0"}}, (),
        [("40", "/vE", 40, 0), ("60-300", "/vE", 60, -300)], "/vE", "40", "/vE"),
    "two of one size": ({"/vF": {"memory.max": "150M", "memory.swap.max": "0"}}, (),
                        [("first", "/vF", 40, 0), ("second", "/vF", 40, 0)], "/vF", None, "/vF"),
}


def one(name, cgroups, parents, hogs, push_into, expected, scope):
    top = min(cgroups, key=len)
    result = {"name": name}
    procs = {}
    try:
        for path, files in cgroups.items():
            make_cgroup(path, files, parent=path in parents)
        for label, path, mib, adj in hogs:
            procs[label] = Hog(path, mib, adj)
        report = oomutil_json("victim", "--cgroup", push_into)
        by_pid = {h.pid: label for label, h in procs.items()}
        victim = report["victim"] or {}
        result.update(scope=report["scope"], expected_scope=scope, totalpages=report["totalpages"],
                      predicted=by_pid.get(victim.get("pid"), victim.get("pid")), expected=expected,
                      tied=[by_pid.get(p, p) for p in report["tied"]],
                      candidates=[(by_pid.get(c["pid"], c["pid"]), c["badness_pages"]) for c in report["candidates"]])
        limit = int(read(f"/sys/fs/cgroup{scope}/memory.max"))
        usage = int(read(f"/sys/fs/cgroup{scope}/memory.current"))
        log = KernelLog()
        pusher = Hog(push_into, 0, -1000)
        pusher.push((limit - usage) // MiB + 16)
        kills = log.kills()
        result["killed_first"] = by_pid.get(kills[0], kills[0]) if kills else None
        result["kills"] = [by_pid.get(p, p) for p in kills]
        procs["pusher"] = pusher
    finally:
        for hog in procs.values():
            hog.stop()
        remove_cgroup(top)
    return result


def run():
    return [one(name, *config) for name, config in CONFIGS.items()]
