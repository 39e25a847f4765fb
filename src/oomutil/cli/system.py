"""oomutil system: the machine's OOM settings, what they mean, and the OOM kill count."""

from __future__ import annotations

from . import examples
from ..root import Root
from ._output import human_bytes, format_table, print_json, print_lines


def register(sub, parents, help_text: str) -> None:
    sub.add_parser(
        "system", parents=parents, help=help_text,
        epilog=examples('oomutil system                         settings and counters, explained', 'oomutil --root /host system --json     a host mounted at /host'),
        description="Show the vm sysctls that decide what an OOM does, the memory and commit "
        "figures of /proc/meminfo, and the number of OOM kills since boot.",
    )


def run(args) -> int:
    from ._prose import meaning
    from ..system import system_info

    info = system_info(Root(args.root))
    if args.json:
        print_json(info)
        return 0
    vm = [(name, value, meaning(name, value) or "") for name, value in info.vm._asdict().items()]
    m = info.meminfo
    mem = [] if m is None else [
        ("MemTotal", human_bytes(m.mem_total_bytes), ""),
        ("MemAvailable", human_bytes(m.mem_available_bytes), ""),
        ("SwapTotal", human_bytes(m.swap_total_bytes), ""),
        ("SwapFree", human_bytes(m.swap_free_bytes), ""),
        ("CommitLimit", human_bytes(m.commit_limit_bytes), _commit_note(info)),
        ("Committed_AS", human_bytes(m.committed_as_bytes), _percent(m.committed_as_bytes, m.commit_limit_bytes, "of CommitLimit")),
    ]
    lines = format_table([
        ("kernel release", info.kernel_release),
        ("OOM kills since boot", info.oom_kill_count if info.oom_kill_count is not None
         else "- (no oom_kill in /proc/vmstat: kernel before 4.13, or not captured)"),
    ])
    lines += ["", "vm settings (/proc/sys/vm)"] + format_table(vm, indent="  ")
    lines += ["", "memory (/proc/meminfo)"] + (format_table(mem, indent="  ") if mem else ["  -"])
    print_lines(lines)
    return 0


def _commit_note(info) -> str:
    mode = info.vm.overcommit_memory
    if mode == 2:
        return "enforced (overcommit_memory=2)"
    return "not enforced (only with overcommit_memory=2)" if mode is not None else ""


def _percent(part, whole, what: str) -> str:
    if part is None or not whole:
        return ""
    return f"{100 * part / whole:.1f}% {what}"
