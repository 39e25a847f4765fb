"""/proc/PID/mountinfo: where the cgroup hierarchies are mounted.

Sample::

    35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
    41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw

Fields: id, parent, major:minor, root (the subtree of the filesystem mounted here: a
container may see "/docker/abc..."), mount point, options, optional fields, "-", type,
source, super options.  Spaces and other bytes in paths are escaped as \\NNN (octal).
proc(5) /proc/pid/mountinfo; Documentation/filesystems/proc.rst 3.5.
"""

from __future__ import annotations

import os
import re
from .._record import Record

from .._fs import decode, read_parsed
from ..errors import AccessDenied, NotAvailable, ParseError

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows the start
    from typing import List, Optional, Tuple

    from ..root import Root


class Mount(Record):
    root: str  # the path inside the mounted filesystem that appears at mount_point
    mount_point: str  # where it is mounted, as the reading process sees it
    fstype: str  # "cgroup", "cgroup2", "proc", ...
    super_options: Tuple[str, ...]  # for cgroup v1, the controllers ("memory", ...)


def _unescape(text: str) -> str:
    """Octal escapes (\\040 for a space) back to characters; most paths have none."""
    if "\\" not in text:
        return text
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), text)


def parse_mountinfo(data: bytes) -> List[Mount]:
    mounts = []
    for line in data.splitlines():
        if not line.strip():
            continue
        text = decode(line)
        left, sep, right = text.partition(" - ")
        fields, rfields = left.split(), right.split()
        if not sep or len(fields) < 6 or len(rfields) < 2:
            raise ParseError("malformed mountinfo line", line=text)
        options = rfields[2].split(",") if len(rfields) > 2 else []
        mounts.append(Mount(_unescape(fields[3]), _unescape(fields[4]), rfields[0], tuple(options)))
    return mounts


# fs/proc/root.c: hidepid values, as numbers (before 5.8) or names
_HIDEPID = {"0": None, "off": None, "1": "noaccess", "noaccess": "noaccess", "2": "invisible",
            "invisible": "invisible", "4": "ptraceable", "ptraceable": "ptraceable"}


def read_proc_mount(root: Root) -> Tuple[Optional[str], bool]:
    """(hidepid, subset=pid) of the proc filesystem at the root's proc/, from its
    mountinfo: the last mount on that mount point is the one on top."""
    try:
        mounts = read_parsed(root.proc("self", "mountinfo"), parse_mountinfo)
    except (NotAvailable, AccessDenied):
        return None, False
    procs = [m for m in mounts if m.fstype == "proc"]
    here = os.path.realpath(root.proc())
    mine = [m for m in procs if m.mount_point == here] or [m for m in procs if m.mount_point == "/proc"]
    if not mine:
        return None, False
    options = dict(o.partition("=")[::2] for o in mine[-1].super_options)
    return _HIDEPID.get(options.get("hidepid", "0")), options.get("subset") == "pid"
