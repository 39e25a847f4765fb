"""The kernel's badness arithmetic (mm/oom_kill.c oom_badness(), fs/proc/base.c
proc_oom_score()), per era, in C integer semantics.  Pure: no I/O here.

Eras (the first mainline release of each change):

- 2.6.36 (a63d83f427fb): points = (rss + swap) * 1000 / totalpages, minus 30 for
  CAP_SYS_ADMIN, plus oom_score_adj; at least 1, at most 1000.  /proc shows it as is.
- 2.6.39 (f755a042d82b, "oom: use pte pages in OOM score"; backported to 2.6.36.y and
  later stable series): page tables join rss + swap.  Until 3.2 the sum was multiplied by
  1000 in an int (CVE-2011-4097): above about 2.1 million pages (8 GiB) it overflowed,
  which is not modelled here.
- 3.5 (a7f638f999ff): points in pages; oom_score_adj is added as
  ``adj * (totalpages / 1000)``; at least 1.  /proc shows ``points * 1000 / totalpages``.
  Until 3.13 the root bonus is 30 adj units; 3.14 to 4.16 (778c14affaf9) 3 % of the
  task's own points; 4.17 removed it.
- 5.9 (9066e5cfb73c): negative badness is kept; /proc shows
  ``(1000 + points * 1000 / totalpages) * 2 / 3``, 0 for a task that is not a candidate.

``totalpages`` is RAM + swap in pages for /proc and a system-wide OOM, and the limit of
the memory cgroup that ran out (plus the swap it may use) for a cgroup OOM.

Among candidates of equal badness the kernel keeps the first it scanned until 5.2
(oom_evaluate_task(): "prefer thread group leaders"), and the last it scanned since that
check went (Tetsuo Handa's 2019 patch, in 5.3-era sources; the release is inferred).
The scan runs in fork order (the task list; for a cgroup, pre-order over its cgroups),
not pid order.
"""

from __future__ import annotations

import re
from ._record import Record
from enum import Enum

from .errors import InvalidValue, NotAvailable
from .procfs.meminfo import read_totalpages
from .procfs.pagesize import read_page_size
from .procfs.pid import c_div, read_pid1_is_global_init
from .procfs.sysctl import read_kernel_release
from .sysfs.cpu import read_online_cpus

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows the start
    from typing import Callable, Optional, Tuple

    from .process import Process
    from .procfs.pid import PidStatus

OOM_SCORE_ADJ_MIN = -1000  # include/uapi/linux/oom.h: never chosen
OOM_SCORE_ADJ_MAX = 1000
CAP_SYS_ADMIN = 21  # include/uapi/linux/capability.h


class Unkillable(str, Enum):
    """Why oom_badness() passes a task over (its value is what JSON and the table show)."""

    KERNEL_THREAD = "kernel thread"  # PF_KTHREAD
    GLOBAL_INIT = "global init"  # pid 1 of the initial pid namespace
    ZOMBIE = "zombie"  # no thread of the group holds an mm any more
    EXITING = "exiting (no memory left)"
    ADJ_MIN = "oom_score_adj -1000"  # OOM_SCORE_ADJ_MIN: the one reason a what-if adj can lift

    def __str__(self) -> str:
        return self.value


ADJ_MIN_REASON = Unkillable.ADJ_MIN

ERAS = ("2.6.36", "2.6.39", "3.5", "3.14", "4.17", "5.9")  # each: the first release of a formula
_PER_MILLE_ERAS = ("2.6.36", "2.6.39")  # badness on the 1..1000 scale, not in pages
_ROOT_BONUS_ERAS = ("2.6.36", "2.6.39", "3.5", "3.14")  # CAP_SYS_ADMIN got a bonus until 4.16
LAST_SCANNED_WINS = (5, 3, 0)  # ties: the first scanned task kept before, the last since

def kernel_version(release: str) -> Tuple[int, int, int]:
    """(6, 18, 44) from "6.18.44-fc-v657"; (2, 6, 32) from "2.6.32-754.el6.x86_64"."""
    m = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", release)
    if not m:
        raise InvalidValue(f"not a kernel release: {release!r}")
    return int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)


def era_of(release: str) -> str:
    """The badness era (one of ERAS) of a kernel release.  Raises InvalidValue for kernels
    before 2.6.36, whose heuristic (CPU time, run time, nice, children) /proc cannot redo."""
    version = kernel_version(release)
    era = None
    for first in ERAS:
        if version >= kernel_version(first):
            era = first
    if era is None:
        raise InvalidValue(f"kernel {release} predates the 2.6.36 badness rewrite; its score cannot be recomputed")
    return era


def points_pages(rss_bytes: int, swap_bytes: int, pgtables_bytes: int, page_size: int, era: str,
                 pmd_bytes: int = 0) -> int:
    """What oom_badness() counts for a task before its adjustment: resident pages (shared
    ones in full) and swap entries; page tables since 2.6.39, with the PMD pages that
    4.0-4.14 counted apart (VmPMD)."""
    points = rss_bytes // page_size + swap_bytes // page_size
    if era != "2.6.36":
        points += (pgtables_bytes + pmd_bytes) // page_size
    return points


def root_bonus_pages(points: int, totalpages: int, era: str, root_bonus: bool) -> int:
    """What CAP_SYS_ADMIN (in the initial user namespace) took off a task's badness, in
    pages: 30 adj units in 3.5-3.13, 3 % of its points in 3.14-4.16, none since 4.17.
    (The per-mille eras took 30 per mille off the per-mille badness; see oom_badness().)"""
    if not root_bonus:
        return 0
    if era == "3.14":
        return points * 3 // 100
    if era == "3.5":
        return 30 * c_div(totalpages, 1000)  # "adj -= 30" before scaling
    return 0


def oom_badness(points: int, adj: int, totalpages: int, era: str, root_bonus: bool = False) -> int:
    """oom_badness() of a candidate in ``era``: pages since 3.5, per mille before.

    ``root_bonus``: the task has CAP_SYS_ADMIN in the initial user namespace
    (has_capability_noaudit()); only kernels before 4.17 look at it.
    """
    totalpages = max(totalpages, 1)
    if era in _PER_MILLE_ERAS:
        badness = points * 1000 // totalpages - (30 if root_bonus else 0) + adj
        return min(max(badness, 1), 1000)
    badness = points - root_bonus_pages(points, totalpages, era, root_bonus) + adj * c_div(totalpages, 1000)
    return badness if era == "5.9" else max(badness, 1)  # until 5.9 "points > 0 ? points : 1"


def proc_oom_score(badness: Optional[int], totalpages: int, era: str) -> int:
    """/proc/PID/oom_score for a task of this badness (None: not a candidate)."""
    if badness is None:
        return 0
    totalpages = max(totalpages, 1)
    if era in _PER_MILLE_ERAS:
        return badness
    if era == "5.9":
        return c_div((1000 + c_div(badness * 1000, totalpages)) * 2, 3)
    return badness * 1000 // totalpages


def pages_per_unit(era: str, totalpages: int) -> int:
    """Pages in one unit of badness: 1 since 3.5, totalpages / 1000 in the per-mille eras."""
    return max(totalpages // 1000, 1) if era in _PER_MILLE_ERAS else 1


def last_scanned_wins(release: str) -> bool:
    """Whether, among equal badness, the kernel picks the task it scans last (5.3+)."""
    return kernel_version(release) >= LAST_SCANNED_WINS


def choice_key(badness: int, start_time_ticks: Optional[int], pid: int, last_wins: bool) -> tuple:
    """Sort key putting candidates in the order the kernel would choose them: highest
    badness first; among equals the one it scans last (5.3+) or first.  The scan follows
    fork order, which start time and then pid stand for (pids wrap, start times do not)."""
    order = (start_time_ticks or 0, pid)
    if last_wins:
        return (-badness, -order[0], -order[1])
    return (-badness, order[0], order[1])


def root_bonus_applies(era: str, cap_eff: Optional[int], initial_user_ns: Callable[[], Optional[bool]]) -> bool:
    """Whether oom_badness() gave a task the CAP_SYS_ADMIN bonus (kernels before 4.17):
    the bit in CapEff, held in the initial user namespace (has_capability_noaudit()
    checks init_user_ns: root of a rootless container has the bit and no bonus).
    ``initial_user_ns`` reads that (uid_map), called only where it matters; None:
    unknown (a kernel before user namespaces), counted as the initial one."""
    if era not in _ROOT_BONUS_ERAS or cap_eff is None or not cap_eff >> CAP_SYS_ADMIN & 1:
        return False
    return initial_user_ns() is not False


class Explanation(Record):
    """oom_score taken apart: what the kernel counts, and the score it should print."""

    era: str  # the first release of the formula used (ERAS)
    page_size: int
    totalpages: int  # RAM + swap in pages: what /proc/PID/oom_score is measured against
    rss_pages: int  # resident: anon + file + shmem, shared pages counted in full
    rss_anon_pages: Optional[int]  # the three parts, where the kernel shows them (4.5+)
    rss_file_pages: Optional[int]
    rss_shmem_pages: Optional[int]
    swap_pages: int
    pgtables_pages: int
    oom_score_adj: int
    adj_pages: int  # oom_score_adj * (totalpages / 1000): the adjustment in pages
    root_bonus_pages: int  # what CAP_SYS_ADMIN took off (0 since 4.17)
    badness_pages: Optional[int]  # oom_badness() (per mille before 3.5); None if not a candidate
    killable: bool
    unkillable_reason: Optional[str]
    predicted_oom_score: int
    kernel_oom_score: Optional[int]  # what /proc/PID/oom_score said
    agrees: Optional[bool]  # predicted == kernel; None when the kernel's is unknown
    within_counter_drift: Optional[bool]  # not equal, but within what the kernel's per-CPU
    #   RSS counters (6.2+) may lag behind status: oom_badness() reads the approximate
    #   counter, status the exact sum; None when equal or when no drift is possible


def explain(status: PidStatus, adj: int, kernel_oom_score: Optional[int], totalpages: int,
            page_size: int, era: str, unkillable_reason: Optional[str], drift_pages: int = 0,
            root_bonus: bool = False) -> Explanation:
    """Recompute /proc/PID/oom_score of one task from its status and oom_score_adj.

    ``drift_pages``: how far the kernel's own RSS counters may be from status (see
    counter_drift_pages()); a mismatch within it is reported as such, not hidden.
    ``root_bonus``: see root_bonus_applies().
    """
    if era not in ERAS:
        raise InvalidValue(f"unknown era {era!r}; valid: {', '.join(ERAS)}")
    rss, swap, pgtables = status.memory_bytes()
    rss_pages = rss // page_size
    swap_pages = (swap or 0) // page_size
    points = points_pages(rss, swap or 0, pgtables or 0, page_size, era, status.pmd_bytes or 0)
    pgtables_pages = points - rss_pages - swap_pages
    per_adj = c_div(totalpages, 1000)
    bonus = root_bonus_pages(points, totalpages, era, root_bonus)
    killable = unkillable_reason is None
    badness = oom_badness(points, adj, totalpages, era, root_bonus) if killable else None
    predicted = proc_oom_score(badness, totalpages, era)
    return Explanation(
        era=era, page_size=page_size, totalpages=totalpages, rss_pages=rss_pages,
        rss_anon_pages=_pages(status.rss_anon_bytes, page_size),
        rss_file_pages=_pages(status.rss_file_bytes, page_size),
        rss_shmem_pages=_pages(status.rss_shmem_bytes, page_size),
        swap_pages=swap_pages, pgtables_pages=pgtables_pages, oom_score_adj=adj,
        adj_pages=adj * per_adj, root_bonus_pages=bonus,
        badness_pages=badness, killable=killable, unkillable_reason=unkillable_reason,
        predicted_oom_score=predicted, kernel_oom_score=kernel_oom_score,
        agrees=None if kernel_oom_score is None else predicted == kernel_oom_score,
        within_counter_drift=_within_drift(badness, kernel_oom_score, predicted, totalpages, era, drift_pages),
    )


def explain_process(process: Process, era: Optional[str] = None) -> Explanation:
    """explain() for a process (``oomutil.explain_process(p)``): its ScoreInputs, and the kernel's
    facts from its root (release, RAM + swap, page size, online CPUs).  Raises NotAvailable
    where the root has no meminfo or kernel release, or a kernel older than any formula
    (< 2.6.36)."""
    root = process.root
    release = read_kernel_release(root)
    if era is None:
        try:
            era = era_of(release)
        except InvalidValue as err:
            raise NotAvailable(err.msg, path=root.proc("sys", "kernel", "osrelease")) from err
    page_size = read_page_size(root)
    totalpages = read_totalpages(root, page_size)
    global_init = process.pid == 1 and read_pid1_is_global_init(root)
    inputs = process.score_inputs()
    status, adj = inputs.status, inputs.oom_score_adj
    return explain(status, adj, inputs.oom_score, totalpages, page_size, era,
                   unkillable_reason(process.pid, status, adj, global_init),
                   counter_drift_pages(release, read_online_cpus(root)),
                   root_bonus_applies(era, status.cap_eff, lambda: inputs.initial_user_ns))


def _within_drift(badness: Optional[int], kernel: Optional[int], predicted: int, totalpages: int,
                  era: str, drift: int) -> Optional[bool]:
    if badness is None or kernel is None or kernel == predicted or not drift or era != "5.9":
        return None
    low = proc_oom_score(badness - drift, totalpages, era)
    high = proc_oom_score(badness + drift, totalpages, era)
    return low <= kernel <= high


def counter_drift_pages(release: str, online_cpus: int) -> int:
    """How far oom_badness()'s view of a task's memory may lag behind /proc/PID/status.

    Since 6.2 (f1a7941243c1) the RSS counters are per-CPU.  Both read the same
    approximate global part until status moved to exact sums (82241a83cd15: 6.16, and
    the stable series 6.12.39+; 6.6.y and 6.15.y got it too, from 6.6.99 and 6.15.7 by
    the date of the stable review, 2025-07-15: inferred).  oom_badness() reads exact sums
    too since 7.0 (Mathieu Desnoyers' patch, 2026).  In between, each online CPU holds
    less than one batch (lib/percpu_counter.c: max(32, 2 * online CPUs) pages) of each of
    the four counters that count (file, anon, shmem, swap entries).  Elsewhere: 0.
    """
    v = kernel_version(release)
    exact_status = (v >= (6, 16, 0) or (v[:2] == (6, 15) and v >= (6, 15, 7))
                    or (v[:2] == (6, 12) and v >= (6, 12, 39)) or (v[:2] == (6, 6) and v >= (6, 6, 99)))
    if not exact_status or v >= (7, 0, 0):
        return 0
    return 4 * online_cpus * max(32, 2 * online_cpus)


def _pages(n: Optional[int], page_size: int) -> Optional[int]:
    return None if n is None else n // page_size


def unkillable_reason(pid: int, status: PidStatus, adj: Optional[int], global_init: bool) -> Optional[Unkillable]:
    """Why oom_badness() would skip this process, or None if it would not.

    oom_unkillable_task(): the global init and kernel threads; then no mm left (zombie or
    exiting); then oom_score_adj == OOM_SCORE_ADJ_MIN.  A vfork child is skipped as well,
    but /proc does not show that state.  A container's pid 1 is not the global init.
    """
    if status.is_kernel_thread:
        return Unkillable.KERNEL_THREAD
    if pid == 1 and global_init:
        return Unkillable.GLOBAL_INIT
    if status.state in ("Z", "X"):
        return Unkillable.ZOMBIE
    if status.rss_bytes is None:
        return Unkillable.EXITING
    if adj == OOM_SCORE_ADJ_MIN:
        return ADJ_MIN_REASON
    return None


def adj_to_rank(points: int, target: int, totalpages: int, first: bool, era: str = "5.9",
                root_bonus: bool = False) -> Optional[int]:
    """The oom_score_adj that puts a task of ``points`` strictly above (``first``: the
    least such value) or below (the greatest) a badness of ``target``, in ``era``'s
    arithmetic (with its clamp to 1 before 5.9); None if no value in -999..1000 does.
    Ties go by scan order, so strictness is kept.  oom_badness() grows with adj, so a
    binary search finds the edge."""
    def badness(adj: int) -> int:
        return oom_badness(points, adj, totalpages, era, root_bonus)

    low, high = -999, OOM_SCORE_ADJ_MAX
    if first:
        if badness(high) <= target:
            return None
        while low < high:  # the least adj whose badness is above target
            mid = (low + high) // 2
            if badness(mid) > target:
                high = mid
            else:
                low = mid + 1
        return low
    if badness(low) >= target:
        return None
    while low < high:  # the greatest adj whose badness is below target
        mid = (low + high + 1) // 2
        if badness(mid) < target:
            low = mid
        else:
            high = mid - 1
    return low
