"""cgroup v1 memory controller files (Documentation/admin-guide/cgroup-v1/memory.rst)::

    memory.limit_in_bytes     9223372036854771712     (no limit: PAGE_COUNTER_MAX pages)
    memory.oom_control        oom_kill_disable 0 / under_oom 0 / oom_kill 1 (4.13+)
"""

from __future__ import annotations

from .._record import Record

from .._fs import parse_int
from .memcg import Counters, parse_bool, parse_flat_keyed, read_file

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows the start
    from typing import Dict, Optional

# v1 prints "no limit" as PAGE_COUNTER_MAX pages in bytes: LONG_MAX rounded down to a
# page, 9223372036854771712 with 4 KiB pages, a little less with larger pages.  No real
# limit comes near 2**62 bytes (4 EiB).
_V1_UNLIMITED_FROM = 1 << 62


def parse_v1_limit(data: bytes) -> Optional[int]:
    """A v1 limit in bytes; None for "no limit"."""
    value = parse_int(data)
    return None if value >= _V1_UNLIMITED_FROM else value


def read_counters(directory: str, swap: bool = True, always_hierarchical: bool = False) -> Counters:
    """``swap`` False (the machine has no swap): the memory + swap counters are left unread
    (None).  Without swap they equal the memory ones or exceed them: memsw usage is memory
    usage, and the kernel refuses a memsw limit below the memory limit (mm/memcontrol-v1.c
    mem_cgroup_resize_max(), EINVAL), so they never bite first.  ``always_hierarchical``:
    the kernel is 5.11+, where memory.use_hierarchy always reads 1, unread."""
    return Counters(
        usage_bytes=read_file(directory, "memory.usage_in_bytes", parse_int),
        limit_bytes=read_file(directory, "memory.limit_in_bytes", parse_v1_limit),
        # a charge fails on whichever counter it would push over: memory, or memory + swap
        # where swap accounting is on (mm/memcontrol.c try_charge_memcg())
        memsw_usage_bytes=read_file(directory, "memory.memsw.usage_in_bytes", parse_int) if swap else None,
        memsw_limit_bytes=read_file(directory, "memory.memsw.limit_in_bytes", parse_v1_limit) if swap else None,
        # before 5.11 (bef8620cd8e0) use_hierarchy 0 kept children's charges out of this
        # cgroup: its limit did not bind them, and its OOM scanned its own tasks only
        use_hierarchy=True if always_hierarchical else read_file(directory, "memory.use_hierarchy", parse_bool),
    )


class V1Files(Record):
    """The other v1 files oomutil reports."""

    peak_bytes: Optional[int]  # memory.max_usage_in_bytes
    failcnt: Optional[int]  # memory.failcnt: charges that hit the limit
    oom_kill_count: Optional[int]  # memory.oom_control oom_kill (4.13+)
    oom_kill_disable: Optional[bool]  # memory.oom_control: tasks wait instead of dying
    under_oom: Optional[bool]
    swappiness: Optional[int]  # memory.swappiness


def read_files(directory: str, brief: bool = False, swap: bool = True) -> V1Files:
    """``brief``: peak and failcnt left unread (None): what a caller that shows neither saves;
    ``swap`` False (no swap on the machine): swappiness, which then decides nothing, too."""
    oom_control = read_file(directory, "memory.oom_control", parse_flat_keyed) or {}
    return V1Files(
        peak_bytes=None if brief else read_file(directory, "memory.max_usage_in_bytes", parse_int),
        failcnt=None if brief else read_file(directory, "memory.failcnt", parse_int),
        oom_kill_count=oom_control.get("oom_kill"),
        oom_kill_disable=_flag(oom_control, "oom_kill_disable"),
        under_oom=_flag(oom_control, "under_oom"),
        swappiness=read_file(directory, "memory.swappiness", parse_int) if swap else None,
    )


def _flag(values: Dict[str, int], key: str) -> Optional[bool]:
    return None if key not in values else values[key] != 0
