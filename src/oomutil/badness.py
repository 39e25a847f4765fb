"""The kernel's badness arithmetic (mm/oom_kill.c oom_badness(), fs/proc/base.c
proc_oom_score()), per era, in C integer semantics.  Pure: no I/O here.

Eras (the first mainline release of each change):

- 2.6.36 (a63d83f427fb): points = (rss + page tables + swap) * 1000 / totalpages, minus 30
  for CAP_SYS_ADMIN, plus oom_score_adj; at least 1, at most 1000.  /proc shows it as is.
- 3.8 (a7f638f999ff): points in pages; oom_score_adj is added as
  ``adj * (totalpages / 1000)``; at least 1.  /proc shows ``points * 1000 / totalpages``.
  Until 3.13 the root bonus is 30 adj units; 3.14 to 4.16 (778c14affaf9) 3 % of the
  task's own points; 4.17 removed it.
- 5.9 (9066e5cfb73c): negative badness is kept; /proc shows
  ``(1000 + points * 1000 / totalpages) * 2 / 3``, 0 for a task that is not a candidate.

``totalpages`` is RAM + swap in pages for /proc and a system-wide OOM, and the limit of
the memory cgroup that ran out (plus the swap it may use) for a cgroup OOM.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import InvalidValue

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows the start
    from typing import Callable, Optional, Tuple

    from .procfs.pid import PidStatus

OOM_SCORE_ADJ_MIN = -1000  # include/uapi/linux/oom.h: never chosen
OOM_SCORE_ADJ_MAX = 1000
CAP_SYS_ADMIN = 21  # include/uapi/linux/capability.h
ADJ_MIN_REASON = "oom_score_adj -1000"  # the one reason a what-if adj can lift

ERAS = ("2.6.36", "3.8", "3.14", "4.17", "5.9")  # each: the first release of a formula


def c_div(a: int, b: int) -> int:
    """C's integer division: truncates toward zero (Python's // floors)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


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


def badness_pages(rss_bytes: int, swap_bytes: int, pgtables_bytes: int, adj: int,
                  totalpages: int, page_size: int) -> int:
    """oom_badness() of a killable task since 5.9 (and, but for the clamp and the root
    bonus, since 3.8): its pages plus its adjustment in pages."""
    points = rss_bytes // page_size + swap_bytes // page_size + pgtables_bytes // page_size
    return points + adj * c_div(totalpages, 1000)


@dataclass(frozen=True)
class Explanation:
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
    badness_pages: Optional[int]  # oom_badness() (per-mille before 3.8); None if not a candidate
    killable: bool
    unkillable_reason: Optional[str]
    predicted_oom_score: int
    kernel_oom_score: Optional[int]  # what /proc/PID/oom_score said
    agrees: Optional[bool]  # predicted == kernel; None when the kernel's is unknown
    within_counter_drift: Optional[bool]  # not equal, but within what the kernel's per-CPU
    #   RSS counters (6.2+) may lag behind status: oom_badness() reads the approximate
    #   counter, status the exact sum; None when equal or when no drift is possible


def explain(status: PidStatus, adj: int, kernel_oom_score: Optional[int], totalpages: int,
            page_size: int, era: str, unkillable_reason: Optional[str], drift_pages: int = 0) -> Explanation:
    """Recompute /proc/PID/oom_score of one task from its status and oom_score_adj.

    ``drift_pages``: how far the kernel's own RSS counters may be from status (see
    counter_drift_pages()); a mismatch within it is reported as such, not hidden.
    """
    if era not in ERAS:
        raise InvalidValue(f"unknown era {era!r}; valid: {', '.join(ERAS)}")
    rss, swap, pgtables = status.memory_bytes()
    rss_pages = rss // page_size
    swap_pages = (swap or 0) // page_size
    # 4.0-4.14 counted PMD pages apart (VmPMD); 4.15 folded them into mm_pgtables_bytes.
    pgtables_pages = ((pgtables or 0) + (status.pmd_bytes or 0)) // page_size
    points = rss_pages + swap_pages + pgtables_pages
    cap_admin = status.cap_eff is not None and bool(status.cap_eff >> CAP_SYS_ADMIN & 1)
    per_adj = c_div(totalpages, 1000)
    adj_pages = adj * per_adj
    bonus = 0  # the root bonus, in pages
    if cap_admin and era == "3.14":
        bonus = points * 3 // 100
    elif cap_admin and era == "3.8":
        bonus = 30 * per_adj  # "adj -= 30" before scaling
    killable = unkillable_reason is None
    badness: Optional[int] = None
    if not killable:
        predicted = 0
    elif era == "2.6.36":
        # per-mille of totalpages, not pages: minus 30 for root, plus adj, within 1..1000
        badness = points * 1000 // totalpages - (30 if cap_admin else 0) + adj
        badness = predicted = min(max(badness, 1), 1000)
    elif era == "5.9":
        badness = points + adj_pages
        predicted = c_div((1000 + c_div(badness * 1000, totalpages)) * 2, 3)
    else:  # 3.8 .. 5.8: at least 1 page for a candidate; /proc shows per-mille of totalpages
        badness = max(points - bonus + adj_pages, 1)
        predicted = badness * 1000 // totalpages
    return Explanation(
        era=era, page_size=page_size, totalpages=totalpages, rss_pages=rss_pages,
        rss_anon_pages=_pages(status.rss_anon_bytes, page_size),
        rss_file_pages=_pages(status.rss_file_bytes, page_size),
        rss_shmem_pages=_pages(status.rss_shmem_bytes, page_size),
        swap_pages=swap_pages, pgtables_pages=pgtables_pages, oom_score_adj=adj,
        adj_pages=adj_pages, root_bonus_pages=bonus,
        badness_pages=badness, killable=killable, unkillable_reason=unkillable_reason,
        predicted_oom_score=predicted, kernel_oom_score=kernel_oom_score,
        agrees=None if kernel_oom_score is None else predicted == kernel_oom_score,
        within_counter_drift=_within_drift(badness, kernel_oom_score, predicted, totalpages, era, drift_pages),
    )


def _within_drift(badness: Optional[int], kernel: Optional[int], predicted: int, totalpages: int,
                  era: str, drift: int) -> Optional[bool]:
    if badness is None or kernel is None or kernel == predicted or not drift or era != "5.9":
        return None
    low = c_div((1000 + c_div((badness - drift) * 1000, totalpages)) * 2, 3)
    high = c_div((1000 + c_div((badness + drift) * 1000, totalpages)) * 2, 3)
    return low <= kernel <= high


def counter_drift_pages(release: str, cpus: int) -> int:
    """How far oom_badness()'s view of a task's memory may lag behind /proc/PID/status.

    Since 6.2 (f1a7941243c1) the RSS counters are per-CPU: oom_badness() reads the global
    part only, while status adds up every CPU's (82241a83cd15).  Each CPU holds less than
    one batch (max(32, 2 * CPUs) pages) per counter, and four counters count (file, anon,
    shmem, swap entries).  Before 6.2 status and oom_score read the same counters: 0.
    """
    if kernel_version(release) < (6, 2, 0):
        return 0
    return 4 * cpus * max(32, 2 * cpus)


def describe_score(e: Explanation, size: Callable[[int], str]) -> str:
    """The predicted oom_score as a sum a person can follow, e.g. ``1010 = 666 baseline +
    11 for 2.0 GiB of the 125.9 GiB the kernel counts + 333 for oom_score_adj 500``.
    ``size`` formats a byte count."""
    if not e.killable:
        return f"{e.predicted_oom_score}: never killed ({e.unkillable_reason})"
    points = e.rss_pages + e.swap_pages + e.pgtables_pages
    memory = f"{size(points * e.page_size)} of the {size(e.totalpages * e.page_size)} the kernel counts"
    if e.era == "5.9":
        mem_only = c_div((1000 + c_div(points * 1000, e.totalpages)) * 2, 3)
        text = f"{e.predicted_oom_score} = 666 baseline + {mem_only - 666} for {memory}"
        if e.oom_score_adj:
            text += f" {_signed(e.predicted_oom_score - mem_only)} for oom_score_adj {e.oom_score_adj}"
    else:
        per_mille = points * 1000 // e.totalpages
        text = f"{e.predicted_oom_score} = {per_mille} for {memory}"
        rest = e.predicted_oom_score - per_mille
        if rest:
            text += f" {_signed(rest)} for oom_score_adj {e.oom_score_adj}" + (
                ", root bonus and rounding" if e.root_bonus_pages else " and rounding")
    if e.agrees:
        text += "   (the kernel says the same)"
    elif e.within_counter_drift:
        text += (f"   (the kernel says {e.kernel_oom_score}: its per-CPU memory counters lag behind "
                 "/proc/PID/status by up to a few hundred pages)")
    elif e.kernel_oom_score is not None:
        text += f"   (the kernel says {e.kernel_oom_score})"
    return text


def _signed(n: int) -> str:
    return f"+ {n}" if n >= 0 else f"- {-n}"


def _pages(n: Optional[int], page_size: int) -> Optional[int]:
    return None if n is None else n // page_size


def unkillable_reason(pid: int, status: PidStatus, adj: Optional[int], global_init: bool) -> Optional[str]:
    """Why oom_badness() would skip this process, or None if it would not.

    oom_unkillable_task(): the global init and kernel threads; then no mm left (zombie or
    exiting); then oom_score_adj == OOM_SCORE_ADJ_MIN.  A vfork child is skipped as well,
    but /proc does not show that state.  A container's pid 1 is not the global init.
    """
    if status.is_kernel_thread:
        return "kernel thread"
    if pid == 1 and global_init:
        return "global init"
    if status.state in ("Z", "X"):
        return "zombie"
    if status.rss_bytes is None:
        return "exiting (no memory left)"
    if adj == OOM_SCORE_ADJ_MIN:
        return ADJ_MIN_REASON
    return None


def adj_to_rank(badness: int, adj: int, target: int, totalpages: int, first: bool) -> Optional[int]:
    """The oom_score_adj that puts a task with ``badness`` (at ``adj``) strictly above
    (``first``) or below another task's badness ``target``; None if no value in
    -999..1000 does.  Ties go to the task the kernel scans last, so strictness is kept."""
    per_adj = c_div(totalpages, 1000)
    points = badness - adj * per_adj
    if per_adj <= 0:
        return None
    if first:
        need = target - points + 1  # points + a * per_adj > target
        a = -((-need) // per_adj)  # ceiling
        return a if a <= OOM_SCORE_ADJ_MAX else None
    need = target - points - 1  # points + a * per_adj < target
    a = need // per_adj  # floor
    return max(a, -999) if a >= -999 else None
