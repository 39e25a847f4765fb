"""/proc/PID files: stat, status, the oom_* files and comm.

Samples (Linux 6.18)::

    stat:    2016 (sleep) S 1975 1973 1085 0 -1 4194304 ... 11606 ...
    status:  Name:\tsleep / Uid:\t0\t0\t0\t0 / VmRSS:\t    1700 kB / VmSwap: ... / VmPTE: ...
    oom_score 666, oom_score_adj 0, oom_adj 0

Documentation/filesystems/proc.rst, tables 1-2 (status) and 1-4 (stat), section 3.1-3.2.
"""

from __future__ import annotations

from .._record import Record
TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows the start
    from typing import Callable, Dict, List, Optional, Tuple, TypeVar
    T = TypeVar("T")

from .._fs import decode, list_dir, read_parsed
from ..errors import AccessDenied, NoSuchProcess, NotAvailable, ParseError
from ..root import Root


# include/linux/sched.h: set for kernel threads (kthreadd and its children).
PF_KTHREAD = 0x00200000
# include/uapi/linux/capability.h: lowering oom_score_adj below the process's
# oom_score_adj_min needs it (fs/proc/base.c __set_oom_adj())
CAP_SYS_RESOURCE = 24
# include/uapi/linux/oom.h: the legacy oom_adj scale, before oom_score_adj (2.6.36)
OOM_DISABLE, OOM_ADJUST_MAX = -17, 15


def c_div(a: int, b: int) -> int:
    """C's integer division: truncates toward zero (Python's // floors).  The kernel's
    arithmetic on oom_adj and on badness (badness.py) uses it."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def oom_adj_to_score_adj(oom_adj: int) -> int:
    """What the kernel stores when oom_adj is written (fs/proc/base.c oom_adj_write(),
    2.6.36+): 15 is 1000, else oom_adj * 1000 / 17 (-17 is -1000)."""
    return 1000 if oom_adj == OOM_ADJUST_MAX else c_div(oom_adj * 1000, -OOM_DISABLE)


def score_adj_to_oom_adj(score_adj: int) -> int:
    """What /proc/PID/oom_adj shows for an oom_score_adj (oom_adj_read()): score_adj * 17 /
    1000, at most 15 (942..1000 all read 15: measured on 6.18); the oom_adj to write on a
    kernel that has only oom_adj."""
    return min(c_div(score_adj * -OOM_DISABLE, 1000), OOM_ADJUST_MAX)


class PidStat(Record):
    """The fields of /proc/PID/stat that oomutil uses."""

    pid: int
    comm: str  # field 2, raw (may hold spaces and parentheses)
    state: str  # field 3: R, S, D, Z, T, t, X, I ...
    ppid: int  # field 4
    flags: int  # field 9, PF_* bits
    num_threads: int  # field 20
    start_time_ticks: int  # field 22, clock ticks after boot: identifies an incarnation

    @property
    def is_kernel_thread(self) -> bool:
        return bool(self.flags & PF_KTHREAD)


def parse_stat(data: bytes) -> PidStat:
    """Parse /proc/PID/stat.

    comm is whatever sits between the first "(" and the *last* ")": a process can
    name itself ``a) b (c``, so splitting on spaces is wrong (psutil #1122 and kin).
    After the ")" field N of proc(5) is at index N - 3.
    """
    open_at = data.find(b"(")
    close_at = data.rfind(b")")
    rest = data[close_at + 2 :].split()
    try:
        if open_at < 0 or close_at < open_at or len(rest) < 20:
            raise ValueError
        return PidStat(  # pid, comm, state, ppid, flags, num_threads, start_time_ticks
            int(data[:open_at]), decode(data[open_at + 1 : close_at]), rest[0].decode("ascii"),
            int(rest[1]), int(rest[6]), int(rest[17]), int(rest[19]),
        )
    except ValueError:
        raise ParseError("malformed stat line", line=decode(data.rstrip(b"\n"))) from None


class PidStatus(Record):
    """The fields of /proc/PID/status that oomutil uses.

    Memory fields are None when the line is absent: a task with no mm (kernel thread,
    zombie, a process in its last moments) has no Vm* lines at all, and old kernels
    lack VmSwap (< 2.6.34).
    """

    name: str  # Name: comm as the process set it (the kernel's "\\n" and "\\\\" undone)
    state: str  # State: first letter (R, S, D, Z, T, I ...)
    tgid: Optional[int]  # Tgid:
    threads: Optional[int]  # Threads: threads in the group (a leader that exited counts)
    ppid: int  # PPid:
    uids: Tuple[int, int, int, int]  # Uid: real, effective, saved set, filesystem
    rss_bytes: Optional[int]  # VmRSS: = RssAnon + RssFile + RssShmem = get_mm_rss()
    swap_bytes: Optional[int]  # VmSwap: = MM_SWAPENTS
    pgtables_bytes: Optional[int]  # VmPTE: = mm_pgtables_bytes()
    nspid: Tuple[int, ...]  # NSpid: (4.1+) pid in each nested pid namespace, outermost first
    kthread: Optional[bool]  # Kthread: (newer kernels, 2024); None where the line is absent
    rss_anon_bytes: Optional[int]  # RssAnon: (4.5+), the three parts of VmRSS
    rss_file_bytes: Optional[int]  # RssFile:
    rss_shmem_bytes: Optional[int]  # RssShmem:
    pmd_bytes: Optional[int]  # VmPMD: (4.0-4.14: page-middle-directory pages, counted apart)
    cap_eff: Optional[int]  # CapEff: effective capabilities (CAP_SYS_ADMIN, bit 21, got a
    #                         badness bonus before 4.17)

    def memory_bytes(self) -> Tuple[int, Optional[int], Optional[int]]:
        """(rss, swap, page tables) in bytes as the OOM killer counts them: all 0 for a
        task without mm; None only for a line this kernel does not print."""
        if self.rss_bytes is None:
            return 0, 0, 0
        return self.rss_bytes, self.swap_bytes, self.pgtables_bytes

    @property
    def is_kernel_thread(self) -> bool:
        """PF_KTHREAD, from the Kthread: line, or where it is absent from its traces:
        no mm (no VmRSS), a child of kthreadd (pid 2) or kthreadd itself, not a zombie.
        A user-mode helper also starts as a child of kthreadd but has an mm."""
        if self.kthread is not None:
            return self.kthread
        return self.rss_bytes is None and self.ppid in (0, 2) and self.state not in ("Z", "X")


# The status lines parse_status() reads, in PidStatus's order.
_STATUS_KEYS = (b"Name", b"State", b"Tgid", b"Threads", b"PPid", b"Uid", b"VmRSS", b"VmSwap", b"VmPTE",
                b"NSpid", b"Kthread", b"RssAnon", b"RssFile", b"RssShmem", b"VmPMD", b"CapEff")
_PREFIXES = tuple(key + b":\t" for key in _STATUS_KEYS)
# line count -> where each key's line was (-1: absent) the last time a status of that many
# lines was parsed.  Within one kernel every task with memory prints the same lines in the
# same order (fs/proc/array.c), and every task without (kernel thread, zombie) a shorter,
# equally fixed set; so the next status is read by position, each line's key checked, and
# learned afresh when a check fails (another kernel's tree).  Measured: 6 us instead of
# 22 for finding each key in the text.
_layouts: Dict[int, Tuple[int, ...]] = {}


def _status_values(data: bytes) -> List[Optional[bytes]]:
    """The text after "Key:\\t" of each of _STATUS_KEYS (None: no such line)."""
    lines = data.split(b"\n")
    layout = _layouts.get(len(lines))
    if layout is not None:
        values: List[Optional[bytes]] = []
        for prefix, at in zip(_PREFIXES, layout):
            if at >= 0:
                line = lines[at]
                if not line.startswith(prefix):
                    break
                values.append(line[len(prefix):])
            elif data.startswith(prefix) or b"\n" + prefix in data:  # absent before, here now
                break
            else:
                values.append(None)
        else:
            return values
    where: Dict[bytes, int] = {}
    for at, line in enumerate(lines):
        key, sep, _ = line.partition(b":\t")
        if sep and key not in where:
            where[key] = at
    if len(_layouts) > 64:  # trees of many kernels in one process: stay small
        _layouts.clear()
    layout = _layouts[len(lines)] = tuple(where.get(key, -1) for key in _STATUS_KEYS)
    return [lines[at][len(prefix):] if at >= 0 else None for prefix, at in zip(_PREFIXES, layout)]


def _kb(value: bytes) -> int:
    if not value.endswith(b" kB"):
        raise ValueError(value)
    return int(value[:-3]) * 1024


def _uids(value: bytes) -> Tuple[int, int, int, int]:
    real, effective, saved, fs = (int(u) for u in value.split())
    return real, effective, saved, fs


def _name(value: bytes) -> str:
    """status Name: as the process named itself: the kernel escapes only "\\n" and "\\\\" there
    (fs/proc/array.c proc_task_name(), the same two since 2.6; every other byte, control
    characters included, is written raw), so those two are undone."""
    if b"\\" in value:  # every backslash is escaped: split on those first
        value = b"\\".join(part.replace(b"\\n", b"\n") for part in value.split(b"\\\\"))
    return decode(value)


# How each of _STATUS_KEYS reads (PidStatus's field types).
_CONVERTERS: Tuple[Callable[[bytes], object], ...] = (
    _name, lambda v: decode(v[:1]), int, int, int, _uids, _kb, _kb, _kb,
    lambda v: tuple(int(n) for n in v.split()), lambda v: int(v) != 0, _kb, _kb, _kb, _kb, lambda v: int(v, 16),
)


def parse_status(data: bytes) -> PidStatus:
    """Parse /proc/PID/status ("Key:\\tvalue" lines; other keys are ignored)."""
    values = _status_values(data)
    try:
        fields = [None if value is None else convert(value) for value, convert in zip(values, _CONVERTERS)]
    except ValueError:
        for prefix, value, convert in zip(_PREFIXES, values, _CONVERTERS):  # which line
            try:
                None if value is None else convert(value)
            except ValueError:
                raise ParseError("malformed status line", line=decode(prefix + value)) from None  # type: ignore[operator]
        raise
    if fields[5] is None:
        raise ParseError("status has no Uid line")
    name, state, _, _, ppid, _, _, _, _, nspid = fields[:10]
    fields[:10] = [name or "", state or "?", *fields[2:4], ppid or 0, *fields[5:9], nspid or ()]
    return PidStatus(*fields)  # type: ignore[arg-type]


def read_mm_status(status: PidStatus, *, dir_fd: int, pid: int) -> Tuple[PidStatus, Optional[int]]:
    """The process as the OOM killer sees it, and the thread that shows its memory.

    oom_badness() and proc_oom_score() take the first thread of the group that still
    has an mm (find_lock_task_mm()).  When the leader has exited while other threads
    live (main() called pthread_exit()), the leader's own status reads "Z (zombie)"
    with no Vm* lines, and the process is still scored and killed like any other: its
    memory and state are those of a live thread (task/TID/status).  Returns the status
    with that thread's state and memory fields, and the thread id (None: the leader's
    own status holds them, or no thread has an mm left).  ``dir_fd``: the pid directory.
    """
    if status.rss_bytes is not None or (status.threads or 0) < 2:
        return status, None
    try:
        tids = list_dir("task", dir_fd=dir_fd, pid=pid)
    except (NotAvailable, AccessDenied):  # a tree without task/, or a view that hides it
        return status, None
    for name in sorted((t for t in tids if t.isdigit()), key=int):
        if int(name) == pid:
            continue
        try:
            thread = read_parsed(f"task/{name}/status", parse_status, dir_fd=dir_fd, pid=pid)
        except (NotAvailable, AccessDenied, NoSuchProcess):  # that thread exited, or is hidden
            continue
        if thread.rss_bytes is not None:
            return status._replace(state=thread.state, rss_bytes=thread.rss_bytes,
                           swap_bytes=thread.swap_bytes, pgtables_bytes=thread.pgtables_bytes,
                           rss_anon_bytes=thread.rss_anon_bytes, rss_file_bytes=thread.rss_file_bytes,
                           rss_shmem_bytes=thread.rss_shmem_bytes, pmd_bytes=thread.pmd_bytes), int(name)
    return status, None


def parse_uid_map(data: bytes) -> bool:
    """/proc/PID/uid_map (3.5+): True for the initial user namespace, whose one line maps
    every uid onto itself ("0 0 4294967295"); a container's namespace maps a range."""
    return data.split() == [b"0", b"0", b"4294967295"]


def read_pid1_is_global_init(root: Root) -> bool:
    """Is pid 1 of this proc the global init (never an OOM candidate)?  Only the initial
    pid namespace shows kernel threads, so it is where pid 2 is kthreadd; in a
    container's /proc, pid 1 is an ordinary, killable process."""
    try:
        return read_parsed(root.proc(2, "stat"), parse_stat).is_kernel_thread
    except (NoSuchProcess, NotAvailable, AccessDenied):  # no pid 2 here (a ParseError is not that)
        return False
