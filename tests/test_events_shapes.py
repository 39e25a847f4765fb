"""Kernel OOM reports as people paste them, and the report formats of 4.10-4.18 and of a
kill whose "Killed process" names a thread.  Every sample is written here from the shapes
described in issue 9 and shared/reference/kernel-oom.md section 6, not copied from a log."""

from __future__ import annotations

import gzip
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oomutil.events.parse import parse_lines, parse_text, strip_prefix

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
    # (oom_score_adj: the victim's row of the task table says it)
    only_kill(cut, anon_rss_bytes=None, file_rss_bytes=None, shmem_rss_bytes=None, pgtables_bytes=None)
    cut = REPORT[:7] + ["Memory cgroup out of memory: Killed process 16642 (pyth>"]
    only_kill(cut, comm=None, total_vm_bytes=None, anon_rss_bytes=None, file_rss_bytes=None, shmem_rss_bytes=None,
              pgtables_bytes=None)
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
    # the header was read fine: its report lacks the kill line, which is not a parse failure
    assert err == (f"oomutil: 1 report of {path} without its kill line (the log ends or the next report starts "
                   f"first); the first begins: {REPORT[0]}; 1 line of {path} looks like OOM-killer output but "
                   "could not be parsed; the first: Killed process abc (x)\n")
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
    only_kill(cut, anon_rss_bytes=None, file_rss_bytes=None, shmem_rss_bytes=None, pgtables_bytes=None)
    # without the task table nothing says the oom_score_adj
    only_kill(cut[:3] + cut[6:], anon_rss_bytes=None, file_rss_bytes=None, shmem_rss_bytes=None, pgtables_bytes=None,
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


# -- the parser's misses on real logs (issue 23, item 5) -------------------------------------

# A 5.15 global OOM as an rsyslog template without "kernel:" writes it: host, colon, text.
HOSTLESS = [
    "stress-ng invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0, oom_score_adj=1000",
    "CPU: 2 PID: 5017 Comm: stress-ng Not tainted 5.15.0-101-generic #111-Ubuntu",
    "Mem-Info:",
    "oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,"
    "task_memcg=/user.slice/user-1000.slice/session-3.scope,task=stress-ng,pid=5017,uid=1000",
    "Out of memory: Killed process 5017 (stress-ng) total-vm:3145980kB, anon-rss:3112340kB, file-rss:4kB, "
    "shmem-rss:0kB, UID:1000 pgtables:6156kB oom_score_adj:1000",
]


def test_syslog_lines_with_a_host_and_no_kernel_tag():
    lines = [f"Apr 01 14:13:32 myhost: {x}" for x in HOSTLESS]
    [e] = parse_text("\n".join(lines), "x")
    assert (e.pid, e.comm, e.killer, e.uid, e.trigger_pid, e.time_raw) == (
        5017, "stress-ng", "kernel", 1000, 5017, "Apr 01 14:13:32")
    assert e.task_memcg == "/user.slice/user-1000.slice/session-3.scope"
    assert list(parse_lines(lines, "x")) == [e]
    # a daemon's line is no kernel line: it has a host before it, or a [pid] after it
    quoted = ["Apr 01 14:13:33 myhost oomwatch: " + HOSTLESS[4], "Apr 01 14:13:34 oomwatch[812]: " + HOSTLESS[4]]
    assert parse_text("\n".join(quoted), "x") == []
    # and a daemon's own words under a host-shaped identifier stay its own
    assert parse_text("Apr 01 14:13:32 myhost: starting backup of /srv", "x") == []


@pytest.mark.parametrize("prefix", [
    "Apr  1 14:13:32 web01 <kern.warning> kernel: ",
    "Apr  1 14:13:32 <kern.warning> web01 kernel: ",
    "Apr  1 14:13:32 web01 kernel: <kern.warning> ",
    "Apr  1 14:13:32 web01 kern.warn kernel: ",  # busybox syslogd
])
def test_a_facility_tag_keeps_the_time(prefix):
    e = only_kill([prefix + x for x in REPORT])
    assert (e.time_raw, e.time[4:]) == ("Apr  1 14:13:32", "-04-01T14:13:32")


def test_dmesg_time_format_iso():
    lines = [f"2024-04-29T14:55:41,{678628 + i:06d}+02:00 {x}" for i, x in enumerate(REPORT)]
    e = only_kill(lines)
    assert (e.time, e.time_raw) == ("2024-04-29T14:55:41.678628+02:00", "2024-04-29T14:55:41,678628+02:00")
    # the syslog shape with a comma in its stamp is still read as syslog (host, kernel:)
    assert strip_prefix("2024-04-29T14:55:41,678628+02:00 web01 kernel: text").text == "text"


def test_a_report_cut_after_its_summary_gives_an_inferred_kill(cli, tmp_path):
    cut = REPORT[:7]
    e = only_kill(cut, inferred=True, total_vm_bytes=None, anon_rss_bytes=None, file_rss_bytes=None,
                  shmem_rss_bytes=None, pgtables_bytes=None, oom_score_adj=0)  # adj: from the task table row
    assert e.time_seconds is None and e.texts is None
    # ended by the next report: the inferred kill first, then the next one's
    kills = parse_text("\n".join(cut + REPORT), "x")
    assert [(k.pid, k.inferred) for k in kills] == [(16642, True), (16642, False)]
    assert kills == list(parse_lines(cut + REPORT, "x"))
    # ended by a line stamped long after (the Killed line comes at once, under oom_lock)
    stamped_cut = [f"[  10.{i:06d}] {x}" for i, x in enumerate(cut)] + ["[  30.000000] oom: not this report"]
    [k] = parse_text("\n".join(stamped_cut), "x")
    assert (k.pid, k.inferred, k.time_seconds) == (16642, True, 10.0)
    # the whole report gives no inferred kill
    assert [k.inferred for k in parse_text("\n".join(REPORT), "x")] == [False]
    # the command says so, in JSON and in the table, with no note about a report without kill
    path = tmp_path / "cut.log"
    path.write_text("\n".join(cut) + "\n")
    code, out, err = cli("events", "--file", path, "--json")
    assert (code, err) == (0, "")
    [event] = json.loads(out)["events"]
    assert (event["pid"], event["inferred"]) == (16642, True)
    code, out, err = cli("events", "--file", path)
    assert "memcg, inferred" in out


def test_the_reaper_line_proves_a_kill_whose_line_was_lost():
    lines = [f"[  10.{i:06d}] {x}" for i, x in enumerate(REPORT[:7])] + [
        "[  10.000200] oom_reaper: reaped process 16642 (python3), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB"]
    [k] = parse_text("\n".join(lines), "x")
    assert (k.pid, k.inferred) == (16642, True)


def test_killed_process_with_a_trailing_space_and_no_sizes():
    [e] = parse_text("[  77.000001] Killed process 5017 (test) \n", "x")
    assert (e.pid, e.comm, e.total_vm_bytes) == (5017, "test", None)


SYSRQ = [  # sysrq f on 6.1: order=-1, no allocation failed
    "kworker/0:1 invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=-1, oom_score_adj=0",
    "CPU: 0 PID: 12 Comm: kworker/0:1 Not tainted 6.1.0-18-amd64 #1  Debian 6.1.76-1",
    "oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,"
    "task_memcg=/system.slice/java.service,task=java,pid=900,uid=0",
    "Out of memory: Killed process 900 (java) total-vm:4000000kB, anon-rss:2000000kB, file-rss:0kB, shmem-rss:0kB, "
    "UID:0 pgtables:4000kB oom_score_adj:0",
]


def test_order_minus_one_is_a_manual_oom(cli, tmp_path):
    e = only_kill(SYSRQ, pid=900, comm="java", constraint="CONSTRAINT_NONE", order=-1, manual=True, trigger_pid=12,
                  trigger_comm="kworker/0:1", gfp_mask="0xcc0", oom_memcg=None, task_memcg="/system.slice/java.service",
                  total_vm_bytes=4000000 << 10, anon_rss_bytes=2000000 << 10, file_rss_bytes=0,
                  pgtables_bytes=4000 << 10)
    assert e.manual and not parse_text("\n".join(REPORT), "x")[0].manual
    path = tmp_path / "sysrq.log"
    path.write_text("\n".join(SYSRQ) + "\n")
    assert json.loads(cli("events", "--file", path, "--json")[1])["events"][0]["manual"] is True
    out = cli("events", "--file", path)[1]
    assert "manual (sysrq)" in out and "global" not in out


def test_memory_oom_group_members_are_in_the_groups_cgroup(cli, tmp_path):
    lines = [f"[  50.{i:06d}] {x}" for i, x in enumerate(REPORT + [
        "Tasks in /app/worker are going to be killed due to memory.oom.group set",
        "Memory cgroup out of memory: Killed process 16650 (helper) total-vm:1000kB, anon-rss:400kB, "
        "file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:40kB oom_score_adj:0",
    ])]
    kills = parse_text("\n".join(lines), "x")
    assert [(k.pid, k.task_memcg, k.group_memcg) for k in kills] == [
        (16642, "/app/worker", None), (16650, None, "/app/worker")]
    path = tmp_path / "group.log"
    path.write_text("\n".join(lines) + "\n")
    code, out, err = cli("events", "--file", path, "--json", "--cgroup", "/app/worker")
    assert [e["pid"] for e in json.loads(out)["events"]] == [16642, 16650]


TABLE_310 = [  # RHEL 7 (3.10): no summary, no UID or oom_score_adj in the Killed line
    "[ 8000.100000] java invoked oom-killer: gfp_mask=0x201da, order=0, oom_score_adj=0",
    "[ 8000.100010] java cpuset=/ mems_allowed=0",
    "[ 8000.100020] CPU: 3 PID: 1234 Comm: java Not tainted 3.10.0-1160.el7.x86_64 #1",
    "[ 8000.100030] Mem-Info:",
    "[ 8000.100040] [ pid ]   uid  tgid total_vm      rss nr_ptes swapents oom_score_adj name",
    "[ 8000.100050] [  567]     0   567    12345      678      25        0         -1000 systemd-udevd",
    "[ 8000.100060] [ 1234]  1001  1234  2123456  1923456    3789        0           200 java",
    "[ 8000.100061] [ 1240]  1001  1240    23456     1234      40        0             0 gc thread",
    "[ 8000.100070] Out of memory: Kill process 1234 (java) score 912 or sacrifice child",
    "[ 8000.100080] Killed process 1234 (java) total-vm:8493824kB, anon-rss:7693824kB, file-rss:0kB",
]


def test_uid_and_adj_of_a_3_10_victim_come_from_its_task_table_row():
    e = only_kill(TABLE_310, pid=1234, comm="java", uid=1001, oom_score_adj=200, constraint=None, oom_memcg=None,
                  task_memcg=None, trigger_pid=1234, trigger_comm="java", gfp_mask="0x201da",
                  total_vm_bytes=8493824 << 10, anon_rss_bytes=7693824 << 10, file_rss_bytes=0,
                  shmem_rss_bytes=None, pgtables_bytes=None)
    # a child killed instead of the one selected: its own row
    child = TABLE_310[:-1] + ["[ 8000.100080] Killed process 1240 (gc thread) total-vm:93824kB, anon-rss:4936kB, "
                              "file-rss:0kB"]
    only_kill(child, pid=1240, comm="gc thread", uid=1001, oom_score_adj=0, total_vm_bytes=93824 << 10,
              anon_rss_bytes=4936 << 10, file_rss_bytes=0, shmem_rss_bytes=None, pgtables_bytes=None,
              constraint=None, oom_memcg=None, task_memcg=None, trigger_pid=1234, trigger_comm="java",
              gfp_mask="0x201da")
    # a row cut short says nothing; a table of another report is not this one's
    cut_row = TABLE_310[:6] + ["[ 8000.100060] [ 1234]  1001  1234  21234"] + TABLE_310[8:]
    assert parse_text("\n".join(cut_row), "x")[0][2:] == e._replace(uid=None, oom_score_adj=None)[2:]
    later = TABLE_310[:-1] + ["[ 9000.000000] Killed process 1234 (java) total-vm:8493824kB"]
    assert parse_text("\n".join(TABLE_310[:8] + later[-1:]), "x")[0].uid == 1001  # still its report (no gap rule)
    assert e.uid == 1001


# -- the report's texts, for `why` (issue 23) ---------------------------------------------

REAPED = "oom_reaper: reaped process 16642 (python3), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB"


def texts_of(lines):
    text = "\n".join(lines)
    events = parse_text(text, "x", keep_texts=True)
    assert events == list(parse_lines(lines, "x", keep_texts=True))
    # the same kills as without texts
    assert [e._replace(texts=None) for e in events] == parse_text(text, "x")
    return events


def test_texts_are_the_whole_report_with_its_reaper_line():
    lines = [f"[  50.{i:06d}] {x}" for i, x in enumerate(
        ["eth0: link up"] + REPORT[:3] + ["Mem-Info:", "active_anon:16320 inactive_anon:0"] + REPORT[3:]
        + ["audit: something else", REAPED, "eth0: link down"])]
    [e] = texts_of(lines)
    assert e.texts == tuple(REPORT[:3] + ["Mem-Info:", "active_anon:16320 inactive_anon:0"] + REPORT[3:]
                            + ["audit: something else", REAPED][-1:])
    # syslog lines of the report: the texts without their prefixes
    [e] = texts_of([f"Nov 27 22:11:05 web01 kernel: {x}" for x in REPORT])
    assert e.texts == tuple(REPORT)
    # the reaper line of another pid, or one too late, is not this kill's
    far = ["[  50.000000] " + x for x in REPORT + ["a", "b", "c", "d", "e", "f", REAPED]]
    assert texts_of(far)[0].texts == tuple(REPORT)
    assert texts_of(REPORT + [REAPED.replace("16642", "99")])[0].texts == tuple(REPORT)
    # without keep_texts: none
    assert parse_text("\n".join(REPORT), "x")[0].texts is None


def test_texts_of_group_members_inferred_and_header_less_kills():
    group = REPORT + [REAPED, "Tasks in /app/worker are going to be killed due to memory.oom.group set",
                      "Memory cgroup out of memory: Killed process 16650 (helper) total-vm:1000kB, anon-rss:400kB, "
                      "file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:40kB oom_score_adj:0"]
    first, member = texts_of(group)
    assert first.texts == tuple(REPORT + [REAPED]) and member.texts is None
    [inferred] = texts_of(REPORT[:7])
    assert inferred.inferred and inferred.texts == tuple(REPORT[:7])
    # a kill whose header was rate-limited away: its own line
    [alone] = texts_of(["noise", REPORT[7], "noise"])
    assert alone.texts == (REPORT[7],)


def test_each_line_is_stripped_once(monkeypatch):
    from oomutil.events import parse

    calls = []
    real = parse.strip_prefix
    monkeypatch.setattr(parse, "strip_prefix", lambda raw: calls.append(raw) or real(raw))
    lines = ["[  1.0] noise"] * 3 + [f"[  2.{i:06d}] {x}" for i, x in enumerate(REPORT + [REAPED])] + ["[ 3.0] x"] * 9
    [e] = parse.parse_text("\n".join(lines), "x", keep_texts=True)
    assert len(e.texts) == len(REPORT) + 1
    assert len(calls) == len(set(calls)) and len(calls) <= len(REPORT) + 1 + 5
