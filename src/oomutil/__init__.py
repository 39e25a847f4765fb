"""oomutil: what the Linux OOM killer would do, and why.

Every read goes through a :class:`Root` (the live system by default), so a captured
tree or a host's /proc mounted at /host/proc reads like the live one::

    >>> import oomutil
    >>> p = oomutil.Process()            # this process
    >>> p.oom_score(), p.oom_score_adj()
    (666, 0)
    >>> oomutil.memory_overcommit()
    0

The names below are imported from their modules on first use (PEP 562), so that a
command such as ``oomutil top`` loads only the modules it needs.
"""

from ._version import __version__

TYPE_CHECKING = False
if TYPE_CHECKING:  # what type checkers and readers see; at run time, __getattr__ below
    from .errors import AccessDenied, InvalidValue, NoSuchProcess, NotAvailable, OomutilError, ParseError
    from .procfs.meminfo import Meminfo
    from .procfs.sysctl import VmSettings
    from .details import ProcessInfo, process_info
    from .process import Process, ProcessMemory, ScoreInputs, Uids, check_writable
    from .rank import ProcessGroup, ProcessRecord, group_records, snapshot, top
    from .root import Root
    from .system import (SystemInfo, kernel_release, meminfo, memory_overcommit, oom_kill_count,
                         system_info, vm_settings)
    from .visibility import View, view
    from .badness import Explanation, Unkillable, explain_process
    from .cgroups import (Hierarchy, MemoryCgroup, memory_cgroup, memory_cgroups, memory_hierarchy,
                          memory_cgroup_of, process_cgroup)
    from .events.parse import OomKillEvent, parse_lines, parse_text
    from .events.report import OomReport, reports
    from .events.select import Selection
    from .why import ReportExplanation, explain_report
    from .events.reconcile import Gap, reconcile
    from .procfs.pressure import Pressure
    from .victim import Candidate, DomainIndex, VictimReport, adj_to_be, predict
    from .workloads import NameCache, Names, Workload, name_kills, read_names

_EXPORTS = {
    "Root": "root",
    "Process": "process",
    "ProcessInfo": "details",
    "process_info": "details",
    "ProcessMemory": "process",
    "Uids": "process",
    "ScoreInputs": "process",
    "check_writable": "process",
    "ProcessRecord": "rank",
    "ProcessGroup": "rank",
    "snapshot": "rank",
    "top": "rank",
    "group_records": "rank",
    "VmSettings": "procfs.sysctl",
    "Meminfo": "procfs.meminfo",
    "SystemInfo": "system",
    "memory_overcommit": "system",
    "vm_settings": "system",
    "meminfo": "system",
    "oom_kill_count": "system",
    "kernel_release": "system",
    "system_info": "system",
    "posture": "posture",
    "Posture": "posture",
    "LimitedCgroup": "posture",
    "ProtectedProcess": "posture",
    "UserspaceKiller": "killers",
    "SwapArea": "procfs.swaps",
    "Zswap": "sysfs.zswap",
    "ZramDevice": "sysfs.zram",
    "CgroupLayout": "cgroups",
    "cgroup_layout": "cgroups",
    "working_set_bytes": "cgroups",
    "run_checks": "checks",
    "CHECKS": "checks",
    "Check": "checks",
    "Finding": "checks",
    "CheckReport": "checks",
    "View": "visibility",
    "view": "visibility",
    "MemoryCgroup": "cgroups",
    "Hierarchy": "cgroups",
    "memory_hierarchy": "cgroups",
    "memory_cgroups": "cgroups",
    "memory_cgroup": "cgroups",
    "process_cgroup": "cgroups",
    "memory_cgroup_of": "cgroups",
    "read_names": "workloads",
    "Names": "workloads",
    "Workload": "workloads",
    "NameCache": "workloads",
    "name_kills": "workloads",
    "Pressure": "procfs.pressure",
    "Explanation": "badness",
    "Unkillable": "badness",
    "explain_process": "badness",
    "predict": "victim",
    "VictimReport": "victim",
    "Candidate": "victim",
    "adj_to_be": "victim",
    "DomainIndex": "victim",
    "parse_text": "events.parse",
    "reports": "events.report",
    "Selection": "events.select",
    "OomReport": "events.report",
    "explain_report": "why",
    "ReportExplanation": "why",
    "parse_lines": "events.parse",
    "OomKillEvent": "events.parse",
    "reconcile": "events.reconcile",
    "Gap": "events.reconcile",
    "OomutilError": "errors",
    "NoSuchProcess": "errors",
    "AccessDenied": "errors",
    "NotAvailable": "errors",
    "ParseError": "errors",
    "InvalidValue": "errors",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'oomutil' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # the next access is a plain lookup
    return value


def __dir__():
    return sorted(__all__)
