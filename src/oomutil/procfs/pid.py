"""/proc/PID files: stat, status, the oom_* files and comm.

Samples (Linux 6.18)::

    stat:    2016 (sleep) S 1975 1973 1085 0 -1 4194304 ... 11606 ...
    status:  Name:\tsleep / Uid:\t0\t0\t0\t0 / VmRSS:\t    1700 kB / VmSwap: ... / VmPTE: ...
    oom_score 666, oom_score_adj 0, oom_adj 0

Documentation/filesystems/proc.rst, tables 1-2 (status) and 1-4 (stat), section 3.1-3.2.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Tuple, TypeVar

from .._fs import decode
from ..errors import ParseError

T = TypeVar("T")

# include/linux/sched.h: set for kernel threads (kthreadd and its children).
PF_KTHREAD = 0x00200000


@dataclass(frozen=True)
class PidStat:
    """The fields of /proc/PID/stat that oomutil uses."""

    pid: int
    comm: str  # field 2, raw (may hold spaces and parentheses)
    state: str  # field 3: R, S, D, Z, T, t, X, I ...
    ppid: int  # field 4
    flags: int  # field 9, PF_* bits
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
        return PidStat(
            pid=int(data[:open_at]),
            comm=decode(data[open_at + 1 : close_at]),
            state=rest[0].decode("ascii"),
            ppid=int(rest[1]),
            flags=int(rest[6]),
            start_time_ticks=int(rest[19]),
        )
    except ValueError:
        raise ParseError("malformed stat line", line=decode(data.rstrip(b"\n"))) from None


@dataclass(frozen=True)
class PidStatus:
    """The fields of /proc/PID/status that oomutil uses.

    Memory fields are None when the line is absent: a task with no mm (kernel thread,
    zombie) has no Vm* lines at all, and old kernels lack VmSwap (< 2.6.34) or VmPTE.
    """

    name: str  # Name: (escaped by the kernel; prefer comm for display)
    state: str  # State: first letter
    tgid: int  # Tgid:
    uids: Tuple[int, int, int, int]  # Uid: real, effective, saved set, filesystem
    rss_bytes: Optional[int]  # VmRSS: = RssAnon + RssFile + RssShmem = get_mm_rss()
    swap_bytes: Optional[int]  # VmSwap: = MM_SWAPENTS
    pgtables_bytes: Optional[int]  # VmPTE: = mm_pgtables_bytes()
    nspid: Tuple[int, ...]  # NSpid: (4.1+) pid in each nested pid namespace, outermost first


def _field(fields: Dict[bytes, bytes], key: bytes, convert: Callable[[bytes], T], default: T) -> T:
    """Convert one status value; a malformed one raises ParseError quoting its line."""
    value = fields.get(key)
    if value is None:
        if default is _REQUIRED:
            raise ParseError(f"status has no {decode(key)} line")
        return default
    try:
        return convert(value)
    except ValueError:
        raise ParseError("malformed status line", line=decode(key + b":\t" + value)) from None


_REQUIRED: Any = object()


def _kb(value: bytes) -> int:
    number, _, unit = value.partition(b" ")
    if unit.strip() != b"kB":
        raise ValueError(value)
    return int(number) * 1024


def _uids(value: bytes) -> Tuple[int, int, int, int]:
    real, effective, saved, fs = (int(u) for u in value.split())
    return real, effective, saved, fs


def _ints(value: bytes) -> Tuple[int, ...]:
    return tuple(int(v) for v in value.split())


def parse_status(data: bytes) -> PidStatus:
    """Parse /proc/PID/status ("Key:\\tvalue" lines; unknown keys are ignored)."""
    fields: Dict[bytes, bytes] = {}
    for line in data.splitlines():
        key, sep, value = line.partition(b":")
        if sep:
            fields[key] = value.strip()
    return PidStatus(
        name=decode(fields.get(b"Name", b"")),
        state=decode(fields.get(b"State", b"?")[:1]),
        tgid=_field(fields, b"Tgid", int, _REQUIRED),
        uids=_field(fields, b"Uid", _uids, _REQUIRED),
        rss_bytes=_field(fields, b"VmRSS", _kb, None),
        swap_bytes=_field(fields, b"VmSwap", _kb, None),
        pgtables_bytes=_field(fields, b"VmPTE", _kb, None),
        nspid=_field(fields, b"NSpid", _ints, ()),
    )


def parse_comm(data: bytes) -> str:
    """/proc/PID/comm: the name (at most 15 bytes, any byte but NUL) and a newline."""
    return decode(data[:-1] if data.endswith(b"\n") else data)
