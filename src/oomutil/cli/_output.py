"""The one renderer: aligned text tables, sizes for people, and JSON.

JSON is the ``asdict`` of the library's records, so the dataclass field names are the
JSON field names and the API at once.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from typing import Any, Iterable, List, Optional, Sequence

MISSING = "-"  # what a table shows for None (unreadable here, or absent on this kernel)


def to_jsonable(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(o) for o in obj]
    return obj


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(to_jsonable(obj), indent=2) + "\n")


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


def cell(value: Any) -> str:
    return MISSING if value is None else str(value)


def format_table(
    rows: Iterable[Sequence[Any]],
    header: Optional[Sequence[str]] = None,
    right: Sequence[int] = (),
    indent: str = "",
) -> List[str]:
    """Align columns; columns whose index is in ``right`` are right-aligned (numbers).

    The last column is never padded, so a long COMMAND does not leave trailing blanks.
    """
    table = [[cell(v) for v in row] for row in rows]
    if header:
        table.insert(0, list(header))
    if not table:
        return []
    widths = [max(len(r[i]) for r in table if i < len(r)) for i in range(max(map(len, table)))]
    lines = []
    for row in table:
        parts = []
        for i, text in enumerate(row):
            last = i == len(row) - 1
            if i in right:
                parts.append(text.rjust(widths[i]))
            else:
                parts.append(text if last else text.ljust(widths[i]))
        lines.append((indent + "  ".join(parts)).rstrip())
    return lines


def print_lines(lines: Iterable[str]) -> None:
    sys.stdout.write("".join(line + "\n" for line in lines))
