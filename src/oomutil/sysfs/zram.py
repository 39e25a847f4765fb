"""zram devices, compressed block devices in RAM, mostly used as swap: /sys/block/zramN/.

``disksize`` is the size it offers (0: not set up); ``mm_stat`` (4.1+,
Documentation/admin-guide/blockdev/zram.rst) starts with orig_data_size, compr_data_size
and mem_used_total, in bytes: what it stores, compressed, and the RAM that takes.
``comp_algorithm`` lists the algorithms with the one in use in brackets: ``lzo [lzo-rle] lz4``.
"""

from __future__ import annotations

import re

from .._record import Record

from .._fs import decode, list_dir, none_if_unreadable, parse_int, read_parsed
from ..errors import AccessDenied, NotAvailable, ParseError

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows the start
    from typing import List, Optional, Tuple

    from ..root import Root


class ZramDevice(Record):
    name: str  # "zram0"
    disksize_bytes: int  # 0: not set up
    orig_data_bytes: Optional[int]  # what it stores, uncompressed
    compr_data_bytes: Optional[int]  # the same, compressed
    mem_used_bytes: Optional[int]  # the RAM it takes, allocator overhead included
    algorithm: Optional[str]


def parse_mm_stat(data: bytes) -> Tuple[int, int, int]:
    """(orig_data_size, compr_data_size, mem_used_total) of a zram mm_stat line."""
    try:
        orig, compr, used = (int(v) for v in data.split()[:3])
    except ValueError:
        raise ParseError("malformed zram mm_stat", line=decode(data.strip())) from None
    return orig, compr, used


def parse_algorithm(data: bytes) -> Optional[str]:
    m = re.search(rb"\[([^\]]+)\]", data)
    return decode(m.group(1)) if m else None


def read_zram_devices(root: Root) -> List[ZramDevice]:
    """Every zram device, set up or not; [] where /sys/block has none (or cannot be listed)."""
    try:
        names = sorted(n for n in list_dir(root.sys("block")) if n.startswith("zram"))
    except (NotAvailable, AccessDenied):
        return []
    devices = []
    for name in names:
        d = root.sys("block", name)
        size = none_if_unreadable(read_parsed, f"{d}/disksize", parse_int)
        if size is None:
            continue
        try:
            stat = none_if_unreadable(read_parsed, f"{d}/mm_stat", parse_mm_stat)
        except ParseError:  # an odd line (an older kernel's format): the size alone is still true
            stat = None
        orig, compr, used = stat if stat is not None else (None, None, None)
        algorithm = none_if_unreadable(read_parsed, f"{d}/comp_algorithm", parse_algorithm)
        devices.append(ZramDevice(name, size, orig, compr, used, algorithm))
    return devices
