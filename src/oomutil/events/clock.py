"""Wall-clock time for kills: the kernel log of this boot counts seconds since boot; people
line kills up with their applications' logs by the clock.

``on_the_clock()`` gives events of this boot (kmsg, the journal) an ISO-8601 ``time`` from
the boot time (/proc/stat btime, as ``dmesg -T``: early by any time spent suspended), and
keeps the raw seconds in ``time_seconds``.  ``wall_time()`` reads the clock times the other
log formats print (ISO-8601, ``dmesg -T``, syslog), for --since and --until.
"""

from __future__ import annotations

import datetime
import re

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Iterable, List, Optional

    from .parse import OomKillEvent

_SYSLOG = re.compile(r"^([A-Z][a-z]{2}) +(\d{1,2}) (\d\d:\d\d:\d\d)")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def on_the_clock(events: Iterable[OomKillEvent], boot_time: float, utc: bool = False) -> List[OomKillEvent]:
    """Events with seconds since *this* boot, their ``time`` as ISO-8601 wall-clock time
    (local, or UTC); the others as they are."""
    zone = datetime.timezone.utc if utc else None
    out = []
    for e in events:
        if e.time_seconds is not None:
            when = datetime.datetime.fromtimestamp(boot_time + e.time_seconds, zone)
            e = e._replace(time=(when if utc else when.astimezone()).isoformat(timespec="microseconds"))
        out.append(e)
    return out


def wall_time(text: Optional[str], now: Optional[datetime.datetime] = None) -> Optional[datetime.datetime]:
    """The moment a log's printed time names, aware; None for seconds since boot or a text
    it cannot read.  A syslog time has no year: the latest one not after ``now``."""
    if not text:
        return None
    now = now or datetime.datetime.now().astimezone()
    iso = re.sub(r"([+-]\d\d)(\d\d)$", r"\1:\2", text.strip().replace(",", ".").replace(" ", "T", 1))
    if iso.endswith("Z"):
        iso = iso[:-1] + "+00:00"
    try:
        when = datetime.datetime.fromisoformat(iso)
        return when if when.tzinfo else when.astimezone()
    except ValueError:
        pass
    try:  # dmesg -T: "Fri Nov 27 22:11:05 2026", local time
        return datetime.datetime.strptime(text.strip(), "%a %b %d %H:%M:%S %Y").astimezone()
    except ValueError:
        pass
    m = _SYSLOG.match(text.strip())
    if m and m.group(1) in _MONTHS:
        month, day = _MONTHS.index(m.group(1)) + 1, int(m.group(2))
        hour, minute, second = (int(v) for v in m.group(3).split(":"))
        for year in (now.year, now.year - 1):
            try:
                when = datetime.datetime(year, month, day, hour, minute, second).astimezone()
            except ValueError:  # Feb 29 of a year without it
                continue
            if when <= now:
                return when
    return None
