"""Every part of one kernel OOM report, read from its message texts: a pure function.

``parse_report(texts)`` takes the texts of one report in log order, without their
dmesg/syslog prefixes (a caller tag such as "[ T1234] " may still be there), from the
``X invoked oom-killer:`` line to the ``Killed process`` line, and returns one immutable
``OomReport``.  Every part is optional: a fragment gives what it holds, junk gives an empty
report, and nothing raises.  Lines that look like a part of a report but cannot be read are
counted in ``unparsed``; lines of no interest (call trace, registers, per-cpu pagesets) are
skipped without a count.

Units: every size is in bytes (the kernel prints kB: kB x 1024), or in pages where the field
name says ``_pages``; counts stay counts.

The formats, by the kernel function that prints them (and the releases read):

* dump_header() (mm/oom_kill.c): the trigger line.  2.6.34 ``gfp_mask=0x%x, order=%d,
  oom_adj=%d``; RHEL 6 (2.6.32) ``..., oom_adj=0, oom_score_adj=0``; 3.x ``gfp_mask=0xd0,
  order=0, oom_score_adj=0``; 4.x ``gfp_mask=%#x(%pGg), nodemask=%*pbl, order=%d,
  oom_score_adj=%hd`` (4.19); 5.x+ without nodemask when there is none.
* dump_stack_print_info() (lib/dump_stack.c): ``CPU: N PID: P Comm: C Not tainted REL #B``;
  6.11+ adds ``UID: U``; 2.6/3.x print ``Pid: P, comm: C Not tainted REL #B``; RHEL adds
  ``Kdump: loaded`` before the taint.
* show_mem() / show_free_areas() (lib/show_mem.c and mm/page_alloc.c before 6.2,
  mm/show_mem.c since): the Mem-Info counters (pages), the per-node line (kB, 4.8+), one line
  per zone (kB, ``Node N `` only on NUMA kernels: show_node() prints it only with
  CONFIG_NUMA), its ``lowmem_reserve[]:`` line (pages, never a node prefix), the free lists
  ``Node 0 DMA: 1*4kB (U) ... = 15704kB``, hugetlb_show_meminfo() per node and size, the
  page-cache, swap (show_swap_cache_info(), mm/swap_state.c) and ``pages RAM`` lines.
* mem_cgroup_print_oom_info() / mem_cgroup_print_oom_meminfo() (mm/memcontrol.c,
  mm/memcontrol-v1.c): ``memory: usage NkB, limit NkB, failcnt N`` and the same for
  ``memory+swap``, ``kmem``, ``swap``; ``Memory cgroup stats for /p:`` followed by the v1
  one-line form ``cache:0KB rss:123KB ...`` (3.8 to 4.x, one line per cgroup of the
  subtree), or by one ``name value`` line per memory.stat entry (v2 since 4.19; v1 again
  since 6.5, with v1 names).
* dump_tasks() (mm/oom_kill.c): the table, read by its header: 2.6 ``[ pid ] uid tgid
  total_vm rss cpu oom_adj name`` (RHEL 6 adds oom_score_adj), 3.x ``nr_ptes``, 4.1-4.14
  ``nr_ptes nr_pmds``, 4.15+ ``pgtables_bytes``, 6.8+ ``rss_anon rss_file rss_shmem``.
* oom_kill_process(): ``Kill process N (c) score S or sacrifice child`` (before 5.1; 2.6.34
  ``kill process N (c) score S or a child``), ``Killed process N (c) ...``, the oom_reaper
  line (4.6+) and the memory.oom.group line (4.19+).
"""

from __future__ import annotations

import re

from .._record import Record
from .gfp import gfp_flag_names
from .lines import KILL_SCORE, KILLED, KILLED_FIELD, REAPER, TRIGGER_AT, trigger_fields

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows the start
    from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

    from typing import Union

    from .parse import OomKillEvent, UnkilledReport


class Trigger(Record):
    """The allocation that failed, and its task.  None: the report did not say."""

    comm: Optional[str] = None
    pid: Optional[int] = None  # from the CPU line (the trigger line names no pid)
    uid: Optional[int] = None  # 6.11+ CPU line
    gfp_mask: Optional[str] = None  # as printed: "0xcc0"
    gfp_flags: Tuple[str, ...] = ()  # the names printed in parentheses (4.6+); before, the names
    #                                  that release's gfp.h gives the mask (events.gfp)
    nodemask: Optional[str] = None  # "(null)", "0", "0-1,3" (4.x and some 5.x+)
    order: Optional[int] = None  # -1: a manual OOM (sysrq f)
    oom_score_adj: Optional[int] = None
    oom_adj: Optional[int] = None  # 2.6.x trigger lines print oom_adj (RHEL 6 both)


class Zone(Record):
    """One zone line of show_free_areas(), sizes in bytes (printed in kB)."""

    node: Optional[int]  # None: no "Node N " prefix (a kernel without CONFIG_NUMA)
    name: str  # DMA, DMA32, Normal, HighMem, Movable, Device
    free_bytes: Optional[int]
    boost_bytes: Optional[int]  # 5.0+
    min_bytes: Optional[int]
    low_bytes: Optional[int]
    high_bytes: Optional[int]
    reserved_highatomic_bytes: Optional[int]  # 5.x+ (printed "KB")
    active_anon_bytes: Optional[int]
    inactive_anon_bytes: Optional[int]
    active_file_bytes: Optional[int]
    inactive_file_bytes: Optional[int]
    unevictable_bytes: Optional[int]
    writepending_bytes: Optional[int]  # 4.8+
    present_bytes: Optional[int]
    managed_bytes: Optional[int]  # 3.x+
    mlocked_bytes: Optional[int]
    pagetables_bytes: Optional[int]  # per zone before 5.x (per node since)
    bounce_bytes: Optional[int]
    free_pcp_bytes: Optional[int]  # 4.x+
    local_pcp_bytes: Optional[int]
    free_cma_bytes: Optional[int]
    lowmem_reserve_pages: Tuple[int, ...]  # the "lowmem_reserve[]:" line after the zone
    # every other field by its printed name: kB ones in bytes (kernel_stack, dirty,
    # isolated(anon), ... of older kernels), and "pages_scanned" (2.6-4.7) as pages
    other: Dict[str, int]


class FreeArea(Record):
    """One free-list line: ``Node 0 DMA32: 1*4kB (M) 1*8kB (M) ... = 2972kB``."""

    node: Optional[int]
    zone: str
    chunks: Tuple[Tuple[int, int], ...]  # (chunk size in bytes, free chunks) per order
    total_bytes: Optional[int]  # the "= NkB" total


class Hugepages(Record):
    """``Node 0 hugepages_total=0 hugepages_free=0 hugepages_surp=0 hugepages_size=2048kB``."""

    node: Optional[int]
    size_bytes: int
    total: int
    free: int
    surplus: int


class MemcgCounter(Record):
    """``memory: usage 524288kB, limit 524288kB, failcnt 72`` (and memory+swap, kmem, swap)."""

    name: str  # as printed: "memory", "memory+swap", "kmem", "swap"
    usage_bytes: Optional[int]
    limit_bytes: Optional[int]  # PAGE_COUNTER_MAX (unlimited) is printed as a huge number
    failcnt: Optional[int]


class Task(Record):
    """One row of the task table (dump_tasks())."""

    pid: int
    uid: Optional[int]
    tgid: Optional[int]
    total_vm_pages: Optional[int]
    rss_pages: Optional[int]
    rss_anon_pages: Optional[int]  # 6.8+
    rss_file_pages: Optional[int]  # 6.8+
    rss_shmem_pages: Optional[int]  # 6.8+
    # 4.15+ print bytes.  3.x print nr_ptes and 4.1-4.14 nr_ptes and nr_pmds, page-table
    # pages (what oom_badness() of those releases adds): (nr_ptes + nr_pmds) x page size,
    # the report's page size (OomReport.page_size); None when the report gives none.
    pgtables_bytes: Optional[int]
    swapents: Optional[int]
    oom_score_adj: Optional[int]
    oom_adj: Optional[int]  # 2.6.x
    cpu: Optional[int]  # 2.6.x
    name: str


class OomReport(Record):
    """One OOM report, every part it holds.  None, () or {}: the report did not say."""

    release: Optional[str]  # "6.1.0-18-cloud-amd64", from the CPU (2.6/3.x: Pid:) line
    taint: Optional[str]  # "Not tainted", "Tainted: G           O"
    hardware: Optional[str]  # the "Hardware name:" line
    trigger: Trigger
    mem_info_pages: Dict[str, int]  # every "name:value" counter of Mem-Info, as printed
    # per-node lines (4.8+): (node, kB fields in bytes, other fields as text, by name
    # without the trailing "?": {"all_unreclaimable": "no"})
    nodes: Tuple[Tuple[int, Dict[str, int], Dict[str, str]], ...]
    zones: Tuple[Zone, ...]
    free_areas: Tuple[FreeArea, ...]
    hugepages: Tuple[Hugepages, ...]
    pagecache_pages: Optional[int]
    swap_cache_pages: Optional[int]
    swap_free_bytes: Optional[int]
    swap_total_bytes: Optional[int]
    ram_pages: Optional[int]
    highmem_pages: Optional[int]  # "pages HighMem/MovableOnly" (2.6: "pages HighMem")
    reserved_pages: Optional[int]
    cma_reserved_pages: Optional[int]
    hwpoisoned_pages: Optional[int]
    # bytes: the smallest free-list chunk ("1*4kB"), else the killed process's total-vm
    # (kB) over its total_vm (pages) in the table; None if nothing says
    page_size: Optional[int]
    memcg: Tuple[MemcgCounter, ...]
    memcg_stats_path: Optional[str]  # "Memory cgroup stats for /x:"
    # the first (the OOM cgroup's) stats block: the one-line v1 form (KB -> bytes), or the
    # many-line form (v2, and v1 since 6.5) as printed: bytes for sizes, counts for the
    # event counters (memcg_stat_is_count() tells which)
    memcg_stats: Dict[str, int]
    tasks: Tuple[Task, ...]
    task_columns: Tuple[str, ...]  # the header's column names as printed ("pid", "uid", ...)
    # "Kill process N (c) score S or sacrifice child" (before 5.1), else the first
    # "Killed process N (c)" (5.1+ kill the process selected)
    selected_pid: Optional[int]
    selected_comm: Optional[str]
    kernel_score: Optional[int]  # the S of "Kill process ... score S" (before 5.1)
    group_memcg: Optional[str]  # "Tasks in /g are going to be killed due to memory.oom.group set"
    # oom_reaper lines (4.6+): (pid, anon, file, shmem rss bytes left after the reaping)
    reaped: Tuple[Tuple[int, Optional[int], Optional[int], Optional[int]], ...]
    unparsed: int  # lines that looked like report parts but could not be read
    # "N pages shared", "N pages non-shared" (before 4.x), "N pages in pagetable cache":
    # any other "N pages ..." line, by the words after "pages"
    other_pages: Dict[str, int]
    # the v1 one-line stats of the cgroups below the OOM cgroup (3.8 to 5.x print one line
    # per cgroup of the subtree; memcg_stats is the first): (path, stats in bytes)
    memcg_stats_children: Tuple[Tuple[str, Dict[str, int]], ...]
    # where the report is in its log (events.parse; reports() fills them, parse_report()
    # leaves them empty): the kills that ended it (a memory.oom.group kill has several),
    # the time of its first line and the log it came from
    kills: Tuple[OomKillEvent, ...] = ()
    time: Optional[str] = None
    time_seconds: Optional[float] = None
    time_raw: Optional[str] = None
    source: str = ""
    unkilled: Optional[str] = None  # a report without a kill: why (events.parse.UnkilledReport.why)


# -- memcg stat units --------------------------------------------------------------------

# memory.stat entries that count events (pages scanned, faults, ...), never sizes: in the
# many-line block they are printed as counts, every other entry as bytes
# (memory_stat_format(), memcg1_stat_format()); v1 prefixes its hierarchical sums "total_"
_COUNT_PREFIXES = ("workingset_", "pg", "thp_", "zswpin", "zswpout", "zswpwb", "numa_",
                   "swpin", "swpout", "hugetlb_fault", "nr_")


def memcg_stat_is_count(name: str) -> bool:
    """Whether ``name`` (a key of OomReport.memcg_stats) counts events rather than bytes:
    workingset_*, pg* (pgfault, pgscan, pgsteal, pgpgin, pgdemote_*, ...), thp_*, zswpin,
    zswpout, zswpwb, numa_*, swpin/swpout, and v1's total_ forms of them."""
    if name.startswith("total_"):
        name = name[6:]
    return name.startswith(_COUNT_PREFIXES)


# -- line patterns ------------------------------------------------------------------------

_CALLER = re.compile(r"\[\s*[TC]\d+\]\s?")
_ZONE_NAMES = ("DMA32", "DMA", "Normal", "HighMem", "Movable", "Device")
_ZONE_FIELDS = {
    "free": 0, "boost": 1, "min": 2, "low": 3, "high": 4, "reserved_highatomic": 5,
    "active_anon": 6, "inactive_anon": 7, "active_file": 8, "inactive_file": 9,
    "unevictable": 10, "writepending": 11, "present": 12, "managed": 13, "mlocked": 14,
    "pagetables": 15, "bounce": 16, "free_pcp": 17, "local_pcp": 18, "free_cma": 19,
}
# "name:NkB", "name:NKB" (reserved_highatomic), "name: NkB" (shmem_thp in 4.x), "name:N"
# (pages_scanned), "all_unreclaimable? no"
_FIELD = re.compile(r"([A-Za-z_][\w()]*)[:?]\s*(\S+)")
_COUNTER = re.compile(r"([a-z_]+):(\d+)")
_TAINT = re.compile(r"(Not tainted|Tainted: [A-Z ]*[A-Z])\s+(\S+)")
_MEMCG = re.compile(r"([\w+:]+): usage (\d+)kB, limit (\d+)kB, failcnt (\d+)")

# the task-table columns that map to Task fields (position in Task)
_TASK_COLUMNS = {
    "uid": 1, "tgid": 2, "total_vm": 3, "rss": 4, "rss_anon": 5, "rss_file": 6,
    "rss_shmem": 7, "pgtables_bytes": 8, "swapents": 9, "oom_score_adj": 10, "oom_adj": 11,
    "cpu": 12,
}

_GROUP = " are going to be killed due to memory.oom.group set"
_PAGE_LINES = {
    "total pagecache pages": "pagecache_pages",
    "pages in swap cache": "swap_cache_pages",
    "pages RAM": "ram_pages",
    "pages HighMem/MovableOnly": "highmem_pages",
    "pages HighMem": "highmem_pages",
    "pages reserved": "reserved_pages",
    "pages cma reserved": "cma_reserved_pages",
    "pages hwpoisoned": "hwpoisoned_pages",
}


def _kb(value: str) -> int:
    """ "123kB" / "123KB" / "123" -> bytes."""
    if value[-2:] in ("kB", "KB"):
        value = value[:-2]
    return int(value) * 1024


def _node_prefix(s: str) -> Tuple[Optional[int], str]:
    """``Node 3 rest`` -> (3, "rest"); anything else -> (None, s)."""
    if s.startswith("Node "):
        number, _, rest = s[5:].partition(" ")
        if number.isdigit():
            return int(number), rest
    return None, s


def _zone_name(s: str) -> Optional[str]:
    """The zone name ``s`` starts with, followed by " " or ":"."""
    for name in _ZONE_NAMES:
        if s.startswith(name) and s[len(name):len(name) + 1] in (" ", ":"):
            return name
    return None


class _State:
    """What parse_report() has read so far (mutable; the record is built at the end)."""

    def __init__(self) -> None:
        self.release: Optional[str] = None
        self.taint: Optional[str] = None
        self.hardware: Optional[str] = None
        self.trigger: Dict[str, Any] = {}
        self.mem_info: Dict[str, int] = {}
        self.nodes: List[Tuple[int, Dict[str, int], Dict[str, str]]] = []
        self.zones: List[list] = []  # Zone fields, lowmem_reserve filled in later
        self.free_areas: List[FreeArea] = []
        self.hugepages: List[Hugepages] = []
        self.pages: Dict[str, int] = {}
        self.other_pages: Dict[str, int] = {}
        self.swap_free: Optional[int] = None
        self.swap_total: Optional[int] = None
        self.memcg: List[MemcgCounter] = []
        self.stats_path: Optional[str] = None
        self.stats: Optional[Dict[str, int]] = None
        self.stats_children: List[Tuple[str, Dict[str, int]]] = []
        self.in_stats: Optional[Dict[str, int]] = None  # the many-line block being read
        self.columns: Tuple[str, ...] = ()
        self.picks: Tuple[int, ...] = ()  # see table_header()
        self.count = 0  # numeric columns of a row
        self.pmds_at = -1
        self.rows: List[list] = []  # Task fields; pgtables from nr_ptes still in pages
        self.ptes_in_pages = False
        self.selected_pid: Optional[int] = None
        self.selected_comm: Optional[str] = None
        self.score: Optional[int] = None
        self.killed: Optional[Tuple[int, Optional[int]]] = None  # pid, total-vm kB
        self.group: Optional[str] = None
        self.reaped: List[Tuple[int, Optional[int], Optional[int], Optional[int]]] = []
        self.unparsed = 0

    # -- the parts ------------------------------------------------------------------------

    def trigger_line(self, s: str, at: int) -> None:
        t = self.trigger
        t["comm"] = s[:at]
        fields = trigger_fields(s[at:])
        t.update(fields)
        if "gfp_mask" not in fields:
            self.unparsed += 1

    def cpu_line(self, s: str) -> None:
        """``CPU: 1 UID: 0 PID: 116 Comm: x Not tainted 6.11.0 #15`` (3.x+, UID 6.11+) or
        ``Pid: 2976, comm: mal-80 Not tainted 3.7.0+ #10`` (2.6, 3.x before 3.10)."""
        m = _TAINT.search(s)
        head = s[:m.start()] if m else s
        if m:
            self.taint = m.group(1)
            self.release = m.group(2)
        if s.startswith("Pid: "):
            pid, _, comm = head[5:].partition(", comm: ")
            self.trigger["pid"] = int(pid)
            if comm:
                self.trigger.setdefault("comm", comm.rstrip())
            return
        at = head.find(" PID: ")
        if at < 0:
            self.unparsed += 1
            return
        uid_at = head.find(" UID: ")
        if uid_at >= 0:
            self.trigger["uid"] = int(head[uid_at + 6:at])
        pid, _, comm = head[at + 6:].partition(" Comm: ")
        self.trigger["pid"] = int(pid)
        comm = comm.rstrip()
        if comm.endswith(" Kdump: loaded"):  # RHEL's dump_stack_print_info()
            comm = comm[:-14]
        if comm:
            self.trigger.setdefault("comm", comm)

    def node_or_zone(self, s: str) -> None:
        node, rest = _node_prefix(s)
        name = _zone_name(rest)
        if name is not None:
            after = rest[len(name):]
            if after.startswith(": "):
                self.free_area(node, name, after[2:])
            elif after.startswith(" per-cpu"):  # 2.6-3.x pageset header: skipped
                pass
            else:
                self.zone(node, name, after)
        elif node is not None:
            if rest.startswith("hugepages_total="):
                self.hugepage(node, rest)
            elif rest.startswith("lowmem_reserve[]:"):
                self.lowmem_reserve(rest)
            elif ":" in rest:
                self.node_line(node, rest)
            else:
                self.unparsed += 1
        else:
            self.unparsed += 1

    def zone(self, node: Optional[int], name: str, text: str) -> None:
        fields: list = [node, name] + [None] * 20 + [(), {}]
        other: Dict[str, int] = fields[-1]
        seen = False
        for key, value in _FIELD.findall(text):
            i = _ZONE_FIELDS.get(key)
            if value[-2:] in ("kB", "KB"):
                number = _kb(value)
            elif value.isdigit():
                number = int(value)
                if key == "pages_scanned":  # 2.6-4.7: a count of pages
                    other[key] = number
                    seen = True
                    continue
            else:
                continue  # all_unreclaimable? yes/no (2.6-4.7)
            seen = True
            if i is None:
                other[key] = number
            else:
                fields[2 + i] = number
        if not seen:
            self.unparsed += 1
            return
        self.zones.append(fields)

    def lowmem_reserve(self, text: str) -> None:
        values = tuple(int(v) for v in text[17:].split())
        if self.zones and not self.zones[-1][22]:
            self.zones[-1][22] = values
        else:  # a reserve line without its zone line
            self.unparsed += 1

    def free_area(self, node: Optional[int], name: str, text: str) -> None:
        chunks = []
        total = None
        words = text.split()
        for i, word in enumerate(words):
            star = word.find("*")
            if star > 0:
                chunks.append((_kb(word[star + 1:]), int(word[:star])))
            elif word == "=" and i + 1 < len(words):
                total = _kb(words[i + 1])
        if not chunks:
            self.unparsed += 1
            return
        self.free_areas.append(FreeArea(node, name, tuple(chunks), total))

    def hugepage(self, node: int, text: str) -> None:
        values = dict(word.split("=", 1) for word in text.split())
        self.hugepages.append(Hugepages(node, _kb(values["hugepages_size"]), int(values["hugepages_total"]),
                                        int(values["hugepages_free"]), int(values["hugepages_surp"])))

    def node_line(self, node: int, text: str) -> None:
        sizes: Dict[str, int] = {}
        texts: Dict[str, str] = {}
        for key, value in _FIELD.findall(text):
            if value[-2:] in ("kB", "KB") and value[:-2].isdigit():
                sizes[key] = _kb(value)
            else:
                texts[key] = value
        if not sizes:
            self.unparsed += 1
            return
        self.nodes.append((node, sizes, texts))

    def page_line(self, s: str) -> None:
        """``8810 total pagecache pages``, ``2097022 pages RAM``, ... (show_mem())."""
        number, _, words = s.partition(" ")
        key = _PAGE_LINES.get(words)
        if key is not None:
            self.pages[key] = int(number)
        elif words.startswith("pages "):
            self.other_pages[words[6:]] = int(number)
        elif words.endswith(" pages") and "=" not in words:  # some vendor's "N foo pages"
            self.other_pages[words[:-6]] = int(number)
        # anything else starting with a digit is not a part of the report

    def memcg_line(self, s: str) -> None:
        m = _MEMCG.match(s)
        if m is None:
            self.unparsed += 1
            return
        self.memcg.append(MemcgCounter(m.group(1), int(m.group(2)) * 1024, int(m.group(3)) * 1024,
                                       int(m.group(4))))

    def stats_line(self, s: str) -> None:
        """``Memory cgroup stats for /p:`` and the v1 one-line stats after it (3.8-5.x), or
        nothing after it: the many-line block follows (4.19+)."""
        stats: Dict[str, int] = {}
        if s.endswith(":"):
            head, rest = s[:-1], ""
            self.in_stats = stats
        else:
            head, _, rest = s.partition(": ")
            for word in rest.split():
                key, colon, value = word.partition(":")
                if colon:
                    stats[key] = _kb(value) if value[-2:] in ("KB", "kB") else int(value)
            if not stats:
                self.unparsed += 1
                return
        path = head[24:] if head.startswith("Memory cgroup stats for ") else ""
        if self.stats is None:
            self.stats_path, self.stats = path, stats
        else:
            self.stats_children.append((path, stats))

    def table_header(self, s: str) -> None:
        """``[  pid  ]   uid  tgid total_vm      rss ... name``: the columns to read rows by."""
        close = s.find("]")
        columns = s[close + 1:].split()
        if not columns or columns[-1] != "name":
            self.unparsed += 1
            return
        self.columns = ("pid", *columns)
        # for Task fields 1..12, the column holding it (-1: none; a row's values end with
        # None); columns Task has no field for (a vendor's ppid) are read and left
        picks = [-1] * 12
        self.pmds_at = -1
        self.ptes_in_pages = False
        for at, column in enumerate(columns[:-1]):
            if column == "nr_ptes":  # 3.x-4.14: page-table pages
                picks[7] = at
                self.ptes_in_pages = True
            elif column == "nr_pmds":  # 4.1-4.14: added to nr_ptes, as oom_badness() did
                self.pmds_at = at
            elif column in _TASK_COLUMNS:
                picks[_TASK_COLUMNS[column] - 1] = at
        self.picks = tuple(picks)
        self.count = len(columns) - 1

    def table_row(self, s: str) -> None:
        close = s.find("]")
        count = self.count
        if not count:
            self.unparsed += 1  # a row without its header
            return
        parts = s[close + 1:].split(None, count)
        if len(parts) < count:
            self.unparsed += 1
            return
        values: list = [*map(int, parts[:count]), None]
        row = [int(s[1:close]), *[values[at] for at in self.picks], parts[count] if len(parts) > count else ""]
        if self.pmds_at >= 0 and row[8] is not None:
            row[8] += values[self.pmds_at]
        row.append(self.ptes_in_pages)
        self.rows.append(row)

    def kill_line(self, s: str) -> None:
        m = KILL_SCORE.search(s)
        if m is None:
            self.unparsed += 1
        elif self.selected_pid is None or self.score is None:
            self.selected_pid, self.selected_comm, self.score = int(m.group(1)), m.group(2), int(m.group(3))

    def killed_line(self, s: str) -> None:
        at = s.find("Killed process ")
        m = KILLED.match(s, at) if at >= 0 else None
        if m is None:
            self.unparsed += 1
            return
        pid = int(m.group("pid"))
        if self.killed is None:
            sizes = {key: int(number) for key, number, _ in KILLED_FIELD.findall(m.group("rest") or "")}
            self.killed = (pid, sizes.get("total-vm", sizes.get("vsz")))
        if self.selected_pid is None:  # 5.1+: no "Kill process" line; the killed one was selected
            self.selected_pid, self.selected_comm = pid, m.group("comm")

    def reaped_line(self, s: str) -> None:
        m = REAPER.search(s)
        if m is None or m.group("pid") is None:
            if "reaped process" in s:
                self.unparsed += 1
            return  # "oom_reaper: unable to reap pid:N" and others
        anon, file, shmem = (int(g) * 1024 if g else None for g in m.group("anon", "file", "shmem"))
        self.reaped.append((int(m.group("pid")), anon, file, shmem))

    # -- one line -------------------------------------------------------------------------

    def line(self, s: str) -> None:
        if self.in_stats is not None:  # the many-line memory.stat block: "anon 9900032"
            name, _, value = s.partition(" ")
            if value.isdigit() and name.replace("_", "a").isalnum():
                self.in_stats[name] = int(value)
                return
            self.in_stats = None
        at = s.find(TRIGGER_AT.rstrip())  # first: a comm may start with anything
        if at >= 0:
            self.trigger_line(s, at)
            return
        first = s[:1]
        if first == "[":
            if s.startswith("[ pid ]") or "pid" in s[:9]:
                self.table_header(s)
            elif s[1:s.find("]")].strip().isdigit():  # "[  749]": a row
                self.table_row(s)
            return
        if first.isdigit():
            self.page_line(s)
            return
        # route by the first character: most lines of a report (call trace, registers)
        # fall through a few tests only
        if first.isupper():
            if first in "NDHM" and (s.startswith("Node ") or _zone_name(s) is not None):
                self.node_or_zone(s)
                return
            if s.startswith(("CPU: ", "Pid: ")):
                self.cpu_line(s)
                return
            if s.startswith("Hardware name: "):
                self.hardware = s[15:].strip()
                return
            if s.startswith("Free swap"):
                self.swap_free = _kb(s.partition("=")[2].strip())
                return
            if s.startswith("Total swap"):
                self.swap_total = _kb(s.partition("=")[2].strip())
                return
            if s.startswith("Memory cgroup stats"):
                self.stats_line(s)
                return
            if s.startswith("Tasks in ") and s.endswith(_GROUP):
                self.group = s[9:-len(_GROUP)]
                return
        elif first.islower():
            if s.startswith("lowmem_reserve[]:"):
                self.lowmem_reserve(s)
                return
            if s.startswith(("memory: ", "memory+swap: ", "kmem: ", "swap: ", "kmem:tcp: ")):
                self.memcg_line(s)
                return
            if s.startswith("oom_reaper: "):
                self.reaped_line(s)
                return
            if ":" in s and "=" not in s and " process " not in s:
                # Mem-Info counters: "active_anon:1999425 inactive_anon:0 isolated_anon:0"
                pairs = _COUNTER.findall(s)
                if pairs and len(pairs) == s.count(":"):
                    self.mem_info.update((k, int(v)) for k, v in pairs)
                    return
        # the kill lines follow any prefix ("Out of memory: ", "Memory cgroup out of
        # memory: ", "Out of memory (oom_kill_allocating_task): ")
        if "Killed process " in s:
            self.killed_line(s)
        elif "ill process " in s and " score " in s:  # "Kill process N (c) score S ..."
            self.kill_line(s)

    # -- the record -----------------------------------------------------------------------

    def page_size(self) -> Optional[int]:
        sizes = [area.chunks[0][0] for area in self.free_areas if area.chunks]
        if sizes:
            return min(sizes)
        if self.killed is not None:
            pid, vm_kb = self.killed
            for row in self.rows if vm_kb else ():
                if row[0] == pid and row[3]:
                    size, rest = divmod((vm_kb or 0) * 1024, row[3])
                    if not rest and size >= 4096 and size & (size - 1) == 0:
                        return size
        return None

    def report(self) -> OomReport:
        page_size = self.page_size()
        tasks = []
        for row in self.rows:
            if row.pop():  # pgtables in pages (nr_ptes, nr_pmds)
                row[8] = row[8] * page_size if page_size is not None and row[8] is not None else None
            tasks.append(Task(*row))
        zones = tuple(Zone(*fields) for fields in self.zones)
        t = self.trigger
        flags = t.get("gfp_flags", ())
        if not flags and t.get("gfp_mask"):  # kernels before 4.6 print the mask only: its names then
            try:
                flags = gfp_flag_names(int(t["gfp_mask"], 16), self.release)
            except ValueError:
                flags = ()
        trigger = Trigger(t.get("comm"), t.get("pid"), t.get("uid"), t.get("gfp_mask"), flags,
                          t.get("nodemask"), t.get("order"), t.get("oom_score_adj"), t.get("oom_adj"))
        p = self.pages.get
        return OomReport(
            self.release, self.taint, self.hardware, trigger, self.mem_info, tuple(self.nodes), zones,
            tuple(self.free_areas), tuple(self.hugepages), p("pagecache_pages"), p("swap_cache_pages"),
            self.swap_free, self.swap_total, p("ram_pages"), p("highmem_pages"), p("reserved_pages"),
            p("cma_reserved_pages"), p("hwpoisoned_pages"), page_size, tuple(self.memcg), self.stats_path,
            self.stats if self.stats is not None else {}, tuple(tasks), self.columns, self.selected_pid,
            self.selected_comm, self.score, self.group, tuple(self.reaped), self.unparsed, self.other_pages,
            tuple(self.stats_children))


def parse_report(texts: Sequence[str]) -> OomReport:
    """The parts of one OOM report.  ``texts``: its message texts in log order, without log
    prefixes (a caller tag "[ T1234] " is allowed).  Never raises on any text."""
    state = _State()
    for text in texts:
        if not isinstance(text, str):
            continue
        for s in text.split("\n") if "\n" in text else (text,):
            s = s.strip()
            if s[:2] == "[ " or s[:2] in ("[T", "[C"):  # a caller tag (CONFIG_PRINTK_CALLER)
                m = _CALLER.match(s)
                if m:
                    s = s[m.end():].lstrip()
            if not s:
                continue
            try:
                state.line(s)
            except (ValueError, IndexError, KeyError, OverflowError):
                state.unparsed += 1
    return state.report()


def reports(events: Iterable[Union[OomKillEvent, UnkilledReport]]) -> Iterator[OomReport]:
    """One OomReport per report among ``events`` (from events.parse with keep_texts, and
    keep_unkilled for the reports without a kill): each kill that carries its report's
    texts opens one, and the memory.oom.group members that follow it (no texts of their
    own) join its kills; an UnkilledReport is a report with no kills.  A kill whose texts
    are missing (a parse without keep_texts) gives a report of that kill alone."""
    from .parse import UnkilledReport

    report: Optional[OomReport] = None
    for event in events:
        if isinstance(event, UnkilledReport):
            if report is not None:
                yield report
            report = parse_report(event.texts)._replace(
                time=event.time, time_seconds=event.time_seconds, time_raw=event.time_raw, source=event.source,
                unkilled=event.why)
            continue
        if event.killer != "kernel":
            continue
        if event.texts is None and report is not None and event.group_memcg is not None:
            report = report._replace(kills=(*report.kills, event))
            continue
        if report is not None:
            yield report
        report = parse_report(event.texts or ())._replace(
            kills=(event,), time=event.time, time_seconds=event.time_seconds, time_raw=event.time_raw,
            source=event.source)
    if report is not None:
        yield report
