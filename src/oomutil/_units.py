"""Sizes as people read them, for the CLI's tables and the checks' findings alike."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows the start
    from typing import Optional

MISSING = "-"  # what is shown for None (unreadable here, or absent on this kernel)


def human_bytes(n: Optional[int]) -> str:
    """1536 -> '1.5 KiB'; IEC units, one decimal; None -> '-'."""
    if n is None:
        return MISSING
    if abs(n) < 1024:
        return f"{n} B"
    value = float(n)
    for unit in ("KiB", "MiB", "GiB", "TiB", "PiB"):
        value /= 1024
        if abs(value) < 1024 or unit == "PiB":
            break
    return f"{value:.1f} {unit}"
