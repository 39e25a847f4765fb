"""`oomutil cgroups --json --all` on a real cgroup v2 host: every limit, counter and PSI
figure equals the file it comes from, read by this scenario around the command (usage
and PSI move: the command's value must lie between the readings before and after)."""

from __future__ import annotations

from _oom import Hog, make_cgroup, oomutil_json, read, remove_cgroup

LAYOUT = {
    "/vQ": ({"memory.max": "300M", "memory.high": "250M", "memory.low": "16M", "memory.swap.max": "0"}, True),
    "/vQ/app": ({"memory.max": "96M", "memory.oom.group": "1"}, False),
    "/vQ/batch": ({"memory.high": "64M"}, False),
}


def _limit(text: str):
    text = text.strip()
    return None if text == "max" else int(text)


def _keyed(path: str, name: str) -> dict:
    return {k: int(v) for k, v in (line.split() for line in read(f"/sys/fs/cgroup{path}/{name}").splitlines())}


def _pressure(path: str) -> dict:
    out = {}
    for line in read(f"/sys/fs/cgroup{path}/memory.pressure").splitlines():
        kind, *pairs = line.split()
        for pair in pairs:
            key, value = pair.split("=")
            out[f"{kind}_{key}" + ("_us" if key == "total" else "")] = float(value) if "." in value else int(value)
    return out


def _files(path: str) -> dict:
    d = f"/sys/fs/cgroup{path}"
    return {
        "usage_bytes": int(read(f"{d}/memory.current")),
        "limit_bytes": _limit(read(f"{d}/memory.max")),
        "high_bytes": _limit(read(f"{d}/memory.high")),
        "low_bytes": int(read(f"{d}/memory.low")),
        "swap_limit_bytes": _limit(read(f"{d}/memory.swap.max")),
        "oom_group": read(f"{d}/memory.oom.group").strip() == "1",
        "events": _keyed(path, "memory.events"),
        "events_local": _keyed(path, "memory.events.local"),
        "pressure": _pressure(path),
        "pids": sorted(int(p) for p in read(f"{d}/cgroup.procs").split()),
    }


def run():
    hogs = []
    try:
        for path, (files, parent) in LAYOUT.items():
            make_cgroup(path, files, parent=parent)
        hogs = [Hog("/vQ/app", 30), Hog("/vQ/batch", 20, 200)]
        before = {p: _files(p) for p in LAYOUT}
        rows = oomutil_json("cgroups", "--all")
        after = {p: _files(p) for p in LAYOUT}
        shown = {row["cgroup"]["path"]: row for row in rows}
        return {
            "before": before, "after": after,
            "shown": {p: {k: (sorted(v) if k == "pids" and v is not None else v)
                          for k, v in shown[p]["cgroup"].items() if k in before[p]} for p in LAYOUT if p in shown},
            "victims": {p: (shown[p]["victim"] or {}).get("pid") for p in LAYOUT if p in shown},
            "hog_pids": [h.pid for h in hogs],
            "effective": {p: (shown[p]["cgroup"]["effective_limit_bytes"], shown[p]["cgroup"]["limited_by"],
                              shown[p]["cgroup"]["oom_scope"]) for p in LAYOUT if p in shown},
        }
    finally:
        for hog in hogs:
            hog.stop()
        remove_cgroup("/vQ")
