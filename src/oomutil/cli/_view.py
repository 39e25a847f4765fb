"""The one sentence that says what a partial /proc hides (top, victim, cgroups)."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows the start
    from typing import List, Optional

    from ..visibility import View


def partial_view(v: View) -> List[str]:
    """Why the processes this /proc shows may not hold the system-wide victim; empty for
    a complete view."""
    lines = []
    if v.initial_pid_namespace is False:
        lines.append("this /proc shows one pid namespace only (a container's): the kernel chooses among every "
                     "process on the host; mount the host's /proc and point --root at it (e.g. --root /host) "
                     "for the full view")
    hidden = v.threads_hidden
    if hidden and v.hides_threads:
        why = f" (/proc hidepid={v.hidepid})" if v.hidepid else ""
        lines.append(f"about {hidden:,} of {v.threads_total:,} threads on this kernel are not visible here{why}: "
                     "the system-wide victim may be one of them")
    unreadable = v.processes_unreadable
    if unreadable:
        why = f" (/proc hidepid={v.hidepid})" if v.hidepid else ""
        lines.append(f"{unreadable:,} process{'es' if unreadable > 1 else ''} listed here cannot be read{why}")
    return lines


def warn_partial(v: Optional[View]) -> None:
    from . import fail

    for line in partial_view(v) if v is not None else []:
        fail(line)
