"""cgroup v2 memory files (Documentation/admin-guide/cgroup-v2.rst)::

    memory.max                max                     (no limit)
    memory.events             low 0 / high 0 / max 12 / oom 1 / oom_kill 1 / oom_group_kill 0
"""

from __future__ import annotations

from .._record import Record

from .._fs import parse_int
from ..procfs.pressure import Pressure, parse_pressure
from .memcg import Counters, parse_bool, parse_flat_keyed, read_file

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows the start
    from typing import Dict, Optional


def parse_v2_limit(data: bytes) -> Optional[int]:
    """A v2 memory.max / high / swap.max value in bytes; None for "max" (no limit)."""
    if data.strip() == b"max":
        return None
    return parse_int(data)


def read_counters(directory: str) -> Counters:
    return Counters(usage_bytes=read_file(directory, "memory.current", parse_int),
                    limit_bytes=read_file(directory, "memory.max", parse_v2_limit))


class V2Files(Record):
    """The other v2 files oomutil reports."""

    high_bytes: Optional[int]  # memory.high: throttling, not OOM
    low_bytes: Optional[int]  # memory.low
    swap_limit_bytes: Optional[int]  # memory.swap.max
    peak_bytes: Optional[int]  # memory.peak (5.19+)
    events: Optional[Dict[str, int]]  # memory.events (counts descendants too since 5.2)
    events_local: Optional[Dict[str, int]]  # memory.events.local (5.2+)
    oom_group: Optional[bool]  # memory.oom.group (4.19+)
    pressure: Optional[Pressure]  # memory.pressure (4.20+)


def read_files(directory: str, brief: bool = False) -> V2Files:
    """``brief``: memory.low, memory.peak and memory.events.local left unread (None)."""
    return V2Files(
        high_bytes=read_file(directory, "memory.high", parse_v2_limit),
        low_bytes=None if brief else read_file(directory, "memory.low", parse_v2_limit),
        swap_limit_bytes=read_file(directory, "memory.swap.max", parse_v2_limit),
        peak_bytes=None if brief else read_file(directory, "memory.peak", parse_int),
        events=read_file(directory, "memory.events", parse_flat_keyed),
        events_local=None if brief else read_file(directory, "memory.events.local", parse_flat_keyed),
        oom_group=read_file(directory, "memory.oom.group", parse_bool),
        pressure=read_file(directory, "memory.pressure", parse_pressure),
    )
