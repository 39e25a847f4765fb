"""The kernel's arithmetic per era, on hand-computed cases (the sums are written out)."""

import pytest

from oomutil.badness import (ERAS, adj_to_rank, c_div, choice_key, counter_drift_pages, era_of,
                             explain, kernel_version, last_scanned_wins, oom_badness, points_pages,
                             proc_oom_score, root_bonus_applies)
from oomutil.cli._prose import describe_score
from oomutil.errors import InvalidValue
from oomutil.procfs.pid import PidStatus

PAGE = 4096
# The research machine of kernel-oom.md 2.3: MemTotal 24684092 kB, no swap.
T = 24684092 * 1024 // PAGE  # 6171023 pages; T // 1000 = 6171


def status(rss_kb, pte_kb, swap_kb=0, cap_eff=None, pmd_kb=None, state="S"):
    return PidStatus(name="x", state=state, tgid=10, threads=1, ppid=1, uids=(0, 0, 0, 0),
                     rss_bytes=rss_kb * 1024, swap_bytes=swap_kb * 1024, pgtables_bytes=pte_kb * 1024,
                     nspid=(10,), kthread=False, rss_anon_bytes=None, rss_file_bytes=None, rss_shmem_bytes=None,
                     pmd_bytes=None if pmd_kb is None else pmd_kb * 1024, cap_eff=cap_eff)


def test_c_div_truncates_toward_zero():
    assert (c_div(7, 2), c_div(-7, 2), c_div(7, -2), c_div(-7, -2)) == (3, -3, -3, 3)
    assert -7 // 2 == -4  # what Python's floor division would have given


@pytest.mark.parametrize("release, version, era", [
    ("6.18.44-fc-v657", (6, 18, 44), "5.9"), ("5.9.0", (5, 9, 0), "5.9"), ("5.8.18", (5, 8, 18), "4.17"),
    ("4.17", (4, 17, 0), "4.17"), ("4.16.3", (4, 16, 3), "3.14"), ("3.14.1", (3, 14, 1), "3.14"),
    ("3.10.0-1160.el7.x86_64", (3, 10, 0), "3.5"), ("3.8.0", (3, 8, 0), "3.5"), ("3.7.10", (3, 7, 10), "3.5"),
    ("3.5.0", (3, 5, 0), "3.5"), ("3.4.113", (3, 4, 113), "2.6.39"), ("2.6.39.4", (2, 6, 39), "2.6.39"),
    ("2.6.38.8", (2, 6, 38), "2.6.36"), ("2.6.36", (2, 6, 36), "2.6.36"),
    ("2.6.32-754.el6.x86_64", (2, 6, 32), None),
])
def test_eras(release, version, era):
    assert kernel_version(release) == version
    if era is None:
        with pytest.raises(InvalidValue, match="predates the 2.6.36 badness rewrite"):
            era_of(release)
    else:
        assert era_of(release) == era


# kernel-oom.md 2.3, verified on Linux 6.18: 2 GiB hogs at adj 0, 500, 1000 read 723, 1056, 1390.
@pytest.mark.parametrize("rss_pages, pte_pages, adj, score", [
    (527675, 1045, 0, 723),     # B = 528720; (1000 + 528720000 / 6171023 = 85) * 2 / 3 = 723
    (527714, 1045, 500, 1056),  # B = 528759 + 500 * 6171 = 3614259 -> (1000 + 585) * 2 / 3 = 1056
    (527676, 1044, 1000, 1390),  # B = 6699720 -> (1000 + 1085) * 2 / 3 = 1390
    (10, 5, 0, 666),            # an idle process: the 666 baseline
    (100, 5, 1000, 1333),       # B = 105 + 6171000 > T: (1000 + 1000) * 2 / 3
    (10, 5, 1000, 1332),        # B = 15 + 6171000 < T = 6171023: (1000 + 999) * 2 / 3
])
def test_era_5_9_measured(rss_pages, pte_pages, adj, score):
    e = explain(status(rss_pages * 4, pte_pages * 4), adj, score, T, PAGE, "5.9", None)
    assert e.badness_pages == rss_pages + pte_pages + adj * 6171
    assert (e.predicted_oom_score, e.agrees) == (score, True)


def test_era_5_9_negative_badness_truncates_toward_zero():
    # B = 1000 + 5 + (-500) * 6171 = -3084495; B * 1000 / T = -499.83 -> C: -499 (floor: -500)
    e = explain(status(4000, 20), -500, None, T, PAGE, "5.9", None)
    assert e.badness_pages == 1005 - 3085500
    assert e.predicted_oom_score == (1000 - 499) * 2 // 3 == 334  # floor division would give 333
    # adj -999 on a tiny process: (1000 - 998) * 2 / 3 = 1, killable though tiny
    assert explain(status(40, 4), -999, None, T, PAGE, "5.9", None).predicted_oom_score == 1


def test_unkillable_reads_zero_in_every_era():
    for era in ERAS:
        e = explain(status(4000, 20), -1000, 0, T, PAGE, era, "oom_score_adj -1000")
        assert (e.predicted_oom_score, e.badness_pages, e.killable) == (0, None, False)


def test_era_3_5_to_5_8_clamp_and_per_mille():
    # 4.17..5.8: B = max(points + adj * (T / 1000), 1); oom_score = B * 1000 / T (unsigned)
    e = explain(status(527675 * 4, 1045 * 4), 0, None, T, PAGE, "4.17", None)
    assert e.predicted_oom_score == 528720 * 1000 // T == 85
    e = explain(status(40, 4), -500, None, T, PAGE, "4.17", None)
    assert (e.badness_pages, e.predicted_oom_score) == (1, 0)  # clamped to 1 page: reads 0
    e = explain(status(40, 4), 1000, None, T, PAGE, "4.17", None)
    assert e.predicted_oom_score == (11 + 6171000) * 1000 // T == 999  # T / 1000 truncated


def test_root_bonus_eras():
    admin = 1 << 21
    # 3.14..4.16: points -= points * 3 / 100 for CAP_SYS_ADMIN
    e = explain(status(400000, 800, cap_eff=admin), 0, None, T, PAGE, "3.14", None, root_bonus=True)
    points = 100000 + 200
    assert e.root_bonus_pages == points * 3 // 100 == 3006
    assert e.badness_pages == points - 3006
    assert explain(status(400000, 800, cap_eff=admin), 0, None, T, PAGE, "4.17", None, root_bonus=True
                   ).badness_pages == points
    # without the bonus (a root of its own user namespace): the points as they are
    assert explain(status(400000, 800, cap_eff=admin), 0, None, T, PAGE, "3.14", None).badness_pages == points
    # 3.5..3.13: adj -= 30 before scaling: 30 * 6171 pages off
    e = explain(status(400000, 800, cap_eff=admin), 100, None, T, PAGE, "3.5", None, root_bonus=True)
    assert e.badness_pages == points + (100 - 30) * 6171
    # 4.0..4.14 page tables: VmPTE + VmPMD
    assert explain(status(4, 8, pmd_kb=4), 0, None, T, PAGE, "4.17", None).pgtables_pages == 3


def test_era_2_6_36_and_2_6_39():
    # points * 1000 / T - 30 (root) + adj, within 1..1000; page tables count from 2.6.39 only
    e = explain(status(1234000, 4000), 0, None, T, PAGE, "2.6.39", None)
    assert e.predicted_oom_score == (308500 + 1000) * 1000 // T == 50
    e = explain(status(1234000, 4000), 0, None, T, PAGE, "2.6.36", None)
    assert (e.pgtables_pages, e.predicted_oom_score) == (0, 308500 * 1000 // T) == (0, 49)
    e = explain(status(1234000, 4000, cap_eff=1 << 21), 0, None, T, PAGE, "2.6.39", None, root_bonus=True)
    assert e.predicted_oom_score == 20
    assert explain(status(40, 4), -900, None, T, PAGE, "2.6.36", None).predicted_oom_score == 1
    assert explain(status(40, 4), 1000, None, T, PAGE, "2.6.36", None).predicted_oom_score == 1000


def test_era_3_5_scaled_adj():
    # the example: T = 1,000,000 pages, 100,000 pages at adj 1000
    assert oom_badness(100_000, 1000, 1_000_000, "3.5") == 100_000 + 1000 * 1000
    assert proc_oom_score(oom_badness(100_000, 1000, 1_000_000, "3.5"), 1_000_000, "3.5") == 1100
    # the same task on 3.4 (per mille, clamped to 1000)
    assert proc_oom_score(oom_badness(100_000, 1000, 1_000_000, "2.6.39"), 1_000_000, "2.6.39") == 1000


def test_points_per_era():
    kib = 1024
    assert points_pages(400 * kib, 40 * kib, 8 * kib, PAGE, "2.6.36") == 110  # no page tables
    assert points_pages(400 * kib, 40 * kib, 8 * kib, PAGE, "2.6.39") == 112
    assert points_pages(400 * kib, 40 * kib, 8 * kib, PAGE, "3.14", pmd_bytes=4 * kib) == 113  # 4.0-4.14 VmPMD


def test_clamp_before_5_9_makes_negative_candidates_tie():
    # adj -998 and -500 on small tasks: both clamp to 1 page before 5.9, differ since
    a = oom_badness(5000, -998, T, "4.17")
    b = oom_badness(5000, -500, T, "4.17")
    assert a == b == 1
    assert oom_badness(5000, -998, T, "5.9") < oom_badness(5000, -500, T, "5.9") < 0


def test_ties_follow_scan_order():
    # three tasks of equal badness started at ticks 100, 200, 200 (pids 30, 20, 40)
    tasks = [(100, 30), (200, 20), (200, 40)]
    last = sorted(tasks, key=lambda t: choice_key(7, t[0], t[1], last_wins=True))
    first = sorted(tasks, key=lambda t: choice_key(7, t[0], t[1], last_wins=False))
    assert last[0] == (200, 40) and first[0] == (100, 30)  # fork order, not pid order
    assert sorted(tasks, key=lambda t: choice_key(9 if t[1] == 30 else 7, t[0], t[1], True))[0] == (100, 30)
    assert (last_scanned_wins("5.2.21"), last_scanned_wins("5.3.0"), last_scanned_wins("6.18.44")) == (
        False, True, True)


@pytest.mark.parametrize("release, cpus, drift", [
    ("6.1.158", 2, 0),          # before per-CPU RSS counters
    ("6.8.0-90-generic", 2, 0),  # both read the same approximate counter
    ("6.12.38", 2, 0), ("6.12.39", 2, 4 * 2 * 32),  # status's exact sums backported
    ("6.15.6", 8, 0), ("6.15.7", 8, 4 * 8 * 32),
    ("6.6.98", 2, 0), ("6.6.99", 2, 4 * 2 * 32),
    ("6.16.0", 64, 4 * 64 * 128),  # batch = max(32, 2 * online CPUs)
    ("6.18.44-fc-v657", 2, 256),
    ("7.0.0", 64, 0),           # oom_badness() reads exact sums too
])
def test_counter_drift_scoped_by_version(release, cpus, drift):
    assert counter_drift_pages(release, cpus) == drift


def test_root_bonus_needs_the_initial_user_namespace():
    admin = 1 << 21
    asked = []

    def initial(answer):
        return lambda: asked.append(answer) or answer

    assert root_bonus_applies("3.14", admin, initial(True)) is True
    assert root_bonus_applies("3.14", admin, initial(False)) is False  # a rootless container's root
    assert root_bonus_applies("3.5", admin, initial(None)) is True  # no uid_map: counted as initial
    assert asked == [True, False, None]
    assert root_bonus_applies("4.17", admin, initial(True)) is False  # no bonus since 4.17
    assert root_bonus_applies("3.14", 0, initial(True)) is False
    assert asked == [True, False, None]  # uid_map read only where it matters


def test_adj_to_rank():
    # a task of 100 pages against a rival of 5000 pages, T = 1_000_000 (1000 pages per adj)
    assert adj_to_rank(100, 5000, 1_000_000, first=True) == 5
    assert adj_to_rank(100, 50, 1_000_000, first=False) == -1
    assert adj_to_rank(100, 10**9, 1_000_000, first=True) is None
    # per mille (before 3.5): one adj unit is one point; 40 pages of T are 0 per mille
    assert adj_to_rank(40, 300, 1_000_000, first=True, era="2.6.39") == 301
    # 3.5-5.8: a badness clamped to 1 is no lower for a lower adj, so "last" must beat 1 for real
    assert adj_to_rank(10010, 1, 2_500_000, first=False, era="3.5") is None
    assert adj_to_rank(10010, 1_350_100, 2_500_000, first=True, era="3.5") == 537
    assert adj_to_rank(10010, 1_026_000, 2_500_000, first=False, era="3.5") == 406


def test_describe_score():
    e = explain(status(527714 * 4, 1045 * 4), 500, 1056, T, PAGE, "5.9", None)
    text = describe_score(e, lambda n: f"{n >> 20} MiB")
    assert text == ("1056 = 666 baseline + 57 for 2065 MiB of the 24105 MiB the kernel counts "
                    "+ 333 for oom_score_adj 500   (the kernel says the same)")
    dead = explain(status(4, 4), 0, 0, T, PAGE, "5.9", "kernel thread")
    assert describe_score(dead, str) == "0: never killed (kernel thread)"
