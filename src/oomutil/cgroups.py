"""Memory cgroups: limits, usage, OOM counters, and the cgroup a process is charged to.

Most OOM kills are not global: a container or a service hits its own limit and the
kernel kills inside that cgroup only (mm/memcontrol.c, mem_cgroup_out_of_memory()).
The memory controller lives in one hierarchy: the v1 "memory" hierarchy where there is
one (hybrid hosts have both kinds), else cgroup2.  Its mount point comes from the
root's proc/self/mountinfo, and from the standard places when a tree has none.
"""

from __future__ import annotations

import errno
import os
from ._record import Record

from . import _fs
from .errors import AccessDenied, InvalidValue, NotAvailable, OomutilError
from .badness import kernel_version
from .procfs.cgroup import parse_memory_cgroup
from .procfs.meminfo import read_meminfo
from .procfs.mountinfo import Mount, parse_mountinfo
from .procfs.pressure import Pressure
from .procfs.sysctl import read_kernel_release
from .root import Root, as_root
from .sysfs import memcg_v1, memcg_v2
from .sysfs.memcg import read_inactive_file_bytes, read_procs
from .workloads import Names, read_names

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows the start
    from typing import Any, Dict, List, Optional, Tuple, Union

    from .process import Process

__all__ = ["MemoryCgroup", "Hierarchy", "CgroupLayout", "cgroup_layout", "working_set_bytes", "memory_hierarchy", "memory_cgroups", "memory_cgroup",
           "process_cgroup"]

class Hierarchy(Record):
    """Where the memory controller's cgroups are, under a Root."""

    version: int  # 1 or 2
    directory: str  # the hierarchy's top directory, under the Root
    mount_root: str  # the cgroup that is mounted there ("/", or e.g. "/docker/abc" in a container)


class MemoryCgroup(Record):
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
    name: str  # what it is: "sshd.service", "shop/web-7d9f8-abcde/nginx", "docker 1a2b3c4d5e6f"
    # whose it is (docs/kubernetes.md): the pod UID and container id its path gives, the names
    # the node's files give them (workloads.py); None where neither says
    pod_uid: Optional[str]
    container_id: Optional[str]
    namespace: Optional[str]
    pod: Optional[str]
    container: Optional[str]
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


def _mounts(r: Root) -> List[Mount]:
    """The root's mount table ([] where the tree has none or it cannot be read)."""
    try:
        return _fs.read_parsed(r.proc("self", "mountinfo"), parse_mountinfo)
    except (NotAvailable, AccessDenied):
        return []


def memory_hierarchy(root: Union[Root, str, None] = None) -> Optional[Hierarchy]:
    """The hierarchy that holds the memory controller, or None if none is mounted."""
    r = as_root(root)
    return _memory_hierarchy(r, _mounts(r))


def _memory_hierarchy(r: Root, mounts: List[Mount]) -> Optional[Hierarchy]:
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


class CgroupLayout(Record):
    """How the cgroup filesystems are mounted (systemd's names for the three layouts)."""

    mode: str  # "v2" (unified), "v1" (legacy), "hybrid" (v1 controllers, cgroup2 beside them), "none"
    memory_version: Optional[int]  # the version of the hierarchy holding the memory controller
    memory_directory: Optional[str]  # where that is, as the machine itself sees it


def cgroup_layout(root: Union[Root, str, None] = None) -> CgroupLayout:
    r = as_root(root)
    mounts = _mounts(r)
    kinds = {m.fstype for m in mounts} & {"cgroup", "cgroup2"}
    if not kinds:  # a tree without mountinfo: what its directories show
        base = r.sys("fs", "cgroup")
        if os.path.isfile(os.path.join(base, "cgroup.controllers")):
            kinds = {"cgroup2"}
        elif os.path.isdir(os.path.join(base, "memory")) or os.path.isdir(os.path.join(base, "cpu")):
            kinds = {"cgroup"} | ({"cgroup2"} if os.path.isdir(os.path.join(base, "unified")) else set())
    mode = ("hybrid" if len(kinds) == 2 else "v2" if "cgroup2" in kinds else "v1" if kinds else "none")
    h = _memory_hierarchy(r, mounts)
    if h is None:
        return CgroupLayout(mode, None, None)
    inside = h.directory
    if not r.is_live and inside.startswith(r.path + os.sep):
        inside = inside[len(r.path):]
    return CgroupLayout(mode, h.version, inside)


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


class _Counters:
    """A cgroup's path and the counters its limits are judged by (the kernel layer reads
    them: sysfs/memcg_v1.py, memcg_v2.py)."""

    __slots__ = ("path", "usage", "limit", "memsw_usage", "memsw_limit", "hierarchical")

    def __init__(self, h: Hierarchy, path: str, directory: str, swap: bool = True,
                 always_hierarchical: bool = False) -> None:
        c = (memcg_v1.read_counters(directory, swap, always_hierarchical) if h.version == 1
             else memcg_v2.read_counters(directory))
        self.path = path
        self.usage, self.limit = c.usage_bytes, c.limit_bytes
        self.memsw_usage, self.memsw_limit = c.memsw_usage_bytes, c.memsw_limit_bytes
        self.hierarchical = c.use_hierarchy


def _read(h: Hierarchy, own: _Counters, directory: str, ancestors: List[_Counters], names: Names,
          brief: bool = False, swap: bool = True) -> MemoryCgroup:
    """One cgroup (``own``: its counters), with what its ancestors' limits (from the top
    down) make of it: the effective limit, the least room left and the OOM's scope."""
    path = own.path
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
    procs = read_procs(directory)
    name, work = names.named(path)
    common: Dict[str, Any] = dict(
        path=path, version=h.version, name=name, **work._asdict(),
        usage_bytes=own.usage, limit_bytes=own.limit, effective_limit_bytes=effective,
        limited_by=limited_by, headroom_bytes=headroom, oom_scope=scope or limited_by,
        memsw_limit_bytes=own.memsw_limit, memsw_usage_bytes=own.memsw_usage,
        pids=tuple(procs) if procs is not None else None,
    )
    if h.version == 1:
        v1 = memcg_v1.read_files(directory, brief, swap)
        return MemoryCgroup(
            **common, use_hierarchy=own.hierarchical, high_bytes=None, low_bytes=None, swap_limit_bytes=None,
            peak_bytes=v1.peak_bytes, failcnt=v1.failcnt, oom_count=None, oom_kill_count=v1.oom_kill_count,
            oom_group_kill_count=None, events=None, events_local=None, oom_kill_disable=v1.oom_kill_disable,
            under_oom=v1.under_oom, oom_group=None, pressure=None, swappiness=v1.swappiness)
    v2 = memcg_v2.read_files(directory, brief)
    events = v2.events or {}
    return MemoryCgroup(
        **common, use_hierarchy=None, high_bytes=v2.high_bytes, low_bytes=v2.low_bytes,
        swap_limit_bytes=v2.swap_limit_bytes, peak_bytes=v2.peak_bytes, failcnt=None,
        oom_count=events.get("oom"), oom_kill_count=events.get("oom_kill"),
        oom_group_kill_count=events.get("oom_group_kill"), events=v2.events, events_local=v2.events_local,
        oom_kill_disable=None, under_oom=None, oom_group=v2.oom_group, pressure=v2.pressure, swappiness=None)


def _path_of(h: Hierarchy, directory: str) -> str:
    rel = os.path.relpath(directory, h.directory)
    mount_root = h.mount_root.rstrip("/")
    return (mount_root + "/" + rel if rel != "." else mount_root) or "/"


# -- the public calls ------------------------------------------------------------------------


def memory_cgroups(root: Union[Root, str, None] = None, *, vanished: Optional[List[str]] = None,
                   brief: bool = False, names: Optional[Names] = None) -> List[MemoryCgroup]:
    """Every memory cgroup, parents before children.  A cgroup removed while it is read
    (its files then fail with ENOENT or ENODEV) is skipped, as a process that exits during
    a scan is; its path is added to ``vanished`` when a list is given.  ``brief``: the
    peak, failcnt, memory.low and memory.events.local fields are None, unread (the exporter
    shows none of them: 2 or 3 files fewer a cgroup).  ``names``: the pods' and containers'
    names (workloads.read_names(root) when None; workloads.EMPTY: none but the paths').
    Raises NotAvailable when no memory controller is mounted under the root."""
    r = as_root(root)
    h = memory_hierarchy(r)
    if h is None:
        raise NotAvailable("no memory cgroup hierarchy is mounted", path=r.sys("fs", "cgroup"))
    names = read_names(r) if names is None else names
    swap, always_hierarchical = _reading(r, brief)
    found: List[MemoryCgroup] = []
    mount_root = h.mount_root.rstrip("/")
    # (directory, its path, the counters of every cgroup above it from the top), parents
    # before children, each level in name order
    todo: List[Tuple[str, str, List[_Counters]]] = [(h.directory, mount_root or "/", [])]
    while todo:
        directory, path, above = todo.pop()
        try:
            own = _Counters(h, path, directory, swap, always_hierarchical)
            group = _read(h, own, directory, above, names, brief, swap)
        except OomutilError as err:
            # ENODEV: the cgroup went offline while its file was read (it is being removed;
            # one of the same name may already stand in its place, so isdir() cannot tell)
            cause = err.__cause__
            if not (isinstance(cause, OSError) and cause.errno == errno.ENODEV) and os.path.isdir(directory):
                raise
            group = None
        if group is None or not os.path.isdir(directory):  # removed while read: what was read is of no cgroup
            if vanished is not None:
                vanished.append(path)
            continue  # and everything below it, gone with it
        try:
            children = sorted(e.name for e in os.scandir(directory) if e.is_dir(follow_symlinks=False))
        except OSError:  # as os.walk(): a directory that cannot be listed shows no children
            children = []
        found.append(group)
        chain = [*above, own]
        prefix = path.rstrip("/") + "/"
        todo.extend((os.path.join(directory, name), prefix + name, chain) for name in reversed(children))
    return found


def _reading(r: Root, brief: bool) -> Tuple[bool, bool]:
    """(whether to read the v1 memory + swap counters and swappiness, whether use_hierarchy
    is 1 whatever the file says).  Brief, on a machine without swap, the swap files are
    left unread: they decide nothing there (memcg_v1.read_counters()).  Since 5.11
    (bef8620cd8e0) the kernel ignores use_hierarchy: always 1, a write of 0 fails."""
    try:
        swap = not brief or read_meminfo(r).swap_total_bytes != 0
    except OomutilError:  # meminfo cannot tell: read them
        swap = True
    try:
        always_hierarchical = kernel_version(read_kernel_release(r)) >= (5, 11, 0)
    except OomutilError:  # no release in the tree: the file says
        always_hierarchical = False
    return swap, always_hierarchical


def memory_cgroup(path: str, root: Union[Root, str, None] = None, *, names: Optional[Names] = None) -> MemoryCgroup:
    """The memory cgroup at ``path`` ("/system.slice/x.service"); ``names`` as
    memory_cgroups().  Raises NotAvailable when there is no memory hierarchy or no such cgroup."""
    r = as_root(root)
    h = memory_hierarchy(r)
    if h is None:
        raise NotAvailable("no memory cgroup hierarchy is mounted", path=r.sys("fs", "cgroup"))
    directory = _directory(h, "/" + "/".join(p for p in path.split("/") if p))
    if directory is None or not os.path.isdir(directory):
        raise NotAvailable(f"no memory cgroup {path}", path=directory or h.directory)
    path = _path_of(h, directory)  # one spelling: "/a/b", whatever the caller wrote
    swap, always_hierarchical = _reading(r, False)
    # the ancestors, from the top of the hierarchy down to the parent
    ancestors = []
    d = directory
    while d != h.directory:
        d = os.path.dirname(d)
        ancestors.append(_Counters(h, _path_of(h, d), d, swap, always_hierarchical))
    return _read(h, _Counters(h, path, directory, swap, always_hierarchical), directory, ancestors[::-1],
                 read_names(r) if names is None else names)


def resolve_cgroup(text: str, root: Union[Root, str, None] = None, *, names: Optional[Names] = None) -> str:
    """The cgroup path (as /proc/PID/cgroup shows it) of what a user typed: that path; the
    directory of a mounted memory hierarchy (/sys/fs/cgroup/memory/app -> /app, as ls and
    systemd-cgls show it); or a name as ``oomutil cgroups`` prints it ("sshd.service",
    "docker 1a2b3c4d5e6f", "shop/web-7d9f8-abcde/nginx", a pod's "shop/web-7d9f8-abcde",
    the last component) where one cgroup has it (``names`` as memory_cgroups()).  Raises
    InvalidValue for an empty or ambiguous text, NotAvailable for a name nothing has."""
    r = as_root(root)
    text = text.strip()
    if not text:
        raise InvalidValue("an empty cgroup: give its path as /proc/PID/cgroup shows it, e.g. /system.slice/sshd.service")
    if text.startswith("/"):
        h = memory_hierarchy(r)
        if h is not None:  # the path of a directory, on this machine or inside the root
            for candidate in (os.path.normpath(text), os.path.normpath(r.path.rstrip("/") + text)):
                if candidate == h.directory or candidate.startswith(h.directory.rstrip("/") + "/"):
                    return _path_of(h, candidate)
        return os.path.normpath(text) if text != "/" else "/"
    matches = sorted(g.path for g in memory_cgroups(r, names=names) if text in (
        g.name, os.path.basename(g.path), f"{g.namespace}/{g.pod}" if g.pod and not g.container_id else None))
    if len(matches) == 1:
        return matches[0]
    if not matches and "/" in text:  # a path without its leading slash
        return os.path.normpath("/" + text)
    if not matches:
        raise NotAvailable(f"no memory cgroup is named {text!r}; give its path, as /proc/PID/cgroup or "
                           "`oomutil cgroups --all` show it")
    raise InvalidValue(f"{text!r} names {len(matches)} memory cgroups ({', '.join(matches[:4])}"
                       f"{', ...' if len(matches) > 4 else ''}): give its path")


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



def memory_cgroup_of(process: Process) -> Optional[MemoryCgroup]:
    """The memory cgroup ``process`` is charged to, with its limits and counters; None
    without a memory controller or outside this view.  (The model offers the path,
    Process.memory_cgroup_path(); the cgroup is this feature's.)"""
    return cgroup_or_none(process.memory_cgroup_path(), process.root)


def working_set_bytes(group: MemoryCgroup, root: Union[Root, str, None] = None, *,
                      hierarchy: Optional[Hierarchy] = None) -> Optional[int]:
    """The cgroup's usage minus its inactive page cache (memory.stat): the part of its usage
    that reclaim cannot simply drop before an OOM, what kubelet and cAdvisor call the
    working set.  The usage itself where memory.stat cannot be read; None without usage.
    ``hierarchy``: memory_hierarchy(root), when the caller has it already."""
    if group.usage_bytes is None:
        return None
    h = hierarchy or memory_hierarchy(root)
    directory = _directory(h, group.path) if h is not None else None
    try:
        inactive = read_inactive_file_bytes(directory, group.version) if directory else None
    except OomutilError:  # removed since it was read (ENODEV: gone offline): its usage stands
        inactive = None
    return group.usage_bytes - min(inactive or 0, group.usage_bytes)
