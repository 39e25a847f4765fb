"""oomutil top: every process ranked by what the OOM killer would do (the default command)."""

from __future__ import annotations

import argparse
import os
import sys
import time

from . import examples
from ._output import MISSING, add_formats, cgroup_arg, emit, format_table, human_bytes, print_csv, regex_arg

SORT_CHOICES = ("score", "adj", "rss", "swap", "pid", "user", "name")
GROUP_CHOICES = ("comm", "user", "cgroup", "unit", "container", "pod")


def register(sub, parents, help_text: str) -> None:
    p = sub.add_parser(
        "top", parents=parents, help=help_text,
        epilog=examples('oomutil top -n 10                     the ten most likely victims', 'oomutil top --cgroup sshd.service --all  one cgroup, kernel threads too', 'oomutil top --group-by container        one row per container'),
        description="List processes with the most likely OOM victim first. Kernel threads are "
        "hidden unless --all; processes the kernel never kills are marked.",
    )
    p.add_argument("-n", "--limit", type=_count, metavar="N",
                   help="show at most N processes; 0 for all (default: the terminal's height, or all when piped)")
    p.add_argument("--sort", choices=SORT_CHOICES, default="score",
                   help="order by this column (default: score)")
    p.add_argument("--reverse", action="store_true", help="reverse the order")
    p.add_argument("--user", action="append", metavar="USER",
                   help="only processes of this user name or uid (repeatable)")
    p.add_argument("--name", metavar="REGEX", type=regex_arg, help="only processes whose name matches")
    p.add_argument("--pid", metavar="LIST", type=_pid_list, help="only these pids (comma-separated)")
    p.add_argument("--cgroup", metavar="CGROUP", type=cgroup_arg,
                   help="only processes in this memory cgroup or below it: its path, its directory under "
                   "/sys/fs/cgroup, or its name as `oomutil cgroups` prints it")
    p.add_argument("--killable", action="store_true", help="only processes the kernel may kill")
    p.add_argument("--all", action="store_true", help="include kernel threads")
    p.add_argument("--cmdline", action="store_true", help="show full command lines (not with --group-by)")
    p.add_argument("--group-by", choices=GROUP_CHOICES, metavar="KEY",
                   help="one row per comm, user, cgroup, systemd unit, container or pod: "
                   "count, memory, highest score; highest score first (--reverse: last), not with --sort")
    add_formats(p)
    p.add_argument("--watch", nargs="?", type=_seconds, const=2.0, metavar="SECONDS",
                   help="refresh every SECONDS (default 2) until interrupted")


def _count(text: str) -> int:
    if not (text.isascii() and text.isdigit()):
        raise argparse.ArgumentTypeError(f"invalid count: {text!r} (a whole number; 0 for all)")
    return int(text)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.1 <= value <= 86400:
        raise argparse.ArgumentTypeError(f"invalid interval: {text!r} (seconds, 0.1 to 86400)")
    return value


def _pid_list(text: str):
    from ._args import pid_arg

    return [pid_arg(part.strip()) for part in text.split(",")]


def run(args) -> int:
    from ..visibility import view
    from ._view import warn_partial
    from . import fail, usage_error

    if args.group_by and (args.sort != "score" or args.cmdline):
        # groups come in the order of their highest score; a command line is a process's
        return usage_error("top", f"--group-by lists groups, highest score first: {'--cmdline' if args.cmdline else '--sort'} "
                           "applies to processes, not groups")
    if args.user or args.cgroup is not None:  # checked before the scan, imported only then
        from ..root import Root
        from ._args import unknown_filter

        bad = unknown_filter(args, Root(args.root))
        if bad:
            fail(bad)
            return 1
    warn_partial(view(args.root))  # once, on stderr: what the rows cannot show
    if args.watch is not None:
        return _watch(args)
    rows = _rows(args, _limit(args))
    if not rows:
        fail(_nothing(args))
        return 1
    if args.group_by:
        return _print_groups(args, rows)
    return _print(args, rows)


def _nothing(args) -> str:
    """What was asked, when no process answers it."""
    asked = " ".join(a for a in (f"--pid {','.join(map(str, args.pid))}" if args.pid else "",
                                 f"--user {','.join(args.user)}" if args.user else "",
                                 f"--name {args.name.__self__.pattern!r}" if args.name else "",
                                 f"--cgroup {args.cgroup}" if args.cgroup is not None else "",
                                 "--killable" if args.killable else "") if a)
    if not asked:
        from ..root import Root

        return f"no processes in {Root(args.root).proc()}"
    hidden = not args.all and (args.pid or args.name)
    return f"no process matches {asked}" + (" (kernel threads are left out: --all shows them)" if hidden else "")


def _limit(args):
    if args.limit is not None:
        return args.limit or None  # -n 0: all, as in every command with -n
    if args.json or args.ndjson or args.csv or args.group_by or not sys.stdout.isatty():
        return None
    return max(1, os.get_terminal_size().lines - 3)  # room for the header and the prompt


def _rows(args, limit):
    from ..rank import top

    return top(
        args.root, sort=args.sort, reverse=args.reverse, limit=None if args.group_by else limit,
        pids=args.pid, users=args.user, name=args.name, cgroup_prefix=args.cgroup,
        killable=args.killable, kernel_threads=args.all, cmdline=args.cmdline,
    )


def _print(args, rows, header: bool = True) -> int:
    if header or not args.csv:
        emit(args, rows, lambda: _table(args, rows))
    else:  # --watch --csv: the header once, then rows
        print_csv(rows, header=False)
    return 0


def _table(args, rows):
    from ..root import Root
    from ..workloads import read_names

    counted = _counted_bytes(args.root)
    names = read_names(args.root)
    me = os.getpid() if Root(args.root).is_live else None  # this oomutil counts too: said on its row
    header = ("PID", "USER", "SCORE", "ADJ", "RSS", "SWAP", "MEM%", "CGROUP", "COMMAND")
    lines = []
    for r in rows:
        command = r.cmdline if args.cmdline and r.cmdline else r.comm
        if r.killable is False:
            command = f"{command} [never killed: {r.unkillable_reason}]"
        elif r.pid == me:
            command = f"{command} [this oomutil]"
        lines.append((
            r.pid, r.user if r.user is not None else r.uid, r.oom_score, r.oom_score_adj,
            human_bytes(r.rss_bytes), human_bytes(r.swap_bytes), _share(r, counted),
            short_cgroup(r.cgroup, names), command,
        ))
    return format_table(lines, header, right=(0, 2, 3, 4, 5, 6))


def _counted_bytes(root):
    """RAM + swap: what oom_score is measured against for a system-wide OOM."""
    from ..errors import OomutilError
    from ..procfs.meminfo import read_meminfo
    from ..root import Root

    try:
        m = read_meminfo(Root(root))
    except OomutilError:
        return None
    if m.mem_total_bytes is None:
        return None
    return m.mem_total_bytes + (m.swap_total_bytes or 0)


def _share(r, counted) -> str:
    if counted is None or r.rss_bytes is None:
        return MISSING
    used = r.rss_bytes + (r.swap_bytes or 0) + (r.pgtables_bytes or 0)
    return f"{100 * used / counted:.1f}"


def short_cgroup(path, names) -> str:
    """What the cgroup is ("sshd.service", "docker 1a2b3c4d5e6f", "shop/web-7d9f8-abcde/nginx"
    with ``names``, workloads.read_names()), cut to 24 characters, 40 for a pod's names
    (cut in the middle: the namespace and the container tell most); "/" for the root."""
    name = names.name(path)
    if not name:
        return MISSING
    wide = 40 if names.workload(path).pod else 24
    if len(name) <= wide:
        return name
    return name[:22] + ".." if wide == 24 else name[:18] + ".." + name[-20:]


def _print_groups(args, rows, header: bool = True) -> int:
    from ..rank import group_records
    from ..workloads import read_names

    groups = group_records(rows, args.group_by, read_names(args.root) if args.group_by in ("pod", "container") else None)
    if args.reverse:
        groups.reverse()

    def table():
        header = (args.group_by.upper(), "PROCS", "RSS+SWAP", "MAX SCORE", "TOP PID")
        shown = groups[: args.limit] if args.limit else groups
        return format_table(
            [(g.group if g.group is not None else MISSING, g.processes,
              human_bytes(g.rss_bytes + g.swap_bytes), g.max_oom_score, g.top_pid) for g in shown],
            header, right=(1, 2, 3, 4),
        )

    if header or not args.csv:
        emit(args, groups, table)
    else:
        print_csv(groups, header=False)
    return 0


def _watch(args) -> int:
    """Redraw until Ctrl-C (exit 130, as every command); say so when the most likely victim
    changes.  --json, --ndjson and --csv carry only records on stdout (a document per
    refresh, a record per line, the csv header once); the banner and the notes go to stderr."""
    from ._output import printable

    machine = args.json or args.ndjson or args.csv
    previous = None
    note = ""
    refresh = 0
    try:
        while True:
            limit = _limit(args)
            rows = _rows(args, limit)
            first = (rows[0].pid, rows[0].comm) if rows and not args.group_by else None
            if previous is not None and first != previous:
                note = (f"{time.strftime('%H:%M:%S')}  top candidate changed: "
                        f"pid {previous[0]} ({previous[1]}) -> "
                        + (f"pid {first[0]} ({first[1]})" if first else "none"))
            previous = first
            banner = printable(f"oomutil top, every {args.watch:g}s, {time.strftime('%H:%M:%S')}"
                               + (f"   ! {note}" if note else ""))
            if machine:
                print(banner, file=sys.stderr)
            else:
                sys.stdout.write("\x1b[H\x1b[2J" if sys.stdout.isatty() else "\n")
                print(banner)
            (_print_groups if args.group_by else _print)(args, rows, header=refresh == 0)
            refresh += 1
            sys.stdout.flush()
            time.sleep(args.watch)
    except KeyboardInterrupt:
        return 130
