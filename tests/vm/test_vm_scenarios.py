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
