"""oomutil events: what the OOM killer killed, from the kernel log; --follow for new kills."""

from __future__ import annotations

import re
import sys
import time

from . import examples, fail, usage_error
from ._args import pid_arg
from ._output import MISSING, add_formats, cgroup_arg, emit, format_table, human_bytes, print_lines, printable, regex_arg

SOURCES = ("kmsg", "journal")


def register(sub, parents, help_text: str) -> None:
    p = sub.add_parser(
        "events", parents=parents, help=help_text,
        epilog=examples('oomutil events --since 1d              kills of the last day', 'oomutil events --file /var/log/kern.log.1 --json', 'oomutil events --follow --ndjson        new kills, one JSON object a line'),
        description="List OOM kills found in the kernel log (/dev/kmsg by default, the journal, or "
        "files of dmesg, dmesg -T, syslog or journal output), kills by earlyoom, nohang and "
        "systemd-oomd as such, and kills the kernel counted that the log does not show.",
    )
    source_args(p)
    p.add_argument("--pid", type=pid_arg, action="append", help="only kills of this pid (repeatable)")
    p.add_argument("--name", type=regex_arg, metavar="REGEX", help="only kills of processes so named")
    p.add_argument("--cgroup", metavar="CGROUP", type=cgroup_arg,
                   help="only kills in this memory cgroup or below it (its path, its directory under "
                   "/sys/fs/cgroup, or its name as `oomutil cgroups` prints it)")
    p.add_argument("--pod", metavar="POD",
                   help="only kills in this Kubernetes pod: its name, or its UID (the first 8 characters will "
                   "do); names come from this node's files, for this boot's log only (docs/kubernetes.md)")
    p.add_argument("--namespace", metavar="NS", help="only kills in pods of this Kubernetes namespace")
    p.add_argument("--lines", action="store_true", help="keep each report's log lines (JSON)")
    add_formats(p)
    p.add_argument("--follow", action="store_true",
                   help="wait for new kills and print each as it is logged, until interrupted: on /dev/kmsg, "
                   "the journal (--source journal), or the one --file, followed as tail -F does (rotation too)")


def window_error(args, command: str):
    """A usage error for an --until before --since (events and why), else None."""
    if args.since is not None and args.until is not None and args.until < args.since:
        return usage_error(command, f"--until ({args.until.isoformat(timespec='seconds')}) is before --since "
                           f"({args.since.isoformat(timespec='seconds')}): no time is in both")
    return None


def source_args(p) -> None:
    """The log to read and the time window: events and why take the same."""
    p.add_argument("--file", action="append", metavar="PATH",
                   help="read this log file instead (.gz too; '-' for standard input; repeatable)")
    p.add_argument("--source", choices=SOURCES,
                   help="kmsg (the default; the journal when kmsg may not be read) or journal")
    p.add_argument("--since", metavar="WHEN", type=_moment,
                   help="only kills from then on: a duration back from now (90s, 10m, 2h, 1d) or a time "
                   "(2026-11-28 14:00, ISO-8601)")
    p.add_argument("--until", metavar="WHEN", type=_moment, help="only kills until then (as --since)")
    p.add_argument("--utc", action="store_true",
                   help="times in UTC (default: local time; kernel-log times are converted from seconds "
                   "since boot as dmesg -T does, early by any time spent suspended)")


def _moment(text: str):
    """--since/--until: a duration back from now, or a clock time; an aware datetime."""
    import argparse
    import datetime

    from ..events.clock import wall_time

    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([smhd]?)", text.strip())
    if m:
        seconds = float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
        try:  # datetime counts from year 1: a duration back past it is no time at all
            return datetime.datetime.now().astimezone() - datetime.timedelta(seconds=seconds)
        except (OverflowError, ValueError):
            raise argparse.ArgumentTypeError(f"invalid time: {text!r} reaches back before the year 1") from None
    when = wall_time(text)
    if when is None:
        raise argparse.ArgumentTypeError(f"invalid time: {text!r} (a duration such as 90s, 10m, 2h, 1d, or a time "
                                         "such as 2026-11-28 14:00)")
    return when


def needs_proc(args) -> bool:
    """A log file (or standard input) is all that --file reads: a --root without proc/ will do."""
    return not args.file


def run(args) -> int:
    from ..root import Root

    root = Root(args.root)
    error = window_error(args, "events") or _names_error(args)
    if error is not None:
        return error
    args.workload = None
    if args.cgroup is not None:
        from ..cgroups import resolve_cgroup
        from ..errors import NotAvailable
        from ..workloads import EMPTY

        typed = args.cgroup
        # a pod's or container's names, as the commands print them: its kills by those names
        # too (a kill before a restart was in a cgroup that is gone); none for a --file,
        # which is not named from this node's files
        if not args.file and re.fullmatch(r"[a-z0-9.-]+/[a-z0-9.-]+(?:/[A-Za-z0-9_.-]+)?", typed):
            args.workload = typed
        try:
            args.cgroup = resolve_cgroup(typed, root, names=EMPTY if args.file else None)
        except NotAvailable:
            if args.workload is None:
                raise
            args.cgroup = None  # no cgroup is so named now: the kills' names may be
    if args.follow:
        return _follow(args, root)
    from ..events.select import mentions_cgroup, of_workload

    events, gaps = history(args, root)
    events = _on_the_clock(args, root, events)
    said = False  # the cgroup's absence from the log, said already
    if args.cgroup is not None and not mentions_cgroup(events, args.cgroup) \
            and not (args.workload and any(of_workload(e, args.workload) for e in events)):
        _cgroup_exists(args.cgroup, root, events)
        said = True
    undated: list = []
    found = len(events)
    events = _selection(args).select(events, undated)
    if found and not events and not said:
        # said, as top says "no process matches": an empty table is no answer.  Exit 0
        # all the same: no kill in a window is the news a script asks for, not a failure
        fail(f"no OOM kill matches {_asked(args)} (of {found} in the log)")
    if undated:
        fail(f"--since/--until could not apply to {len(undated)} kill(s): their times count seconds since a "
             "boot this machine cannot date (a log of another boot); they are shown")
    if args.since is not None or args.until is not None or args.pid or args.name or args.cgroup or args.pod \
            or args.namespace or args.workload:
        gaps = []  # the counters count every kill: against a selection they say nothing
    # --json: {"events": [...], "gaps": [...]}; --ndjson: a gap is a line {"gap": {...}};
    # table and --csv: the rows on stdout, the gaps said on stderr (they are no rows)
    emit(args, events, lambda: _table(events) if events else [],
         document={"events": events, "gaps": gaps}, extra=[{"gap": g} for g in gaps])
    if not (args.json or args.ndjson):
        for g in gaps:
            print(printable(_gap_line(g)), file=sys.stderr)  # a cgroup's path is any bytes
    return 0


def _names_error(args):
    """A usage error for --namespace, or --pod by name, on a --file: a log of another boot
    or machine is not named from this node's files (docs/kubernetes.md), so nothing in it
    could match; else None."""
    if not args.file:
        return None
    if args.namespace is not None:
        return usage_error("events", "--namespace needs names, which kills of a --file do not get (only this boot's "
                           "log is named, from this node's files): give --pod with the pod's UID, or --cgroup")
    if args.pod is not None and not re.fullmatch(r"[0-9a-fA-F_-]{8,36}", args.pod):
        return usage_error("events", f"--pod {args.pod}: kills of a --file are not named from this node's files; "
                           "give the pod's UID (its first 8 characters will do), as its cgroup path shows it")
    return None


def _asked(args) -> str:
    """The filters given, as typed."""
    return " ".join(a for a in (
        f"--pid {','.join(map(str, args.pid))}" if args.pid else "",
        f"--name {args.name.__self__.pattern!r}" if args.name else "",
        f"--cgroup {args.cgroup or args.workload}" if args.cgroup is not None or args.workload else "",
        f"--pod {args.pod}" if args.pod else "",
        f"--namespace {args.namespace}" if args.namespace else "",
        f"--since {args.since.isoformat(timespec='seconds')}" if args.since is not None else "",
        f"--until {args.until.isoformat(timespec='seconds')}" if args.until is not None else "") if a)


def _cgroup_exists(cgroup: str, root, events) -> None:
    """--cgroup names a cgroup that no kill of the log is in: fine if it exists (it had no
    kill), a mistyped name if it does not.  A cgroup that was removed since its kills (a
    pod's) is in the kills, so its kills are still listed: only a cgroup that neither
    exists now nor is in any kill is refused."""
    from ..cgroups import memory_cgroup
    from ..errors import NotAvailable, OomutilError
    from ..workloads import EMPTY

    try:
        memory_cgroup(cgroup, root, names=EMPTY)
    except NotAvailable as err:
        now = f"nor is there {err.path}" if err.msg.startswith("no memory cgroup /") else f"and {err}"
        raise NotAvailable(f"no memory cgroup {cgroup}: no kill in the log is in it, {now}") from None
    except OomutilError:
        pass  # there, if unreadable: it had no kill
    fail(f"no OOM kills in memory cgroup {cgroup} (it exists)")


def _gap_line(g) -> str:
    return (f"! {g.missing} kill(s) counted by {g.counter} ({g.counted}) are not in the log "
            f"({g.logged} found): {g.why}")


def history(args, root, keep_texts: bool = False):
    """The kills of the log the options name (and, from kmsg, the kills the counters saw
    that the log lacks); ``keep_texts``: each report's texts too, and an UnkilledReport for
    each report without a kill, in log order (why).  Each kill names its pod and container
    from the node's files where the log is this boot's (kmsg, the journal), from its path
    alone where it is a --file (workloads.name_kills())."""
    from ..workloads import name_kills

    events, gaps = _history(args, root, keep_texts)
    return name_kills(events, log_names(args, root)), gaps


def log_names(args, root):
    """The names a kill of the log gets: this node's (read_names()) for this boot's log,
    none (workloads.EMPTY) for a --file."""
    from ..workloads import EMPTY, read_names

    return EMPTY if args.file else read_names(root)


def _history(args, root, keep_texts: bool = False):
    from ..events.parse import OomKillEvent, parse_lines, parse_text
    from ..events.reconcile import reconcile
    from ..errors import AccessDenied, NotAvailable
    from ..events.sources import KmsgReader, journal_json_lines, journal_lines, read_file
    from . import fail

    def parse(lines, source, doubtful, cut):  # lines, or a whole text (the fast path)
        kept = dict(keep_lines=getattr(args, "lines", False), doubtful=doubtful, cut=cut, keep_texts=keep_texts,
                    keep_unkilled=keep_texts)
        return parse_text(lines, source, **kept) if isinstance(lines, str) else list(parse_lines(lines, source, **kept))

    events = []
    if args.file:
        for path in args.file:
            text = read_file(path)
            source = "stdin" if path == "-" else path
            doubtful: list = []
            cut: list = []
            if text.lstrip().startswith("{"):
                found = parse(journal_json_lines(text.split("\n")), source, doubtful, cut)
            else:
                found = parse(text, source, doubtful, cut)
            _say_what_was_not_found(source, found, doubtful, cut)
            events += found
        return events, []  # a file is not this machine's log: nothing to reconcile
    if args.source is None:
        try:
            reader = KmsgReader(root)
        except AccessDenied as err:  # dmesg_restrict without CAP_SYSLOG: the journal may do
            if not root.is_live:
                raise
            fail(f"{err}; reading the journal instead")
            args.source = "journal"
    doubtful, cut = [], []
    if args.source == "journal":
        _journal_of_this_machine(root)
        since = None if args.since is None else max(0.0, time.time() - args.since.timestamp())
        events = parse(journal_lines(since), "journal", doubtful, cut)
        _say_what_was_not_found("the journal", events, doubtful, cut)
        return events, []
    if args.source == "kmsg":
        reader = KmsgReader(root)
    try:
        events = parse(reader.records(), "kmsg", doubtful, cut)
    finally:
        reader.close()
    _say_what_was_not_found("the kernel log (/dev/kmsg)", events, doubtful, cut)
    starts_at_boot = None if reader.first_seq is None else reader.first_seq == 0
    kills = [e for e in events if isinstance(e, OomKillEvent)]  # not why's UnkilledReports
    return events, reconcile(root, kills, starts_at_boot, reader.lost)


def _journal_of_this_machine(root) -> None:
    """journalctl reads this machine's journal whatever --root says: never pass it off as
    the other root's log."""
    from ..errors import NotAvailable

    if not root.is_live:
        raise NotAvailable(f"the journal is read from this machine, not from {root.path}; give the other "
                           f"system's log with --file (e.g. {root.path}/var/log/kern.log, or - for stdin)")


def _say_what_was_not_found(source: str, events, doubtful, cut=()) -> None:
    """On stderr, one line: reports that ended without their kill line (their header was
    read fine, the log was cut), and lines that look like OOM-killer output but could not
    be read (so nothing is lost without a word); then an input with no kill at all."""
    from . import fail

    notes = []
    if cut:
        n = len(cut)
        notes.append(f"{n} report{'s' if n > 1 else ''} of {source} without {'their' if n > 1 else 'its'} kill line "
                     f"(the log ends or the next report starts first); the first begins: {cut[0].strip()[:300]}")
    if doubtful:
        n = len(doubtful)
        notes.append(f"{n} line{'s' if n > 1 else ''} of {source} look{'' if n > 1 else 's'} like OOM-killer "
                     f"output but could not be parsed; the first: {doubtful[0].strip()[:300]}")
    if notes:
        fail("; ".join(notes))
    if not events:
        fail(f"no OOM kills found in {source}")


def _selection(args):
    """The kills the options ask for (events.select: shared with why and the library)."""
    from ..events.select import Selection

    return Selection(pids=args.pid, name=args.name, cgroup=args.cgroup, since=getattr(args, "since", None),
                     until=getattr(args, "until", None), pod=getattr(args, "pod", None),
                     namespace=getattr(args, "namespace", None), workload=getattr(args, "workload", None))


def _on_the_clock(args, root, events):
    """Kills on one clock: those of this boot's log (kmsg, the journal) dated from the boot
    time and shown in local time; a file's as it gives them (a log of another boot, maybe
    of another machine); in UTC with --utc wherever the zone is known."""
    from ..events.select import dated

    return dated(events, None if args.file else root, args.utc)


_CONSTRAINTS = {"CONSTRAINT_NONE": "global", "CONSTRAINT_MEMCG": "memcg", "CONSTRAINT_CPUSET": "cpuset",
                "CONSTRAINT_MEMORY_POLICY": "mempolicy"}


def _kind(e) -> str:
    """The KIND column: the OOM's constraint, "manual (sysrq)" for order=-1 (sysrq f: no
    allocation failed), "by <killer>" for a user-space killer; ", inferred" where the kill
    is known from the oom-kill: summary only (no Killed process line in the log)."""
    if e.killer != "kernel":
        return f"by {e.killer}"
    kind = "manual (sysrq)" if e.manual else _CONSTRAINTS.get(e.constraint or "", e.constraint)
    return f"{kind or '?'}, inferred" if e.inferred else kind


def _table(events):
    rows = []
    for e in events:
        rss = None if e.anon_rss_bytes is None else e.anon_rss_bytes + (e.file_rss_bytes or 0) + (e.shmem_rss_bytes or 0)
        kind = _kind(e)
        rows.append((_shown_time(e), e.pid, e.comm, e.uid, _cgroup(e), kind,
                     human_bytes(rss) if rss is not None else MISSING, e.trigger_comm))
    return format_table(rows, ("TIME", "PID", "NAME", "UID", "CGROUP", "KIND", "RSS", "TRIGGERED BY"),
                        right=(1, 3, 6))


def _cgroup(e):
    """The CGROUP column: the victim's pod and container by name where they are known
    ("shop/web-7d9f8-abcde/nginx"), else its cgroup's path."""
    from ..workloads import Workload, shown_name

    if not (e.pod or e.container):
        return e.task_memcg
    return shown_name(e.task_memcg or e.group_memcg, Workload(e.pod_uid, e.container_id, e.namespace, e.pod, e.container))


def _shown_time(e):
    """The TIME column: one form for every log, to the second, with the zone said: "UTC",
    an offset ("+01:00"), or "local" where the log gave the logging machine's local time and
    not its zone; seconds since a boot that cannot be dated as such."""
    import datetime

    if e.time:
        try:
            when = datetime.datetime.fromisoformat(e.time)
        except ValueError:
            return e.time
        offset = when.utcoffset()
        zone = "local" if offset is None else "UTC" if not offset else when.isoformat()[-6:]
        return f"{when:%Y-%m-%d %H:%M:%S} {zone}"
    if e.time_seconds is not None:
        return f"{e.time_seconds:.6f} s after boot"
    return e.time_raw


def _follow(args, root) -> int:
    """Block on the log and print each kill when its "Killed process" line arrives: on
    /dev/kmsg, on the journal (--source journal), or on the one --file, as tail -F does."""

    from ..events.parse import Assembler
    from ..events.sources import KmsgReader, follow_file, journal_follow, journal_is_there, journal_json_lines
    from ..workloads import EMPTY, NameCache, name_kills
    from ._output import json_line, print_csv

    if args.file and len(args.file) > 1:
        return usage_error("events", "--follow follows one --file")
    reader = None
    if args.file:
        path = args.file[0]
        source = "stdin" if path == "-" else path
        lines = journal_json_lines(follow_file(path))  # journalctl -o json as it comes, or text
    elif args.source == "journal":
        _journal_of_this_machine(root)
        journal_is_there()  # else journalctl -f waits on nothing, forever
        source, lines = "journal", journal_follow()
    else:
        reader = KmsgReader(root, follow=True)
        source, lines = "kmsg", reader.records()
    asm = Assembler(source, args.lines)
    selection = _selection(args)
    cache = None if args.file else NameCache(root)  # pods come and go while it follows
    shown = 0
    if not (args.ndjson or args.csv):
        print_lines(_table([]))  # the header, before the first kill comes
    if sys.stderr.isatty():
        print(printable(f"waiting for OOM kills{' in ' + source if args.file else ''} (Ctrl-C to stop) ..."),
              file=sys.stderr)
    sys.stdout.flush()
    try:
        for line in lines:
            for event in asm.feed_all(line):
                [event] = name_kills([event], EMPTY if cache is None else cache.names())
                if not selection.wanted(event):
                    continue
                [event] = _on_the_clock(args, root, [event])
                if args.ndjson:
                    sys.stdout.write(json_line(event) + "\n")
                elif args.csv:
                    print_csv([event], header=not shown)
                else:
                    print_lines(_table([event])[1:])
                shown += 1
                sys.stdout.flush()
    except KeyboardInterrupt:
        return 130  # as every command stopped by Ctrl-C (the shell's 128 + SIGINT)
    finally:
        if reader is not None:
            reader.close()
        close = getattr(lines, "close", None)
        if close is not None:
            close()  # a generator's finally: journalctl stopped, the file closed
    return 0
