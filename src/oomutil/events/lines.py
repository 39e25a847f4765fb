"""The kernel's OOM lines that both readers of a report look at: the trigger line, the kill
lines and the oom_reaper line.  One grammar: the assembler (events.parse) reads what a kill
needs from them, the report's part parser (events.report) the rest; neither has a rule of
its own for these lines (mm/oom_kill.c dump_header(), oom_kill_process(),
__oom_kill_process(), oom_reap_task())."""

from __future__ import annotations

import re

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows the start
    from typing import Any, Dict

TRIGGER_AT = " invoked oom-killer: "
# the trigger's fields, one by one: kernels add and drop some (nodemask in 4.10-4.18,
# oom_adj before 2.6.36 and beside oom_score_adj in RHEL 6, two spaces before order=)
_TRIGGER_FIELD = re.compile(
    r"\bgfp_mask=(0x[0-9a-fA-F]+)(?:\(([^)]*)\))?"  # the names in parentheses since 4.6
    r"|\bnodemask=(\S*?),(?=\s)"  # "0-1,3, order=0": the node list has commas too
    r"|\border=(-?\d+)"
    r"|\boom_score_adj=(-?\d+)"
    r"|\boom_adj=(-?\d+)")


def trigger_fields(fields: str) -> Dict[str, Any]:
    """The fields after TRIGGER_AT: gfp_mask (hex text), gfp_flags (the names printed),
    nodemask, order, oom_score_adj, oom_adj; those absent are left out."""
    found: Dict[str, Any] = {}
    for gfp, flags, nodemask, order, score_adj, adj in _TRIGGER_FIELD.findall(fields + ","):
        if gfp:
            found["gfp_mask"] = gfp
            found["gfp_flags"] = tuple(f for f in flags.split("|") if f)
        elif nodemask:
            found["nodemask"] = nodemask
        elif order:
            found["order"] = int(order)
        elif score_adj:
            found["oom_score_adj"] = int(score_adj)
        elif adj:
            found["oom_adj"] = int(adj)
    return found


# "Killed process N (comm) total-vm:...kB, anon-rss:..." (RHEL 6: "Killed process N, UID u,
# (comm) ..."; 2.6: "vsz:"); a comm may hold parentheses ("((sd-pam))") and, in kmsg, a
# newline; "Killed process 5017 (test) " without sizes is a kill too
KILLED = re.compile(
    r"Killed process (?P<pid>\d+)(?:, UID (?P<uid1>\d+),)?(?: \((?P<comm>.*)\))?"
    r"(?:, UID (?P<uid2>\d+),)?,?(?: (?P<rest>(?:total-vm|vsz):.*))?\s*$", re.S)
KILLED_FIELD = re.compile(r"([\w-]+):\s?(-?\d+)(kB)?")
# "Out of memory: Kill process N (comm) score S or sacrifice child" (before 5.1; "kill
# process ... or a child" in 2.6.3x)
KILL_SCORE = re.compile(r"[Kk]ill process (\d+) \((.*)\) score (-?\d+)")
# "oom_reaper: reaped process N (comm), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB"
# (4.6+; file and shmem since 4.9) or "oom_reaper: unable to reap pid:N (comm)"
REAPER = re.compile(r"oom_reaper: (?:reaped process (?P<pid>\d+) \((?P<comm>.*)\), now anon-rss:(?P<anon>\d+)kB"
                    r"(?:, file-rss:(?P<file>\d+)kB)?(?:, shmem-rss:(?P<shmem>\d+)kB)?|unable to reap pid:(?P<gave_up>\d+))")


def reaper_pid(text: str):
    """The pid an oom_reaper line names (reaped or not), else None."""
    m = REAPER.search(text)
    return None if m is None else int(m.group("pid") or m.group("gave_up"))
