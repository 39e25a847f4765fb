"""Process and the system calls against this machine's /proc, with real processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from helpers import fork_at, meminfo_bytes, read_int, reaped_pid, status_bytes

import oomutil

pytestmark = pytest.mark.live


def test_acceptance_one_liner():
    # The README's promise, as a user would run it.
    code = "import oomutil,os; p=oomutil.Process(os.getpid()); print(p.oom_score(), p.oom_score_adj())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    score, adj = map(int, out.stdout.split())
    assert adj == read_int("/proc/self/oom_score_adj")  # inherited from this test process
    assert 0 <= score <= 2000


@pytest.mark.parametrize("adj", [0, 1, 7, 333, 999, 1000])
def test_values_equal_the_files(spawn, adj):
    child = spawn(adj=adj)
    p = oomutil.Process(child.pid)
    base = f"/proc/{child.pid}"
    assert p.oom_score_adj() == adj == read_int(f"{base}/oom_score_adj")
    assert p.oom_score() == read_int(f"{base}/oom_score")
    assert p.oom_adj() == read_int(f"{base}/oom_adj")
    assert p.name() == open(f"{base}/comm").read().rstrip("\n")
    before = status_bytes(f"{base}/status", "VmRSS")
    mem = p.memory()
    after = status_bytes(f"{base}/status", "VmRSS")  # an idle child may still fault a page in between
    assert min(before, after) <= mem.rss_bytes <= max(before, after)
    assert mem.swap_bytes == status_bytes(f"{base}/status", "VmSwap")
    assert mem.pgtables_bytes == status_bytes(f"{base}/status", "VmPTE")
    st = os.stat(base)
    assert p.uids().real == st.st_uid
    info = oomutil.process_info(p)
    later = status_bytes(f"{base}/status", "VmRSS")  # the same page race as above, a read later
    assert (info.pid, info.oom_score_adj) == (child.pid, adj)
    assert min(mem.rss_bytes, later) <= info.rss_bytes <= max(mem.rss_bytes, later)


def test_negative_adj_needs_cap_sys_resource(spawn):
    # This machine's root lacks CAP_SYS_RESOURCE: lowering below the floor is EACCES.
    child = spawn()
    cap_eff = int(next(line for line in open("/proc/self/status") if line.startswith("CapEff")).split()[1], 16)
    has_sys_resource = bool(cap_eff & (1 << 24))
    fd = os.open(f"/proc/{child.pid}/oom_score_adj", os.O_WRONLY)
    try:
        if has_sys_resource:
            os.write(fd, b"-500")
            assert oomutil.Process(child.pid).oom_score_adj() == -500
        else:
            with pytest.raises(PermissionError):
                os.write(fd, b"-500")
            assert oomutil.Process(child.pid).oom_score_adj() == 0
    finally:
        os.close(fd)


def test_self_and_default_pid():
    assert oomutil.Process().pid == os.getpid() == oomutil.Process(os.getpid()).pid
    assert oomutil.Process().oom_score_adj() == read_int("/proc/self/oom_score_adj")


def test_reaped_process_raises_no_such_process():
    pid = reaped_pid()
    with pytest.raises(oomutil.NoSuchProcess) as info:
        oomutil.Process(pid)
    assert str(info.value) == f"pid {pid}: no such process"


def test_process_that_exits_later_raises_no_such_process(spawn):
    child = spawn()
    p = oomutil.Process(child.pid)
    child.kill()
    child.wait()
    for call in (p.oom_score, p.oom_score_adj, p.memory, p.name, lambda: oomutil.process_info(p)):
        with pytest.raises(oomutil.NoSuchProcess):
            call()


def test_zombie_has_no_memory_and_score_zero():
    child = subprocess.Popen(["true"])
    deadline = time.time() + 10
    while open(f"/proc/{child.pid}/stat").read().split(") ")[1][0] != "Z":
        assert time.time() < deadline
        time.sleep(0.01)
    try:
        p = oomutil.Process(child.pid)
        assert p.stat().state == "Z"
        assert p.memory() == oomutil.ProcessMemory(0, 0, 0)
        assert p.oom_score() == 0  # no mm: not a candidate
    finally:
        child.wait()


def test_kernel_thread():
    p = oomutil.Process(2)  # kthreadd
    assert p.stat().is_kernel_thread
    assert p.oom_score() == 0 and p.memory().rss_bytes == 0


def test_pid_reuse_is_noticed(spawn):
    if not os.access("/proc/sys/kernel/ns_last_pid", os.W_OK):
        pytest.skip("cannot write /proc/sys/kernel/ns_last_pid (needs CAP_SYS_ADMIN) to force a pid reuse")
    first = spawn(adj=500)
    p = oomutil.Process(first.pid)
    assert p.oom_score_adj() == 500
    first.kill()
    first.wait()
    second = fork_at(first.pid)
    assert second is not None, "the pid was not handed out again in 50 tries"
    try:
        # Same pid, another process: the old Process must not read the new one's values.
        with pytest.raises(oomutil.NoSuchProcess, match="now belongs to another process"):
            p.oom_score_adj()
        assert oomutil.Process(first.pid).oom_score_adj() == read_int("/proc/self/oom_score_adj")
    finally:
        second.kill()
        second.wait()


def test_oneshot_reads_once_and_checks_identity_once(spawn):
    child = spawn(adj=10)
    p = oomutil.Process(child.pid)
    with p.oneshot():
        first = p.status()
        assert p.status() is first  # cached within the block
        with p.oneshot():  # nesting is harmless
            assert p.oom_score_adj() == 10
    assert p.status() is not first  # a new read outside


def test_system_calls_equal_the_files():
    assert oomutil.memory_overcommit() == read_int("/proc/sys/vm/overcommit_memory")
    assert oomutil.Process().memory_overcommit() == read_int("/proc/sys/vm/overcommit_memory")
    vm = oomutil.vm_settings()
    for name, value in vm._asdict().items():
        assert value == read_int(f"/proc/sys/vm/{name}"), name
    m = oomutil.meminfo()
    assert m.mem_total_bytes == meminfo_bytes("/proc/meminfo", "MemTotal")
    assert m.swap_total_bytes == meminfo_bytes("/proc/meminfo", "SwapTotal")
    assert m.commit_limit_bytes == meminfo_bytes("/proc/meminfo", "CommitLimit")
    assert oomutil.kernel_release() == os.uname().release
    kills = oomutil.oom_kill_count()
    vmstat = dict(line.split() for line in open("/proc/vmstat"))
    assert kills == (int(vmstat["oom_kill"]) if "oom_kill" in vmstat else None)
