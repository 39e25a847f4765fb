"""Everything ``oomutil show`` says about one process, in one record: a feature on top of
the Process model (it adds the user name, the memory cgroup and the explanation).
"""

from __future__ import annotations

from ._record import Record

from . import _fs
from .badness import Explanation, explain_process
from .cgroups import MemoryCgroup, memory_cgroup_of
from .process import Process
from .users import user_name

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows the start
    from typing import Optional, Union

    from .root import Root

__all__ = ["ProcessInfo", "process_info"]


class ProcessInfo(Record):
    """Everything ``oomutil show`` prints for one process.  None: unreadable here."""

    pid: int
    comm: str
    uid: Optional[int]  # real uid
    user: Optional[str]  # its name in the root's user database, None if it has none
    oom_score: Optional[int]  # /proc/PID/oom_score: 0..2000 since 5.9 (666 = adj 0, tiny)
    oom_score_adj: Optional[int]  # /proc/PID/oom_score_adj: -1000..1000
    oom_adj: Optional[int]  # /proc/PID/oom_adj: legacy -17..15, None where the kernel lacks it
    rss_bytes: Optional[int]
    swap_bytes: Optional[int]
    pgtables_bytes: Optional[int]
    memory_cgroup: Optional[MemoryCgroup]  # the memory cgroup it is charged to, with its limits
    explain: Optional[Explanation]  # oom_score taken apart; None where it cannot be redone


def process_info(process: Union[Process, int], root: Union[Root, str, None] = None,
                 era: Optional[str] = None) -> ProcessInfo:
    """All of ``show`` for one process (a Process, or a pid under ``root``), each file read
    once, from one incarnation.  Raises NoSuchProcess if the process is gone; a field that
    cannot be read here (permission, a file missing in a captured tree) is None."""
    p = process if isinstance(process, Process) else Process(process, root)
    with p.oneshot():
        status = _fs.none_if_unreadable(p.status)
        memory = _fs.none_if_unreadable(p.memory)
        uid = status.uids[0] if status else None
        return ProcessInfo(
            pid=p.pid,
            comm=_fs.none_if_unreadable(p.name) or "?",
            uid=uid,
            user=user_name(p.root, uid) if uid is not None else None,
            oom_score=_fs.none_if_unreadable(p.oom_score),
            oom_score_adj=_fs.none_if_unreadable(p.oom_score_adj),
            oom_adj=_fs.none_if_unreadable(p.oom_adj),
            rss_bytes=memory.rss_bytes if memory else None,
            swap_bytes=memory.swap_bytes if memory else None,
            pgtables_bytes=memory.pgtables_bytes if memory else None,
            memory_cgroup=_fs.none_if_unreadable(memory_cgroup_of, p),
            explain=_fs.none_if_unreadable(explain_process, p, era),
        )
