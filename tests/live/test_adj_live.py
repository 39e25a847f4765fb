"""oomutil adj and run, and Process.set_oom_score_adj(), on real processes: raise, lower
within what is allowed, refusals with their reason, a reused pid never written, run's exit
status and signals, and --dry-run's answer against the real change."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from helpers import fork_at, has_capability, oomutil_command, read_int, run_oomutil, sleeper

import oomutil

pytestmark = pytest.mark.live


def test_raise_then_lower_within_what_is_allowed(sleeper):
    child = sleeper()
    p = oomutil.Process(child.pid)
    p.set_oom_score_adj(700)
    assert read_int(f"/proc/{child.pid}/oom_score_adj") == 700
    p.set_oom_score_adj(100)  # down, but not below 0: allowed without CAP_SYS_RESOURCE
    assert read_int(f"/proc/{child.pid}/oom_score_adj") == 100


def test_lowering_below_the_floor_says_why(sleeper):
    child = sleeper()
    p = oomutil.Process(child.pid)
    if has_capability(24):
        p.set_oom_score_adj(-500)
        assert read_int(f"/proc/{child.pid}/oom_score_adj") == -500
        return
    with pytest.raises(oomutil.AccessDenied, match="needs CAP_SYS_RESOURCE, which this process lacks"):
        p.set_oom_score_adj(-500)
    assert read_int(f"/proc/{child.pid}/oom_score_adj") == 0
    out = run_oomutil("adj", "-p", child.pid, "-n", "-500")
    assert out.returncode == 1 and out.stdout == "" and len(out.stderr.splitlines()) == 1
    assert f"pid {child.pid}" in out.stderr and "-500" in out.stderr and "CAP_SYS_RESOURCE" in out.stderr


@pytest.mark.parametrize("value", [1001, -1001, True, "5"])
def test_out_of_range_is_refused_before_any_write(sleeper, value):
    child = sleeper()
    with pytest.raises(oomutil.InvalidValue):
        oomutil.Process(child.pid).set_oom_score_adj(value)
    assert read_int(f"/proc/{child.pid}/oom_score_adj") == 0


def test_a_dead_pid_and_a_reused_pid_are_never_written(sleeper):
    child = sleeper()
    p = oomutil.Process(child.pid)
    child.kill()
    child.wait()
    with pytest.raises(oomutil.NoSuchProcess):
        p.set_oom_score_adj(600)
    out = run_oomutil("adj", "-p", child.pid, "-n", "600")
    assert out.returncode == 1 and f"pid {child.pid}" in out.stderr and "Traceback" not in out.stderr
    if not os.access("/proc/sys/kernel/ns_last_pid", os.W_OK):
        pytest.skip("cannot write /proc/sys/kernel/ns_last_pid (needs CAP_SYS_ADMIN) to force a pid reuse")
    newcomer = fork_at(child.pid)
    assert newcomer is not None, "the pid was not handed out again in 50 tries"
    try:
        with pytest.raises(oomutil.NoSuchProcess, match="now belongs to another process"):
            p.set_oom_score_adj(600)
        assert read_int(f"/proc/{newcomer.pid}/oom_score_adj") == 0
    finally:
        newcomer.kill()
        newcomer.wait()


def test_adj_shows_and_sets_as_choom_does(sleeper):
    child = sleeper()
    shown = run_oomutil("adj", "-p", child.pid)
    assert shown.returncode == 0 and shown.stdout.startswith(f"pid {child.pid} (sleep): oom_score_adj 0, oom_score ")
    out = run_oomutil("adj", "-p", child.pid, "-n", "400")
    assert out.returncode == 0 and f"pid {child.pid} (sleep): oom_score_adj 0 -> 400, oom_score " in out.stdout
    assert read_int(f"/proc/{child.pid}/oom_score_adj") == 400



def test_adj_by_name_changes_only_that_name(tmp_path):
    """--name on a name no other process has: a sleep started as a link named uniquely (comm
    is the name it was started by).  Never a common name: the suite runs on users' servers."""
    import shutil
    import uuid

    unique = f"ou{uuid.uuid4().hex[:12]}"  # comm keeps 15 bytes
    os.symlink(shutil.which("sleep"), tmp_path / unique)
    child = subprocess.Popen([str(tmp_path / unique), "60"])
    try:
        by_name = run_oomutil("adj", "--name", f"^{unique}$", "-n", "450")
        assert by_name.returncode == 0 and len(by_name.stdout.splitlines()) == 1
        assert by_name.stdout.startswith(f"pid {child.pid} ({unique}): oom_score_adj 0 -> 450, oom_score ")
        assert read_int(f"/proc/{child.pid}/oom_score_adj") == 450
    finally:
        child.kill()
        child.wait()


def test_dry_run_says_what_the_change_then_does(sleeper):
    child = sleeper()
    dry = run_oomutil("adj", "-p", child.pid, "-n", "1000", "--dry-run")
    assert dry.returncode == 0 and "dry run: nothing was changed" in dry.stdout
    assert read_int(f"/proc/{child.pid}/oom_score_adj") == 0
    predicted = dry.stdout.splitlines()[0].split("with oom_score_adj 1000: ")[1]
    assert run_oomutil("adj", "-p", child.pid, "-n", "1000").returncode == 0
    victim = json.loads(run_oomutil("victim", "--json").stdout)["victim"]
    assert predicted == f"pid {victim['pid']} ({victim['comm']})" == f"pid {child.pid} (sleep)"


def test_run_sets_the_value_and_passes_the_status_through():
    out = run_oomutil("run", "-n", "500", "--", "cat", "/proc/self/oom_score_adj")
    assert (out.returncode, out.stdout) == (0, "500\n")
    assert run_oomutil("run", "-n", "1", "--", "sh", "-c", "exit 7").returncode == 7
    shell = subprocess.run(["sh", "-c", " ".join(oomutil_command()) + " run -n 1 -- sh -c 'kill -9 $$'; echo $?"],
                           capture_output=True, text=True)
    assert shell.stdout.strip() == "137"  # 128 + SIGKILL, as a shell reports it
    missing = run_oomutil("run", "-n", "1", "--", "no-such-command-here")
    assert missing.returncode == 127 and "command not found" in missing.stderr


SHARERS_C = r"""
/* sharers clone|vfork: a child that shares this process's memory, made with
 * clone(CLONE_VM) (no CLONE_THREAD, no CLONE_VFORK) or with CLONE_VM|CLONE_VFORK (what
 * vfork() does: the parent waits until the child exits).  The child prints
 * "ready PARENT CHILD" and waits for stdin to close, then exits. */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char stack[1 << 16];

static int child_main(void *arg) {
    char buf[64];
    int n = snprintf(buf, sizeof buf, "ready %d %d\n", (int)getppid(), (int)getpid());
    write(1, buf, n);
    while (read(0, buf, sizeof buf) > 0)
        ;
    _exit(0);
}

int main(int argc, char **argv) {
    int flags = CLONE_VM | SIGCHLD;
    if (argc > 1 && strcmp(argv[1], "vfork") == 0)
        flags |= CLONE_VFORK;
    int child = clone(child_main, stack + sizeof stack, flags, NULL);
    if (child < 0) {
        perror("clone");
        return 1;
    }
    waitpid(child, NULL, 0);
    return 0;
}
"""


@pytest.fixture
def sharers(tmp_path):
    """Start the sharers program (``start("clone")`` or ``start("vfork")``): (parent, child)
    pids; each is ended (stdin closed) and reaped afterwards."""
    import shutil

    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler (cc) to build the CLONE_VM / vfork test program")
    (tmp_path / "sharers.c").write_text(SHARERS_C)
    subprocess.run([cc, "-O2", "-o", str(tmp_path / "sharers"), str(tmp_path / "sharers.c")], check=True)
    started = []

    def start(how):
        proc = subprocess.Popen([str(tmp_path / "sharers"), how], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                text=True)
        started.append(proc)
        ready, parent, child = proc.stdout.readline().split()
        assert ready == "ready" and int(parent) == proc.pid
        return int(parent), int(child)

    yield start
    for proc in started:
        proc.stdin.close()
        proc.wait(timeout=10)


def test_a_clone_vm_child_changes_along_and_is_named(sharers):
    """fs/proc/base.c __set_oom_adj() (4.8+): a write reaches every other process of the mm
    when kernel/fork.c copy_oom_score_adj() flagged it MMF_MULTIPROCESS: clone(CLONE_VM)
    without CLONE_THREAD or CLONE_VFORK."""
    parent, child = sharers("clone")
    out = run_oomutil("adj", "-p", parent, "-n", "300")
    assert out.returncode == 0, out.stderr
    assert read_int(f"/proc/{child}/oom_score_adj") == 300  # the kernel set both
    assert (f"  pid {child} (sharers) changed with it: it shares its memory "
            "(clone(CLONE_VM) without CLONE_THREAD or CLONE_VFORK)") in out.stdout
    assert "vfork" not in out.stdout.replace("CLONE_VFORK", "")
    back = run_oomutil("adj", "-p", child, "-n", "350")  # and the other way
    assert back.returncode == 0 and read_int(f"/proc/{parent}/oom_score_adj") == 350
    assert f"  pid {parent} (sharers) changed with it" in back.stdout


def test_a_vfork_child_does_not_change_along(sharers):
    """A vfork child (CLONE_VM|CLONE_VFORK) shares the memory but keeps its own value:
    __set_oom_adj() skips tasks with vfork_done, and copy_oom_score_adj() does not flag the
    mm for a vfork, so neither side's write reaches the other."""
    parent, child = sharers("vfork")
    out = run_oomutil("adj", "-p", parent, "-n", "300")
    assert out.returncode == 0, out.stderr
    assert read_int(f"/proc/{parent}/oom_score_adj") == 300
    assert read_int(f"/proc/{child}/oom_score_adj") == 0
    assert "changed with it" not in out.stdout
    out = run_oomutil("adj", "-p", child, "-n", "600")
    assert out.returncode == 0 and "changed with it" not in out.stdout
    assert (read_int(f"/proc/{child}/oom_score_adj"), read_int(f"/proc/{parent}/oom_score_adj")) == (600, 300)


def test_the_legacy_oom_adj_is_written_with_the_kernels_mapping(sleeper):
    from oomutil.procfs.pid import oom_adj_to_score_adj, score_adj_to_oom_adj

    # fs/proc/base.c: 15 is 1000; otherwise oom_adj * 1000 / 17 and back, truncating
    assert [oom_adj_to_score_adj(a) for a in (-17, -1, 0, 1, 10, 15)] == [-1000, -58, 0, 58, 588, 1000]
    assert [score_adj_to_oom_adj(s) for s in (-1000, -59, 0, 500, 999, 1000)] == [-17, -1, 0, 8, 15, 15]
    child = sleeper()
    for score_adj in (1, 58, 59, 500, 941, 942, 999, 1000):  # up only: allowed without CAP_SYS_RESOURCE
        oomutil.Process(child.pid).set_oom_score_adj(score_adj)
        assert read_int(f"/proc/{child.pid}/oom_adj") == score_adj_to_oom_adj(score_adj), score_adj
    child = sleeper()
    p = oomutil.Process(child.pid)
    p.set_oom_adj(10)  # this kernel has both files: the kernel's own mapping shows
    assert read_int(f"/proc/{child.pid}/oom_score_adj") == oom_adj_to_score_adj(10) == 588
    assert read_int(f"/proc/{child.pid}/oom_adj") == score_adj_to_oom_adj(588) == 9
    with pytest.raises(oomutil.InvalidValue, match="outside -17..15"):
        p.set_oom_adj(16)


def test_lowering_through_oom_adj_says_the_legacy_rule(sleeper):
    child = sleeper()
    p = oomutil.Process(child.pid)
    p.set_oom_adj(10)
    if has_capability(24):
        p.set_oom_adj(5)
        return
    with pytest.raises(oomutil.AccessDenied, match="through the legacy oom_adj any lowering needs CAP_SYS_RESOURCE"):
        p.set_oom_adj(5)


def test_choosing_nothing_says_so():
    none = run_oomutil("adj", "--name", "^no-process-is-named-so$", "-n", "5")
    assert (none.returncode, none.stdout) == (1, "") and "no process matches" in none.stderr
    unchosen = run_oomutil("adj", "-n", "5")
    assert unchosen.returncode == 2 and "name the processes" in unchosen.stderr


def test_choom_output_is_choom_s_own(sleeper):
    """adj --choom prints what util-linux choom prints (choom.c): two lines to show, one
    "changed from A to B" line to set; compared with choom itself where it is installed."""
    import shutil

    child = sleeper()
    pid = child.pid
    shown = run_oomutil("adj", "--choom", "-p", pid)
    score = read_int(f"/proc/{pid}/oom_score")
    assert (shown.returncode, shown.stderr) == (0, "")
    assert shown.stdout == f"pid {pid}'s current OOM score: {score}\npid {pid}'s current OOM score adjust value: 0\n"
    changed = run_oomutil("adj", "--choom", "-p", pid, "-n", "400")
    assert (changed.returncode, changed.stdout) == (0, f"pid {pid}'s OOM score adjust value changed from 0 to 400\n")
    if shutil.which("choom"):
        real = subprocess.run(["choom", "-p", str(pid), "-n", "450"], capture_output=True, text=True)
        mine = run_oomutil("adj", "--choom", "-p", pid, "-n", "500")
        assert real.stdout.replace("400 to 450", "450 to 500") == mine.stdout
        real = subprocess.run(["choom", "-p", str(pid)], capture_output=True, text=True)
        assert run_oomutil("adj", "--choom", "-p", pid).stdout == real.stdout
    for other in (["--json"], ["--dry-run"], ["--name", "^x$"]):
        bad = run_oomutil("adj", "--choom", "-p", pid, "-n", "600", *other)
        assert bad.returncode == 2 and "--choom" in bad.stderr and bad.stdout == ""
    assert read_int(f"/proc/{pid}/oom_score_adj") in (400, 500)
