"""oomutil show PID...: one process's OOM score, adjustment, legacy adj, owner and memory."""

from __future__ import annotations

import argparse

from ..errors import OomutilError
from ..root import Root
from . import fail
from ._output import MISSING, format_table, human_bytes, print_json, print_lines


def pid_arg(text: str):
    """A pid, or ``self``; anything else is a usage error that quotes the text."""
    if text == "self":
        return None
    try:
        pid = int(text, 10)
    except ValueError:
        pid = 0
    if pid <= 0:
        raise argparse.ArgumentTypeError(f"invalid PID argument: {text!r}")
    return pid


def register(sub, parents, help_text: str) -> None:
    p = sub.add_parser(
        "show", parents=parents, help=help_text,
        description="Show the OOM score, oom_score_adj, legacy oom_adj, owner and the memory "
        "the OOM killer counts, for each PID ('self' is this command itself).",
    )
    p.add_argument("pids", metavar="PID", nargs="+", type=pid_arg, help="a process id, or 'self'")


def run(args) -> int:
    from ..process import Process  # the library is imported by the command that needs it

    root = Root(args.root)
    records, failed = [], False
    for pid in args.pids:
        try:
            records.append(Process(pid, root).info())
        except OomutilError as err:  # report it and go on with the other pids
            fail(str(err))
            failed = True
    if args.json:
        print_json(records)
    else:
        blocks = [_block(r) for r in records]
        print_lines(line for i, block in enumerate(blocks) for line in ([""] if i else []) + block)
    return 1 if failed else 0


def _block(r) -> list:
    user = MISSING if r.uid is None else f"{r.user or '?'} (uid {r.uid})"
    rows = [
        ("user", user),
        ("oom_score", r.oom_score),
        ("oom_score_adj", r.oom_score_adj),
        ("oom_adj", r.oom_adj if r.oom_adj is None else f"{r.oom_adj}   (legacy view of oom_score_adj)"),
        ("rss", human_bytes(r.rss_bytes)),
        ("swap", human_bytes(r.swap_bytes)),
        ("page tables", human_bytes(r.pgtables_bytes)),
    ]
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
