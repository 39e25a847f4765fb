"""Why an OOM happened: the parts of one kernel report (events/report.py) analysed.

Four questions, each answered from the report's own numbers (docs/why.md):
(a) where the memory went (Mem-Info, the hugepage pool, the memcg's usage and stats);
(b) why the allocation failed: each zone it may use against its min watermark plus
    lowmem_reserve, as __zone_watermark_ok() judges it (mm/page_alloc.c);
(c) whether the killed process is the one the kernel's arithmetic picks from the task table
    (badness.py, in the kernel's era), and why not where it is not;
(d) a verdict: one cause from a closed set, the other codes that hold as factors, each with
    its evidence and one piece of advice.

A part the report lacks leaves its answer None; nothing here reads a file.
"""

from __future__ import annotations

from ._record import Record
from ._units import human_bytes
from .badness import OOM_SCORE_ADJ_MIN, choice_key, era_of, last_scanned_wins, oom_badness, proc_oom_score
from .errors import InvalidValue
from .procfs.pid import oom_adj_to_score_adj

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows the start
    from typing import Dict, List, Optional, Sequence, Tuple

    from .events.parse import OomKillEvent
    from .events.report import OomReport, Task, Zone

# The verdict's codes (docs/why.md): stable, in the order a cause is looked for.
# A share of RAM large enough (hugepages, shmem, kernel_memory) explains why the zones ran
# short, so it comes before zone_constrained and fragmentation, which say how.
CAUSES = ("manual", "memcg_limit", "hugepages", "shmem", "kernel_memory", "zone_constrained", "fragmentation",
          "memory_exhausted", "unknown")
LARGE_SHARE = 0.30  # a part of RAM (or of a memcg's usage) this large is the cause
FACTOR_SHARE = 0.15  # ... and this large, a factor
UNUSABLE_FREE_SHARE = 0.05  # free memory this allocation may not use, as a part of RAM: zone_constrained
SWAP_FULL_SHARE = 0.05  # free swap below this part of the total counts as full
LOW_FREE_SHARE = 0.02  # free memory (above the allowed zones' min + reserve; without zone lines, Mem-Info's
#                        free) below this part of RAM: RAM counts as used up
DEFAULT_PAGE_SIZE = 4096  # where nothing in the report gives it (x86, most arm64)
_NODE_CONSTRAINTS = ("CONSTRAINT_CPUSET", "CONSTRAINT_MEMORY_POLICY")  # OOMs of some nodes only

# Zone modifiers of a gfp_mask, the same bits since 2.6.x (include/linux/gfp.h, gfp_types.h
# since 6.4: ___GFP_DMA 0x01, ___GFP_HIGHMEM 0x02, ___GFP_DMA32 0x04, ___GFP_MOVABLE 0x08),
# and __GFP_HIGH (0x20 in every release): it halves the min watermark (__zone_watermark_ok()).
_GFP_DMA, _GFP_HIGHMEM, _GFP_DMA32, _GFP_MOVABLE, _GFP_HIGH = 0x01, 0x02, 0x04, 0x08, 0x20
# enum zone_type, in order (include/linux/mmzone.h); a config has a subset of them
ZONE_ORDER = ("DMA", "DMA32", "Normal", "HighMem", "Movable", "Device")


class MemorySplit(Record):
    """Where the memory was (bytes; None where the report does not say)."""

    ram_bytes: Optional[int]  # "N pages RAM"
    swap_total_bytes: Optional[int]
    swap_free_bytes: Optional[int]
    swap_used_bytes: Optional[int]  # total - free: the swap slots in use
    free_bytes: Optional[int]
    anon_bytes: Optional[int]  # anonymous memory on the LRU lists, shmem taken out
    file_bytes: Optional[int]  # page cache on the file LRU lists
    shmem_bytes: Optional[int]  # shmem and tmpfs (on the anon LRU lists, counted apart)
    slab_reclaimable_bytes: Optional[int]
    slab_unreclaimable_bytes: Optional[int]
    pagetables_bytes: Optional[int]
    hugepages_bytes: Optional[int]  # the hugepage pools (free or used): out of general use
    unevictable_bytes: Optional[int]
    other_bytes: Optional[int]  # RAM minus all of the above: kernel stacks, vmalloc, drivers, reserved
    memcg_path: Optional[str] = None
    memcg_usage_bytes: Optional[int] = None
    memcg_limit_bytes: Optional[int] = None
    memcg_swap_usage_bytes: Optional[int] = None
    memcg_swap_limit_bytes: Optional[int] = None
    memcg_anon_bytes: Optional[int] = None
    memcg_file_bytes: Optional[int] = None
    memcg_kernel_bytes: Optional[int] = None
    memcg_shmem_bytes: Optional[int] = None


class ZoneCheck(Record):
    """One zone against the allocation (bytes)."""

    node: Optional[int]
    zone: str
    free_bytes: int
    min_bytes: Optional[int]
    low_bytes: Optional[int]
    high_bytes: Optional[int]
    reserve_bytes: int  # lowmem_reserve[the requested zone]: kept back from allocations that could go higher
    unusable_bytes: int  # free memory this allocation may not take: CMA (not movable), highatomic reserves
    allowed: bool  # the gfp flags and nodemask let the allocation fall back to this zone
    below_min: Optional[bool]  # free - unusable - (2^order - 1 pages) <= min + reserve
    has_chunk: Optional[bool]  # order > 0: a free chunk of the request's size or larger


class AllocationCheck(Record):
    request_bytes: Optional[int]  # 2^order pages
    zone: Optional[str]  # the highest zone the gfp flags allow (gfp_zone())
    movable: bool  # __GFP_MOVABLE: may use CMA
    zones: Tuple[ZoneCheck, ...]
    short_nodes: Tuple[Optional[int], ...]  # nodes where every allowed zone was below min
    any_chunk: Optional[bool]  # order > 0: some allowed zone had a chunk that large


class RankedTask(Record):
    """A row of the task table, with the badness the kernel gave it."""

    pid: int
    uid: Optional[int]
    tgid: Optional[int]
    total_vm_pages: Optional[int]
    rss_pages: Optional[int]
    pgtables_bytes: Optional[int]
    swapents: Optional[int]
    oom_score_adj: Optional[int]
    name: str
    badness_pages: Optional[int]  # None: never chosen (adj -1000) or not computable
    rank: Optional[int]  # 1: the one the kernel picks


class VictimCheck(Record):
    killed_pid: Optional[int]
    ranked_first: Optional[bool]  # None: no table, or no kill, to check against
    reason: Optional[str]  # why not first: missing_row, no_swap_column, sacrifice_child, allocating_task, tie,
    #                        unexplained; or why no check: unknown_era (a kernel before 2.6.36)
    runner_up_pid: Optional[int]  # the best of the others
    lead_pages: Optional[int]  # the killed one's badness minus the best other's (below 0: behind it)
    kernel_score: Optional[int]  # "score N" the kernel printed (before 5.1)
    recomputed_score: Optional[int]  # the killed one's (the first's without a kill), from the table
    totalpages: Optional[int]
    era: Optional[str]  # the badness formula used (badness.ERAS); assumed "5.9" without a release


class Finding(Record):
    code: str  # one of CAUSES
    evidence: str  # one sentence, with the report's numbers
    advice: str


class Verdict(Record):
    cause: str
    factors: Tuple[str, ...]
    summary: str  # the cause's evidence
    advice: str  # the cause's advice
    findings: Tuple[Finding, ...]  # the cause first, then each factor


class ReportExplanation(Record):
    memory: MemorySplit
    allocation: Optional[AllocationCheck]  # None for a memcg OOM (a charge failed, not a page allocation)
    tasks: Tuple[RankedTask, ...]
    victim_check: VictimCheck
    verdict: Verdict
    manual: bool
    request_bytes: Optional[int]


def explain_report(report: OomReport, kills: Optional[Sequence[OomKillEvent]] = None) -> ReportExplanation:
    """The four answers for one report; ``kills``: the kernel's kills of that report (the
    first is the one its arithmetic chose; oom.group members follow it), by default the
    report's own (events.report.reports() fills them)."""
    kills = report.kills if kills is None else kills
    page = report.page_size or DEFAULT_PAGE_SIZE
    order = report.trigger.order
    manual = order == -1  # sysrq f: out_of_memory() with order -1 (mm/oom_kill.c, 2.6.30+)
    request = None if order is None or order < 0 else page << order
    constraint = next((k.constraint for k in kills if k.constraint), None)
    memcg_oom = constraint == "CONSTRAINT_MEMCG" or (constraint is None and bool(report.memcg) and not manual)
    memory = _memory(report, page)
    allocation = None if memcg_oom or manual else _allocation(report, page)
    tasks, check = _victim(report, kills, page, memcg_oom, constraint)
    verdict = _verdict(report, kills, memory, allocation, constraint, memcg_oom, manual, request)
    return ReportExplanation(memory, allocation, tasks, check, verdict, manual, request)


# -- (a) memory ------------------------------------------------------------------------------


def _memory(report: OomReport, page: int) -> MemorySplit:
    info = report.mem_info_pages

    def pages(*keys: str) -> Optional[int]:
        values = [info[k] for k in keys if k in info]
        return sum(values) * page if values else None

    ram = report.ram_pages * page if report.ram_pages is not None else None
    shmem = pages("shmem")
    anon = pages("active_anon", "inactive_anon", "isolated_anon")
    if anon is not None and shmem is not None:
        anon = max(anon - shmem, 0)  # shmem pages sit on the anon LRU lists (swap-backed)
    huge = sum(h.total * h.size_bytes for h in report.hugepages) if report.hugepages else None
    parts = [pages("free"), anon, pages("active_file", "inactive_file", "isolated_file"), shmem,
             pages("slab_reclaimable"), pages("slab_unreclaimable"), pages("pagetables"), huge, pages("unevictable")]
    other = ram - sum(p or 0 for p in parts) if ram is not None and info else None
    total, free_swap = report.swap_total_bytes, report.swap_free_bytes
    used = total - free_swap if total is not None and free_swap is not None else None
    split = MemorySplit(ram, total, free_swap, used, parts[0], anon, parts[2], shmem, parts[4], parts[5], parts[6],
                        huge, parts[8], max(other, 0) if other is not None else None)
    counters = {c.name: c for c in report.memcg}
    mem = counters.get("memory")
    if mem is None:
        return split
    swap = counters.get("swap")  # v2: memory.swap.*
    both = counters.get("memory+swap")  # v1: memsw
    swap_usage = swap.usage_bytes if swap else (both.usage_bytes - (mem.usage_bytes or 0)
                                                 if both and both.usage_bytes is not None else None)
    swap_limit = swap.limit_bytes if swap else (both.limit_bytes - (mem.limit_bytes or 0)
                                                 if both and both.limit_bytes is not None and mem.limit_bytes else None)
    stats = report.memcg_stats
    # v2 memory.stat: anon, file, kernel (5.18+; before: slab + kernel_stack + ...), shmem;
    # v1: rss (anon), cache (page cache, shmem included), shmem (4.x+)
    anon_c = stats.get("anon", stats.get("total_rss", stats.get("rss")))
    file_c = stats.get("file", stats.get("total_cache", stats.get("cache")))
    kernel_c = stats.get("kernel")
    if kernel_c is None and "slab" in stats:
        kernel_c = sum(stats.get(k, 0) for k in ("slab", "kernel_stack", "pagetables", "percpu", "sock", "vmalloc"))
    shmem_c = stats.get("shmem", stats.get("total_shmem"))
    return split._replace(memcg_path=report.memcg_stats_path, memcg_usage_bytes=mem.usage_bytes,
                          memcg_limit_bytes=mem.limit_bytes, memcg_swap_usage_bytes=swap_usage,
                          memcg_swap_limit_bytes=swap_limit, memcg_anon_bytes=anon_c, memcg_file_bytes=file_c,
                          memcg_kernel_bytes=kernel_c, memcg_shmem_bytes=shmem_c)


# -- (b) the allocation ----------------------------------------------------------------------


def _mask(report: OomReport) -> Optional[int]:
    try:
        return int(report.trigger.gfp_mask, 16) if report.trigger.gfp_mask else None
    except ValueError:
        return None


def _requested_zone(mask: int, present: Sequence[str]) -> str:
    """gfp_zone(): the highest zone the flags allow, the index of lowmem_reserve[] the
    watermarks are judged with (Movable even where it has no pages).  The OPT_ZONE_*
    fall back to Normal in a config without that zone (no HighMem on 64-bit, no DMA32 on
    32-bit): where the report prints no such zone, it is taken as absent."""
    if mask & _GFP_DMA:
        wanted = "DMA"
    elif mask & _GFP_DMA32:
        wanted = "DMA32"
    elif mask & _GFP_HIGHMEM and mask & _GFP_MOVABLE:
        return "Movable"
    elif mask & _GFP_HIGHMEM:
        wanted = "HighMem"
    else:
        return "Normal"
    return wanted if wanted in present else "Normal"


def _reserve_index(zone: str, zones: Sequence[Zone]) -> Optional[int]:
    """The index of ``zone`` in lowmem_reserve[] (one entry per zone type of the kernel's
    config, populated or not).  The report prints the populated zones only, so the config
    is taken as those, in enum order, plus Movable (always configured) and Device to the
    array's length; None where that does not add up."""
    length = max((len(z.lowmem_reserve_pages) for z in zones), default=0)
    # Normal is in every config, populated or not (x86_64 under 4 GiB prints DMA and DMA32 only)
    printed = [name for name in ZONE_ORDER[:4] if name == "Normal" or any(z.name == name for z in zones)]
    config = printed + [name for name in ("Movable", "Device") if name not in printed]
    config = config[:length]
    return config.index(zone) if zone in config and len(config) == length else None


def _nodes_allowed(nodemask: Optional[str]) -> Optional[set]:
    """A nodemask as printed ("(null)": every node; "0-1", "0,2"); None for every node."""
    if not nodemask or nodemask == "(null)":
        return None
    nodes: set = set()
    for part in nodemask.split(","):
        low, _, high = part.partition("-")
        if not low.strip().isdigit() or (high and not high.strip().isdigit()):
            return None
        nodes.update(range(int(low), int(high or low) + 1))
    return nodes


def _allocation(report: OomReport, page: int) -> Optional[AllocationCheck]:
    mask, order = _mask(report), report.trigger.order
    if mask is None or not report.zones:
        return None
    zones = report.zones
    present = [z.name for z in zones]
    wanted = _requested_zone(mask, present)
    movable = bool(mask & _GFP_MOVABLE)  # only movable allocations may use CMA (ALLOC_CMA)
    index = _reserve_index(wanted, zones)
    nodes = _nodes_allowed(report.trigger.nodemask)
    top = ZONE_ORDER.index(wanted) if wanted in ZONE_ORDER else len(ZONE_ORDER)
    request = page << order if order is not None and order >= 0 else page
    checks = []
    for z in zones:
        allowed = (z.name in ZONE_ORDER and ZONE_ORDER.index(z.name) <= top
                   and (nodes is None or z.node is None or z.node in nodes))
        reserve = z.lowmem_reserve_pages[index] * page if index is not None and index < len(z.lowmem_reserve_pages) else 0
        unusable = (0 if movable else z.free_cma_bytes or 0) + (z.reserved_highatomic_bytes or 0)
        below = None
        if z.min_bytes is not None:
            floor = z.min_bytes - (z.min_bytes // 2 if mask & _GFP_HIGH else 0)  # __GFP_HIGH: half the min
            below = (z.free_bytes or 0) - unusable - (request - page) <= floor + reserve
        chunk = None
        if order is not None and order > 0:
            area = next((a for a in report.free_areas if a.zone == z.name and a.node == z.node), None)
            chunk = None if area is None else any(size >= request and count > 0 for size, count in area.chunks)
        checks.append(ZoneCheck(z.node, z.name, z.free_bytes or 0, z.min_bytes, z.low_bytes, z.high_bytes,
                                reserve, unusable, allowed, below, chunk))
    usable = [c for c in checks if c.allowed]
    short = sorted({c.node for c in usable if all(o.below_min for o in usable if o.node == c.node)},
                   key=lambda n: -1 if n is None else n)
    chunks = [c.has_chunk for c in usable if c.has_chunk is not None]
    return AllocationCheck(request if order is not None and order >= 0 else None, wanted, movable, tuple(checks),
                           tuple(short), any(chunks) if chunks else None)


# -- (c) the victim --------------------------------------------------------------------------


def _era(report: OomReport) -> Tuple[Optional[str], bool]:
    """(the badness era, whether ties go to the last scanned); without a release the newest.
    A release before 2.6.36 whose table prints oom_score_adj is RHEL 6's 2.6.32, which
    carries the 2.6.36 rewrite (its "score N" is per mille); before that, no era: the old
    heuristic (CPU time, run time, nice) cannot be redone from a report."""
    if report.release:
        try:
            return era_of(report.release), last_scanned_wins(report.release)
        except InvalidValue:
            if any(t.oom_score_adj is not None for t in report.tasks):
                return "2.6.36", False
            return None, False
    return "5.9", True


def _totalpages(report: OomReport, page: int, memcg_oom: bool, constraint: Optional[str]) -> Optional[int]:
    """What oom_score_adj is scaled by: totalram_pages() + total_swap_pages system-wide
    (managed pages: "pages RAM" minus "pages reserved"), mem_cgroup_get_max() in a memcg,
    and for a cpuset or mempolicy OOM the present pages of the nodes it may use + swap
    (constrained_alloc()): the report prints those nodes' zones only (show_mem() filters
    by the allocation's nodes), so their present: sizes add up to it."""
    swap = (report.swap_total_bytes or 0) // page
    if constraint in _NODE_CONSTRAINTS and report.zones and all(z.present_bytes is not None for z in report.zones):
        return sum(z.present_bytes or 0 for z in report.zones) // page + swap
    if memcg_oom:
        counters = {c.name: c for c in report.memcg}
        mem = counters.get("memory")
        if mem is None or mem.limit_bytes is None:
            return None
        limit = mem.limit_bytes // page
        if "swap" in counters and counters["swap"].limit_bytes is not None:
            return limit + min(counters["swap"].limit_bytes // page, swap)
        if "memory+swap" in counters and counters["memory+swap"].limit_bytes is not None:
            return limit + max(0, min(counters["memory+swap"].limit_bytes // page - limit, swap))
        return limit
    if report.ram_pages is None:
        return None
    return report.ram_pages - (report.reserved_pages or 0) + swap


def _adj(task: Task) -> Optional[int]:
    if task.oom_score_adj is not None:
        return task.oom_score_adj
    return oom_adj_to_score_adj(task.oom_adj) if task.oom_adj is not None else None


def _victim(report: OomReport, kills: Sequence[OomKillEvent], page: int, memcg_oom: bool,
            constraint: Optional[str]) -> Tuple[Tuple[RankedTask, ...], VictimCheck]:
    era, last_wins = _era(report)
    total = _totalpages(report, page, memcg_oom, constraint)
    killed = next((k.pid for k in kills if k.killer == "kernel"), None)
    if killed is None and report.unkilled == "cut":  # the log ends before the kill: the one chosen
        killed = report.selected_pid
    scored: List[Tuple[tuple, int, Task]] = []
    for at, t in enumerate(report.tasks):
        adj = _adj(t)
        if adj is None or adj == OOM_SCORE_ADJ_MIN or t.rss_pages is None or total is None or era is None:
            continue
        points = t.rss_pages + (t.swapents or 0)
        if era != "2.6.36":  # page tables count since 2.6.39
            points += (t.pgtables_bytes or 0) // page
        badness = oom_badness(points, adj, total, era)
        # the table is printed in the kernel's scan order: the row number stands for it
        scored.append((choice_key(badness, at, 0, last_wins), badness, t))
    scored.sort(key=lambda row: row[0])
    rank = {id(t): (i + 1, badness) for i, (_, badness, t) in enumerate(scored)}
    rows = tuple(RankedTask(t.pid, t.uid, t.tgid, t.total_vm_pages, t.rss_pages, t.pgtables_bytes, t.swapents,
                            _adj(t), t.name, rank.get(id(t), (None, None))[1], rank.get(id(t), (None, None))[0])
                 for t in report.tasks)
    # the killed process's row: the table prints the thread that holds the memory (its pid)
    # with its process (tgid); "Killed process" may name either (a leader that exited)
    tid = next((k.tid for k in kills if k.killer == "kernel"), None)
    mine = next((r for r in scored if killed is not None and _is(r[2], killed, tid)), None)
    others = [r for r in scored if r is not mine]
    # the checked one (the killed, else the first) against the best of the others: a lead,
    # or how far it is behind where the kernel chose it all the same
    checked = mine if mine is not None else (scored[0] if scored else None)
    best_other = next((r for r in scored if r is not checked), None)
    lead = checked[1] - best_other[1] if checked is not None and best_other is not None else None
    runner = best_other[2].pid if best_other is not None else None
    recomputed = None
    if checked is not None and total and era is not None and era != "5.9":
        recomputed = proc_oom_score(checked[1], total, era)  # what "score N" printed, before 5.1
    ranked_first = reason = None
    if era is None and report.tasks:
        reason = "unknown_era"
    elif killed is not None and scored:
        ranked_first = mine is not None and mine is scored[0]
        if not ranked_first:
            reason = _why_not_first(report, kills, mine, scored)
    return rows, VictimCheck(killed, ranked_first, reason, runner, lead, report.kernel_score, recomputed, total,
                             era)


def _is(task: Task, pid: int, tid: Optional[int]) -> bool:
    return pid in (task.pid, task.tgid) or (tid is not None and task.pid == tid)


def _why_not_first(report: OomReport, kills: Sequence[OomKillEvent], row: Optional[tuple], scored: list) -> str:
    if row is None:
        return "missing_row"  # the table was cut, or the victim's row is not there
    if "swapents" not in report.task_columns and (report.swap_total_bytes or 0) > (report.swap_free_bytes or 0):
        return "no_swap_column"  # 2.6-era tables: the swap the kernel counts is not shown
    first, killed = scored[0], row[2].tgid or row[2].pid
    if report.selected_pid is not None and report.selected_pid != killed and first[2].pid == report.selected_pid:
        return "sacrifice_child"  # before 5.1 a child of the chosen one could die in its place
    trigger = next((k.trigger_pid for k in kills if k.trigger_pid is not None), None)
    if trigger == killed:
        return "allocating_task"  # vm.oom_kill_allocating_task: the one that asked dies
    if row[1] == first[1]:
        return "tie"  # equal badness: the scan order decides, which the table may not show
    return "unexplained"


# -- (d) the verdict -------------------------------------------------------------------------


def _share(part: Optional[int], whole: Optional[int]) -> float:
    return part / whole if part is not None and whole else 0.0


def _pct(part: Optional[int], whole: Optional[int]) -> str:
    return f"{100 * _share(part, whole):.0f} %"


def _verdict(report: OomReport, kills: Sequence[OomKillEvent], m: MemorySplit, alloc: Optional[AllocationCheck],
             constraint: Optional[str], memcg_oom: bool, manual: bool, request: Optional[int]) -> Verdict:
    ram = m.ram_bytes
    found: Dict[str, Finding] = {}
    if manual:
        found["manual"] = Finding("manual", "order=-1: the OOM killer was invoked by hand (sysrq f), not by a failed "
                                  "allocation.", "Nothing ran out; find who triggered it (sysrq is logged) and set "
                                  "kernel.sysrq to forbid it where it was not wanted.")
    if memcg_oom:
        path = next((k.oom_memcg for k in kills if k.oom_memcg), None) or m.memcg_path or report.group_memcg
        usage = (f"used {_size(m.memcg_usage_bytes)} of its {_size(m.memcg_limit_bytes)} limit"
                 if m.memcg_usage_bytes is not None and m.memcg_limit_bytes is not None else "reached its limit")
        found["memcg_limit"] = Finding(
            "memcg_limit", f"The memory cgroup {path or '(not named in the report)'} {usage}.",
            "Raise the cgroup's limit (memory.max, memory.limit_in_bytes, a pod's resources.limits.memory) or "
            "make its processes use less: the limit ran out, not the machine.")
    if constraint in _NODE_CONSTRAINTS:
        what = "cpuset" if constraint == "CONSTRAINT_CPUSET" else "memory policy (mbind/set_mempolicy)"
        found["zone_constrained"] = Finding(
            "zone_constrained", f"The allocation was confined by a {what} ({constraint}) to some nodes only.",
            f"Widen the {what}'s nodes, or size the workload to the memory of the nodes it may use.")
    if alloc is not None and not manual:
        allowed = [z for z in alloc.zones if z.allowed]
        usable_free = sum(max(z.free_bytes - z.unusable_bytes, 0) for z in allowed)
        # the report prints the zones of the nodes it may use only: Mem-Info's free counts
        # every node (a cpuset or mempolicy OOM cut before its oom-kill: line)
        total_free = max(sum(z.free_bytes for z in alloc.zones), m.free_bytes or 0)
        unusable = total_free - usable_free
        if "zone_constrained" not in found and ram and unusable >= UNUSABLE_FREE_SHARE * ram and any(
                z.below_min for z in allowed):
            cma = sum(z.free_cma_bytes or 0 for z in report.zones) if not alloc.movable else 0
            where = (f"{_size(cma)} of it was CMA, which a non-movable allocation may not use" if cma >= unusable / 2
                     else f"it was in zones or nodes this allocation may not use (it may use {alloc.zone} and below)")
            found["zone_constrained"] = Finding(
                "zone_constrained", f"{_size(total_free)} was free, but {where}; the zones it may use were below "
                f"their min watermark.", "Look at what confines it: a smaller CMA area (cma= on the kernel command "
                "line) for CMA, a 64-bit kernel for HighMem, the nodemask or cpuset for NUMA.")
        order = report.trigger.order or 0
        # the kernel takes a chunk only from a zone above its watermark (__zone_watermark_ok()
        # checks the free pages first, then the free lists)
        fit = [z for z in allowed if z.below_min is False]
        if order > 0 and fit and not any(z.has_chunk for z in fit):
            found["fragmentation"] = Finding(
                "fragmentation", f"An order-{order} allocation ({_size(request)}) found no free chunk that large in "
                f"the zones it may use, though {_size(usable_free)} was free there.",
                "Memory was fragmented: run compaction (vm.compaction_proactiveness, echo 1 > "
                "/proc/sys/vm/compact_memory), raise vm.min_free_kbytes, or find the driver that needs contiguous "
                "memory.")
    shares = [("hugepages", m.hugepages_bytes, "The hugepage pool reserves", "Shrink vm.nr_hugepages (and "
               "nr_overcommit_hugepages) to what the hugepage users need: the pool is lost to everything else."),
              ("shmem", m.shmem_bytes, "shmem and tmpfs held", "Delete or cap what fills tmpfs (/dev/shm, /run, "
               "tmpfs size=) or shared memory segments (ipcs -m): without swap nothing can reclaim them."),
              ("kernel_memory", m.slab_unreclaimable_bytes, "Unreclaimable slab held", "A kernel memory leak "
               "suspect: watch slabtop or /proc/slabinfo for the cache that grows, and the kernel's known leaks.")]
    whole = ram
    if memcg_oom:  # a memcg's own split: its usage is the whole
        whole = m.memcg_usage_bytes
        shares = [(code, part, text, advice) for (code, _, text, advice), part in
                  zip(shares, (None, m.memcg_shmem_bytes, m.memcg_kernel_bytes))]
    large = set()  # the share codes above LARGE_SHARE: a cause, not only a factor
    for code, part, text, advice in shares:
        if _share(part, whole) >= LARGE_SHARE:
            large.add(code)
        if _share(part, whole) >= FACTOR_SHARE:
            found[code] = Finding(code, f"{text} {_size(part)}, {_pct(part, whole)} of "
                                  f"{'its usage' if memcg_oom else 'RAM'}.", advice)
    if not memcg_oom and not manual and report.mem_info_pages:
        swap_total, swap_free = m.swap_total_bytes, m.swap_free_bytes
        no_swap = not swap_total
        swap_full = no_swap or _share(swap_free, swap_total) < SWAP_FULL_SHARE
        if alloc is not None and alloc.zones:
            # what the allowed zones held above their min + reserve, together: a zone a little
            # above it when the report was printed (counters move) does not make RAM free
            room = sum(max(z.free_bytes - z.unusable_bytes - (z.min_bytes or 0) - z.reserve_bytes, 0)
                       for z in alloc.zones if z.allowed)
            short = any(z.below_min for z in alloc.zones if z.allowed) and _share(room, ram) < LOW_FREE_SHARE
            where = (f"{_size(room)} above the min watermarks of the zones it may use"
                     + (f", {_size(m.free_bytes)} free in all" if m.free_bytes is not None else ""))
        else:  # no zone lines (or no gfp_mask) to judge by: Mem-Info's free against RAM
            short = m.free_bytes is not None and _share(m.free_bytes, ram) < LOW_FREE_SHARE
            where = f"{_size(m.free_bytes)} free"
        if swap_full and short:
            subject = ("The memory of the nodes it may use" if constraint in _NODE_CONSTRAINTS
                       else f"RAM ({_size(ram)})")
            swap_text = "there was no swap" if no_swap else f"swap was full ({_size(swap_free)} of " \
                                                             f"{_size(swap_total)} free)"
            found["memory_exhausted"] = Finding(
                "memory_exhausted", f"{subject} was used up where the allocation may take it ({where}), "
                f"and {swap_text}.",
                "Add RAM or swap, or give the largest consumer a memory cgroup limit so that it, not the machine, "
                "runs out.")
    cause = _cause(found, large)
    if cause == "unknown":
        found["unknown"] = Finding("unknown", "The report lacks the parts that tell (Mem-Info, zones, memcg usage).",
                                   "Give the whole report, from 'invoked oom-killer' through 'Killed process'.")
    factors = tuple(code for code in CAUSES if code in found and code != cause)
    findings = (found[cause], *(found[code] for code in factors))
    return Verdict(cause, factors, found[cause].evidence, found[cause].advice, findings)


def _cause(found: Dict[str, Finding], large: set) -> str:
    """The first code of CAUSES that holds; a share (hugepages, shmem, kernel_memory) only
    above LARGE_SHARE: below it, it is a factor of memory_exhausted, and the cause only
    where nothing else holds."""
    for code in CAUSES:
        if code in found and (code not in _SHARES or code in large):
            return code
    return next((code for code in _SHARES if code in found), "unknown")


_SHARES = ("hugepages", "shmem", "kernel_memory")


def _size(n: Optional[int]) -> str:
    return "?" if n is None else human_bytes(n)
