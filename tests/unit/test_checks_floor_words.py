"""OOM004's advice on the floor (issue 24, item 6, the checks part).

fs/proc/base.c __set_oom_adj(): a write of oom_score_adj below oom_score_adj_min needs
CAP_SYS_RESOURCE, and every write of oom_score_adj by a CAP_SYS_RESOURCE holder, raises
included, sets oom_score_adj_min to the value written; writes of the legacy oom_adj never move
it.  So "raising needs no privilege; lowering it back needs CAP_SYS_RESOURCE" is wrong both
ways: root raising -1000 to -999 pins the floor at -999, and an owner without the capability
who raises it may lower it back to the floor it had.
"""

from __future__ import annotations

from pathlib import Path

from oomutil.checks import CHECKS

DOCS = Path(__file__).resolve().parents[2] / "docs" / "checks.md"


def test_oom004_speaks_of_the_floor_as_the_kernel_sets_it():
    section = DOCS.read_text().split("## OOM004", 1)[1].split("\n## ", 1)[0]
    flat = " ".join(section.split())
    assert "raising needs no privilege" not in flat
    assert "oom_score_adj_min" in flat and "last write" in flat and "CAP_SYS_RESOURCE" in flat
    assert "oom_adj" in flat.replace("oom_score_adj", "")  # the legacy file never moves it
    (check,) = [c for c in CHECKS if c.code == "OOM004"]
    assert "floor" in check.advice and "CAP_SYS_RESOURCE" in check.advice
