"""Which kills a user asked for: by time window, pid, name, cgroup, pod, namespace, killer.

One implementation for ``events``, ``why``, the exporter and the library: plain functions
over OomKillEvent records, and ``Selection``, the filters given at once.  Times are
compared as wall-clock moments (events.clock.wall_time()): date the kills of this boot's
log first (``dated()``), or those with only seconds since boot cannot be placed in a window
and are kept, reported in ``undated``.
"""

from __future__ import annotations

import re

from ..cgroup_names import within

TYPE_CHECKING = False
if TYPE_CHECKING:
    import datetime
    from typing import Any, Callable, Collection, Iterable, List, Optional, Union

    from ..root import Root
    from .parse import OomKillEvent

    NameTest = Union[str, "re.Pattern[str]", Callable[[str], Any]]


def in_cgroup(event: OomKillEvent, cgroup: str) -> bool:
    """Was the process killed in ``cgroup`` or below it?  Its own cgroup (``task_memcg``),
    or, for a member of a memory.oom.group kill (4.19+, whose Killed line has no summary of
    its own), the group's (``group_memcg``)."""
    return within(event.task_memcg, cgroup) or within(event.group_memcg, cgroup)


def mentions_cgroup(events: Iterable[OomKillEvent], cgroup: str) -> bool:
    """Is ``cgroup`` (or one below it) in any kill, as the victim's, the group's or the one
    whose limit was hit?  A cgroup removed since (a pod's) is still known by its kills."""
    return any(in_cgroup(e, cgroup) or within(e.oom_memcg, cgroup) for e in events)


def of_pod(event: OomKillEvent, pod: str) -> bool:
    """Was the victim in pod ``pod``: its name (workloads.name_kills()), or its UID, whole
    or its first 8 or more characters (as ``pod 0f1e2d3c`` shows it), with "-" or with "_"
    (as the systemd driver's cgroup paths spell it)?"""
    if event.pod is not None and event.pod == pod:
        return True
    uid = event.pod_uid
    return uid is not None and len(pod) >= 8 and uid.startswith(pod.lower().replace("_", "-"))


def of_workload(event: OomKillEvent, name: str) -> bool:
    """Was the victim in the pod or container ``name`` ("namespace/pod" or
    "namespace/pod/container", as the commands print them; kills named by
    workloads.name_kills())?  Any attempt of the container: a kill of the one before a
    restart is in a cgroup that is gone, and has the same names."""
    parts = name.split("/")
    return event.pod is not None and [event.namespace, event.pod, event.container][:len(parts)] == parts


def _name_test(name: Optional[NameTest]) -> Optional[Callable[[str], Any]]:
    """A regular expression (text or compiled) as its search function; a callable as is."""
    if name is None or callable(name):
        return name
    if isinstance(name, str):
        return re.compile(name).search
    return name.search


class Selection:
    """The filters of one request; None (or empty) means any.

    ``pids``: the killed process's pid; ``name``: a regular expression searched in its comm
    (or its search function); ``cgroup``: in_cgroup(); ``since``/``until``: aware datetimes,
    both ends included; ``killers``: "kernel", "earlyoom", "nohang", "systemd-oomd";
    ``pod``: of_pod(); ``namespace``: the victim's pod's namespace (kills named by
    workloads.name_kills()); ``workload``: of_workload(), or else in ``cgroup``."""

    def __init__(self, pids: Optional[Collection[int]] = None, name: Optional[NameTest] = None,
                 cgroup: Optional[str] = None, since: Optional[datetime.datetime] = None,
                 until: Optional[datetime.datetime] = None, killers: Optional[Collection[str]] = None,
                 pod: Optional[str] = None, namespace: Optional[str] = None, workload: Optional[str] = None) -> None:
        self.pids, self.name, self.cgroup = pids or None, _name_test(name), cgroup or None
        self.since, self.until, self.killers = since, until, killers or None
        self.pod, self.namespace, self.workload = pod or None, namespace or None, workload or None

    def __bool__(self) -> bool:
        """Does it leave any kill out?"""
        return any(x is not None for x in (self.pids, self.name, self.cgroup, self.since, self.until, self.killers,
                                           self.pod, self.namespace, self.workload))

    @property
    def timed(self) -> bool:
        return self.since is not None or self.until is not None

    def wanted(self, event: OomKillEvent, undated: Optional[List[OomKillEvent]] = None) -> bool:
        """Does ``event`` pass every filter?  A kill whose time cannot be placed on the clock
        passes the time window (it cannot be shown outside it) and is appended to ``undated``."""
        if self.pids is not None and event.pid not in self.pids:
            return False
        if self.name is not None and not (event.comm and self.name(event.comm)):
            return False
        # a cgroup given by its pod's names: the kills in that cgroup, and those its names
        # have (of_workload()), whichever cgroup they were in
        if (self.cgroup is not None or self.workload is not None) and not (
                (self.cgroup is not None and in_cgroup(event, self.cgroup))
                or (self.workload is not None and of_workload(event, self.workload))):
            return False
        if self.killers is not None and event.killer not in self.killers:
            return False
        if self.pod is not None and not of_pod(event, self.pod):
            return False
        if self.namespace is not None and event.namespace != self.namespace:
            return False
        if self.timed:
            from .clock import wall_time

            when = wall_time(event.time)
            if when is None:
                if undated is not None:
                    undated.append(event)
                return True
            if (self.since is not None and when < self.since) or (self.until is not None and when > self.until):
                return False
        return True

    def select(self, events: Iterable[OomKillEvent], undated: Optional[List[OomKillEvent]] = None) -> List[OomKillEvent]:
        """The events that pass, in their order."""
        return [e for e in events if self.wanted(e, undated)]


def select(events: Iterable[OomKillEvent], pids: Optional[Collection[int]] = None, name: Optional[NameTest] = None,
           cgroup: Optional[str] = None, since: Optional[datetime.datetime] = None,
           until: Optional[datetime.datetime] = None, killers: Optional[Collection[str]] = None,
           undated: Optional[List[OomKillEvent]] = None, pod: Optional[str] = None,
           namespace: Optional[str] = None) -> List[OomKillEvent]:
    """The kills that pass every filter given (see Selection)."""
    return Selection(pids, name, cgroup, since, until, killers, pod, namespace).select(events, undated)


def dated(events: Iterable[OomKillEvent], root: Optional[Root], utc: bool = False) -> List[OomKillEvent]:
    """Kills on one clock, before a time window is applied: those of this boot's log (kmsg,
    the journal; ``root`` given) dated from its boot time and shown in local time; a file's
    (``root`` None: a log of another boot, maybe of another machine) as it gives them; in UTC
    with ``utc`` wherever the zone is known (events.clock.on_the_clock())."""
    from .._fs import none_if_unreadable
    from ..procfs.stat import read_boot_time
    from .clock import on_the_clock

    if root is None:
        return on_the_clock(events, None, utc, local=False)
    return on_the_clock(events, none_if_unreadable(read_boot_time, root), utc)
