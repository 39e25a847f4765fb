"""Memory cgroups: limits, usage, OOM counters, and the cgroup a process is charged to.

Most OOM kills are not global: a container or a service hits its own limit and the
kernel kills inside that cgroup only (mm/memcontrol.c, mem_cgroup_out_of_memory()).
The memory controller lives in one hierarchy: the v1 "memory" hierarchy where there is
one (hybrid hosts have both kinds), else cgroup2.  Its mount point comes from the
root's proc/self/mountinfo, and from the standard places when a tree has none.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from . import _fs
from .cgroup_names import describe
from .errors import AccessDenied, NotAvailable
from .procfs.cgroup import parse_memory_cgroup
from .procfs.mountinfo import Mount, parse_mountinfo
from .procfs.pressure import Pressure, parse_pressure
from .root import Root, as_root
from .sysfs.memcg import (parse_bool, parse_flat_keyed, parse_procs, parse_v1_limit,
                          parse_v2_limit)

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows the start
    from typing import Dict, List, Optional, Tuple, Union

__all__ = ["MemoryCgroup", "Hierarchy", "memory_hierarchy", "memory_cgroups", "memory_cgroup",
           "process_cgroup"]

@dataclass(frozen=True)
class Hierarchy:
    """Where the memory controller's cgroups are, under a Root."""

    version: int  # 1 or 2
    directory: str  # the hierarchy's top directory, under the Root
    mount_root: str  # the cgroup that is mounted there ("/", or e.g. "/docker/abc" in a container)


@dataclass(frozen=True)
class MemoryCgroup:
    """One memory cgroup.  Limits in bytes, None meaning "no limit"; every other field is
    None where this kernel (or tree) has no such file.  v1 and v2 files side by side:

    ====================  ==============================  ============================
    field                 cgroup v1                       cgroup v2
    ====================  ==============================  ============================
    usage_bytes           memory.usage_in_bytes           memory.current
    limit_bytes           memory.limit_in_bytes           memory.max
    peak_bytes            memory.max_usage_in_bytes       memory.peak (5.19+)
    oom_kill_count        memory.oom_control oom_kill     memory.events oom_kill (4.13+)
    ====================  ==============================  ============================
    """

    path: str  # as in /proc/PID/cgroup: "/" is the root
    version: int
    name: str  # what it is: "sshd.service", "docker 1a2b3c4d5e6f", "pod 0f1e2d3c (burstable)"
    usage_bytes: Optional[int]
    limit_bytes: Optional[int]  # its own limit
    effective_limit_bytes: Optional[int]  # the smallest limit of it and its ancestors
    limited_by: Optional[str]  # the path whose limit that is
    headroom_bytes: Optional[int]  # the least (limit - usage) of it and its limited ancestors,
    #                                memory and (v1) memory+swap limits alike
    oom_scope: Optional[str]  # the cgroup with that least room: the one a charge here would
    #                           push over its limit, so the one whose OOM kills (its subtree)
    high_bytes: Optional[int]  # v2 memory.high: throttling, not OOM
    low_bytes: Optional[int]  # v2 memory.low: protected from reclaim
    swap_limit_bytes: Optional[int]  # v2 memory.swap.max
    memsw_limit_bytes: Optional[int]  # v1 memory.memsw.limit_in_bytes (memory + swap)
    memsw_usage_bytes: Optional[int]  # v1 memory.memsw.usage_in_bytes
    use_hierarchy: Optional[bool]  # v1 memory.use_hierarchy: 0 (possible before 5.11) means
    #                                its limit binds only its own tasks, not its children's
    peak_bytes: Optional[int]
    failcnt: Optional[int]  # v1 memory.failcnt: charges that hit the limit
    oom_count: Optional[int]  # v2 memory.events oom: the limit was hit and reclaim failed
    oom_kill_count: Optional[int]  # processes killed by the OOM killer in it
    oom_group_kill_count: Optional[int]  # v2 oom_group_kill (5.17+)
    events: Optional[Dict[str, int]]  # v2 memory.events (counts its descendants too since 5.2)
    events_local: Optional[Dict[str, int]]  # v2 memory.events.local (5.2+): this cgroup only
    oom_kill_disable: Optional[bool]  # v1 memory.oom_control: tasks hang instead of dying
    under_oom: Optional[bool]  # v1 memory.oom_control: it is out of memory right now
    oom_group: Optional[bool]  # v2 memory.oom.group (4.19+): an OOM kills the whole group
    pressure: Optional[Pressure]  # v2 memory.pressure (4.20+)
    swappiness: Optional[int]  # v1 memory.swappiness (v2 uses the system's vm.swappiness)
    pids: Optional[Tuple[int, ...]]  # cgroup.procs: the processes in it (not its descendants)


# -- where the hierarchy is ----------------------------------------------------------------


def _under_root(root: Root, mount_point: str) -> str:
    """A mount point as the reader sees it, as a path under the Root."""
    if root.is_live or mount_point.startswith(root.path + os.sep):
        return mount_point
    return os.path.join(root.path, mount_point.lstrip("/"))


def _has_memory(directory: str) -> bool:
    try:
        controllers = _fs.read_bytes(os.path.join(directory, "cgroup.controllers"))
    except (NotAvailable, AccessDenied):
        return False
    return b"memory" in controllers.split()


def memory_hierarchy(root: Union[Root, str, None] = None) -> Optional[Hierarchy]:
    """The hierarchy that holds the memory controller, or None if none is mounted."""
    r = as_root(root)
    try:
        mounts: List[Mount] = _fs.read_parsed(r.proc("self", "mountinfo"), parse_mountinfo)
    except (NotAvailable, AccessDenied):
        mounts = []
    v2 = None
    for m in mounts:
        directory = _under_root(r, m.mount_point)
        if m.fstype == "cgroup" and "memory" in m.super_options:
            return Hierarchy(1, directory, m.root)
        if m.fstype == "cgroup2" and v2 is None and _has_memory(directory):
            v2 = Hierarchy(2, directory, m.root)
    if v2 is not None or mounts:
        return v2
    # A tree captured without mountinfo: the places systemd and most distributions use.
    v1 = r.sys("fs", "cgroup", "memory")
    if os.path.isfile(os.path.join(v1, "memory.limit_in_bytes")):
        return Hierarchy(1, v1, "/")
    for candidate in (r.sys("fs", "cgroup"), r.sys("fs", "cgroup", "unified")):
        if _has_memory(candidate):
            return Hierarchy(2, candidate, "/")
    return None


def _directory(h: Hierarchy, path: str) -> Optional[str]:
    """The directory of cgroup ``path``; None if it is outside what is mounted (a path
    seen from another cgroup namespace, "/../x")."""
    if path.startswith("/.."):
        return None
    mount_root = h.mount_root.rstrip("/")
    if mount_root and path != mount_root and not path.startswith(mount_root + "/"):
        return None
    rel = path[len(mount_root):].strip("/")
    return os.path.join(h.directory, rel) if rel else h.directory


# -- reading one cgroup --------------------------------------------------------------------


def _file(directory: str, name: str, parse):
    """One file of a cgroup directory, parsed; None where it is absent or unreadable
    (kernels differ, trees hold some files, a container may be denied some)."""
    return _fs.none_if_unreadable(_fs.read_parsed, os.path.join(directory, name), parse)


class _Counters:
    """What one cgroup's limits are, for its descendants' effective limit and OOM scope."""

    __slots__ = ("path", "usage", "limit", "memsw_usage", "memsw_limit", "hierarchical")

    def __init__(self, h: Hierarchy, path: str, directory: str) -> None:
        self.path = path
        self.memsw_usage = self.memsw_limit = None
        self.hierarchical: Optional[bool] = True
        if h.version == 1:
            self.usage = _file(directory, "memory.usage_in_bytes", _fs.parse_int)
            self.limit = _file(directory, "memory.limit_in_bytes", parse_v1_limit)
            # a charge fails on whichever counter it would push over: memory, or memory +
            # swap where swap accounting is on (mm/memcontrol.c try_charge_memcg())
            self.memsw_usage = _file(directory, "memory.memsw.usage_in_bytes", _fs.parse_int)
            self.memsw_limit = _file(directory, "memory.memsw.limit_in_bytes", parse_v1_limit)
            # before 5.11 (bef8620cd8e0) use_hierarchy 0 kept children's charges out of this
            # cgroup: its limit did not bind them, and its OOM scanned its own tasks only
            self.hierarchical = _file(directory, "memory.use_hierarchy", parse_bool)
        else:
            self.usage = _file(directory, "memory.current", _fs.parse_int)
            self.limit = _file(directory, "memory.max", parse_v2_limit)


def _read(h: Hierarchy, own: _Counters, directory: str, ancestors: List[_Counters]) -> MemoryCgroup:
    """Read one cgroup (``own``: its counters); ``ancestors`` from the top down."""
    def f(name, parse):
        return _file(directory, name, parse)

    path = own.path
    usage, limit = own.usage, own.limit
    effective, limited_by, headroom, scope = None, None, None, None
    for c in [*ancestors, own]:
        if c is not own and c.hierarchical is False:
            continue  # use_hierarchy 0: its limit is not ours
        for u, lim in ((c.usage, c.limit), (c.memsw_usage, c.memsw_limit)):
            if lim is None:
                continue
            if lim is c.limit and (effective is None or lim <= effective):
                effective, limited_by = lim, c.path
            if u is not None and (headroom is None or lim - u < headroom):
                headroom, scope = lim - u, c.path
    procs = f("cgroup.procs", parse_procs)
    high = low = swap = failcnt = oom = oom_kill = group_kill = None
    events = events_local = kill_disable = under_oom = oom_group = pressure = swappiness = None
    if h.version == 1:
        oom_control = f("memory.oom_control", parse_flat_keyed) or {}
        peak = f("memory.max_usage_in_bytes", _fs.parse_int)
        failcnt = f("memory.failcnt", _fs.parse_int)
        oom_kill = oom_control.get("oom_kill")  # 4.13+
        kill_disable = _flag(oom_control, "oom_kill_disable")
        under_oom = _flag(oom_control, "under_oom")
        swappiness = f("memory.swappiness", _fs.parse_int)
    else:
        high = f("memory.high", parse_v2_limit)
        low = f("memory.low", parse_v2_limit)
        swap = f("memory.swap.max", parse_v2_limit)
        peak = f("memory.peak", _fs.parse_int)
        events = f("memory.events", parse_flat_keyed)
        if events is not None:
            oom, oom_kill, group_kill = events.get("oom"), events.get("oom_kill"), events.get("oom_group_kill")
        events_local = f("memory.events.local", parse_flat_keyed)
        oom_group = f("memory.oom.group", parse_bool)
        pressure = f("memory.pressure", parse_pressure)
    return MemoryCgroup(
        path=path, version=h.version, name=describe(path).name,  # type: ignore[union-attr]
        usage_bytes=usage, limit_bytes=limit, effective_limit_bytes=effective,
        limited_by=limited_by, headroom_bytes=headroom, oom_scope=scope or limited_by,
        high_bytes=high, low_bytes=low,
        swap_limit_bytes=swap, memsw_limit_bytes=own.memsw_limit, memsw_usage_bytes=own.memsw_usage,
        use_hierarchy=own.hierarchical if h.version == 1 else None, peak_bytes=peak, failcnt=failcnt,
        oom_count=oom, oom_kill_count=oom_kill, oom_group_kill_count=group_kill,
        events=events, events_local=events_local, oom_kill_disable=kill_disable,
        under_oom=under_oom, oom_group=oom_group, pressure=pressure, swappiness=swappiness,
        pids=tuple(procs) if procs is not None else None,
    )


def _flag(values: Dict[str, int], key: str) -> Optional[bool]:
    return None if key not in values else values[key] != 0


def _path_of(h: Hierarchy, directory: str) -> str:
    rel = os.path.relpath(directory, h.directory)
    mount_root = h.mount_root.rstrip("/")
    return (mount_root + "/" + rel if rel != "." else mount_root) or "/"


# -- the public calls ------------------------------------------------------------------------


def memory_cgroups(root: Union[Root, str, None] = None) -> List[MemoryCgroup]:
    """Every memory cgroup, parents before children.  Raises NotAvailable when no memory
    controller is mounted under the root."""
    r = as_root(root)
    h = memory_hierarchy(r)
    if h is None:
        raise NotAvailable("no memory cgroup hierarchy is mounted", path=r.sys("fs", "cgroup"))
    found: List[MemoryCgroup] = []
    # directory -> the counters of it and every cgroup above it, from the top
    chains: Dict[str, List[_Counters]] = {}
    for directory, subdirs, _ in os.walk(h.directory):
        subdirs.sort()
        above = chains.get(os.path.dirname(directory), []) if directory != h.directory else []
        own = _Counters(h, _path_of(h, directory), directory)
        group = _read(h, own, directory, above)
        chains[directory] = [*above, own]
        found.append(group)
    return found


def memory_cgroup(path: str, root: Union[Root, str, None] = None) -> MemoryCgroup:
    """The memory cgroup at ``path`` ("/system.slice/x.service").  Raises NotAvailable
    when there is no memory hierarchy or no such cgroup."""
    r = as_root(root)
    h = memory_hierarchy(r)
    if h is None:
        raise NotAvailable("no memory cgroup hierarchy is mounted", path=r.sys("fs", "cgroup"))
    directory = _directory(h, "/" + "/".join(p for p in path.split("/") if p))
    if directory is None or not os.path.isdir(directory):
        raise NotAvailable(f"no memory cgroup {path}", path=directory or h.directory)
    path = _path_of(h, directory)  # one spelling: "/a/b", whatever the caller wrote
    # the ancestors, from the top of the hierarchy down to the parent
    ancestors = []
    d = directory
    while d != h.directory:
        d = os.path.dirname(d)
        ancestors.append(_Counters(h, _path_of(h, d), d))
    return _read(h, _Counters(h, path, directory), directory, ancestors[::-1])


def process_cgroup(pid: int, root: Union[Root, str, None] = None) -> Optional[MemoryCgroup]:
    """The memory cgroup process ``pid`` is charged to; None where there is none to read
    (no memory controller, a cgroup outside this namespace's view).  Raises
    NoSuchProcess if the process is gone."""
    r = as_root(root)
    return cgroup_or_none(_fs.read_parsed(r.proc(pid, "cgroup"), parse_memory_cgroup, pid=pid), r)


def cgroup_or_none(path: Optional[str], root: Root) -> Optional[MemoryCgroup]:
    """memory_cgroup(path), or None for no path or a cgroup that cannot be found."""
    if path is None:
        return None
    try:
        return memory_cgroup(path, root)
    except NotAvailable:
        return None

