"""The public API: every exported name resolves, and docs/api.md documents each one."""

from __future__ import annotations

import re
from pathlib import Path

import oomutil

API = Path(__file__).resolve().parents[1] / "docs" / "api.md"


def test_every_exported_name_resolves_and_is_documented():
    documented = set(re.findall(r"^\| `(\w+)` \|", API.read_text(), re.M))
    exported = {name for name in oomutil.__all__ if name != "__version__"}
    for name in exported:
        assert getattr(oomutil, name) is not None, name
    assert exported - documented == set(), "exported but not in docs/api.md"
    assert documented - exported == set(), "in docs/api.md but not exported"


def test_records_that_public_calls_return_are_exported():
    returned = {"ProcessRecord", "ProcessGroup", "ProcessInfo", "ProcessMemory", "Uids", "Explanation",
                "VmSettings", "Meminfo", "SystemInfo", "View", "MemoryCgroup", "Hierarchy", "Pressure",
                "VictimReport", "Candidate", "OomKillEvent", "Gap"}
    assert returned <= set(oomutil.__all__)
    for name in returned:
        assert isinstance(getattr(oomutil, name), type)
