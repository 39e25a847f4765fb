"""The kernel's arithmetic per era, on hand-computed cases (the sums are written out)."""

import pytest

from oomutil.badness import (ERAS, adj_to_rank, badness_pages, c_div, describe_score, era_of, explain,
                             kernel_version)
from oomutil.errors import InvalidValue
from oomutil.procfs.pid import PidStatus

PAGE = 4096
# The research machine of kernel-oom.md 2.3: MemTotal 24684092 kB, no swap.
T = 24684092 * 1024 // PAGE  # 6171023 pages; T // 1000 = 6171


def status(rss_kb, pte_kb, swap_kb=0, cap_eff=None, pmd_kb=None, state="S"):
    return PidStatus("x", state, 10, 1, (0, 0, 0, 0), rss_kb * 1024, swap_kb * 1024, pte_kb * 1024, (10,),
                     False, None, None, None, None if pmd_kb is None else pmd_kb * 1024, cap_eff)


def test_c_div_truncates_toward_zero():
    assert (c_div(7, 2), c_div(-7, 2), c_div(7, -2), c_div(-7, -2)) == (3, -3, -3, 3)
    assert -7 // 2 == -4  # what Python's floor division would have given


@pytest.mark.parametrize("release, version, era", [
    ("6.18.44-fc-v657", (6, 18, 44), "5.9"), ("5.9.0", (5, 9, 0), "5.9"), ("5.8.18", (5, 8, 18), "4.17"),
    ("4.17", (4, 17, 0), "4.17"), ("4.16.3", (4, 16, 3), "3.14"), ("3.14.1", (3, 14, 1), "3.14"),
    ("3.10.0-1160.el7.x86_64", (3, 10, 0), "3.8"), ("3.7.10", (3, 7, 10), "2.6.36"),
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


def test_era_3_8_to_5_8_clamp_and_per_mille():
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
    e = explain(status(400000, 800, cap_eff=admin), 0, None, T, PAGE, "3.14", None)
    points = 100000 + 200
    assert e.root_bonus_pages == points * 3 // 100 == 3006
    assert e.badness_pages == points - 3006
    assert explain(status(400000, 800, cap_eff=admin), 0, None, T, PAGE, "4.17", None).badness_pages == points
    # 3.8..3.13: adj -= 30 before scaling: 30 * 6171 pages off
    e = explain(status(400000, 800, cap_eff=admin), 100, None, T, PAGE, "3.8", None)
    assert e.badness_pages == points + (100 - 30) * 6171
    # 4.0..4.14 page tables: VmPTE + VmPMD
    assert explain(status(4, 8, pmd_kb=4), 0, None, T, PAGE, "4.17", None).pgtables_pages == 3


def test_era_2_6_36():
    # points * 1000 / T - 30 (root) + adj, within 1..1000
    e = explain(status(1234000, 4000), 0, None, T, PAGE, "2.6.36", None)
    assert e.predicted_oom_score == (308500 + 1000) * 1000 // T == 50
    e = explain(status(1234000, 4000, cap_eff=1 << 21), 0, None, T, PAGE, "2.6.36", None)
    assert e.predicted_oom_score == 20
    assert explain(status(40, 4), -900, None, T, PAGE, "2.6.36", None).predicted_oom_score == 1
    assert explain(status(40, 4), 1000, None, T, PAGE, "2.6.36", None).predicted_oom_score == 1000


def test_badness_pages_and_adj_to_rank():
    assert badness_pages(8192, 4096, 4096, 500, 1_000_000, 4096) == 4 + 500 * 1000
    # a task of 100 pages at adj 0 against a rival of 5000 pages, T = 1_000_000 (1000 per adj)
    assert adj_to_rank(100, 0, 5000, 1_000_000, first=True) == 5
    assert adj_to_rank(100, 0, 50, 1_000_000, first=False) == -1
    assert adj_to_rank(100, 0, 10**9, 1_000_000, first=True) is None


def test_describe_score():
    e = explain(status(527714 * 4, 1045 * 4), 500, 1056, T, PAGE, "5.9", None)
    text = describe_score(e, lambda n: f"{n >> 20} MiB")
    assert text == ("1056 = 666 baseline + 57 for 2065 MiB of the 24105 MiB the kernel counts "
                    "+ 333 for oom_score_adj 500   (the kernel says the same)")
    dead = explain(status(4, 4), 0, 0, T, PAGE, "5.9", "kernel thread")
    assert describe_score(dead, str) == "0: never killed (kernel thread)"
