"""``oomutil top`` and ``oomutil.top()`` against this machine, with processes started here."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from helpers import default_sigint, oomutil_command, read_int, run_oomutil, status_bytes

import oomutil

pytestmark = pytest.mark.live


def _kernel_thread(pid: str) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return False
    return bool(int(stat[stat.rfind(b")") + 2:].split()[6]) & 0x00200000)


def test_json_lists_every_non_kernel_thread_process(spawn):
    children = [spawn(adj=adj) for adj in (1, 2, 500, 999, 1000)]
    before = {int(p) for p in os.listdir("/proc") if p.isdigit() and not _kernel_thread(p)}
    out = run_oomutil("top", "--json")
    after = {int(p) for p in os.listdir("/proc") if p.isdigit() and not _kernel_thread(p)}
    assert (out.returncode, out.stderr) == (0, "")
    records = json.loads(out.stdout)
    listed = {r["pid"] for r in records}
    # Every process alive before and after the run is listed (others came or went meanwhile).
    assert (before & after) - listed == set()
    assert not any(_kernel_thread(str(r["pid"])) for r in records if os.path.exists(f"/proc/{r['pid']}"))
    fields = ["pid", "comm", "uid", "user", "oom_score", "oom_score_adj", "rss_bytes", "swap_bytes",
              "pgtables_bytes", "cgroup", "killable", "unkillable_reason", "start_time_ticks", "points_pages",
              "root_bonus", "badness_pages", "cmdline"]
    assert all(list(r) == fields for r in records)
    by_pid = {r["pid"]: r for r in records}
    for child, adj in zip(children, (1, 2, 500, 999, 1000)):
        r = by_pid[child.pid]
        base = f"/proc/{child.pid}"
        assert r["oom_score_adj"] == adj == read_int(f"{base}/oom_score_adj")
        assert r["oom_score"] == read_int(f"{base}/oom_score")  # idle children: stable
        assert r["rss_bytes"] == status_bytes(f"{base}/status", "VmRSS")
        assert r["killable"] is True and r["unkillable_reason"] is None
    # sorted: most likely victim first
    scores = [r["oom_score"] for r in records]
    assert scores == sorted(scores, reverse=True)


def test_top_n_equals_the_head_of_the_full_ranking(spawn):
    ours = {spawn(adj=adj).pid for adj in (700, 800, 900)}
    full = oomutil.top()
    head = oomutil.top(limit=3)
    assert [r.pid for r in head] == [r.pid for r in full[:3]]
    # other processes of this machine may rank above them (a browser's tabs at adj 300+)
    assert [r.oom_score_adj for r in full if r.pid in ours] == [900, 800, 700]


def test_unkillable_marked_not_hidden():
    records = {r.pid: r for r in oomutil.top(kernel_threads=True)}
    assert records[1].killable is False and records[1].unkillable_reason == "global init"
    assert records[2].unkillable_reason == "kernel thread"
    assert 2 not in {r.pid for r in oomutil.top()}  # kernel threads hidden by default
    out = run_oomutil("top", "--pid", "1")
    assert "[never killed: global init]" in out.stdout


def test_filters_and_sorts(spawn):
    child = spawn(adj=321)
    me = oomutil.top(pids=[child.pid, 1])
    assert [r.pid for r in me] == [child.pid, 1]
    assert [r.pid for r in oomutil.top(pids=[child.pid], users=["root", "0"])] == [child.pid]
    assert oomutil.top(pids=[child.pid], users=["nobody"]) == []
    name = os.path.basename(open(f"/proc/{child.pid}/comm").read().strip())
    import re

    assert child.pid in {r.pid for r in oomutil.top(name=re.compile(re.escape(name)).search)}
    assert [r.pid for r in oomutil.top(pids=[1, child.pid], killable=True)] == [child.pid]
    cg = oomutil.top(pids=[child.pid])[0].cgroup
    assert [r.pid for r in oomutil.top(pids=[child.pid], cgroup_prefix=cg)] == [child.pid]
    assert oomutil.top(pids=[child.pid], cgroup_prefix=cg + "-no-such") == []
    by_pid = [r.pid for r in oomutil.top(sort="pid", limit=5)]
    assert by_pid == sorted(by_pid)
    newest = [r.pid for r in oomutil.top(sort="pid", reverse=True, limit=5)]
    assert newest == sorted(newest, reverse=True) and len(newest) == 5  # (exact: on a tree, below)
    by_rss = [r.rss_bytes for r in oomutil.top(sort="rss", limit=10)]
    assert by_rss == sorted(by_rss, reverse=True)
    names = [r.comm for r in oomutil.top(sort="name")]
    assert names == sorted(names)
    with pytest.raises(oomutil.InvalidValue, match="valid: score, adj, rss, swap, pid, user, name"):
        oomutil.top(sort="bogus")


def test_cmdline_only_when_asked(spawn):
    child = spawn()
    assert oomutil.top(pids=[child.pid])[0].cmdline is None
    cmdline = oomutil.top(pids=[child.pid], cmdline=True)[0].cmdline
    assert cmdline == open(f"/proc/{child.pid}/cmdline", "rb").read().rstrip(b"\0").replace(b"\0", b" ").decode()


def test_many_short_lived_processes_never_break_top():
    # A churner starts and reaps hundreds of processes while top --json runs repeatedly.
    churn = subprocess.Popen(
        [sys.executable, "-c",
         "import subprocess, time\n"
         "end = time.time() + 8\n"
         "while time.time() < end:\n"
         "    ps = [subprocess.Popen(['sleep', '0.0%d' % (i % 5)]) for i in range(40)]\n"
         "    [p.wait() for p in ps]\n"])
    runs = 0
    try:
        deadline = time.time() + 7
        while time.time() < deadline:
            out = run_oomutil("top", "--json")
            assert out.returncode == 0, out.stderr
            assert out.stderr == ""
            assert isinstance(json.loads(out.stdout), list)
            table = run_oomutil("top", "-n", "30")
            assert table.returncode == 0 and table.stderr == ""
            runs += 1
    finally:
        churn.kill()
        churn.wait()
    assert runs >= 3


def test_head_ends_quietly_and_bad_sort_lists_keys():
    script = f"{' '.join(oomutil_command())} top --all | head -3; echo \"rc=${{PIPESTATUS[0]}}\" >&2"
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60)
    lines = out.stdout.splitlines()
    assert len(lines) == 3 and lines[0].split()[:3] == ["PID", "USER", "SCORE"]
    assert out.stderr == "rc=0\n"
    bad = run_oomutil("top", "--sort", "bogus")
    assert bad.returncode == 2
    assert "invalid choice: 'bogus' (choose from 'score', 'adj', 'rss', 'swap', 'pid', 'user', 'name')" in bad.stderr


def test_table_columns_and_formats(spawn):
    child = spawn(adj=1000)
    out = run_oomutil("top", "-n", "3")
    lines = out.stdout.splitlines()
    assert lines[0].split() == ["PID", "USER", "SCORE", "ADJ", "RSS", "SWAP", "MEM%", "CGROUP", "COMMAND"]
    assert len(lines) == 4 and lines[1].split()[0] == str(child.pid)
    ndjson = run_oomutil("top", "--ndjson", "--pid", child.pid).stdout.splitlines()
    assert [json.loads(line)["pid"] for line in ndjson] == [child.pid]
    csv_lines = run_oomutil("top", "--csv", "--pid", f"{child.pid},1").stdout.splitlines()
    assert csv_lines[0].startswith("pid,comm,uid,user,oom_score,oom_score_adj,")
    assert csv_lines[1].startswith(f"{child.pid},") and ",true,," in csv_lines[1]
    groups = json.loads(run_oomutil("top", "--group-by", "user", "--json").stdout)
    root_group = next(g for g in groups if g["group"] == "root")
    assert root_group["processes"] >= 2 and root_group["max_oom_score"] >= 1333
    assert root_group["top_pid"] == child.pid


def test_watch_refreshes_and_ctrl_c_exits_130(spawn):
    child = subprocess.Popen(oomutil_command() + ["top", "-n", "2", "--watch", "0.2"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                preexec_fn=default_sigint)
    time.sleep(1.5)
    spawn(adj=1000)  # a new most likely victim
    time.sleep(1.5)
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=30)
    assert child.returncode == 130 and err == ""  # interrupted: 130, as every command
    assert out.count("oomutil top, every 0.2s") >= 3
    assert "top candidate changed" in out
