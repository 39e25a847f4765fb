"""Kills the kernel counted against kills the log shows: no kill goes unaccounted.

Counters: /proc/vmstat oom_kill (4.13+, since boot), cgroup v1 memory.oom_control
oom_kill and v2 memory.events.local oom_kill (this cgroup only, since it was created).
A counter above what the log shows means kills whose reports were overwritten in the ring
buffer (or never logged); the log's first record tells whether it still starts at boot.
"""

from __future__ import annotations

import time

from .._record import Record

from .._fs import none_if_unreadable
from ..cgroups import memory_cgroups
from ..procfs.vmstat import read_oom_kill_count

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows the start
    from typing import Iterable, List, Optional, Tuple

    from ..root import Root
    from .parse import OomKillEvent


class Gap(Record):
    """A counter that counts more kills than the log shows."""

    counter: str  # which counter: "/proc/vmstat oom_kill", "/a/b memory.oom_control oom_kill"
    counted: int
    logged: int
    missing: int
    why: str


def reconcile(root: Root, events: Iterable[OomKillEvent], log_starts_at_boot: Optional[bool],
              lost_records: int = 0) -> List[Gap]:
    kills = [e for e in events if e.killer == "kernel"]
    gaps = []
    counted = none_if_unreadable(read_oom_kill_count, root)
    if counted is not None and counted > len(kills):
        if log_starts_at_boot is False:
            why = "the ring buffer no longer holds the reports of the earliest kills"
        elif lost_records:
            why = f"{lost_records} log records were overwritten while being read"
        else:
            why = "these kills were counted but never logged, or the log read is not this boot's"
        gaps.append(Gap("/proc/vmstat oom_kill", counted, len(kills), counted - len(kills), why))
    groups = none_if_unreadable(memory_cgroups, root) or []
    for g in groups:
        local = (g.events_local or {}).get("oom_kill") if g.version == 2 else g.oom_kill_count
        if not local or g.path == "/":
            continue
        logged = sum(1 for e in kills if e.task_memcg == g.path)
        # A report whose header the kernel rate-limited (10 per 5 s) keeps only its
        # "Killed process" line, which names no cgroup: such kills may be this cgroup's.
        unattributed = sum(1 for e in kills if e.task_memcg is None and e.constraint != "CONSTRAINT_NONE")
        if local > logged + unattributed:
            gaps.append(Gap(f"{g.path} {'memory.events.local' if g.version == 2 else 'memory.oom_control'} "
                            "oom_kill", local, logged, local - logged - unattributed,
                            "kills in this cgroup whose reports are not in the log"))
    return gaps


class KillReconciler:
    """The kills /proc/vmstat oom_kill counted since a follower started that its log never
    showed (``serve``'s oomutil_oom_kills_unlogged_total), reconciled by the follower's
    position in the log, not by how old a count is.

    The kernel counts a kill (count_vm_event(OOM_KILL)) just before it prints its "Killed
    process" line, and prints that line for every kill (__oom_kill_process(): only the
    report's header, dump_header(), is rate-limited).  So a kill whose line has not been read
    is late (the journal's lag, a stalled follower) unless the log lost records: with
    /dev/kmsg only an overrun loses a line (``lost_records`` > 0); with the journal what it
    lost is unknown (None).  A count is compared with the lines read only when the follower
    had read everything logged before the count was read (``caught_up``): the difference is
    then the lines lost (at least; kills that came meanwhile are read, not yet counted), and
    a late line is never taken for a lost one, nor counted twice.  A difference below 0 is
    lines of kills the start's count already held (the follower seeks to the log's end, then
    vmstat is read: a kill in between is in both): the start is lowered by it, so it hides no
    later loss."""

    def __init__(self, counted_at_start: int, settle: float = 30.0) -> None:
        self.start = counted_at_start
        self.unlogged = 0
        # Where the log cannot say what it lost (the journal), "caught up" is only a quiet
        # spell: a kill after a long silence is counted before journald hands its line over
        # (it lags most under memory pressure).  There a gap counts once it has held, the
        # count unchanged, for ``settle`` seconds: (since when, the count) of one pending.
        self.settle = settle
        self.pending: Optional[Tuple[float, int]] = None

    def observe(self, counted: int, seen: int, lost_records: Optional[int], caught_up: bool,
                now: Optional[float] = None) -> int:
        """``counted``: vmstat's oom_kill read now; ``seen``: the kill lines the follower
        has read; ``lost_records``: records its log lost so far (None: unknown);
        ``caught_up``: it had read all the log held when ``counted`` was read, and no kill
        line came meanwhile; ``now``: monotonic seconds (time.monotonic() by default).  The
        kills unlogged so far (a counter: it never goes down)."""
        if not caught_up:
            return self.unlogged
        gap = counted - self.start - seen
        if gap < 0:
            self.start += gap
        elif gap > 0 and lost_records is None:
            now = time.monotonic() if now is None else now
            if self.pending is None or self.pending[1] != counted:
                self.pending = (now, counted)
            elif now - self.pending[0] >= self.settle:
                self.unlogged = max(self.unlogged, gap)
        elif gap > 0 and lost_records != 0:
            self.unlogged = max(self.unlogged, gap)
        if gap <= 0:
            self.pending = None
        return self.unlogged
