"""/proc/vmstat: "name value" counters since boot.

Sample::

    nr_free_pages 5790531
    oom_kill 1

``oom_kill`` counts global and memcg OOM kills since boot; it exists since Linux 4.13
(8e675f7af507 "mm/oom_kill: count global and memory cgroup oom kills").
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows the start
    from typing import Optional

from .._fs import parse_key_values, read_parsed
from ..root import Root


# /proc/vmstat is "name value" lines: the shared parser reads it.
parse_vmstat = parse_key_values


def read_oom_kill_count(root: Root) -> Optional[int]:
    """The ``oom_kill`` counter of /proc/vmstat; None on kernels before 4.13 that lack it.

    Raises NotAvailable when the tree has no vmstat file at all.
    """
    return read_parsed(root.proc("vmstat"), parse_vmstat).get("oom_kill")
