"""The read helper, the errno mapping, Root and the error tree, on real files and processes."""

import os
import pickle
import subprocess
import sys

import pytest

import oomutil
from oomutil import _fs
from oomutil.errors import (AccessDenied, InvalidValue, NoSuchProcess, NotAvailable, OomutilError,
                            ParseError)
from oomutil.root import Root, as_root
from oomutil.users import parse_passwd, user_name


def test_read_bytes_reads_whole_large_file(tmp_path):
    data = os.urandom(300_000)
    (tmp_path / "big").write_bytes(data)
    assert _fs.read_bytes(str(tmp_path / "big")) == data
    (tmp_path / "empty").write_bytes(b"")
    assert _fs.read_bytes(str(tmp_path / "empty")) == b""


def test_missing_file_is_not_available_and_named(tmp_path):
    path = str(tmp_path / "nope")
    with pytest.raises(NotAvailable) as info:
        _fs.read_bytes(path)
    assert str(info.value) == f"{path}: no such file"


def test_enoent_is_no_such_process_only_when_the_pid_dir_is_gone(tmp_path):
    (tmp_path / "42").mkdir()
    with pytest.raises(NotAvailable):  # the directory is there: the kernel lacks the file
        _fs.read_bytes(str(tmp_path / "42" / "oom_adj"), pid=42)
    with pytest.raises(NoSuchProcess) as info:
        _fs.read_bytes(str(tmp_path / "43" / "oom_score"), pid=43)
    assert str(info.value) == "pid 43: no such process"


def test_permission_denied_is_access_denied(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("1\n")
    secret.chmod(0)
    tmp_path.chmod(0o755)
    # root reads any file, so the child drops to nobody first (after its imports: the
    # interpreter itself may live where nobody cannot read)
    code = ("import os, sys; from oomutil import _fs\n"
            "if os.geteuid() == 0: os.setgid(65534); os.setuid(65534)\n"
            "try: _fs.read_bytes(sys.argv[1])\n"
            "except Exception as e: print(type(e).__name__, e)\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run([sys.executable, "-c", code, str(secret)],
                         capture_output=True, text=True, env=env)
    assert out.stdout == f"AccessDenied {secret}: permission denied\n", out.stderr


def test_read_parsed_names_the_file_in_a_parse_error(tmp_path):
    (tmp_path / "oom_score").write_text("many\n")
    with pytest.raises(ParseError) as info:
        _fs.read_parsed(str(tmp_path / "oom_score"), _fs.parse_int, pid=7)
    assert str(info.value) == f"pid 7: {tmp_path}/oom_score: expected an integer: 'many\\n'"
    assert info.value.line == "many\n"


def test_the_two_spellings_of_none():
    def denied():
        raise AccessDenied(path="/x")

    def missing():
        raise NotAvailable(path="/x")

    def gone():
        raise NoSuchProcess(pid=1)

    def nonsense():
        raise ParseError("malformed", path="/x")

    assert _fs.none_if_unreadable(denied) is None and _fs.none_if_unreadable(missing) is None
    assert _fs.none_if_missing(missing) is None
    with pytest.raises(AccessDenied):  # denied is not missing
        _fs.none_if_missing(denied)
    assert _fs.none_if_unreadable(lambda a: a + 1, 1) == 2
    for call in (gone, nonsense):  # a process gone, a file that makes no sense: never None
        for absorb in (_fs.none_if_missing, _fs.none_if_unreadable):
            with pytest.raises((NoSuchProcess, ParseError)):
                absorb(call)


def test_a_malformed_pid_2_stat_is_an_error_not_a_container(tmp_path):
    from oomutil.procfs.pid import read_pid1_is_global_init

    (tmp_path / "proc" / "2").mkdir(parents=True)
    (tmp_path / "proc" / "2" / "stat").write_text("garbage\n")
    with pytest.raises(ParseError):
        read_pid1_is_global_init(oomutil.Root(str(tmp_path)))
    (tmp_path / "proc" / "2" / "stat").unlink()
    assert read_pid1_is_global_init(oomutil.Root(str(tmp_path))) is False  # no pid 2: not the initial namespace


def test_error_tree_and_messages():
    for cls in (NoSuchProcess, AccessDenied, NotAvailable, ParseError, InvalidValue):
        assert issubclass(cls, OomutilError)
    assert issubclass(ParseError, ValueError) and issubclass(InvalidValue, ValueError)
    assert str(AccessDenied(pid=5, path="/proc/5/oom_score")) == "pid 5: /proc/5/oom_score: permission denied"
    assert str(NoSuchProcess(pid=9, path="/proc/9/stat")) == "pid 9: no such process"
    assert str(NotAvailable("no proc/self", path="/t")) == "/t: no proc/self"
    err = pickle.loads(pickle.dumps(AccessDenied(pid=3, path="/p")))
    assert (type(err), err.pid, err.path, str(err)) == (AccessDenied, 3, "/p", "pid 3: /p: permission denied")


def test_root_paths_and_checks(tmp_path):
    root = Root(str(tmp_path))
    assert root.proc(42, "oom_score") == f"{tmp_path}/proc/42/oom_score"
    assert root.sys("fs", "cgroup") == f"{tmp_path}/sys/fs/cgroup"
    assert root.etc("passwd") == f"{tmp_path}/etc/passwd"
    assert not root.is_live and Root("/").is_live
    assert as_root(str(tmp_path)) == root and as_root(root) is root
    assert as_root(None) is as_root(None)
    with pytest.raises(NotAvailable, match="this tree has no proc/self"):
        root.self_pid()
    with pytest.raises(NotAvailable, match="no such directory: a root is a directory holding proc/"):
        Root(str(tmp_path / "missing"))
    with pytest.raises(InvalidValue):
        as_root(42)


def test_non_linux_import_works_and_calls_say_why():
    code = ("import sys; sys.platform = 'darwin'\n"
            "import oomutil\n"
            "try: oomutil.memory_overcommit()\n"
            "except oomutil.NotAvailable as e: print(e)\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.stdout == "oomutil reads the Linux kernel's /proc and /sys; this system is darwin\n", out.stderr


def test_process_rejects_bad_pids(tmp_path):
    (tmp_path / "proc").mkdir()
    for bad in (0, -1, "12", 1.5, True):
        with pytest.raises(InvalidValue):
            oomutil.Process(bad, root=str(tmp_path))
    with pytest.raises(NoSuchProcess, match="pid 12: no such process"):
        oomutil.Process(12, root=str(tmp_path))


def test_passwd():
    table = parse_passwd(b"root:x:0:0:root:/root:/bin/bash\n# comment\nbroken\nnobody:x:65534:65534::/:/x\n"
                         b"dup:x:0:0::/:/x\nodd:x:abc:0::/:/x\n")
    assert table == {0: "root", 65534: "nobody"}


def test_user_name_from_a_tree(tmp_path):
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "passwd").write_text("daemon:x:1:1::/:/x\n")
    assert user_name(Root(str(tmp_path)), 1) == "daemon"
    assert user_name(Root(str(tmp_path)), 2) is None
    (tmp_path / "bare").mkdir()
    assert user_name(Root(str(tmp_path / "bare")), 0) is None  # no etc/passwd: no names
