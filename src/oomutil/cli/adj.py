"""oomutil adj: show or set oom_score_adj of processes chosen by pid, name, user or cgroup
(choom -p PID [-n VALUE] compatible), with --dry-run showing what the change does to the
ranking first, and which writes the kernel would refuse."""

from __future__ import annotations

import argparse

from . import examples, fail, usage_error
from ._args import pid_arg
from ._output import cgroup_arg, print_json, print_lines, regex_arg


def register(sub, parents, help_text: str) -> None:
    p = sub.add_parser(
        "adj", parents=parents, help=help_text,
        description="Show oom_score_adj of the chosen processes, or set it with -n (as choom does), "
        "through a pinned /proc directory: a pid reused meanwhile by another process is refused, "
        "never written. Lowering below a process's floor needs CAP_SYS_RESOURCE; the floor is the value of the "
        "last oom_score_adj write by a CAP_SYS_RESOURCE holder, raises included (0 when there was none), so "
        "-n run with the capability sets the floor too. "
        "Writes go only to the kernel's own /proc, never into a captured tree.",
        epilog=examples("oomutil adj -p 1234                    show, as choom -p 1234",
                        "oomutil adj -p 1234 -n 500             set, as choom -p 1234 -n 500",
                        "oomutil adj --name '^chrome$' -n 800 --dry-run   what it would change"),
    )
    p.add_argument("-p", "--pid", type=pid_arg, action="append", default=[], metavar="PID",
                   help="this process (repeatable)")
    p.add_argument("--name", type=regex_arg, metavar="REGEX", help="every process whose name matches")
    p.add_argument("--user", action="append", metavar="USER", help="every process of this user name or uid")
    p.add_argument("--cgroup", type=cgroup_arg, metavar="CGROUP", help="every process in this memory cgroup or below")
    p.add_argument("-n", "--adjust", type=adj_value, metavar="VALUE", help="set oom_score_adj to VALUE (-1000..1000)")
    p.add_argument("--choom", action="store_true",
                   help="print what util-linux choom prints (with -p only): \"pid N's current OOM score: S\" and "
                   "\"pid N's current OOM score adjust value: A\", or \"pid N's OOM score adjust value changed "
                   "from A to B\"")
    p.add_argument("--dry-run", action="store_true",
                   help="with -n: show the ranking before and after and the writes the kernel would refuse; "
                   "change nothing")


def adj_value(text: str) -> int:
    """-n VALUE: an optional sign and ASCII digits, as choom takes it; -1000..1000."""
    digits = text[1:] if text[:1] in "+-" else text
    value = int(text) if digits.isascii() and digits.isdigit() and len(digits) < 6 else 10000
    if not -1000 <= value <= 1000:
        raise argparse.ArgumentTypeError(f"invalid oom_score_adj {text!r}: a whole number from -1000 to 1000")
    return value


def run(args) -> int:
    from ..root import Root

    root = Root(args.root)
    if args.choom and (getattr(args, "json", False) or args.dry_run or args.name or args.user or args.cgroup):
        return usage_error("adj", "--choom prints what choom prints, and choom takes -p PID only: not with --json, "
                           "--dry-run, --name, --user or --cgroup")
    if args.dry_run and args.adjust is None:
        fail("--dry-run shows what -n VALUE would change: give -n")
        return 2
    if args.adjust is not None and not args.dry_run:
        from ..process import check_writable

        check_writable(root)  # one line for a captured tree, before any process is looked at
    pids = _chosen(args, root)
    if not pids:  # said: None, no option chose any (usage); [], the rules matched nothing
        return 2 if pids is None else 1
    if args.dry_run:
        return _dry_run(args, root, pids)
    return _show(args, root, pids) if args.adjust is None else _set(args, root, pids)


def _show(args, root, pids) -> int:
    from ..errors import OomutilError
    from ..process import Process

    shown, failed = [], False
    for pid in pids:
        try:
            p = Process(pid, root)
            with p.oneshot():
                shown.append({"pid": pid, "comm": p.name(), "oom_score_adj": p.oom_score_adj(),
                              "oom_score": p.oom_score()})
        except OomutilError as err:
            fail(str(err))
            failed = True
    if args.json:
        print_json(shown)
    elif args.choom:  # util-linux choom.c
        print_lines(line for s in shown for line in (f"pid {s['pid']}'s current OOM score: {s['oom_score']}",
                                                    f"pid {s['pid']}'s current OOM score adjust value: "
                                                    f"{s['oom_score_adj']}"))
    else:
        print_lines(f"pid {s['pid']} ({s['comm']}): oom_score_adj {s['oom_score_adj']}, oom_score {s['oom_score']}"
                    for s in shown)
    return 1 if failed else 0


def _set(args, root, pids) -> int:
    """Write, read back, and name the processes that changed along (since 4.8 the kernel
    sets every process that shares the memory through clone(CLONE_VM) without CLONE_THREAD
    or CLONE_VFORK; a vfork child keeps its own value)."""
    from ..errors import OomutilError
    from ..process import Process
    from ..rank import oom_score_adj_by_pid

    done, failed = [], False
    values = oom_score_adj_by_pid(root)
    for pid in pids:
        try:
            p = Process(pid, root)
            with p.oneshot():
                name, adj, score = p.name(), p.oom_score_adj(), p.oom_score()
            p.set_oom_score_adj(args.adjust)
            with p.oneshot():  # read back: what the kernel holds now
                new_adj, new_score = p.oom_score_adj(), p.oom_score()
        except OomutilError as err:
            fail(f"oom_score_adj {args.adjust}: {err}")
            failed = True
            continue
        now = oom_score_adj_by_pid(root)
        along = [{"pid": q, "comm": _name(q, root)} for q in sorted(now)
                 if q != pid and q in values and values[q] != now[q] == new_adj]
        values = now
        done.append({"pid": pid, "comm": name, "oom_score_adj_before": adj, "oom_score_adj_after": new_adj,
                     "oom_score_before": score, "oom_score_after": new_score, "changed_along": along})
        if args.choom:  # util-linux choom.c: one line, no more
            print_lines([f"pid {pid}'s OOM score adjust value changed from {adj} to {new_adj}"])
        elif not args.json:
            print_lines([f"pid {pid} ({name}): oom_score_adj {adj} -> {new_adj}, oom_score {score} -> {new_score}"]
                        + [f"  pid {q['pid']} ({q['comm']}) changed with it: it shares its memory "
                           "(clone(CLONE_VM) without CLONE_THREAD or CLONE_VFORK)"
                           for q in along])
    if args.json:
        print_json(done)
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
        from ..rank import top
        from ._args import unknown_filter

        bad = unknown_filter(args, root)
        if bad:
            fail(bad)
            return []
        rows = top(root, sort="pid", users=args.user, name=args.name, cgroup_prefix=args.cgroup)
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
    """The system-wide ranking (and each chosen process's cgroup's) before and after, with
    the writes the kernel would refuse left out of the "after"."""
    from ..cgroups import process_cgroup
    from ..errors import OomutilError
    from ..process import Process
    from ..rank import snapshot
    from ..victim import predict
    from ..workloads import EMPTY

    never = {r.pid: r.unkillable_reason for r in snapshot(root) if r.pid in pids and r.unkillable_reason
             in ("global init", "kernel thread")}
    refused, gone = {}, []
    for pid in pids:
        try:
            why = Process(pid, root).write_refusal(args.adjust)
        except OomutilError as err:
            fail(str(err))
            gone.append(pid)
            continue
        if why is not None:
            refused[pid] = why
    wanted = {pid: args.adjust for pid in pids if pid not in refused and pid not in gone}
    scopes = ["/"]
    for pid in wanted:
        try:
            g = process_cgroup(pid, root)
        except OomutilError:
            continue
        if g is not None and g.oom_scope and g.oom_scope not in scopes:
            scopes.append(g.oom_scope)
    report = []
    for scope in scopes:
        cgroup = None if scope == "/" else scope
        before = predict(root, cgroup=cgroup, names=EMPTY)
        after = predict(root, cgroup=cgroup, set_adj=wanted, names=EMPTY)
        rank_before = {c.pid: i + 1 for i, c in enumerate(before.candidates)}
        rank_after = {c.pid: i + 1 for i, c in enumerate(after.candidates)}
        report.append({"scope": scope, "victim_before": _who(before.victim), "victim_after": _who(after.victim),
                       "candidates": len(after.candidates),
                       "ranks": [{"pid": pid, "rank_before": rank_before.get(pid), "rank_after": rank_after.get(pid)}
                                 for pid in pids if pid in rank_before or pid in rank_after]})
    if args.json:
        print_json({"oom_score_adj": args.adjust, "scopes": report,
                    "refused": [{"pid": pid, "why": why} for pid, why in refused.items()],
                    "never_killed": [{"pid": pid, "why": why} for pid, why in never.items()]})
        return 1 if refused or gone else 0
    lines = []
    for s in report:
        title = "system-wide OOM" if s["scope"] == "/" else f"OOM of {s['scope']}"
        lines.append(f"{title}: victim now {_text(s['victim_before'])}; with oom_score_adj {args.adjust}: "
                     f"{_text(s['victim_after'])}")
        lines += [f"  pid {r['pid']}: rank {r['rank_before'] or '-'} -> {r['rank_after'] or '-'} of {s['candidates']}"
                  for r in s["ranks"]]
    lines += [f"pid {pid}: never killed: {why} (its oom_score_adj changes nothing)" for pid, why in never.items()]
    lines += [f"pid {pid}: would be refused: {why}" for pid, why in refused.items()]
    lines.append("dry run: nothing was changed")
    print_lines(lines)
    return 1 if refused or gone else 0


def _who(candidate):
    return None if candidate is None else {"pid": candidate.pid, "comm": candidate.comm}


def _text(who) -> str:
    return "none" if who is None else f"pid {who['pid']} ({who['comm']})"
