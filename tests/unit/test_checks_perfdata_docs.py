"""docs/checks.md gives committed_as's thresholds as the plugin prints them (issue 24, item 15):
warn at COMMIT_WARNING_PERCENT and crit at COMMIT_CRITICAL_PERCENT of CommitLimit, max
CommitLimit, and only under overcommit_memory=2."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from helpers import FIXTURES

from oomutil.checks import COMMIT_CRITICAL_PERCENT, COMMIT_WARNING_PERCENT, run_checks
from oomutil.cli.system import perfdata
from oomutil.posture import posture

V1 = FIXTURES / "x86_64-cgroup1-linux6.18"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "checks.md"


def test_committed_as_perfdata_is_what_the_docs_say(tmp_path):
    dest = tmp_path / "tree"
    shutil.copytree(V1, dest, symlinks=True)
    (dest / "proc/sys/vm/overcommit_memory").write_text("2\n")
    p = posture(str(dest))
    (line,) = [x for x in perfdata(p, run_checks(p)) if x.startswith("committed_as=")]
    limit = p.meminfo.commit_limit_bytes
    value, warn, crit, low, most = line.split("=", 1)[1].split(";")
    assert (int(warn), int(crit), int(most)) == (limit * COMMIT_WARNING_PERCENT // 100,
                                                 limit * COMMIT_CRITICAL_PERCENT // 100, limit)
    doc = " ".join(DOCS.read_text().split())
    said = re.search(r"`committed_as` \(([^)]*)\)", doc).group(1)
    assert f"warn {COMMIT_WARNING_PERCENT} % of CommitLimit" in said, said
    assert f"crit {COMMIT_CRITICAL_PERCENT} %" in said and "max CommitLimit" in said, said
    assert "overcommit_memory=2" in said
