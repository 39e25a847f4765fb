"""System-wide OOM state: vm settings, meminfo, the oom_kill counter, the kernel release."""

from __future__ import annotations

from ._record import Record
TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows the start
    from typing import Optional, Union
    RootArg = Union[Root, str, None]

from ._fs import none_if_unreadable
from .procfs.meminfo import Meminfo, read_meminfo
from .procfs.sysctl import VmSettings, read_kernel_release, read_overcommit_memory, read_vm_settings
from .procfs.vmstat import read_oom_kill_count
from .root import Root, as_root

__all__ = [
    "SystemInfo",
    "memory_overcommit",
    "vm_settings",
    "meminfo",
    "oom_kill_count",
    "kernel_release",
    "system_info",
]



def memory_overcommit(root: RootArg = None) -> int:
    """/proc/sys/vm/overcommit_memory: 0 heuristic, 1 always, 2 strict.

    Mode 2 makes commits fail early with ENOMEM; it does not disable the OOM killer.
    """
    return read_overcommit_memory(as_root(root))


def vm_settings(root: RootArg = None) -> VmSettings:
    """The OOM-related /proc/sys/vm knobs; a knob this kernel lacks is None."""
    return read_vm_settings(as_root(root))


def meminfo(root: RootArg = None) -> Meminfo:
    """MemTotal, MemAvailable, swap and commit figures of /proc/meminfo, in bytes."""
    return read_meminfo(as_root(root))


def oom_kill_count(root: RootArg = None) -> Optional[int]:
    """OOM kills since boot (/proc/vmstat ``oom_kill``, Linux 4.13+); None before 4.13."""
    return read_oom_kill_count(as_root(root))


def kernel_release(root: RootArg = None) -> str:
    """The release of the kernel behind the root (/proc/sys/kernel/osrelease)."""
    return read_kernel_release(as_root(root))


class SystemInfo(Record):
    """What ``oomutil system`` reports.  A part the root cannot provide is None."""

    kernel_release: Optional[str]
    vm: VmSettings
    meminfo: Optional[Meminfo]
    oom_kill_count: Optional[int]


def system_info(root: RootArg = None) -> SystemInfo:
    r = as_root(root)
    return SystemInfo(
        kernel_release=none_if_unreadable(read_kernel_release, r),
        vm=read_vm_settings(r),
        meminfo=none_if_unreadable(read_meminfo, r),
        oom_kill_count=none_if_unreadable(read_oom_kill_count, r),
    )

