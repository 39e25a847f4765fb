"""oomutil why --html: one self-contained page of the reports explained, for a ticket.

Everything is inline: plain CSS, SVG bars, no script, no font, no image.  A Content Security
Policy forbids the browser any fetch, so a page opened from a ticket reaches nothing.  Every
value from the log goes through ``_e`` (html.escape): process names and cgroup paths are
whatever bytes a user chose.
"""

from __future__ import annotations

import html

from .._units import human_bytes
from ._output import printable
from .why import _PARTS, victim_headline

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows the start
    from typing import Any, Dict, List, Optional, Sequence, Tuple

    from ..events.report import OomReport
    from ..why import ReportExplanation, ZoneCheck

# one colour per part of the memory split (_PARTS order): distinct for people and for the
# test that finds them in a screenshot
PART_COLOURS = ("#d62728", "#1f77b4", "#9467bd", "#2ca02c", "#8c564b", "#e377c2", "#ff7f0e", "#7f7f7f",
                "#bcbd22", "#c7e9c0")
# the memcg's usage: anon, page cache (shmem taken out), shmem, kernel, the rest, and what
# was left below the limit
MEMCG_PARTS = (("anon", "#d62728"), ("file", "#1f77b4"), ("shmem", "#9467bd"), ("kernel", "#8c564b"),
               ("other", "#bcbd22"), ("left below the limit", "#c7e9c0"))
ZONE_FREE_OK, ZONE_FREE_LOW, ZONE_UNUSABLE, ZONE_NOT_ALLOWED = "#3a9c3a", "#c0392b", "#f2b701", "#b0b0b0"
MARK_MIN, MARK_LOW, MARK_HIGH, RESERVE = "#000000", "#ff7f0e", "#1f77b4", "#fde0c5"
# PAGE_COUNTER_MAX, printed in kB, is about 8 EiB: "no limit", not a bar 10^9 times too long
_NO_LIMIT = 1 << 60
TASK_ROWS = 10

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5em auto;max-width:72em;
 padding:0 1em;color:#1a1a1a;background:#fff}
h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.25em;margin:0 0 .4em}h3{font-size:1.05em;margin:1em 0 .3em}
section.report{border:1px solid #ccc;border-radius:6px;padding:1em 1.2em;margin:1.2em 0}
.verdict{border-left:6px solid #d62728;background:#fbeeee;padding:.5em .9em;margin:.5em 0}
.verdict.manual{border-color:#1f77b4;background:#eef4fb}
.code{font:bold 13px ui-monospace,monospace;background:#222;color:#fff;padding:1px 6px;border-radius:3px}
.muted{color:#666}.bad{color:#b00;font-weight:bold}.ok{color:#262}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.1em 1em;margin:.3em 0}
dl.facts dt{color:#555}dl.facts dd{margin:0}
table{border-collapse:collapse;margin:.3em 0}th,td{padding:2px 8px;text-align:left;border-bottom:1px solid #e4e4e4}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
tr.victim td{background:#fde2e2;font-weight:bold}tr.trigger td{background:#e6f0fb}
.tag{font-size:11px;padding:0 4px;border-radius:3px;color:#fff;background:#b00;margin-left:4px}
.tag.t{background:#1f77b4}
.sw{display:inline-block;width:12px;height:12px;border:1px solid #0003;vertical-align:middle}
svg{display:block;max-width:100%;height:auto}svg text{font:12px system-ui,sans-serif}
code{font:13px ui-monospace,monospace;overflow-wrap:anywhere}
"""


def _e(value: Any) -> str:
    """Any value, escaped for text and quoted attributes alike."""
    return html.escape(printable(str(value)), quote=True)  # control characters as \xNN, as on a terminal


def _pct(part: Optional[int], whole: Optional[int]) -> str:
    return f"{100 * part / whole:.1f} %" if part is not None and whole else "-"


def page(items: Sequence[Tuple[OomReport, ReportExplanation, Dict[str, Any]]]) -> str:
    """``items``: (OomReport, ReportExplanation, the JSON document of why) per report, in log
    order; the page holds them all."""
    sources = sorted({r.source for r, _, _ in items if r.source})
    n = len(items)
    head = (f"<h1>oomutil why: {n} OOM report{'s' if n != 1 else ''}</h1>"
            + (f"<p class=muted>From {', '.join(f'<code>{_e(s)}</code>' for s in sources)}.</p>" if sources else ""))
    index = ""
    if n > 1:
        index = "<ol>" + "".join(
            f"<li><a href='#r{i}'>{_e(_when(r))}: {_e(_killed(r))}</a>: "
            f"<span class=code>{_e(x.verdict.cause)}</span></li>" for i, (r, x, _) in enumerate(items, 1)) + "</ol>"
    body = "".join(_report(i, n, r, x, d) for i, (r, x, d) in enumerate(items, 1))
    return ("<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
            "<meta http-equiv=Content-Security-Policy content=\"default-src 'none'; style-src 'unsafe-inline'\">"
            "<meta name=viewport content='width=device-width,initial-scale=1'>"
            f"<title>oomutil why: {n} OOM report{'s' if n != 1 else ''}</title><style>{_CSS}</style></head>\n"
            f"<body>{head}{index}{body}</body></html>\n")


def _when(r: OomReport) -> str:
    return r.time or r.time_raw or "time unknown"


def _killed(r: OomReport) -> str:
    if not r.kills:
        return "no kill"
    from .why import _in_pod

    # a kill inferred from its summary line and the same kill read whole name one process
    named = dict.fromkeys(f"pid {k.pid} ({k.comm}){_in_pod(k)}" for k in r.kills)
    return ", ".join(named) + " killed"


def _report(i: int, n: int, r: OomReport, x: ReportExplanation, d: Dict[str, Any]) -> str:
    parts = [f"<section class=report id=r{i}><h2>Report {i} of {n}: {_e(_when(r))}: {_e(_killed(r))}</h2>",
             _verdict(x), _trigger(r, x, d), _memory(x), _memcg(r, x), _zones(r, x), _tasks(r, x)]
    return "".join(parts) + "</section>\n"


def _verdict(x: ReportExplanation) -> str:
    v = x.verdict
    out = (f"<div class='verdict {_e(v.cause)}'><p><b>Verdict</b> <span class=code>{_e(v.cause)}</span> "
           f"{_e(v.summary)}</p><p><b>Advice:</b> {_e(v.advice)}</p>")
    if v.findings[1:]:
        out += "<p><b>Factors:</b></p><ul>" + "".join(
            f"<li><span class=code>{_e(f.code)}</span> {_e(f.evidence)} <i>Advice:</i> {_e(f.advice)}</li>"
            for f in v.findings[1:]) + "</ul>"
    return out + "</div>"


def _trigger(r: OomReport, x: ReportExplanation, d: Dict[str, Any]) -> str:
    t = r.trigger
    who = (t.comm or "?") + (f" (pid {t.pid})" if t.pid is not None else "") + (
        f", uid {t.uid}" if t.uid is not None else "")
    if x.manual:
        request = "none: a manual OOM (sysrq f, order -1)"
    elif t.order is not None:
        request = f"order {t.order}: {human_bytes(x.request_bytes)}"
    else:
        request = "not in the report"
    mask = (t.gfp_mask or "?") + (f" ({'|'.join(t.gfp_flags)})" if t.gfp_flags else "")
    rows = [("Trigger", who), ("Request", request), ("gfp_mask", mask), ("nodemask", t.nodemask),
            ("oom_score_adj", t.oom_score_adj), ("Constraint", d.get("constraint")),
            ("Kernel", r.release), ("Taint", r.taint), ("Hardware", r.hardware)]
    rows += [(f"Killed pid {k.pid}", f"{k.comm} in {k.task_memcg}") for k in r.kills if k.task_memcg]
    return "<dl class=facts>" + "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in rows if v is not None) \
        + "</dl>"


# -- bars ------------------------------------------------------------------------------------


def _stacked(parts: Sequence[Tuple[str, int, str]], whole: int, label: str) -> str:
    """A horizontal stacked bar (name, bytes, colour) of ``whole``, named in the wide parts."""
    width, height, x = 1000.0, 34, 0.0
    out = [f"<svg viewBox='0 0 {int(width)} {height}' width=1000 height={height} role=img aria-label='{_e(label)}'>"
           f"<rect width='{int(width)}' height='{height}' fill='#f4f4f4' stroke='#999'/>"]
    for name, size, colour in parts:
        w = width * size / whole if whole else 0
        if w <= 0:
            continue
        w = min(w, width - x)
        out.append(f"<rect x='{x:.2f}' y='0' width='{w:.2f}' height='{height}' fill='{colour}'>"
                   f"<title>{_e(name)}: {_e(human_bytes(size))} ({_pct(size, whole)})</title></rect>")
        if w > 7.5 * (len(name) + 1):  # room for the name: about 7 units a character
            dark = colour in ("#c7e9c0", "#bcbd22", "#f2b701", "#fde0c5")
            out.append(f"<text x='{x + 5:.2f}' y='22' fill='{'#000' if dark else '#fff'}'>{_e(name)}</text>")
        x += w
    return "".join(out) + "</svg>"


def _legend(parts: Sequence[Tuple[str, int, str]], whole: int, of: str) -> str:
    rows = "".join(f"<tr><td><span class=sw style='background:{colour}'></span> {_e(name)}</td>"
                   f"<td class=n>{_e(human_bytes(size))}</td><td class=n>{_pct(size, whole)}</td></tr>"
                   for name, size, colour in parts)
    return f"<table><tr><th>part</th><th class=n>size</th><th class=n>of {_e(of)}</th></tr>{rows}</table>"


def _memory(x: ReportExplanation) -> str:
    m = x.memory
    if not m.ram_bytes:
        return ""
    swap = "no swap" if not m.swap_total_bytes else \
        f"swap {human_bytes(m.swap_used_bytes)} used of {human_bytes(m.swap_total_bytes)}"
    parts = [(name, getattr(m, field), colour) for (name, field), colour in zip(_PARTS, PART_COLOURS)
             if getattr(m, field)]
    return (f"<h3>Memory: RAM {_e(human_bytes(m.ram_bytes))}, {_e(swap)}</h3>"
            + _stacked(parts, m.ram_bytes, "where the RAM went") + _legend(parts, m.ram_bytes, "RAM"))


def _memcg(r: OomReport, x: ReportExplanation) -> str:
    m = x.memory
    if m.memcg_usage_bytes is None:
        return ""
    path = m.memcg_path or next((k.oom_memcg for k in r.kills if k.oom_memcg), None) or "?"
    usage, limit = m.memcg_usage_bytes, m.memcg_limit_bytes
    limited = limit is not None and 0 < limit < _NO_LIMIT
    title = (f"<h3>Memory cgroup <code>{_e(path)}</code>: {_e(human_bytes(usage))} used of "
             + (f"{_e(human_bytes(limit))} ({_pct(usage, limit)})" if limited else "no limit") + "</h3>")
    # v1 cache and v2 file hold shmem: it is taken out of the page cache to be shown apart
    anon, file, shmem, kernel = (m.memcg_anon_bytes or 0, m.memcg_file_bytes or 0, m.memcg_shmem_bytes or 0,
                                 m.memcg_kernel_bytes or 0)
    known = anon + file + kernel
    parts = [("anon", anon), ("file", max(file - shmem, 0)), ("shmem", min(shmem, file) if file else shmem),
             ("kernel", kernel), ("other" if known else "not split (no stats in the report)", max(usage - known, 0))]
    whole = max(limit, usage) if limited and limit is not None else usage
    if limited and limit is not None:
        parts.append(("left below the limit", max(limit - usage, 0)))
    coloured = [(name, size, colour) for (name, size), (_, colour) in zip(parts, MEMCG_PARTS) if size]
    swap = ""
    if m.memcg_swap_usage_bytes is not None:
        swap_limit = m.memcg_swap_limit_bytes
        swap = f"<p>Swap of the cgroup: {_e(human_bytes(m.memcg_swap_usage_bytes))} used" + (
            ", none allowed (limit 0)" if swap_limit == 0 else f" of {_e(human_bytes(swap_limit))}"
            if swap_limit is not None and swap_limit < _NO_LIMIT else "") + ".</p>"
    return title + _stacked(coloured, whole, "the cgroup's usage against its limit") \
        + _legend(coloured, whole, "the limit" if limited else "usage") + swap


# -- zones -----------------------------------------------------------------------------------


def _zones(r: OomReport, x: ReportExplanation) -> str:
    a = x.allocation
    if a is None:
        memcg = x.memory.memcg_usage_bytes is not None and not x.manual
        why = ("a manual OOM allocates nothing" if x.manual else
               "a memory cgroup OOM: a charge against the limit failed, not a page allocation" if memcg else
               "the report does not give the allocation's gfp_mask")
        return f"<h3>Zones</h3><p class=muted>Not judged: {_e(why)}.</p>" if r.zones else ""
    if not a.zones:
        return ""
    allowed = [z for z in a.zones if z.allowed]
    names = ", ".join(_zone_name(z) for z in allowed) or "none"
    cma = "it may use free CMA" if a.movable else "free CMA does not count for it (not movable)"
    intro = (f"<h3>Zones against their watermarks</h3><p>The allocation asks for zone "
             f"<b>{_e(a.zone or '?')}</b> and may fall back to: <b>{_e(names)}</b>; {_e(cma)}. "
             "It fails in a zone whose usable free memory is at or below min + lowmem_reserve.")
    if a.short_nodes:
        intro += " Short: " + _e(", ".join("node " + str(n) if n is not None else "the machine"
                                           for n in a.short_nodes)) + "."
    if a.any_chunk is False:
        intro += f" No allowed zone had a free chunk of {_e(human_bytes(a.request_bytes))}."
    intro += "</p>"
    return intro + _zone_svg(a.zones) + _zone_legend()


def _zone_name(z: ZoneCheck) -> str:
    return (f"Node {z.node} " if z.node is not None else "") + z.zone


def _zone_svg(zones: Sequence[ZoneCheck]) -> str:
    """One row per zone, each on its own scale (a DMA zone is a thousandth of Normal): the
    free memory (its unusable part apart) against min, low, high and min + reserve."""
    row, left, right, scale_w = 46, 120, 330, 540
    out = [f"<svg viewBox='0 0 1000 {row * len(zones) + 6}' width=1000 height={row * len(zones) + 6} role=img "
           "aria-label='zones against their watermarks'>"]
    for i, z in enumerate(zones):
        y = i * row + 6
        floor = (z.min_bytes or 0) + z.reserve_bytes
        top = max(z.free_bytes, floor, z.high_bytes or 0, 1) * 1.1

        def at(size: Optional[int]) -> float:
            return left + scale_w * (size or 0) / top

        usable = max(z.free_bytes - z.unusable_bytes, 0)
        colour = ZONE_NOT_ALLOWED if not z.allowed else ZONE_FREE_LOW if z.below_min else ZONE_FREE_OK
        state = ("not usable by this allocation" if not z.allowed else "below min + reserve" if z.below_min
                 else "above min + reserve" if z.below_min is False else "not judged")
        out.append(f"<text x='0' y='{y + 19}' font-weight='bold'>{_e(_zone_name(z))}</text>"
                   f"<rect x='{left}' y='{y + 4}' width='{scale_w}' height='24' fill='#f4f4f4' stroke='#ccc'/>")
        if z.reserve_bytes:
            out.append(f"<rect x='{at(z.min_bytes):.1f}' y='{y + 4}' width='{at(floor) - at(z.min_bytes):.1f}' "
                       f"height='24' fill='{RESERVE}'><title>lowmem_reserve "
                       f"{_e(human_bytes(z.reserve_bytes))}</title></rect>")
        out.append(f"<rect x='{left}' y='{y + 9}' width='{at(usable) - left:.1f}' height='14' fill='{colour}'>"
                   f"<title>free {_e(human_bytes(z.free_bytes))}</title></rect>")
        if z.unusable_bytes:
            out.append(f"<rect x='{at(usable):.1f}' y='{y + 9}' width='{at(z.free_bytes) - at(usable):.1f}' "
                       f"height='14' fill='{ZONE_UNUSABLE}'><title>free but unusable here (CMA, highatomic) "
                       f"{_e(human_bytes(z.unusable_bytes))}</title></rect>")
        for size, mark, name in ((z.min_bytes, MARK_MIN, "min"), (z.low_bytes, MARK_LOW, "low"),
                                 (z.high_bytes, MARK_HIGH, "high")):
            if size is not None:
                out.append(f"<line x1='{at(size):.1f}' x2='{at(size):.1f}' y1='{y + 1}' y2='{y + 31}' "
                           f"stroke='{mark}' stroke-width='2'><title>{name} {_e(human_bytes(size))}</title></line>")
        if z.reserve_bytes:
            out.append(f"<line x1='{at(floor):.1f}' x2='{at(floor):.1f}' y1='{y + 1}' y2='{y + 31}' "
                       f"stroke='{MARK_MIN}' stroke-width='2' stroke-dasharray='3 2'/>")
        text = (f"free {human_bytes(z.free_bytes)}, min {human_bytes(z.min_bytes)}"
                + (f" + reserve {human_bytes(z.reserve_bytes)}" if z.reserve_bytes else "")
                + (f", unusable {human_bytes(z.unusable_bytes)}" if z.unusable_bytes else ""))
        weight = " font-weight='bold' fill='#b00'" if z.allowed and z.below_min else " fill='#555'"
        chunk = ", no free chunk this large" if z.allowed and z.has_chunk is False else ""
        out.append(f"<text x='{1000 - right + 4}' y='{y + 14}' fill='#333'>{_e(text)}</text>"
                   f"<text x='{1000 - right + 4}' y='{y + 30}'{weight}>{_e(state + chunk)}</text>")
    return "".join(out) + "</svg>"


def _zone_legend() -> str:
    items = ((ZONE_FREE_OK, "free, above min + reserve"), (ZONE_FREE_LOW, "free, below min + reserve"),
             (ZONE_NOT_ALLOWED, "free, in a zone this allocation may not use"),
             (ZONE_UNUSABLE, "free but not usable here (CMA, highatomic)"), (RESERVE, "lowmem_reserve above min"),
             (MARK_MIN, "min (dashed: min + reserve)"), (MARK_LOW, "low"), (MARK_HIGH, "high"))
    return "<p class=muted>" + " ".join(f"<span class=sw style='background:{c}'></span> {_e(t)}&nbsp;"
                                        for c, t in items) + "</p>"


# -- tasks -----------------------------------------------------------------------------------


def _tasks(r: OomReport, x: ReportExplanation) -> str:
    c = x.victim_check
    if not x.tasks:
        return "<h3>Tasks</h3><p class=muted>The report has no task table to check the choice against.</p>"
    ranked = sorted((t for t in x.tasks if t.rank is not None), key=lambda t: t.rank or 0)
    killed = {k.pid for k in r.kills}
    trigger = r.trigger.pid
    head = victim_headline(c, len(ranked)) + "."
    shown: List[Any] = ranked[:TASK_ROWS]
    # the killed and the triggering processes are shown even far down the table (or unranked)
    extra = [t for t in x.tasks if (t.pid in killed or t.pid == trigger) and t not in shown]
    page = r.page_size or 4096
    rows = []
    for t in shown + ([None] if extra else []) + extra:
        if t is None:
            rows.append("<tr><td colspan=9 class=muted>...</td></tr>")
            continue
        cls = "victim" if t.pid in killed else "trigger" if t.pid == trigger else ""
        tags = ("<span class=tag>killed</span>" if t.pid in killed else "") + (
            "<span class='tag t'>trigger</span>" if t.pid == trigger else "")
        cells = [t.rank if t.rank is not None else "never", t.pid, t.uid, None, t.oom_score_adj,
                 human_bytes(t.rss_pages * page) if t.rss_pages is not None else None,
                 human_bytes(t.swapents * page) if t.swapents is not None else None,
                 human_bytes(t.pgtables_bytes), t.badness_pages]
        tds = "".join(f"<td>{_e(t.name)}{tags}</td>" if j == 3 else
                      f"<td class=n>{_e('-' if v is None else v)}</td>" for j, v in enumerate(cells))
        rows.append(f"<tr class='{cls}'>{tds}</tr>" if cls else f"<tr>{tds}</tr>")
    header = "".join(f"<th class=n>{h}</th>" if h != "name" else f"<th>{h}</th>" for h in (
        "rank", "pid", "uid", "name", "adj", "rss", "swap", "page tables", "badness (pages)"))
    return (f"<h3>Victim: {_e(head)}</h3><p class=muted>The task table ranked with the kernel's own arithmetic "
            f"({_e(c.era or '?')} era); {len(x.tasks)} rows, the first {len(shown)} shown.</p>"
            f"<table><tr>{header}</tr>{''.join(rows)}</table>")
