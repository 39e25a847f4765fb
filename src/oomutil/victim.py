"""Who the OOM killer would take now: for a system-wide OOM, or for one memory cgroup's.

The kernel scores every candidate with oom_badness() against ``totalpages`` and kills
the highest (mm/oom_kill.c select_bad_process(); for a cgroup, mem_cgroup_scan_tasks()
over the cgroup's subtree).  totalpages is RAM + swap system-wide, and for a cgroup
mem_cgroup_get_max(): its limit plus the swap it may use, so oom_score_adj weighs in
proportion to the cgroup, not the machine.  What-ifs change one process's adj or size.
"""

from __future__ import annotations

import os
from ._record import Record

from .badness import (ADJ_MIN_REASON, OOM_SCORE_ADJ_MAX, OOM_SCORE_ADJ_MIN, adj_to_rank, choice_key,
                      counter_drift_pages, era_of, last_scanned_wins, oom_badness, pages_per_unit,
                      points_pages)
from .cgroups import memory_cgroup, memory_cgroups
from .workloads import EMPTY, NO_WORKLOAD, read_names
from ._fs import none_if_unreadable
from .cgroup_names import within
from .errors import InvalidValue, NoSuchProcess, NotAvailable
from .process import Process
from .procfs.meminfo import read_meminfo, read_totalpages
from .procfs.pagesize import read_page_size
from .procfs.sysctl import read_kernel_release, read_swappiness
from .rank import snapshot
from .root import Root, as_root
from .sysfs.cpu import read_online_cpus
from .visibility import View, hidden_from_us, never_a_candidate, view

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows the start
    from typing import Callable, Dict, Iterable, List, Optional, Tuple, Union

    from .cgroups import MemoryCgroup
    from .rank import ProcessRecord
    from .workloads import Names, Workload

__all__ = ["Candidate", "VictimReport", "predict", "cgroup_report", "DomainIndex", "adj_to_be"]


class Candidate(Record):
    pid: int
    comm: Optional[str]
    oom_score_adj: int
    rss_bytes: int
    swap_bytes: int
    pgtables_bytes: int
    points_pages: int  # what oom_badness() counts before the adjustment (rss + swap + page tables)
    badness_pages: int  # oom_badness() in this OOM: points + adj * (totalpages / 1000), with the
    #                     kernel era's rules (clamped to 1 before 5.9; per mille before 3.5)
    start_time_ticks: Optional[int]  # the scan runs in fork order: it breaks ties
    root_bonus: bool  # CAP_SYS_ADMIN bonus (kernels before 4.17)


class VictimReport(Record):
    scope: str  # the OOM's domain as the kernel spells it: "/" (the root cgroup) for a
    #             system-wide OOM, else the path of the memory cgroup whose limit is hit
    era: str  # the kernel's badness formula (badness.ERAS)
    totalpages: int  # what oom_score_adj is scaled by: RAM + swap, or the cgroup's limit + swap
    page_size: int
    victim: Optional[Candidate]  # None: nothing killable (the kernel would panic or fail), or
    #                              oom_kill_disabled
    margin_bytes: Optional[int]  # how far the victim is ahead of the runner-up
    tied: List[int]  # pids whose badness equals the victim's (victim first): the kernel takes
    #                  the one it scans last (5.3+) or first (before): system-wide in fork
    #                  order, in a cgroup OOM cgroup by cgroup in the order tasks joined;
    #                  start time and pid only approximate either; empty when no tie
    last_scanned_wins: bool  # among equal badness the kernel takes the task it scans last (5.3+)
    drift_pages: int  # how far the kernel's per-CPU RSS counters may be from what /proc shows,
    #                   per process (see badness.counter_drift_pages); 0 on other kernels
    lead_within_drift: bool  # the victim's lead is smaller than that drift could close
    oom_kill_disabled: bool  # v1 memory.oom_control oom_kill_disable on the cgroup whose limit
    #                          is hit: the kernel kills nobody, the charging tasks wait
    group_kill: Optional[str]  # memory.oom.group: every process of this cgroup dies with it
    candidates: List[Candidate]  # in the order the kernel would choose them (the visible ones;
    #                              the first ``keep`` only where the caller said so)
    partial: bool  # some processes the kernel would choose among cannot be seen or read
    #                here (hidepid, a container's pid namespace): victim is then None
    best_visible: Optional[Candidate]  # the first candidate among those that can be seen
    hidden_processes: Optional[int]  # cgroup OOM: its processes that cannot be read here
    view: Optional[View]  # system-wide OOM: what this /proc shows of the kernel
    set_adj: Dict[int, int]  # what-if: these pids as if with this oom_score_adj
    grow_bytes: Dict[int, int]  # what-if: these pids as if using this much more memory
    not_candidates: List[int]  # pids of the what-ifs that are not candidates here
    processes: Optional[int] = None  # predict(): processes in the OOM's domain, killable or not,
    #                                  but the excluded ones (0: nobody to kill at all)
    excluded: Tuple[int, ...] = ()  # predict(): pids of ``exclude`` in the domain, left out
    # predict(): whose the scope's cgroup is (docs/kubernetes.md); None where unknown
    pod_uid: Optional[str] = None
    container_id: Optional[str] = None
    namespace: Optional[str] = None
    pod: Optional[str] = None
    container: Optional[str] = None
    victim_cgroup: Optional[str] = None  # predict(): the victim's memory cgroup
    victim_workload: Optional[Workload] = None  # predict(): whose it is; None without a victim


class Machine:
    """The facts of the root's kernel and memory that every ranking depends on: read once
    per command (``oomutil cgroups`` ranks every cgroup with one)."""

    def __init__(self, r: Root) -> None:
        self.page_size = read_page_size(r)
        m = none_if_unreadable(read_meminfo, r)
        self.swap_pages = (m.swap_total_bytes or 0) // self.page_size if m else 0
        try:
            release = read_kernel_release(r)
        except NotAvailable:  # a tree without its release: today's arithmetic
            self.era, self.last_wins, self.drift_pages = "5.9", True, 0
            return
        try:
            self.era = era_of(release)
        except InvalidValue as err:
            raise NotAvailable(err.msg, path=r.proc("sys", "kernel", "osrelease")) from err
        self.last_wins = last_scanned_wins(release)
        self.drift_pages = counter_drift_pages(release, read_online_cpus(r))


def predict(
    root: Union[Root, str, None] = None,
    cgroup: Optional[str] = None,
    set_adj: Optional[Dict[int, int]] = None,
    grow: Optional[Dict[int, int]] = None,
    exclude: Iterable[int] = (),
    names: Optional[Names] = None,
) -> VictimReport:
    """Rank the candidates of a system-wide OOM (``cgroup=None``) or of an OOM of the
    memory cgroup at ``cgroup`` (the cgroup on its path with the least room left: where a
    charge made in it fails).  ``set_adj`` {pid: adj} and ``grow`` {pid: bytes} are
    what-ifs; ``exclude``: pids that are no candidates (gone by then: the caller itself).
    The arithmetic and the order among equals are those of the root's kernel.  ``names``:
    who the scope's cgroup and the victim's are (workloads.read_names() of the root when
    None; workloads.EMPTY where they are not shown).

    Raises InvalidValue for a cgroup that nothing limits, or an adj outside -1000..1000.
    """
    r = as_root(root)
    records = snapshot(r, kernel_threads=False)
    if exclude:  # as a process that has given up its memory (exiting): read, never a candidate
        gone = set(exclude)
        records = [rec._replace(rss_bytes=None) if rec.pid in gone else rec for rec in records]
    if cgroup is None:
        # memory.oom.group counts in a system-wide OOM too: its domain is the root cgroup
        groups = none_if_unreadable(memory_cgroups, r, names=EMPTY) or []
        seen = view(r)
        unreadable = sum(1 for rec in records if rec.killable is None and not never_a_candidate(rec.pid, r))
        if unreadable > seen.processes_unreadable:  # the scan met more than the count did
            seen = seen._replace(processes_unreadable=unreadable, complete=False)
        report = system_report(r, records, groups, Machine(r), seen, set_adj, grow)
        inside = [rec.pid for rec in records]
    else:
        g = memory_cgroup(cgroup, r, names=EMPTY)
        if g.oom_scope is None:
            raise InvalidValue(f"cgroup {cgroup} has no memory limit, nor has any cgroup above it: "
                               "only a system-wide OOM can kill there")
        index = DomainIndex(memory_cgroups(r, names=EMPTY), records)
        sub = index.subtree(g.oom_scope)
        report = cgroup_report(r, g, sub, index.records(sub), set_adj, grow)
        inside = [rec.pid for rec in index.records(sub)]
    left_out = set(exclude)
    names = read_names(r) if names is None else names
    whose = NO_WORKLOAD if cgroup is None else names.workload(report.scope)
    victim_cgroup = None
    if report.victim is not None:  # gone meanwhile, or unreadable: no cgroup to tell
        victim_cgroup = none_if_unreadable(_cgroup_of, r, report.victim.pid)
    return report._replace(processes=sum(1 for pid in inside if pid not in left_out),
                           excluded=tuple(pid for pid in inside if pid in left_out), **whose._asdict(),
                           victim_cgroup=victim_cgroup,
                           victim_workload=names.workload(victim_cgroup) if victim_cgroup else None)


def _cgroup_of(r: Root, pid: int) -> Optional[str]:
    """The memory cgroup path of ``pid`` (the model's reader); None once it has exited."""
    try:
        return Process(pid, r).memory_cgroup_path()
    except NoSuchProcess:
        return None


def system_report(r: Root, records: List[ProcessRecord], groups: List[MemoryCgroup], machine: Machine,
                  seen: View, set_adj: Optional[Dict[int, int]] = None,
                  grow: Optional[Dict[int, int]] = None, keep: Optional[int] = None) -> VictimReport:
    """predict() for a system-wide OOM, from records already read.  ``keep``: only the
    first ``keep`` candidates are listed (the exporter shows no more)."""
    return _report(r, "/", read_totalpages(r, machine.page_size), records, None, groups,
                   set_adj or {}, grow or {}, False, not seen.complete, None, seen, machine, keep)


def cgroup_report(r: Root, group: MemoryCgroup, groups: List[MemoryCgroup], records: List[ProcessRecord],
                  set_adj: Optional[Dict[int, int]] = None, grow: Optional[Dict[int, int]] = None,
                  machine: Optional[Machine] = None, keep: Optional[int] = None) -> VictimReport:
    """predict() for a memory cgroup, from records and cgroups already read (``oomutil
    cgroups`` ranks every cgroup from one snapshot, with one Machine).  ``group.oom_scope``
    must be set; ``keep`` as in system_report()."""
    machine = machine or Machine(r)
    scope = group.oom_scope or group.path
    limited = group if scope == group.path else next((g for g in groups if g.path == scope), None)
    if limited is None:  # e.g. a directory the walk could not list
        raise NotAvailable(f"cgroup {scope}, whose limit applies to {group.path}, cannot be read")
    totalpages = _cgroup_totalpages(limited, machine.page_size, machine.swap_pages, r) or 1
    if limited.use_hierarchy is False:  # v1 before 5.11: the OOM scans its own tasks only
        subtree = [limited]
    else:
        subtree = [g for g in groups if within(g.path, scope)]
    paths = {g.path for g in subtree}
    pids = {pid for g in subtree for pid in (g.pids or ())}

    def member(rec: ProcessRecord) -> bool:
        # by the cgroup of the thread that holds the memory (a leader that exited stays
        # where it died, and cgroup.procs may not list it); cgroup.procs where unknown
        if rec.cgroup is None or rec.cgroup.startswith("/.."):
            return rec.pid in pids
        return rec.cgroup in paths

    # mem_cgroup_oom() -> memcg1_oom_prepare(): with oom_kill_disable set on the cgroup over
    # its limit, no task is killed; the charging task waits for memory (v1 only)
    disabled = limited.version == 1 and bool(limited.oom_kill_disable)
    hidden = _hidden_members(r, pids, records)
    return _report(r, scope, totalpages, records, member, subtree, set_adj or {}, grow or {}, disabled,
                   hidden > 0, hidden, None, machine, keep)


class DomainIndex:
    """Cgroups and process records read once, indexed so that the report of each OOM domain
    (``oomutil cgroups`` ranks every cgroup, the exporter every limited one) looks at its own
    subtree only: each cgroup_report() over all of them would cost cgroups x (cgroups +
    processes), 9 million steps on a node of 1,200 cgroups and 6,000 processes."""

    def __init__(self, groups: List[MemoryCgroup], records: Iterable[ProcessRecord] = ()) -> None:
        self._by_path = {g.path: g for g in groups}
        self._children: Dict[str, List[MemoryCgroup]] = {}
        for g in groups:
            if g.path != "/":
                self._children.setdefault(g.path.rsplit("/", 1)[0] or "/", []).append(g)
        self._home = {pid: g.path for g in groups for pid in (g.pids or ())}
        self._records: Dict[str, List[ProcessRecord]] = {}
        self.place(records)

    def place(self, records: Iterable[ProcessRecord]) -> None:
        """Index these records too: each goes with the cgroup of the thread that holds its
        memory; where that is unknown, with the cgroup whose cgroup.procs lists it (as
        cgroup_report()'s member())."""
        for rec in records:
            path = self._home.get(rec.pid) if rec.cgroup is None or rec.cgroup.startswith("/..") else rec.cgroup
            if path is not None:
                self._records.setdefault(path, []).append(rec)

    def subtree(self, path: str) -> List[MemoryCgroup]:
        """The cgroup at ``path`` and every one below it, parents first ([] if unknown)."""
        top = self._by_path.get(path)
        found, todo = [], [top] if top is not None else []
        while todo:
            g = todo.pop()
            found.append(g)
            todo.extend(reversed(self._children.get(g.path, ())))
        return found

    def records(self, groups: Iterable[MemoryCgroup]) -> List[ProcessRecord]:
        """The records of the processes in these cgroups."""
        return [rec for g in groups for rec in self._records.get(g.path, ())]

    def report(self, r: Root, group: MemoryCgroup, machine: Machine) -> VictimReport:
        """cgroup_report() of ``group`` (its ``oom_scope`` set) from its domain's part only."""
        sub = self.subtree(group.oom_scope or group.path)
        return cgroup_report(r, group, sub, self.records(sub), machine=machine)


def _hidden_members(r: Root, pids: set, records: List[ProcessRecord]) -> int:
    """The processes cgroup.procs lists that the snapshot could not read: listed in /proc
    but unreadable (hidepid=noaccess), or not listed while the process exists (hidepid=
    invisible).  One that exited in between is not hidden."""
    readable = {rec.pid for rec in records if rec.killable is not None}
    hidden = 0
    for pid in pids - readable:
        if os.path.isdir(r.proc(pid)) or hidden_from_us(pid, r):
            hidden += 1
    return hidden


def _report(r: Root, scope: str, totalpages: int, records: List[ProcessRecord],
            member: Optional[Callable[[ProcessRecord], bool]], subtree: List[MemoryCgroup],
            set_adj: Dict[int, int], grow: Dict[int, int], disabled: bool, partial: bool,
            hidden: Optional[int], seen: Optional[View], machine: Machine,
            keep: Optional[int] = None) -> VictimReport:
    """The ranking.  ``partial``: some processes of this OOM cannot be read here (``hidden``
    of them in a cgroup; ``seen`` says more system-wide): the report names no victim then,
    only the best visible candidate.  ``keep``: list the first ``keep`` candidates only
    (the exporter ranks 1,200 domains a scrape: a Candidate for each of their 30,000
    members would be most of the ranking's cost)."""
    for pid, wanted in set_adj.items():
        if not OOM_SCORE_ADJ_MIN <= wanted <= OOM_SCORE_ADJ_MAX:
            raise InvalidValue(f"pid {pid}: oom_score_adj {wanted} is outside -1000..1000")
    page_size, era, last_wins = machine.page_size, machine.era, machine.last_wins
    ranked = []  # (the kernel's order, the record, adj, extra bytes, points, badness, bonus)
    for rec in records:
        if (member is not None and not member(rec)) or rec.rss_bytes is None:
            continue
        if rec.killable is None or (not rec.killable and rec.unkillable_reason != ADJ_MIN_REASON):
            continue  # unreadable, or never a candidate whatever its adj
        adj = set_adj.get(rec.pid, rec.oom_score_adj)
        if adj is None or adj == OOM_SCORE_ADJ_MIN:
            continue
        extra = grow.get(rec.pid, 0)
        points = rec.points_pages
        if points is None:
            points = points_pages(rec.rss_bytes, rec.swap_bytes or 0, rec.pgtables_bytes or 0, page_size, era)
        points += extra // page_size
        bonus = bool(rec.root_bonus)
        badness = oom_badness(points, adj, totalpages, era, bonus)
        ranked.append((choice_key(badness, rec.start_time_ticks, rec.pid, last_wins), rec, adj, extra, points,
                       badness, bonus))
    ranked.sort(key=lambda row: row[0])
    best = ranked[0][5] if ranked else None
    tied = [row[1].pid for row in ranked if row[5] == best]
    candidates = [Candidate(rec.pid, rec.comm, adj, (rec.rss_bytes or 0) + extra, rec.swap_bytes or 0,
                            rec.pgtables_bytes or 0, points, badness, rec.start_time_ticks, bonus)
                  for _, rec, adj, extra, points, badness, bonus in ranked[:keep]]
    first = candidates[0] if candidates else None
    margin = lead = None
    if len(ranked) > 1:
        lead = ranked[0][5] - ranked[1][5]
        margin = lead * pages_per_unit(era, totalpages) * page_size
    group_kill = None
    if first is not None and subtree and not disabled:
        group_kill = _oom_group(subtree, ranked[0][1].cgroup, first.pid, scope)
    pids = {row[1].pid for row in ranked}
    missing = sorted(p for p in {*set_adj, *grow} if p not in pids)
    return VictimReport(
        scope=scope, era=machine.era, totalpages=totalpages, page_size=page_size,
        victim=None if disabled or partial else first, margin_bytes=margin, tied=tied if len(tied) > 1 else [],
        last_scanned_wins=machine.last_wins, drift_pages=machine.drift_pages,
        lead_within_drift=lead is not None and machine.drift_pages > 0 and lead < 2 * machine.drift_pages,
        oom_kill_disabled=disabled, group_kill=group_kill, candidates=candidates,
        set_adj=dict(set_adj), grow_bytes=dict(grow), not_candidates=missing, partial=partial,
        best_visible=first, hidden_processes=hidden, view=seen)


def _cgroup_totalpages(g: MemoryCgroup, page_size: int, swap_pages: int, root: Root) -> int:
    """mem_cgroup_get_max(): the limit, plus the swap the cgroup may use where the
    machine has swap and swappiness is not 0 (v2 memory.swap.max; v1 memsw - limit)."""
    limit_pages = (g.limit_bytes or 0) // page_size
    if swap_pages == 0:  # no swap: nothing more to read (a scrape ranks 1,200 cgroups)
        return limit_pages
    swappiness = g.swappiness if g.swappiness is not None else read_swappiness(root)
    if swappiness == 0:
        return limit_pages
    if g.version == 2:
        allowed = swap_pages if g.swap_limit_bytes is None else g.swap_limit_bytes // page_size
    else:
        allowed = swap_pages if g.memsw_limit_bytes is None else g.memsw_limit_bytes // page_size - limit_pages
    return limit_pages + max(0, min(allowed, swap_pages))


def _oom_group(groups: List[MemoryCgroup], home: Optional[str], pid: int, scope: str) -> Optional[str]:
    """mem_cgroup_get_oom_group(): the highest cgroup between the victim's (``home``, else
    the one whose cgroup.procs lists ``pid``) and the OOM domain with memory.oom.group
    set: all of its processes are killed (4.19+), but those at adj -1000 and the global
    init (oom_kill_memcg_member())."""
    if home is None:
        home = next((g.path for g in groups if g.pids and pid in g.pids), None)
    if home is None:
        return None
    by_path = {g.path: g for g in groups}
    found = None
    path = home
    while True:
        g = by_path.get(path)
        if g is not None and g.oom_group:
            found = path
        if path == scope or path in ("/", ""):
            return found
        path = path.rsplit("/", 1)[0] or "/"


def adj_to_be(pid: int, report: VictimReport) -> Tuple[Optional[int], Optional[int]]:
    """(the least oom_score_adj that makes ``pid`` the victim of ``report``'s OOM, the
    greatest that makes it the last candidate); None where no value does, or where
    ``pid`` is not a candidate there."""
    me = next((c for c in report.candidates if c.pid == pid), None)
    others = [c.badness_pages for c in report.candidates if c.pid != pid]
    if me is None or not others:
        return None, None
    first = adj_to_rank(me.points_pages, max(others), report.totalpages, True, report.era, me.root_bonus)
    last = adj_to_rank(me.points_pages, min(others), report.totalpages, False, report.era, me.root_bonus)
    return first, last
