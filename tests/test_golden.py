"""Every captured tree replays to its golden output, and its JSON equals the tree's files.

After a deliberate output change: ``pytest tests/test_golden.py --update-golden`` and
review ``git diff tests/golden``.
"""

from __future__ import annotations

import json

import pytest
from helpers import CAPTURES, FIXTURES, GOLDEN, capture_pids, read_int

import oomutil


def golden_commands(name):
    """(golden file, oomutil arguments) for one capture."""
    root = FIXTURES / name
    pids = capture_pids(name)
    self_pid = oomutil.Root(str(root)).self_pid()
    return [
        ("show-all.json", ["--root", root, "show", "--json", *pids]),
        ("show-all.txt", ["--root", root, "show", *pids]),
        ("show-self.json", ["--root", root, "show", "--json", "self"]),
        (f"show-{self_pid}.txt", ["--root", root, "show", self_pid]),
        ("top.txt", ["--root", root, "top"]),
        ("top-all.json", ["--root", root, "top", "--all", "--json"]),
        ("top-group-user.txt", ["--root", root, "top", "--all", "--group-by", "user"]),
        ("cgroups.txt", ["--root", root, "cgroups", "--all", "--tree"]),
        ("cgroups.json", ["--root", root, "cgroups", "--json"]),
        ("top-group-container.txt", ["--root", root, "top", "--group-by", "container"]),
        ("system.json", ["--root", root, "system", "--json"]),
        ("system.txt", ["--root", root, "system"]),
    ]


CASES = [(name, file, args) for name in CAPTURES for file, args in golden_commands(name)]


def test_there_is_a_capture():
    assert CAPTURES, "tests/fixtures holds no capture (a directory with a MANIFEST)"


@pytest.mark.parametrize("name, file, args", CASES, ids=[f"{n}/{f}" for n, f, _ in CASES])
def test_golden(cli, request, name, file, args):
    code, out, err = cli(*args)
    assert (code, err) == (0, "")
    path = GOLDEN / name / file
    if request.config.getoption("--update-golden"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(out)
    assert out == path.read_text()


@pytest.mark.parametrize("name", CAPTURES)
def test_show_json_equals_the_tree_files(cli, name):
    root = FIXTURES / name
    pids = capture_pids(name)
    code, out, _ = cli("--root", root, "show", "--json", *pids)
    records = json.loads(out)
    assert code == 0 and [r["pid"] for r in records] == pids
    for r in records:
        base = root / "proc" / str(r["pid"])
        assert r["oom_score"] == read_int(base / "oom_score")
        assert r["oom_score_adj"] == read_int(base / "oom_score_adj")
        assert r["oom_adj"] == read_int(base / "oom_adj")
        assert r["comm"] == (base / "comm").read_bytes()[:-1].decode("utf-8", "backslashreplace")


@pytest.mark.parametrize("name", CAPTURES)
def test_top_json_equals_the_tree_files(cli, name):
    root = FIXTURES / name
    code, out, _ = cli("--root", root, "top", "--json", "--all")
    records = json.loads(out)
    assert code == 0 and sorted(r["pid"] for r in records) == capture_pids(name)
    for r in records:
        base = root / "proc" / str(r["pid"])
        assert r["oom_score"] == read_int(base / "oom_score")
        assert r["oom_score_adj"] == read_int(base / "oom_score_adj")
    assert [r["oom_score"] for r in records] == sorted((r["oom_score"] for r in records), reverse=True)


@pytest.mark.parametrize("name", CAPTURES)
def test_system_json_equals_the_tree_files(cli, name):
    root = FIXTURES / name
    code, out, _ = cli("--root", root, "system", "--json")
    info = json.loads(out)
    for knob, value in info["vm"].items():
        path = root / "proc/sys/vm" / knob
        assert value == (read_int(path) if path.exists() else None), knob
    meminfo = dict(line.split(":", 1) for line in (root / "proc/meminfo").read_text().splitlines())
    assert info["meminfo"]["mem_total_bytes"] == int(meminfo["MemTotal"].split()[0]) * 1024
    assert info["kernel_release"] == (root / "proc/sys/kernel/osrelease").read_text().strip()


def test_a_partial_tree_reports_what_is_missing(cli, tmp_path):
    # A tree holding a single pid with only its oom_score: the rest is "-" / null.
    (tmp_path / "proc" / "7").mkdir(parents=True)
    (tmp_path / "proc" / "7" / "oom_score").write_text("666\n")
    code, out, err = cli("--root", tmp_path, "show", "--json", "7")
    assert (code, err) == (0, "")
    record = json.loads(out)[0]
    assert record["oom_score"] == 666 and record["oom_score_adj"] is None and record["rss_bytes"] is None
    code, out, err = cli("--root", tmp_path, "top", "--json", "--all")
    assert (code, err) == (0, "")
    assert json.loads(out) == [{"pid": 7, "comm": None, "uid": None, "user": None, "oom_score": 666,
                                "oom_score_adj": None, "rss_bytes": None, "swap_bytes": None,
                                "pgtables_bytes": None, "cgroup": None, "killable": None,
                                "unkillable_reason": None, "start_time_ticks": None, "points_pages": None,
                                "root_bonus": None, "badness_pages": None, "cmdline": None}]
    code, out, err = cli("--root", tmp_path, "top")
    assert (code, err) == (0, "")
    assert out.splitlines()[1].split() == ["7", "-", "666", "-", "-", "-", "-", "-", "-"]
    code, out, err = cli("--root", tmp_path, "system", "--json")
    assert code == 0 and json.loads(out)["meminfo"] is None
    code, out, err = cli("--root", tmp_path, "system")
    assert code == 0 and "overcommit_memory         -" in out


@pytest.mark.parametrize("name", CAPTURES)
@pytest.mark.parametrize("sort, reverse", [("pid", True), ("pid", False), ("rss", False), ("name", True)])
def test_limited_ranking_is_the_head_of_the_full_one(name, sort, reverse):
    root = str(FIXTURES / name)
    full = [r.pid for r in oomutil.top(root, sort=sort, reverse=reverse)]
    assert [r.pid for r in oomutil.top(root, sort=sort, reverse=reverse, limit=5)] == full[:5]
