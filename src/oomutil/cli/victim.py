"""oomutil victim: who the OOM killer would take now, the runner-up, and the margin."""

from __future__ import annotations

import argparse
import re

from . import examples
from ..badness import pages_per_unit
from ._output import cgroup_arg, format_table, human_bytes, print_json, print_lines

_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def register(sub, parents, help_text: str) -> None:
    p = sub.add_parser(
        "victim", parents=parents, help=help_text,
        epilog=examples('oomutil victim                         who a system-wide OOM kills now', 'oomutil victim --cgroup app.slice       who an OOM of that cgroup kills', 'oomutil victim --set 1234=-900 --grow 5678=2G'),
        description="Rank the candidates of a system-wide OOM, or with --cgroup of an OOM of that "
        "memory cgroup, by the kernel's badness; name the victim and its lead over the next one.",
    )
    p.add_argument("--cgroup", metavar="CGROUP", type=cgroup_arg,
                   help="an OOM of this memory cgroup: its path as in /proc/PID/cgroup, its directory under "
                   "/sys/fs/cgroup, or its name as `oomutil cgroups` prints it")
    p.add_argument("--set", action="append", metavar="PID=ADJ", type=_pid_adj, default=[],
                   help="as if PID had this oom_score_adj (repeatable)")
    p.add_argument("--grow", action="append", metavar="PID=SIZE", type=_pid_size, default=[],
                   help="as if PID used SIZE more memory, e.g. 512M, 2G (repeatable)")
    p.add_argument("-n", "--limit", type=_count, default=10, metavar="N",
                   help="candidates to list (default 10; 0 for all)")


def _count(text: str) -> int:
    if not (text.isascii() and text.isdigit()):
        raise argparse.ArgumentTypeError(f"invalid count: {text!r} (0 or more)")
    return int(text)


def _pid_adj(text: str):
    from ._args import pid_arg

    m = re.fullmatch(r"([0-9]+)=(-?[0-9]+)", text)
    if not m or not -1000 <= int(m.group(2)) <= 1000:
        raise argparse.ArgumentTypeError(f"expected PID=ADJ with ADJ in -1000..1000: {text!r}")
    return pid_arg(m.group(1)), int(m.group(2))


def _pid_size(text: str):
    from ._args import pid_arg

    m = re.fullmatch(r"([0-9]+)=([0-9]{1,15}(?:\.[0-9]+)?)\s*([kKmMgGtT]?)(?:i?[bB])?", text)
    if not m:
        raise argparse.ArgumentTypeError(f"expected PID=SIZE such as 1234=512M: {text!r}")
    return pid_arg(m.group(1)), int(float(m.group(2)) * _UNITS[m.group(3).lower()])


def _what_if_errors(args):
    """A what-if that cannot be: a pid no process has, more memory than the machine has."""
    import os

    from ..procfs.meminfo import read_meminfo
    from ..root import Root

    root = Root(args.root)
    for pid, _ in [*args.set, *args.grow]:
        if not os.path.isdir(root.proc(pid)):
            return f"no process has pid {pid} (--set and --grow ask about processes that exist)"
    if args.grow:
        m = read_meminfo(root)
        most = (m.mem_total_bytes or 0) + (m.swap_total_bytes or 0)
        for pid, size in args.grow:
            if most and size > most:
                return (f"--grow {pid}={human_bytes(size)}: more than this machine's RAM + swap "
                        f"({human_bytes(most)})")
    return None


def _whose(report) -> str:
    """" of shop/web-7d9f8-abcde/nginx": the victim's pod and container, where named."""
    from ..workloads import shown_name

    w = report.victim_workload
    return f" of {shown_name(report.victim_cgroup, w)}" if w is not None and (w.pod or w.container) else ""


def _unit(report) -> str:
    return "per mille" if pages_per_unit(report.era, report.totalpages) > 1 else "pages"


def run(args) -> int:
    import os

    from ..cgroups import resolve_cgroup
    from ..root import Root
    from ..victim import predict
    from ..workloads import read_names
    from . import fail, usage_error
    from ._view import warn_partial

    cgroup = None if args.cgroup is None else resolve_cgroup(args.cgroup, args.root)
    bad = _what_if_errors(args)
    if bad:
        return usage_error("victim", bad)
    me = os.getpid() if Root(args.root).is_live else None  # this oomutil will be gone by then
    names = read_names(args.root)  # once: the scope's, and the victim's pod and container
    report = predict(args.root, cgroup=cgroup, set_adj=dict(args.set), grow=dict(args.grow),
                     exclude=() if me is None else (me,), names=names)
    warn_partial(report.view)  # on stderr, JSON or not
    if report.processes == 0 and not report.partial:
        fail(f"no processes in {report.scope}: an OOM there has nobody to kill")
        return 1
    if report.partial and report.scope != "/":
        fail(f"{report.hidden_processes} process(es) of {report.scope} cannot be read here: "
             "the victim may be one of them")
    if args.json:
        print_json(report)
        return 0
    page = report.page_size
    if report.scope == "/":
        lines = [f"scope: system-wide OOM; RAM + swap = {human_bytes(report.totalpages * page)} "
                 f"({report.totalpages} pages)"]
    else:
        name = names.name(report.scope)
        named = f"{name} ({report.scope})" if report.pod or report.container else report.scope
        lines = [f"scope: OOM of memory cgroup {named}; limit + swap = "
                 f"{human_bytes(report.totalpages * page)} ({report.totalpages} pages)"]
    lines.append(f"one unit of oom_score_adj = {report.totalpages // 1000} pages "
                 f"({human_bytes(report.totalpages // 1000 * page)})")
    for pid, adj in report.set_adj.items():
        lines.append(f"what if: pid {pid} oom_score_adj {adj}")
    for pid, extra in report.grow_bytes.items():
        lines.append(f"what if: pid {pid} +{human_bytes(extra)}")
    if me in report.excluded:
        lines.append(f"note: pid {me}, this oomutil, is left out: it will be gone by then")
    for pid in report.not_candidates:
        lines.append(f"note: pid {pid} is not a candidate of this OOM; its what-if changes nothing")
    v = report.victim
    if report.partial and not report.oom_kill_disabled:
        b = report.best_visible
        lines.append("victim: not known from here (see above); best visible candidate: "
                     + (f"pid {b.pid} ({b.comm}), badness {b.badness_pages} {_unit(report)}" if b else "none"))
    elif report.oom_kill_disabled:
        lines.append(f"no kill: oom_kill_disable is set on {report.scope}; tasks wait until memory is freed")
    elif v is None:
        lines.append("victim: none - no process here can be killed")
    else:
        ahead = "" if report.margin_bytes is None else f", {human_bytes(report.margin_bytes)} ahead of the next"
        lines.append(f"victim: pid {v.pid} ({v.comm}){_whose(report)}, badness {v.badness_pages} "
                     f"{_unit(report)}{ahead}")
    if report.tied and not report.oom_kill_disabled:
        order = "last" if report.last_scanned_wins else "first"
        scan = ("fork order" if report.scope == "/" else
                "cgroup by cgroup, in the order tasks joined each")
        lines.append(f"tie: pids {', '.join(map(str, report.tied))} have the same badness; the kernel takes "
                     f"the one it scans {order} ({scan}; guessed here from start times)")
    if report.lead_within_drift and not report.oom_kill_disabled:
        lines.append(f"uncertain: the lead is smaller than the kernel's per-CPU memory counters may lag "
                     f"(up to {report.drift_pages} pages per process on this kernel)")
    if report.group_kill:
        lines.append(f"memory.oom.group is set on {report.group_kill}: every process in it dies too (but those at adj -1000)")
    shown = report.candidates if args.limit == 0 else report.candidates[: args.limit]
    table = [(i + 1, c.pid, c.comm, c.oom_score_adj, human_bytes(c.rss_bytes), human_bytes(c.swap_bytes),
              human_bytes(c.pgtables_bytes), c.badness_pages,
              human_bytes(c.badness_pages * pages_per_unit(report.era, report.totalpages) * page))
             for i, c in enumerate(shown)]
    lines += [""] + format_table(table, ("RANK", "PID", "COMM", "ADJ", "RSS", "SWAP", "PGTABLES",
                                         "BADNESS", "BADNESS AS SIZE"), right=(0, 1, 3, 4, 5, 6, 7, 8))
    if table:
        lines.append(f"BADNESS: what the kernel compares, in {_unit(report)}: RSS + swap + page tables "
                     "+ ADJ x one unit; BADNESS AS SIZE: the same as memory")
    lines += _shared_note(args.root, report)
    print_lines(lines)
    return 0


def _shared_note(root, report):
    """Where the candidates' RSS adds up to more than the cgroup holds: shared pages
    (libraries, shared memory) count in the RSS of every process that maps them, and so in
    each one's badness."""
    if report.scope == "/":
        return []
    from ..cgroups import memory_cgroup
    from ..workloads import EMPTY
    from ..errors import OomutilError

    try:
        usage = memory_cgroup(report.scope, root, names=EMPTY).usage_bytes
    except OomutilError:
        return []
    total = sum(c.rss_bytes for c in report.candidates)
    if usage is None or total <= usage:
        return []
    return [f"note: their RSS adds up to {human_bytes(total)}, more than the {human_bytes(usage)} "
            f"{report.scope} holds: shared pages count in every process that maps them, for the kernel too"]
