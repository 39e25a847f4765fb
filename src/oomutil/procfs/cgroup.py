"""/proc/PID/cgroup: which memory cgroup a process is charged to.

Samples::

    4:memory:/process_api/681b63b2e5bf          cgroup v1 (hierarchy:controllers:path)
    0::/system.slice/sshd.service              cgroup v2 (hierarchy 0, no controllers)

A hybrid host has both kinds of line.  The memory controller lives in exactly one
hierarchy: the v1 line whose controller list holds "memory" if there is one, otherwise
the v2 line.  Paths are relative to the cgroup root, or to the reader's cgroup
namespace (they may then start with "/.."); a path may itself contain ":".
Documentation/admin-guide/cgroup-v2.rst, "Processes"; proc(5) /proc/pid/cgroup.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows the start
    from typing import Optional

from .._fs import decode
from ..errors import ParseError


def parse_memory_cgroup(data: bytes) -> Optional[str]:
    """The path of the memory cgroup in /proc/PID/cgroup, or None if neither a v1
    memory line nor a v2 line is there (a kernel without memory cgroups)."""
    unified = None
    for line in data.split(b"\n"):
        if not line:
            continue
        hierarchy, sep1, rest = line.partition(b":")
        controllers, sep2, path = rest.partition(b":")
        if not (sep1 and sep2 and hierarchy.isdigit()):
            raise ParseError("malformed cgroup line", line=decode(line))
        if controllers:
            if controllers == b"memory" or b"memory" in controllers.split(b","):
                return decode(path)
        elif hierarchy == b"0":
            unified = path
    return None if unified is None else decode(unified)
