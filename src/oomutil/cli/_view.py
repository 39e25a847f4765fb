"""The one sentence that says what a partial /proc hides (top, victim, cgroups)."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows the start
    from typing import List, Optional

    from ..visibility import View


def _mount(v: View) -> str:
    return f"/proc hidepid={v.hidepid}" + (",subset=pid" if v.subset_pid else "")


def partial_view(v: View) -> List[str]:
    """Why the processes this /proc shows may not hold the system-wide victim; empty for
    a complete view."""
    lines = []
    if v.initial_pid_namespace is False:
        lines.append("this /proc shows one pid namespace only (a container's): the kernel chooses among every "
                     "process on the host; mount the host's /proc and point --root at it (e.g. --root /host) "
                     "for the full view")
    why = f" ({_mount(v)})" if v.hidepid else ""
    hidden = v.processes_hidden
    if hidden is None and v.hidepid == "noaccess" and v.initial_pid_namespace is not False:
        hidden = 0  # it lists every process (the unreadable ones are said below)
    if hidden:
        lines.append(f"{hidden:,} process{'es' if hidden > 1 else ''} on this kernel {'are' if hidden > 1 else 'is'} "
                     f"not listed here{why}, kernel threads aside (counted from cgroup.procs): "
                     "the system-wide victim may be one of them")
    elif hidden is None and v.hides_threads:
        lines.append(f"about {v.threads_hidden:,} of {v.threads_total:,} threads on this kernel (kernel threads "
                     f"included) are not visible here{why}: the system-wide victim may be one of them")
    elif hidden is None and v.threads_hidden is None and v.hidepid and v.initial_pid_namespace is not False:
        if v.loadavg_lxcfs:
            source = "/proc/loadavg is mounted over (LXCFS: a container's threads, not the kernel's)"
        else:
            source = "no /proc/loadavg" + (" (subset=pid)" if v.subset_pid else "")
        lines.append(f"this /proc may hide processes{why} and how many cannot be counted here ({source}; "
                     "no cgroup.procs to count them from): the system-wide victim may be one of them")
    unreadable = v.processes_unreadable
    if unreadable:
        lines.append(f"{unreadable:,} process{'es' if unreadable > 1 else ''} listed here cannot be read{why}")
    return lines


def warn_partial(v: Optional[View]) -> None:
    from . import fail

    for line in partial_view(v) if v is not None else []:
        fail(line)
