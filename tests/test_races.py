"""Processes that vanish mid-scan, and unreadable files, through the one read helper.

Faults are injected where every read goes (oomutil._fs.read_bytes), on a captured tree,
so each case is deterministic; the live churn test covers the same on the real /proc.
"""

from __future__ import annotations

import errno
import os

import pytest
from helpers import CAPTURES, FIXTURES, capture_pids

import oomutil
from oomutil import _fs

NAME = CAPTURES[0]
ROOT = str(FIXTURES / NAME)


@pytest.fixture
def fail_reads(monkeypatch):
    """fail_reads(pid, errno, files=None): reads of that pid's files raise that errno."""

    def install(pid, code, files=None):
        real = _fs.read_bytes

        def read_bytes(path, *, dir_fd=None, pid=None):
            name = path.rsplit("/", 1)[-1]
            ours = path.startswith(f"{victim}/") or (pid == victim and "/" not in path)
            if ours and (files is None or name in files):
                raise _fs.map_os_error(OSError(code, "injected"), path, pid=pid, dir_fd=dir_fd)
            return real(path, dir_fd=dir_fd, pid=pid)

        victim = pid
        monkeypatch.setattr(_fs, "read_bytes", read_bytes)

    return install


def _top_victim():
    return oomutil.top(ROOT, limit=1)[0].pid


@pytest.mark.parametrize("files", [{"oom_score"}, {"status"}, {"cgroup"}, None],
                         ids=["while-ranking", "reading-status", "reading-cgroup", "every-file"])
def test_a_process_that_exits_is_passed_over(fail_reads, files):
    victim = _top_victim()
    fail_reads(victim, errno.ESRCH, files)
    for limit in (1, 5, None):
        records = oomutil.top(ROOT, limit=limit)
        assert victim not in [r.pid for r in records]
    # with a limit, the next one takes its row
    assert len(oomutil.top(ROOT, limit=3)) == 3


def test_unreadable_files_are_none_not_errors(fail_reads):
    victim = _top_victim()
    fail_reads(victim, errno.EACCES, {"status", "cgroup", "oom_score_adj"})
    [record] = oomutil.top(ROOT, pids=[victim])
    assert record.oom_score is not None
    assert (record.rss_bytes, record.cgroup, record.oom_score_adj, record.killable) == (None, None, None, None)
    stat = open(os.path.join(ROOT, "proc", str(victim), "stat")).read()
    assert record.comm == stat[stat.index("(") + 1:stat.rindex(")")]  # the name from stat, as show has it


def test_show_keeps_the_good_pids(fail_reads, cli):
    pids = capture_pids(NAME)[:3]
    fail_reads(pids[1], errno.ESRCH)
    code, out, err = cli("--root", ROOT, "show", "--json", *pids)
    assert code == 1
    assert err == f"oomutil: pid {pids[1]}: no such process\n"
    assert '"pid": %d' % pids[0] in out and '"pid": %d' % pids[2] in out


def test_process_raises_no_such_process_when_gone(fail_reads):
    pid = capture_pids(NAME)[0]
    p = oomutil.Process(pid, root=ROOT)
    fail_reads(pid, errno.ESRCH)
    with pytest.raises(oomutil.NoSuchProcess):
        p.oom_score()
