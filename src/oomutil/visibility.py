"""How much of the kernel a root's /proc shows: the facts behind "the system-wide victim
may be a process you cannot see".

The kernel chooses among every process it runs.  A /proc can show fewer:

- mounted with ``hidepid`` (3.3+; per mount and with names since 5.8): ``noaccess`` (1)
  leaves other users' directories listed but unreadable, ``invisible`` (2) hides them,
  ``ptraceable`` (4) shows only what the reader may ptrace; ``subset=pid`` (5.8+) leaves
  out everything but the pid directories;
- mounted in a pid namespace other than the initial one (a container): only that
  namespace's processes are listed.

/proc/loadavg counts the kernel's threads whatever the view, so what is hidden can be
counted.  A root (capabilities) that sees every process through hidepid has a complete view.
"""

from __future__ import annotations

import os
from ._record import Record

from . import _fs
from .errors import AccessDenied, NoSuchProcess, NotAvailable
from .procfs.loadavg import read_threads_total
from .procfs.mountinfo import read_proc_mount
from .procfs.piddir import hidden_by_proc, hidden_from_us
from .procfs.pid import parse_stat, read_pid1_is_global_init
from .root import Root, as_root

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows the start
    from typing import Optional, Union

__all__ = ["View", "view", "hidden_from_us", "hidden_by_proc"]

# include/linux/proc_ns.h PROC_PID_INIT_INO: the initial pid namespace's inode, fixed
INITIAL_PID_NS_INODE = 0xEFFFFFFC

class View(Record):
    """What a root's /proc lets this reader see of the kernel's processes."""

    hidepid: Optional[str]  # "noaccess", "invisible", "ptraceable"; None: off (or unknown)
    subset_pid: bool  # subset=pid: no meminfo, vmstat, ... either
    initial_pid_namespace: Optional[bool]  # /proc lists the whole kernel; None: unknown
    threads_total: Optional[int]  # every thread of the kernel (/proc/loadavg), kernel threads too
    threads_visible: Optional[int]  # threads of the processes listed and readable here;
    #                                 None where the view is complete without counting
    processes_unreadable: int  # listed, but their files cannot be read (hidepid=noaccess)
    complete: bool  # every process the kernel would choose among is readable here

    @property
    def threads_hidden(self) -> Optional[int]:
        """Threads not listed at all (an unreadable process counts one, listed)."""
        if self.threads_total is None or self.threads_visible is None:
            return None
        return max(self.threads_total - self.threads_visible - self.processes_unreadable, 0)

    @property
    def hides_threads(self) -> bool:
        """More threads are missing than come and go between reading loadavg and listing
        /proc (a few, or 2 %)."""
        hidden = self.threads_hidden
        return hidden is not None and hidden > max(8, (self.threads_total or 0) // 50)


def _initial_pid_namespace(r: Root) -> Optional[bool]:
    """Live: the reader's pid namespace is the initial one (its inode is fixed).  A tree or
    a mounted host /proc: only the initial namespace lists kernel threads (pid 2)."""
    if r.is_live:
        try:
            return os.stat(r.proc("self", "ns", "pid")).st_ino == INITIAL_PID_NS_INODE
        except OSError:
            pass
    if read_pid1_is_global_init(r):
        return True
    # an init without kernel threads beside it: a container's /proc; else nothing to tell
    return False if os.path.isdir(r.proc(1)) and not os.path.isdir(r.proc(2)) else None


def view(root: Union[Root, str, None] = None) -> View:
    """What the root's /proc shows of the kernel's processes.  Counting the visible
    threads reads each listed process's stat; that is done only where the view may be
    partial (hidepid set, or another pid namespace)."""
    r = as_root(root)
    hidepid, subset = read_proc_mount(r)
    initial = _initial_pid_namespace(r)
    total = _fs.none_if_unreadable(read_threads_total, r)
    if hidepid is None and initial is not False:  # nothing hidden, or nothing known to be
        return View(hidepid, subset, initial, total, None, 0, True)
    visible = unreadable = 0
    try:
        names = os.listdir(r.proc())
    except OSError as err:
        raise _fs.map_os_error(err, r.proc()) from err
    for name in names:
        if not name.isdigit():
            continue
        try:
            visible += _fs.read_parsed(r.proc(name, "stat"), parse_stat, pid=int(name)).num_threads
        except AccessDenied:
            unreadable += 1
        except (NoSuchProcess, NotAvailable):
            continue  # gone meanwhile
    seen = View(hidepid, subset, initial, total, visible, unreadable, False)
    return seen._replace(complete=initial is not False and not seen.hides_threads and unreadable == 0)
