"""The scenarios of tests/vm/scenarios, run inside one boot of Debian's 6.1 kernel with
cgroup v2 (see conftest.py): each test checks what one scenario reported."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.vm


def test_explain_agrees_with_the_kernel_for_every_process(scenario):
    r = scenario("scenario_1_explain")
    assert r["listed"] >= 20 and r["shown"] == r["explained"] == r["listed"]
    assert r["hogs_explained"] == 5 and r["eras"] == ["5.9"]
    assert r["disagree"] == []


def test_predicted_victim_is_the_first_killed_in_every_configuration(scenario):
    configs = scenario("scenario_2_victims")
    assert len(configs) >= 5
    for c in configs:
        assert c["scope"] == c["expected_scope"], c
        assert c["killed_first"] is not None, c
        assert c["predicted"] == c["killed_first"], c
        if c["expected"] is not None:
            assert c["predicted"] == c["expected"], c


def test_oom_group_kills_every_member_but_the_protected_one(scenario):
    r = scenario("scenario_3_group")
    assert r["group_kill"] == "/vG"
    # the victim may be killed (and logged, and counted) a second time by the group kill when
    # it has not let go of its memory yet (__oom_kill_process() on every member): so sets
    assert set(r["kills"]) == {"a", "b", "c", "pusher"}
    assert r["alive"] == ["protected"]
    assert r["memory_events"]["oom_group_kill"] == 1 and r["memory_events"]["oom_kill"] == len(r["kills"])
    assert sorted(r["events_logged"]) == sorted(r["kills"])


def test_swap_max_changes_totalpages_and_the_victim(scenario):
    r = scenario("scenario_4_swap")
    assert r["swap_total_bytes"] > 0
    by = {c["swap_max"]: c for c in r["cases"]}
    for c in r["cases"]:
        assert c["totalpages"] == c["expected_totalpages"], c
    no_swap, swap = by["0"], by[str(128 << 20)]
    assert (no_swap["predicted"], no_swap["killed_first"]) == ("a40", "a40")
    assert (swap["predicted"], swap["killed_first"]) == ("b20+200", "b20+200")
    assert by["max"]["totalpages"] > swap["totalpages"]


def test_events_are_all_logged_and_agree_with_the_counters(scenario):
    r = scenario("scenario_5_events")
    assert r["killed"] == ["a20", "b90"]
    assert r["gaps"] == [] and r["all_events"] == r["vmstat_oom_kill"]
    # (a later kill of the same push, while the first victim's memory is not yet freed,
    # may follow: only the first of each OOM is checked)
    by_label = {e["label"]: e for e in r["events"]}
    first, second = by_label["a20"], by_label["b90"]
    assert (first["oom_memcg"], first["task_memcg"], first["constraint"]) == ("/vV/a", "/vV/a", "CONSTRAINT_MEMCG")
    assert (second["oom_memcg"], second["task_memcg"], second["constraint"]) == ("/vV", "/vV/b", "CONSTRAINT_MEMCG")
    # oom_kill is counted on the victim's cgroup (memcg_memory_event_mm()), "oom" on the one
    # whose limit was hit, once per OOM it went through (a retry while the victim exits
    # counts too); memory.events adds the descendants, .local does not
    local, total, events = r["memory_events_local"], r["memory_events"], r["events"]
    for path in ("/vV", "/vV/a", "/vV/b"):
        assert local[path]["oom_kill"] == sum(e["task_memcg"] == path for e in events), path
        assert local[path]["oom"] >= sum(e["oom_memcg"] == path for e in events), path
    assert local["/vV"]["oom_kill"] == 0 and total["/vV"]["oom_kill"] == len(events)
    assert total["/vV"]["oom"] == sum(local[p]["oom"] for p in ("/vV", "/vV/a", "/vV/b"))


def test_cgroups_json_equals_the_files(scenario):
    r = scenario("scenario_6_cgroups")
    for path, shown in r["shown"].items():
        before, after = r["before"][path], r["after"][path]
        for key in ("limit_bytes", "high_bytes", "low_bytes", "swap_limit_bytes", "oom_group", "events",
                    "events_local", "pids"):
            assert shown[key] == before[key] == after[key], (path, key)
        assert before["usage_bytes"] <= shown["usage_bytes"] <= after["usage_bytes"] or \
            after["usage_bytes"] <= shown["usage_bytes"] <= before["usage_bytes"], path
        for key, value in shown["pressure"].items():
            low, high = sorted((before["pressure"][key], after["pressure"][key]))
            assert low <= value <= high, (path, key)
    assert set(r["shown"]) == {"/vQ", "/vQ/app", "/vQ/batch"}
    assert r["effective"]["/vQ/app"] == [96 << 20, "/vQ/app", "/vQ/app"]
    assert r["effective"]["/vQ/batch"] == [300 << 20, "/vQ", "/vQ"]


def test_capture_of_a_v2_host_replays(scenario):
    r = scenario("scenario_7_capture")
    assert "cgroup2" in r["manifest"] and "kernel release: 6.1." in r["manifest"]
    assert r["files"] > 100 and (r["replay_rc"], r["replay_stderr"]) == (0, "")


def test_checks_on_a_v2_host(scenario):
    r = scenario("scenario_8_checks")
    near, big = r["found"]["OOM006"], r["found"]["OOM004"]
    assert "/vK" in near["subjects"] and r["limited"]["/vK"]["limit_bytes"] == 64 << 20
    assert r["limited"]["/vK"]["working_set_bytes"] >= 0.95 * (64 << 20)
    unkillable_pid = r["hog_pids"][1]
    assert f"{unkillable_pid}:python3" in big["subjects"]
    assert r["unkillable"][0]["pid"] == unkillable_pid and r["unkillable"][0]["rss_bytes"] >= 100 << 20
    assert r["cgroups"] == {"mode": "v2", "memory_version": 2, "memory_directory": "/sys/fs/cgroup"}
    assert [a["filename"] for a in r["swap_areas"]] == [line.split()[0] for line in r["swaps"].splitlines()[1:]]
    assert ("OOM007" in r["not_evaluated"]) == (not r["psi_readable"])
    assert r["status"] == "warning" and r["check"]["rc"] == 1 and r["check"]["first"].startswith("OOM WARNING - ")
    assert r["check_all_ignored"]["rc"] == 0 and r["check_all_ignored"]["first"].startswith("OOM OK - ")
    assert r["check_panic"]["rc"] == 2 and r["check_panic"]["first"].startswith("OOM CRITICAL - OOM001 panic_on_oom=2")
    assert r["check"]["stderr"] == r["check_panic"]["stderr"] == ""


def test_cgroups_removed_mid_walk_are_skipped_on_v2(scenario):
    r = scenario("scenario_9_vanish")
    assert r["errors"] == [] and r["walks"] >= 5
    assert r["vanished"] > 0 and r["under"] == ["/vV9"]


# -- scenario_10_reports: one real report of each kind, explained by `oomutil why` ---------------

# the reasons a killed process may not rank first that are explanations, not findings
EXPLAINED = {"missing_row", "tie", "sacrifice_child", "allocating_task"}
PROVOKED = [("memcg", "memcg_limit"), ("sysrq", "manual"), ("hugepages", "hugepages"),
            ("global_noswap", "memory_exhausted"), ("shmem", "shmem"), ("zram", "memory_exhausted")]


def _report(scenario, kind):
    r = scenario("scenario_10_reports")[kind]
    if r.get("skip"):
        pytest.skip(r["skip"])
    assert r["provoked"], r
    assert "cause" in r["why"], r["why"]  # else why failed: its rc and stderr
    return r


def _victim_ranks_first(r):
    """The hog was the victim (the only kill of the report) and ranks first in why's table,
    or the reason why not is an explained one."""
    check = r["why"]["victim_check"]
    killed = [line for line in r["lines"] if "Killed process " in line]
    assert len(killed) == 1 and f"Killed process {r['hog_pid']} (python3)" in killed[0], killed
    assert check["killed_pid"] == r["hog_pid"] and r["hog_rc"] == -9, (check, r["hog_rc"])
    assert check["ranked_first"] or check["reason"] in EXPLAINED, check
    assert [k["pid"] for k in r["why"]["kills"]] == [r["hog_pid"]]


@pytest.mark.parametrize("kind, cause", PROVOKED)
def test_each_provoked_report_gives_its_cause(scenario, kind, cause):
    r = _report(scenario, kind)
    why = r["why"]
    assert why["cause"] == cause, (why["cause"], why["summary"])
    assert why["kernel"].startswith("6.1.") and r["lines"][0].endswith(
        f"order={why['trigger']['order']}, oom_score_adj=0")
    _victim_ranks_first(r)


def _share(part, whole):
    return part / whole if part is not None and whole else 0.0


def test_report_numbers_of_each_kind(scenario):
    reports = scenario("scenario_10_reports")
    memcg = _report(scenario, "memcg")["why"]
    assert memcg["constraint"] == "CONSTRAINT_MEMCG" and memcg["kills"][0]["oom_memcg"] == "/vR1"
    assert memcg["memcg"]["limit_bytes"] == memcg["memcg"]["usage_bytes"] == 48 << 20
    assert memcg["memcg"]["swap_limit_bytes"] == 0 and memcg["memory"]["ram_bytes"] is None
    assert memcg["victim_check"]["totalpages"] == (48 << 20) // 4096

    sysrq = _report(scenario, "sysrq")["why"]
    assert sysrq["trigger"]["order"] == -1 and sysrq["trigger"]["manual"]
    assert sysrq["trigger"]["comm"].startswith("kworker/") and sysrq["factors"] == []
    assert _share(sysrq["memory"]["free_bytes"], sysrq["memory"]["ram_bytes"]) > 0.5  # nothing ran out

    for kind in ("hugepages", "global_noswap", "shmem", "zram", "fragmentation"):
        r = reports[kind]
        if r.get("provoked"):
            assert r["why"]["constraint"] == "CONSTRAINT_NONE", kind
            assert r["why"]["memory"]["ram_bytes"] > 600 << 20, kind  # -m 768: 196478 pages RAM
    hp = _report(scenario, "hugepages")
    assert hp["nr_hugepages"] == hp["nr_hugepages_wanted"] > 0
    assert hp["why"]["memory"]["hugepages_bytes"] == hp["nr_hugepages"] * (2 << 20)
    assert _share(hp["why"]["memory"]["hugepages_bytes"], hp["why"]["memory"]["ram_bytes"]) >= 0.30

    for kind in ("global_noswap", "hugepages", "shmem"):
        memory = _report(scenario, kind)["why"]["memory"]
        assert memory["swap_total_bytes"] == 0, kind
    for kind in ("global_noswap", "hugepages", "shmem", "zram"):
        zones = {z["zone"]: z for z in _report(scenario, kind)["why"]["zones"]}
        # the kernel refuses at free <= min + reserve (__zone_watermark_ok()): free may equal min
        assert zones["DMA32"]["below_min"] and zones["DMA32"]["free_bytes"] <= zones["DMA32"]["min_bytes"], kind

    shmem = _report(scenario, "shmem")
    assert shmem["why"]["memory"]["shmem_bytes"] >= shmem["tmpfs_mib"] << 20
    assert _share(shmem["why"]["memory"]["shmem_bytes"], shmem["why"]["memory"]["ram_bytes"]) >= 0.30

    zram = _report(scenario, "zram")["why"]["memory"]
    assert zram["swap_total_bytes"] > 120 << 20  # 128 MiB zram0, less the swap header
    assert _share(zram["swap_free_bytes"], zram["swap_total_bytes"]) < 0.05  # swap full


def _free_list(lines, zone):
    """{chunk kB: count} of the zone's free-list line of a report."""
    import re

    line = next(l for l in lines if f"Node 0 {zone}: " in l)
    return {int(size): int(count) for count, size in re.findall(r"(\d+)\*(\d+)kB", line)}


def test_fragmentation_was_provoked(scenario):
    """An order-3 (32 KiB) kmalloc failed with hundreds of MiB free above DMA32's min
    watermark, all of it in 4, 8 and 16 KiB chunks; DMA, with chunks, was below min +
    lowmem_reserve, which the kernel checks (the hand check of why's verdict)."""
    import re

    r = _report(scenario, "fragmentation")
    why = r["why"]
    assert why["trigger"]["order"] == 3 and why["trigger"]["request_bytes"] == 32 << 10
    _victim_ranks_first(r)
    dma32 = next(z for z in why["zones"] if z["zone"] == "DMA32")
    assert not dma32["below_min"] and dma32["free_bytes"] > dma32["min_bytes"] + (128 << 20)
    chunks = _free_list(r["lines"], "DMA32")
    assert all(count == 0 for size, count in chunks.items() if size >= 32), chunks
    assert sum(size * count for size, count in chunks.items()) << 10 > 128 << 20
    dma = next(l for l in r["lines"] if "Node 0 DMA free:" in l)
    free, min_kb = (int(re.search(rf" {key}:(\d+)kB", dma).group(1)) for key in ("free", "min"))
    reserve = [l for l in r["lines"] if "lowmem_reserve[]:" in l][0].split(":")[-1].split()
    # GFP_KERNEL asks for ZONE_NORMAL (index 2), absent here: DMA keeps lowmem_reserve[2] back
    assert free - (8 - 1) * 4 <= min_kb + int(reserve[2]) * 4, (free, min_kb, reserve)


def test_fragmentation_report_gives_fragmentation(scenario):
    r = _report(scenario, "fragmentation")
    assert r["why"]["cause"] == "fragmentation", (r["why"]["cause"], r["why"]["summary"])


# -- scenario_11_numa: zone_constrained, in a boot of its own with two NUMA nodes (numa_boot) -----

CONFINED = [("cpuset", "CONSTRAINT_CPUSET", "mems_allowed=0,"),
            ("mempolicy", "CONSTRAINT_MEMORY_POLICY", "nodemask=0,")]


@pytest.mark.parametrize("kind, constraint, confined_by", CONFINED)
def test_a_report_confined_to_one_node_gives_zone_constrained(numa_scenario, kind, constraint, confined_by):
    """A hog confined to node 0 (a cpuset, a memory policy) fills it while node 1 stays
    free: the kernel says so in its summary line, and why gives zone_constrained."""
    numa = numa_scenario("scenario_11_numa")
    assert numa.get("nodes") == [0, 1], numa
    assert numa["tainted"] == 0, numa  # a socket per node: no topology WARN in the reports
    r = numa[kind]
    assert r["provoked"], r
    assert "cause" in r["why"], r["why"]  # else why failed: its rc and stderr
    why = r["why"]
    summary = [line for line in r["lines"] if "oom-kill:constraint=" in line]
    assert len(summary) == 1 and f"constraint={constraint}," in summary[0] and confined_by in summary[0], summary
    assert why["constraint"] == constraint and [k["constraint"] for k in why["kills"]] == [constraint]
    assert why["cause"] == "zone_constrained", (why["cause"], why["summary"])
    assert why["kernel"].startswith("6.1.") and why["trigger"]["order"] == 0
    _victim_ranks_first(r)
    # the kernel prints the zones of the nodes the allocation may use only (show_mem's node
    # filter): node 0's, all below min; node 1's free memory is in Mem-Info's free only
    zones = why["zones"]
    assert {z["node"] for z in zones} == {0} and all(z["below_min"] for z in zones), zones
    elsewhere = why["memory"]["free_bytes"] - sum(z["free_bytes"] for z in zones)
    assert elsewhere >= 0.2 * why["memory"]["ram_bytes"], (elsewhere, why["memory"])
    assert r["node_free_kb_after"]["1"] << 10 > 200 << 20, r["node_free_kb_after"]  # node 1 stayed free
    assert why["memory"]["ram_bytes"] > 600 << 20 and why["memory"]["swap_total_bytes"] == 0
