"""Memory cgroup files, v1 (memory controller hierarchy) and v2 (unified).

v1 (Documentation/admin-guide/cgroup-v1/memory.rst)::

    memory.limit_in_bytes     9223372036854771712     (no limit: PAGE_COUNTER_MAX pages)
    memory.oom_control        oom_kill_disable 0 / under_oom 0 / oom_kill 1 (4.13+)

v2 (Documentation/admin-guide/cgroup-v2.rst)::

    memory.max                max                     (no limit)
    memory.events             low 0 / high 0 / max 12 / oom 1 / oom_kill 1 / oom_group_kill 0

Every file is optional: kernels differ, and a tree may hold only some of them.
"""

from __future__ import annotations

from .._fs import decode, parse_int, parse_key_values
from ..errors import ParseError

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows the start
    from typing import List, Optional

# v1 prints "no limit" as PAGE_COUNTER_MAX pages in bytes: LONG_MAX rounded down to a
# page, 9223372036854771712 with 4 KiB pages, a little less with larger pages.  No real
# limit comes near 2**62 bytes (4 EiB).
_V1_UNLIMITED_FROM = 1 << 62


def parse_v1_limit(data: bytes) -> Optional[int]:
    """A v1 limit in bytes; None for "no limit"."""
    value = parse_int(data)
    return None if value >= _V1_UNLIMITED_FROM else value


def parse_v2_limit(data: bytes) -> Optional[int]:
    """A v2 memory.max / high / swap.max value in bytes; None for "max" (no limit)."""
    if data.strip() == b"max":
        return None
    return parse_int(data)


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
