"""Real zone_constrained reports (issue 23, item 6): free memory, but not where the
allocation may take it.  Needs two NUMA nodes: it runs in a boot of its own
(tests/vm/conftest.py ``numa_boot``: ``vm.boot(nodes=2)``, 384 MiB and one CPU per node);
in the one-node boot of the other scenarios it only says so.

- ``cpuset``: a hog in a cgroup v2 cpuset with ``cpuset.mems=0`` allocates until node 0
  is full while node 1 stays free: ``oom-kill:constraint=CONSTRAINT_CPUSET``,
  ``mems_allowed=0``.
- ``mempolicy``: a hog bound to node 0 by ``set_mempolicy(MPOL_BIND, {0})`` (a syscall
  through ctypes: busybox has no numactl) does the same:
  ``constraint=CONSTRAINT_MEMORY_POLICY,nodemask=0``.

Each case is scenario_10_reports' ``_provoke``: the report's lines from /dev/kmsg, and
``oomutil why --json`` on them.  What a case changes (the cgroup, +cpuset) is undone in
its ``finally``.
"""

from __future__ import annotations

import os

from _oom import CGROUP2, make_cgroup, read, remove_cgroup, write
from scenario_10_reports import _HOG, _meminfo, _provoke, run_cases

NODES = "/sys/devices/system/node"

# set_mempolicy(MPOL_BIND, {node 0}) first (x86_64 syscall 238; maxnode counts the bits
# of the mask, and the kernel reads maxnode - 1 of them), then scenario 10's hog
_BOUND_HOG = r"""
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
mask = ctypes.c_ulong(1)
if libc.syscall(238, 2, ctypes.byref(mask), 64) != 0:
    raise OSError(ctypes.get_errno(), "set_mempolicy(MPOL_BIND, {0})")
""" + _HOG


def _nodes():
    return sorted(int(name[4:]) for name in os.listdir(NODES) if name.startswith("node") and name[4:].isdigit())


def _node_free_kb():
    """{node: MemFree kB} from /sys/devices/system/node/nodeN/meminfo."""
    free = {}
    for node in _nodes():
        for line in read(f"{NODES}/node{node}/meminfo").splitlines():
            if line.split()[2] == "MemFree:":
                free[node] = int(line.split()[3])
    return free


def _with_nodes(result):
    result["node_free_kb_after"] = _node_free_kb()
    return result


def cpuset():
    path = "/vN0"
    root = f"{CGROUP2}/cgroup.subtree_control"
    enabled = "cpuset" not in read(root).split()
    try:
        if enabled:
            write(root, "+cpuset")
        make_cgroup(path, {"cpuset.mems": "0"})
        effective = read(f"{CGROUP2}{path}/cpuset.mems.effective").strip()
        result = _provoke("cpuset", None, cgroup=path)
        result["cpuset_mems_effective"] = effective
        return _with_nodes(result)
    finally:
        remove_cgroup(path)
        if enabled:
            write(root, "-cpuset")


def mempolicy():
    return _with_nodes(_provoke("mempolicy", None, code=_BOUND_HOG))


CASES = [("cpuset", cpuset), ("mempolicy", mempolicy)]


def run(only=None):
    nodes = _nodes()
    if len(nodes) < 2:
        return {"skip": f"one NUMA node ({nodes}): runs in the NUMA boot (vm.boot(nodes=2))"}
    results = {"nodes": nodes, "node_free_kb_before": _node_free_kb(), "mem_total_kb": _meminfo()["MemTotal"],
               "tainted": int(read("/proc/sys/kernel/tainted"))}
    return run_cases("scenario_11_numa", CASES, results, only)
