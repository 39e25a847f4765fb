"""Kernel OOM reports, from any log format, to one record per kill.

A report (mm/oom_kill.c dump_header(), __oom_kill_process()) is a run of lines::

    python3 invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0
    CPU: 1 UID: 0 PID: 16642 Comm: python3 Not tainted 6.18.44 #1
    ...
    oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,
        oom_memcg=/t,task_memcg=/t,task=python3,pid=16642,uid=0              (5.0+)
    Memory cgroup out of memory: Killed process 16642 (python3) total-vm:221384kB,
        anon-rss:65280kB, file-rss:6532kB, shmem-rss:0kB, UID:0 pgtables:192kB oom_score_adj:0

Older kernels print "Task in X killed as a result of limit of Y" (memcg, before 5.0),
"Out of memory: Kill process N (c) score S or sacrifice child" before the kill (before
5.1: the process named there is the one selected, not necessarily the one killed), and
"Killed process N, UID u, (c) total-vm:..." (RHEL 6 era) or "Killed process N (c) vsz:...".
Each line may carry a prefix: "[ 265.664159] " (dmesg), "[Fri Nov 27 22:11:05 2026] "
(dmesg -T), "Nov 27 22:11:05 host kernel: " (syslog, journalctl, any month language),
"2026-11-27T22:11:05.123+00:00 host kernel: " (ISO), "6,503,265664579,-;" (/dev/kmsg),
a caller tag "[ T16642] " or "[ C1] ", or a bare "kernel: "; a facility tag
"<kern.warning>" around the host or after "kernel: " (syslog templates);
"2024-04-29T14:55:41,678628+02:00 " (dmesg --time-format iso); "Apr 01 14:13:32 myhost: "
(a template without the "kernel:" tag: taken as the kernel's where the text is the OOM
killer's own words).

A report cut after its oom-kill: summary gives the kill the summary names, ``inferred``.
With ``keep_texts`` the kill that ends a report carries the report's message texts
(``texts``: the trigger line to the Killed line and its oom_reaper line), for ``why``.

Kills by user-space killers (earlyoom, nohang, systemd-oomd) are recognised as such and
never counted as kernel kills.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .._record import Record
from .clock import iso_time, log_time
from .lines import KILLED, KILLED_FIELD, TRIGGER_AT as _TRIGGER_AT, reaper_pid, trigger_fields

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows the start
    from typing import Dict, Iterable, Iterator, List, Optional, Tuple


class OomKillEvent(Record):
    """One process killed for lack of memory.  None: the log did not say."""

    # ISO-8601 wall-clock time, where the log's stamp names one: with its offset where the
    # stamp gives it ("2026-11-27T22:11:05+00:00"), without where the stamp is the logging
    # machine's local time ("2026-11-27T22:11:05", dmesg -T, syslog); None for seconds since
    # boot (the command dates those of this boot's log: events.clock.on_the_clock())
    time: Optional[str] = None
    time_seconds: Optional[float] = None  # seconds since boot where the log gives them ([secs], kmsg)
    time_raw: Optional[str] = None  # the stamp as printed: "265.664159", "Fri Nov 27 22:11:05 2026", ...
    killer: str = "kernel"  # or the user-space killer: "earlyoom", "nohang", "systemd-oomd"
    pid: Optional[int] = None  # the process (thread group) killed
    comm: Optional[str] = None
    uid: Optional[int] = None
    constraint: Optional[str] = None  # CONSTRAINT_NONE (system-wide), CONSTRAINT_MEMCG, ...
    oom_memcg: Optional[str] = None  # the cgroup whose limit was hit
    task_memcg: Optional[str] = None  # the cgroup of the killed process
    total_vm_bytes: Optional[int] = None
    anon_rss_bytes: Optional[int] = None
    file_rss_bytes: Optional[int] = None
    shmem_rss_bytes: Optional[int] = None
    pgtables_bytes: Optional[int] = None
    oom_score_adj: Optional[int] = None
    trigger_comm: Optional[str] = None  # the process whose allocation failed
    trigger_pid: Optional[int] = None
    order: Optional[int] = None  # allocation order; -1 is a manual OOM (sysrq f)
    gfp_mask: Optional[str] = None
    source: str = ""  # "kmsg", "journal", a file name, "stdin"
    lines: Optional[List[str]] = None  # the report's lines, when asked for
    tid: Optional[int] = None  # the thread "Killed process" named, where it is not the process:
    #                            the kernel prints the thread that holds the memory (a leader
    #                            that exited has none), the summary line the process (5.0+)
    # from the oom-kill: summary; no Killed process line was seen (a report cut after its
    # summary, 5.0+): the summary names the victim the kernel goes on to kill, without sizes
    inferred: bool = False
    # a member of a memory.oom.group kill (4.19+): the group's cgroup, from "Tasks in /g are
    # going to be killed due to memory.oom.group set" (the member's Killed line has no summary)
    group_memcg: Optional[str] = None
    manual: bool = False  # order=-1: a manual OOM (sysrq f, 2.6.36+), not a lack of memory
    # the report's message texts (prefixes stripped), trigger line to Killed line and the
    # oom_reaper line of the victim that follows within a few lines, in log order, with
    # every line between; only with keep_texts, only on the kill that ends a report
    texts: Optional[Tuple[str, ...]] = None
    # whose the victim's cgroup is (docs/kubernetes.md): the pod UID and container id of its
    # path, and (workloads.name_kills(), this boot's log only) the names the node's files give
    pod_uid: Optional[str] = None
    container_id: Optional[str] = None
    namespace: Optional[str] = None
    pod: Optional[str] = None
    container: Optional[str] = None


class UnkilledReport(Record):
    """A report that ended without a kill (parse_lines(keep_unkilled=True)): the log was cut
    before its Killed line, or the kernel killed nobody (why)."""

    time: Optional[str]
    time_seconds: Optional[float]
    time_raw: Optional[str]
    source: str
    texts: Tuple[str, ...]  # as OomKillEvent.texts
    why: str  # "cut"; "fragment" (its first lines are missing too); or the kernel's words: "panic_on_oom is enabled", "no killable processes",
    #           "is already exiting. Skip killing" (its victim was dying already)


# -- prefixes ------------------------------------------------------------------------------

_KMSG = re.compile(r"^(\d+),(\d+),(\d+),[^;]*;")
_SYSLOG = re.compile(
    r"^(?P<ts>\S+\s+\d{1,2}\s+\d\d:\d\d:\d\d(?:\.\d+)?"
    r"|\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?)"
    # the host may be absent, scrubbed ("**") or an IPv6 address ("2001:db8::5"): the
    # identifier's colon is followed by neither a colon nor a word character.  Templates
    # that print the facility and severity put "<kern.warning>" before or after the host
    # (rsyslog's %syslogfacility-text%.%syslogseverity-text%); busybox syslogd "kern.warn"
    r"\s+(?:<\w+\.\w+>\s+)?(?P<host>\S+\s+)??(?:<\w+\.\w+>\s+|kern\.\w+\s+)?"
    r"(?P<ident>[\w.@/-]+)(?:\[(?P<ident_pid>\d+)\])?:(?![:\w])\s?")
# the same tag after "kernel: "
_FACILITY = re.compile(r"^<\w+\.\w+>\s?")
# dmesg --time-format iso (util-linux 2.26+): "2024-04-29T14:55:41,678628+02:00 text", a comma
# before the microseconds, no host, no identifier (a syslog "host kernel:" after it is left
# to _SYSLOG)
_DMESG_ISO = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d,\d+[+-]\d\d:?\d\d)\s(?!(?:\S+\s+)?kernel:)")
_DMESG_SECS = re.compile(r"^\[\s*(\d+\.\d+)\]\s?")
_DMESG_T = re.compile(r"^\[([^\]]*\d\d:\d\d:\d\d[^\]]*)\]\s?")
_CALLER = re.compile(r"^\[\s*[TC]\d+\]\s?")
# the parts of a report a paste may begin with, its trigger line missing (keep_unkilled)
_HEADLESS = re.compile(r"Mem-Info:|Task in .* killed as a result of limit of |memory: usage \d|"
                       r"(?:Node \d+ )?(?:active_anon:|(?:DMA|DMA32|Normal|HighMem|Movable) free:)|"
                       r"Tasks state \(memory values in pages\)|\[ +pid +\] +uid").match
_QUOTE = re.compile(r"[ \t]*(?:>[ \t]*)*")  # indentation and mail quote marks before a line
_BARE = re.compile(r"^kernel:\s?")


_KMSG_ESCAPE = re.compile(r"\\x([0-9a-fA-F]{2})")


def kmsg_text(text: str) -> str:
    """The text of a /dev/kmsg record as the kernel logged it.  /dev/kmsg writes every
    byte below 0x20, from 0x7f up, and the backslash itself as \\xNN (kernel/printk/printk.c
    msg_print_ext_body() since 3.5, msg_add_ext_text() in later kernels; seen on 6.18): as the backslash is
    escaped too, every \\xNN is an escape, and the decoding is exact.  The bytes are
    then read as UTF-8 (a comm is bytes: those that are not UTF-8 are replaced).

    Other sources are taken as they are: the journal's MESSAGE is the raw text already
    (journald decodes kmsg), and dmesg, dmesg -T and syslog text cannot be decoded
    exactly: dmesg shows a control character as \\xNN but leaves the backslash alone,
    so "\\x41" in its output may be four characters of a name or one escaped byte."""
    if "\\x" not in text:
        return text
    parts = _KMSG_ESCAPE.split(text)  # text, hex digits, text, ...
    data = b"".join(bytes((int(p, 16),)) if i % 2 else p.encode("utf-8", "surrogateescape")
                    for i, p in enumerate(parts))
    return data.decode("utf-8", "replace")


@dataclass
class Line:
    """A log line without its prefixes."""

    text: str
    time: Optional[str] = None
    seconds: Optional[float] = None
    ident: Optional[str] = "kernel"  # who logged it; None: unknown (a plain text line)
    raw: str = ""
    # "Apr 01 14:13:32 myhost: text": nothing between the stamp and the identifier, no
    # "[pid]" after it: the identifier may be the host of a template that prints no
    # "kernel:" tag (the Assembler takes such lines as the kernel's when they are its words)
    host_ident: bool = False


def strip_prefix(raw: str) -> Line:
    """Peel the known prefixes off one line, keeping the time they carry.  Cheap tests on
    the first character come first: most lines of a big log are looked at only here."""
    text = raw.rstrip("\r\n")  # CRLF logs too
    if text[:1] in (" ", "\t", ">"):  # a paste indented (Markdown) or quoted ("> ", mail): a prefix after
        quoted = text[_QUOTE.match(text).end():]  # type: ignore[union-attr]
        inner = strip_prefix(quoted)
        # a quote mark is never the kernel's; blanks are, before a continued line (Mem-Info)
        if inner.ident is not None or inner.seconds is not None or ">" in text[:len(text) - len(quoted)]:
            inner.raw = text
            return inner
    line = Line(text, raw=text, ident=None)
    if text[:1].isdigit():
        m = _KMSG.match(text)
        if m:
            line.seconds = int(m.group(3)) / 1e6
            line.time = f"{line.seconds:.6f}"
            # prio = facility * 8 + level.  The kernel logs as facility 0 (LOG_KERN); a
            # write to /dev/kmsg from user space gets facility 1 (LOG_USER), or the one its
            # "<N>" names, never 0 (devkmsg_write(), 3.5+): such a record is no kernel's word.
            line.ident = "kernel" if int(m.group(1)) >> 3 == 0 else "user"
            text = kmsg_text(text[m.end():])
        elif "," in text[19:21]:
            m = _DMESG_ISO.match(text)
            if m:
                line.time, line.ident = m.group(1), "kernel"
                text = text[m.end():]
    if text[:1] != "[" and line.ident is None:
        m = _SYSLOG.match(text)
        if m:
            line.time, line.ident = m.group("ts"), m.group("ident")
            line.host_ident = m.group("host") is None and m.group("ident_pid") is None and line.ident != "kernel"
            text = text[m.end():]
            if text[:1] == "<":
                text = _FACILITY.sub("", text, count=1)
        elif text.startswith("kernel:"):
            line.ident = "kernel"
            text = _BARE.sub("", text, count=1)
    for _ in range(3):  # "[secs]", then maybe "[ T123]"; syslog may carry "[secs]" too
        if text[:1] != "[":
            break
        m = _DMESG_SECS.match(text)
        if m:
            line.seconds = float(m.group(1))
            line.time = line.time or m.group(1)
            line.ident = line.ident or "kernel"
            text = text[m.end():]
            continue
        m = _CALLER.match(text)
        if m:
            text = text[m.end():]
            continue
        m = _DMESG_T.match(text)
        if m and line.time is None:
            line.time = m.group(1).strip()
            line.ident = line.ident or "kernel"
            text = text[m.end():]
            continue
        break
    line.text = text
    return line


# -- the kernel's lines ----------------------------------------------------------------------
#
# Each message is found wherever it starts in a line (after a web UI's date and columns, a
# serial console's stamp, a syslog line without host): the prefix is not trusted to be one
# of the known ones.  Fields are taken one by one, so a trigger line with fields added or
# dropped by some kernel (nodemask in 4.10-4.18, oom_adj before 3.x, two spaces before
# order=) still gives the others, and so does a line cut short by a pager.

# where a message starts, when something the prefix stripper did not know stands before it
_STAMP = re.compile(r"\[\s*(\d+\.\d+)\]\s?(?:\[\s*[TC]\d+\]\s?)?")
_JUNK_END = re.compile(r"(?:\bkernel:\s?|\bkernel\s*\|\s*|\s\|\s+)")
# the stack dump's header names the allocating task: "CPU: 1 UID: 0 PID: 16642 Comm: x"
# (UID since 6.11), "Pid: 1999, comm: x" before 2.6.37 or so
_CPU = re.compile(r"(?:\bCPU: \d+ (?:UID: \d+ )?PID: (?P<pid>\d+) Comm: |\bPid: (?P<old_pid>\d+), comm: )")
_SUMMARY = re.compile(
    r"oom-kill:constraint=(?P<constraint>\w+),nodemask=.*?,cpuset=.*?,mems_allowed=.*?,"
    r"(?:global_oom|oom_memcg=(?P<oom_memcg>.*?)),task_memcg=(?P<task_memcg>.*?),"
    r"task=(?P<task>.*),pid=(?P<pid>\d+),uid=(?P<uid>\d+)$", re.S)
_TASK_IN = re.compile(r"Task in (?P<task_memcg>.+) killed as a result of limit of (?P<oom_memcg>.+)$", re.S)
_GROUP = " are going to be killed due to memory.oom.group set"  # 4.19+: members die too
# reports that end without a kill, as the kernel says so: not a failure to parse
_NO_KILL = ("is already exiting. Skip killing", "panic_on_oom is enabled", "no killable processes")
# what the kernel prints before "Killed process" (__oom_kill_process()'s message argument)
_KILL_PREFIXES = ("", "Out of memory:", "Memory cgroup out of memory:", "Out of memory (oom_kill_allocating_task):")

# user-space killers, as they log (identifiers of syslog/journal lines)
_EARLYOOM = re.compile(r"sending SIG\w+ to process (?P<pid>\d+) uid (?P<uid>\d+) \"(?P<comm>.*?)\"")
_NOHANG = re.compile(r"(?:Implement a corrective action|send(?:ing)? SIG\w+)[^\n]*?(?:PID:?\s*|pid\s+)(?P<pid>\d+)(?:[^\n]*?Name:?\s*(?P<comm>\S+))?")
_OOMD = re.compile(r"^Killed (?P<cgroup>/\S+) due to (?P<why>.*)$")

_FIELD_NAMES = {"total-vm": "total_vm_bytes", "vsz": "total_vm_bytes", "anon-rss": "anon_rss_bytes",
                "file-rss": "file_rss_bytes", "shmem-rss": "shmem_rss_bytes", "pgtables": "pgtables_bytes"}
_TRUNCATED = ("\u2026", "...", ">")  # how pagers and web UIs mark a line they cut


def _untruncated(text: str) -> str:
    """A line a pager cut (ending in "…", "..." or ">") without its last, partial field:
    "anon-rss:12…" would otherwise read as 12 kB."""
    stripped = text.rstrip()
    for mark in _TRUNCATED:
        if stripped.endswith(mark):
            body = stripped[: -len(mark)]
            cut = max(body.rfind(" "), body.rfind(","))
            return body[:cut] if cut >= 0 else ""
    return text


def _message_start(text: str, at: int) -> int:
    """Where the kernel's message that has its anchor at ``at`` begins: after the last
    dmesg stamp, "kernel:" or column bar before the anchor, else where the text starts."""
    start = 0
    for m in _STAMP.finditer(text, 0, at):
        start = m.end()
    for m in _JUNK_END.finditer(text, start, at):
        start = m.end()
    return start


def _wall_clock(stamp: Optional[str]) -> Optional[str]:
    """A stamp as an ISO-8601 time, where it names one (events.clock.log_time())."""
    return iso_time(log_time(stamp)) if stamp else None


def _close(a: Optional[float], b: Optional[float]) -> bool:
    """Two times of one burst of lines (unknown times are taken as close: the lines also
    have to follow each other)."""
    return a is None or b is None or abs(a - b) < 1.0


# the task table (dump_tasks()): "[ pid ]   uid  tgid total_vm      rss nr_ptes swapents
# oom_score_adj name" (3.x; 2.6 has cpu and oom_adj, 4.x nr_pmds or pgtables_bytes, 4.19+
# "[  pid  ]", 6.8+ rss_anon rss_file rss_shmem): read by its column names
_TABLE_HEAD = re.compile(r"^\[\s*pid\s*\]\s+(.*\bname)\s*$")
_TABLE_ROW = re.compile(r"^\[\s*(\d+)\]\s")
# the reaper (4.6+, after the kill): "oom_reaper: reaped process N (c), now anon-rss:0kB, ...",
# or "oom_reaper: unable to reap pid:N (c)"
_REAPER_LINES = 5  # lines after a kill in which its reaper line is looked for (keep_texts)
# The summary and its Killed line are printed one after the other under oom_lock: a line
# this much later (seconds) proves that the Killed line of a summary will not come
_SUMMARY_GAP = 5.0


@dataclass
class _Facts:
    """What the lines of one report have said so far."""

    trigger_comm: Optional[str] = None
    trigger_pid: Optional[int] = None
    gfp_mask: Optional[str] = None
    order: Optional[int] = None
    constraint: Optional[str] = None
    oom_memcg: Optional[str] = None
    task_memcg: Optional[str] = None
    summary_pid: Optional[int] = None  # the process the oom-kill: summary names (5.0+)
    summary_whole: bool = False  # the summary was read to its end
    uid: Optional[int] = None
    sacrifice: bool = False  # "Kill process N ... or sacrifice child" (before 5.1)


@dataclass
class _Report:
    """The lines of one OOM report seen so far."""

    first: Optional[Line] = None
    facts: _Facts = field(default_factory=_Facts)
    lines: List[str] = field(default_factory=list)
    killed: bool = False  # a kill (or the kernel's word that none follows) was seen
    first_at: int = 0  # the number of the first line among the lines fed
    texts: List[str] = field(default_factory=list)  # keep_texts: the message texts so far
    summary_task: Optional[str] = None  # the summary's task= (the comm of an inferred kill)
    summary_at: Optional[float] = None  # the summary's seconds since boot
    table: Optional[List[str]] = None  # the task table's column names after "[ pid ]"
    rows: Dict[int, str] = field(default_factory=dict)  # its rows by pid, as printed
    headless: bool = False  # keep_unkilled: begun at a part of the report, its first lines missing

    @property
    def open(self) -> bool:
        """Between a trigger line and its kill."""
        return self.first is not None and not self.killed


@dataclass
class _Group:
    """A memory.oom.group kill (4.19+): members die right after "Tasks in ... are going to
    be killed", each with a Killed line of the same prefix."""

    facts: _Facts  # the OOM's: constraint, oom_memcg, trigger
    prefix: str  # "Memory cgroup out of memory:", ...
    active: bool = False
    at: Optional[float] = None  # the time of the "Tasks in" line
    memcg: Optional[str] = None  # the group's cgroup, from the "Tasks in" line


def _kernels_words(text: str) -> bool:
    """Is this one of the OOM killer's own lines (not a program's line quoting one)?"""
    if _TRIGGER_AT in text or text.startswith(("oom-kill:", "oom_reaper: ", "Task in ", "Tasks in ")):
        return True
    at = text.find("Killed process ")
    return at >= 0 and text[:at].strip() in _KILL_PREFIXES


def _row_fields(columns: List[str], row: str) -> Dict[str, str]:
    """A task table row by its header's column names (the name is the rest of the line:
    it may hold spaces); {} for a row that does not fit."""
    values = row[row.find("]") + 1:].split(None, len(columns) - 1)
    return dict(zip(columns, values)) if len(values) == len(columns) else {}


def _number(text: Optional[str]) -> Optional[int]:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


class Assembler:
    """Feed lines in log order; get OomKillEvents when their "Killed process" line comes.

    A report whose header was rate-limited away (only the Killed line is logged) still
    gives an event, with what that line says.  A report cut after its oom-kill: summary
    (5.0+) gives an ``inferred`` event when it is over: at the next trigger line, at the end
    of the input (finish()), at a line stamped long after the summary, or at the victim's
    oom_reaper line.  ``doubtful`` collects the lines that look like OOM-killer output but
    gave no kill: ``unreadable`` a message that could not be read, ``cut`` a report's first
    line when no kill followed it (nor a summary to infer one from).

    ``keep_texts``: each kill that ends a report carries its report's ``texts`` (see
    OomKillEvent); every line is then to be fed while ``more`` is set (a report is open),
    and a kill is given out a few lines late, with the oom_reaper line that follows it.

    feed() gives one event a line: where one line completes two (an inferred kill and a
    rate-limited one), the second comes with the next line; feed_all() gives them at once.
    """

    def __init__(self, source: str, keep_lines: bool = False, keep_texts: bool = False,
                 keep_unkilled: bool = False) -> None:
        self.source, self.keep_lines, self.keep_texts = source, keep_lines, keep_texts
        # also give an UnkilledReport for each report that ends without a kill (with keep_texts)
        self.keep_unkilled = keep_unkilled and keep_texts
        self.report = _Report()
        self.after_trigger = 0  # lines after a trigger in which to look for its "CPU: ... PID:" line
        self.group: Optional[_Group] = None  # an oom.group kill in progress
        self.fed = 0  # lines fed so far: the order of the doubtful ones
        self.in_table = False  # the last line fed was the open report's task table header or a row
        self.more = False  # the next line is to be fed whatever it holds (see parse_lines())
        self.kernel_hosts: set = set()  # identifiers of "host: text" lines that carry the kernel's
        self.pending: Optional[OomKillEvent] = None  # keep_texts: a kill waiting for its reaper line
        self.pending_left = 0
        self.out: List[OomKillEvent] = []
        self._doubtful: List[Tuple[int, str, bool]] = []  # (line number, line, a cut report's first)
        self.doubtful: List[str] = []  # filled by finish(), in log order: unreadable + cut
        self.unreadable: List[str] = []
        self.cut: List[str] = []

    def feed(self, raw: str) -> Optional[OomKillEvent]:
        self._feed(raw)
        return self.out.pop(0) if self.out else None

    def feed_all(self, raw: str) -> List[OomKillEvent]:
        self._feed(raw)
        out, self.out = self.out, []
        return out

    def finish(self) -> List[OomKillEvent]:
        """The input has ended: a report still open gave no kill, or an inferred one; the
        kills not given out yet."""
        self._end_report()
        self._release()
        self.doubtful = [raw for _, raw, _ in sorted(self._doubtful)]
        self.unreadable = [raw for _, raw, cut in sorted(self._doubtful) if not cut]
        self.cut = [raw for _, raw, cut in sorted(self._doubtful) if cut]
        out, self.out = self.out, []
        return out

    def _feed(self, raw: str) -> None:
        self.fed += 1
        line = strip_prefix(raw)
        if line.ident not in (None, "kernel") and not (line.host_ident and self._host_is_kernel(line)):
            event = self._userspace(line)
            if event is not None:
                self.out.append(event)
            return
        self._read(line)
        r = self.report
        self.more = bool(self.after_trigger or self.in_table or self.pending is not None
                         or (self.keep_texts and r.first is not None and not r.killed))  # r.open

    def _host_is_kernel(self, line: Line) -> bool:
        """"Apr 01 14:13:32 myhost: text" (a template without "kernel:"): the kernel's line
        when its text is the OOM killer's own words, and then every line of that identifier.
        User-space killers keep their identifiers (earlyoom, nohang, systemd-oomd)."""
        ident = line.ident or ""
        if ident in self.kernel_hosts:
            return True
        if ident.lower().startswith(("earlyoom", "nohang", "systemd-oomd")) or not _kernels_words(line.text):
            return False
        self.kernel_hosts.add(ident)
        return True

    def _read(self, line: Line) -> None:
        text = line.text
        if line.seconds is None and "[" in text:  # a stamp after a prefix nobody knows
            m = _STAMP.search(text)
            if m:
                line.seconds, line.time = float(m.group(1)), line.time or m.group(1)
        r = self.report
        if r.summary_at is not None and not r.killed and line.seconds is not None \
                and line.seconds - r.summary_at > _SUMMARY_GAP:
            self._end_report()  # the summary's Killed line would have come long ago
            r = self.report
        # substring tests before each regular expression: most lines match none
        at = text.find(_TRIGGER_AT)
        if at >= 0:
            self._end_report()
            self._release()
            fields = trigger_fields(_untruncated(text[at + len(_TRIGGER_AT):]))
            self.report = r = _Report(first=line, first_at=self.fed, texts=[text] if self.keep_texts else [])
            r.facts = _Facts(trigger_comm=text[_message_start(text, at):at] or None,
                             gfp_mask=fields.get("gfp_mask"), order=fields.get("order"))
            self.group = None
            self.after_trigger = 3
            self.in_table = False
            self._keep(line)
            return
        if (self.keep_unkilled and r.texts and r.open and line.ident is None and line.seconds is None
                and line.time is None and r.first is not None and r.first.time is not None
                and len(text) - len(text.lstrip(" ")) != len(r.first.raw) - len(r.first.text)):
            # a line without the prefix every line of its report has: the rest of the line
            # before, wrapped by a mail client (why only: events never joins lines).  Not the
            # lines dmesg and journalctl indent by the prefix's width: the next lines of one
            # message (a memcg's memory.stat block)
            r.texts[-1] = r.texts[-1].rstrip() + " " + text.strip()
            return
        if self.keep_unkilled and r.first is None and _HEADLESS(text):
            # a report whose first lines are not in the log (a paste, a ring buffer that went
            # round): read from the first of its parts that is there (why only)
            self._end_report()
            self.report = r = _Report(first=line, first_at=self.fed, headless=True)
        if self.keep_texts and r.open:
            r.texts.append(text)
            # the body of a report (Mem-Info, zones, free lists): kept, and nothing more to
            # read in it; the tests below cost why --all a third of its time
            if not (self.in_table or self.after_trigger or self.pending is not None or self.keep_lines
                    or text[:1] == "[" or _ANY_KEYWORD(text)):
                self._not_a_member()
                return
        if self.pending is not None and self._reaped(text):
            return
        if self.in_table:
            m = _TABLE_ROW.match(text) if text[:1] == "[" else None
            if m:
                r.rows[int(m.group(1))] = text
                return
            self.in_table = False
        if self.after_trigger:
            self.after_trigger -= 1
            m = _CPU.search(text) if "omm: " in text else None
            if m and r.facts.trigger_pid is None:
                r.facts.trigger_pid = int(m.group("pid") or m.group("old_pid"))
                self.after_trigger = 0
                self._keep(line)
                return
        if text[:1] == "[" and r.open:
            m = _TABLE_HEAD.match(text)
            if m:
                r.table, self.in_table = m.group(1).split(), True
                return
        at = text.find("oom-kill:")
        if at >= 0:
            self._summary(line, text[at:])
            return
        at = text.find("Task in ")
        if at >= 0 and " killed as a result of limit of " in text:
            m = _TASK_IN.match(_untruncated(text[at:]))
            if m:
                r.facts.task_memcg, r.facts.oom_memcg = m.group("task_memcg"), m.group("oom_memcg")
                r.facts.constraint = r.facts.constraint or "CONSTRAINT_MEMCG"
                self._keep(line)
                return
        at = text.find("Killed process ")
        if at >= 0:
            before = text[_message_start(text, at):at].strip()
            if before not in _KILL_PREFIXES:
                self._not_a_member()  # another program quoting the kernel
                return
            m = KILLED.match(_untruncated(text[at:]))
            if m:
                self._release()
                self._keep(line)
                self._emit(self._killed(line, m, before))
                self.report = _Report(killed=True)
                return
            self._doubt(line)
            self._not_a_member()
            return
        at = text.find(_GROUP)
        if at >= 0 and self.group is not None:
            start = text.find("Tasks in ")
            self.group.active, self.group.at = True, line.seconds
            self.group.memcg = text[start + len("Tasks in "):at] if 0 <= start < at else None
            return
        self._not_a_member()
        if text.startswith("Out of memory: Kill process ") or " or sacrifice child" in text:
            r.facts.sacrifice = True  # before 5.1 the one killed may be a child of the named
        elif r.first is not None and any(k in text for k in _NO_KILL):
            if self.keep_unkilled:
                if not r.texts or r.texts[-1] != text:
                    r.texts.append(text)
                self._unkilled(r, next(k for k in _NO_KILL if k in text))
            r.killed = True
            self._end_report()  # what follows belongs to another report
        elif r.facts.summary_pid is not None and not r.killed and "oom_reaper: " in text:
            if reaper_pid(text) == r.facts.summary_pid:
                self._end_report()  # reaped: killed, though its Killed line was lost
                self._reaped(text)
                return
        if r.first is not None and self.keep_lines and text:
            r.lines.append(line.raw)

    def _reaped(self, text: str) -> bool:
        """keep_texts: the oom_reaper line of the kill waiting for it joins its texts, and
        the kill is given out; after _REAPER_LINES other lines it is given out without."""
        pending = self.pending
        if pending is None:
            return False
        reaped = reaper_pid(text) if "oom_reaper: " in text else None
        if reaped is not None and reaped in (pending.pid, pending.tid):
            self.pending = pending._replace(texts=(*(pending.texts or ()), text))
            self._release()
            return True
        self.pending_left -= 1
        if self.pending_left <= 0:
            self._release()
        return False

    def _emit(self, event: OomKillEvent) -> None:
        if event.texts is not None:  # keep_texts: held a few lines for its reaper line
            self._release()
            self.pending, self.pending_left = event, _REAPER_LINES
        else:
            self._release()
            self.out.append(event)

    def _release(self) -> None:
        if self.pending is not None:
            self.out.append(self.pending)
            self.pending = None

    def _not_a_member(self) -> None:
        """Members of a memory.oom.group kill follow its "Tasks in" line at once: any other
        line ends them."""
        if self.group is not None:
            self.group.active = False

    def _doubt(self, line: Line, at: Optional[int] = None, cut: bool = False) -> None:
        self._doubtful.append((self.fed if at is None else at, line.raw, cut))

    def _end_report(self) -> None:
        """The report is over: its kill inferred from its summary, where one named the
        victim and no Killed line came; else its first line is doubtful."""
        r = self.report
        self.in_table = False
        if not r.killed and r.facts.summary_pid is not None:
            self._emit(self._inferred(r))
        elif r.first is not None and not r.killed:
            self._doubt(r.first, r.first_at, cut=True)
            if self.keep_unkilled:
                self._unkilled(r, "fragment" if r.headless else "cut")
        self.report = _Report()

    def _unkilled(self, r: _Report, why: str) -> None:
        first = r.first or Line("")
        self._release()
        self.out.append(UnkilledReport(  # type: ignore[arg-type]
            time=_wall_clock(first.time), time_seconds=first.seconds, time_raw=first.time, source=self.source,
            texts=tuple(r.texts), why=why))

    def _summary(self, line: Line, text: str) -> None:
        """The oom-kill: line (5.0+).  Anchored at its end: cgroup and task names may hold
        commas.  A line cut short keeps the fields before the cut."""
        r = self.report
        if r.killed or r.facts.summary_pid is not None:
            # a report whose trigger line is not in the log (lost, or the log starts here)
            self._end_report()
            self.report = r = _Report()
        m = _SUMMARY.match(text)
        if m:
            f = r.facts
            f.constraint, f.oom_memcg, f.task_memcg = m.group("constraint"), m.group("oom_memcg"), m.group("task_memcg")
            f.summary_pid, f.uid, f.summary_whole = int(m.group("pid")), int(m.group("uid")), True
            r.summary_task = m.group("task")
        else:  # cut short: the whole fields before the cut
            cut = _untruncated(text)
            parts = cut[len("oom-kill:"):].split(",")
            if cut == text:  # no mark says where: the last field may be cut too
                parts = parts[:-1]
            fields = dict(f.partition("=")[::2] for f in parts if "=" in f)
            if not fields.get("constraint", "").startswith("CONSTRAINT_"):
                self._doubt(line)
                return
            f = r.facts
            f.constraint = fields["constraint"]
            f.oom_memcg = fields.get("oom_memcg", f.oom_memcg)
            f.task_memcg = fields.get("task_memcg", f.task_memcg)
            if fields.get("pid", "").isdigit():
                f.summary_pid = int(fields["pid"])
                r.summary_task = fields.get("task")
            if fields.get("uid", "").isdigit():
                f.uid = int(fields["uid"])
        r.summary_at = line.seconds
        self._keep(line)

    def _keep(self, line: Line) -> None:
        r = self.report
        if self.keep_lines:
            r.lines.append(line.raw)
        if self.keep_texts and r.first is None:  # no trigger line: the report's lines read
            r.texts.append(line.text)

    def _from_table(self, pids: Tuple[Optional[int], ...]) -> Tuple[Optional[int], Optional[int]]:
        """(uid, oom_score_adj) of the victim's row of the task table: before 4.5 (3.10) the
        Killed line has neither, and before 5.0 no summary names the uid."""
        r = self.report
        for pid in pids:
            row = r.rows.get(pid) if pid is not None else None
            if row is not None and r.table:
                fields = _row_fields(r.table, row)
                return _number(fields.get("uid")), _number(fields.get("oom_score_adj"))
        return None, None

    def _killed(self, line: Line, m, before: str) -> OomKillEvent:
        v = self.report.facts
        pid = int(m.group("pid"))
        sizes: Dict[str, int] = {}
        uid_text, adj = m.group("uid1") or m.group("uid2"), None
        for key, number, kb in KILLED_FIELD.findall(m.group("rest") or ""):
            name = _FIELD_NAMES.get(key)
            if name:
                if kb:  # sizes are printed in kB: one without its unit was cut short
                    sizes[name] = int(number) * 1024
            elif key == "UID":
                uid_text = number
            elif key == "oom_score_adj":
                adj = int(number)
        group = self.group
        member = (group is not None and self.report.first is None and v == _Facts() and group.active
                  and group.prefix == before and _close(group.at, line.seconds))
        if member and group is not None:
            v = group.facts  # another member of a memory.oom.group kill: the same OOM
        constraint = v.constraint
        if constraint is None and before.startswith("Memory cgroup"):
            constraint = "CONSTRAINT_MEMCG"
        elif constraint is None and "(oom_kill_allocating_task)" in before:
            constraint = "CONSTRAINT_NONE"
        # The summary (5.0+) comes right before its Killed line (both are printed under
        # oom_lock) and names the process; the Killed line names the thread that holds the
        # memory (__oom_kill_process()), which differs where the leader has exited.  In 5.0
        # the one killed could still be a child of the one named ("or sacrifice child").
        summary_pid, tid = v.summary_pid, None
        same = summary_pid is None or summary_pid == pid
        if summary_pid is not None and not same and v.summary_whole and not v.sacrifice:
            pid, tid, same = summary_pid, pid, True
        uid = int(uid_text) if uid_text is not None else (v.uid if same else None)
        if (uid is None or adj is None) and not member:
            row_uid, row_adj = self._from_table((pid, tid))
            uid, adj = uid if uid is not None else row_uid, adj if adj is not None else row_adj
        first = self.report.first or line
        event = OomKillEvent(
            time=_wall_clock(first.time), time_seconds=first.seconds, time_raw=first.time, killer="kernel", pid=pid,
            comm=m.group("comm"),
            uid=uid,
            constraint=constraint,
            oom_memcg=v.oom_memcg,
            task_memcg=v.task_memcg if same and not member else None,
            total_vm_bytes=sizes.get("total_vm_bytes"),
            anon_rss_bytes=sizes.get("anon_rss_bytes"),
            file_rss_bytes=sizes.get("file_rss_bytes"),
            shmem_rss_bytes=sizes.get("shmem_rss_bytes"),
            pgtables_bytes=sizes.get("pgtables_bytes"),
            oom_score_adj=adj,
            trigger_comm=v.trigger_comm,
            trigger_pid=v.trigger_pid,
            order=v.order,
            gfp_mask=v.gfp_mask,
            source=self.source,
            lines=list(self.report.lines) if self.keep_lines else None,
            tid=tid,
            group_memcg=group.memcg if member and group is not None else None,
            manual=v.order == -1,
            texts=tuple(self.report.texts) if self.keep_texts and not member else None,
        )
        if not member and self.report.first is not None:
            self.group = _Group(_Facts(trigger_comm=v.trigger_comm, trigger_pid=v.trigger_pid, gfp_mask=v.gfp_mask,
                                       order=v.order, constraint=v.constraint, oom_memcg=v.oom_memcg), before)
        return event

    def _inferred(self, r: _Report) -> OomKillEvent:
        """The kill a report's summary names, where its Killed line is not in the log (cut
        after the summary): the kernel kills the process the summary names (5.1+: the chosen
        one itself; 5.0: maybe a child, see sacrifice)."""
        v, when = r.facts, r.first
        row_uid, adj = self._from_table((v.summary_pid,))  # the summary has the uid, never the adj
        return OomKillEvent(
            time=_wall_clock(when.time) if when else None, time_seconds=when.seconds if when else r.summary_at,
            time_raw=when.time if when else None, killer="kernel", pid=v.summary_pid, comm=r.summary_task,
            uid=v.uid if v.uid is not None else row_uid, constraint=v.constraint, oom_memcg=v.oom_memcg,
            task_memcg=v.task_memcg, oom_score_adj=adj, trigger_comm=v.trigger_comm, trigger_pid=v.trigger_pid,
            order=v.order, gfp_mask=v.gfp_mask, source=self.source,
            lines=list(r.lines) if self.keep_lines else None, inferred=True, manual=v.order == -1,
            texts=tuple(r.texts) if self.keep_texts else None)

    def _userspace(self, line: Line) -> Optional[OomKillEvent]:
        ident = (line.ident or "").lower()
        pid = comm = uid = memcg = None
        if ident.startswith("earlyoom"):
            m = _EARLYOOM.search(line.text)
            if not m:
                return None
            killer, pid, comm, uid = "earlyoom", int(m.group("pid")), m.group("comm"), int(m.group("uid"))
        elif ident.startswith("nohang"):
            m = _NOHANG.search(line.text)
            if not m:
                return None
            killer, pid, comm = "nohang", int(m.group("pid")), m.group("comm")
        elif ident.startswith("systemd-oomd"):
            m = _OOMD.match(line.text)
            if not m:
                return None
            killer, memcg = "systemd-oomd", m.group("cgroup")
        else:
            return None
        return OomKillEvent(time=_wall_clock(line.time), time_seconds=line.seconds, time_raw=line.time, killer=killer, pid=pid, comm=comm, uid=uid,
                            task_memcg=memcg, source=self.source, lines=[line.raw] if self.keep_lines else None)


# Lines that can matter, found by substring before any regular expression runs: the
# parser reads hundreds of MB of ordinary log at C speed and looks closely only here.
# A report's other lines (its task table, all of them with keep_texts) are fed while
# Assembler.more says so.
_KEYWORDS = ("oom", "Killed process", "Out of memory", "Task in ", "nohang", "exiting. Skip killing",
             "no killable processes")
_ANY_KEYWORD = re.compile("|".join(re.escape(k) for k in _KEYWORDS)).search  # one pass in C
# and the parts a headless report may begin with (_HEADLESS), looked for with keep_unkilled only
_PART_KEYWORDS = _KEYWORDS + ("Mem-Info:", "active_anon:", "memory: usage")  # (a zone line is rarely first)


def _hand_over(asm: Assembler, doubtful: Optional[List[str]], cut: Optional[List[str]]) -> None:
    """The doubtful lines to the caller's lists: with ``cut`` given, the first lines of
    reports without a kill go there and only the unreadable lines to ``doubtful``."""
    if cut is not None:
        cut += asm.cut
        if doubtful is not None:
            doubtful += asm.unreadable
    elif doubtful is not None:
        doubtful += asm.doubtful


def parse_lines(lines: Iterable[str], source: str, keep_lines: bool = False,
                doubtful: Optional[List[str]] = None, keep_texts: bool = False,
                cut: Optional[List[str]] = None, keep_unkilled: bool = False) -> Iterator[OomKillEvent]:
    """Every kill in a sequence of log lines, in order.  Lines that look like OOM-killer
    output but gave no kill are appended to ``doubtful``; with ``cut`` given, the first
    lines of reports that ended without their kill line go to ``cut`` instead, and only
    the lines that could not be read to ``doubtful`` (see Assembler).  ``keep_texts``:
    each kill that ends a report carries the report's message texts (OomKillEvent.texts);
    ``keep_unkilled`` (with it): an UnkilledReport comes in the stream, in log order, for each
    report that ended without a kill."""
    asm = Assembler(source, keep_lines, keep_texts, keep_unkilled)
    keywords = _PART_KEYWORDS if asm.keep_unkilled else _KEYWORDS
    for raw in lines:
        if keep_lines or asm.more or any(k in raw for k in keywords):
            yield from asm.feed_all(raw)
    yield from asm.finish()
    _hand_over(asm, doubtful, cut)


def parse_text(text: str, source: str, keep_lines: bool = False,
               doubtful: Optional[List[str]] = None, keep_texts: bool = False,
               cut: Optional[List[str]] = None, keep_unkilled: bool = False) -> List[OomKillEvent]:
    """Every kill in a whole log at once (see parse_lines()).  Only lines holding a keyword
    (and those a report's reading asks for next: Assembler.more) are looked at, found with
    str.find over the whole text: the fast path."""
    if keep_lines:
        return list(parse_lines(text.split("\n"), source, keep_lines, doubtful, keep_texts, cut, keep_unkilled))
    starts = set()
    for key in _PART_KEYWORDS if keep_unkilled and keep_texts else _KEYWORDS:
        i = text.find(key)
        while i >= 0:
            start = text.rfind("\n", 0, i) + 1
            starts.add(start)
            end = text.find("\n", i)
            i = text.find(key, end) if end >= 0 else -1  # the next line, not the next match
    asm = Assembler(source, keep_texts=keep_texts, keep_unkilled=keep_unkilled)
    events: List[OomKillEvent] = []
    fed_until = 0  # lines before this offset were fed already (those a report asked for)
    for start in sorted(starts):
        if start < fed_until:
            continue
        while True:
            end = text.find("\n", start)
            events += asm.feed_all(text[start:] if end < 0 else text[start:end])
            fed_until = end + 1 if end >= 0 else len(text)
            if not asm.more or end < 0:
                break
            start = end + 1  # the report asks for the next line whatever it holds
    events += asm.finish()
    _hand_over(asm, doubtful, cut)
    return events
