"""zswap, the compressed cache in front of swap: /sys/module/zswap/parameters/.

``enabled`` reads Y or N; ``compressor`` (lzo, zstd, ...), ``max_pool_percent`` (the
share of RAM the pool may take, default 20).  zswap only holds pages on their way to a
swap area: with no swap area it stores nothing (mm/zswap.c).  Its usage is in
/proc/meminfo (Zswap:, Zswapped:, 5.19+).
"""

from __future__ import annotations

from .._record import Record

from .._fs import decode, none_if_unreadable, parse_int, read_parsed

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows the start
    from typing import Optional

    from ..root import Root


class Zswap(Record):
    enabled: bool
    compressor: Optional[str]
    max_pool_percent: Optional[int]


def parse_flag(data: bytes) -> bool:
    """A module parameter of type bool: Y or N (1 or 0 on some kernels)."""
    return data.strip() in (b"Y", b"y", b"1")


def read_zswap(root: Root) -> Zswap:
    """zswap's parameters.  Raises NotAvailable when the kernel has no zswap (or the tree
    did not capture it)."""
    params = root.sys("module", "zswap", "parameters")
    return Zswap(
        enabled=read_parsed(f"{params}/enabled", parse_flag),
        compressor=none_if_unreadable(read_parsed, f"{params}/compressor", lambda d: decode(d.strip())),
        max_pool_percent=none_if_unreadable(read_parsed, f"{params}/max_pool_percent", parse_int),
    )
