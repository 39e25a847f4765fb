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
import os
from dataclasses import dataclass
TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows the start
    from typing import Dict, Iterator, Optional, Union

from . import _fs
from .errors import AccessDenied, InvalidValue, NoSuchProcess, NotAvailable
from .badness import Explanation, counter_drift_pages, era_of, root_bonus_applies, unkillable_reason
from .badness import explain as explain_score
from .cgroups import MemoryCgroup, cgroup_or_none
from .procfs.meminfo import read_totalpages
from .procfs.cgroup import parse_memory_cgroup
from .procfs.pid import (PidStat, PidStatus, parse_comm, parse_stat, parse_status, parse_uid_map,
                         read_mm_status, read_pid1_is_global_init)
from .procfs.sysctl import read_kernel_release, read_overcommit_memory
from .root import Root, as_root
from .users import user_name

__all__ = ["Process", "ProcessMemory", "ProcessInfo", "Uids"]



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


@dataclass(frozen=True)
class ProcessInfo:
    """Everything ``oomutil show`` prints for one process.  None: unreadable here."""

    pid: int
    comm: str
    uid: Optional[int]  # real uid
    user: Optional[str]  # its name in the root's user database, None if it has none
    oom_score: Optional[int]  # /proc/PID/oom_score: 0..2000 since 5.9 (666 = adj 0, tiny)
    oom_score_adj: Optional[int]  # /proc/PID/oom_score_adj: -1000..1000
    oom_adj: Optional[int]  # /proc/PID/oom_adj: legacy -17..15, None where the kernel lacks it
    rss_bytes: Optional[int]
    swap_bytes: Optional[int]
    pgtables_bytes: Optional[int]
    memory_cgroup: Optional[MemoryCgroup]  # the memory cgroup it is charged to, with its limits
    explain: Optional[Explanation]  # oom_score taken apart; None where it cannot be redone


class Process:
    """One process, read through a Root.

    ``Process()`` is the calling process (``proc/self`` of the root); ``Process(pid)``
    raises NoSuchProcess if no such process exists.  Go oomutil's
    ``NewOOMProcess(pid)`` / ``OOMScore()`` / ``OOMScoreAdj()`` / ``MemoryOvercommit()``
    are ``Process(pid)`` / ``oom_score()`` / ``oom_score_adj()`` / ``memory_overcommit()``.
    """

    __slots__ = ("pid", "root", "start_time_ticks", "_dir_fd", "_cache")

    def __init__(self, pid: Optional[int] = None, root: Union[Root, str, None] = None) -> None:
        self.root = as_root(root)
        if pid is None:
            pid = self.root.self_pid()
        if isinstance(pid, bool) or not isinstance(pid, int) or pid <= 0:
            raise InvalidValue(f"a pid is a positive integer, not {pid!r}")
        self.pid = pid
        self._dir_fd: Optional[int] = None
        self._cache: Dict[str, object] = {}
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
        if self._dir_fd is not None:
            yield self
            return
        self._dir_fd = self._open_dir()
        try:
            yield self
        finally:
            os.close(self._dir_fd)
            self._dir_fd = None
            self._cache.clear()

    def _open_dir(self) -> int:
        path = self.root.proc(self.pid)
        try:
            fd = os.open(path, _fs.O_DIR)
        except FileNotFoundError as err:
            from .visibility import hidden_by_proc

            why = hidden_by_proc(self.pid, self.root)
            if why is not None:  # it exists: /proc does not show it to us
                raise AccessDenied(f"hidden from this user ({why})", pid=self.pid) from err
            raise NoSuchProcess(pid=self.pid, path=path) from err
        except OSError as err:
            raise _fs.map_os_error(err, path, pid=self.pid) from err
        try:
            stat: Optional[PidStat] = _fs.read_parsed("stat", parse_stat, dir_fd=fd, pid=self.pid)
        except NotAvailable as err:
            # A pid directory without stat: a tree that holds only some files.  Identity
            # cannot be checked there; the live kernel always has stat.
            if self.root.is_live:
                os.close(fd)
                raise NoSuchProcess(pid=self.pid) from err
            stat = None
        except BaseException:
            os.close(fd)
            raise
        if stat is not None:
            if self.start_time_ticks is None:
                self.start_time_ticks = stat.start_time_ticks
            elif stat.start_time_ticks != self.start_time_ticks:
                os.close(fd)
                raise NoSuchProcess("no such process (its pid now belongs to another process)", pid=self.pid)
            self._cache["stat"] = stat
        return fd

    def _read(self, name: str, parse):
        """Parse file ``name`` of the pid directory, once per oneshot()."""
        if self._dir_fd is None:
            with self.oneshot():
                return self._read(name, parse)
        if name not in self._cache:
            self._cache[name] = _fs.read_parsed(name, parse, dir_fd=self._dir_fd, pid=self.pid)
        return self._cache[name]

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
        """/proc/PID/comm, the name the kernel logs on a kill (at most 15 bytes)."""
        return self._read("comm", parse_comm)

    def memory_cgroup(self) -> Optional[MemoryCgroup]:
        """The memory cgroup this process is charged to (/proc/PID/cgroup), with its
        limits and counters; None without a memory controller or outside this view."""
        tid = self._mm_view()[1]  # a leader that exited stays in the cgroup it died in
        name = "cgroup" if tid is None else f"task/{tid}/cgroup"
        return cgroup_or_none(self._read(name, parse_memory_cgroup), self.root)

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
            for _ in range(5):
                status = self._fresh_mm_status()
                adj = self._fresh("oom_score_adj", _fs.parse_int)
                score = _fs.none_if_unreadable(self._fresh, "oom_score", _fs.parse_int)
                if self._fresh_mm_status().memory_bytes() == status.memory_bytes():
                    break
            root_bonus = root_bonus_applies(era, status.cap_eff,
                                            lambda: _fs.none_if_unreadable(self._fresh, "uid_map", parse_uid_map))
        return explain_score(status, adj, score, totalpages, page_size, era,
                             unkillable_reason(self.pid, status, adj, global_init),
                             counter_drift_pages(release, self.root.online_cpus()), root_bonus)

    def _fresh_mm_status(self) -> PidStatus:
        return read_mm_status(self._fresh("status", parse_status), dir_fd=self._dir_fd, pid=self.pid)[0]  # type: ignore[arg-type]

    def _mm_view(self):
        """(status as the OOM killer sees the process, the thread whose memory it shows or
        None): see read_mm_status(); once per oneshot()."""
        if self._dir_fd is None:
            with self.oneshot():
                return self._mm_view()
        if "mm" not in self._cache:
            self._cache["mm"] = read_mm_status(self.status(), dir_fd=self._dir_fd, pid=self.pid)
        return self._cache["mm"]

    def _fresh(self, name: str, parse):
        """Read ``name`` again through the open pid directory, past the oneshot cache."""
        return _fs.read_parsed(name, parse, dir_fd=self._dir_fd, pid=self.pid)

    def stat(self) -> PidStat:
        return self._read("stat", parse_stat)

    def status(self) -> PidStatus:
        return self._read("status", parse_status)

    def uids(self) -> Uids:
        return Uids(*self.status().uids)

    def memory(self) -> ProcessMemory:
        """RSS, swap and page tables in bytes, from status: the one file that has all three
        (a live thread's, when the leader has exited: see read_mm_status())."""
        return ProcessMemory(*self._mm_view()[0].memory_bytes())

    def info(self, era: Optional[str] = None) -> ProcessInfo:
        """All of the above in one record, reading each file once.

        Raises NoSuchProcess if the process is gone; a field that cannot be read here
        (permission, a file missing in a captured tree) is None.
        """
        with self.oneshot():
            comm = _fs.none_if_unreadable(self.name)
            if comm is None:
                stat = self._cache.get("stat")
                comm = stat.comm if isinstance(stat, PidStat) else "?"
            status = _fs.none_if_unreadable(self.status)
            memory = _fs.none_if_unreadable(self.memory)
            uid = status.uids[0] if status else None
            return ProcessInfo(
                pid=self.pid,
                comm=comm,
                uid=uid,
                user=user_name(self.root, uid) if uid is not None else None,
                oom_score=_fs.none_if_unreadable(self.oom_score),
                oom_score_adj=_fs.none_if_unreadable(self.oom_score_adj),
                oom_adj=_fs.none_if_unreadable(self.oom_adj),
                rss_bytes=memory.rss_bytes if memory else None,
                swap_bytes=memory.swap_bytes if memory else None,
                pgtables_bytes=memory.pgtables_bytes if memory else None,
                memory_cgroup=_fs.none_if_unreadable(self.memory_cgroup),
                explain=_fs.none_if_unreadable(self.explain, era),
            )

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

