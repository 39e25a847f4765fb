"""oomutil adj: show or set oom_score_adj of processes chosen by pid, name, user or cgroup
(choom -p PID [-n VALUE] compatible), with --dry-run showing what the change does to the
ranking first."""

from __future__ import annotations

import argparse

from . import examples, fail
from ._output import cgroup_arg, regex_arg


def register(sub, parents, help_text: str) -> None:
    p = sub.add_parser(
        "adj", parents=parents, help=help_text,
        description="Show oom_score_adj of the chosen processes, or set it with -n (as choom does), "
        "through a pinned /proc directory: a pid reused meanwhile by another process is refused, "
        "never written. Lowering needs CAP_SYS_RESOURCE below the value a privileged process set.",
        epilog=examples("oomutil adj -p 1234                    show, as choom -p 1234",
                        "oomutil adj -p 1234 -n 500             set, as choom -p 1234 -n 500",
                        "oomutil adj --name '^chrome$' -n 800 --dry-run   what it would change"),
    )
    p.add_argument("-p", "--pid", type=_pid, action="append", default=[], metavar="PID",
                   help="this process (repeatable)")
    p.add_argument("--name", type=regex_arg, metavar="REGEX", help="every process whose name matches")
    p.add_argument("--user", action="append", metavar="USER", help="every process of this user name or uid")
    p.add_argument("--cgroup", type=cgroup_arg, metavar="CGROUP", help="every process in this memory cgroup or below")
    p.add_argument("-n", "--adjust", type=adj_value, metavar="VALUE", help="set oom_score_adj to VALUE (-1000..1000)")
    p.add_argument("--dry-run", action="store_true",
                   help="with -n: show the ranking before and after, change nothing")


def _pid(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"invalid PID argument: {text!r}")
    return int(text)


def adj_value(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 10000
    if not -1000 <= value <= 1000:
        raise argparse.ArgumentTypeError(f"invalid oom_score_adj {text!r}: a whole number from -1000 to 1000")
    return value


def run(args) -> int:
    from ..errors import OomutilError
    from ..process import Process
    from ..rank import oom_score_adj_by_pid
    from ..root import Root

    root = Root(args.root)
    pids = _chosen(args, root)
    if not pids:  # said: None, no option chose any (usage); [], the rules matched nothing
        return 2 if pids is None else 1
    if args.dry_run:
        if args.adjust is None:
            fail("--dry-run shows what -n VALUE would change: give -n")
            return 2
        return _dry_run(args, root, pids)
    failed = False
    values = oom_score_adj_by_pid(root) if args.adjust is not None else {}
    for pid in pids:
        try:
            p = Process(pid, root)
            with p.oneshot():
                name, adj, score = p.name(), p.oom_score_adj(), p.oom_score()
            if args.adjust is None:
                print(f"pid {pid} ({name}): oom_score_adj {adj}, oom_score {score}")
                continue
            p.set_oom_score_adj(args.adjust)
            with p.oneshot():  # read back: what the kernel holds now
                new_adj, new_score = p.oom_score_adj(), p.oom_score()
            print(f"pid {pid} ({name}): oom_score_adj {adj} -> {new_adj}, oom_score {score} -> {new_score}")
            # since 4.7 the kernel sets every process that shares the mm: who else moved
            now = oom_score_adj_by_pid(root)
            for q in sorted(q for q, v in now.items() if q != pid and q in values and values[q] != v == new_adj):
                print(f"  pid {q} ({_name(q, root)}) changed with it: it shares its memory (vfork)")
            values = now
        except OomutilError as err:
            fail(f"oom_score_adj {args.adjust}: {err}" if args.adjust is not None else str(err))
            failed = True
    return 1 if failed else 0


def _name(pid: int, root) -> str:
    from ..errors import OomutilError
    from ..process import Process

    try:
        return Process(pid, root).name()
    except OomutilError:  # gone meanwhile
        return "?"


def _chosen(args, root):
    """The pids the options name, in order; None (said) when nothing chooses any."""
    pids = list(dict.fromkeys(args.pid))
    if args.name or args.user or args.cgroup:
        from ..cgroups import resolve_cgroup
        from ..rank import top

        cgroup = resolve_cgroup(args.cgroup, root) if args.cgroup else None
        rows = top(root, sort="pid", users=args.user, name=args.name, cgroup_prefix=cgroup)
        pids += [r.pid for r in rows if r.pid not in pids]
        if not pids:
            fail("no process matches --name/--user/--cgroup")
            return []
    elif not pids:
        fail("name the processes: -p PID, --name REGEX, --user USER or --cgroup CGROUP "
             "(Try 'oomutil adj --help')")
        return None
    return pids


def _dry_run(args, root, pids) -> int:
    """The system-wide ranking (and each chosen process's cgroup's) before and after."""
    from ..cgroups import process_cgroup
    from ..errors import OomutilError
    from ..victim import predict

    wanted = {pid: args.adjust for pid in pids}
    scopes = ["/"]

    for pid in pids:
        try:
            g = process_cgroup(pid, root)
        except OomutilError:
            continue
        if g is not None and g.oom_scope and g.oom_scope not in scopes:
            scopes.append(g.oom_scope)
    for scope in scopes:
        cgroup = None if scope == "/" else scope
        before = predict(root, cgroup=cgroup)
        after = predict(root, cgroup=cgroup, set_adj=wanted)
        title = "system-wide OOM" if scope == "/" else f"OOM of {scope}"
        print(f"{title}: victim now {_who(before.victim)}; with oom_score_adj {args.adjust}: {_who(after.victim)}")
        rank_before = {c.pid: i + 1 for i, c in enumerate(before.candidates)}
        rank_after = {c.pid: i + 1 for i, c in enumerate(after.candidates)}
        for pid in pids:
            if pid in rank_before or pid in rank_after:
                print(f"  pid {pid}: rank {rank_before.get(pid, '-')} -> {rank_after.get(pid, '-')} "
                      f"of {len(after.candidates)}")
    print("dry run: nothing was changed")
    return 0


def _who(candidate) -> str:
    return "none" if candidate is None else f"pid {candidate.pid} ({candidate.comm})"
