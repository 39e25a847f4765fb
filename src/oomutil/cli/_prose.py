"""The sentences oomutil prints about kernel values: what a knob's value means, an
oom_score taken apart.  The library returns numbers and records; the words live here.
"""

from __future__ import annotations

from ..badness import proc_oom_score

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows the start
    from typing import Callable, Dict, Optional

    from ..badness import Explanation


# What each value means on kernels since 4.17 (no root bonus) and 5.9 (0..2000 scores),
# in the words the CLI prints.  Unknown values are shown as numbers only.
MEANINGS: Dict[str, Dict[int, str]] = {
    "overcommit_memory": {
        0: "heuristic: refuse only allocations larger than RAM + swap",
        1: "always overcommit, never refuse",
        2: "strict: refuse commits beyond CommitLimit (the OOM killer still runs)",
    },
    "panic_on_oom": {
        0: "kill a process",
        1: "panic on a system-wide OOM; cgroup, cpuset and mempolicy OOMs still kill",
        2: "panic on every OOM, memory cgroup OOMs included",
    },
    "oom_kill_allocating_task": {
        0: "kill the task with the highest badness",
        # any non-zero value: mm/oom_kill.c tests sysctl_oom_kill_allocating_task only for truth
    },
    "oom_dump_tasks": {
        0: "no task table in the kernel log",
        1: "log the task table (every process with memory) on each OOM kill",  # -1000 ones too (dump_task())
    },
}


def meaning(knob: str, value: Optional[int]) -> Optional[str]:
    """A short sentence for a knob's value, or None when there is nothing certain to say."""
    if value is None:
        return None
    if knob == "oom_kill_allocating_task" and value != 0:
        return "kill the task that triggered the OOM (not in memory cgroup OOMs)"
    if knob == "oom_dump_tasks" and value != 0:
        value = 1
    return MEANINGS.get(knob, {}).get(value)


def describe_score(e: Explanation, size: Callable[[int], str]) -> str:
    """The predicted oom_score as a sum a person can follow, e.g. ``1010 = 666 baseline +
    11 for 2.0 GiB of the 125.9 GiB the kernel counts + 333 for oom_score_adj 500``.
    ``size`` formats a byte count."""
    if not e.killable:
        return f"{e.predicted_oom_score}: never killed ({e.unkillable_reason})"
    points = e.rss_pages + e.swap_pages + e.pgtables_pages
    memory = f"{size(points * e.page_size)} of the {size(e.totalpages * e.page_size)} the kernel counts"
    if e.era == "5.9":
        mem_only = proc_oom_score(points, e.totalpages, e.era)
        text = f"{e.predicted_oom_score} = 666 baseline + {mem_only - 666} for {memory}"
        if e.oom_score_adj:
            text += f" {_signed(e.predicted_oom_score - mem_only)} for oom_score_adj {e.oom_score_adj}"
    else:
        per_mille = points * 1000 // e.totalpages
        text = f"{e.predicted_oom_score} = {per_mille} for {memory}"
        rest = e.predicted_oom_score - per_mille
        if rest:
            text += f" {_signed(rest)} for oom_score_adj {e.oom_score_adj}" + (
                ", root bonus and rounding" if e.root_bonus_pages else " and rounding")
    if e.agrees:
        text += "   (the kernel says the same)"
    elif e.within_counter_drift:
        text += (f"   (the kernel says {e.kernel_oom_score}: its per-CPU memory counters lag behind "
                 "/proc/PID/status by up to a few hundred pages)")
    elif e.kernel_oom_score is not None:
        text += f"   (the kernel says {e.kernel_oom_score})"
    return text


def _signed(n: int) -> str:
    return f"+ {n}" if n >= 0 else f"- {-n}"
