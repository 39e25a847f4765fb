"""The exception tree.  Every error names the pid and/or the path it is about.

    OomutilError
     +-- NoSuchProcess    the process is gone (or its pid now belongs to another one)
     +-- AccessDenied     EACCES / EPERM (hidepid, dmesg_restrict, no CAP_SYS_RESOURCE)
     +-- NotAvailable     this kernel, tree or platform has no such file or feature
     +-- ParseError       a file's content is not what the kernel documents (also ValueError)
     +-- InvalidValue     a value given by the caller is out of range (also ValueError)

No call returns a sentinel such as -1 for "failed": -1 is a valid oom_score_adj.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows the start
    from typing import Optional

__all__ = [
    "OomutilError",
    "NoSuchProcess",
    "AccessDenied",
    "NotAvailable",
    "ParseError",
    "InvalidValue",
]


class OomutilError(Exception):
    """Base of every error oomutil raises.  ``str()`` reads ``pid N: msg (path)``."""

    default_msg = "error"

    def __init__(
        self, msg: Optional[str] = None, *, pid: Optional[int] = None, path: Optional[str] = None
    ) -> None:
        self.msg = msg or self.default_msg
        self.pid = pid
        self.path = path
        super().__init__(self.msg)

    def __str__(self) -> str:
        text = self.msg
        if self.path and self.path not in text:
            text = f"{self.path}: {text}"
        if self.pid is not None:
            text = f"pid {self.pid}: {text}"
        return text

    def __reduce__(self):  # keep the keyword-only context when pickled
        return (_rebuild, (type(self), self.msg, self.pid, self.path))


def _rebuild(cls, msg, pid, path):
    return cls(msg, pid=pid, path=path)


class NoSuchProcess(OomutilError):
    """The process is gone (or its pid now belongs to another process).  A scan skips such
    processes; a call on one ``Process`` raises this."""

    default_msg = "no such process"

    def __str__(self) -> str:
        # The path of a vanished process is noise: "pid 42: no such process".
        return f"pid {self.pid}: {self.msg}" if self.pid is not None else super().__str__()


class AccessDenied(OomutilError):
    """The file exists but may not be read here: another user's process under hidepid, a
    root-only file, /dev/kmsg without CAP_SYSLOG under dmesg_restrict."""

    default_msg = "permission denied"


class NotAvailable(OomutilError):
    """This kernel, tree or system has no such thing: a file an older kernel lacks, a tree
    captured without it, no memory cgroup hierarchy, not Linux at all."""

    default_msg = "not available"


class ParseError(OomutilError, ValueError):
    """A file does not have the documented format; ``line`` is the offending text."""

    default_msg = "cannot parse"

    def __init__(
        self,
        msg: Optional[str] = None,
        *,
        line: Optional[str] = None,
        pid: Optional[int] = None,
        path: Optional[str] = None,
    ) -> None:
        self.line = line
        if line is not None:
            msg = f"{msg or self.default_msg}: {line!r}"
        super().__init__(msg, pid=pid, path=path)


class InvalidValue(OomutilError, ValueError):
    """An argument oomutil cannot use: a pid that is not a positive integer, an adj outside
    -1000..1000, an unknown sort key, a cgroup nothing limits."""

    default_msg = "invalid value"


# Tracebacks and reprs show the public name, oomutil.NoSuchProcess (as psutil does).
for _cls in (OomutilError, NoSuchProcess, AccessDenied, NotAvailable, ParseError, InvalidValue):
    _cls.__module__ = "oomutil"
del _cls
