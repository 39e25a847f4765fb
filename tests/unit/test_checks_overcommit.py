"""OOM009 and what overcommit_memory 0 and 1 really differ in (issue 24, item 13).

mm/util.c __vm_enough_memory(): mode 1 (OVERCOMMIT_ALWAYS) allows every request; mode 0
(OVERCOMMIT_GUESS) refuses only a single request larger than totalram_pages() +
total_swap_pages, and allows it otherwise.  So 0 and 1 run out of memory alike: OOM009 is
worth knowing, not a warning, and must not advise mode 0 as a remedy.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from helpers import FIXTURES

from oomutil.checks import CHECKS, run_checks
from oomutil.posture import posture

V1 = FIXTURES / "x86_64-cgroup1-linux6.18"
UNLIMITED_V1 = "9223372036854771712\n"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "checks.md"


def unlimited_mode_1(tmp_path: Path) -> str:
    dest = tmp_path / "tree"
    shutil.copytree(V1, dest, symlinks=True)
    (dest / "proc/sys/vm/overcommit_memory").write_text("1\n")
    for rel in ("sys/fs/cgroup/memory/oomutil-capture/app", "sys/fs/cgroup/memory/oomutil-capture"):
        (dest / rel / "memory.limit_in_bytes").write_text(UNLIMITED_V1)
    return str(dest)


def test_oom009_is_info_and_leaves_the_status_ok(tmp_path):
    report = run_checks(posture(unlimited_mode_1(tmp_path)), ["OOM003"])
    assert [(f.code, f.severity) for f in report.findings] == [("OOM009", "info")]
    assert report.status == "ok"
    (check,) = [c for c in CHECKS if c.code == "OOM009"]
    assert check.severity == "info"


def test_oom009_words_do_not_claim_mode_0_refuses_early():
    (check,) = [c for c in CHECKS if c.code == "OOM009"]
    assert "nothing refuses memory early" not in check.why
    assert "larger than RAM + swap" in check.why  # what mode 0 refuses, and all it refuses
    assert "use overcommit_memory=0" not in check.advice
    section = DOCS.read_text().split("## OOM009", 1)[1].split("\n## ", 1)[0]
    assert section.startswith(" info:"), section[:40]
    assert "nothing refuses memory early" not in section and "use `overcommit_memory=0`" not in section
    assert "__vm_enough_memory()" in section
