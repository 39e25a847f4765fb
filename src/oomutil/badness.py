"""The kernel's badness arithmetic (mm/oom_kill.c oom_badness()), in C integer semantics.

Since 2.6.36 (a63d83f427fb) the points are memory in pages: resident (anon + file +
shmem), swap entries and page tables; since 3.8 (a7f638f999ff) oom_score_adj is added
in pages as ``adj * (totalpages / 1000)``, the division first and truncating.  The 3 %
root bonus is gone since 4.17.  ``totalpages`` is RAM + swap for a system-wide OOM, and
for a memory cgroup OOM the limit of the cgroup that ran out (mem_cgroup_get_max()).
"""

from __future__ import annotations

OOM_SCORE_ADJ_MIN = -1000  # include/uapi/linux/oom.h: never chosen


def c_div(a: int, b: int) -> int:
    """C's integer division: truncates toward zero (Python's // floors)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def badness_pages(rss_bytes: int, swap_bytes: int, pgtables_bytes: int, adj: int,
                  totalpages: int, page_size: int) -> int:
    """oom_badness() for a killable task: its pages plus its adjustment in pages."""
    points = rss_bytes // page_size + swap_bytes // page_size + pgtables_bytes // page_size
    return points + adj * c_div(totalpages, 1000)
