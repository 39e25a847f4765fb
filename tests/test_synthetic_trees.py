"""Memory cgroups on trees: the capture of this machine (v1) and synthetic v2/hybrid ones."""

from __future__ import annotations

import json
import os
import shutil

import pytest
from helpers import FIXTURES

import oomutil
from oomutil import victim
from oomutil.cgroups import memory_cgroup, memory_cgroups, memory_hierarchy, process_cgroup

SYN = FIXTURES / "synthetic"
K8S = str(SYN / "cgroup2-k8s")
HYBRID = str(SYN / "cgroup-hybrid")
UID_ = "0f1e2d3c_1111_2222_3333_444455556666"
POD = f"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{UID_}.slice"
CTR = POD + "/cri-containerd-4f2a9c8e1d3b5a7f9e0c2d4b6a8f1e3c5d7b9a0f2e4c6d8b0a1f3e5c7d9b2a4c.scope"


def test_v2_hierarchy_limits_counters():
    h = memory_hierarchy(K8S)
    assert (h.version, h.directory.endswith("sys/fs/cgroup"), h.mount_root) == (2, True, "/")
    ctr = memory_cgroup(CTR, K8S)
    assert ctr.limit_bytes is None  # "max"
    assert ctr.effective_limit_bytes == 512 << 20 and ctr.limited_by == POD
    assert ctr.headroom_bytes == (512 << 20) - 400000000  # the pod's room, not the container's
    assert (ctr.oom_count, ctr.oom_kill_count, ctr.oom_group_kill_count) == (2, 2, None)
    assert ctr.events == {"low": 0, "high": 3, "max": 40, "oom": 2, "oom_kill": 2}
    assert ctr.events_local["oom_kill"] == 2
    assert ctr.oom_group is True and ctr.high_bytes is None and ctr.low_bytes == 0
    assert ctr.swap_limit_bytes is None and ctr.peak_bytes == 500000000
    assert ctr.pressure.some_avg10 == 1.5 and ctr.pressure.full_total_us == 23456
    assert ctr.pids == (200, 201) and ctr.name.startswith("pod 0f1e2d3c/4f2a9c8e1d3b")
    assert (ctr.failcnt, ctr.under_oom, ctr.memsw_limit_bytes) == (None, None, None)  # v1 only
    pod = memory_cgroup(POD, K8S)
    assert pod.oom_group_kill_count == 0 and pod.oom_group is False
    assert pod.events_local == {"low": 0, "high": 0, "max": 0, "oom": 0, "oom_kill": 0, "oom_group_kill": 0}


def test_v2_walk_and_process_mapping():
    groups = {g.path: g for g in memory_cgroups(K8S)}
    assert set(groups) >= {"/", "/kubepods.slice", POD, CTR, "/system.slice/sshd.service"}
    assert groups["/"].limit_bytes is None and groups["/"].usage_bytes is None  # root: no memory.current
    assert groups["/system.slice/sshd.service"].effective_limit_bytes == 100 << 20
    assert process_cgroup(200, K8S).path == CTR
    assert process_cgroup(300, K8S).name == "sshd.service"


def test_v2_victim_uses_the_pod_limit_and_negative_adj():
    records = oomutil.snapshot(K8S, kernel_threads=False)
    groups = memory_cgroups(K8S)
    ctr = next(g for g in groups if g.path == CTR)
    from oomutil.victim import cgroup_report

    report = cgroup_report(oomutil.Root(K8S), ctr, groups, records)
    v = report.victim
    # totalpages = 512 MiB / 4 KiB = 131072; java: 300000 kB + 200 kB page tables = 75050 pages,
    # + 999 * (131072 / 1000 = 131) = 130869 -> 205919; sidecar: 15050 + -997 * 131 < 0
    assert (report.scope, report.totalpages, v.pid, v.badness_pages) == (POD, 131072, 200, 75050 + 999 * 131)
    sshd = next(g for g in groups if g.path == "/system.slice/sshd.service")
    assert cgroup_report(oomutil.Root(K8S), sshd, groups, records).victim is None  # its process: adj -1000


def test_hybrid_prefers_v1_and_handles_old_kernels():
    h = memory_hierarchy(HYBRID)
    assert h.version == 1 and h.directory.endswith("sys/fs/cgroup/memory")
    child = memory_cgroup("/parent/child", HYBRID)
    assert child.limit_bytes == 64 << 20
    assert child.effective_limit_bytes == 32 << 20 and child.limited_by == "/parent"
    assert child.headroom_bytes == (32 << 20) - 30000000
    assert child.oom_kill_count is None  # no oom_kill line before 4.13
    assert (child.oom_kill_disable, child.under_oom, child.failcnt) == (True, True, 118)
    assert child.memsw_limit_bytes is None and child.peak_bytes == 32 << 20
    root = memory_cgroup("/", HYBRID)
    assert root.limit_bytes is None and root.oom_kill_count == 3
    assert process_cgroup(60, HYBRID).path == "/parent/child"


def test_no_cgroup_filesystem(cli):
    tree = str(SYN / "no-cgroup")
    assert memory_hierarchy(tree) is None
    with pytest.raises(oomutil.NotAvailable, match="no memory cgroup hierarchy is mounted"):
        memory_cgroups(tree)
    assert process_cgroup(70, tree) is None
    code, out, err = cli("--root", tree, "cgroups")
    assert code == 1 and err.startswith("oomutil: ") and "no memory cgroup hierarchy" in err
    code, out, err = cli("--root", tree, "show", "--json", 70)
    assert code == 0 and json.loads(out)[0]["memory_cgroup"] is None
    code, out, err = cli("--root", tree, "top")
    assert code == 0 and "app" in out


def test_partially_readable_tree(tmp_path, cli):
    # a v1 tree where the child lost most of its files: what is missing is None

    shutil.copytree(HYBRID, tmp_path / "t", symlinks=True)
    child = tmp_path / "t/sys/fs/cgroup/memory/parent/child"
    for name in ("memory.usage_in_bytes", "memory.oom_control", "memory.failcnt", "cgroup.procs"):
        (child / name).unlink()
    g = memory_cgroup("/parent/child", str(tmp_path / "t"))
    assert (g.usage_bytes, g.under_oom, g.failcnt, g.pids) == (None, None, None, None)
    assert g.effective_limit_bytes == 32 << 20
    code, out, err = cli("--root", tmp_path / "t", "cgroups", "--all")
    assert (code, err) == (0, "")


def test_cgroups_cli_on_v2(cli):
    code, out, err = cli("--root", K8S, "cgroups", "--json")
    assert (code, err) == (0, "")
    rows = {r["cgroup"]["path"]: r for r in json.loads(out)}
    assert rows[CTR]["cgroup"]["effective_limit_bytes"] == 512 << 20
    assert rows[CTR]["victim"]["pid"] == 200
    code, out, err = cli("--root", K8S, "cgroups", "--tree")
    assert code == 0 and "pod 0f1e2d3c/4f2a9c8e1d3b" in out and "200 (java)" in out
    code, out, err = cli("--root", K8S, "top", "--group-by", "pod")
    assert code == 0 and "0f1e2d3c-1111-2222-3333-444455556666" in out
    code, out, err = cli("--root", K8S, "show", 200)
    assert "cgroup limit      512.0 MiB, set on " + POD in out


def test_unreadable_cgroup_files_are_none(monkeypatch):
    import errno

    from oomutil import _fs

    real = _fs.read_bytes

    def read_bytes(path, **kwargs):
        if path.endswith(("memory.events", "memory.current")):
            raise _fs.map_os_error(OSError(errno.EACCES, "injected"), path)
        return real(path, **kwargs)

    monkeypatch.setattr(_fs, "read_bytes", read_bytes)
    g = memory_cgroup(CTR, K8S)
    assert (g.events, g.usage_bytes, g.oom_kill_count) == (None, None, None)
    assert g.effective_limit_bytes == 512 << 20 and g.oom_group is True


@pytest.mark.parametrize("tree", ["linux3.10-rhel7", "linux3.2", "linux2.6.38", "cgroup2-k8s", "cgroup-hybrid",
                                  "no-cgroup"])
def test_synthetic_eras_agree(tree):
    """Every process of the synthetic trees: the era's arithmetic gives the printed score
    (the sums are written out in tests/fixtures/synthetic/README.md)."""
    root = str(SYN / tree)
    pids = [int(p) for p in os.listdir(os.path.join(root, "proc")) if p.isdigit()]
    for pid in pids:
        e = oomutil.explain_process(oomutil.Process(pid, root=root))
        assert e.agrees, (tree, pid, e)


def test_era_override():
    e = oomutil.explain_process(oomutil.Process(500, root=str(SYN / "linux3.10-rhel7")), era="5.9")
    assert e.era == "5.9" and e.agrees is False  # the 5.9 formula does not give what 3.10 printed
    assert oomutil.explain_process(oomutil.Process(500, root=str(SYN / "linux3.10-rhel7"))).era == "3.5"
    # page tables: 2.6.38 does not count them, 2.6.39 does
    old = oomutil.Process(500, root=str(SYN / "linux2.6.38"))
    assert (oomutil.explain_process(old).era, oomutil.explain_process(old).pgtables_pages, oomutil.explain_process(old).predicted_oom_score) == ("2.6.36", 0, 410)
    assert oomutil.explain_process(old, era="2.6.39").predicted_oom_score == 411


def test_root_bonus_only_in_the_initial_user_namespace():
    tree = str(SYN / "linux3.10-rhel7")
    java, podroot = oomutil.explain_process(oomutil.Process(500, root=tree)), oomutil.explain_process(oomutil.Process(800, root=tree))
    assert (java.root_bonus_pages, java.predicted_oom_score) == (30 * 2500, 410)
    assert (podroot.root_bonus_pages, podroot.predicted_oom_score, podroot.agrees) == (0, 440, True)
    # victim ranks with the same arithmetic: podroot (no bonus) ahead of java, behind worker
    report = victim.predict(tree)
    assert [c.pid for c in report.candidates[:3]] == [600, 800, 500]
    assert report.candidates[1].badness_pages - report.candidates[2].badness_pages == 30 * 2500


def test_victim_before_5_9_clamps_and_keeps_the_first_of_equals(tmp_path):
    """3.10: two candidates with adj -800 both clamp to 1 page; the kernel keeps the first
    it scanned (fork order: the earlier start time), and victim calls it a tie."""
    tree = tmp_path / "t"
    shutil.copytree(SYN / "linux3.10-rhel7", tree)
    for pid in (500, 600, 800):
        (tree / "proc" / str(pid) / "oom_score_adj").write_text("-800\n")
    report = victim.predict(str(tree))
    assert {c.badness_pages for c in report.candidates} == {1}
    starts = {c.pid: c.start_time_ticks for c in report.candidates}
    first = min(report.candidates, key=lambda c: (c.start_time_ticks, c.pid)).pid
    assert report.victim.pid == first and report.last_scanned_wins is False
    assert sorted(report.tied) == sorted(starts) and report.tied[0] == first


def test_reviewed_edge_cases(cli, tmp_path):
    # a cgroup path written any way names the same cgroup
    for spelling in (POD, POD + "/", POD.lstrip("/"), "/" + POD):
        assert memory_cgroup(spelling, K8S).path == POD
        code, out, _ = cli("--root", K8S, "victim", "--cgroup", spelling, "--json")
        assert code == 0 and json.loads(out)["victim"]["pid"] == 200
    # a blank line in a pressure file is not an error
    from oomutil.procfs.pressure import parse_pressure

    assert parse_pressure(b"\nsome avg10=0.00 avg60=0.00 avg300=0.00 total=0\n\n").some_total_us == 0
    # victim -n must not be negative
    assert cli("--root", K8S, "victim", "-n", "-3")[0] == 2
    # what-ifs on pids that are not candidates are said so
    code, out, _ = cli("--root", K8S, "victim", "--set", "2=5")  # kthreadd: never a candidate
    assert "pid 2 is not a candidate" in out
    code, out, _ = cli("--root", K8S, "victim", "--set", "300=5", "--json")  # adj -1000 lifted
    assert 300 in [c["pid"] for c in json.loads(out)["candidates"]]
    # a kernel older than any formula: show still shows the process, without explain

    shutil.copytree(SYN / "linux3.2", tmp_path / "old", symlinks=True)
    (tmp_path / "old/proc/sys/kernel/osrelease").write_text("2.6.32-754.el6.x86_64\n")
    code, out, err = cli("--root", tmp_path / "old", "show", "--json", 600)
    assert (code, err) == (0, "") and json.loads(out)[0]["explain"] is None


def test_cli_choices_match_the_library():
    from oomutil import rank
    from oomutil.cli import top as cli_top

    assert cli_top.SORT_CHOICES == tuple(rank.SORT_KEYS)
    assert cli_top.GROUP_CHOICES == rank.GROUP_KEYS


def test_v1_use_hierarchy_0_and_memsw_limits(tmp_path):
    """cgroup v1 before 5.11: a parent with memory.use_hierarchy 0 neither limits its child
    nor scans it in its own OOM.  A memory+swap limit can be the one that is hit.  And
    oom_kill_disable counts on the cgroup whose limit is hit, not on the others."""
    tree = tmp_path / "t"
    shutil.copytree(HYBRID, tree, symlinks=True)
    (tree / "proc/sys/kernel/osrelease").write_text("5.10.0\n")
    memory = tree / "sys/fs/cgroup/memory"
    # as shipped: the parent's 32 MiB binds the child; the child's oom_kill_disable does not
    # matter, since the OOM is the parent's
    report = victim.predict(str(tree), cgroup="/parent/child")
    assert (report.scope, report.oom_kill_disabled, report.victim.pid) == ("/parent", False, 60)
    (memory / "parent/memory.use_hierarchy").write_text("0\n")
    child = memory_cgroup("/parent/child", str(tree))
    assert (child.effective_limit_bytes, child.limited_by, child.oom_scope) == (64 << 20, "/parent/child",
                                                                                "/parent/child")
    assert child.headroom_bytes == (64 << 20) - 29000000 and child.use_hierarchy is None  # no file here
    assert memory_cgroup("/parent", str(tree)).use_hierarchy is False
    # the child's own OOM now, with its oom_kill_disable: nobody is killed
    report = victim.predict(str(tree), cgroup="/parent/child")
    assert (report.scope, report.oom_kill_disabled, report.victim) == ("/parent/child", True, None)
    assert [c.pid for c in report.candidates] == [60]
    # the parent's OOM scans only its own (no) tasks
    report = victim.predict(str(tree), cgroup="/parent")
    assert (report.scope, report.victim, report.candidates) == ("/parent", None, [])
    # memory + swap: 1 MB left under the child's memsw limit, less than under any memory limit
    (memory / "parent/memory.use_hierarchy").write_text("1\n")
    (memory / "parent/child/memory.memsw.limit_in_bytes").write_text("40000000\n")
    (memory / "parent/child/memory.memsw.usage_in_bytes").write_text("39000000\n")
    child = memory_cgroup("/parent/child", str(tree))
    assert (child.headroom_bytes, child.oom_scope) == (1000000, "/parent/child")
    assert (child.effective_limit_bytes, child.limited_by) == (32 << 20, "/parent")  # memory limits only
    assert child.memsw_usage_bytes == 39000000
    # brief, without swap (SwapTotal 0 here): the memsw files decide nothing and are not read
    brief = {g.path: g for g in memory_cgroups(str(tree), brief=True)}["/parent/child"]
    assert (brief.memsw_usage_bytes, brief.memsw_limit_bytes) == (None, None)
    assert brief.headroom_bytes == (32 << 20) - 30000000  # the parent's memory limit, as the kernel has it
    # 5.11+: use_hierarchy is always 1, whatever a tree's file says (bef8620cd8e0)
    (memory / "parent/memory.use_hierarchy").write_text("0\n")
    (tree / "proc/sys/kernel/osrelease").write_text("5.11.0\n")
    assert memory_cgroup("/parent", str(tree)).use_hierarchy is True
    assert [c.pid for c in victim.predict(str(tree), cgroup="/parent").candidates] == [60]  # scans the child


def test_a_domain_keeps_its_first_candidates_and_the_same_verdict():
    """keep=N (the exporter's --top-k): the same victim, lead and ties; only the first N listed."""
    from oomutil.rank import memory_records
    from oomutil.victim import DomainIndex, Machine, cgroup_report, system_report
    from oomutil.visibility import view
    root = oomutil.Root(K8S)
    groups, records, machine = memory_cgroups(root), memory_records(root), Machine(root)
    full = system_report(root, records, groups, machine, view(root))
    kept = system_report(root, records, groups, machine, view(root), keep=1)
    assert len(full.candidates) > 1 and kept.candidates == full.candidates[:1]
    assert kept._replace(candidates=full.candidates) == full
    index = DomainIndex(groups, records)
    for g in (g for g in groups if g.limit_bytes is not None and g.path != "/"):
        sub = index.subtree(g.path)
        full = cgroup_report(root, g._replace(oom_scope=g.path), sub, index.records(sub), machine=machine)
        kept = cgroup_report(root, g._replace(oom_scope=g.path), sub, index.records(sub), machine=machine, keep=1)
        assert kept._replace(candidates=full.candidates) == full and kept.candidates == full.candidates[:1]


def _capture_copy(tmp_path):
    tree = tmp_path / "t"
    shutil.copytree(FIXTURES / "x86_64-cgroup1-linux6.18", tree, symlinks=True)
    for pid in (29532, 29533):  # adj 1000 and 250 would lead by far
        (tree / "proc" / str(pid) / "oom_score_adj").write_text("0\n")
        _rescore(tree, pid)
    return tree


def _rescore(tree, pid):
    """Write the oom_score the kernel would print for the edited files."""
    score = oomutil.explain_process(oomutil.Process(pid, root=str(tree))).predicted_oom_score
    (tree / "proc" / str(pid) / "oom_score").write_text(f"{score}\n")


def _set_memory(tree, pid, rss_kb, pte_kb):
    status = tree / "proc" / str(pid) / "status"
    lines = [f"VmRSS:\t{rss_kb:8d} kB" if line.startswith("VmRSS:") else
             f"VmPTE:\t{pte_kb:8d} kB" if line.startswith("VmPTE:") else line
             for line in status.read_text().splitlines()]
    status.write_text("\n".join(lines) + "\n")
    _rescore(tree, pid)


def test_victim_names_a_tie_and_picks_the_last_scanned(tmp_path, cli):
    """6.18: two candidates of equal badness; the kernel keeps the last one it scans (fork
    order), and victim says it is a tie."""
    tree = _capture_copy(tmp_path)
    _set_memory(tree, 29535, 54600, 152)  # now the twin of 29532 (started 1 tick earlier)
    report = victim.predict(str(tree))
    assert report.tied == [29535, 29532] and report.victim.pid == 29535 and report.margin_bytes == 0
    assert [r.pid for r in oomutil.top(str(tree), limit=2)] == [29535, 29532]  # top: the same order
    code, out, err = cli("--root", tree, "victim")
    assert code == 0 and ("tie: pids 29535, 29532 have the same badness; the kernel takes the one it scans "
                          "last (fork order; guessed here from start times)") in out


def test_victim_says_when_the_lead_is_within_the_counter_drift(tmp_path, cli):
    """6.18 on 2 online CPUs: status and oom_badness() may differ by up to 4 * 2 * 32 = 256
    pages per process; a lead of 100 pages is not a safe answer."""
    tree = _capture_copy(tmp_path)
    _set_memory(tree, 29535, 54600 - 400, 152)  # 100 pages behind 29532
    report = victim.predict(str(tree))
    assert (report.victim.pid, report.drift_pages, report.lead_within_drift) == (29532, 256, True)
    assert report.margin_bytes == 100 * 4096
    code, out, err = cli("--root", tree, "victim")
    assert code == 0 and "uncertain: the lead is smaller than the kernel's per-CPU memory counters" in out
    _set_memory(tree, 29535, 54600 - 4000, 152)  # 1000 pages behind: clear
    assert victim.predict(str(tree)).lead_within_drift is False


def test_a_leader_that_exited_in_a_tree_without_task_directories(tmp_path):
    """A captured tree has no proc/PID/task: a zombie leader with live threads there stays
    what the tree shows (no memory), never an error."""
    tree = tmp_path / "t"
    shutil.copytree(FIXTURES / "x86_64-cgroup1-linux6.18", tree, symlinks=True)
    status = tree / "proc/29738/status"
    status.write_text(status.read_text().replace("Threads:\t1", "Threads:\t3"))
    assert oomutil.explain_process(oomutil.Process(29738, root=str(tree))).unkillable_reason == "zombie"
    assert 29738 in [r.pid for r in oomutil.top(str(tree))]
