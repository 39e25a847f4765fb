"""The one renderer: aligned text tables, sizes for people, and JSON, NDJSON and CSV.

JSON shows the library's records as objects of their fields (``as_plain()``), so the
record field names are the JSON field names and the API at once.
"""

from __future__ import annotations

import sys
TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows the start
    from typing import Any, Callable, Iterable, List, Optional, Sequence

from .._record import as_plain
from .._units import MISSING, human_bytes  # noqa: F401  (the CLI takes both from here)


def add_formats(parser: Any) -> None:
    """--ndjson and --csv: with the global --json, the formats of every listing command."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--ndjson", action="store_true", help="one JSON object per line")
    group.add_argument("--csv", action="store_true",
                       help="comma-separated values with a header row (nested fields as outer.inner)")


def emit(args: Any, records: Sequence[Any], table: Callable[[], Iterable[str]], *,
         document: Any = None, extra: Iterable[Any] = ()) -> None:
    """How every listing command prints its records: --json an array of them (or
    ``document``, where the command's JSON is an object), --ndjson one per line and then
    ``extra`` (lines of another kind, such as {"gap": ...}), --csv a header and one row
    each, else the lines ``table()`` makes."""
    if args.json:
        print_json(records if document is None else document)
    elif getattr(args, "ndjson", False):
        print_ndjson([*records, *extra])
    elif getattr(args, "csv", False):
        print_csv(records)
    else:
        print_lines(table())


def json_line(obj: Any) -> str:
    """One record (or anything holding records) as JSON on one line."""
    import json

    return json.dumps(as_plain(obj))


def print_json(obj: Any) -> None:
    """One JSON document, the same way in every command: an array of records with one record
    a line (readable, and fast for 10,000 processes); an object on one line."""
    import json

    write = sys.stdout.write
    if isinstance(obj, list):
        # Item by item: 10,000 records never exist twice over as one big string.
        encode = json.JSONEncoder().encode
        write("[")
        for i, item in enumerate(obj):
            write((",\n" if i else "\n") + encode(as_plain(item)))
        write("\n]\n" if obj else "]\n")
    else:
        write(json.dumps(as_plain(obj)) + "\n")


def print_ndjson(records: Iterable[Any]) -> None:
    import json

    encode = json.JSONEncoder().encode
    write = sys.stdout.write
    for record in records:
        write(encode(as_plain(record)) + "\n")


def print_csv(records: Sequence[Any], header: bool = True) -> None:
    """A header of field names, then one line per record; None is an empty cell, a
    nested record's fields are columns named "outer.inner", a list is a JSON text.
    ``header``: False for the rows that follow earlier ones (a stream)."""
    import csv

    writer = csv.writer(sys.stdout, lineterminator="\n")
    rows = [_flat(as_plain(r)) for r in records]
    names: dict = {}  # every column in the order first seen (a nested record may be None in a row)
    for row in rows:
        names.update(dict.fromkeys(row))
    # a nested record that is None in one row is a column of its own there: its fields
    # from the other rows stand for it
    names = {n: None for n in names if not any(m.startswith(n + ".") for m in names)}
    if rows and header:
        writer.writerow(names)
    writer.writerows([_csv_cell(row.get(name)) for name in names] for row in rows)


def _flat(fields: dict, prefix: str = "") -> dict:
    flat = {}
    for name, value in fields.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{name}."))
        else:
            flat[prefix + name] = value
    return flat


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        import json

        return json.dumps(value)
    return value


# C0 controls (tab and newline too), DEL and the C1 controls: a process names itself and a
# log line holds what a process wrote, so any of them could move the cursor, clear the
# screen or retitle the terminal.  Text output shows each as \xNN (ps shows "?"); JSON and
# CSV keep the real string.  The backslash itself is left alone, so escaping twice changes
# nothing.
_CONTROL = {c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7F, 0xA0))}


def printable(text: str) -> str:
    """``text`` with every control character shown as \\xNN: safe to write to a terminal."""
    return text if text.isprintable() else text.translate(_CONTROL)


def width(text: str) -> int:
    """Columns ``text`` takes on a terminal: East Asian wide and fullwidth characters take
    two, combining marks none (``text`` is printable() already)."""
    if text.isascii():
        return len(text)
    from unicodedata import combining, east_asian_width

    return sum(0 if combining(c) else 2 if east_asian_width(c) in "WF" else 1 for c in text)


def cell(value: Any) -> str:
    return MISSING if value is None else printable(str(value))


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
    widths = [max(width(r[i]) for r in table if i < len(r)) for i in range(max(map(len, table)))]
    lines = []
    for row in table:
        parts = []
        for i, text in enumerate(row):
            last = i == len(row) - 1
            pad = " " * (widths[i] - width(text))
            if i in right:
                parts.append(pad + text)
            else:
                parts.append(text if last else text + pad)
        lines.append((indent + "  ".join(parts)).rstrip())
    return lines


def print_lines(lines: Iterable[str]) -> None:
    """Lines of text output, each made printable(): the one way text reaches stdout."""
    sys.stdout.write("".join(printable(line) + "\n" for line in lines))


def regex_arg(text: str):
    """argparse type: a regular expression, as its search function."""
    import argparse
    import re

    try:
        return re.compile(text).search
    except re.error as err:
        raise argparse.ArgumentTypeError(f"invalid regular expression {text!r}: {err}") from None


def cgroup_arg(text: str) -> str:
    """argparse type of --cgroup: not empty (cgroups.resolve_cgroup() reads the rest when
    the command runs, against its --root)."""
    import argparse

    if not text.strip():
        raise argparse.ArgumentTypeError("empty: give a cgroup path (/system.slice/x.service), its directory "
                                         "under /sys/fs/cgroup, or its name as `oomutil cgroups` prints it")
    return text

