"""sys/devices/system/cpu/online (and possible): CPU lists such as "0-63" or "0,2-5".

The kernel sizes its per-CPU counter batches by the online CPUs (lib/percpu_counter.c),
which is what the drift allowance of badness.counter_drift_pages() needs.
"""

from __future__ import annotations

import os

from .._fs import decode, none_if_unreadable, read_parsed
from ..errors import ParseError
from ..root import Root


def parse_cpu_list(data: bytes) -> int:
    """The number of CPUs in a list such as "0-3,8-11"."""
    count = 0
    try:
        for part in data.decode("ascii").strip().split(","):
            low, _, high = part.partition("-")
            count += int(high or low) - int(low) + 1
    except ValueError:
        raise ParseError("malformed CPU list", line=decode(data.strip())) from None
    return count


def read_online_cpus(root: Root) -> int:
    """The kernel's online CPUs; a tree captured before "online" was copied has "possible"
    only; on the live root without either, os.cpu_count(); 1 where nothing says."""
    for name in ("online", "possible"):
        count = none_if_unreadable(read_parsed, root.sys("devices", "system", "cpu", name), parse_cpu_list)
        if count is not None:
            return count
    return (os.cpu_count() or 1) if root.is_live else 1
