"""The machine's OOM posture: every setting and state that decides what running out of
memory will do here, read in one pass (``oomutil system``; checks.py judges it).
"""

from __future__ import annotations

from ._record import Record

from ._fs import none_if_unreadable
from .errors import ParseError
from .badness import OOM_SCORE_ADJ_MIN, era_of
from .cgroups import CgroupLayout, cgroup_layout, memory_cgroups, memory_hierarchy, working_set_bytes
from .errors import InvalidValue
from .visibility import View, view
from .killers import UserspaceKiller, userspace_killers
from .procfs.meminfo import Meminfo, read_meminfo
from .procfs.pressure import Pressure, read_memory_pressure
from .procfs.swaps import SwapArea, read_swaps
from .procfs.sysctl import VmSettings, read_kernel_release, read_vm_settings
from .procfs.vmstat import read_oom_kill_count
from .rank import snapshot
from .root import Root, as_root
from .sysfs.zram import ZramDevice, read_zram_devices
from .sysfs.zswap import Zswap, read_zswap

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows the start
    from typing import Optional, Tuple, Union

__all__ = ["Posture", "LimitedCgroup", "ProtectedProcess", "posture"]


class LimitedCgroup(Record):
    """A memory cgroup with a limit of its own, or (v1) with its OOM killer disabled."""

    path: str
    name: str
    version: int
    usage_bytes: Optional[int]
    working_set_bytes: Optional[int]  # usage minus inactive page cache, what reclaim cannot just drop
    limit_bytes: Optional[int]  # its own limit (None: only oom_kill_disable brought it here)
    oom_kill_disable: Optional[bool]  # v1 memory.oom_control: its tasks hang at the limit
    under_oom: Optional[bool]  # v1: and they hang right now


class ProtectedProcess(Record):
    """A process at oom_score_adj -1000: the OOM killer never chooses it."""

    pid: int
    comm: Optional[str]
    rss_bytes: Optional[int]
    swap_bytes: Optional[int]
    cgroup: Optional[str]


class Posture(Record):
    """What ``oomutil system`` reports.  A part the root cannot provide is None."""

    kernel_release: Optional[str]
    era: Optional[str]  # the oom_badness() formula of this kernel (badness.ERAS: its first release)
    vm: VmSettings
    meminfo: Optional[Meminfo]
    swap_areas: Optional[Tuple[SwapArea, ...]]  # /proc/swaps (zram devices used as swap among them)
    zswap: Optional[Zswap]
    zram: Tuple[ZramDevice, ...]  # every zram device, set up or not
    pressure: Optional[Pressure]  # /proc/pressure/memory (4.20+, CONFIG_PSI, not psi=0)
    oom_kill_count: Optional[int]  # /proc/vmstat oom_kill (4.13+): kernel OOM kills since boot
    cgroups: CgroupLayout
    limited_cgroups: Tuple[LimitedCgroup, ...]
    userspace_killers: Tuple[UserspaceKiller, ...]
    unkillable: Tuple[ProtectedProcess, ...]  # largest first (rss + swap)
    view: View  # how much of the processes this /proc shows (hidepid, another pid namespace)


def posture(root: Union[Root, str, None] = None) -> Posture:
    """Read the machine's OOM posture under ``root`` (one scan of the processes)."""
    r = as_root(root)
    release = none_if_unreadable(read_kernel_release, r)
    try:
        era = era_of(release) if release else None
    except InvalidValue:  # before 2.6.36: no formula oomutil can redo
        era = None
    processes = snapshot(r, kernel_threads=False, cmdline=True)
    protected = sorted(
        (ProtectedProcess(p.pid, p.comm, p.rss_bytes, p.swap_bytes, p.cgroup)
         for p in processes if p.oom_score_adj == OOM_SCORE_ADJ_MIN),
        key=lambda p: -((p.rss_bytes or 0) + (p.swap_bytes or 0)))
    layout = cgroup_layout(r)
    h = memory_hierarchy(r)
    limited = tuple(
        LimitedCgroup(g.path, g.name, g.version, g.usage_bytes, working_set_bytes(g, r, hierarchy=h),
                      g.limit_bytes, g.oom_kill_disable, g.under_oom)
        for g in (memory_cgroups(r) if h is not None else ())
        if g.limit_bytes is not None or g.oom_kill_disable)
    swaps = _optional(read_swaps, r)
    return Posture(
        kernel_release=release,
        era=era,
        vm=read_vm_settings(r),
        meminfo=none_if_unreadable(read_meminfo, r),
        swap_areas=tuple(swaps) if swaps is not None else None,
        zswap=_optional(read_zswap, r),
        zram=tuple(_optional(read_zram_devices, r) or ()),
        pressure=_optional(read_memory_pressure, r),
        oom_kill_count=_optional(read_oom_kill_count, r),
        cgroups=layout,
        limited_cgroups=limited,
        userspace_killers=tuple(userspace_killers(r, processes)),
        unkillable=tuple(protected),
        view=view(r),
    )


def _optional(read, r: Root):
    """A part of the report the rest does not depend on: None where its file is missing,
    denied or makes no sense (one odd device must not take the whole report, or a monitor's
    status, with it)."""
    try:
        return none_if_unreadable(read, r)
    except ParseError:
        return None
