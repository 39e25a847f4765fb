"""oomutil why: real reports of tests/fixtures/reports (expected.json records each one's
cause, from the report's numbers) and variants of a real 6.11 report, one number changed
to provoke each cause code."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from helpers import FIXTURES

import oomutil
from oomutil.events.parse import parse_text
from oomutil.why import CAUSES, explain_report

REPORTS = FIXTURES / "reports"
EXPECTED = json.loads((REPORTS / "expected.json").read_text())
BASE = (REPORTS / "linux-6.11-dmesg-global-noswap-rss-split.txt").read_text()
# the reasons a killed process may not rank first that are explanations, not findings
EXPLAINED = {"missing_row", "no_swap_column", "sacrifice_child", "allocating_task", "tie"}
# fragments of a paste without the report's first line: nothing says a report starts
# fragments of a paste without the report's first lines nor its kill: read from their first part
FRAGMENTS = {"istio-cgroup1-syslog-fragment.txt", "rpi-3872-free-cma-nonuma-fragment.txt"}


def _why(cli, *args):
    code, out, err = cli("why", "--json", *args)
    assert code == 0, err
    return json.loads(out)["reports"]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_reports_give_their_recorded_cause_and_victim(cli, name):
    want = EXPECTED[name]
    [doc] = _why(cli, "--file", str(REPORTS / name))
    assert doc["verdict"]["cause"] == want["expected_cause"]
    check = doc["victim_check"]
    assert check["killed_pid"] == want["killed_pid"]
    if want["tasks_rows"] and want["killed_pid"] is not None:
        assert check["ranked_first"] or check["reason"] in EXPLAINED, check
    assert len(doc["tasks"]) == want["tasks_rows"]  # the lkml paste's rows were wrapped in two by a mail client
    assert doc["trigger"]["order"] == want["order"] and doc["trigger"]["gfp_mask"] == want["gfp_mask"]
    if want["ram_pages"] is not None:
        assert doc["memory"]["ram_bytes"] == want["ram_pages"] * doc["page_size"]
    assert doc["verdict"]["summary"] and doc["verdict"]["advice"]


@pytest.mark.parametrize("name", sorted(FRAGMENTS))
def test_a_fragment_is_explained_and_said_on_stderr(cli, name):
    code, out, err = cli("why", "--file", str(REPORTS / name))
    assert code == 0 and "a fragment: the report's first lines and its kill line are not in the log" in out
    assert "without its kill line" in err and "Traceback" not in err


def test_rhel7_numbers_and_the_kernels_own_score(cli):
    [doc] = _why(cli, "--file", str(REPORTS / "oomanalyser-rhel7-3.10-global.txt"))
    check = doc["victim_check"]
    assert (check["ranked_first"], check["era"], check["kernel_score"], check["recomputed_score"]) == (True, "3.5", 651, 651)
    assert check["runner_up_pid"] == 27502 and check["lead_pages"] == 6700394 - 2949299
    below = {(z["node"], z["zone"]): z["below_min"] for z in doc["zones"]}
    assert below == {(0, "DMA"): True, (0, "DMA32"): True, (0, "Normal"): True, (1, "Normal"): False}
    assert doc["memory"]["swap_free_bytes"] == 0 and doc["memory"]["swap_total_bytes"] > 0


def test_rhel6_table_without_swap_says_why_the_victim_is_not_first(cli):
    [doc] = _why(cli, "--file", str(REPORTS / "rhel6-2.6.32-syslog-global.txt"))
    check = doc["victim_check"]
    assert (check["era"], check["ranked_first"], check["reason"]) == ("2.6.36", False, "no_swap_column")


def _variant(*edits):
    """The 6.11 report with each (pattern, replacement[, count]) applied (once by default;
    count 0: everywhere)."""
    text = BASE
    for pattern, replacement, *count in edits:
        text, n = re.subn(pattern, replacement, text, count=count[0] if count else 1)
        assert n >= 1, pattern
    [report] = oomutil.reports(parse_text(text, "variant", keep_texts=True))
    return report, explain_report(report)


def test_the_unchanged_report():
    report, x = _variant()
    assert (x.verdict.cause, x.victim_check.ranked_first, x.victim_check.killed_pid) == ("memory_exhausted", True, 116)
    assert x.allocation.zone == "Normal" and not x.allocation.movable
    normal = next(z for z in x.allocation.zones if z.zone == "Normal")
    assert (normal.free_bytes, normal.min_bytes, normal.below_min) == (984 << 10, 8628 << 10, True)
    dma32 = next(z for z in x.allocation.zones if z.zone == "DMA32")
    assert dma32.reserve_bytes == 5994 * 4096  # lowmem_reserve[Normal] of DMA32
    assert x.memory.ram_bytes == 2097022 * 4096 and x.memory.shmem_bytes == 4157 * 4096
    assert x.memory.anon_bytes == (1999425 - 4157) * 4096  # shmem taken out of the anon LRU


def test_free_cma_that_a_kernel_allocation_may_not_use():
    """raspberrypi/linux#3872's shape: no Node prefix, most of the free memory is CMA."""
    report, x = _variant((r"Node 0 (DMA|DMA32|Normal)( free:|: )", r"\1\2", 0),
                         (r"Normal free:984kB", "Normal free:700000kB"),
                         (r"(Normal free:700000kB.*?)free_cma:0kB", r"\1free_cma:699000kB"))
    normal = next(z for z in x.allocation.zones if z.zone == "Normal")
    assert normal.node is None and normal.unusable_bytes == 699000 << 10 and normal.below_min
    assert x.verdict.cause == "zone_constrained" and "CMA" in x.verdict.summary


def test_fragmentation():
    report, x = _variant((r"order=0", "order=3"),
                         (r"Node 0 Normal free:984kB", "Node 0 Normal free:400000kB"),
                         (r"Node 0 Normal: .*", "Node 0 Normal: 90000*4kB (UME) 5000*8kB (UM) 0*16kB 0*32kB = 400000kB"),
                         (r"Node 0 DMA32: .*", "Node 0 DMA32: 843*4kB (M) = 3372kB"),
                         (r"Node 0 DMA: .*", "Node 0 DMA: 8*4kB (M) = 32kB"))
    assert x.allocation.request_bytes == 32768 and x.allocation.any_chunk is False
    assert x.verdict.cause == "fragmentation"


@pytest.mark.parametrize("edit, cause", [
    ((r"hugepages_total=0 hugepages_free=0 hugepages_surp=0 hugepages_size=2048kB",
      "hugepages_total=3000 hugepages_free=3000 hugepages_surp=0 hugepages_size=2048kB"), "hugepages"),
    ((r"shmem:4157", "shmem:1500000"), "shmem"),
    ((r"slab_unreclaimable:5771", "slab_unreclaimable:1200000"), "kernel_memory"),
    ((r"order=0", "order=-1"), "manual"),
])
def test_each_share_cause(edit, cause):
    report, x = _variant(edit)
    assert x.verdict.cause == cause
    assert x.verdict.findings[0].code == cause and x.verdict.findings[0].advice


def test_a_small_share_is_a_factor_of_exhaustion():
    report, x = _variant((r"shmem:4157", "shmem:400000"))  # 19 % of RAM
    assert x.verdict.cause == "memory_exhausted" and x.verdict.factors == ("shmem",)


def test_why_pid_and_its_absence(cli, tmp_path):
    log = tmp_path / "two.log"
    log.write_text(BASE + (REPORTS / "oomanalyser-ubuntu-5.13-sysrq.txt").read_text())
    docs = _why(cli, "--all", "--file", str(log))
    assert [d["kills"][0]["pid"] for d in docs] == [116, 651]
    assert [d["kills"][0]["pid"] for d in _why(cli, "--file", str(log))] == [651]  # the last by default
    assert [d["kills"][0]["pid"] for d in _why(cli, "116", "--file", str(log))] == [116]
    code, out, err = cli("why", "999999", "--file", str(log))
    assert code == 1 and out == "" and err.strip() == "oomutil: no OOM kill of pid 999999 in the log"


def test_no_report_in_the_log(cli, tmp_path):
    log = tmp_path / "quiet.log"
    log.write_text("[    1.000000] Linux version 6.1.0\n")
    code, out, err = cli("why", "--file", str(log))
    assert (code, out) == (0, "") and "no OOM kills found" in err
    code, out, _ = cli("why", "--json", "--file", str(log))
    assert (code, json.loads(out)) == (0, {"reports": []})


def test_text_sections_and_the_bar(cli):
    code, out, err = cli("why", "--file", str(REPORTS / "linux-6.11-dmesg-global-noswap-rss-split.txt"))
    assert code == 0, err
    for heading in ("Verdict: memory_exhausted", "Trigger: stress-ng-vm", "Memory: RAM", "Zones (Normal",
                    "Victim: pid 116 ranks first"):
        assert heading in out
    bar = next(line for line in out.splitlines() if line.strip().startswith("["))
    assert len(bar.strip()) == 62  # [ + 60 + ]


WHOLE = sorted(n for n in EXPECTED if n not in FRAGMENTS)


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(WHOLE), cut=st.floats(0, 1))
def test_any_prefix_of_a_report_gives_a_subset_of_its_facts(name, cut):
    """A fragment is explained from what it holds: no traceback; what it says about RAM,
    swap, the trigger and the rows agrees with the whole report."""
    lines = (REPORTS / name).read_text().splitlines(keepends=True)
    prefix = "".join(lines[: round(cut * len(lines))])

    def explained(text):
        events = parse_text(text, name, keep_texts=True, keep_unkilled=True)
        return [(r, explain_report(r)) for r in oomutil.reports(events)]

    [(whole, full)] = explained("".join(lines))
    for report, x in explained(prefix):
        for field in ("ram_bytes", "swap_total_bytes", "swap_free_bytes"):
            assert getattr(x.memory, field) in (None, getattr(full.memory, field))
        assert report.trigger.order in (None, whole.trigger.order)
        assert report.trigger.gfp_mask in (None, whole.trigger.gfp_mask)
        assert {t.pid for t in report.tasks} <= {t.pid for t in whole.tasks}
        assert x.verdict.cause in CAUSES and x.verdict.findings[0].code == x.verdict.cause


def test_a_kill_named_by_its_thread_is_found_by_either_pid(cli, tmp_path):
    """5.0+: the summary names the process, "Killed process" the thread that holds the memory
    (its leader exited); the table's row is that thread's, with the process as its tgid."""
    text = re.sub(r"\[    116\]     0   116", "[    117]     0   116", BASE)
    text = text.replace("Killed process 116 (", "Killed process 117 (")
    log = tmp_path / "leaderless.log"
    log.write_text(text)
    for pid in ("116", "117"):
        [doc] = _why(cli, pid, "--file", str(log))
        check = doc["victim_check"]
        assert (check["killed_pid"], check["ranked_first"], check["reason"]) == (116, True, None)


def test_the_check_is_the_killed_ones_when_it_is_not_first(cli):
    [doc] = _why(cli, "--file", str(REPORTS / "rhel6-2.6.32-syslog-global.txt"))
    check = doc["victim_check"]
    mysqld = next(t for t in doc["tasks"] if t["pid"] == 40738)
    assert check["lead_pages"] < 0 and check["runner_up_pid"] != 40738
    assert check["recomputed_score"] == mysqld["badness_pages"]  # per mille in the 2.6.36 era


def test_a_window_without_reports_and_a_pid_in_an_empty_log(cli, tmp_path):
    code, out, err = cli("why", "--since", "2000-01-01", "--until", "2000-01-02", "--file",
                         str(REPORTS / "oomanalyser-proxmox-5.15-lxc-cgroup2.txt"))
    assert (code, out) == (0, "") and "no OOM report matches --since 2000-01-01" in err
    log = tmp_path / "quiet.log"
    log.write_text("[    1.000000] Linux version 6.1.0\n")
    code, out, err = cli("why", "42", "--file", str(log))
    assert (code, out) == (1, "") and err.strip().endswith("oomutil: no OOM kill of pid 42 in the log")


@pytest.mark.parametrize("quote", ["> ", ">> ", "    ", "\t"])
def test_a_quoted_or_indented_paste_reads_as_the_plain_one(cli, tmp_path, quote):
    for name in ("oomanalyser-arch-6.1.1-global.txt", "linux-6.11-dmesg-global-noswap-rss-split.txt"):
        plain = (REPORTS / name).read_text()
        log = tmp_path / "quoted.log"
        log.write_text("".join(quote + line for line in plain.splitlines(keepends=True)))
        [quoted] = _why(cli, "--file", str(log))
        [whole] = _why(cli, "--file", str(REPORTS / name))
        for key in ("verdict", "victim_check", "memory", "zones", "trigger"):
            assert quoted[key] == whole[key], key


def test_the_bar_is_ascii_unless_the_locale_is_utf8(cli, monkeypatch):
    for env, unicode in (({"LC_ALL": "C"}, False), ({"LC_ALL": "", "LC_CTYPE": "", "LANG": "C.UTF-8"}, True)):
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        code, out, _ = cli("why", "--file", str(REPORTS / "oomanalyser-rhel7-3.10-global.txt"))
        bar = next(line for line in out.splitlines() if line.strip().startswith("[")).strip()[1:-1]
        assert code == 0 and ("█" in bar) == unicode and bar.isascii() != unicode


def test_a_cpuset_oom_scales_adj_by_the_nodes_it_may_use(cli):
    """constrained_alloc(): totalpages is the present pages of the allowed nodes + swap; the
    report prints only those nodes' zones (node 0 of two: 15992 + 376832 kB present)."""
    [doc] = _why(cli, "--file", str(REPORTS / "vm-6.1-cpuset.txt"))
    assert doc["victim_check"]["totalpages"] == (15992 + 376832) // 4
    assert doc["verdict"]["cause"] == "zone_constrained" and doc["constraint"] == "CONSTRAINT_CPUSET"
