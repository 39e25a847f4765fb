"""How much of the kernel a root's /proc shows: the facts behind "the system-wide victim
may be a process you cannot see".

The kernel chooses among every process it runs.  A /proc can show fewer:

- mounted with ``hidepid`` (3.3+; per mount and with names since 5.8): ``noaccess`` (1)
  leaves other users' directories listed but unreadable, ``invisible`` (2) hides them,
  ``ptraceable`` (4) shows only what the reader may ptrace; ``subset=pid`` (5.8+) leaves
  out everything but the pid directories (/proc/loadavg too);
- mounted in a pid namespace other than the initial one (a container): only that
  namespace's processes are listed.

What is hidden is counted from the cgroup hierarchy: ``cgroup.procs`` lists every process
of the kernel whatever the proc mount's options.  Kernel threads are never candidates and
are not counted: they stay in the root cgroup, with session and process group 0
(``getsid()``/``getpgid()`` need no access to /proc).  Without the cgroup files, the
kernel's thread count in /proc/loadavg (absent with subset=pid; a container's own under
LXCFS, which mounts over it) is compared with the threads of the listed processes, kernel
threads included.  A view whose hidden count is unknown is never complete.  A root
(capabilities) that sees every process through hidepid has a complete view.
"""

from __future__ import annotations

import os
from ._record import Record

from . import _fs
from .errors import AccessDenied, NoSuchProcess, NotAvailable, OomutilError
from .procfs.loadavg import read_threads_total
from .procfs.mountinfo import parse_mountinfo, read_proc_mount
from .procfs.piddir import hidden_by_proc, hidden_from_us
from .procfs.pid import parse_stat, read_pid1_is_global_init
from .root import Root, as_root

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows the start
    from typing import Dict, Optional, Union

__all__ = ["View", "view", "hidden_from_us", "hidden_by_proc"]

# include/linux/proc_ns.h PROC_PID_INIT_INO, PROC_CGROUP_INIT_INO: the initial namespaces' inodes, fixed
INITIAL_PID_NS_INODE = 0xEFFFFFFC
INITIAL_CGROUP_NS_INODE = 0xEFFFFFFB

class View(Record):
    """What a root's /proc lets this reader see of the kernel's processes."""

    hidepid: Optional[str]  # "noaccess", "invisible", "ptraceable"; None: off (or unknown)
    subset_pid: bool  # subset=pid: no loadavg, meminfo, vmstat, ... either
    initial_pid_namespace: Optional[bool]  # /proc lists the whole kernel; None: unknown
    threads_total: Optional[int]  # every thread of the kernel (/proc/loadavg), kernel threads too;
    #                               None: unknown (no loadavg, or LXCFS's)
    threads_visible: Optional[int]  # threads of the processes listed and readable here;
    #                                 None where the view is complete without counting
    processes_unreadable: int  # listed, but their files cannot be read (hidepid=noaccess); kernel
    #                            threads not counted where they can be told apart (live)
    complete: bool  # every process the kernel would choose among is readable here
    processes_hidden: Optional[int] = None  # not listed at all (counted from cgroup.procs), kernel
    #                                         threads and the global init not counted; None: unknown
    loadavg_lxcfs: bool = False  # /proc/loadavg is mounted over (LXCFS): not the kernel's count

    @property
    def threads_hidden(self) -> Optional[int]:
        """Threads not listed at all, from /proc/loadavg (an unreadable process counts one,
        listed; kernel threads count too).  0 for hidepid=noaccess, which lists every process:
        the threads missing there are those of the unreadable ones."""
        if self.hidepid == "noaccess" and self.initial_pid_namespace is not False:
            return 0
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


def _loadavg_mounted_over(r: Root) -> bool:
    """/proc/loadavg has a mount of its own (LXCFS's fuse.lxcfs: the container's load and
    threads, not the kernel's)."""
    try:
        mounts = _fs.read_parsed(r.proc("self", "mountinfo"), parse_mountinfo)
    except (NotAvailable, AccessDenied):
        return False
    here = os.path.join(os.path.realpath(r.proc()), "loadavg")
    return any(m.mount_point in (here, "/proc/loadavg") and m.fstype != "proc" for m in mounts)


def _cgroup_processes(r: Root) -> Optional[Dict[int, bool]]:
    """{tgid: in the root cgroup} of every process of the kernel, from the memory
    hierarchy's cgroup.procs (not hidden by hidepid); None where that is not the whole
    kernel or cannot be read: off the live system (the pids would be another reader's),
    another pid or cgroup namespace, a hierarchy mounted from below its root."""
    if not r.is_live:
        return None
    try:
        if (os.stat("/proc/self/ns/pid").st_ino != INITIAL_PID_NS_INODE
                or os.stat("/proc/self/ns/cgroup").st_ino != INITIAL_CGROUP_NS_INODE):
            return None
    except OSError:
        return None
    from .cgroups import memory_hierarchy

    h = memory_hierarchy(r)
    if h is None or h.mount_root != "/":
        return None
    found: Dict[int, bool] = {}
    top = os.path.realpath(h.directory)
    try:
        first = _fs.read_bytes(os.path.join(top, "cgroup.procs"))
    except OomutilError:
        return None
    found.update((int(p), True) for p in first.split())
    for directory, _, _ in os.walk(top):
        if directory == top:
            continue
        try:
            data = _fs.read_bytes(os.path.join(directory, "cgroup.procs"))
        except NotAvailable:
            continue  # removed meanwhile (or a threaded cgroup: its domain lists its processes)
        except OomutilError:
            return None  # a part that cannot be read: no count
        found.update((int(p), False) for p in data.split())
    return found


def _kernel_thread(pid: int, in_root_cgroup: Optional[bool]) -> bool:
    """A live pid is a kernel thread: session and process group 0 (kthreadd's, forked
    from the idle task) and, where known, in the root cgroup.  (A process of an init that
    never called setsid() also has session 0, but its own process group once it has one.)"""
    if in_root_cgroup is False:
        return False
    try:
        return os.getsid(pid) == 0 and os.getpgid(pid) == 0
    except OSError:
        return False  # gone: counted by no one


def never_a_candidate(pid: int, root: Root) -> bool:
    """pid 1 and kernel threads: never chosen (oom_unkillable_task()), so not missing from
    a ranking when unreadable (hidepid=noaccess).  Kernel threads are told on the live
    system only (their session and process group, _kernel_thread())."""
    return pid == 1 or (root.is_live and _kernel_thread(pid, None))


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError as err:
        return err.errno != 3  # ESRCH; EPERM: there, another user's
    return True


def view(root: Union[Root, str, None] = None) -> View:
    """What the root's /proc shows of the kernel's processes.  Counting what is hidden
    reads each listed process's stat and the cgroup hierarchy's cgroup.procs; that is done
    only where the view may be partial (hidepid set, or another pid namespace)."""
    r = as_root(root)
    hidepid, subset = read_proc_mount(r)
    initial = _initial_pid_namespace(r)
    lxcfs = _loadavg_mounted_over(r)
    total = None if lxcfs else _fs.none_if_unreadable(read_threads_total, r)
    if hidepid is None and initial is not False:  # nothing hidden, or nothing known to be
        return View(hidepid, subset, initial, total, None, 0, True, 0, lxcfs)
    # cgroup.procs first: a process that exits before /proc is listed is then looked for
    # (gone: not counted); one that starts after it was read is in neither
    cgroups = _cgroup_processes(r) if initial else None
    visible = unreadable = 0
    try:
        names = os.listdir(r.proc())
    except OSError as err:
        raise _fs.map_os_error(err, r.proc()) from err
    listed = set()
    for name in names:
        if not name.isdigit():
            continue
        pid = int(name)
        listed.add(pid)
        try:
            visible += _fs.read_parsed(r.proc(name, "stat"), parse_stat, pid=pid).num_threads
        except AccessDenied:
            # the global init and kernel threads are never candidates
            if not (r.is_live and initial and (pid == 1 or _kernel_thread(pid, None if cgroups is None
                                                                          else cgroups.get(pid)))):
                unreadable += 1
        except (NoSuchProcess, NotAvailable):
            continue  # gone meanwhile
    hidden: Optional[int] = None
    if hidepid == "noaccess" and initial is not False:
        hidden = 0  # every process is listed (fs/proc/base.c: only access needs permission)
    elif cgroups is not None:
        hidden = sum(1 for pid, in_root in cgroups.items()
                     if pid not in listed and pid != 1 and _exists(pid) and not _kernel_thread(pid, in_root))
    seen = View(hidepid, subset, initial, total, visible, unreadable, False, hidden, lxcfs)
    if hidden is not None:
        complete = initial is not False and hidden == 0 and unreadable == 0
    else:  # the kernel's threads against the listed ones; unknown is never complete
        complete = (initial is not False and seen.threads_hidden is not None and not seen.hides_threads
                    and unreadable == 0)
    return seen._replace(complete=complete)
