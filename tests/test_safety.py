"""Safe by default: oomutil writes only into the kernel's own procfs.  A captured tree, or a
copy of one, is never written, whatever the command (adj, Process.set_oom_score_adj(),
set_oom_adj()); the refusal is one line and the file keeps its bytes."""

from __future__ import annotations

import shutil

import pytest
from helpers import FIXTURES, run_oomutil

import oomutil

PID = 29532  # python3 at oom_score_adj 1000 in the v1 capture


@pytest.fixture
def copy(tmp_path):
    root = tmp_path / "tree"
    shutil.copytree(FIXTURES / "x86_64-cgroup1-linux6.18", root, symlinks=True)
    return root


def _bytes(root, name="oom_score_adj"):
    return (root / "proc" / str(PID) / name).read_bytes()


def test_adj_refuses_to_write_into_a_captured_tree(copy):
    before = _bytes(copy)
    r = run_oomutil("--root", copy, "adj", "-p", PID, "-p", PID + 1, "-n", "5")
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.splitlines() == [f"oomutil: {copy}/proc: not the kernel's procfs (a captured tree or a copy): "
                                     "oomutil writes only to a live /proc"]
    assert _bytes(copy) == before == b"1000\n"


def test_the_library_refuses_too_and_says_so_before_a_write(copy):
    p = oomutil.Process(PID, root=str(copy))
    for write, value in ((p.set_oom_score_adj, 5), (p.set_oom_adj, 3)):
        with pytest.raises(oomutil.NotAvailable, match="not the kernel's procfs"):
            write(value)
    assert _bytes(copy) == b"1000\n" and _bytes(copy, "oom_adj") == (FIXTURES / "x86_64-cgroup1-linux6.18" / "proc" /
                                                                      str(PID) / "oom_adj").read_bytes()
    assert "not the kernel's procfs" in p.write_refusal(5)
    with pytest.raises(oomutil.NotAvailable):
        oomutil.check_writable(str(copy))
    oomutil.check_writable()  # the live /proc is procfs


def test_dry_run_under_a_tree_says_the_write_would_be_refused(copy):
    r = run_oomutil("--root", copy, "adj", "-p", PID, "-n", "5", "--dry-run")
    assert r.returncode == 1 and "dry run: nothing was changed" in r.stdout
    assert f"pid {PID}: would be refused: not the kernel's procfs (a captured tree or a copy)" in r.stdout
    assert _bytes(copy) == b"1000\n"


def test_run_under_a_root_says_it_acts_on_this_machine(copy):
    """run starts its command here: --root is not where it acts, and it says so (the tree is
    not touched; the command gets the value on this machine's kernel)."""
    r = run_oomutil("--root", copy, "run", "-n", "300", "--", "cat", "/proc/self/oom_score_adj")
    assert (r.returncode, r.stdout) == (0, "300\n")
    assert r.stderr == f"oomutil: run starts the command on this machine's kernel: --root {copy} is not used\n"
    assert _bytes(copy) == b"1000\n"


@pytest.mark.parametrize("option, said", [
    (["--user", "nosuchuser"], "oomutil: no such user: nosuchuser\n"),
    (["--cgroup", "/nonexistent"], "no memory cgroup /nonexistent\n"),
    (["--name", "^no-such-name$"], "oomutil: no process matches --name/--user/--cgroup\n"),
])
def test_adj_says_what_its_filters_found_not_an_empty_answer(option, said):
    r = run_oomutil("--root", FIXTURES / "x86_64-cgroup1-linux6.18", "adj", *option)
    assert r.returncode == 1 and r.stdout == "" and r.stderr.endswith(said)
