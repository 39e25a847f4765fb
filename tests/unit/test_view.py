"""oomutil.view() on trees: the proc mount's options, the pid namespace, hidden threads."""

from __future__ import annotations

import shutil

import pytest
from helpers import FIXTURES

import oomutil
from oomutil.procfs.loadavg import parse_loadavg_threads
from oomutil.errors import ParseError
from oomutil.cli._view import partial_view

CAPTURE = FIXTURES / "x86_64-cgroup1-linux6.18"


def test_parse_loadavg():
    assert parse_loadavg_threads(b"0.65 1.97 6.31 1/84 10256\n") == 84
    with pytest.raises(ParseError):
        parse_loadavg_threads(b"0.65 1.97\n")


def _tree(tmp_path, proc_options, keep=None):
    tree = tmp_path / "t"
    shutil.copytree(CAPTURE, tree, symlinks=True)
    (tree / "proc" / "loadavg").write_text("0.00 0.00 0.00 1/200 999\n")
    mountinfo = tree / "proc" / "self" / "mountinfo"
    mountinfo.unlink()  # a link into the capturing process's directory
    mountinfo.write_text(f"22 1 0:20 / /proc rw,relatime - proc proc {proc_options}\n")
    if keep is not None:  # hide every other process, as hidepid=invisible does
        for p in (tree / "proc").iterdir():
            if p.name.isdigit() and int(p.name) not in keep:
                shutil.rmtree(p)
    return tree


def test_capture_is_a_complete_view():
    v = oomutil.view(str(CAPTURE))
    assert (v.hidepid, v.initial_pid_namespace, v.complete, v.threads_visible) == (None, True, True, None)


@pytest.mark.parametrize("options, name", [("rw,hidepid=2", "invisible"), ("rw,hidepid=invisible", "invisible"),
                                           ("rw,hidepid=1", "noaccess"), ("rw,hidepid=4,subset=pid", "ptraceable")])
def test_hidepid_names(tmp_path, options, name):
    v = oomutil.view(str(_tree(tmp_path, options)))
    assert v.hidepid == name and v.subset_pid == ("subset=pid" in options)


def test_hidden_threads_are_counted(tmp_path):
    tree = _tree(tmp_path, "rw,hidepid=invisible", keep={1, 2, 29743})
    v = oomutil.view(str(tree))
    assert v.threads_total == 200 and v.threads_visible is not None and v.threads_visible < 30
    assert v.threads_hidden == 200 - v.threads_visible and v.complete is False
    # every thread there: complete, whatever the mount option
    (tree / "proc" / "loadavg").write_text(f"0.00 0.00 0.00 1/{v.threads_visible + 3} 999\n")
    assert oomutil.view(str(tree)).complete is True


def test_a_containers_proc(tmp_path):
    tree = _tree(tmp_path, "rw", keep={1, 29743})  # an init without kthreadd beside it
    v = oomutil.view(str(tree))
    assert (v.initial_pid_namespace, v.complete) == (False, False)


def test_the_library_call_is_a_function_whatever_was_imported():
    import oomutil.victim  # noqa: F401  (imports the module behind oomutil.view)

    assert callable(oomutil.view) and isinstance(oomutil.view(str(CAPTURE)), oomutil.View)


def test_subset_pid_without_loadavg_is_never_complete(tmp_path):
    """issue 24 item 3: hidepid=invisible/ptraceable with subset=pid has no /proc/loadavg;
    what it hides cannot be counted (a tree has no cgroup.procs to count from: those pids
    would be another reader's), and unknown is not complete."""
    for options in ("rw,hidepid=invisible,subset=pid", "rw,hidepid=ptraceable,subset=pid"):
        tree = _tree(tmp_path / options, options, keep={1, 2, 29743})
        (tree / "proc" / "loadavg").unlink()
        v = oomutil.view(str(tree))
        assert (v.subset_pid, v.threads_total, v.processes_hidden, v.complete) == (True, None, None, False)
        lines = partial_view(v)
        assert len(lines) == 1 and "how many cannot be counted here (no /proc/loadavg (subset=pid)" in lines[0]
        assert f"(/proc {options[3:]})" in lines[0]


def test_noaccess_lists_every_process():
    """issue 24 item 14: hidepid=noaccess lists every process; the threads the listed
    processes do not account for are those of the unreadable ones, not hidden ones (the
    live case, with a real unreadable /proc: tests/root/test_view_real.py)."""
    v = oomutil.View("noaccess", False, True, 128, 1, 85, False)
    assert v.threads_hidden == 0 and not v.hides_threads
    assert partial_view(v) == ["85 processes listed here cannot be read (/proc hidepid=noaccess)"]


def test_lxcfs_loadavg_is_not_the_kernels(tmp_path):
    """issue 24 item 14: LXCFS mounts its own /proc/loadavg (the container's threads): no
    count of the kernel's threads comes from it, and the warning says why."""
    tree = _tree(tmp_path, "rw,hidepid=invisible", keep={1, 2, 29743})
    (tree / "proc" / "loadavg").write_text("0.00 0.00 0.00 1/3 999\n")  # the container's few threads
    with open(tree / "proc" / "self" / "mountinfo", "a") as f:
        f.write("1234 22 0:52 / /proc/loadavg rw,nosuid,nodev,relatime - fuse.lxcfs lxcfs "
                "rw,user_id=0,group_id=0,allow_other\n")
    v = oomutil.view(str(tree))
    assert (v.threads_total, v.complete) == (None, False) and v.loadavg_lxcfs
    (line,) = partial_view(v)
    assert "/proc/loadavg is mounted over (LXCFS: a container's threads, not the kernel's)" in line
