#!/usr/bin/env python3
"""One collection of the exporter's collector under cProfile, and what it opens (issue 22).

usage: python profile_collect.py [--out DIR] [--top 25] [--cgroup-depth N] [--max-cgroup-series N]

Runs, in this process,
    list(OomCollector(Root('/'), Options(...)).collect())
three times: a warm-up (imports, caches), one under cProfile (the top functions by
cumulative and by total time, the calls to cgroup_names.within and oomutil._fs.read_bytes),
and one with counting wrappers put around os.open, os.close, os.scandir and os.listdir
here, not in the library (files opened, by kind, and the paths opened more than once).
Needs prometheus-client and oomutil importable by this python (PYTHONPATH=SRC for a
checkout).  With the node tree up: `bench/nodetree.py hold -- python bench/profile_collect.py`.
Writes DIR/profile.txt, DIR/profile.pstats and DIR/opens.json when --out is given.
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import io
import json
import os
import pstats
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nodetree import classify, memory_mount  # noqa: E402


def count_opens(run) -> dict:
    """Call run() with os.open/close/scandir/listdir counted; paths resolved through dir_fd."""
    real_open, real_close, real_scandir, real_listdir = os.open, os.close, os.scandir, os.listdir
    dirs: dict = {}
    paths = collections.Counter()
    scans = collections.Counter()

    def resolve(path, dir_fd):
        path = os.fsdecode(path) if not isinstance(path, int) else f"<fd {path}>"
        if dir_fd is not None and not path.startswith("/"):
            path = os.path.normpath(os.path.join(dirs.get(dir_fd, f"<fd {dir_fd}>"), path))
        return path

    def open_(path, flags, mode=0o777, *, dir_fd=None):
        fd = real_open(path, flags, mode, dir_fd=dir_fd)
        full = resolve(path, dir_fd)
        paths[full] += 1
        if flags & getattr(os, "O_DIRECTORY", 0):
            dirs[fd] = full
        return fd

    def close_(fd):
        dirs.pop(fd, None)
        return real_close(fd)

    def scandir_(path="."):
        scans[resolve(path, None)] += 1
        return real_scandir(path)

    def listdir_(path="."):
        scans[resolve(path, None)] += 1
        return real_listdir(path)

    os.open, os.close, os.scandir, os.listdir = open_, close_, scandir_, listdir_
    try:
        run()
    finally:
        os.open, os.close, os.scandir, os.listdir = real_open, real_close, real_scandir, real_listdir
    found = memory_mount()
    mount = found[1] if found else "/sys/fs/cgroup/memory"
    kinds = collections.Counter()
    extra = collections.Counter()
    for p, c in paths.items():
        kinds[classify(p, mount)] += c
        if c > 1:
            extra[classify(p, mount)] += c - 1
    scan_kinds = collections.Counter()
    for p, c in scans.items():
        scan_kinds[classify(p, mount)] += c
    return {
        "os_open_calls": sum(paths.values()), "distinct_paths": len(paths),
        "paths_opened_more_than_once": sum(1 for c in paths.values() if c > 1),
        "extra_opens": sum(extra.values()), "max_opens_of_one_path": max(paths.values(), default=0),
        "by_kind": dict(kinds.most_common()), "extra_opens_by_kind": dict(extra.most_common()),
        "scandir_listdir_calls": sum(scans.values()), "scandir_listdir_by_kind": dict(scan_kinds.most_common()),
        "most_opened": paths.most_common(5),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--cgroup-depth", type=int, default=3)
    ap.add_argument("--max-cgroup-series", type=int, default=500)
    args = ap.parse_args()

    import oomutil
    from oomutil.exporter.collector import OomCollector, Options
    from oomutil.root import Root

    def once():
        return list(OomCollector(Root("/"), Options(cgroup_depth=args.cgroup_depth,
                                                    max_cgroup_series=args.max_cgroup_series)).collect())

    report = io.StringIO()

    def say(text=""):
        print(text)
        report.write(text + "\n")

    t0 = time.perf_counter()
    families = once()
    warm = time.perf_counter() - t0
    say(f"oomutil from {os.path.dirname(oomutil.__file__)}, python {sys.version.split()[0]}; "
        f"{sum(1 for n in os.listdir('/proc') if n.isdigit())} processes; options cgroup_depth="
        f"{args.cgroup_depth} max_cgroup_series={args.max_cgroup_series}")
    say(f"warm-up collection: {warm:.3f} s, {len(families)} families, "
        f"{sum(len(f.samples) for f in families)} samples")

    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    once()
    prof.disable()
    profiled = time.perf_counter() - t0
    t0 = time.perf_counter()
    opens = count_opens(once)
    counted = time.perf_counter() - t0
    t0 = time.perf_counter()
    once()
    plain = time.perf_counter() - t0
    say(f"collection: {plain:.3f} s plain, {profiled:.3f} s under cProfile, {counted:.3f} s with the open counters")

    stats = pstats.Stats(prof)
    calls = {}
    for (filename, _, name), (cc, nc, tt, ct, _) in stats.stats.items():
        if name in ("within", "read_bytes") and "oomutil" in filename:
            calls[f"{os.path.basename(filename)}:{name}"] = {"calls": nc, "tottime": round(tt, 3),
                                                             "cumtime": round(ct, 3)}
        if filename == "~" and name in ("<built-in method posix.open>", "<built-in method posix.scandir>",
                                        "<built-in method posix.listdir>", "<built-in method posix.read>"):
            calls[name] = {"calls": nc, "tottime": round(tt, 3)}
    say("\ncalls of note (cProfile): " + json.dumps(calls, indent=1))
    say(f"\nfiles one collection opens (os.open wrapper): {opens['os_open_calls']} opens of "
        f"{opens['distinct_paths']} distinct paths; {opens['paths_opened_more_than_once']} paths opened more "
        f"than once (+{opens['extra_opens']}); directories listed (scandir/listdir): "
        f"{opens['scandir_listdir_calls']}")
    say("  by kind: " + json.dumps(opens["by_kind"]))
    say("  opened again, by kind: " + json.dumps(opens["extra_opens_by_kind"]))
    say("  listed, by kind: " + json.dumps(opens["scandir_listdir_by_kind"]))
    for order in ("cumulative", "tottime"):
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).strip_dirs().sort_stats(order).print_stats(args.top)
        text = buf.getvalue()
        say(f"\n--- top {args.top} by {order} ---")
        say(text[text.find("   ncalls"):].rstrip())
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "profile.txt"), "w", encoding="utf-8") as fh:
            fh.write(report.getvalue())
        prof.dump_stats(os.path.join(args.out, "profile.pstats"))
        with open(os.path.join(args.out, "opens.json"), "w", encoding="utf-8") as fh:
            json.dump({"seconds": {"plain": plain, "profiled": profiled, "counted": counted},
                       "calls": calls, "opens": opens}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
