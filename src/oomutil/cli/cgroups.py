"""oomutil cgroups: memory cgroups, how close each is to its limit, and who would die."""

from __future__ import annotations

from . import examples
from .._record import Record

from ._output import MISSING, add_formats, emit, format_table, human_bytes

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows the start
    from typing import Optional

    from ..cgroups import MemoryCgroup
    from ..victim import Candidate

SORT_CHOICES = ("path", "usage", "limit", "headroom", "kills")


def register(sub, parents, help_text: str) -> None:
    p = sub.add_parser(
        "cgroups", parents=parents, help=help_text,
        epilog=examples('oomutil cgroups                        limited cgroups, least headroom first', 'oomutil cgroups --tree --all', 'oomutil cgroups --csv > cgroups.csv'),
        description="One row per memory cgroup that has a limit (its own or an ancestor's) or "
        "processes: usage, the limit that bites, the room left, OOM counters, and the process "
        "an OOM of that limit would kill.",
    )
    p.add_argument("--tree", action="store_true", help="indent by depth, in path order")
    p.add_argument("--sort", choices=SORT_CHOICES, default="headroom",
                   help="order of the rows (default: headroom, the least free share of its limit first)")
    p.add_argument("--all", action="store_true", help="every cgroup, even without limit or processes")
    add_formats(p)


class CgroupRow(Record):
    """One row of ``oomutil cgroups``: the cgroup and its most likely victim."""

    cgroup: MemoryCgroup
    scope: Optional[str]  # the cgroup whose OOM a charge here would cause
    totalpages: Optional[int]  # that cgroup's limit (+ allowed swap) in pages
    victim: Optional[Candidate]  # the process that OOM would kill now
    oom_kill_disabled: bool  # v1 oom_kill_disable on that cgroup: no kill, tasks wait
    hidden_processes: Optional[int]  # its processes that cannot be read here: victim unknown


def run(args) -> int:
    from ..cgroups import memory_cgroups
    from ..victim import DomainIndex, Machine
    from ..rank import snapshot
    from ..root import Root

    root = Root(args.root)
    groups = memory_cgroups(root)
    records = snapshot(root, kernel_threads=False)
    shown = [g for g in groups if args.all or g.effective_limit_bytes is not None or g.pids]
    rows = []
    machine = Machine(root)  # one read of the kernel's facts for every row
    index = DomainIndex(groups, records)
    for g in shown:
        report = index.report(root, g, machine) if g.oom_scope else None
        rows.append(CgroupRow(g, report.scope if report else None, report.totalpages if report else None,
                              report.victim if report else None, bool(report and report.oom_kill_disabled),
                              report.hidden_processes if report else None))
    rows.sort(key=_sort_key("path" if args.tree else args.sort))
    emit(args, rows, lambda: _table(args, rows))
    return 0


def _table(args, rows):
    header = ("CGROUP", "USAGE", "LIMIT", "HEADROOM", "OOM", "KILLS", "GROUP", "PROCS", "VICTIM", "PATH")
    table = []
    for row in rows:
        g = row.cgroup
        depth = g.path.strip("/").count("/") + (g.path != "/")
        name = ("  " * depth if args.tree else "") + g.name
        table.append((
            name, human_bytes(g.usage_bytes),
            human_bytes(g.effective_limit_bytes) if g.effective_limit_bytes is not None else "none",
            _headroom(g), g.oom_count, g.oom_kill_count, _yes_no(g.oom_group),
            len(g.pids) if g.pids is not None else None,
            _victim(row),
            g.path,
        ))
    return format_table(table, header, right=(1, 2, 3, 4, 5, 7))


def _victim(row) -> str:
    if row.victim is not None:
        return f"{row.victim.pid} ({row.victim.comm})"
    if row.oom_kill_disabled:
        return "none (oom_kill_disable)"
    if row.hidden_processes:
        return f"? ({row.hidden_processes} hidden)"
    return MISSING


def _headroom(g) -> str:
    room = _room(g)
    return MISSING if room is None else f"{human_bytes(g.headroom_bytes)} {100 * room:.0f}%"


def _room(g):
    """The share of its limit still free: what "closest to its limit" means."""
    if g.headroom_bytes is None or not g.effective_limit_bytes:
        return None
    return g.headroom_bytes / g.effective_limit_bytes


def _yes_no(value) -> str:
    return MISSING if value is None else ("yes" if value else "no")


def _sort_key(by: str):
    """Rows with the least room (or most use, largest limit, most kills) first; unknowns last."""

    def missing_last(value, descending=True):
        return (value is None, -(value or 0) if descending else (value or 0))

    return {
        "path": lambda row: row.cgroup.path,
        "usage": lambda row: missing_last(row.cgroup.usage_bytes),
        "limit": lambda row: missing_last(row.cgroup.effective_limit_bytes),
        "headroom": lambda row: (missing_last(_room(row.cgroup), descending=False), row.cgroup.path),
        "kills": lambda row: missing_last(row.cgroup.oom_kill_count),
    }[by]
