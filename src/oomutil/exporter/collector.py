"""The custom collector: every family of docs/metrics.md, read at scrape time.

Five parts (system, kills, prediction, cgroups, checks), each timed and guarded: a part that
fails is reported in oomutil_scrape_collector_success and oomutil_read_errors_total and
never fails the scrape.  A scrape reads each file once: status and oom_score_adj of every
process, oom_score of the host's first K, each memory cgroup's own files (brief); every OOM
domain is ranked from its own part of that one snapshot (docs/metrics.md: what it costs).
"""

from __future__ import annotations

import os
import platform
import time

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from .._version import __version__
from .._fs import list_dir, parse_int, read_parsed
from ..badness import OOM_SCORE_ADJ_MIN, proc_oom_score
from ..cgroups import memory_cgroups, memory_hierarchy, working_set_bytes
from ..checks import run_checks
from ..errors import AccessDenied, NoSuchProcess, OomutilError, ParseError
from ..events.reconcile import KillReconciler
from ..procfs.meminfo import read_meminfo
from ..procfs.pressure import read_memory_pressure
from ..procfs.sysctl import read_vm_settings
from ..posture import posture
from ..procfs.vmstat import read_oom_kill_count
from ..rank import memory_records, start_times
from ..victim import DomainIndex, Machine, cgroup_report, system_report
from ..visibility import view
from ..workloads import NO_WORKLOAD, NameCache
from .follower import CONSTRAINTS, JOURNAL_QUIET, OTHER

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Dict, Iterator, List, Optional, Tuple, Union

    from ..cgroups import MemoryCgroup
    from ..root import Root
    from ..workloads import Names
    from .follower import Follower

# pod_uid and container_id from the cgroup's path, the names from the node's files
# (workloads.py); namespace, pod and container are cAdvisor's label names
WORKLOAD = ("pod_uid", "container_id", "namespace", "pod", "container")
CGROUP = ("cgroup", *WORKLOAD)
# name -> (counter?, help, label names): the families of docs/metrics.md
FAMILIES = {
    "oomutil_oom_kills_total": (True, "Processes the kernel's OOM killer killed since the exporter started.", ("constraint",)),
    "oomutil_cgroup_oom_kills_total": (True, "OOM kills since the exporter started, by the victim's memory cgroup and "
                                       "the one whose limit was hit.", ("cgroup", "trigger_cgroup", *WORKLOAD)),
    "oomutil_oom_last_kill_timestamp_seconds": (False, "Unix time at which the last OOM kill was seen.", ()),
    "oomutil_oom_last_victim_info": (False, "The last process the OOM killer killed.", ("pid", "comm", "cgroup", "constraint")),
    "oomutil_vmstat_oom_kill_total": (True, "OOM kills since boot, /proc/vmstat oom_kill.", ()),
    "oomutil_oom_kills_unlogged_total": (True, "OOM kills the kernel counted since the exporter started whose "
                                         "\"Killed process\" line the log lost (records overwritten before they "
                                         "were read).", ()),
    "oomutil_kernel_log_records_lost_total": (True, "Kernel log records overwritten before they could be read "
                                              "(kmsg; absent with the journal, which does not say).", ()),
    "oomutil_kernel_log_source_info": (False, "Where OOM kills are read from; none with the reason.", ("source", "reason")),
    "oomutil_predicted_victim_info": (False, "The process an OOM of the domain would kill now.", ("domain", "pid", "comm")),
    "oomutil_oom_score": (False, "oom_score (0..2000) of the first candidates of the domain.", ("domain", "rank", "pid", "comm")),
    "oomutil_victim_lead_bytes": (False, "How far the predicted victim is ahead of the runner-up.", ("domain",)),
    "oomutil_oom_protected_processes": (False, "Processes with oom_score_adj -1000 (never chosen).", ("domain",)),
    "oomutil_oom_protected_memory_bytes": (False, "Memory held by processes with oom_score_adj -1000.", ("domain",)),
    "oomutil_cgroup_memory_usage_bytes": (False, "Memory charged to the cgroup.", CGROUP),
    "oomutil_cgroup_memory_working_set_bytes": (False, "The cgroup's usage less its inactive page cache "
                                                "(memory.stat), which reclaim frees first.", CGROUP),
    "oomutil_cgroup_memory_limit_bytes": (False, "The cgroup's own memory limits.", CGROUP + ("kind",)),
    "oomutil_cgroup_memory_headroom_bytes": (False, "Room left under the limit that bites.", CGROUP),
    "oomutil_cgroup_memory_events_total": (True, "memory.events counters of the cgroup (hierarchical).", CGROUP + ("event",)),
    "oomutil_cgroup_memory_oom_group": (False, "1 when an OOM kills the whole cgroup (memory.oom.group).", CGROUP),
    "oomutil_cgroup_memory_pressure_seconds_total": (True, "Memory pressure stall time of the cgroup (PSI).", CGROUP + ("kind",)),
    "oomutil_overcommit_memory": (False, "vm.overcommit_memory: 0 heuristic, 1 always, 2 never.", ()),
    "oomutil_panic_on_oom": (False, "vm.panic_on_oom.", ()),
    "oomutil_memory_commit_limit_bytes": (False, "CommitLimit (enforced only with overcommit_memory=2).", ()),
    "oomutil_memory_committed_bytes": (False, "Committed_AS.", ()),
    "oomutil_memory_available_bytes": (False, "MemAvailable.", ()),
    "oomutil_memory_pressure_seconds_total": (True, "Memory pressure stall time of the system (PSI).", ("kind",)),
    "oomutil_processes_visible": (False, "Processes this /proc shows.", ()),
    "oomutil_processes_hidden": (False, "Processes the kernel has that this view cannot read (listed but unreadable, "
                                 "or not listed); kernel threads and the global init not counted.", ()),
    "oomutil_name_files_skipped": (False, "Files of the container runtimes and the kubelet that name pods and "
                                   "containers but could not be read or made no sense (docs/kubernetes.md).", ()),
    "oomutil_check_finding": (False, "1 for each finding of `oomutil system --check` (docs/checks.md): its code "
                              "and severity.", ("code", "severity")),
    "oomutil_build_info": (False, "oomutil's version and the Python running it.", ("version", "python")),
    "oomutil_scrape_collector_success": (False, "1 if that part of the scrape was read.", ("collector",)),
    "oomutil_scrape_collector_duration_seconds": (False, "How long that part of the scrape took.", ("collector",)),
    "oomutil_read_errors_total": (True, "Parts of scrapes that failed, by reason; vanished: cgroups removed during a "
                                  "scrape (skipped, the part goes on).", ("reason",)),
    "oomutil_scrape_timeout_seconds": (False, "The scrape timeout Prometheus sent with the last scrape "
                                       "(X-Prometheus-Scrape-Timeout-Seconds).", ()),
    "oomutil_http_requests_refused_total": (True, "Requests answered 503 because --max-requests were being served.", ()),
    "oomutil_http_clients_gone_total": (True, "Clients that went away before their answer was written.", ()),
}
PARTS = ("system", "kills", "prediction", "cgroups", "checks")
REASONS = ("permission", "vanished", "parse", "other")
CHECKS_INTERVAL = 60.0  # seconds between two runs of system --check's findings (_checks)


class Options:
    """What ``serve`` and ``metrics`` were told."""

    def __init__(self, top_k: int = 5, cgroup_depth: int = 3, max_cgroup_series: int = 500) -> None:
        self.top_k, self.cgroup_depth, self.max_cgroup_series = top_k, cgroup_depth, max_cgroup_series


class _Out:
    """The families of one scrape, made on first use."""

    def __init__(self) -> None:
        self.families: Dict[str, Union[CounterMetricFamily, GaugeMetricFamily]] = {}

    def add(self, name: str, labels, value: float) -> None:
        family = self.families.get(name)
        if family is None:
            counter, doc, label_names = FAMILIES[name]
            kind = CounterMetricFamily if counter else GaugeMetricFamily
            family = self.families[name] = kind(name, doc, labels=label_names)
        # no created time is given: prometheus-client would add a *_created series for it
        family.add_metric([_label(str(v)) for v in labels], value)


class ScrapeState:
    """What the HTTP server knows of its scrapes, shown by the collector: the timeout
    Prometheus sent last, requests refused, clients gone.  Written by the server's threads
    (an int or float assigned whole: no lock needed for a reader that takes any recent value)."""

    def __init__(self) -> None:
        self.timeout_seconds: Optional[float] = None
        self.refused = 0
        self.clients_gone = 0


class OomCollector:
    def __init__(self, root: Root, options: Options, follower: Optional[Follower] = None,
                 state: Optional[ScrapeState] = None) -> None:
        self.root, self.options, self.follower, self.state = root, options, follower, state
        self.errors = dict.fromkeys(REASONS, 0)
        # A seam for the tests of the server's bounds: a collection made this much slower.
        self.delay = float(os.environ.get("OOMUTIL_TEST_COLLECTION_DELAY", "0") or 0)
        start = follower.counted_at_start if follower is not None else _none_on_error(read_oom_kill_count, root)
        self.reconciler = KillReconciler(start, settle=JOURNAL_QUIET) if start is not None else None
        self.findings: Optional[Tuple[float, List[Tuple[str, str]]]] = None  # (when, [(code, severity)])
        self.name_cache = NameCache(root)
        # a kill counter's workload labels, as named when its pair was first shown: a pod
        # removed after its kill must not turn the counter into a new series
        self.kill_labels: Dict[str, List[str]] = {}

    def describe(self) -> Iterator[Metric]:
        for name, (counter, doc, labels) in FAMILIES.items():
            yield (CounterMetricFamily if counter else GaugeMetricFamily)(name, doc, labels=labels)

    def collect(self) -> Iterator[Metric]:
        if self.delay:
            time.sleep(self.delay)
        out = _Out()
        shared: dict = {}  # what two parts read once per scrape (the cgroup tree)
        for part in PARTS:
            began = time.perf_counter()
            try:
                getattr(self, f"_{part}")(out, shared)
                ok = 1
            except Exception as err:  # noqa: BLE001 -- a part that fails never fails the scrape
                self.errors[_reason(err)] += 1
                ok = 0
            out.add("oomutil_scrape_collector_success", [part], ok)
            out.add("oomutil_scrape_collector_duration_seconds", [part], time.perf_counter() - began)
        for reason, count in self.errors.items():
            out.add("oomutil_read_errors_total", [reason], count)
        if self.state is not None:
            if self.state.timeout_seconds is not None:
                out.add("oomutil_scrape_timeout_seconds", [], self.state.timeout_seconds)
            out.add("oomutil_http_requests_refused_total", [], self.state.refused)
            out.add("oomutil_http_clients_gone_total", [], self.state.clients_gone)
        yield from out.families.values()

    # -- the parts -------------------------------------------------------------------------

    def _system(self, out: _Out, shared: dict) -> None:
        root = self.root
        m = read_meminfo(root)
        for name, value in (("oomutil_memory_commit_limit_bytes", m.commit_limit_bytes),
                            ("oomutil_memory_committed_bytes", m.committed_as_bytes),
                            ("oomutil_memory_available_bytes", m.mem_available_bytes)):
            if value is not None:
                out.add(name, [], value)
        vm = read_vm_settings(root)
        if vm.overcommit_memory is not None:
            out.add("oomutil_overcommit_memory", [], vm.overcommit_memory)
        if vm.panic_on_oom is not None:
            out.add("oomutil_panic_on_oom", [], vm.panic_on_oom)
        psi = _none_on_error(read_memory_pressure, root)
        if psi is not None:
            out.add("oomutil_memory_pressure_seconds_total", ["some"], psi.some_total_us / 1e6)
            if psi.full_total_us is not None:
                out.add("oomutil_memory_pressure_seconds_total", ["full"], psi.full_total_us / 1e6)
        count = read_oom_kill_count(root)
        if count is not None:
            out.add("oomutil_vmstat_oom_kill_total", [], count)
        shared["vmstat"] = count
        seen = shared["view"] = view(root)
        out.add("oomutil_processes_visible", [], sum(1 for name in list_dir(root.proc()) if name.isdigit()))
        # processes, never threads: listed but unreadable, and not listed (from cgroup.procs)
        not_listed = 0 if seen.complete and seen.processes_hidden is None else seen.processes_hidden
        if not_listed is not None:
            out.add("oomutil_processes_hidden", [], seen.processes_unreadable + not_listed)
        out.add("oomutil_build_info", [__version__, platform.python_version()], 1)

    def _kills(self, out: _Out, shared: dict) -> None:
        if self.follower is None:
            out.add("oomutil_kernel_log_source_info", ["none", "a single run follows no log"], 1)
            return
        state = self.follower.snapshot()
        out.add("oomutil_kernel_log_source_info", [state["source"], state["reason"]], 1)
        if state["source"] == "none":
            return
        for constraint in CONSTRAINTS:
            out.add("oomutil_oom_kills_total", [constraint], state["by_constraint"][constraint])
        names = self._names(shared)
        self.kill_labels = {cgroup: self.kill_labels.get(cgroup) or _workload_labels(names, cgroup)
                            for cgroup, _ in state["cgroups"]}
        for (cgroup, trigger), count in sorted(state["cgroups"].items()):
            out.add("oomutil_cgroup_oom_kills_total", [cgroup, trigger, *self.kill_labels[cgroup]], count)
        if state["lost"] is not None:  # the journal says nothing of what it lost: absent, unknown
            out.add("oomutil_kernel_log_records_lost_total", [], state["lost"])
        last = state["last"]
        if last is not None:
            out.add("oomutil_oom_last_kill_timestamp_seconds", [], state["last_time"])
            constraint = (last.constraint or "").replace("CONSTRAINT_", "").lower() or "unknown"
            out.add("oomutil_oom_last_victim_info", [last.pid, last.comm or "", last.task_memcg or "", constraint], 1)
        if self.reconciler is not None:
            # the follower's position on both sides of the count: no kill line came between
            seen, lost, caught_up = self.follower.position()
            counted = _none_on_error(read_oom_kill_count, self.root)
            seen_after, lost, caught_up_after = self.follower.position()
            if counted is not None:
                self.reconciler.observe(counted, seen_after, lost, caught_up_after and seen == seen_after)
            out.add("oomutil_oom_kills_unlogged_total", [], self.reconciler.unlogged)

    def _prediction(self, out: _Out, shared: dict) -> None:
        """Every process read once (status and oom_score_adj: memory_records()), placed in
        its cgroup by cgroup.procs (DomainIndex), and each OOM domain ranked from its own
        part: the host's, then each limited cgroup's.  The kernel's own oom_score is read
        for the host's first K only; a domain's tie for first is settled by start time."""
        root, k = self.root, self.options.top_k
        machine = Machine(root)
        groups = self._groups(shared)
        seen = shared.get("view") or view(root)
        records = memory_records(root)
        index = DomainIndex(groups, records)
        host = self._settled(records, lambda rs: system_report(root, rs, groups, machine, seen, keep=k))
        scores = {c.pid: _none_on_error(lambda r, pid=c.pid: read_parsed(r.proc(pid, "oom_score"), parse_int), root)
                  for c in host.candidates[:k]}  # the kernel's own oom_score
        self._domain(out, "/", host, [r for r in records if r.oom_score_adj == OOM_SCORE_ADJ_MIN],
                     lambda c: scores.get(c.pid))
        for g in self._limited(groups):
            sub = index.subtree(g.path)
            members = index.records(sub)
            report = self._settled(members, lambda rs, g=g._replace(oom_scope=g.path), sub=sub:
                                   cgroup_report(root, g, sub, rs, machine=machine, keep=k))
            self._domain(out, g.path, report, [r for r in members if r.oom_score_adj == OOM_SCORE_ADJ_MIN],
                         lambda c, t=report.totalpages: proc_oom_score(c.badness_pages, t, machine.era))

    def _settled(self, records: list, rank):
        """``rank(records)``, again with the start times of those tied for first: among
        equal badness the kernel's scan order decides (memory_records() reads no stat)."""
        report = rank(records)
        if not report.tied:
            return report
        times = start_times(self.root, report.tied)
        return rank([r._replace(start_time_ticks=times[r.pid]) if r.pid in times else r for r in records])

    def _domain(self, out: _Out, domain: str, report, guarded: list, score) -> None:
        """The prediction families of one OOM domain; ``score(candidate)`` its oom_score."""
        victim = report.victim
        if victim is not None:
            out.add("oomutil_predicted_victim_info", [domain, victim.pid, victim.comm or ""], 1)
        for rank, c in enumerate(report.candidates[: self.options.top_k], 1):
            value = score(c)
            if value is not None:
                out.add("oomutil_oom_score", [domain, rank, c.pid, c.comm or ""], value)
        if report.margin_bytes is not None:
            out.add("oomutil_victim_lead_bytes", [domain], report.margin_bytes)
        out.add("oomutil_oom_protected_processes", [domain], len(guarded))
        out.add("oomutil_oom_protected_memory_bytes", [domain],
                sum((r.rss_bytes or 0) + (r.swap_bytes or 0) + (r.pgtables_bytes or 0) for r in guarded))

    def _cgroups(self, out: _Out, shared: dict) -> None:
        groups = self._groups(shared)
        out.add("oomutil_name_files_skipped", [], self._names(shared).skipped)
        hierarchy = memory_hierarchy(self.root)
        for g in self._limited(groups, high_too=True):
            labels = [g.path, *(v or "" for v in (g.pod_uid, g.container_id, g.namespace, g.pod, g.container))]
            if g.usage_bytes is not None:
                out.add("oomutil_cgroup_memory_usage_bytes", labels, g.usage_bytes)
                working_set = working_set_bytes(g, self.root, hierarchy=hierarchy) if hierarchy else None
                if working_set is not None:
                    out.add("oomutil_cgroup_memory_working_set_bytes", labels, working_set)
            if g.limit_bytes is not None:
                out.add("oomutil_cgroup_memory_limit_bytes", labels + ["max"], g.limit_bytes)
            if g.high_bytes is not None:
                out.add("oomutil_cgroup_memory_limit_bytes", labels + ["high"], g.high_bytes)
            if g.headroom_bytes is not None:
                out.add("oomutil_cgroup_memory_headroom_bytes", labels, g.headroom_bytes)
            events: Dict[str, Optional[int]] = dict(g.events) if g.events is not None else \
                {"oom_kill": g.oom_kill_count}  # v1: the one count it has (no count of OOMs)
            for event, count in events.items():
                if count is not None:
                    out.add("oomutil_cgroup_memory_events_total", labels + [event], count)
            if g.oom_group is not None:
                out.add("oomutil_cgroup_memory_oom_group", labels, int(g.oom_group))
            if g.pressure is not None:
                out.add("oomutil_cgroup_memory_pressure_seconds_total", labels + ["some"], g.pressure.some_total_us / 1e6)
                if g.pressure.full_total_us is not None:
                    out.add("oomutil_cgroup_memory_pressure_seconds_total", labels + ["full"],
                            g.pressure.full_total_us / 1e6)

    def _checks(self, out: _Out, shared: dict) -> None:
        """The findings of ``system --check`` on this root: one series a finding, at most
        one a check of the catalogue (checks.CHECKS).  Found again at most every
        CHECKS_INTERVAL seconds: the posture scan reads every process and its command line
        and every memory cgroup again (on a node of 6,000 processes, more than the rest of
        a scrape), and the findings change with the machine's setup, not by the second."""
        now = time.monotonic()
        if self.findings is None or now - self.findings[0] >= CHECKS_INTERVAL:
            self.findings = (now, [(f.code, f.severity) for f in run_checks(posture(self.root)).findings])
        for code, severity in self.findings[1]:
            out.add("oomutil_check_finding", [code, severity], 1)

    def _groups(self, shared: dict) -> List[MemoryCgroup]:
        """The memory cgroups, walked once a scrape; those removed meanwhile are skipped and
        counted as vanished."""
        if "groups" not in shared:
            vanished: List[str] = []
            shared["groups"] = memory_cgroups(self.root, vanished=vanished, brief=True, names=self._names(shared))
            self.errors["vanished"] += len(vanished)
        return shared["groups"]

    def _names(self, shared: dict) -> Names:
        """The pods' and containers' names, read once a scrape (only the files that changed)."""
        if "names" not in shared:
            shared["names"] = self.name_cache.names()
        return shared["names"]

    def _limited(self, groups: List[MemoryCgroup], high_too: bool = False) -> List[MemoryCgroup]:
        """Cgroups with a limit of their own (memory.high too for the cgroup families), down
        to --cgroup-depth, at most --max-cgroup-series of them, shallowest first."""
        chosen = [g for g in groups if g.path != "/" and g.path.count("/") <= self.options.cgroup_depth
                  and (g.limit_bytes is not None or (high_too and g.high_bytes is not None))]
        chosen.sort(key=lambda g: (g.path.count("/"), g.path))
        return chosen[: self.options.max_cgroup_series]


def _label(text: str) -> str:
    """A label value as the exposition can carry it: UTF-8.  A cgroup's name is any bytes
    (Python holds those that are not UTF-8 as lone surrogates, which failed the whole
    scrape): each such byte is written \\xNN."""
    if text.isascii():
        return text
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a surrogate no byte stands for ("\ud800" from JSON)
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _workload_labels(names: Names, cgroup: str) -> List[str]:
    """The WORKLOAD labels of a cgroup path ("" where unknown; all "" for __other__)."""
    w = names.workload(cgroup) if cgroup and cgroup != OTHER else NO_WORKLOAD
    return [v or "" for v in w]


def _none_on_error(read, root: Root):
    """``read(root)``, or None where it cannot be read here (the family is then absent)."""
    try:
        return read(root)
    except (OomutilError, OSError):
        return None


def _reason(err: Exception) -> str:
    if isinstance(err, AccessDenied):
        return "permission"
    if isinstance(err, NoSuchProcess):
        return "vanished"
    if isinstance(err, ParseError):
        return "parse"
    return "other"
