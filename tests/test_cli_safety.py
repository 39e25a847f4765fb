"""Issue 21, items 5, 6, 7 and 11 (the CLI's part): no traceback on odd input, an empty
answer said as one, machine formats that carry only records, and the smaller fixes.  The
real command runs (in a child process, or main() in this one); every process a test looks
at or changes is one it started."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from helpers import default_sigint, oomutil_command, run_oomutil
from oomutil.cli import COMMANDS
from oomutil.cli._args import PID_MAX_LIMIT, pid_arg

FIXTURES = Path(__file__).resolve().parent / "fixtures"
V1 = FIXTURES / "x86_64-cgroup1-linux6.18"
K8S = FIXTURES / "synthetic" / "cgroup2-k8s"


def one_usage_error(out, command):
    assert out.returncode == 2 and out.stdout == "" and "Traceback" not in out.stderr, out.stderr
    lines = out.stderr.splitlines()
    assert len(lines) == 2 and lines[0].startswith(f"oomutil {command}: error: ")
    assert lines[1] == f"Try 'oomutil {command} --help' for its options."
    return lines[0]


# -- item 5: no traceback -----------------------------------------------------------------------


@pytest.mark.parametrize("args", [["show", "2147483648"], ["show", "4194304"], ["show", "99999999999999999999"],
                                  ["top", "--pid", "1,2147483648"], ["victim", "--set", "2147483648=5"],
                                  ["victim", "--grow", "2147483648=1G"]])
def test_a_pid_beyond_the_kernels_limit_is_a_usage_error(args):
    said = one_usage_error(run_oomutil("--root", V1, *args), args[0])
    assert "PID_MAX_LIMIT" in said


@pytest.mark.parametrize("text", [" 1", "1 ", "١", "１", "+1", "0", "-1", "1e3", "", "0x10", "²"])
def test_a_pid_is_ascii_digits_only(text):
    with pytest.raises(argparse.ArgumentTypeError):
        pid_arg(text)
    out = run_oomutil("--root", V1, "show", text)
    assert "invalid PID argument" in one_usage_error(out, "show")


def test_pid_arg_takes_every_pid_the_kernel_can_give():
    assert [pid_arg(t) for t in ("1", "007", str(PID_MAX_LIMIT - 1))] == [1, 7, PID_MAX_LIMIT - 1]


def test_run_refuses_an_empty_command_and_a_nul_before_changing_anything():
    one_usage_error(run_oomutil("run", "-n", "5", "--", ""), "run")
    # a NUL cannot pass through exec's argv: main() in a child python, which the refusal must leave at adj 0
    code = ("import sys; from oomutil.cli import main; code = main(['run', '-n', '7', '--', 'a\\0b']); "
            "print(code, open('/proc/self/oom_score_adj').read().strip())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout == "2 0\n" and "a NUL character in 'a\\x00b'" in out.stderr and "Traceback" not in out.stderr


@pytest.fixture
def named_cafe():
    """A sleeping child of ours that calls itself "café\x1b" (not ASCII, and an escape)."""
    child = subprocess.Popen([sys.executable, "-c", "import time\nopen('/proc/self/comm', 'w').write('café\\x1b')\n"
                              "print(flush=True)\ntime.sleep(60)"], stdout=subprocess.PIPE)
    child.stdout.readline()  # renamed
    yield child
    child.kill()
    child.wait()


@pytest.mark.live
@pytest.mark.parametrize("args", [["show"], ["top", "--pid"], ["adj", "-p"]])
def test_a_non_ascii_name_on_an_ascii_terminal_is_escaped(named_cafe, args):
    out = run_oomutil(*args, named_cafe.pid, env={"PYTHONIOENCODING": "ascii"})
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
    assert "caf\\xe9\\x1b" in out.stdout and "\x1b" not in out.stdout


# -- item 6: an empty answer is said ---------------------------------------------------------


@pytest.mark.parametrize("args, said", [
    (["--user", "nosuchuser"], "oomutil: no such user: nosuchuser\n"),
    (["--user", "root", "--user", "nosuchuser"], "oomutil: no such user: nosuchuser\n"),
    (["--user", "4242"], "oomutil: no process matches --user 4242\n"),
    (["--user", "x\x1b[2J\ty"], "oomutil: no such user: x\\x1b[2J\\x09y\n"),  # said, never sent to the terminal
    (["--name", "^nomatch$"], "oomutil: no process matches --name '^nomatch$' (kernel threads are left out: "
                              "--all shows them)\n"),
    (["--pid", "2"], "oomutil: no process matches --pid 2 (kernel threads are left out: --all shows them)\n"),
    (["--user", "nobody", "--killable", "--cgroup", "/oomutil-capture/app"],
     "oomutil: no process matches --user nobody --cgroup /oomutil-capture/app --killable\n"),
    (["--cgroup", "/nonexistent"],
     f"oomutil: {V1}/sys/fs/cgroup/memory/nonexistent: no memory cgroup /nonexistent\n"),
])
@pytest.mark.parametrize("fmt", [[], ["--json"], ["--csv"]])
def test_top_says_when_nothing_answers(cli, args, said, fmt):
    assert cli("--root", V1, "top", *args, *fmt) == (1, "", said)


def test_top_finds_what_a_filter_names(cli):
    code, out, _ = cli("--root", V1, "top", "--json", "--user", "nobody", "--killable", "--cgroup", "/process_api")
    assert code == 0 and [r["comm"] for r in json.loads(out)] == ["a b) (c"]


def test_top_group_by_refuses_what_it_cannot_apply_and_applies_reverse(cli):
    for extra in (["--sort", "pid"], ["--sort", "name"], ["--cmdline"]):
        code, out, err = cli("--root", V1, "top", "--group-by", "user", *extra)
        assert (code, out) == (2, "") and err.startswith("oomutil top: error: --group-by lists groups, highest score first")
    groups = json.loads(cli("--root", V1, "top", "--group-by", "user", "--json")[1])
    backwards = json.loads(cli("--root", V1, "top", "--group-by", "user", "--json", "--reverse")[1])
    assert len(groups) > 1 and backwards == groups[::-1]


def test_victim_of_a_cgroup_without_processes_says_so(cli, tmp_path):
    root = tmp_path / "k8s"
    shutil.copytree(K8S, root, symlinks=True)
    empty = root / "sys/fs/cgroup/system.slice/empty.service"
    shutil.copytree(root / "sys/fs/cgroup/system.slice/sshd.service", empty)
    (empty / "cgroup.procs").write_text("")
    (empty / "cgroup.threads").write_text("") if (empty / "cgroup.threads").exists() else None
    for fmt in ([], ["--json"]):
        code, out, err = cli("--root", root, "victim", "--cgroup", "/system.slice/empty.service", *fmt)
        assert (code, out, err) == (1, "", "oomutil: no processes in /system.slice/empty.service: an OOM there "
                                           "has nobody to kill\n")
    code, out, _ = cli("--root", root, "victim", "--cgroup", "/system.slice/sshd.service")
    assert code == 0 and "no processes" not in out


# -- item 7: --json means JSON or a usage error; --watch keeps machine formats clean ----------


@pytest.mark.parametrize("args", [["run", "-n", "5", "--", "true"], ["metrics"], ["completion", "bash"],
                                  ["serve", "--listen", "127.0.0.1:1"]])
@pytest.mark.parametrize("where", ["before", "after"])
def test_commands_without_records_refuse_json(args, where):
    argv = ["--json", *args] if where == "before" else [args[0], "--json", *args[1:]]
    said = one_usage_error(run_oomutil(*argv), args[0])
    assert said == f"oomutil {args[0]}: error: --json: {args[0]} prints no records (JSON is for the commands that list them)"


def _watch(*args, seconds=1.3):
    child = subprocess.Popen([*oomutil_command(), "--root", V1, "top", "-n", "2", "--watch", "0.2", *args],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=default_sigint)
    time.sleep(seconds)
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=30)
    return child.returncode, out, err


@pytest.mark.parametrize("fmt", ["--json", "--ndjson", "--csv", "--group-by"])
def test_watch_in_a_machine_format_writes_only_records_and_ctrl_c_exits_130(fmt):
    extra = ["--csv", "--group-by", "user"] if fmt == "--group-by" else [fmt]
    code, out, err = _watch(*extra)
    assert code == 130
    banners = err.splitlines()
    assert len(banners) >= 3 and all(line.startswith("oomutil top, every 0.2s, ") for line in banners)
    assert "oomutil top" not in out and "\x1b" not in out
    if fmt == "--json":
        decoder, docs, at = json.JSONDecoder(), [], 0
        while at < len(out):
            doc, at = decoder.raw_decode(out, at)
            docs.append(doc)
            at += len(out[at:]) - len(out[at:].lstrip())
        assert len(docs) == len(banners) and all([r["pid"] for r in d] == [29532, 29533] for d in docs)
    elif fmt == "--ndjson":
        assert [json.loads(line)["pid"] for line in out.splitlines()] == [29532, 29533] * len(banners)
    else:
        lines = out.splitlines()
        header = "group,processes," if fmt == "--group-by" else "pid,comm,"
        assert lines[0].startswith(header) and sum(line.startswith(header) for line in lines) == 1
        assert len(lines) == 1 + len(banners) * (2 if fmt == "--group-by" else 2)


def test_watch_as_a_table_exits_130_too():
    code, out, err = _watch(seconds=0.8)
    assert (code, err) == (130, "") and out.count("oomutil top, every 0.2s") >= 2


# -- item 11 ------------------------------------------------------------------------------------


def test_root_without_a_value_is_the_global_options_error():
    for argv in (["--root"], ["--root", "--json"], ["--json", "--root"]):
        out = run_oomutil(*argv)
        assert out.returncode == 2 and out.stdout == "" and "Traceback" not in out.stderr
        assert out.stderr.splitlines() == ["oomutil: error: argument --root: expected one argument",
                                           "Try 'oomutil --help' for its options."]


def test_metrics_textfile_names_what_is_wrong_and_never_its_temporary(tmp_path):
    pytest.importorskip("prometheus_client")
    out = run_oomutil("metrics", "--textfile", "/nonexistent")
    assert (out.returncode, out.stderr) == (1, "oomutil: /nonexistent: no such directory\n")
    (tmp_path / "file").write_text("")
    out = run_oomutil("metrics", "--textfile", tmp_path / "file")
    assert (out.returncode, out.stderr) == (1, f"oomutil: {tmp_path / 'file'}: not a directory\n")
    out = run_oomutil("metrics", "--textfile", "/proc")  # a directory no file can be made in
    assert out.returncode == 1 and out.stderr.startswith("oomutil: /proc/oomutil.prom: cannot write it: ")
    (tmp_path / "d" / "oomutil.prom").mkdir(parents=True)  # the rename fails: nothing is left behind
    out = run_oomutil("metrics", "--textfile", tmp_path / "d")
    assert out.returncode == 1 and out.stderr == f"oomutil: {tmp_path / 'd' / 'oomutil.prom'}: cannot write it: Is a directory\n"
    assert os.listdir(tmp_path / "d") == ["oomutil.prom"]


def _ipv6_loopback_port():
    if not socket.has_ipv6:
        pytest.skip("this python has no IPv6")
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
            return s.getsockname()[1]
    except OSError as err:
        pytest.skip(f"no IPv6 loopback here: {err}")


def test_serve_listens_on_an_ipv6_literal_and_ctrl_c_exits_130():
    pytest.importorskip("prometheus_client")
    port = _ipv6_loopback_port()
    child = subprocess.Popen([*oomutil_command(), "--root", V1, "serve", "--kernel-log", "none", "--listen",
                              f"[::1]:{port}"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             preexec_fn=default_sigint)
    try:
        for _ in range(200):
            try:
                body = urllib.request.urlopen(f"http://[::1]:{port}/metrics", timeout=2).read().decode()
                break
            except OSError:
                assert child.poll() is None, child.stderr.read()
                time.sleep(0.05)
        assert "oomutil_" in body
    finally:
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=30)
    assert child.returncode == 130 and err.startswith(f"oomutil serve: http://[::1]:{port}/metrics\n")
    assert "Traceback" not in err
    bad = run_oomutil("serve", "--listen", f"::1:{port}")
    assert "an IPv6 address goes in brackets" in one_usage_error(bad, "serve")


@pytest.mark.live
def test_top_marks_this_oomutil_and_victim_leaves_it_out():
    child = subprocess.Popen([*oomutil_command(), "top", "-n", "0"], stdout=subprocess.PIPE, text=True)
    out, _ = child.communicate(timeout=60)
    marked = [line for line in out.splitlines() if line.endswith(" [this oomutil]")]
    assert len(marked) == 1 and marked[0].split()[0] == str(child.pid)
    # at oom_score_adj 1000 (run hands it on, and execs: the same pid) it would be the victim
    for fmt in ([], ["--json"]):
        child = subprocess.Popen([*oomutil_command(), "run", "-n", "1000", "--", *oomutil_command(), "victim",
                                  "-n", "0", *fmt], stdout=subprocess.PIPE, text=True)
        out, _ = child.communicate(timeout=60)
        assert child.returncode == 0
        if fmt:
            report = json.loads(out)
            assert report["victim"]["pid"] != child.pid and child.pid not in [c["pid"] for c in report["candidates"]]
        else:
            assert f"note: pid {child.pid}, this oomutil, is left out: it will be gone by then\n" in out
            assert f" {child.pid} " not in out.split("\nRANK", 1)[1]


# -- the needs_proc hook --------------------------------------------------------------------------


def test_a_command_that_needs_no_proc_runs_under_a_root_without_one(cli, tmp_path, monkeypatch):
    (tmp_path / "probe_command.py").write_text(
        "def register(sub, parents, help_text):\n"
        "    sub.add_parser('probe', parents=parents).add_argument('--file')\n"
        "def needs_proc(args):\n"
        "    return args.file is None\n"
        "def run(args):\n"
        "    print('ran')\n"
        "    return 0\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(COMMANDS, "probe", ("probe_command", "a command of this test"))
    (tmp_path / "root").mkdir()
    assert cli("--root", tmp_path / "root", "probe", "--file", "x") == (0, "ran\n", "")
    code, out, err = cli("--root", tmp_path / "root", "probe")
    assert (code, out) == (1, "") and err.endswith("has no proc/: a root is a directory holding proc/ and sys/ "
                                                   "(/, a host's / mounted at /host, a captured tree)\n")
