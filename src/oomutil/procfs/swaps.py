"""/proc/swaps: the swap areas in use, zram devices among them.

Sample (mm/swapfile.c, swap_show(); sizes in KiB)::

    Filename                                Type            Size            Used            Priority
    /dev/zram0                              partition       262140          0               100
    /swapfile                               file            2097148         0               -2

seq_file escapes a space, tab, newline or backslash in the name as an octal \\NNN.
"""

from __future__ import annotations

import re

from .._record import Record

from .._fs import decode, read_parsed
from ..errors import ParseError

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows the start
    from typing import List

    from ..root import Root


class SwapArea(Record):
    filename: str  # "/dev/zram0", "/swapfile" ("(deleted)" follows a file removed while in use)
    type: str  # "partition" or "file"
    size_bytes: int
    used_bytes: int
    priority: int  # higher first; zram is usually given 100, disks -2 and below

    @property
    def is_zram(self) -> bool:
        return self.filename.startswith("/dev/zram")


_OCTAL = re.compile(r"\\([0-7]{3})")


def parse_swaps(data: bytes) -> List[SwapArea]:
    areas = []
    for line in data.splitlines()[1:]:  # the first line is the header
        if not line.strip():
            continue
        # The name may hold "(deleted)" after a space: the four numbers are taken from the end.
        fields = decode(line).split()
        try:
            name = " ".join(fields[:-4])
            kind, size, used, priority = fields[-4], int(fields[-3]), int(fields[-2]), int(fields[-1])
        except (IndexError, ValueError):
            raise ParseError("malformed swaps line", line=decode(line)) from None
        if not name:
            raise ParseError("malformed swaps line", line=decode(line))
        name = _OCTAL.sub(lambda m: chr(int(m.group(1), 8)), name)
        areas.append(SwapArea(name, kind, size * 1024, used * 1024, priority))
    return areas


def read_swaps(root: Root) -> List[SwapArea]:
    """The swap areas of /proc/swaps.  Raises NotAvailable without the file (no CONFIG_SWAP)."""
    return read_parsed(root.proc("swaps"), parse_swaps)
