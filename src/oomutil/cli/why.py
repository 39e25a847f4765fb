"""oomutil why: one OOM report explained: where the memory went, why the kernel ran out,
why this victim (docs/why.md)."""

from __future__ import annotations

import sys

from . import examples, fail
from ._args import pid_arg
from ._output import format_table, human_bytes, print_json, print_lines, printable


def register(sub, parents, help_text: str) -> None:
    from .events import source_args

    p = sub.add_parser(
        "why", parents=parents, help=help_text,
        epilog=examples("oomutil why                    the last OOM kill of this boot",
                        "oomutil why 4242               the kill of pid 4242",
                        "oomutil why --all --file kern.log --json"),
        description="Explain kernel OOM reports from the kernel log (/dev/kmsg by default, the journal, or "
        "files of any log shape): where the memory went, why the allocation failed, whether the killed "
        "process is the one the kernel's arithmetic picks, and a verdict with advice (docs/why.md).",
    )
    p.add_argument("pid", nargs="?", type=pid_arg, help="explain the (latest) kill of this pid")
    p.add_argument("--all", action="store_true", help="explain every report, not only the last")
    p.add_argument("--html", metavar="FILE",
                   help="also write one self-contained HTML page of the reports explained (inline SVG, "
                   "nothing fetched): for a ticket")
    source_args(p)


def needs_proc(args) -> bool:
    return not args.file


def run(args) -> int:
    from ..events.report import reports
    from ..events.select import Selection, dated
    from ..root import Root
    from ..why import explain_report
    from .events import history, log_names, window_error

    root = Root(args.root)
    error = window_error(args, "why")
    if error is not None:
        return error
    events, _ = history(args, root, keep_texts=True)
    window = Selection(since=args.since, until=args.until)
    everything = list(reports(dated(events, None if args.file else root, args.utc)))
    undated: list = []
    every = [r for r in everything if window.wanted(r, undated)]  # type: ignore[arg-type]  # a report has the times
    if undated:
        fail(f"--since/--until could not apply to {len(undated)} report(s): their times count seconds since a "
             "boot this machine cannot date (a log of another boot); they are shown")
    if everything and not every:
        fail(f"no OOM report matches {_window(args)} (of {len(everything)} in the log)")
    found = every
    if args.pid is not None:  # the process or the thread "Killed process" named
        found = [r for r in every if any(args.pid in (k.pid, k.tid) for k in r.kills)][-1:]
        if not found:
            fail(f"no OOM kill of pid {args.pid} in the log")
            return 1
    elif not args.all:  # the last kill; a report without one only where no report has one
        found = [r for r in every if r.kills][-1:] or every[-1:]
    explained = [(r, explain_report(r)) for r in found]
    names = log_names(args, root)  # the limit's cgroup named as the victim's (events.history())
    if args.html:  # the page holds every report of the log (in the window): it goes with a ticket
        from .why_html import page

        chosen = {id(r): x for r, x in explained}
        _write(args.html, page([(r, x, _document(r, x, names)) for r in every
                                for x in [chosen.get(id(r)) or explain_report(r)]]))
    if args.json:
        print_json({"reports": [_document(r, x, names) for r, x in explained]})
        return 0
    if not explained:
        return 0
    lines: list = []
    for i, (r, x) in enumerate(explained):
        if i:
            lines.append("")
        lines += _text(r, x, names)
    print_lines(lines)
    return 0


def _window(args) -> str:
    return " ".join(f"--{name} {value.isoformat(timespec='seconds')}" for name, value in
                    (("since", args.since), ("until", args.until)) if value is not None)


# -- JSON ------------------------------------------------------------------------------------


def _document(r, x, names=None) -> dict:
    """One report as docs/why.md lists its keys (bytes for sizes; None where it does not say);
    ``names``: the workloads' (events.log_names()), None for none."""
    from ..workloads import EMPTY

    names = EMPTY if names is None else names
    from .._record import as_plain

    page = r.page_size or 4096
    t = r.trigger
    m = x.memory
    counters = {c.name: c for c in r.memcg}
    mem, swap = counters.get("memory"), counters.get("swap") or counters.get("memory+swap")
    first = r.kills[0] if r.kills else None
    memcg = r.memcg_stats_path or (first.oom_memcg if first else None)
    return {
        "kernel": r.release, "taint": r.taint, "hardware": r.hardware,
        "time": r.time, "time_seconds": r.time_seconds, "unkilled": r.unkilled,
        "constraint": first.constraint if first else None, "source": r.source,
        "trigger": {"comm": t.comm, "pid": t.pid, "uid": t.uid, "gfp_mask": t.gfp_mask, "gfp_flags": list(t.gfp_flags),
                    "nodemask": t.nodemask, "order": t.order, "request_bytes": x.request_bytes, "manual": x.manual,
                    "oom_score_adj": t.oom_score_adj},
        "memory": as_plain(m),
        "zones": [{"node": z.node, "zone": z.zone, "free_bytes": z.free_bytes, "min_bytes": z.min_bytes,
                   "low_bytes": z.low_bytes, "high_bytes": z.high_bytes, "reserve_bytes": z.reserve_bytes,
                   "unusable_bytes": z.unusable_bytes, "allowed": z.allowed, "below_min": z.below_min,
                   "has_chunk": z.has_chunk} for z in (x.allocation.zones if x.allocation else ())],
        "allocation": None if x.allocation is None else {
            "zone": x.allocation.zone, "movable": x.allocation.movable, "short_nodes": list(x.allocation.short_nodes),
            "any_chunk": x.allocation.any_chunk},
        "memcg": None if mem is None else {
            "path": memcg, **names.workload(memcg)._asdict(), "usage_bytes": mem.usage_bytes,
            "limit_bytes": mem.limit_bytes, "failcnt": mem.failcnt,
            "swap_usage_bytes": m.memcg_swap_usage_bytes, "swap_limit_bytes": m.memcg_swap_limit_bytes,
            "stats": dict(r.memcg_stats)} if swap is not None or mem is not None else None,
        "hugepages": as_plain(list(r.hugepages)),
        # the report's own numbers, as printed: every Mem-Info counter (pages); the free lists
        # are in the library's OomReport (free_areas), too bulky for every report here
        "mem_info_pages": dict(r.mem_info_pages),
        "pagecache_pages": r.pagecache_pages, "swap_cache_pages": r.swap_cache_pages,
        "page_size": page,
        "tasks": as_plain(list(x.tasks)),
        "kills": as_plain([k._replace(texts=None) for k in r.kills]),  # the report is the texts' reading
        "victim_check": as_plain(x.victim_check),
        "verdict": {"cause": x.verdict.cause, "factors": list(x.verdict.factors), "summary": x.verdict.summary,
                    "advice": x.verdict.advice, "findings": as_plain(list(x.verdict.findings))},
    }


# -- text ------------------------------------------------------------------------------------


_PARTS = (("anon", "anon_bytes"), ("file", "file_bytes"), ("shmem", "shmem_bytes"),
          ("slab (reclaimable)", "slab_reclaimable_bytes"), ("slab (unreclaimable)", "slab_unreclaimable_bytes"),
          ("page tables", "pagetables_bytes"), ("hugepages", "hugepages_bytes"), ("unevictable", "unevictable_bytes"),
          ("other", "other_bytes"), ("free", "free_bytes"))
_UNICODE_MARKS = "█▓▒░▚▞▤▥▧ "
_ASCII_MARKS = "#%=+*~:;- "


def _marks() -> str:
    """Unicode blocks on a UTF-8 terminal, ASCII elsewhere: the output's encoding and the
    locale must both say UTF-8 (Python writes UTF-8 in the C locale too, which a console
    set to it may not show)."""
    import os

    encoding = (getattr(sys.stdout, "encoding", None) or "").lower().replace("-", "")
    ctype = os.environ.get("LC_ALL") or os.environ.get("LC_CTYPE") or os.environ.get("LANG") or ""
    utf8 = "utf8" in ctype.lower().replace("-", "")
    return _UNICODE_MARKS if encoding == "utf8" and utf8 else _ASCII_MARKS


def bar(parts, whole: int, width: int = 60, marks: str = _ASCII_MARKS) -> str:
    """A horizontal bar of ``parts`` ((name, bytes), ...) of ``whole``, one mark each."""
    out = ""
    for (_, size), mark in zip(parts, marks):
        out += mark * round(width * (size or 0) / whole) if whole else ""
    return "[" + out[:width].ljust(width) + "]"


def _in_pod(kill) -> str:
    """" of shop/web-7d9f8-abcde/nginx" where the kill's pod or container is named."""
    from .events import _cgroup

    return f" of {_cgroup(kill)}" if kill.pod or kill.container else ""


def _text(r, x, names=None) -> list:
    from ..workloads import EMPTY

    names = EMPTY if names is None else names
    t, v, m, c = r.trigger, x.verdict, x.memory, x.victim_check
    first = r.kills[0] if r.kills else None
    when = r.time or r.time_raw or "?"
    who = f"pid {first.pid} ({first.comm}){_in_pod(first)} killed" if first else _UNKILLED.get(r.unkilled or "", "no kill")
    lines = [f"OOM report of {when} ({r.source or 'log'}): {who}"
             + (f", kernel {r.release}" if r.release else "")]
    lines.append(f"Verdict: {v.cause}: {v.summary}")
    lines.append(f"  advice: {v.advice}")
    for f in v.findings[1:]:
        lines.append(f"  also {f.code}: {f.evidence}")
    trigger = f"{t.comm or '?'}" + (f" (pid {t.pid})" if t.pid is not None else "")
    request = "started a manual OOM (sysrq f)" if x.manual else (
        f"asked for order {t.order} ({human_bytes(x.request_bytes)})" if x.request_bytes is not None
        else "asked for an unknown order")
    flags = "|".join(t.gfp_flags)
    if t.comm is None and t.gfp_mask is None and t.order is None:
        lines.append("Trigger: its line is not in the report")
    else:
        lines.append(f"Trigger: {trigger} {request}, gfp_mask={t.gfp_mask or '?'}" + (f" ({flags})" if flags else "")
                     + (f", oom_score_adj {t.oom_score_adj}" if t.oom_score_adj is not None else ""))
    parts: list = []
    if m.ram_bytes:
        swap = "no swap" if not m.swap_total_bytes else \
            f"swap {human_bytes(m.swap_used_bytes)} used of {human_bytes(m.swap_total_bytes)}"
        lines.append(f"Memory: RAM {human_bytes(m.ram_bytes)}, {swap}")
        parts = [(name, getattr(m, field)) for name, field in _PARTS if getattr(m, field)]
        if not r.mem_info_pages:
            lines.append("  (no Mem-Info in the report to split it)")
            parts = []
    if m.ram_bytes and parts:
        marks = _marks()
        lines.append("  " + bar(parts, m.ram_bytes, marks=marks))
        rows = [[marks[i], name, human_bytes(size), f"{100 * size / m.ram_bytes:.1f} %"]
                for i, (name, size) in enumerate(parts)]
        lines += format_table(rows, ["", "PART", "SIZE", "OF RAM"], right=(2, 3), indent="  ")
    if m.memcg_usage_bytes is not None:
        memcg = m.memcg_path or (first.oom_memcg if first else None)
        named = names.workload(memcg)
        lines.append(f"Memory cgroup {names.name(memcg) + f' ({memcg})' if named.pod or named.container else memcg or '?'}: "
                     f"{human_bytes(m.memcg_usage_bytes)} used of {human_bytes(m.memcg_limit_bytes)}"
                     + "".join(f", {name} {human_bytes(size)}" for name, size in
                               (("anon", m.memcg_anon_bytes), ("file", m.memcg_file_bytes),
                                ("kernel", m.memcg_kernel_bytes), ("shmem", m.memcg_shmem_bytes)) if size is not None))
    a = x.allocation
    if a is not None and a.zones:
        lines.append(f"Zones ({a.zone} and below may serve it{'' if a.movable else '; not CMA'}):")
        rows = [[z.node if z.node is not None else "-", z.zone, human_bytes(z.free_bytes), human_bytes(z.min_bytes),
                 human_bytes(z.reserve_bytes), human_bytes(z.unusable_bytes),
                 "-" if not z.allowed else "below min" if z.below_min else "ok",
                 "" if z.has_chunk is None else "yes" if z.has_chunk else "no"]
                for z in a.zones]
        lines += format_table(rows, ["NODE", "ZONE", "FREE", "MIN", "RESERVE", "UNUSABLE", "VERDICT", "CHUNK"],
                              right=(2, 3, 4, 5), indent="  ")
    lines += _victim_lines(x, c)
    return [printable(line) for line in lines]


_UNKILLED = {
    "cut": "no kill line (the log ends, or the next report starts, first)",
    "fragment": "a fragment: the report's first lines and its kill line are not in the log",
    "panic_on_oom is enabled": "no kill: vm.panic_on_oom made the kernel panic",
    "no killable processes": "no kill: no killable process was left",
    "is already exiting. Skip killing": "no kill: the victim chosen was already exiting",
}
_REASONS = {
    "missing_row": "its row is not in the task table (cut, or not printed)",
    "no_swap_column": "the table has no swapents column: the swap the kernel counts is not shown",
    "sacrifice_child": "before 5.1 the kernel could kill a child of the process it chose",
    "allocating_task": "vm.oom_kill_allocating_task: the allocating task was killed",
    "tie": "it ties with the first: the kernel's scan order decides",
    "unexplained": "unexplained: the table ranks another process first",
    "unknown_era": "the kernel predates the 2.6.36 badness rewrite: not recomputed",
}


def victim_headline(c, candidates: int) -> str:
    """What the victim check found, in one sentence (the text and the HTML page)."""
    if c.ranked_first:
        lead = f", {c.lead_pages} pages ahead of pid {c.runner_up_pid}" if c.lead_pages is not None else ""
        head = f"pid {c.killed_pid} ranks first of {candidates} candidates{lead}"
    elif c.reason is not None:
        head = f"pid {c.killed_pid} is not first: {_REASONS.get(c.reason, c.reason)}"
        if c.lead_pages is not None and c.lead_pages < 0:
            head += f" ({-c.lead_pages} pages behind pid {c.runner_up_pid})"
    else:
        head = "no kill to check the table against"
    if c.kernel_score is not None:
        head += f"; the kernel's score {c.kernel_score}, recomputed {c.recomputed_score}"
    return head


def _victim_lines(x, c) -> list:
    ranked = sorted((t for t in x.tasks if t.rank is not None), key=lambda t: t.rank)
    if not x.tasks:
        return ["Victim: the report has no task table to check the choice against"]
    head = "Victim: " + victim_headline(c, len(ranked))
    rows = [[t.rank, t.pid, t.name, t.oom_score_adj, t.rss_pages, t.swapents, t.badness_pages] for t in ranked[:5]]
    return [head, *format_table(rows, ["RANK", "PID", "NAME", "ADJ", "RSS PAGES", "SWAP", "BADNESS"],
                                right=(0, 1, 3, 4, 5, 6), indent="  ")]


def _write(path: str, text: str) -> None:
    """--html FILE, written whole or not at all (a partial page would pass for one)."""
    import os
    import tempfile

    from ..errors import OomutilError

    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".oomutil-why-", dir=directory)
        mask = os.umask(0)
        os.umask(mask)
        os.fchmod(fd, 0o666 & ~mask)  # as open() would make it: a page for a ticket, not a secret
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError as err:
        raise OomutilError(f"cannot write {path}: {err.strerror}") from None
