"""`oomutil events` on bad or odd input: one line and an exit status, never a traceback or
an empty answer that looks like one (issue 21).  The real command, on real files."""

from __future__ import annotations

import json
import os

import pytest
from helpers import FIXTURES, run_oomutil

LOGS = FIXTURES / "logs"


def _said_once(proc, code):
    """Exit status ``code``, nothing on stdout, no traceback, the message first on stderr."""
    assert proc.returncode == code, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    return proc.stderr.splitlines()[0]


@pytest.mark.parametrize("args", [["--since", "99999999d"], ["--until", "99999999999999999999999s"],
                                  ["--since", "9" * 400]])
def test_an_absurd_duration_is_a_usage_error(args):
    line = _said_once(run_oomutil("events", "--file", LOGS / "dmesg-6.18.txt", *args), 2)
    assert line.startswith("oomutil events: error: argument --") and "invalid time" in line


def test_an_inverted_range_is_a_usage_error():
    line = _said_once(run_oomutil("events", "--file", LOGS / "journal-short-iso.txt", "--since", "1h", "--until", "2h"), 2)
    assert "--until" in line and "before --since" in line
    # the same range the right way round is fine
    ok = run_oomutil("events", "--file", LOGS / "journal-short-iso.txt", "--json", "--since", "2026-11-27 22:11:30",
                     "--until", "2026-11-27 22:12:30+00:00")
    assert ok.returncode == 0 and [e["pid"] for e in json.loads(ok.stdout)["events"]] == [4567]
