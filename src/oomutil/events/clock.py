"""Wall-clock time for kills: people line kills up with their applications' logs by the
clock, whatever log the kill came from.

``log_time()`` reads the stamp a log printed as the moment it names: ISO-8601 (journalctl
short-iso, rsyslog's high-precision format, the journal's realtime stamp), ``dmesg -T``,
syslog (a month name in the logger's language, no year).  The parser puts it in an event's
``time`` (ISO-8601, the offset where the stamp gives one, none where the stamp is the
logging machine's local time of unknown zone) and keeps the stamp in ``time_raw``.
``on_the_clock()`` dates the kills of this boot's log (kmsg, the journal) that carry only
seconds since boot, from the boot time (/proc/stat btime, as ``dmesg -T``: early by any
time spent suspended), and shows zoned times in one zone.  ``wall_time()`` reads what a
user gives --since and --until.
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
# Month names as syslog and journalctl print them (%b of the logger's locale): English (C),
# German, French, Spanish, Italian, Dutch, Portuguese, Polish, Swedish; lower case, without
# a final dot.  None of them names two months.
_MONTH_NAMES = {name: i + 1 for i, names in enumerate((
    "jan janv ene gen sty", "feb fév févr fev lut", "mar mär mrz mars mrt", "apr avr abr kwi",
    "may mai mei maj mag", "jun juin giu cze", "jul juil lug lip", "aug ago août aoû sie",
    "sep sept set wrz", "oct okt out ott paź", "nov lis", "dec dez déc dic gru")) for name in names.split()}
_LOG_SYSLOG = re.compile(r"^(\S+?)\.? +(\d{1,2}) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?$")
_LOG_DMESG_T = re.compile(r"^\S+ +(\S+?)\.? +(\d{1,2}) (\d\d):(\d\d):(\d\d) (\d{4})$")


def log_time(stamp: Optional[str], now: Optional[datetime.datetime] = None) -> Optional[datetime.datetime]:
    """The moment a log's stamp names: aware where the stamp gives its zone, naive where it
    is the logging machine's local time (dmesg -T, syslog: its zone is not in the log); None
    for seconds since boot and a text it cannot read.  A syslog stamp has no year: the
    latest such day not after ``now`` (naive, this machine's clock)."""
    if not stamp:
        return None
    text = stamp.strip()
    if text[:4].isdigit() and text[4:5] == "-":
        return _iso(text)
    m = _LOG_DMESG_T.match(text)
    if m and m.group(1).lower() in _MONTH_NAMES:
        try:
            return datetime.datetime(int(m.group(6)), _MONTH_NAMES[m.group(1).lower()], int(m.group(2)),
                                     int(m.group(3)), int(m.group(4)), int(m.group(5)))
        except ValueError:
            return None
    m = _LOG_SYSLOG.match(text)
    if m and m.group(1).lower() in _MONTH_NAMES:
        now = now or datetime.datetime.now()
        now = now.replace(tzinfo=None) if now.tzinfo is None else now.astimezone().replace(tzinfo=None)
        micro = int((m.group(6) or "0").ljust(6, "0"))
        for year in (now.year, now.year - 1):
            try:
                when = datetime.datetime(year, _MONTH_NAMES[m.group(1).lower()], int(m.group(2)), int(m.group(3)),
                                         int(m.group(4)), int(m.group(5)), micro)
            except ValueError:  # Feb 29 of a year without it
                continue
            if when <= now + datetime.timedelta(days=1):  # a day for the zone between logger and reader
                return when
    return None


def iso_time(when: Optional[datetime.datetime]) -> Optional[str]:
    """ISO-8601, to the microsecond where there is one."""
    if when is None:
        return None
    return when.isoformat(timespec="microseconds" if when.microsecond else "seconds")


def _iso(text: str) -> Optional[datetime.datetime]:
    """An ISO-8601 time as loggers print it: "T" or a space, "," or "." before the
    fraction, "Z", "+0000" or "+00:00"; fromisoformat() of Python 3.9 takes only the last."""
    iso = re.sub(r"([+-]\d\d)(\d\d)$", r"\1:\2", text.replace(",", ".").replace(" ", "T", 1))
    if iso.endswith("Z"):
        iso = iso[:-1] + "+00:00"
    m = re.match(r"^(.*T\d\d:\d\d:\d\d)\.(\d+)(.*)$", iso)
    if m:  # 3.9 wants 3 or 6 digits of fraction
        iso = f"{m.group(1)}.{m.group(2)[:6].ljust(6, '0')}{m.group(3)}"
    try:
        return datetime.datetime.fromisoformat(iso)
    except ValueError:
        return None


def on_the_clock(events: Iterable[OomKillEvent], boot_time: Optional[float], utc: bool = False,
                 local: bool = True) -> List[OomKillEvent]:
    """Events with their ``time`` on one clock.  Those with only seconds since *this* boot
    (``boot_time``; None: the log is of another boot, they stay undated) get it from the
    boot time; times with a zone are given in UTC (``utc``), else in this machine's zone
    (``local``: this machine's log, the journal stamps in UTC), else as the log gave them.
    A time without zone (the logging machine's, unknown) stays as it is."""
    zone = datetime.timezone.utc if utc else None
    out = []
    for e in events:
        when = _iso(e.time) if e.time else None
        if when is None and e.time_seconds is not None and boot_time is not None:
            when = datetime.datetime.fromtimestamp(boot_time + e.time_seconds, datetime.timezone.utc)
            e = e._replace(time_raw=e.time_raw or e.time)
        if when is not None and when.tzinfo is not None and (utc or local):
            when = when.astimezone(zone)
        if when is not None:
            e = e._replace(time=iso_time(when))
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
