"""Every process ranked by what the OOM killer would do: ``snapshot()`` and ``top()``.

Cost model (measured per process on the project's machine, in microseconds): open the
pid directory 4.1, oom_score 6.1, oom_score_adj 2.6, comm 4.0, status 11.0, cgroup ~3,
cmdline 5.5; parsing status in Python ~15.  So a ranking with a limit works in two
steps.  First every process is ranked by the one file its sort key needs, read by path
(one open per process).  Then, in that order, each candidate's directory is opened and
everything else is read through it, until ``limit`` rows pass the filters.

An open pid directory pins one incarnation of a process: reads through it fail with
ESRCH once that process is gone, even if its pid is reused.  So each record comes from
a single process, a candidate gone by then is simply passed over (the next one takes
its row), and the rows are put in order again on the values they show.
"""

from __future__ import annotations

import os
from ._record import Record
TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows the start
    from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, TypeVar, Union

    from .workloads import Names
    T = TypeVar("T")
    Filter = Callable[["_Task"], bool]

from . import _fs
from .errors import AccessDenied, InvalidValue, NoSuchProcess, NotAvailable
from .badness import (choice_key, era_of, last_scanned_wins, oom_badness, points_pages, root_bonus_applies,
                      unkillable_reason)
from .cgroup_names import group_key, within
from .procfs.cgroup import parse_memory_cgroup
from .procfs.meminfo import read_totalpages
from .procfs.pagesize import read_page_size
from .procfs.pid import PidStatus, parse_stat, parse_status, parse_uid_map, read_pid1_is_global_init
from .procfs.piddir import PidDir
from .procfs.sysctl import read_kernel_release
from .root import Root, as_root
from .users import user_name
from .workloads import EMPTY, NO_WORKLOAD, shown_name

__all__ = ["ProcessRecord", "ProcessGroup", "snapshot", "top", "memory_records", "start_times",
           "group_records",
           "SORT_KEYS", "GROUP_KEYS"]



class ProcessRecord(Record):
    """One process as ``oomutil top`` shows it.  None: not readable here.

    The fields come from one incarnation of the process (one open pid directory).
    """

    pid: int
    comm: Optional[str]  # status Name: (control characters escaped by the kernel)
    uid: Optional[int]  # real uid (status Uid:)
    user: Optional[str]  # its name in the root's user database
    oom_score: Optional[int]  # /proc/PID/oom_score
    oom_score_adj: Optional[int]  # /proc/PID/oom_score_adj
    rss_bytes: Optional[int]  # VmRSS: resident anon + file + shmem
    swap_bytes: Optional[int]  # VmSwap:
    pgtables_bytes: Optional[int]  # VmPTE:
    cgroup: Optional[str]  # memory cgroup path (v1 memory hierarchy, else cgroup2)
    killable: Optional[bool]  # False: the kernel never picks it (see unkillable_reason)
    unkillable_reason: Optional[str]  # "kernel thread", "global init", "zombie", ...
    start_time_ticks: Optional[int]  # stat field 22: the kernel scans in fork order, and
    #                                  among equal badness this decides (see badness.py)
    points_pages: Optional[int]  # what oom_badness() counts before oom_score_adj, as this
    #                              kernel counts it: rss + swap + page tables, in pages
    root_bonus: Optional[bool]  # CAP_SYS_ADMIN bonus (kernels before 4.17 only)
    badness_pages: Optional[int]  # oom_badness() in a system-wide OOM on this kernel: the
    #                               number the kernel compares (oom_score is it, rounded);
    #                               None: not a candidate, or the kernel is not known
    cmdline: Optional[str] = None  # only when asked for: arguments joined by spaces


def _parse_cmdline(data: bytes) -> str:
    return _fs.decode(data.rstrip(b"\0").replace(b"\0", b" "))


class _Task:
    """One process, pinned by its open directory; each of its files read at most once.

    A file that cannot be read here (permission, absent in a tree) reads as None;
    NoSuchProcess (the process is gone) propagates and the scan passes the process over.
    A full scan builds 10,000 of these: methods read what they need straight from the
    PidDir's cache, one call deep.
    """

    __slots__ = ("pid", "dir", "scan", "_badness", "_reason")

    def __init__(self, pid: int, scan: "_Scan") -> None:
        self.pid, self.scan = pid, scan
        self._badness: Optional[tuple] = None
        self._reason: Optional[tuple] = None
        # hidepid=noaccess: a directory we may not open reads as None throughout
        self.dir = PidDir(scan.root, pid, verify=False, proc_fd=scan.proc_fd, denied_ok=True)

    def close(self) -> None:
        self.dir.close()

    def read(self, name: str, parse: Callable[[bytes], T]) -> Optional[T]:
        return self.dir.get(name, parse)

    def score(self) -> Optional[int]:
        return self.dir.get("oom_score", _fs.parse_int)

    def adj(self) -> Optional[int]:
        return self.dir.get("oom_score_adj", _fs.parse_int)

    def status(self) -> Optional[PidStatus]:
        """status as the OOM killer sees the process (PidDir.mm())."""
        return self.dir.mm()[0]

    def cgroup(self) -> Optional[str]:
        return self.dir.get(self.dir.cgroup_file(), parse_memory_cgroup)

    def start_time(self) -> Optional[int]:
        stat = self.dir.get("stat", parse_stat)
        return None if stat is None else stat.start_time_ticks

    def badness(self) -> tuple:
        """(points, root bonus, system-wide badness) with this kernel's arithmetic; Nones
        where the process is not a candidate or the kernel is unknown."""
        if self._badness is None:
            self._badness = self._compute_badness()
        return self._badness

    def _compute_badness(self) -> tuple:
        return _badness(self.scan.kernel(), self.status(), self.adj(), self.reason(),
                        lambda: self.dir.get("uid_map", parse_uid_map))

    def kernel_order(self) -> tuple:
        """Where the kernel's choice puts this process among those of equal oom_score:
        candidates by badness, then by scan order; the others after them."""
        badness = self.badness()[2]
        kernel = self.scan.kernel()
        if badness is None or kernel is None:
            return (1, 0, 0, -self.pid)
        return (0, *choice_key(badness, self.start_time(), self.pid, kernel[3]))

    def user(self) -> Optional[str]:
        status = self.status()
        return user_name(self.scan.root, status.uids[0]) if status else None

    def comm(self) -> Optional[str]:
        return self.dir.comm()

    def is_kernel_thread(self) -> bool:
        """Cheapest first.  A kernel thread always reads oom_score 0 (oom_badness()
        returns LONG_MIN for it), so any other score settles it; else the PF_KTHREAD
        flag of stat, exact on every kernel and cheaper than status."""
        status = self.dir.cached("status")
        if isinstance(status, PidStatus):
            return status.is_kernel_thread
        if self.score():
            return False
        stat = self.dir.get("stat", parse_stat)
        return stat is not None and stat.is_kernel_thread

    def reason(self) -> Optional[str]:
        if self._reason is None:
            status = self.status()
            self._reason = (None if status is None else
                            unkillable_reason(self.pid, status, self.adj(), self.scan.global_init()),)
        return self._reason[0]

    def record(self, cmdline: bool) -> ProcessRecord:
        status = self.status()
        reason = self.reason()
        points, bonus, badness = self.badness()
        if status is None:
            uid = rss = swap = pgtables = None
        else:
            uid = status.uids[0]
            rss, swap, pgtables = status.memory_bytes()
        return ProcessRecord(  # positional, in field order: 10,000 of these per full scan
            self.pid, self.comm(), uid, self.user(), self.score(), self.adj(), rss, swap, pgtables,
            self.cgroup(), None if status is None else reason is None, reason, self.start_time(),
            points, bonus, badness, self.dir.get("cmdline", _parse_cmdline) if cmdline else None,
        )


def _badness(kernel: Optional[tuple], status: Optional[PidStatus], adj: Optional[int], reason: Optional[str],
             uid_map: Callable[[], Optional[bool]]) -> tuple:
    """(points, root bonus, system-wide badness) of a process with this kernel's arithmetic;
    Nones where it is not a candidate or the kernel is unknown.  ``uid_map`` reads whether
    it runs in the initial user namespace, asked only where the era has the root bonus."""
    if kernel is None or status is None or adj is None:
        return None, None, None
    era, totalpages, page_size = kernel[:3]
    rss, swap, pgtables = status.memory_bytes()
    points = points_pages(rss, swap or 0, pgtables or 0, page_size, era, status.pmd_bytes or 0)
    bonus = root_bonus_applies(era, status.cap_eff, uid_map)
    if reason is not None:
        return points, bonus, None
    return points, bonus, oom_badness(points, adj, totalpages, era, bonus)


def _leaderless_status(scan: "_Scan", pid: int, status: PidStatus) -> PidStatus:
    """status of a process whose leader exited, with a live thread's memory (rare: only
    such a leader has no Vm* lines and more than one thread)."""
    task = _Task(pid, scan)
    try:
        return task.status() or status
    finally:
        task.close()


class _Scan:
    """State shared by the tasks of one pass over proc/."""

    def __init__(self, root: Root) -> None:
        self.root = root
        path = root.proc()
        try:
            self.proc_fd = os.open(path, _fs.O_DIR)
        except OSError as err:
            raise _fs.map_os_error(err, path) from err
        self._global_init: Optional[bool] = None
        self._kernel: Optional[tuple] = None

    def kernel(self) -> Optional[tuple]:
        """(era, RAM + swap in pages, page size, last scanned wins on ties) of the root's
        kernel, read once; None where the tree lacks its release or meminfo, or the
        kernel predates every formula."""
        if self._kernel is None:
            try:
                release = read_kernel_release(self.root)
                page_size = read_page_size(self.root)
                self._kernel = (era_of(release), read_totalpages(self.root, page_size), page_size,
                                last_scanned_wins(release))
            except (NotAvailable, AccessDenied, InvalidValue):
                self._kernel = ()
        return self._kernel or None

    def pids(self) -> List[int]:
        return [int(name) for name in os.listdir(self.proc_fd) if name.isdigit()]

    def kernel_thread_by_path(self, pid: int) -> bool:
        """Is ``pid`` a kernel thread (stat read by path: 3 syscalls where a pinned task
        costs 8)?  For the many kernel threads a ranking by oom_score meets at its end
        (they all read 0).  False when that cannot be read: the task then decides."""
        try:
            return _fs.read_parsed(f"{pid}/stat", parse_stat, dir_fd=self.proc_fd, pid=pid).is_kernel_thread
        except (AccessDenied, NotAvailable, NoSuchProcess):
            return False

    def global_init(self) -> bool:
        if self._global_init is None:
            self._global_init = read_pid1_is_global_init(self.root)
        return self._global_init

    def close(self) -> None:
        os.close(self.proc_fd)


# -- sorting ---------------------------------------------------------------------------


class _Descending:
    """Wraps a value so that larger values sort first (strings cannot be negated)."""

    __slots__ = ("value",)

    def __init__(self, value) -> None:
        self.value = value

    def __lt__(self, other: "_Descending") -> bool:
        return other.value < self.value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Descending) and other.value == self.value

    def __hash__(self) -> int:
        return hash(self.value)


class _SortKey:
    """What a sort key reads (one file of the pid directory), the value it takes from
    it, and its order.  None sorts after every value in either direction; ties go to
    the higher pid (since 5.9 the kernel keeps the last of equal scores it scans,
    roughly the newest process)."""

    def __init__(self, file: Optional[str], parse, extract, descending: bool, numeric: bool,
                 kernel_ties: bool = False) -> None:
        self.file, self.parse, self.extract = file, parse, extract
        self.descending, self.numeric = descending, numeric
        # oom_score is coarse (one point is 0.15 % of RAM + swap): its ties are ordered as
        # the kernel chooses, by badness and scan order (Task.kernel_order())
        self.kernel_ties = kernel_ties
        self.ranked_values: Dict[int, Any] = {}  # pid -> value, from ranked()

    def ranked(self, scan: "_Scan", pids: List[int]) -> List[int]:
        """``pids`` best first, by this key read by path: one open per process, the
        least a ranking of every process can cost.  Unreadable values sort last."""
        values = self.ranked_values
        if self.file is None:
            values.update(zip(pids, pids))
        else:
            read, parse, extract = _fs.read_parsed, self.parse, self.extract
            fd, root, suffix = scan.proc_fd, scan.root, "/" + self.file
            for pid in pids:
                try:
                    value = read(f"{pid}{suffix}", parse, dir_fd=fd, pid=pid)
                    if parse is parse_status and value.rss_bytes is None and (value.threads or 0) > 1:
                        value = _leaderless_status(scan, pid, value)
                    if extract is not None:
                        value = extract(value, root)
                except (AccessDenied, NotAvailable):
                    value = None
                except NoSuchProcess:  # exited between its open and its read
                    continue
                values[pid] = value
        # order() as two stable sorts of plain values (10,000 tuples sort several times
        # slower): ties keep the higher pid first, and None goes last either way.
        known = sorted((pid for pid, value in values.items() if value is not None), reverse=True)
        known.sort(key=values.__getitem__, reverse=self.descending)
        return known + sorted((pid for pid, value in values.items() if value is None), reverse=True)

    def of(self, task: _Task):
        """The value for a task, from what it has read (through its pinned fd)."""
        if self.file is None:
            return task.pid
        parsed = task.status() if self.parse is parse_status else task.read(self.file, self.parse)
        if parsed is None or self.extract is None:
            return parsed
        return self.extract(parsed, task.scan.root)

    def row_order(self, task: _Task) -> tuple:
        """The order of a row read in full: order() plus, for oom_score, the kernel's."""
        value = self.of(task)
        if not self.kernel_ties or value is None:
            return self.order(value, task.pid)
        tie = task.kernel_order()
        if not self.descending:
            tie = tuple(-x for x in tie)
        return (0, -value if self.descending else value, tie)

    def order(self, value, pid: int) -> tuple:
        if value is None:
            return (1, 0, -pid)
        if self.descending:
            value = -value if self.numeric else _Descending(value)
        return (0, value, -pid)


# name: (file, parse, value from the parsed file (None: the parsed value), larger first?, numeric?)
SORT_KEYS: Dict[str, tuple] = {
    "score": ("oom_score", _fs.parse_int, None, True, True),
    "adj": ("oom_score_adj", _fs.parse_int, None, True, True),
    "rss": ("status", parse_status, lambda s, root: s.memory_bytes()[0], True, True),
    "swap": ("status", parse_status, lambda s, root: s.memory_bytes()[1], True, True),
    "pid": (None, None, None, False, True),
    "user": ("status", parse_status, lambda s, root: user_name(root, s.uids[0]), False, False),
    "name": ("status", parse_status, lambda s, root: s.name, False, False),
}


def _sort_key(name: str, reverse: bool) -> _SortKey:
    if name not in SORT_KEYS:
        raise InvalidValue(f"unknown sort key {name!r}; valid: {', '.join(SORT_KEYS)}")
    file, parse, extract, descending, numeric = SORT_KEYS[name]
    return _SortKey(file, parse, extract, descending != reverse, numeric, kernel_ties=name == "score")


# -- the public calls ------------------------------------------------------------------



def _uid_and_user(task: _Task) -> set:
    status = task.status()
    return set() if status is None else {str(status.uids[0]), task.user()}


def _filters(
    users: Optional[Sequence[Union[int, str]]],
    name: Optional[Callable[[str], object]],
    cgroup_prefix: Optional[str],
    killable: bool,
) -> List[Filter]:
    """The checks the caller asked for; each reads only what it tests."""
    checks: List[Filter] = []
    if users is not None:
        wanted = {str(u) for u in users}
        checks.append(lambda t: bool(_uid_and_user(t) & wanted))
    if name is not None:
        checks.append(lambda t: bool(name(t.comm() or "")))
    if cgroup_prefix is not None:
        checks.append(lambda t: within(t.cgroup(), cgroup_prefix))
    if killable:
        checks.append(lambda t: t.status() is not None and t.reason() is None)
    return checks


def top(
    root: Union[Root, str, None] = None,
    *,
    sort: str = "score",
    reverse: bool = False,
    limit: Optional[int] = None,
    pids: Optional[Iterable[int]] = None,
    users: Optional[Sequence[Union[int, str]]] = None,
    name: Optional[Callable[[str], object]] = None,
    cgroup_prefix: Optional[str] = None,
    killable: bool = False,
    kernel_threads: bool = False,
    cmdline: bool = False,
) -> List[ProcessRecord]:
    """Processes ranked by ``sort`` (default: oom_score, most likely victim first).

    Args:
        sort: one of SORT_KEYS; ``reverse`` flips the order.
        limit: at most this many records (None: all).
        pids, users (names or uids), name (a predicate on comm, e.g. ``re.compile(..).search``),
        cgroup_prefix, killable: filters; kernel_threads: include kernel threads.
        cmdline: also read each shown process's command line.

    Processes that exit during the scan are left out; fields that cannot be read
    (permissions, hidepid, a file the kernel or a tree lacks) are None.
    """
    key = _sort_key(sort, reverse)
    checks = _filters(users, name, cgroup_prefix, killable)
    if not kernel_threads:
        checks.insert(0, lambda t: not t.is_kernel_thread())
    scan = _Scan(as_root(root))
    try:
        wanted = set(pids) if pids is not None else None
        candidates = [p for p in scan.pids() if wanted is None or p in wanted]
        if limit is not None:
            # Rank every pid by the one file the key needs; read the rest in order only
            # until ``limit`` rows pass the checks.
            candidates = key.ranked(scan, candidates)
        skip = None
        if not kernel_threads and limit is not None and key.file == "oom_score":
            # a kernel thread reads oom_score 0: only those need the check, by path
            values = key.ranked_values
            skip = lambda pid: values.get(pid) == 0 and scan.kernel_thread_by_path(pid)  # noqa: E731
        return _records(scan, candidates, key, checks, limit, cmdline, skip)
    finally:
        scan.close()


def snapshot(
    root: Union[Root, str, None] = None, *, kernel_threads: bool = True, cmdline: bool = False
) -> List[ProcessRecord]:
    """One record per process, in pid order (kernel threads too unless told otherwise)."""
    return top(root, sort="pid", kernel_threads=kernel_threads, cmdline=cmdline)


def memory_records(root: Union[Root, str, None] = None) -> List[ProcessRecord]:
    """One record per process but kernel threads, from the two files the OOM killer's
    arithmetic needs, read by path (two opens a process, the least a ranking of every
    process's memory can cost): memory, oom_score_adj, killability and badness.  oom_score,
    user, cgroup and start time are None: the exporter reads oom_score for the few it
    shows, and places each process by cgroup.procs (victim.DomainIndex).  In pid order;
    a process that exits meanwhile is left out."""
    scan = _Scan(as_root(root))
    read, fd, kernel = _fs.read_parsed, scan.proc_fd, scan.kernel()
    found = []
    try:
        for pid in sorted(scan.pids()):
            try:
                status: Optional[PidStatus] = read(f"{pid}/status", parse_status, dir_fd=fd, pid=pid)
                if status.rss_bytes is None and (status.threads or 0) > 1:  # type: ignore[union-attr]
                    status = _leaderless_status(scan, pid, status)  # type: ignore[arg-type]
                if status.is_kernel_thread:  # type: ignore[union-attr]
                    continue
                adj: Optional[int] = read(f"{pid}/oom_score_adj", _fs.parse_int, dir_fd=fd, pid=pid)
            except NoSuchProcess:
                continue
            except (AccessDenied, NotAvailable):  # hidepid=noaccess, a tree without the file
                status = adj = None
            reason = None if status is None else unkillable_reason(pid, status, adj, scan.global_init())
            points, bonus, badness = _badness(kernel, status, adj, reason, lambda: _fs.none_if_unreadable(
                read, f"{pid}/uid_map", parse_uid_map, dir_fd=fd, pid=pid))
            rss, swap, pgtables = status.memory_bytes() if status is not None else (None, None, None)
            found.append(ProcessRecord(
                pid, None if status is None else status.name, None if status is None else status.uids[0], None,
                None, adj, rss, swap, pgtables, None, None if status is None else reason is None, reason, None,
                points, bonus, badness))
        return found
    finally:
        scan.close()


def start_times(root: Union[Root, str, None], pids: Iterable[int]) -> Dict[int, Optional[int]]:
    """pid -> start time (stat field 22, clock ticks after boot; None where unreadable) of
    these processes: what breaks a tie in the kernel's scan order."""
    r = as_root(root)
    times: Dict[int, Optional[int]] = {}
    for pid in pids:
        try:
            times[pid] = _fs.read_parsed(r.proc(pid, "stat"), parse_stat, pid=pid).start_time_ticks
        except (AccessDenied, NotAvailable, NoSuchProcess):
            times[pid] = None
    return times


def oom_score_adj_by_pid(root: Union[Root, str, None] = None) -> Dict[int, Optional[int]]:
    """pid -> oom_score_adj of every process (None where it cannot be read): one read by
    path per process, nothing else."""
    key = _sort_key("adj", False)
    scan = _Scan(as_root(root))
    try:
        key.ranked(scan, scan.pids())
        return dict(key.ranked_values)
    finally:
        scan.close()


def _records(scan: _Scan, pids: List[int], key: _SortKey, checks: List[Filter], limit: Optional[int],
             cmdline: bool, skip: Optional[Callable[[int], bool]] = None) -> List[ProcessRecord]:
    """Records of the first ``limit`` pids that pass the checks, in ``key`` order.

    Each is read through its pinned directory, afresh: a process gone since it was
    ranked is skipped (the next one takes its row), and the rows are ordered again on
    the values they show.
    """
    rows: List[tuple] = []
    cut = None  # the ranked value of the last row within the limit
    for pid in pids:
        if limit is not None and len(rows) >= limit:
            # oom_score ties at the cut are read too: the kernel's order among them
            # decides which make the table
            if not key.kernel_ties or key.ranked_values.get(pid, cut) != cut or cut is None:
                break
        if skip is not None and skip(pid):
            continue
        try:
            task = _Task(pid, scan)
        except NoSuchProcess:
            continue
        try:
            if all(check(task) for check in checks):
                rows.append((key.row_order(task), task.record(cmdline)))
                if limit is not None and len(rows) == limit:
                    cut = key.ranked_values.get(pid)
        except NoSuchProcess:
            continue
        finally:
            task.close()
    rows.sort(key=lambda row: row[0])
    return [record for _, record in rows[:limit]]


class ProcessGroup(Record):
    """Processes that share a comm, a user or a cgroup (``top --group-by``)."""

    group: Optional[str]
    processes: int
    rss_bytes: int
    swap_bytes: int
    max_oom_score: Optional[int]
    top_pid: int  # the group's most likely victim
    # grouped by pod or container: whose it is (docs/kubernetes.md), None where unknown
    pod_uid: Optional[str] = None
    container_id: Optional[str] = None
    namespace: Optional[str] = None
    pod: Optional[str] = None
    container: Optional[str] = None


GROUP_KEYS = ("comm", "user", "cgroup", "unit", "container", "pod")


def group_records(records: Iterable[ProcessRecord], by: str, names: Optional[Names] = None) -> List[ProcessGroup]:
    """Group by one of GROUP_KEYS ("unit", "container", "pod" come from the cgroup path:
    processes outside any form one group, None); the group with the highest score first.
    By pod or container, a group is named from ``names`` (workloads.read_names() of the
    records' root; None: none) as "namespace/pod[/container]" where they know it, by its
    UID or id (12 characters) otherwise."""
    if by not in GROUP_KEYS:
        raise InvalidValue(f"cannot group by {by!r}; valid: {', '.join(GROUP_KEYS)}")
    members: Dict[Optional[str], List[ProcessRecord]] = {}
    cgroup_of: Dict[Optional[str], Optional[str]] = {}  # a group's key -> a member's cgroup path
    for r in records:
        if by in ("unit", "container", "pod"):
            name = group_key(r.cgroup, by)
        else:
            name = getattr(r, by)
        if by == "user" and name is None and r.uid is not None:
            name = str(r.uid)
        members.setdefault(name, []).append(r)
        cgroup_of.setdefault(name, r.cgroup)
    groups = []
    for name, rs in members.items():
        work = NO_WORKLOAD
        if by in ("container", "pod") and name is not None:
            work = (names if names is not None else EMPTY).workload(cgroup_of[name])
            if by == "pod":
                work = work._replace(container_id=None, container=None)
            if work.pod:
                name = f"{work.namespace}/{work.pod}" + (f"/{work.container or name}" if by == "container" else "")
            elif work.container:  # "docker redis-cache", as every command names it
                name = shown_name(cgroup_of[name], work)
        best = min(rs, key=lambda r: (r.oom_score is None, -(r.oom_score or 0), r.badness_pages is None,
                                      -(r.badness_pages or 0), -r.pid))
        groups.append(ProcessGroup(
            group=name,
            processes=len(rs),
            rss_bytes=sum(r.rss_bytes or 0 for r in rs),
            swap_bytes=sum(r.swap_bytes or 0 for r in rs),
            max_oom_score=best.oom_score,
            top_pid=best.pid,
            **work._asdict(),
        ))
    groups.sort(key=lambda g: (g.max_oom_score is None, -(g.max_oom_score or 0), -(g.rss_bytes + g.swap_bytes)))
    return groups
