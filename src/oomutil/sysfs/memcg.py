"""Memory cgroup files both versions share (cgroup.procs, flat-keyed and 0/1 files), the
one reader of a cgroup directory's files, and the counters a limit is judged by.
memcg_v1.py and memcg_v2.py read the files of each version.

Every file is optional: kernels differ, and a tree may hold only some of them.
"""

from __future__ import annotations

import os
from .._record import Record

from .._fs import decode, none_if_unreadable, parse_int, parse_key_values, read_parsed
from ..errors import ParseError

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows the start
    from typing import Callable, List, Optional, TypeVar

    T = TypeVar("T")

# memory.events, memory.stat, memory.oom_control: "key value" lines
parse_flat_keyed = parse_key_values


def parse_procs(data: bytes) -> List[int]:
    """cgroup.procs: one pid per line (the processes whose threads are in this cgroup)."""
    try:
        return [int(line) for line in data.split()]
    except ValueError:
        raise ParseError("malformed cgroup.procs", line=decode(data[:80])) from None


def parse_bool(data: bytes) -> bool:
    """A 0/1 file such as memory.oom.group."""
    return parse_int(data) != 0


def read_file(directory: str, name: str, parse: Callable[[bytes], T]) -> Optional[T]:
    """One file of a cgroup directory, parsed; None where it is absent or unreadable
    (kernels differ, trees hold some files, a container may be denied some)."""
    return none_if_unreadable(read_parsed, os.path.join(directory, name), parse)


def read_procs(directory: str) -> Optional[List[int]]:
    return read_file(directory, "cgroup.procs", parse_procs)


class Counters(Record):
    """What a cgroup's limits are judged by: its usage and limit, and in v1 its memory +
    swap usage and limit and whether its limit binds its children."""

    usage_bytes: Optional[int]
    limit_bytes: Optional[int]  # None: no limit
    memsw_usage_bytes: Optional[int] = None  # v1 with swap accounting
    memsw_limit_bytes: Optional[int] = None
    use_hierarchy: Optional[bool] = True  # v1 memory.use_hierarchy; always so in v2


def read_inactive_file_bytes(directory: str, version: int) -> Optional[int]:
    """The cgroup's inactive page cache (memory.stat), the first memory reclaim frees before
    an OOM: v1 ``total_inactive_file`` (its subtree, as usage_in_bytes counts it), v2
    ``inactive_file`` (hierarchical already).  None where memory.stat is unreadable."""
    stat = read_file(directory, "memory.stat", parse_flat_keyed)
    if stat is None:
        return None
    return stat.get("total_inactive_file" if version == 1 else "inactive_file")
