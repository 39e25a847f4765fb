"""Kernel OOM reports as people paste them, and the report formats of 4.10-4.18 and of a
kill whose "Killed process" names a thread.  Every sample is written here from the shapes
described in issue 9 and shared/reference/kernel-oom.md section 6, not copied from a log."""

from __future__ import annotations

import gzip
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oomutil.events.parse import parse_lines, parse_text

# A 6.x memcg report, one message a line, without any prefix.
REPORT = [
    "python3 invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0",
    "CPU: 1 UID: 0 PID: 16642 Comm: python3 Not tainted 6.18.44 #1",
    "memory: usage 65536kB, limit 65536kB, failcnt 101",
    "Tasks state (memory values in pages):",
    "[  pid  ]   uid  tgid total_vm      rss rss_anon rss_file rss_shmem pgtables_bytes swapents oom_score_adj name",
    "[  16642]     0 16642    55346    17953    16320     1633         0   196608        0             0 python3",
    "oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/app,"
    "task_memcg=/app/worker,task=python3,pid=16642,uid=0",
    "Memory cgroup out of memory: Killed process 16642 (python3) total-vm:221384kB, anon-rss:65280kB, "
    "file-rss:6532kB, shmem-rss:0kB, UID:0 pgtables:192kB oom_score_adj:0",
]
EXPECTED = dict(pid=16642, tid=None, comm="python3", uid=0, constraint="CONSTRAINT_MEMCG", oom_memcg="/app",
                task_memcg="/app/worker", total_vm_bytes=221384 << 10, anon_rss_bytes=65280 << 10,
                file_rss_bytes=6532 << 10, shmem_rss_bytes=0, pgtables_bytes=192 << 10, oom_score_adj=0,
                trigger_comm="python3", trigger_pid=16642, order=0, gfp_mask="0xcc0", killer="kernel")


def only_kill(lines, **expected):
    text = "\n".join(lines)
    events = parse_text(text, "x")
    assert events == list(parse_lines(text.split("\n"), "x"))  # the fast and the line path agree
    kills = [e for e in events if e.killer == "kernel"]
    assert len(kills) == 1, kills
    for key, value in {**EXPECTED, **expected}.items():
        assert getattr(kills[0], key) == value, (key, getattr(kills[0], key), value)
    return kills[0]


def stamped(i):
    return f"[  123.{456000 + i:06d}] "


@pytest.mark.parametrize("shape, prefix", [
    # a log web UI's export: its own date and columns before the kernel's stamp
    ("web UI", lambda i: f"Jun 25, 2021 @ 12:42:13.029 | kernel | {stamped(i)}"),
    ("web UI without stamp", lambda i: "Jun 25, 2021 @ 12:42:13.029 | kernel | "),
    ("web UI table", lambda i: f"| 2021-06-25 12:42:13.029 | node-7 | kernel | {stamped(i)}"),
    # a hypervisor or serial console capture: its stamp and tags before the record's level
    ("serial console", lambda i: f"2021-06-25T12:42:13.029Z serial0 <6>{stamped(i)}"),
    ("hypervisor", lambda i: f"[vm-1234 console] 12:42:13 <4>{stamped(i)}"),
    # syslog without a host field, and with a scrubbed one
    ("syslog without host", lambda i: "Aug 11 16:28:11 kernel: " + stamped(i)),
    ("syslog scrubbed host", lambda i: "Aug 11 16:28:11 ** kernel: "),
    ("journal short-precise", lambda i: "Aug 11 16:28:11.123456 node kernel: "),
])
def test_prefixes_people_paste(shape, prefix):
    e = only_kill([prefix(i) + line for i, line in enumerate(REPORT)])
    if "[" in prefix(0) and "123." in prefix(0):
        assert e.time_seconds == 123.456  # the kernel's own stamp, found after the unknown prefix


def test_a_cut_task_table_and_lines_a_pager_truncated():
    lines = list(REPORT)
    lines[5:5] = ["..."]  # someone cut the task table
    only_kill(lines)
    # the Killed line cut mid-field: the fields before the cut, nothing made up
    cut = REPORT[:7] + ["Memory cgroup out of memory: Killed process 16642 (python3) total-vm:221384kB, anon-rss:652…"]
    only_kill(cut, anon_rss_bytes=None, file_rss_bytes=None, shmem_rss_bytes=None, pgtables_bytes=None,
              oom_score_adj=None)
    cut = REPORT[:7] + ["Memory cgroup out of memory: Killed process 16642 (pyth>"]
    only_kill(cut, comm=None, total_vm_bytes=None, anon_rss_bytes=None, file_rss_bytes=None, shmem_rss_bytes=None,
              pgtables_bytes=None, oom_score_adj=None)
    # the summary cut: the fields before the cut
    cut = REPORT[:6] + ["oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/app,"
                        "task_memcg=/app/wor…", REPORT[7]]
    only_kill(cut, task_memcg=None)
    # the trigger cut after order=
    cut = ["python3 invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_sco…"] + REPORT[1:]
    only_kill(cut)
    cut = ["python3 invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), ord..."] + REPORT[1:]
    only_kill(cut, order=None)


@pytest.mark.parametrize("trigger, comm, gfp, order", [
    # 4.10-4.18: nodemask before order, two spaces before order=
    ("java invoked oom-killer: gfp_mask=0x14200ca(GFP_HIGHUSER_MOVABLE), nodemask=(null),  order=0, "
     "oom_score_adj=0", "java", "0x14200ca", 0),
    ("java invoked oom-killer: gfp_mask=0x14200ca(GFP_HIGHUSER_MOVABLE), nodemask=0,2,  order=3, "
     "oom_score_adj=-998", "java", "0x14200ca", 3),
    ("kworker/u4:2 invoked oom-killer: gfp_mask=0x6000c0(GFP_KERNEL), nodemask=0-1, order=-1, "
     "oom_score_adj=0", "kworker/u4:2", "0x6000c0", -1),
    # 2.6.36-3.x: oom_adj before oom_score_adj, no flag names
    ("httpd invoked oom-killer: gfp_mask=0x201da, order=0, oom_adj=0, oom_score_adj=0", "httpd", "0x201da", 0),
])
def test_trigger_line_of_every_era(trigger, comm, gfp, order):
    lines = [f"[ 10.{i:06d}] {line}" for i, line in enumerate([trigger, *REPORT[1:]])]
    only_kill(lines, trigger_comm=comm, gfp_mask=gfp, order=order)


def test_killed_process_names_a_thread():
    """__oom_kill_process() prints the thread that holds the memory (a leader that called
    pthread_exit() has none); the summary names the process."""
    lines = REPORT[:6] + [
        "oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/app,"
        "task_memcg=/app/worker,task=leaderless,pid=5000,uid=0",
        "Memory cgroup out of memory: Killed process 5002 (worker) total-vm:221384kB, anon-rss:65280kB, "
        "file-rss:6532kB, shmem-rss:0kB, UID:0 pgtables:192kB oom_score_adj:0",
    ]
    only_kill(lines, pid=5000, tid=5002, comm="worker")


def test_memory_oom_group_members_belong_to_the_same_oom():
    lines = [f"[  50.{i:06d}] {line}" for i, line in enumerate(REPORT + [
        "Tasks in /app/worker are going to be killed due to memory.oom.group set",
        "Memory cgroup out of memory: Killed process 16650 (helper) total-vm:1000kB, anon-rss:400kB, "
        "file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:40kB oom_score_adj:0",
    ])]
    kills = parse_text("\n".join(lines), "x")
    assert [(e.pid, e.constraint, e.oom_memcg, e.trigger_pid) for e in kills] == [
        (16642, "CONSTRAINT_MEMCG", "/app", 16642), (16650, "CONSTRAINT_MEMCG", "/app", 16642)]
    # a rate-limited kill much later is not taken for a member
    later = lines + ["[ 90.000000] Out of memory: Killed process 17000 (x) total-vm:1kB, anon-rss:1kB, "
                     "file-rss:0kB, shmem-rss:0kB"]
    assert parse_text("\n".join(later), "x")[-1].oom_memcg is None


def test_doubtful_lines_and_empty_inputs_are_reported(cli, tmp_path):
    # a report cut before its Killed line, and a Killed line nobody can read
    path = tmp_path / "cut.log"
    path.write_text("\n".join(REPORT[:6] + ["noise", "Killed process abc (x)", *REPORT]) + "\n")
    code, out, err = cli("events", "--file", path, "--json")
    assert code == 0 and [e["pid"] for e in json.loads(out)["events"]] == [16642]
    assert err == (f"oomutil: 2 lines of {path} look like OOM-killer output but could not be parsed; "
                   f"the first: {REPORT[0]}\n")
    empty = tmp_path / "quiet.log.gz"
    empty.write_bytes(gzip.compress(b"[ 1.0] nothing to see\n"))
    code, out, err = cli("events", "--file", empty)
    assert (code, out, err) == (0, "", f"oomutil: no OOM kills found in {empty}\n")


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters="[]|:;"),
               max_size=40).filter(lambda s: "oom" not in s.lower() and "Killed" not in s),
       st.sampled_from([" ", " | ", ": ", "> ", "] ", ""]))
def test_any_prefix_before_a_stamped_report_gives_the_same_event(junk, end):
    """Whatever stands before the kernel's "[secs]" stamp (a date, a host, columns of a
    web UI, a console's tags), the event is the same.  Junk holds no colon: "word: " at the
    start of a line is a syslog identifier, and a user-space one is another killer's line."""
    lines = [f"{junk}{end}{stamped(i)}{line}" for i, line in enumerate(REPORT)]
    text = "\n".join(lines)
    kills = [e for e in parse_text(text, "x") if e.killer == "kernel"]
    expected = dict(EXPECTED, time_seconds=123.456)
    assert len(kills) == 1
    assert {k: getattr(kills[0], k) for k in expected} == expected


def test_the_summary_names_the_process_only_where_it_can():
    """A summary with another pid is taken as the process of a thread kill only when the
    whole summary was read and no "sacrifice child" line (5.0) says a child was killed."""
    summary = ("oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,"
               "task_memcg=/user.slice,task=java,pid=200,uid=1000")
    killed = "Out of memory: Killed process 201 (worker) total-vm:10kB, anon-rss:4kB, file-rss:0kB, shmem-rss:0kB"
    five_oh = [REPORT[0], summary, "Out of memory: Kill process 200 (java) score 900 or sacrifice child", killed]
    e = parse_text("\n".join(five_oh), "x")[0]
    assert (e.pid, e.tid, e.task_memcg, e.uid, e.constraint) == (201, None, None, None, "CONSTRAINT_NONE")
    # a victim that was already exiting: no kill in that report; a later header-less kill
    stale = [REPORT[0], summary.replace("pid=200", "pid=123"),
             "Out of memory: OOM victim 123 (x) is already exiting. Skip killing the task", killed]
    e = parse_text("\n".join(stale), "x")[0]
    assert (e.pid, e.tid, e.task_memcg) == (201, None, None)
    # a summary cut without a mark: its last field is not trusted
    cut = REPORT[:6] + [REPORT[6][:-len(",uid=0")].replace("pid=16642", "pid=166"), REPORT[7]]
    only_kill(cut, uid=0)


def test_lines_that_only_quote_the_kernel_are_not_kills():
    quoted = [
        "I1127 22:11:05.123 1 log_monitor.go:160] Event{Message:Memory cgroup out of memory: Killed process 4242 "
        "(java) total-vm:100kB, anon-rss:50kB, file-rss:0kB, shmem-rss:0kB}",
        "Aug 11 16:28:11.123456 host myscript[77]: saw: Out of memory: Killed process 4243 (x) total-vm:1kB",
    ]
    assert parse_text("\n".join(quoted), "x") == []
    # an IPv6 host is a host, not an identifier "2001"
    line = "Nov 27 22:11:05 2001:db8::5 kernel: [ 9.5] " + REPORT[7]
    assert [(e.pid, e.killer, e.time_seconds) for e in parse_text(line, "x")] == [(16642, "kernel", 9.5)]


def test_a_size_cut_without_a_mark_is_not_a_size():
    cut = REPORT[:7] + ["Memory cgroup out of memory: Killed process 16642 (python3) total-vm:221384kB, anon-rss:652"]
    only_kill(cut, anon_rss_bytes=None, file_rss_bytes=None, shmem_rss_bytes=None, pgtables_bytes=None,
              oom_score_adj=None)


def test_group_members_end_where_other_lines_begin():
    group = REPORT + ["Tasks in /app/worker are going to be killed due to memory.oom.group set",
                      "Memory cgroup out of memory: Killed process 16650 (helper) total-vm:1000kB, anon-rss:400kB, "
                      "file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:40kB oom_score_adj:0"]
    # syslog lines carry no seconds: a later global kill whose header was rate-limited
    lines = [f"Nov 27 10:00:0{i % 10} node kernel: {x}" for i, x in enumerate(group)]
    lines += ["Nov 27 10:00:10 node kernel: sd 0:0:0:0: [sda] oom? no, a disk message",
              "Nov 27 13:30:00 node kernel: Out of memory: Killed process 99999 (big) total-vm:1kB, anon-rss:1kB, "
              "file-rss:0kB, shmem-rss:0kB"]
    kills = parse_text("\n".join(lines), "x")
    assert [(e.pid, e.constraint, e.oom_memcg) for e in kills] == [
        (16642, "CONSTRAINT_MEMCG", "/app"), (16650, "CONSTRAINT_MEMCG", "/app"), (99999, None, None)]
