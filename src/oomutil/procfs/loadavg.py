"""/proc/loadavg and /proc/uptime: the kernel's thread count and seconds since boot.

The fourth field is runnable/total scheduling entities (threads, kernel threads included)
of the whole kernel: it is not namespaced, so a container's or a hidepid reader's /proc
still tells how many threads exist (fs/proc/loadavg.c, nr_threads).
"""

from __future__ import annotations

from .._fs import decode, read_parsed
from ..errors import ParseError
from ..root import Root


def parse_loadavg_threads(data: bytes) -> int:
    """The kernel's total number of threads from /proc/loadavg."""
    fields = data.split()
    try:
        return int(fields[3].split(b"/")[1])
    except (IndexError, ValueError):
        raise ParseError("malformed loadavg", line=decode(data.strip())) from None


def read_threads_total(root: Root) -> int:
    return read_parsed(root.proc("loadavg"), parse_loadavg_threads)


def parse_uptime(data: bytes) -> float:
    """/proc/uptime: "12345.67 23456.78", seconds since boot first."""
    try:
        return float(data.split()[0])
    except (IndexError, ValueError):
        raise ParseError("malformed uptime", line=decode(data.strip())) from None


def read_uptime(root: Root) -> float:
    return read_parsed(root.proc("uptime"), parse_uptime)
