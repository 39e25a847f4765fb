"""oomutil show PID...: one process's OOM score, adjustment, legacy adj, owner and memory."""

from __future__ import annotations

import argparse

from . import _args, examples
from ..badness import ERAS, era_of
from ..errors import InvalidValue, OomutilError
from ..root import Root
from . import fail
from ._output import MISSING, add_formats, emit, format_table, human_bytes


def pid_arg(text: str):
    """A pid (_args.pid_arg), or ``self``; anything else is a usage error that quotes the text."""
    return None if text == "self" else _args.pid_arg(text)


def era_arg(text: str) -> str:
    """A kernel release (6.1, 4.19.0-25-amd64) or an era's name: the era of its formula."""
    if text in ERAS:
        return text
    try:
        return era_of(text)
    except InvalidValue as err:
        raise argparse.ArgumentTypeError(f"invalid release {text!r}: {err.msg}") from None


def register(sub, parents, help_text: str) -> None:
    p = sub.add_parser(
        "show", parents=parents, help=help_text,
        epilog=examples('oomutil show 1234                      why pid 1234 has its score', 'oomutil show self --era 4.19            as a 4.19 kernel would score it', 'oomutil show --json $(pgrep java)'),
        description="Show the OOM score, oom_score_adj, legacy oom_adj, owner and the memory "
        "the OOM killer counts, for each PID ('self' is this command itself).",
    )
    p.add_argument("pids", metavar="PID", nargs="+", type=pid_arg, help="a process id, or 'self'")
    p.add_argument("--era", type=era_arg, metavar="RELEASE",
                   help="recompute oom_score with the formula of this kernel release, e.g. 6.1 or 4.9 "
                   f"(the formulas start at {', '.join(ERAS)}; default: the root's kernel release)")
    add_formats(p)


def run(args) -> int:
    from ..details import process_info  # the library is imported by the command that needs it

    root = Root(args.root)
    records, failed = [], False
    for pid in args.pids:
        try:
            records.append(process_info(pid, root, era=args.era))
        except OomutilError as err:  # report it and go on with the other pids
            fail(str(err))
            failed = True
    emit(args, records, lambda: _blocks(root, records))
    return 1 if failed else 0


def _blocks(root, records):
    ranking = _global_ranking(root) if any(r.explain and r.explain.killable for r in records) else None
    blocks = [_block(r, ranking) for r in records]
    return [line for i, block in enumerate(blocks) for line in ([""] if i else []) + block]


def _global_ranking(root):
    """Every candidate of a system-wide OOM, to say what adj would put a process first or
    last; None where it cannot be had (a tree without meminfo, say)."""
    from ..victim import predict
    from ..workloads import EMPTY

    try:
        report = predict(root, names=EMPTY)
    except OomutilError:
        return None
    return None if report.partial else report  # ranks against processes it cannot see: unknown


def _block(r, ranking) -> list:
    from ._prose import describe_score

    user = MISSING if r.uid is None else f"{r.user or '?'} (uid {r.uid})"
    score = r.oom_score if r.explain is None else describe_score(r.explain, human_bytes)
    rows = [
        ("user", user),
        ("oom_score", score),
        ("oom_score_adj", r.oom_score_adj),
        ("oom_adj", r.oom_adj if r.oom_adj is None else f"{r.oom_adj}   (legacy view of oom_score_adj)"),
        ("rss", human_bytes(r.rss_bytes)),
        ("swap", human_bytes(r.swap_bytes)),
        ("page tables", human_bytes(r.pgtables_bytes)),
    ]
    if ranking is not None and r.explain is not None and r.explain.killable:
        rows.append(("first / last", _first_last(r.pid, r.oom_score_adj, ranking)))
    g = r.memory_cgroup
    if g is not None:
        rows.append(("memory cgroup", f"{g.name} ({g.path})" if g.name != g.path else g.path))
        if g.effective_limit_bytes is None:
            rows.append(("cgroup limit", "none (only a system-wide OOM can kill it)"))
        else:
            where = "" if g.limited_by == g.path else f", set on {g.limited_by}"
            rows.append(("cgroup limit", f"{human_bytes(g.effective_limit_bytes)}{where}; "
                         f"usage {human_bytes(g.usage_bytes)}, headroom {human_bytes(g.headroom_bytes)}"))
        if g.oom_kill_count is not None:
            rows.append(("cgroup OOM kills", g.oom_kill_count))
    return [f"pid {r.pid} ({r.comm})"] + format_table(rows, indent="  ")


def _first_last(pid, adj, ranking) -> str:
    """What oom_score_adj would make this process the first or the last candidate."""
    from ..victim import adj_to_be

    first, last = adj_to_be(pid, ranking)
    if ranking.victim is not None and ranking.victim.pid == pid:
        head = "the first candidate of a system-wide OOM now"
    elif first is not None:
        head = f"oom_score_adj {first} or more makes it the first candidate of a system-wide OOM"
    else:
        head = "no oom_score_adj makes it the first candidate of a system-wide OOM"
    if last is None:
        return f"{head}; no oom_score_adj above -1000 makes it the last"
    needs = " (lowering it needs CAP_SYS_RESOURCE)" if adj is not None and last < adj else ""
    return f"{head}; {last} or less makes it the last{needs}"
