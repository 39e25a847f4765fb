"""oomutil: what the Linux OOM killer would do, and why.

Every read goes through a :class:`Root` (the live system by default), so a captured
tree or a host's /proc mounted at /host/proc reads like the live one::

    >>> import oomutil
    >>> p = oomutil.Process()            # this process
    >>> p.oom_score(), p.oom_score_adj()
    (666, 0)
    >>> oomutil.memory_overcommit()
    0
"""

from .errors import AccessDenied, InvalidValue, NoSuchProcess, NotAvailable, OomutilError, ParseError
from .procfs.meminfo import Meminfo
from .procfs.sysctl import VmSettings
from .process import Process, ProcessInfo, ProcessMemory, Uids
from .root import Root
from .system import (
    SystemInfo,
    kernel_release,
    meminfo,
    memory_overcommit,
    oom_kill_count,
    system_info,
    vm_settings,
)

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "Root",
    "Process",
    "ProcessInfo",
    "ProcessMemory",
    "Uids",
    "VmSettings",
    "Meminfo",
    "SystemInfo",
    "memory_overcommit",
    "vm_settings",
    "meminfo",
    "oom_kill_count",
    "kernel_release",
    "system_info",
    "OomutilError",
    "NoSuchProcess",
    "AccessDenied",
    "NotAvailable",
    "ParseError",
    "InvalidValue",
]
