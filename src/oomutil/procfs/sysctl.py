"""/proc/sys/vm knobs that decide what happens on an OOM, and /proc/sys/kernel/osrelease.

Each knob is a file holding one integer.  Documentation/admin-guide/sysctl/vm.rst;
mm/util.c (__vm_enough_memory, vm_commit_limit), mm/oom_kill.c (check_panic_on_oom,
out_of_memory).
"""

from __future__ import annotations

from .._record import Record
TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows the start
    from typing import Optional

from .._fs import decode, none_if_missing, parse_int, read_parsed
from ..root import Root


class VmSettings(Record):
    """The OOM-related vm sysctls; None for a knob this kernel (or tree) has no file for."""

    overcommit_memory: Optional[int]  # /proc/sys/vm/overcommit_memory: 0 heuristic, 1 always, 2 strict
    overcommit_ratio: Optional[int]  # /proc/sys/vm/overcommit_ratio: % of RAM in CommitLimit (mode 2)
    overcommit_kbytes: Optional[int]  # /proc/sys/vm/overcommit_kbytes: replaces the ratio when non-zero
    panic_on_oom: Optional[int]  # /proc/sys/vm/panic_on_oom: 0 kill, 1 panic if system-wide, 2 always
    oom_kill_allocating_task: Optional[int]  # /proc/sys/vm/oom_kill_allocating_task
    oom_dump_tasks: Optional[int]  # /proc/sys/vm/oom_dump_tasks: log the task table on a kill
    watermark_scale_factor: Optional[int]  # /proc/sys/vm/watermark_scale_factor (4.6+): kswapd's
    #                                        head start, in 1/10000 of memory (default 10)
    min_free_kbytes: Optional[int]  # /proc/sys/vm/min_free_kbytes: the min watermark, kept for atomic
    #                                 allocations and reclaim itself


def read_vm_settings(root: Root) -> VmSettings:
    """Read each knob of VmSettings from /proc/sys/vm; a missing file gives None."""
    values = {
        name: none_if_missing(read_parsed, root.proc("sys", "vm", name), parse_int) for name in VmSettings._fields
    }
    return VmSettings(**values)


def read_overcommit_memory(root: Root) -> int:
    """/proc/sys/vm/overcommit_memory.  Raises NotAvailable when the file is missing."""
    return read_parsed(root.proc("sys", "vm", "overcommit_memory"), parse_int)


def read_swappiness(root: Root) -> Optional[int]:
    """/proc/sys/vm/swappiness; None where the tree lacks it."""
    return none_if_missing(read_parsed, root.proc("sys", "vm", "swappiness"), parse_int)


def read_kernel_release(root: Root) -> str:
    """/proc/sys/kernel/osrelease, the ``uname -r`` of the kernel that wrote the tree."""
    return read_parsed(root.proc("sys", "kernel", "osrelease"), lambda d: decode(d.strip()))

