"""/proc/meminfo: the memory totals the OOM killer and the commit limit are built on.

Sample::

    MemTotal:       24684092 kB
    MemAvailable:   23912212 kB
    HugePages_Total:       0

Documentation/filesystems/proc.rst ("meminfo").  Values with a "kB" unit become
bytes; the few without a unit (HugePages_*) stay counts.
"""

from __future__ import annotations

from .._record import Record
TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows the start
    from typing import Dict, Optional

from .._fs import decode, read_parsed
from ..errors import NotAvailable, ParseError
from ..root import Root


class Meminfo(Record):
    """What oomutil reports from /proc/meminfo, in bytes; None where the kernel lacks the line."""

    mem_total_bytes: Optional[int]  # MemTotal: totalram_pages, the RAM half of oom_score's totalpages
    mem_free_bytes: Optional[int]  # MemFree:
    mem_available_bytes: Optional[int]  # MemAvailable: (3.14+) estimate of memory usable without swapping
    swap_total_bytes: Optional[int]  # SwapTotal: total_swap_pages, the swap half of totalpages
    swap_free_bytes: Optional[int]  # SwapFree:
    commit_limit_bytes: Optional[int]  # CommitLimit: enforced only with overcommit_memory=2
    committed_as_bytes: Optional[int]  # Committed_AS: memory committed by all processes (approximate)
    zswap_bytes: Optional[int] = None  # Zswap: (5.19+) the compressed pool zswap holds in RAM
    zswapped_bytes: Optional[int] = None  # Zswapped: (5.19+) the pages stored there, uncompressed

    @classmethod
    def from_fields(cls, fields: Dict[str, int]) -> "Meminfo":
        get = fields.get
        return cls(
            mem_total_bytes=get("MemTotal"),
            mem_free_bytes=get("MemFree"),
            mem_available_bytes=get("MemAvailable"),
            swap_total_bytes=get("SwapTotal"),
            swap_free_bytes=get("SwapFree"),
            commit_limit_bytes=get("CommitLimit"),
            committed_as_bytes=get("Committed_AS"),
            zswap_bytes=get("Zswap"),
            zswapped_bytes=get("Zswapped"),
        )


def parse_meminfo(data: bytes) -> Dict[str, int]:
    """Every line of /proc/meminfo as {key: bytes (or count)}.  Unknown keys are kept."""
    fields: Dict[str, int] = {}
    for line in data.splitlines():
        if not line.strip():
            continue
        key, sep, value = line.partition(b":")
        parts = value.split()
        try:
            if not sep or not 1 <= len(parts) <= 2 or (len(parts) == 2 and parts[1] != b"kB"):
                raise ValueError
            fields[key.decode("ascii")] = int(parts[0]) * (1024 if len(parts) == 2 else 1)
        except ValueError:
            raise ParseError("malformed meminfo line", line=decode(line)) from None
    return fields


def read_totalpages(root: Root, page_size: int) -> int:
    """RAM + swap in pages (totalram_pages + total_swap_pages): what oom_score and a
    system-wide OOM measure against.  Raises NotAvailable without meminfo or MemTotal."""
    m = read_meminfo(root)
    if m.mem_total_bytes is None:
        raise NotAvailable("meminfo has no MemTotal", path=root.proc("meminfo"))
    return m.mem_total_bytes // page_size + (m.swap_total_bytes or 0) // page_size


def read_meminfo(root: Root) -> Meminfo:
    """Read /proc/meminfo.  Raises NotAvailable when the tree has no such file."""
    return Meminfo.from_fields(read_parsed(root.proc("meminfo"), parse_meminfo))
