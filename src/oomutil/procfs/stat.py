"""/proc/stat: the boot time ("btime", seconds since the epoch), which turns the kernel
log's seconds-since-boot into wall-clock time, as ``dmesg -T`` does (and with its caveat:
the kernel's clock for the log does not run while the machine is suspended, so after a
suspend those times are early by the time spent asleep)."""

from __future__ import annotations

from .._fs import decode, read_parsed
from ..errors import ParseError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..root import Root


def parse_boot_time(data: bytes) -> int:
    for line in data.splitlines():
        if line.startswith(b"btime "):
            try:
                return int(line.split()[1])
            except (IndexError, ValueError):
                raise ParseError("malformed btime line", line=decode(line)) from None
    raise ParseError("no btime line")


def read_boot_time(root: Root) -> int:
    return read_parsed(root.proc("stat"), parse_boot_time)
