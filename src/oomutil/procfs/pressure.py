"""Pressure stall information: /proc/pressure/memory and cgroup v2 memory.pressure.

Sample (Linux 4.20+, CONFIG_PSI; Documentation/accounting/psi.rst)::

    some avg10=0.00 avg60=0.00 avg300=0.00 total=2367
    full avg10=0.00 avg60=0.00 avg300=0.00 total=1210

avgN: percent of wall time, over the last N seconds, in which some (at least one) or
all non-idle tasks were stalled waiting for memory.  total: microseconds since boot.
"""

from __future__ import annotations

from .._record import Record

from .._fs import decode, read_parsed
from ..errors import ParseError

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows the start
    from typing import Dict, Optional

    from ..root import Root


class Pressure(Record):
    some_avg10: float  # % of the last 10 s in which at least one task waited for memory
    some_avg60: float
    some_avg300: float
    some_total_us: int
    full_avg10: Optional[float]  # the same for all non-idle tasks at once ("full" line)
    full_avg60: Optional[float]
    full_avg300: Optional[float]
    full_total_us: Optional[int]


def parse_pressure(data: bytes) -> Pressure:
    lines: Dict[str, Dict[str, str]] = {}
    for line in data.splitlines():
        if not line.strip():
            continue
        kind, *pairs = decode(line).split()
        if kind in ("some", "full"):
            try:
                lines[kind] = dict(p.split("=", 1) for p in pairs)
            except ValueError:
                raise ParseError("malformed pressure line", line=decode(line)) from None
    try:
        some, full = lines["some"], lines.get("full")
        return Pressure(
            float(some["avg10"]), float(some["avg60"]), float(some["avg300"]), int(some["total"]),
            float(full["avg10"]) if full else None, float(full["avg60"]) if full else None,
            float(full["avg300"]) if full else None, int(full["total"]) if full else None,
        )
    except (KeyError, ValueError):
        raise ParseError("pressure file without a complete 'some' line",
                         line=decode(data.strip())) from None


def read_memory_pressure(root: Root) -> Pressure:
    """/proc/pressure/memory (4.20+, CONFIG_PSI): NotAvailable where the kernel has none
    (or was booted with psi=0)."""
    return read_parsed(root.proc("pressure", "memory"), parse_pressure)

