"""The one read helper every oomutil read goes through, and the errno -> error mapping.

Files under /proc and /sys report sizes of 0 or 4096 whatever they hold, and their
content can change between two reads, so a file is read whole, in binary, with
os.open/os.read, and parsed afterwards.  No buffered ``open()``: its extra stat and
buffer cost more than the read itself on a small procfs file.
"""

from __future__ import annotations

import errno
import os
TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows the start
    from typing import Callable, Dict, List, Optional, TypeVar
    T = TypeVar("T")

from .errors import AccessDenied, InvalidValue, NoSuchProcess, NotAvailable, OomutilError, ParseError


_CHUNK = 65536
_O_FLAGS = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)
O_DIR = _O_FLAGS | getattr(os, "O_DIRECTORY", 0)  # a directory to read files relative to


def read_bytes(path: str, *, dir_fd: Optional[int] = None, pid: Optional[int] = None) -> bytes:
    """Return the whole content of ``path`` (relative to ``dir_fd`` when given).

    Raises NoSuchProcess, AccessDenied, NotAvailable or OomutilError; see ``map_os_error``.
    """
    try:
        fd = os.open(path, _O_FLAGS, dir_fd=dir_fd)
        try:
            data = os.read(fd, _CHUNK)
            if len(data) < _CHUNK:
                # A short read is the end: seq_file (most of /proc and /sys) fills the
                # buffer until the last record, and so do regular files of a tree.
                # This saves the second, empty read(), one syscall per file.
                return data
            parts = [data]
            while True:
                chunk = os.read(fd, _CHUNK)
                if not chunk:
                    return b"".join(parts)
                parts.append(chunk)
        finally:
            os.close(fd)
    except OSError as err:
        raise map_os_error(err, path, pid=pid, dir_fd=dir_fd) from err


def read_regular(path: str, limit: int) -> bytes:
    """The content of the regular file ``path``, at most ``limit`` bytes, for files that
    other programs write (a runtime's config.json): its last component is never followed
    as a symlink, nor is a FIFO or device waited on (O_NONBLOCK, then fstat).  Raises as
    read_bytes, OomutilError for a file that is not regular (ELOOP: a symlink) or is larger."""
    import stat

    try:
        fd = os.open(path, _O_FLAGS | os.O_NOFOLLOW | os.O_NONBLOCK)
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise OomutilError("not a regular file", path=path)
            if st.st_size > limit:
                raise OomutilError(f"larger than {limit} bytes ({st.st_size})", path=path)
            data = os.read(fd, limit + 1)
        finally:
            os.close(fd)
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise OomutilError("a symbolic link (not followed)", path=path) from err
        raise map_os_error(err, path) from err
    if len(data) > limit:  # grown since fstat()
        raise OomutilError(f"larger than {limit} bytes", path=path)
    return data


def read_parsed(
    path: str,
    parse: Callable[[bytes], T],
    *,
    dir_fd: Optional[int] = None,
    pid: Optional[int] = None,
) -> T:
    """Read ``path`` and hand it to a pure ``parse_*`` function; name the file in a ParseError."""
    data = read_bytes(path, dir_fd=dir_fd, pid=pid)
    try:
        return parse(data)
    except ParseError as err:
        err.path, err.pid = path, pid
        raise


# statfs(2) f_type of the kernel's procfs (include/uapi/linux/magic.h, since 2.6.x).
PROC_SUPER_MAGIC = 0x9FA0


def fs_type(fd: int) -> int:
    """The f_type of the filesystem ``fd`` is on (fstatfs(2)): Python's os.statvfs() does
    not give it, so libc is asked through ctypes (imported here: only writes need it)."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    buf = ctypes.create_string_buffer(256)  # struct statfs is 64 to 120 bytes
    if libc.fstatfs(fd, buf) != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code))
    # f_type comes first: a long (__fsword_t) everywhere but s390x, where it is an unsigned int
    kind = ctypes.c_uint if os.uname().machine == "s390x" else ctypes.c_long
    return kind.from_buffer(buf).value


def check_procfs(dir_fd: int, path: str, pid: Optional[int] = None) -> None:
    """NotAvailable unless the directory ``dir_fd`` (at ``path``) is on the kernel's procfs."""
    try:
        kind = fs_type(dir_fd)
    except OSError as err:
        raise map_os_error(err, path, pid=pid) from err
    if kind != PROC_SUPER_MAGIC:
        raise NotAvailable("not the kernel's procfs (a captured tree or a copy): oomutil writes only to a live "
                           "/proc", pid=pid, path=path)


def write_proc(name: str, text: str, *, dir_fd: int, dir_path: str, pid: Optional[int] = None) -> None:
    """Write ``text`` to file ``name`` of the /proc directory ``dir_fd``, in one write() (a
    knob takes its value whole).  The only write oomutil makes, and only into the kernel's
    procfs: a captured tree, a copy of one or any other filesystem is refused (NotAvailable)
    before the file is opened, so nothing there is ever changed.  ``dir_path`` names the
    directory in messages.  Errors as read_bytes, plus EINVAL (the kernel refused the value)
    as InvalidValue."""
    path = os.path.join(dir_path, name)
    check_procfs(dir_fd, path, pid)
    try:
        fd = os.open(name, os.O_WRONLY | getattr(os, "O_CLOEXEC", 0), dir_fd=dir_fd)
        try:
            os.write(fd, text.encode())
        finally:
            os.close(fd)
    except OSError as err:
        if err.errno == errno.EINVAL:
            raise InvalidValue(f"the kernel refused {text!r}", pid=pid, path=path) from err
        raise map_os_error(err, path, pid=pid, dir_fd=dir_fd) from err


def open_dir(path: str, *, dir_fd: Optional[int] = None, pid: Optional[int] = None) -> int:
    """An fd of directory ``path`` (relative to ``dir_fd`` when given); errors as read_bytes."""
    try:
        return os.open(path, O_DIR, dir_fd=dir_fd)
    except OSError as err:
        raise map_os_error(err, path, pid=pid, dir_fd=dir_fd) from err


def list_dir(path: str, *, dir_fd: Optional[int] = None, pid: Optional[int] = None) -> List[str]:
    """The names in directory ``path`` (relative to ``dir_fd`` when given); errors as read_bytes."""
    fd = open_dir(path, dir_fd=dir_fd, pid=pid)
    try:
        return os.listdir(fd)
    except OSError as err:
        raise map_os_error(err, path, pid=pid, dir_fd=dir_fd) from err
    finally:
        os.close(fd)


def none_if_missing(call: Callable[..., T], *args, **kwargs) -> Optional[T]:
    """``call(*args)``, or None when what it reads does not exist here (NotAvailable: this
    kernel or tree lacks the file).  Every other error propagates."""
    try:
        return call(*args, **kwargs)
    except NotAvailable:
        return None


def none_if_unreadable(call: Callable[..., T], *args, **kwargs) -> Optional[T]:
    """``call(*args)``, or None when what it reads is missing *or* denied (NotAvailable,
    AccessDenied: hidepid, a container's masked file).  NoSuchProcess and ParseError still
    propagate: a process gone and a file that makes no sense are not "missing"."""
    try:
        return call(*args, **kwargs)
    except (AccessDenied, NotAvailable):
        return None


def map_os_error(
    err: OSError, path: str, *, pid: Optional[int] = None, dir_fd: Optional[int] = None
) -> OomutilError:
    """The single place where errno becomes an oomutil error.

    ENOENT is ambiguous for a pid's file: the process is gone, or this kernel simply
    has no such file (psutil #2418 learned this the hard way).  It is NoSuchProcess only
    when the pid directory is gone as well.  Reads relative to an open pid directory fd
    get ESRCH once the process is reaped, which is always NoSuchProcess.
    """
    code = err.errno
    if code == errno.ESRCH:
        return NoSuchProcess(pid=pid, path=path)
    if code in (errno.EACCES, errno.EPERM):
        return AccessDenied(pid=pid, path=path)
    if code in (errno.ENOENT, errno.ENOTDIR):
        if pid is not None and dir_fd is None and not os.path.isdir(os.path.dirname(path)):
            return NoSuchProcess(pid=pid, path=path)
        return NotAvailable("no such file", pid=pid, path=path)
    if code == errno.EOPNOTSUPP:  # e.g. /proc/pressure/* when booted with psi=0
        return NotAvailable("not supported by this kernel", pid=pid, path=path)
    return OomutilError(os.strerror(code) if code else str(err), pid=pid, path=path)


def parse_int(data: bytes) -> int:
    """Parse a one-number file such as oom_score or /proc/sys/vm/panic_on_oom."""
    try:
        return int(data)  # int() accepts the surrounding whitespace and newline
    except ValueError:
        raise ParseError("expected an integer", line=data.decode("ascii", "backslashreplace")) from None


def parse_key_values(data: bytes) -> Dict[str, int]:
    """"name value" lines (/proc/vmstat, memory.events, memory.stat, memory.oom_control) as
    a dict; names a newer kernel adds are kept, nothing is assumed about their order."""
    values: Dict[str, int] = {}
    for line in data.splitlines():
        if not line.strip():
            continue
        try:
            key, value = line.split()
            values[key.decode("ascii")] = int(value)
        except ValueError:
            raise ParseError("malformed key-value line", line=decode(line)) from None
    return values


def decode(data: bytes) -> str:
    """Text from the kernel: bytes that are not UTF-8 (comm can hold any) stay visible as \\xNN."""
    return data.decode("utf-8", "backslashreplace")
