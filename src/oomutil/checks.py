"""Checks of a machine's OOM posture, with stable codes (docs/checks.md).

Each check looks at a Posture (posture.py) and finds at most one problem, with a
severity: ``critical`` (an OOM here does damage beyond one process, or is happening),
``warning`` (an OOM here will go worse than it needs to), ``info`` (worth knowing).
A check whose input this kernel or tree lacks is "not evaluated", with the reason.
Codes never change meaning; a new check gets a new code.
"""

from __future__ import annotations

from ._record import Record
from ._units import human_bytes
from .killers import SWAP_ONLY, acts

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows the start
    from typing import Callable, Dict, Iterable, List, Optional, Tuple

    from .posture import Posture

    Result = Optional[Tuple[str, str, Tuple[str, ...]]]  # (severity, detail, subjects)

__all__ = ["Check", "Finding", "CheckReport", "CHECKS", "run_checks", "SEVERITIES"]

SEVERITIES = ("info", "warning", "critical")  # in rising order

# Thresholds (docs/checks.md gives the reasons).
COMMIT_WARNING_PERCENT = 90  # mode 2 refuses before 100 %: admin and user reserves come off
COMMIT_CRITICAL_PERCENT = 98
UNKILLABLE_PERCENT = 10  # of RAM + swap, for one process at adj -1000
NEAR_LIMIT_PERCENT = 95  # working set of a memory cgroup against its own limit
PSI_FULL_WARNING = 10.0  # % of the last 10 s in which every non-idle task waited for memory
PSI_FULL_CRITICAL = 40.0


class Check(Record):
    """One rule: its code, the most severe finding it can make, and the words for it."""

    code: str
    severity: str  # the highest severity it reports
    title: str
    why: str
    advice: str


class Finding(Record):
    code: str
    severity: str
    title: str
    detail: str  # this machine's facts
    subjects: Tuple[str, ...]  # the cgroups or processes (pid:comm) concerned, if any
    why: str
    advice: str


class CheckReport(Record):
    status: str  # "ok", or the severity of the worst finding ("info" counts as ok)
    findings: Tuple[Finding, ...]  # most severe first, then by code
    ignored: Tuple[str, ...]  # the codes left out on request
    not_evaluated: Dict[str, str]  # code -> what this kernel or tree lacks for it


class _Missing(Exception):
    """The input of a check is absent here (an old kernel, a tree without the file)."""


_PARTIAL = "this /proc shows only part of the processes (hidepid, or another pid namespace)"


def _need(value, what: str):
    if value is None:
        raise _Missing(what)
    return value


def _vm(p: Posture, knob: str) -> int:
    return _need(getattr(p.vm, knob), f"no /proc/sys/vm/{knob}")


def _percent(part: int, whole: int) -> float:
    return 100.0 * part / whole if whole else 0.0


# -- the checks, in code order -----------------------------------------------------------

_RULES: List[Tuple[Check, Callable[[Posture], Result]]] = []


def _check(code: str, severity: str, title: str, why: str, advice: str):
    """Register the function below as check ``code``, with its words."""
    def register(rule: Callable[[Posture], Result]) -> Callable[[Posture], Result]:
        _RULES.append((Check(code, severity, title, why, advice), rule))
        return rule
    return register


@_check("OOM001", "critical", "panic_on_oom is set",
        "The kernel panics (and reboots, with kernel.panic set) instead of killing one process: "
        "with 1 on a system-wide OOM, with 2 on any OOM, a container at its limit included.",
        "Set vm.panic_on_oom=0, unless a panic and a failover are the plan for this machine.")
def _panic_on_oom(p: Posture) -> Result:
    value = _vm(p, "panic_on_oom")
    if value == 0:
        return None
    scope = "every OOM, memory cgroup OOMs included" if value == 2 else "a system-wide OOM"
    return ("critical" if value == 2 else "warning"), f"panic_on_oom={value}: {scope} panics the kernel", ()


@_check("OOM002", "critical", "commit charge near CommitLimit under overcommit_memory=2",
        "With overcommit_memory=2 every mmap, brk and fork fails with ENOMEM once Committed_AS "
        "reaches CommitLimit (less the admin and user reserves), long before memory is used up.",
        "Raise vm.overcommit_ratio or vm.overcommit_kbytes, add swap, or find who commits "
        "(Committed_AS counts what is reserved, not what is used).")
def _commit_limit(p: Posture) -> Result:
    mode = _vm(p, "overcommit_memory")
    if mode != 2:
        return None
    m = _need(p.meminfo, "no /proc/meminfo")
    limit = _need(m.commit_limit_bytes, "no CommitLimit in /proc/meminfo")
    used = _need(m.committed_as_bytes, "no Committed_AS in /proc/meminfo")
    share = _percent(used, limit)
    if share < COMMIT_WARNING_PERCENT:
        return None
    return (("critical" if share >= COMMIT_CRITICAL_PERCENT else "warning"),
            f"Committed_AS {human_bytes(used)} is {share:.1f}% of CommitLimit {human_bytes(limit)} "
            "(overcommit_memory=2)", ())


@_check("OOM003", "warning", "no swap and no userspace OOM killer",
        "Without swap or an early killer, a machine out of memory first drops its page cache and "
        "thrashes on executable pages, often unresponsive for minutes, before the kernel kills.",
        "Run earlyoom or nohang (or systemd-oomd, on cgroup v2), with swap or zram, or add swap; "
        "ignore OOM003 where freezing is acceptable.")
def _no_swap_no_killer(p: Posture) -> Result:
    m = _need(p.meminfo, "no /proc/meminfo")
    swap = _need(m.swap_total_bytes, "no SwapTotal in /proc/meminfo")
    acting = [k.name for k in p.userspace_killers if acts(k, swap)]
    if swap or acting:
        return None
    if not p.view.complete:
        raise _Missing(_PARTIAL)
    idle = [f"{k.name} " + ((f"running, {SWAP_ONLY}" if k.kills else "running, set not to kill") if k.running
                            else "installed, not running")
            for k in p.userspace_killers]
    return "warning", "no swap, no userspace OOM killer running" + (f" ({'; '.join(idle)})" if idle else ""), ()


@_check("OOM004", "warning", "large processes the OOM killer can never choose",
        "A process at oom_score_adj -1000 is never killed: when it is what grows, the kernel kills "
        "everything else first, and panics if nothing else is left.",
        "Give it an oom_score_adj above -1000 (oomutil adj -p PID -n -999 keeps it last but "
        "killable), or a memory limit of its own. Written by root (CAP_SYS_RESOURCE), -999 also "
        "becomes its floor: only CAP_SYS_RESOURCE can set it below that again.")
def _big_unkillable(p: Posture) -> Result:
    m = _need(p.meminfo, "no /proc/meminfo")
    total = _need(m.mem_total_bytes, "no MemTotal in /proc/meminfo") + (m.swap_total_bytes or 0)
    big = [u for u in p.unkillable
           if _percent((u.rss_bytes or 0) + (u.swap_bytes or 0), total) >= UNKILLABLE_PERCENT]
    if not big:
        if not p.view.complete:
            raise _Missing(_PARTIAL)
        return None
    held = sum((u.rss_bytes or 0) + (u.swap_bytes or 0) for u in big)
    shown = ", ".join(f"{u.comm} ({u.pid}) {human_bytes((u.rss_bytes or 0) + (u.swap_bytes or 0))}" for u in big[:3])
    more = f" and {len(big) - 3} more" if len(big) > 3 else ""
    return ("warning", f"{len(big)} at oom_score_adj -1000 hold {human_bytes(held)}, "
            f"{_percent(held, total):.0f}% of RAM + swap: {shown}{more}",
            tuple(f"{u.pid}:{u.comm}" for u in big))


@_check("OOM005", "critical", "v1 memory cgroups with the OOM killer disabled",
        "With memory.oom_control oom_kill_disable 1, tasks that reach the cgroup's limit sleep "
        "until memory is freed instead of one being killed; nothing wakes them unless a "
        "userspace handler acts (critical while one is under OOM).",
        "Write 0 to memory.oom_control, or make sure a handler listens to its OOM notifications.")
def _oom_kill_disabled(p: Posture) -> Result:
    if p.cgroups.memory_version is None:
        raise _Missing("no memory cgroup hierarchy")
    off = [g for g in p.limited_cgroups if g.oom_kill_disable]
    if not off:
        return None
    hanging = [g for g in off if g.under_oom]
    detail = f"{len(off)} v1 memory cgroup(s) with oom_kill_disable 1: {', '.join(g.path for g in off[:3])}"
    if hanging:
        detail += f"; under OOM now: {', '.join(g.path for g in hanging[:3])}"
    return ("critical" if hanging else "warning"), detail, tuple(g.path for g in off)


@_check("OOM006", "warning", "memory cgroups near their limit",
        "A cgroup whose working set (usage less inactive page cache, which reclaim frees first) "
        "is within 5% of its own limit gets its next OOM kill from a small allocation.",
        "Raise the limit, or find what grows in it: oomutil cgroups, oomutil victim --cgroup PATH.")
def _near_limit(p: Posture) -> Result:
    if p.cgroups.memory_version is None:
        raise _Missing("no memory cgroup hierarchy")
    near = []
    for g in p.limited_cgroups:
        if g.limit_bytes and g.working_set_bytes is not None:
            share = _percent(g.working_set_bytes, g.limit_bytes)
            if share >= NEAR_LIMIT_PERCENT:
                near.append((share, g))
    if not near:
        return None
    near.sort(key=lambda item: (-item[0], item[1].path))
    shown = ", ".join(f"{g.path} {human_bytes(g.working_set_bytes)} of {human_bytes(g.limit_bytes)} "
                      f"({share:.0f}%)" for share, g in near[:3])
    more = f" and {len(near) - 3} more" if len(near) > 3 else ""
    return "warning", f"{len(near)} within {100 - NEAR_LIMIT_PERCENT}% of their limit: {shown}{more}", \
        tuple(g.path for _, g in near)


@_check("OOM007", "critical", "memory pressure: tasks stalled on memory",
        "PSI full avg10 is the share of the last 10 s in which all non-idle tasks waited for "
        "memory: the machine is thrashing now (warning from 10%, critical from 40%; "
        "systemd-oomd acts at 60% by default).",
        "Find what grows (oomutil top, oomutil cgroups) and free memory, or let a userspace "
        "killer act on pressure.")
def _memory_pressure(p: Posture) -> Result:
    psi = _need(p.pressure, "no /proc/pressure/memory (kernel before 4.20, no CONFIG_PSI, or psi=0)")
    full = _need(psi.full_avg10, "no 'full' line in /proc/pressure/memory")
    if full < PSI_FULL_WARNING:
        return None
    return (("critical" if full >= PSI_FULL_CRITICAL else "warning"),
            f"memory PSI full avg10 {full:.2f}% (avg60 {psi.full_avg60:.2f}%)", ())


@_check("OOM008", "warning", "oom_kill_allocating_task is set",
        "On a system-wide OOM the kernel kills whichever task asked for the page that failed, "
        "often a small bystander, and leaves the process that used the memory.",
        "Set vm.oom_kill_allocating_task=0 (it saves only the scan of the task list).")
def _kill_allocating_task(p: Posture) -> Result:
    value = _vm(p, "oom_kill_allocating_task")
    if not value:
        return None
    return "warning", f"oom_kill_allocating_task={value}", ()


@_check("OOM009", "info", "overcommit_memory=1 with no memory limits",
        "Mode 1 grants every request; mode 0, the default, refuses only a single request larger "
        "than RAM + swap, so the two run out of memory alike (only mode 2 refuses early, at "
        "CommitLimit). What matters more: without a memory cgroup limit every OOM is "
        "system-wide and may take any process on the machine.",
        "Put workloads in memory cgroups with limits (systemd MemoryMax=, container limits); "
        "switching to overcommit_memory=0 changes little.")
def _always_overcommit_unlimited(p: Posture) -> Result:
    mode = _vm(p, "overcommit_memory")
    if mode != 1 or any(g.limit_bytes is not None for g in p.limited_cgroups if g.path != "/"):
        return None
    where = "no memory cgroup has a limit" if p.cgroups.memory_version else "no memory cgroup controller"
    return "info", f"overcommit_memory=1 and {where}", ()


@_check("OOM010", "info", "the kernel logs no task table on OOM kills",
        "With oom_dump_tasks=0 a kill report has no task table (every process with memory in "
        "the OOM's scope, those at oom_score_adj -1000 too; not kernel threads or init), so "
        "neither you nor oomutil events can see afterwards who else was there and how large.",
        "Set vm.oom_dump_tasks=1 (the default), unless there are so many tasks that the table "
        "itself is a problem.")
def _no_task_dump(p: Posture) -> Result:
    value = _vm(p, "oom_dump_tasks")
    if value:
        return None
    return "info", "oom_dump_tasks=0", ()


CHECKS: Tuple[Check, ...] = tuple(check for check, _ in _RULES)
_RANK = {s: i for i, s in enumerate(SEVERITIES)}


def run_checks(p: Posture, ignore: Iterable[str] = ()) -> CheckReport:
    """Every check on ``p`` but those in ``ignore`` (codes; an unknown one is a ValueError)."""
    skip = {code.upper() for code in ignore}
    unknown = skip - {c.code for c in CHECKS}
    if unknown:
        raise ValueError(f"no such check: {', '.join(sorted(unknown))} (there are "
                         f"{CHECKS[0].code} to {CHECKS[-1].code})")
    findings: List[Finding] = []
    missing: Dict[str, str] = {}
    for check, rule in _RULES:
        if check.code in skip:
            continue
        try:
            result = rule(p)
        except _Missing as why:
            missing[check.code] = str(why)
            continue
        if result is not None:
            severity, detail, subjects = result
            findings.append(Finding(check.code, severity, check.title, detail, subjects, check.why, check.advice))
    findings.sort(key=lambda f: (-_RANK[f.severity], f.code))
    worst = findings[0].severity if findings else "ok"
    return CheckReport("ok" if worst == "info" else worst, tuple(findings), tuple(sorted(skip)), missing)
