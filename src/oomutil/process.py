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
from ._record import Record
TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows the start
    from typing import Iterator, Optional, Union

from . import _fs
from .errors import AccessDenied, InvalidValue, NoSuchProcess, NotAvailable, OomutilError
from .procfs.cgroup import parse_memory_cgroup
from ._fs import read_parsed
from .procfs.pid import (CAP_SYS_RESOURCE, OOM_ADJUST_MAX, OOM_DISABLE, PidStat, PidStatus, parse_stat, parse_status,
                         parse_uid_map, oom_adj_to_score_adj, score_adj_to_oom_adj)
from .procfs.piddir import PidDir, hidden_by_proc
from .procfs.sysctl import read_overcommit_memory
from .root import Root, as_root

__all__ = ["Process", "ProcessMemory", "Uids", "ScoreInputs", "check_writable"]



class Uids(Record):
    """The four user ids of /proc/PID/status ``Uid:``."""

    real: int
    effective: int
    saved: int
    filesystem: int


class ProcessMemory(Record):
    """The memory the OOM killer counts for a process (mm/oom_kill.c oom_badness()).

    A task without an mm (kernel thread, zombie) has no Vm* lines and reports 0.
    """

    rss_bytes: int  # VmRSS: anon + file + shmem resident pages (shared pages count in full)
    swap_bytes: Optional[int]  # VmSwap: swap entries owned by the mm; None before 2.6.34
    pgtables_bytes: Optional[int]  # VmPTE: page tables; None on kernels without the line


class ScoreInputs(Record):
    """What oom_badness() reads of one process, read together from one incarnation: the
    input of the badness arithmetic (oomutil.explain_process())."""

    status: PidStatus  # as the OOM killer sees it: a live thread's memory where the leader exited
    oom_score_adj: int
    oom_score: Optional[int]  # what the kernel printed; None where it may not be read here
    initial_user_ns: Optional[bool]  # uid_map: the CAP_SYS_ADMIN bonus (< 4.17) needs it; None unknown


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
        """/proc/PID/oom_score: the kernel's badness on the 0..2000 scale (5.9+; 0..1000 before).

        Since 5.9, 0 is the global init, a kernel thread, adj -1000 or a task without memory;
        a killable task at adj -999 reads at least 1 (C's division truncates toward zero).
        Before 5.9 such a task read 0 as well: use ``oom_score_adj`` to tell them apart.
        """
        return self._read("oom_score", _fs.parse_int)

    def oom_score_adj(self) -> int:
        """/proc/PID/oom_score_adj: -1000 (never kill) .. 1000 (kill first)."""
        return self._read("oom_score_adj", _fs.parse_int)

    def set_oom_score_adj(self, value: int) -> None:
        """Write /proc/PID/oom_score_adj (-1000 never kill .. 1000 kill first) through the
        pinned pid directory: a pid reused by another process since this Process was made
        raises NoSuchProcess, and nothing is written to the newcomer.

        Without CAP_SYS_RESOURCE a process's value can go up, and down only to its floor (the
        kernel's oom_score_adj_min, not shown in /proc): the value of the last oom_score_adj
        write by a CAP_SYS_RESOURCE holder, raises included (systemd's OOMScoreAdjust=500
        makes it 500; so does this call, made with the capability), 0 when there was none,
        inherited at fork; oom_adj writes never move it.  Lower raises AccessDenied saying
        so.  InvalidValue outside -1000..1000.  The kernel applies it to the whole thread group, and since 4.8 to every
        process sharing its memory through clone(CLONE_VM) without CLONE_THREAD or
        CLONE_VFORK (fs/proc/base.c __set_oom_adj(); since 5.10 only for an mm that
        kernel/fork.c copy_oom_score_adj() flagged MMF_MULTIPROCESS); a vfork child keeps its
        own value, and a write to it changes nobody else."""
        if isinstance(value, bool) or not isinstance(value, int) or not -1000 <= value <= 1000:
            raise InvalidValue(f"oom_score_adj {value!r} is outside -1000..1000", pid=self.pid)
        with self.oneshot():
            d = self._pinned()
            try:
                before = d.fresh("oom_score_adj", _fs.parse_int)
            except NotAvailable:  # a kernel before 2.6.36: only the legacy scale
                self.set_oom_adj(score_adj_to_oom_adj(value))
                return
            try:
                d.write("oom_score_adj", str(value), self.root.proc(self.pid))
            except AccessDenied as err:
                raise AccessDenied(_why_denied(self.root, value, before, d=d), pid=self.pid,
                                   path=self.root.proc(self.pid, "oom_score_adj")) from err

    def write_refusal(self, value: int) -> Optional[str]:
        """Why set_oom_score_adj(``value``) would be refused, checked without writing as the
        write is: not the kernel's procfs; another user's process (the file's permissions);
        below the floor without CAP_SYS_RESOURCE (fs/proc/base.c __set_oom_adj(), 2.6.36+).
        The floor, oom_score_adj_min, is the value of the last oom_score_adj write by a
        CAP_SYS_RESOURCE holder, raises included (0 when there was none; oom_adj writes never
        move it), and /proc does not show it: the default is assumed, 0, or the current value
        where that is lower (it came from such a write).  So a lowering to 0 or above is
        taken as allowed although a floor above it (systemd's OOMScoreAdjust=500) refuses it,
        and the real write says so.  None where the kernel would take it.  InvalidValue
        outside -1000..1000."""
        if isinstance(value, bool) or not isinstance(value, int) or not -1000 <= value <= 1000:
            raise InvalidValue(f"oom_score_adj {value!r} is outside -1000..1000", pid=self.pid)
        with self.oneshot():
            d = self._pinned()
            path = self.root.proc(self.pid, "oom_score_adj")
            try:
                _fs.check_procfs(d.fd, path, self.pid)  # type: ignore[arg-type]
            except NotAvailable as err:
                return err.msg
            before = d.fresh("oom_score_adj", _fs.parse_int)
            owner = _owner_refusal(self.root, d, "oom_score_adj", value)
            if owner is not None:
                return owner
            floor = min(0, before)
            if value < floor and not _self_has_cap_sys_resource(self.root):
                return _lowering_refusal("oom_score_adj", value, before, floor)
            return None

    def set_oom_adj(self, value: int) -> None:
        """Write the legacy /proc/PID/oom_adj (-17 never kill .. 15), as set_oom_score_adj()
        does; the kernel stores oom_score_adj = 1000 for 15, else value * 1000 / 17
        (procfs/pid.oom_adj_to_score_adj()).  For kernels that have only oom_adj."""
        if isinstance(value, bool) or not isinstance(value, int) or not OOM_DISABLE <= value <= OOM_ADJUST_MAX:
            raise InvalidValue(f"oom_adj {value!r} is outside -17..15", pid=self.pid)
        with self.oneshot():
            d = self._pinned()
            try:
                d.write("oom_adj", str(value), self.root.proc(self.pid))
            except AccessDenied as err:
                try:  # the kernel compares in oom_score_adj units
                    before, units = d.fresh("oom_score_adj", _fs.parse_int), "oom_score_adj"
                except NotAvailable:  # before 2.6.36: oom_adj is the value itself
                    before, units = d.fresh("oom_adj", _fs.parse_int), "oom_adj"
                raise AccessDenied(_why_denied(self.root, value, before, "oom_adj", d=d, units=units), pid=self.pid,
                                   path=self.root.proc(self.pid, "oom_adj")) from err

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

    def memory_cgroup_path(self) -> Optional[str]:
        """The path of the memory cgroup this process is charged to (/proc/PID/cgroup: the
        v1 memory hierarchy's, else the cgroup2 one); None without a memory controller."""
        with self.oneshot():
            return self._read(self._pinned().cgroup_file(), parse_memory_cgroup)

    def score_inputs(self) -> ScoreInputs:
        """status, oom_score_adj, oom_score and uid_map, each read afresh through one pinned
        directory.  status is read before and after oom_score; if the memory moved in between
        (a busy process), all is read again, up to five times."""
        with self.oneshot():
            d = self._pinned()
            for _ in range(5):
                status = d.fresh_mm_status()
                adj = d.fresh("oom_score_adj", _fs.parse_int)
                score = _fs.none_if_unreadable(d.fresh, "oom_score", _fs.parse_int)
                if d.fresh_mm_status().memory_bytes() == status.memory_bytes():
                    break
            return ScoreInputs(status, adj, score, _fs.none_if_unreadable(d.fresh, "uid_map", parse_uid_map))

    def stat(self) -> PidStat:
        """/proc/PID/stat: pid, comm (raw), state, ppid, flags, threads and start time in
        clock ticks after boot (PidStat).  Raises NoSuchProcess once the process is gone."""
        return self._read("stat", parse_stat)

    def status(self) -> PidStatus:
        """/proc/PID/status as the leader shows it (PidStatus): memory in bytes (None where
        the line is absent: no mm, or a kernel without the line), uids, threads, CapEff."""
        return self._read("status", parse_status)

    def uids(self) -> Uids:
        """The real, effective, saved and filesystem uids (status Uid:)."""
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


def check_writable(root: Union[Root, str, None] = None) -> None:
    """NotAvailable unless ``root``'s proc/ is the kernel's procfs, where oom_score_adj can be
    written: a captured tree or a copy of one is refused.  set_oom_score_adj() checks the
    same on every write; this says it once, before a command starts on many processes."""
    root = as_root(root)
    fd = _fs.open_dir(root.proc())
    try:
        _fs.check_procfs(fd, root.proc())
    finally:
        os.close(fd)


def _self_caps(root: Root) -> int:
    try:
        return read_parsed(root.proc("self", "status"), parse_status).cap_eff or 0
    except OomutilError:
        return 0


def _self_has_cap_sys_resource(root: Root) -> bool:
    return bool(_self_caps(root) >> CAP_SYS_RESOURCE & 1)


CAP_DAC_OVERRIDE = 1


def _owner_refusal(root: Root, d: PidDir, knob: str, value: int) -> Optional[str]:
    """The kernel's first check, at open(): the file's mode (0644) and owner, the process's
    effective uid, or root when the process is not dumpable (fs/proc/base.c
    task_dump_owner(): prctl PR_SET_DUMPABLE 0, a setuid or file-capability program).  None
    where this process may open it for writing."""
    try:
        st = os.stat(knob, dir_fd=d.fd)  # type: ignore[arg-type]
    except OSError:
        return None
    me = os.geteuid()  # the filesystem uid follows it
    if (st.st_uid == me and st.st_mode & 0o200) or st.st_mode & 0o002 or _self_caps(root) >> CAP_DAC_OVERRIDE & 1:
        return None
    try:
        euid: Optional[int] = d.fresh("status", parse_status).uids[1]
    except OomutilError:
        euid = None
    if euid is None or euid == st.st_uid:
        whose = "its effective uid"
    elif st.st_uid == 0:
        whose = f"not its effective uid {euid}: the process is not dumpable, and then root owns its /proc files"
    else:
        whose = f"not its effective uid {euid}"
    return (f"may not set {knob} to {value}: /proc/{d.pid}/{knob} is mode {st.st_mode & 0o7777:04o}, owned by uid "
            f"{st.st_uid} ({whose}), and this process's effective uid is {me}, without CAP_DAC_OVERRIDE")


def _lowering_refusal(knob: str, value: int, before: int, floor: Optional[int]) -> str:
    """``floor``: the floor a prediction assumed; None after the kernel refused."""
    if knob == "oom_adj":
        return (f"cannot lower oom_adj from {before} to {value}: through the legacy oom_adj any lowering needs "
                "CAP_SYS_RESOURCE, which this process lacks (oom_score_adj allows it down to the floor)")
    if floor is None:  # the kernel refused
        return (f"cannot lower {knob} from {before} to {value}: {value} is below its floor, and going below its "
                f"floor needs CAP_SYS_RESOURCE, which this process lacks ({_FLOOR})")
    return (f"cannot lower {knob} from {before} to {value} unless its floor is {value} or lower: going below its floor "
            f"needs CAP_SYS_RESOURCE, which this process lacks, and the floor is taken to be {floor} ({_FLOOR})")


_FLOOR = ("the floor, not shown in /proc, is the value of the last oom_score_adj write by a CAP_SYS_RESOURCE "
          "holder, raises included, such as systemd's OOMScoreAdjust=; 0 when there was none; inherited at fork; "
          "oom_adj writes never move it")


def _why_denied(root: Root, value: int, before: int, knob: str = "oom_score_adj", *, d: Optional[PidDir] = None,
                units: str = "oom_score_adj") -> str:
    """Why the kernel refused writing ``value`` to ``knob`` over ``before`` (the current value,
    in ``units``), decided in the kernel's order: the file's owner and mode at open(), given
    the pinned directory ``d``; then the floor and capability rule (fs/proc/base.c
    __set_oom_adj()), for oom_adj against the current value in oom_score_adj units."""
    if d is not None:
        owner = _owner_refusal(root, d, knob, value)
        if owner is not None:
            return owner
    if _self_has_cap_sys_resource(root):
        return f"may not set {knob} to {value}: the kernel refused it although this process may (a security policy?)"
    if knob == "oom_adj":
        wanted = oom_adj_to_score_adj(value) if units == "oom_score_adj" else value
        if wanted < before:
            return (f"cannot lower through the legacy oom_adj: oom_adj {value} is {units} {wanted}, below the current "
                    f"{before}; through the legacy oom_adj any lowering needs CAP_SYS_RESOURCE, which this process "
                    "lacks (oom_score_adj allows it down to the floor)")
        return f"may not set oom_adj to {value} (oom_score_adj {wanted}): the kernel refused it"
    if value < before:
        return _lowering_refusal(knob, value, before, None)
    return (f"cannot set {knob} to {value}: the kernel refused it; likely {value} is below the process's floor, "
            f"which can stand above the current value {before} (a CAP_SYS_RESOURCE holder set the floor, then the "
            "value was lowered through oom_adj, which leaves the floor), and going below the floor needs "
            f"CAP_SYS_RESOURCE, which this process lacks ({_FLOOR}); else a security module refused it")
