"""The one renderer: aligned text tables, sizes for people, and JSON.

JSON is the ``asdict`` of the library's records, so the dataclass field names are the
JSON field names and the API at once.
"""

from __future__ import annotations

import sys
TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows the start
    from typing import Any, Iterable, List, Optional, Sequence

MISSING = "-"  # what a table shows for None (unreadable here, or absent on this kernel)


def _fields(obj: Any) -> Any:
    """json's ``default``: a record becomes the dict of its fields (json then does the
    same for nested records).  Not dataclasses.asdict(): it deep-copies every value,
    which costs more than reading /proc when 10,000 records are printed."""
    if hasattr(obj, "__dataclass_fields__"):
        return vars(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serializable")


def print_json(obj: Any) -> None:
    """A record as an indented object; a list of records as an array, one per line
    (readable, and fast for 10,000 processes)."""
    import json

    write = sys.stdout.write
    if isinstance(obj, (list, tuple)):
        # Item by item: 10,000 records never exist twice over as one big string.
        write("[")
        for i, item in enumerate(obj):
            write((",\n" if i else "\n") + json.dumps(item, default=_fields))
        write("\n]\n" if obj else "]\n")
    else:
        write(json.dumps(obj, default=_fields, indent=2) + "\n")


def print_ndjson(records: Iterable[Any]) -> None:
    import json

    for record in records:
        sys.stdout.write(json.dumps(record, default=_fields) + "\n")


def print_csv(records: Sequence[Any]) -> None:
    """A header of field names, then one line per record; None is an empty cell."""
    import csv

    writer = csv.writer(sys.stdout, lineterminator="\n")
    rows = [vars(r) for r in records]
    if rows:
        writer.writerow(rows[0].keys())
        writer.writerows([_csv_cell(v) for v in row.values()] for row in rows)


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


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


def regex_arg(text: str):
    """argparse type: a regular expression, as its search function."""
    import argparse
    import re

    try:
        return re.compile(text).search
    except re.error as err:
        raise argparse.ArgumentTypeError(f"invalid regular expression {text!r}: {err}") from None
