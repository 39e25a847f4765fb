"""Kills as the kernel logs them, counted from the moment the exporter starts.

A thread blocks on /dev/kmsg, positioned at its end (KmsgReader(follow=True): old kills
are never counted as new), or on ``journalctl -k -f -n 0``, feeds the events assembler and counts each "Killed process"
by constraint and by (victim cgroup, trigger cgroup).  Scrapes run in the HTTP server's
threads, so the counts are read and written under one lock.
"""

from __future__ import annotations

import select
import shutil
import threading
import time

from ..errors import OomutilError
from ..events.parse import Assembler
from ..events.sources import KmsgReader, journal_follow
from ..procfs.vmstat import read_oom_kill_count

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Dict, Optional, Tuple

    from ..events.parse import OomKillEvent
    from ..root import Root

CONSTRAINTS = ("none", "memcg", "cpuset", "mempolicy", "unknown")
OTHER = "__other__"  # the one series kills past --max-cgroup-series count in
# The journal tells neither what it lost nor how far behind it is: the follower counts as
# caught up with it once no line has come for this long.
JOURNAL_QUIET = 30.0


def constraint_of(event: OomKillEvent) -> str:
    """CONSTRAINT_MEMCG -> "memcg"; a report whose header was rate-limited names none."""
    name = (event.constraint or "").replace("CONSTRAINT_", "").lower()
    return name if name in CONSTRAINTS else "unknown"


class CgroupKills:
    """Kills per (victim cgroup, trigger cgroup), at most ``max_series`` pairs (the rest in
    one __other__ pair); a pair without a kill for ``retention`` seconds is forgotten.

    A pair is born at 0: until one scrape has shown it at 0 (exposed()), it is shown at 0
    whatever it counted, so that increase() and rate() count its first kill (a series born
    at 1 has no increase); its kills are shown from the next scrape on.  The same holds for
    a pair forgotten after ``retention`` and killed in again."""

    def __init__(self, max_series: int, retention: float) -> None:
        self.max_series, self.retention = max_series, retention
        self.counts: Dict[Tuple[str, str], list] = {}  # pair -> [count, last kill (monotonic), shown at 0]

    def add(self, cgroup: str, trigger: str, now: float) -> None:
        self.expire(now)
        pair = (cgroup, trigger)
        if pair not in self.counts and len(self.counts) >= self.max_series:
            pair = (OTHER, OTHER)
        entry = self.counts.setdefault(pair, [0, now, False])
        entry[0] += 1
        entry[1] = now

    def expire(self, now: float) -> None:
        for pair in [p for p, (_, last, _) in self.counts.items() if now - last > self.retention]:
            del self.counts[pair]

    def exposed(self) -> Dict[Tuple[str, str], int]:
        """What one scrape shows: each pair's count, 0 for a pair no scrape has shown yet
        (which is then marked as shown)."""
        out = {}
        for pair, entry in self.counts.items():
            out[pair] = entry[0] if entry[2] else 0
            entry[2] = True
        return out


class Follower:
    """The kernel-log follower of ``serve``: start() it once; snapshot() from any thread."""

    def __init__(self, root: Root, source: str = "kmsg", max_series: int = 500, retention: float = 86400.0) -> None:
        self.root = root
        self.lock = threading.Lock()
        self.by_constraint = dict.fromkeys(CONSTRAINTS, 0)
        self.cgroups = CgroupKills(max_series, retention)
        self.last: Optional[OomKillEvent] = None
        self.last_time: Optional[float] = None
        self.seen = 0
        self.lost = 0
        self.source, self.reason = "none", "--kernel-log none" if source == "none" else ""
        self._reader: Optional[KmsgReader] = None
        self.busy = False  # a record read and not counted yet
        self.last_line = time.monotonic()
        if source == "kmsg":
            try:
                self._reader = KmsgReader(root, follow=True)
                self.source, self.reason = "kmsg", ""
            except OomutilError as err:  # no CAP_SYSLOG under dmesg_restrict, no /dev/kmsg in a tree
                self.reason = str(err)
        elif source == "journal":
            if not root.is_live:
                self.reason = f"the journal is this machine's, not {root.path}'s"
            elif shutil.which("journalctl") is None:
                self.reason = "journalctl is not installed"
            else:
                self.source = "journal"
        # vmstat's count once positioned at the log's end (events.reconcile.KillReconciler)
        try:
            self.counted_at_start: Optional[int] = read_oom_kill_count(root)
        except (OomutilError, OSError):
            self.counted_at_start = None

    def start(self) -> None:
        if self.source != "none":
            threading.Thread(target=self._run, name=f"oomutil-{self.source}", daemon=True).start()

    def _run(self) -> None:
        reader = self._reader
        assembler = Assembler(self.source)
        try:
            lines = reader.records() if reader is not None else journal_follow()
            while True:
                if reader is not None:  # wait for a record without taking it: not busy meanwhile
                    poller = select.poll()
                    poller.register(reader.fd, select.POLLIN)
                    poller.poll()
                    with self.lock:
                        self.busy = True
                line = next(lines, None)
                if line is None:
                    break
                events = assembler.feed_all(line)
                with self.lock:
                    self.lost = reader.lost if reader is not None else 0
                    self.last_line = time.monotonic()
                    for event in events:
                        if event.killer == "kernel":
                            self._count(event)
                    self.busy = False
        except OomutilError as err:
            with self.lock:
                self.source, self.reason = "none", f"the kernel log stopped: {err}"

    def position(self) -> Tuple[int, Optional[int], bool]:
        """(kill lines read, records the log lost (None: unknown, the journal), caught up:
        every record the log holds now has been read and counted)."""
        with self.lock:
            if self.source == "kmsg" and self._reader is not None:
                poller = select.poll()
                poller.register(self._reader.fd, select.POLLIN)
                caught_up = not self.busy and not poller.poll(0)
            else:
                caught_up = not self.busy and time.monotonic() - self.last_line >= JOURNAL_QUIET
            return self.seen, (self.lost if self.source == "kmsg" else None), caught_up

    def _count(self, event: OomKillEvent) -> None:
        self.seen += 1
        self.by_constraint[constraint_of(event)] += 1
        self.cgroups.add(event.task_memcg or "", event.oom_memcg or ("/" if event.constraint == "CONSTRAINT_NONE" else ""),
                         time.monotonic())
        self.last, self.last_time = event, time.time()

    def snapshot(self) -> dict:
        """The counts as they are now (a copy: the scrape formats it outside the lock)."""
        with self.lock:
            self.cgroups.expire(time.monotonic())
            return {
                "by_constraint": dict(self.by_constraint),
                "cgroups": self.cgroups.exposed(),
                "last": self.last, "last_time": self.last_time, "seen": self.seen,
                "lost": self.lost if self.source == "kmsg" else None,  # the journal: unknown
                "source": self.source, "reason": self.reason,
            }
