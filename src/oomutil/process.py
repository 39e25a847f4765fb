"""Process: one process's OOM state, bound to one incarnation of its pid.

Identity: at construction the start time (field 22 of /proc/PID/stat) is recorded.
Every later read opens the pid directory, checks the start time through that directory
fd, and reads the file through the same fd.  A directory fd is pinned to the process
it was opened for: once that process is reaped, reads through it fail with ESRCH even
if the pid has been given to a new process.  So a value can never come from another
process that reuses the pid; such a Process raises NoSuchProcess.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows the start
    from typing import Iterator, Optional, Union

from . import _fs
from .errors import AccessDenied, InvalidValue, NoSuchProcess, NotAvailable
from .badness import Explanation, counter_drift_pages, era_of, root_bonus_applies, unkillable_reason
from .badness import explain as explain_score
from .cgroups import MemoryCgroup, cgroup_or_none
from .procfs.meminfo import read_totalpages
from .procfs.cgroup import parse_memory_cgroup
from .procfs.pid import (PidStat, PidStatus, parse_stat, parse_status, parse_uid_map,
                         read_pid1_is_global_init)
from .procfs.piddir import PidDir
from .procfs.sysctl import read_kernel_release, read_overcommit_memory
from .root import Root, as_root

__all__ = ["Process", "ProcessMemory", "Uids"]



@dataclass(frozen=True)
class Uids:
    """The four user ids of /proc/PID/status ``Uid:``."""

    real: int
    effective: int
    saved: int
    filesystem: int


@dataclass(frozen=True)
class ProcessMemory:
    """The memory the OOM killer counts for a process (mm/oom_kill.c oom_badness()).

    A task without an mm (kernel thread, zombie) has no Vm* lines and reports 0.
    """

    rss_bytes: int  # VmRSS: anon + file + shmem resident pages (shared pages count in full)
    swap_bytes: Optional[int]  # VmSwap: swap entries owned by the mm; None before 2.6.34
    pgtables_bytes: Optional[int]  # VmPTE: page tables; None on kernels without the line


class Process:
    """One process, read through a Root.

    ``Process()`` is the calling process (``proc/self`` of the root); ``Process(pid)``
    raises NoSuchProcess if no such process exists.  Go oomutil's
    ``NewOOMProcess(pid)`` / ``OOMScore()`` / ``OOMScoreAdj()`` / ``MemoryOvercommit()``
    are ``Process(pid)`` / ``oom_score()`` / ``oom_score_adj()`` / ``memory_overcommit()``.
    """

    __slots__ = ("pid", "root", "start_time_ticks", "_dir")

    def __init__(self, pid: Optional[int] = None, root: Union[Root, str, None] = None) -> None:
        self.root = as_root(root)
        if pid is None:
            pid = self.root.self_pid()
        if isinstance(pid, bool) or not isinstance(pid, int) or pid <= 0:
            raise InvalidValue(f"a pid is a positive integer, not {pid!r}")
        self.pid = pid
        self._dir: Optional[PidDir] = None
        # Read stat once, without a previous start time to compare with.
        self.start_time_ticks: Optional[int] = None
        with self.oneshot():
            pass

    # -- identity and reads -------------------------------------------------------

    @contextlib.contextmanager
    def oneshot(self) -> Iterator["Process"]:
        """Keep the pid directory open and cache parsed files for several calls.

        ``with p.oneshot(): p.oom_score(); p.memory()`` checks identity once and reads
        each file once.  Nested use is harmless.
        """
        if self._dir is not None:
            yield self
            return
        self._dir = self._open_dir()
        try:
            yield self
        finally:
            self._dir.close()
            self._dir = None

    def _open_dir(self) -> PidDir:
        try:
            d = PidDir(self.root, self.pid, start_time_ticks=self.start_time_ticks)
        except NoSuchProcess as err:
            from .visibility import hidden_by_proc

            why = hidden_by_proc(self.pid, self.root)
            if why is not None:  # it exists: /proc does not show it to us
                raise AccessDenied(f"hidden from this user ({why})", pid=self.pid) from err
            raise
        self.start_time_ticks = d.start_time_ticks
        return d

    def _pinned(self) -> PidDir:
        """The open pid directory (inside oneshot())."""
        assert self._dir is not None
        return self._dir

    def _read(self, name: str, parse):
        """Parse file ``name`` of the pid directory, once per oneshot()."""
        if self._dir is None:
            with self.oneshot():
                return self._read(name, parse)
        return self._dir.read(name, parse)

    # -- the Go oomutil calls -------------------------------------------------------

    def oom_score(self) -> int:
        """/proc/PID/oom_score: the kernel's badness on the 0..2000 scale (5.9+).

        0 is init, a kernel thread, adj -1000, *or* a killable task with adj near -1000:
        use ``oom_score_adj`` to tell them apart, not this number.
        """
        return self._read("oom_score", _fs.parse_int)

    def oom_score_adj(self) -> int:
        """/proc/PID/oom_score_adj: -1000 (never kill) .. 1000 (kill first)."""
        return self._read("oom_score_adj", _fs.parse_int)

    def oom_adj(self) -> Optional[int]:
        """/proc/PID/oom_adj, the legacy -17..15 view of oom_score_adj; None where absent."""
        try:
            return self._read("oom_adj", _fs.parse_int)
        except NotAvailable:
            return None

    def memory_overcommit(self) -> int:
        """/proc/sys/vm/overcommit_memory (system-wide; kept for parity with Go oomutil)."""
        return read_overcommit_memory(self.root)

    # -- more about the process --------------------------------------------------------

    def name(self) -> str:
        """The process's name (comm, at most 15 bytes, the one the kernel logs on a kill),
        as every command shows it: from status, where the kernel escapes control
        characters; from stat where status cannot be read."""
        with self.oneshot():
            name = self._pinned().comm()
            if name is None:
                raise AccessDenied(pid=self.pid, path=self.root.proc(self.pid, "status"))
            return name

    def memory_cgroup(self) -> Optional[MemoryCgroup]:
        """The memory cgroup this process is charged to (/proc/PID/cgroup), with its
        limits and counters; None without a memory controller or outside this view."""
        with self.oneshot():
            return cgroup_or_none(self._read(self._pinned().cgroup_file(), parse_memory_cgroup), self.root)

    def explain(self, era: Optional[str] = None) -> Explanation:
        """oom_score taken apart, recomputed with the kernel's arithmetic for ``era``
        (default: from the root's kernel release), next to what the kernel printed.

        status is read before and after oom_score; if the memory moved in between (a busy
        process), all is read again, up to five times.  Raises NotAvailable where the root
        has no meminfo or kernel release, or a kernel older than any formula (< 2.6.36).
        """
        release = read_kernel_release(self.root)
        if era is None:
            try:
                era = era_of(release)
            except InvalidValue as err:
                raise NotAvailable(err.msg, path=self.root.proc("sys", "kernel", "osrelease")) from err
        page_size = self.root.page_size()
        totalpages = read_totalpages(self.root, page_size)
        global_init = self.pid == 1 and read_pid1_is_global_init(self.root)
        with self.oneshot():  # one incarnation for every read below; each read afresh
            d = self._pinned()
            for _ in range(5):
                status = d.fresh_mm_status()
                adj = d.fresh("oom_score_adj", _fs.parse_int)
                score = _fs.none_if_unreadable(d.fresh, "oom_score", _fs.parse_int)
                if d.fresh_mm_status().memory_bytes() == status.memory_bytes():
                    break
            root_bonus = root_bonus_applies(era, status.cap_eff,
                                            lambda: _fs.none_if_unreadable(d.fresh, "uid_map", parse_uid_map))
        return explain_score(status, adj, score, totalpages, page_size, era,
                             unkillable_reason(self.pid, status, adj, global_init),
                             counter_drift_pages(release, self.root.online_cpus()), root_bonus)

    def stat(self) -> PidStat:
        return self._read("stat", parse_stat)

    def status(self) -> PidStatus:
        return self._read("status", parse_status)

    def uids(self) -> Uids:
        return Uids(*self.status().uids)

    def memory(self) -> ProcessMemory:
        """RSS, swap and page tables in bytes, from status: the one file that has all three
        (a live thread's, when the leader has exited: see read_mm_status())."""
        with self.oneshot():
            self.status()  # raises what reading status raises
            return ProcessMemory(*self._pinned().mm()[0].memory_bytes())  # type: ignore[union-attr]

    def __repr__(self) -> str:
        return f"oomutil.Process(pid={self.pid})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Process)
            and (other.pid, other.start_time_ticks, other.root)
            == (self.pid, self.start_time_ticks, self.root)
        )

    def __hash__(self) -> int:
        return hash((self.pid, self.start_time_ticks))

