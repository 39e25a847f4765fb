"""tools/capture-fixture on a real cgroup v2 host (this VM, after the OOMs of the scenarios
before it): the tree replays through oomutil, and with ``oomutil.capture=1`` on the kernel
command line it comes back to the host (tar.gz, base64) to be committed as
tests/fixtures/x86_64-cgroup2-linux6.1."""

from __future__ import annotations

import base64
import io
import os
import subprocess
import sys
import tarfile

from _oom import Hog, make_cgroup, read, remove_cgroup

NAME = "x86_64-cgroup2-linux6.1"
TOOL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "capture-fixture")


def run():
    hogs = []
    try:
        # something to see: a limited parent with a tighter child, an oom.group, adj values
        make_cgroup("/oomutil-capture", {"memory.max": "256M", "memory.swap.max": "0"}, parent=True)
        make_cgroup("/oomutil-capture/app", {"memory.max": "64M", "memory.oom.group": "1"})
        make_cgroup("/oomutil-capture/batch", {"memory.high": "48M"})
        hogs = [Hog("/oomutil-capture/app", 30, 0), Hog("/oomutil-capture/batch", 20, 250),
                Hog("/oomutil-capture/batch", 10, 1000), Hog("/oomutil-capture/app", 5, -500)]
        out = subprocess.run([sys.executable, TOOL, "--out", "/tmp/capture", NAME], capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError(f"capture-fixture exited {out.returncode}: {out.stderr}")
        tree = f"/tmp/capture/{NAME}"
        replay = subprocess.run([sys.executable, "-m", "oomutil", "--root", tree, "cgroups", "--json"],
                                capture_output=True, text=True)
        result = {
            "manifest": read(f"{tree}/MANIFEST"),
            "files": sum(len(files) for _, _, files in os.walk(tree)),
            "replay_rc": replay.returncode, "replay_stderr": replay.stderr,
            "hog_pids": [h.pid for h in hogs],
        }
        if "oomutil.capture=1" in read("/proc/cmdline").split():
            buffer = io.BytesIO()
            with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
                tar.add(tree, arcname=NAME)
            result["tar_gz_base64"] = base64.b64encode(buffer.getvalue()).decode("ascii")
        return result
    finally:
        for hog in hogs:
            hog.stop()
        remove_cgroup("/oomutil-capture")
