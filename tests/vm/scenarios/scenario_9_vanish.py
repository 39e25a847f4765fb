"""Memory cgroups removed while oomutil walks them, on cgroup v2 (issue 22): a thread makes
and removes limited cgroups as fast as it can beside memory_cgroups(), which the exporter's
every scrape calls.  A cgroup gone mid-read is skipped and named, never an error."""

from __future__ import annotations

import os
import threading
import time

from _oom import CGROUP2, make_cgroup, remove_cgroup

from oomutil.cgroups import memory_cgroups


def run():
    make_cgroup("/vV9", {"memory.max": "200M"}, parent=True)
    names = [f"{CGROUP2}/vV9/c{i}" for i in range(40)]
    stop = threading.Event()

    def churn():
        while not stop.is_set():
            for path in names:
                try:
                    os.mkdir(path)
                    with open(f"{path}/memory.max", "w") as f:
                        f.write("64M")
                except OSError:
                    pass
            for path in names:
                try:
                    os.rmdir(path)
                except OSError:
                    pass

    thread = threading.Thread(target=churn)
    thread.start()
    errors, vanished, walks = [], [], 0
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (not vanished or walks < 5):
            try:
                memory_cgroups(vanished=vanished)
            except Exception as err:  # noqa: BLE001 -- what the test must not see
                errors.append(f"{type(err).__name__}: {err}")
            walks += 1
    finally:
        stop.set()
        thread.join()
        remove_cgroup("/vV9")
    return {"walks": walks, "vanished": len(vanished), "under": sorted({v.rsplit("/", 1)[0] for v in vanished}),
            "errors": errors[:5]}
