"""oomutil system: the machine's OOM posture in plain words, and checks a monitor can run.

``--check`` follows the monitoring-plugin conventions (Nagios, Icinga, Sensu, Zabbix
agents): one status line with performance data on stdout, the findings on the lines
after it, exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (a usage error or an unreadable
root included: cli.main() turns those into UNKNOWN, so a monitor never reads a usage
error's 2 as CRITICAL).
"""

from __future__ import annotations

import argparse

from . import examples
from ..root import Root
from ._output import human_bytes, format_table, print_json, print_lines

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows the start
    from typing import List, Optional, Tuple, Union

    from ..checks import CheckReport
    from ..posture import Posture

PLUGIN_CODES = {"ok": 0, "warning": 1, "critical": 2, "unknown": 3}
PLUGIN_NAME = "OOM"  # the service name that starts the status line
WIDTH = 100  # the findings are wrapped to this many columns


def register(sub, parents, help_text: str) -> None:
    p = sub.add_parser(
        "system", parents=parents, help=help_text,
        epilog=examples('oomutil system                         settings, memory, killers, checks',
                        'oomutil system --check                 a monitoring plugin: exit 0/1/2/3, perfdata',
                        'oomutil system --check --ignore OOM003 leave out a check this machine does not need',
                        'oomutil --root /host system --json     a host mounted at /host'),
        description="The machine's OOM posture: kernel, memory, swap, commit, pressure, the vm "
        "sysctls that decide what an OOM does, the cgroup layout, userspace OOM killers, "
        "processes that can never be killed, and the checks OOM001... (docs/checks.md).",
    )
    p.add_argument("--check", action="store_true",
                   help="print one monitoring-plugin status line with perfdata and the findings; "
                   "exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN")
    p.add_argument("--ignore", metavar="CODE", action="append", type=_codes, default=[],
                   help="leave out a check (OOM003, or OOM003,OOM010); repeatable")


def _codes(text: str) -> List[str]:
    from ..checks import CHECKS

    codes = [c.strip().upper() for c in text.split(",") if c.strip()]
    known = {c.code for c in CHECKS}
    unknown = [c for c in codes if c not in known]
    if unknown or not codes:
        raise argparse.ArgumentTypeError(
            f"no such check: {', '.join(unknown) or repr(text)} (there are {CHECKS[0].code} to {CHECKS[-1].code})")
    return codes


def run(args) -> int:
    from ..checks import run_checks
    from ..posture import posture

    p = posture(Root(args.root))
    report = run_checks(p, [code for codes in args.ignore for code in codes])
    code = PLUGIN_CODES[report.status] if args.check else 0
    if args.check and not args.json:
        blind = _blind(p)
        if blind:
            print_lines([f"{PLUGIN_NAME} UNKNOWN - {blind}"])
            return PLUGIN_CODES["unknown"]
    if args.json:
        print_json({**p._asdict(), "checks": report})
    elif args.check:
        print_lines(plugin_output(p, report))
    else:
        print_lines(report_lines(p, report))
    return code


# -- the monitoring-plugin output ----------------------------------------------------------


def _blind(p: Posture) -> Optional[str]:
    """Why there is no status to give (a root without the basics), or None."""
    if p.meminfo is None:
        return "cannot read /proc/meminfo under this root: no status to give"
    if all(value is None for value in p.vm):
        return "cannot read /proc/sys/vm under this root: no status to give"
    return None


def plugin_output(p: Posture, report: CheckReport) -> List[str]:
    """``OOM WARNING - OOM003 ... | perfdata`` and one line per finding."""
    from ..checks import CHECKS

    serious = [f for f in report.findings if f.severity != "info"]
    if serious:
        text = "; ".join(f"{f.code} {f.detail}" for f in serious)
    else:
        text = f"no problems found by {len(CHECKS) - len(report.ignored) - len(report.not_evaluated)} checks"
    status = f"{PLUGIN_NAME} {report.status.upper()} - {_no_pipe(text)} | {' '.join(perfdata(p, report))}"
    return [status] + [_no_pipe(f"{f.code} {f.severity.upper()}: {f.detail}. {f.advice}") for f in report.findings]


def _no_pipe(text: str) -> str:
    """A "|" starts perfdata in a plugin's output, on any line: one in a process name or a
    cgroup path is shown as \\x7c, as a control character is."""
    return text.replace("|", "\\x7c")


def perfdata(p: Posture, report: CheckReport) -> List[str]:
    """'label'=value[UOM];warn;crit;min;max (the monitoring-plugin guidelines); a value this
    root cannot give is left out."""
    from ..checks import COMMIT_CRITICAL_PERCENT, COMMIT_WARNING_PERCENT, PSI_FULL_CRITICAL, PSI_FULL_WARNING

    out = []
    m = p.meminfo
    if m is not None and m.mem_available_bytes is not None:
        out.append(f"mem_available={m.mem_available_bytes}B;;;0;{m.mem_total_bytes or ''}")
    if m is not None and m.swap_free_bytes is not None:
        out.append(f"swap_free={m.swap_free_bytes}B;;;0;{m.swap_total_bytes or 0}")
    if m is not None and m.committed_as_bytes is not None and m.commit_limit_bytes:
        limit, warn, crit, most = m.commit_limit_bytes, "", "", ""
        if p.vm.overcommit_memory == 2:  # only then is CommitLimit a limit (Committed_AS may exceed it)
            warn, crit = str(limit * COMMIT_WARNING_PERCENT // 100), str(limit * COMMIT_CRITICAL_PERCENT // 100)
            most = str(limit)
        out.append(f"committed_as={m.committed_as_bytes}B;{warn};{crit};0;{most}")
    if p.pressure is not None and p.pressure.full_avg10 is not None:
        out.append(f"psi_full_avg10={p.pressure.full_avg10:.2f}%;{PSI_FULL_WARNING:g};{PSI_FULL_CRITICAL:g};0;100")
    if p.oom_kill_count is not None:
        out.append(f"oom_kills={p.oom_kill_count}c")
    if p.view.complete:
        held = sum((u.rss_bytes or 0) + (u.swap_bytes or 0) for u in p.unkillable)
        out.append(f"unkillable={held}B;;;0")
    if "OOM006" not in report.ignored and "OOM006" not in report.not_evaluated:
        near = next((len(f.subjects) for f in report.findings if f.code == "OOM006"), 0)
        out.append(f"cgroups_near_limit={near};0;;0")  # warn: more than 0 (the range "0")
    return out


# -- the report ------------------------------------------------------------------------------


def report_lines(p: Posture, report: CheckReport) -> List[str]:
    from ._prose import meaning

    facts: List[Tuple[str, Union[str, List[str]]]] = [
        ("kernel", _kernel(p)),
        ("memory", _memory(p)),
        ("commit", _commit(p)),
        ("pressure", _pressure(p)),
        ("OOM kills", f"- ({_absent(p, (4, 13), 'no oom_kill in /proc/vmstat')})"
         if p.oom_kill_count is None else f"{p.oom_kill_count} since boot"),
        ("cgroups", _cgroups(p)),
        ("killers", _killers(p)),
        ("unkillable", _unkillable(p)),
    ]
    width = max(len(label) for label, _ in facts) + 2
    lines = []
    for label, value in facts:  # a list of values: one line each, the label on the first
        for i, text in enumerate(value if isinstance(value, list) else [value]):
            lines += _wrapped(f"{label if i == 0 else '':<{width}}", text)
    vm = [(name, value, meaning(name, value) or _sizes(name, value)) for name, value in p.vm._asdict().items()]
    lines += ["", "vm settings (/proc/sys/vm)"] + format_table(vm, indent="  ")
    lines += ["", _checks_heading(report)]
    for f in report.findings:
        lines += _wrapped(f"  {f.code} {f.severity:<8} ", f.detail) + _wrapped(" " * 18, f.advice)
    return lines


def _wrapped(first: str, text: str) -> List[str]:
    import textwrap

    return textwrap.wrap(text, WIDTH, initial_indent=first, subsequent_indent=" " * len(first),
                         break_on_hyphens=False) or [first.rstrip()]


def _absent(p: Posture, since: Tuple[int, int], what: str, also: str = "") -> str:
    """Why a file is missing: a kernel older than ``since``, or else a tree that did not
    capture it or a file that cannot be read."""
    from ..badness import kernel_version
    from ..errors import InvalidValue

    try:
        older = p.kernel_release is not None and kernel_version(p.kernel_release)[:2] < since
    except InvalidValue:
        older = False
    if older:
        return f"{what}: kernel before {since[0]}.{since[1]}"
    return f"{what}: not captured, or not readable{also}"


def _kernel(p: Posture) -> str:
    if p.kernel_release is None:
        return "- (no /proc/sys/kernel/osrelease)"
    if p.era is None:
        return f"{p.kernel_release}; oom_score cannot be recomputed (before 2.6.36)"
    scale = "0..2000, an idle process reads 666" if p.era == "5.9" else "0..1000"
    return f"{p.kernel_release}; OOM score formula of {p.era}+ ({scale})"


def _memory(p: Posture) -> str:
    m = p.meminfo
    if m is None:
        return "- (no /proc/meminfo)"
    text = f"{human_bytes(m.mem_total_bytes)}"
    if m.mem_available_bytes is not None and m.mem_total_bytes:
        text += f", {human_bytes(m.mem_available_bytes)} available ({100 * m.mem_available_bytes / m.mem_total_bytes:.0f}%)"
    return f"{text}; {_swap(p)}"


def _swap(p: Posture) -> str:
    m = p.meminfo
    total = m.swap_total_bytes if m is not None else None
    if m is None or not total:
        text = "no swap"
    else:
        areas = p.swap_areas or ()
        kinds = ", ".join(f"{a.filename} {human_bytes(a.size_bytes)}" for a in areas[:2]) + (
            f" and {len(areas) - 2} more" if len(areas) > 2 else "")
        text = f"swap {human_bytes(total)}, {human_bytes(m.swap_free_bytes)} free" + (f" ({kinds})" if kinds else "")
    if p.zswap is not None:
        text += f"; zswap {'on (' + (p.zswap.compressor or '?') + ')' if p.zswap.enabled else 'off'}"
        if p.zswap.enabled and (m is None or not total):
            text += " idle: no swap behind it"
        elif p.zswap.enabled and m is not None and m.zswap_bytes is not None:
            text += f" holding {human_bytes(m.zswapped_bytes)} in {human_bytes(m.zswap_bytes)}"
    swapping = {a.filename for a in p.swap_areas or ()}
    used = [z for z in p.zram if z.disksize_bytes]
    if used:
        text += "; " + ", ".join(f"{z.name} {human_bytes(z.disksize_bytes)}"
                                 f"{'' if f'/dev/{z.name}' in swapping else ' (not swap)'}" for z in used)
    return text


def _commit(p: Posture) -> str:
    m, mode = p.meminfo, p.vm.overcommit_memory
    if m is None or m.committed_as_bytes is None or not m.commit_limit_bytes:
        return "-"
    share = 100 * m.committed_as_bytes / m.commit_limit_bytes
    rule = ("enforced (overcommit_memory=2)" if mode == 2 else
            f"not enforced (overcommit_memory={mode})" if mode is not None else "")
    return f"{human_bytes(m.committed_as_bytes)} of CommitLimit {human_bytes(m.commit_limit_bytes)} " \
           f"({share:.1f}%)" + (f", {rule}" if rule else "")


def _pressure(p: Posture) -> str:
    psi = p.pressure
    if psi is None:
        return f"- ({_absent(p, (4, 20), 'no /proc/pressure/memory', ', no CONFIG_PSI, or psi=0')})"
    text = f"some {psi.some_avg10:.2f} {psi.some_avg60:.2f} {psi.some_avg300:.2f}"
    if psi.full_avg10 is not None:
        text += f", full {psi.full_avg10:.2f} {psi.full_avg60:.2f} {psi.full_avg300:.2f}"
    return text + " (% of 10 s, 60 s, 300 s stalled)"


def _cgroups(p: Posture) -> str:
    c = p.cgroups
    layout = {"v2": "v2 (unified)", "v1": "v1 (legacy)", "hybrid": "hybrid (v1 and cgroup2)",
              "none": "no cgroup filesystem"}[c.mode]
    if c.memory_version is None:
        return f"{layout}; no memory controller mounted"
    limits = sum(1 for g in p.limited_cgroups if g.limit_bytes is not None)
    return f"{layout}; memory on v{c.memory_version} at {c.memory_directory}; " \
           f"{limits} with a limit"


def _killers(p: Posture) -> List[str]:
    """One line per killer found (wrapped by the caller)."""
    from ..killers import SWAP_ONLY, UserspaceKiller, acts

    if not p.userspace_killers:
        return ["none (earlyoom, nohang, systemd-oomd, oomd, low-memory-monitor, kubelet)"]
    swap = p.meminfo.swap_total_bytes if p.meminfo is not None else None

    def one(k: UserspaceKiller) -> str:
        state = (f"running (pid {', '.join(map(str, k.pids[:2]))})" if k.running else
                 "installed, not running" + (", enabled" if k.enabled else ""))
        if k.running and not k.kills:
            state += ", set not to kill"
        elif k.running and not acts(k, swap):
            state += f", {SWAP_ONLY.replace('never acts', 'cannot act')}"
        # earlyoom's are options (-m 10,5), the others' keys of a file (SwapUsedLimit=90%)
        settings = ", ".join(key if key.startswith("-") and not value else
                             f"{key}{' ' if key.startswith('-') else '='}{value}" for key, value in k.settings.items())
        return f"{k.name} {state}" + (f": {settings}" if settings else "")

    return [one(k) for k in p.userspace_killers]


def _unkillable(p: Posture) -> str:
    partial = "" if p.view.complete else " (this /proc shows only part of the processes)"
    if not p.unkillable:
        return "no process at oom_score_adj -1000" + (" seen" + partial if partial else "")
    held = sum((u.rss_bytes or 0) + (u.swap_bytes or 0) for u in p.unkillable)
    largest = ", ".join(f"{u.comm} ({u.pid}) {human_bytes((u.rss_bytes or 0) + (u.swap_bytes or 0))}"
                        for u in p.unkillable[:3])
    n = len(p.unkillable)
    return f"{n} process{'es' if n != 1 else ''} at oom_score_adj -1000 hold{'s' if n == 1 else ''} " \
           f"{human_bytes(held)}: {largest}" + (", ..." if n > 3 else "") + partial


def _sizes(name: str, value: Optional[int]) -> str:
    """What the two watermark knobs mean here."""
    if value is None:
        return ""
    if name == "min_free_kbytes":
        # the min watermark: below it only atomic/__GFP_HIGH and PF_MEMALLOC (reclaiming,
        # exiting) allocations may dip (__zone_watermark_ok(), ALLOC_HARDER/ALLOC_OOM)
        return f"{human_bytes(value * 1024)}, the min watermark: only atomic/reclaiming allocations"
    if name == "watermark_scale_factor":
        return f"kswapd wakes {value / 100:.2f}% of memory (at least min/4) above min"
    return ""


def _checks_heading(report: CheckReport) -> str:
    counts: List[Tuple[str, int]] = []
    for severity in ("critical", "warning", "info"):
        n = sum(1 for f in report.findings if f.severity == severity)
        if n:
            counts.append((severity, n))
    found = ", ".join(f"{n} {s}" for s, n in counts) or "no problems"
    extra = []
    if report.ignored:
        extra.append(f"ignored: {', '.join(report.ignored)}")
    if report.not_evaluated:
        extra.append(f"not evaluated here: {', '.join(report.not_evaluated)}")
    return f"checks: {found}" + (f" ({'; '.join(extra)})" if extra else "") + "   (docs/checks.md)"
