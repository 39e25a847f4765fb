"""docs/adjusting.md and the adj/run texts against fs/proc/base.c and kernel/fork.c (issue 24)."""

from __future__ import annotations

from pathlib import Path

import oomutil.process
from oomutil.cli import adj

DOC = (Path(__file__).resolve().parent.parent / "docs" / "adjusting.md").read_text()


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_sharing_the_memory_is_clone_vm_since_4_8_and_not_vfork():
    doc = _flat(DOC)
    assert "4.7" not in doc and "(vfork children)" not in doc
    assert "since Linux 4.8" in doc and "clone(CLONE_VM)" in doc
    assert "a vfork child keeps its own value" in doc.lower()
    for text in (oomutil.process.Process.set_oom_score_adj.__doc__, adj._set.__doc__):
        flat = _flat(text)
        assert "4.7" not in flat and "(vfork children)" not in flat and "4.8" in flat and "CLONE_VM" in flat
