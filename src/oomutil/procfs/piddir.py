"""One process's /proc/PID directory, pinned: the one reader of pid files.

An open pid directory pins the process it was opened for: once that process is reaped,
reads through the fd fail with ESRCH even if the pid has been given to a new process.
So everything read through one PidDir comes from one incarnation.  PidDir owns the fd,
the identity check (start time, stat field 22), the per-file cache and the error policy:
``read()`` raises, ``get()`` gives None for a file that is missing or denied here.
``Process`` (model) and the ranking scan (``rank``) both read through it.
"""

from __future__ import annotations

import errno
import os

from .. import _fs
from ..errors import AccessDenied, NoSuchProcess, NotAvailable
from ..root import Root, as_root
from .pid import PidStat, PidStatus, parse_stat, parse_status, read_mm_status

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows the start
    from typing import Callable, Dict, Optional, Tuple, TypeVar, Union

    T = TypeVar("T")


class PidDir:
    """The directory of ``pid`` under ``root``'s proc/, opened now.

    ``start_time_ticks``: the incarnation expected (NoSuchProcess if the pid now belongs
    to another process); None to take the one there is, read from stat when ``verify``.
    ``proc_fd``: an open proc/ to open relative to (a scan of every pid).  ``denied_ok``:
    a directory we may not open (hidepid=noaccess) gives a PidDir whose files all read
    None instead of AccessDenied.
    """

    __slots__ = ("pid", "fd", "start_time_ticks", "_cache", "_mm")

    def __init__(self, root: Root, pid: int, *, start_time_ticks: Optional[int] = None, verify: bool = True,
                 proc_fd: Optional[int] = None, denied_ok: bool = False) -> None:
        self.pid = pid
        self.fd: Optional[int] = None
        self.start_time_ticks = start_time_ticks
        self._cache: Dict[str, object] = {}
        self._mm: Optional[Tuple[Optional[PidStatus], Optional[int]]] = None
        path = str(pid) if proc_fd is not None else root.proc(pid)
        try:
            self.fd = os.open(path, _fs.O_DIR, dir_fd=proc_fd)
        except FileNotFoundError:
            raise NoSuchProcess(pid=pid, path=root.proc(pid)) from None
        except PermissionError as err:
            if not denied_ok:
                raise _fs.map_os_error(err, root.proc(pid), pid=pid) from err
            return
        except OSError as err:
            raise _fs.map_os_error(err, root.proc(pid), pid=pid) from err
        if verify:
            try:
                self._check_identity(root)
            except BaseException:
                self.close()
                raise

    def _check_identity(self, root: Root) -> None:
        try:
            stat: PidStat = self.read("stat", parse_stat)
        except NotAvailable:
            # A pid directory without stat: a tree that holds only some files.  Identity
            # cannot be checked there; the live kernel always has stat.
            if root.is_live:
                raise NoSuchProcess(pid=self.pid) from None
            return
        if self.start_time_ticks is None:
            self.start_time_ticks = stat.start_time_ticks
        elif stat.start_time_ticks != self.start_time_ticks:
            raise NoSuchProcess("no such process (its pid now belongs to another process)", pid=self.pid)

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def __enter__(self) -> "PidDir":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- files ------------------------------------------------------------------------------

    def read(self, name: str, parse: Callable[[bytes], T]) -> T:
        """File ``name`` parsed, once (cached).  Raises NoSuchProcess (gone), AccessDenied,
        NotAvailable (no such file here) or ParseError."""
        value = self._cache.get(name)
        if value is None:  # not read yet, or get() found it unreadable: read to raise
            value = self._cache[name] = self._load(name, parse)
        return value  # type: ignore[return-value]

    def get(self, name: str, parse: Callable[[bytes], T]) -> Optional[T]:
        """Like read(), but None for a file that is missing or denied here (tried once).
        (A scan calls this five times per process: it stays one call deep.)"""
        cache = self._cache
        if name in cache:
            return cache[name]  # type: ignore[return-value]
        try:
            value = self._load(name, parse)
        except (AccessDenied, NotAvailable):
            value = None
        cache[name] = value
        return value

    def _load(self, name: str, parse: Callable[[bytes], T]) -> T:
        if self.fd is None:
            raise AccessDenied(pid=self.pid)
        return _fs.read_parsed(name, parse, dir_fd=self.fd, pid=self.pid)

    def write(self, name: str, text: str, dir_path: str) -> None:
        """Write file ``name`` (oom_score_adj) through the pinned fd: only into the kernel's
        procfs (_fs.write_proc()); ``dir_path`` names the directory in messages."""
        if self.fd is None:
            raise AccessDenied(pid=self.pid, path=dir_path)
        _fs.write_proc(name, text, dir_fd=self.fd, dir_path=dir_path, pid=self.pid)

    def cached(self, name: str) -> object:
        """What was read of file ``name`` so far (None: nothing)."""
        return self._cache.get(name)

    def fresh(self, name: str, parse: Callable[[bytes], T]) -> T:
        """File ``name`` read again, past the cache."""
        return self._load(name, parse)

    def mm(self) -> Tuple[Optional[PidStatus], Optional[int]]:
        """(status as the OOM killer sees the process, the thread whose memory it shows or
        None): a live thread's memory and state when the leader has exited
        (read_mm_status()); (None, None) where status cannot be read."""
        if self._mm is None:
            status = self.get("status", parse_status)
            if status is None or self.fd is None:
                self._mm = (status, None)
            else:
                self._mm = read_mm_status(status, dir_fd=self.fd, pid=self.pid)
        return self._mm

    def fresh_mm_status(self) -> PidStatus:
        """mm()'s status, read again."""
        return read_mm_status(self.fresh("status", parse_status), dir_fd=self.fd, pid=self.pid)[0]  # type: ignore[arg-type]

    def cgroup_file(self) -> str:
        """The cgroup file of the thread that holds the memory: a leader that exited stays
        in the cgroup it died in."""
        tid = self.mm()[1]
        return "cgroup" if tid is None else f"task/{tid}/cgroup"

    def comm(self) -> Optional[str]:
        """The process's name as every command shows it: status Name: (the kernel escapes
        control characters there), else stat's field 2."""
        status = self.mm()[0]
        if status is not None:
            return status.name
        stat = self.get("stat", parse_stat)
        return stat.comm if stat is not None else None


def hidden_from_us(pid: int, root: Union[Root, str, None] = None) -> bool:
    """A pid with no directory in the live /proc that exists all the same: hidepid hides
    it from this reader.  kill(pid, 0) says EPERM for a process we may not signal, ESRCH
    for none; where we may signal it, it exists too.  False off the live root."""
    root = as_root(root)
    if not root.is_live:
        return False
    try:
        os.kill(pid, 0)
    except OSError as err:
        return err.errno == errno.EPERM
    except OverflowError:  # beyond pid_t: no such process (the kernel's pids stop at 2^22)
        return False
    return True


def hidden_by_proc(pid: int, root: Union[Root, str, None] = None) -> Optional[str]:
    """Why a process that exists has no directory in the root's /proc ("/proc is mounted
    hidepid=invisible", "/proc is another pid namespace's"), or None: it does not exist,
    or this cannot be known (a tree, a mounted host /proc)."""
    root = as_root(root)
    if os.path.exists(root.proc(pid)) or not hidden_from_us(pid, root):
        return None  # listed (a pid handed to another process is not hidden), or gone
    from .mountinfo import read_proc_mount

    hidepid, _ = read_proc_mount(root)
    if hidepid is not None:
        return f"/proc is mounted hidepid={hidepid}"
    return "it exists, but this /proc does not list it"
