"""OOM010's words on what the task table holds (issue 24, item 20).

mm/oom_kill.c dump_task() skips only kernel threads and the global init
(oom_unkillable_task()), tasks with no mm left and, outside a memory cgroup OOM, tasks of
another cpuset; it does not skip oom_score_adj -1000: the table lists those too, so it is not a
list of the candidates the OOM killer could choose.
"""

from __future__ import annotations

from pathlib import Path

from oomutil.checks import CHECKS

DOCS = Path(__file__).resolve().parents[2] / "docs" / "checks.md"


def test_oom010_does_not_call_the_table_the_candidates():
    (check,) = [c for c in CHECKS if c.code == "OOM010"]
    assert "candidates" not in check.why
    assert "-1000" in check.why
    section = DOCS.read_text().split("## OOM010", 1)[1].split("\n## ", 1)[0]
    assert "candidates" not in section and "-1000" in section and "dump_task()" in section
