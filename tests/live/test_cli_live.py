"""The installed ``oomutil`` command against this machine: values, exit codes, messages."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from helpers import (meminfo_bytes, oomutil_command, read_int, reaped_pid, run_oomutil, set_adj,
                     status_bytes)

pytestmark = pytest.mark.live


def test_show_json_of_a_live_process_equals_its_files(spawn):
    child = spawn(adj=250)
    out = run_oomutil("show", "--json", child.pid)
    assert (out.returncode, out.stderr) == (0, "")
    [record] = json.loads(out.stdout)
    base = f"/proc/{child.pid}"
    assert record["pid"] == child.pid
    assert record["oom_score_adj"] == 250 == read_int(f"{base}/oom_score_adj")
    assert record["oom_score"] == read_int(f"{base}/oom_score")
    assert record["oom_adj"] == read_int(f"{base}/oom_adj")
    assert record["comm"] == open(f"{base}/comm").read().rstrip("\n")
    assert record["uid"] == os.stat(base).st_uid
    assert record["rss_bytes"] == status_bytes(f"{base}/status", "VmRSS")
    assert record["swap_bytes"] == status_bytes(f"{base}/status", "VmSwap")
    assert record["pgtables_bytes"] == status_bytes(f"{base}/status", "VmPTE")


def test_show_json_self_is_the_command_itself():
    child = subprocess.Popen(oomutil_command() + ["show", "--json", "self"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, preexec_fn=set_adj(123))
    out, err = child.communicate(timeout=60)
    assert (child.returncode, err) == (0, "")
    [record] = json.loads(out)
    assert record["pid"] == child.pid
    assert record["oom_score_adj"] == 123
    assert record["oom_adj"] == 123 * 17 // 1000  # the kernel's legacy view: 2
    assert 666 <= record["oom_score"] <= 2000  # adj > 0 lifts the 666 baseline (5.9+)


def test_system_json_equals_the_files():
    out = run_oomutil("system", "--json")
    assert (out.returncode, out.stderr) == (0, "")
    info = json.loads(out.stdout)
    for knob, value in info["vm"].items():
        assert value == read_int(f"/proc/sys/vm/{knob}"), knob
    m = info["meminfo"]
    for field, key in [("mem_total_bytes", "MemTotal"), ("swap_total_bytes", "SwapTotal"),
                       ("commit_limit_bytes", "CommitLimit")]:
        assert m[field] == meminfo_bytes("/proc/meminfo", key), field
    assert info["kernel_release"] == os.uname().release
    vmstat = dict(line.split() for line in open("/proc/vmstat"))
    assert info["oom_kill_count"] == int(vmstat["oom_kill"])


def test_show_dead_pid_is_one_line_exit_1():
    pid = reaped_pid()
    out = run_oomutil("show", pid)
    assert (out.returncode, out.stdout, out.stderr) == (1, "", f"oomutil: pid {pid}: no such process\n")


def test_show_bad_pid_among_good_ones_prints_the_good_ones(spawn):
    child = spawn()
    dead = reaped_pid()
    out = run_oomutil("show", "--json", 1, dead, child.pid)
    assert out.returncode == 1
    assert out.stderr == f"oomutil: pid {dead}: no such process\n"
    assert [r["pid"] for r in json.loads(out.stdout)] == [1, child.pid]
    text = run_oomutil("show", 1, dead, child.pid)
    assert text.returncode == 1
    assert text.stdout.startswith("pid 1 (") and f"\npid {child.pid} (" in text.stdout


@pytest.mark.parametrize("arg", ["abc", "0", "-5", "12x", ""])
def test_show_invalid_pid_is_a_usage_error(arg):
    out = run_oomutil("show", arg)
    assert out.returncode == 2
    assert f"invalid PID argument: '{arg}'" in out.stderr
    assert "Traceback" not in out.stderr and out.stdout == ""


def test_usage_errors_exit_2():
    for args in (["bogus"], ["show"], ["top", "--sort", "bogus"], ["-n", "-1"], ["--watch", "x"]):
        out = run_oomutil(*args)
        assert out.returncode == 2, args
        # the one useful line and where the options are, not the whole usage block
        error, hint = out.stderr.splitlines()
        assert error.startswith("oomutil") and ": error: " in error and hint.startswith("Try 'oomutil"), args


def test_no_command_is_top():
    out = run_oomutil("--json", "-n", "1")
    assert out.returncode == 0
    assert len(json.loads(out.stdout)) == 1


def test_root_option_and_environment(tmp_path):
    missing = tmp_path / "missing"
    out = run_oomutil("--root", missing, "system")
    assert (out.returncode, out.stderr) == (1, f"oomutil: {missing}: no such directory: a root is a directory "
                                               "holding proc/ and sys/ (/, a host's / mounted at /host, a captured tree)\n")
    out = run_oomutil("system", env={"OOMUTIL_ROOT": str(missing)})
    assert out.returncode == 1 and "no such directory" in out.stderr
    # --root after the command name works as well, and wins over the environment
    out = run_oomutil("system", "--json", "--root", "/", env={"OOMUTIL_ROOT": str(missing)})
    assert out.returncode == 0 and json.loads(out.stdout)["kernel_release"] == os.uname().release


def test_version_and_module_entry():
    import oomutil

    out = run_oomutil("--version")
    assert (out.returncode, out.stdout) == (0, f"oomutil {oomutil.__version__}\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    mod = subprocess.run([sys.executable, "-m", "oomutil", "show", "--json", "1"],
                         capture_output=True, text=True, env=env)
    assert mod.returncode == 0 and json.loads(mod.stdout)[0]["pid"] == 1


def test_closed_pipe_ends_quietly():
    # Far more output than a pipe holds, read by `head -1`: the writer gets EPIPE.
    many = " ".join(["1"] * 3000)
    script = f"{' '.join(oomutil_command())} show {many} | head -1; echo \"rc=${{PIPESTATUS[0]}}\" >&2"
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=120)
    assert out.stdout == "pid 1 (" + open("/proc/1/comm").read().rstrip("\n") + ")\n"
    assert out.stderr == "rc=0\n"


@pytest.mark.parametrize("case, said", [("missing", "no such directory"), ("file", "not a directory"),
                                        ("empty", "has no proc/"), ("sys-only", "has no proc/")])
def test_a_bad_root_says_one_thing_whichever_the_command(tmp_path, case, said):
    root = tmp_path / case
    if case == "file":
        root.write_text("")
    elif case != "missing":
        root.mkdir()
        if case == "sys-only":
            (root / "sys").mkdir()
    messages = set()
    for command in (["top"], ["system"], ["cgroups"], ["victim"], ["show", "1"], ["events"], ["metrics"]):
        out = run_oomutil("--root", root, *command)
        assert out.returncode == 1 and out.stdout == "", (command, out.stderr)
        messages.add(out.stderr)
    assert len(messages) == 1 and f"oomutil: {root}: {said}" in messages.pop()


def test_an_empty_root_is_a_usage_error():
    out = run_oomutil("--root", "", "top")
    assert out.returncode == 2 and "--root wants a directory" in out.stderr
