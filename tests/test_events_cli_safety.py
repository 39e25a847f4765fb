"""`oomutil events` on bad or odd input: one line and an exit status, never a traceback or
an empty answer that looks like one (issue 21).  The real command, on real files."""

from __future__ import annotations

import json
import os
import signal

import pytest
from helpers import FIXTURES, run_oomutil

LOGS = FIXTURES / "logs"


def _said_once(proc, code):
    """Exit status ``code``, nothing on stdout, no traceback, the message first on stderr."""
    assert proc.returncode == code, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    return proc.stderr.splitlines()[0]


@pytest.mark.parametrize("args", [["--since", "99999999d"], ["--until", "99999999999999999999999s"],
                                  ["--since", "9" * 400]])
def test_an_absurd_duration_is_a_usage_error(args):
    line = _said_once(run_oomutil("events", "--file", LOGS / "dmesg-6.18.txt", *args), 2)
    assert line.startswith("oomutil events: error: argument --") and "invalid time" in line


def test_an_inverted_range_is_a_usage_error():
    line = _said_once(run_oomutil("events", "--file", LOGS / "journal-short-iso.txt", "--since", "1h", "--until", "2h"), 2)
    assert "--until" in line and "before --since" in line
    # the same range the right way round is fine
    ok = run_oomutil("events", "--file", LOGS / "journal-short-iso.txt", "--json", "--since", "2026-11-27 22:11:30",
                     "--until", "2026-11-27 22:12:30+00:00")
    assert ok.returncode == 0 and [e["pid"] for e in json.loads(ok.stdout)["events"]] == [4567]


# -- names are the kernel's (item 4, issue 21; item 8 there) ---------------------------------

KMSG = (LOGS / "kmsg.txt").read_text()
# /dev/kmsg writes bytes < 0x20, >= 0x7f and the backslash as \xNN (seen on 6.18: a
# backslash reads \x5c, a tab \x09, "é" \xc3\xa9)
ODD_ESCAPED = "odd\\x5cname\\x0ax\\xc3\\xa9\\x1b[2J"
ODD = "odd\\name\nxé\x1b[2J"


def _kmsg_with_odd_name(tmp_path):
    path = tmp_path / "kmsg-odd.txt"
    path.write_text(KMSG.replace("(python3)", f"({ODD_ESCAPED})"))
    return path


def test_kmsg_escapes_are_decoded_in_json_csv_and_ndjson(tmp_path):
    path = _kmsg_with_odd_name(tmp_path)
    out = run_oomutil("events", "--file", path, "--json")
    assert out.returncode == 0 and [e["comm"] for e in json.loads(out.stdout)["events"]] == [ODD]
    out = run_oomutil("events", "--file", path, "--ndjson")
    assert [json.loads(line)["comm"] for line in out.stdout.splitlines()] == [ODD]
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(run_oomutil("events", "--file", path, "--csv").stdout)))
    assert [r["comm"] for r in rows] == [ODD]


def test_the_table_escapes_the_decoded_name(tmp_path):
    out = run_oomutil("events", "--file", _kmsg_with_odd_name(tmp_path))
    lines = out.stdout.splitlines()
    assert out.returncode == 0 and len(lines) == 2  # the newline in the name did not break the row
    assert "odd\\name\\x0axé\\x1b[2J" in lines[1] and "\x1b" not in out.stdout


def test_stderr_never_carries_a_raw_control_character(tmp_path):
    path = tmp_path / "x\x1b[2J.log"
    path.write_text("[    1.000000] evil\x1b[2J\x07 invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0\n")
    out = run_oomutil("events", "--file", path)
    assert out.returncode == 0 and out.stdout == ""
    assert "evil\\x1b[2J\\x07 invoked oom-killer" in out.stderr and "no OOM kills found in" in out.stderr
    assert "\x1b" not in out.stderr and "\x07" not in out.stderr


# -- only the kernel's records are kernel kills (issue 22, item 4) ---------------------------

FAKE_PID = 4194301  # above any default pid_max but the largest: no real process has it


def _fake_kill(name):
    return (f"Memory cgroup out of memory: Killed process {FAKE_PID} ({name}) total-vm:1000kB, anon-rss:900kB, "
            "file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:40kB oom_score_adj:0")


def test_a_user_space_record_in_kmsg_is_no_kernel_kill(tmp_path):
    # as a file of kmsg records: the fixture's real report, then what `echo > /dev/kmsg` makes
    path = tmp_path / "kmsg-mixed.txt"
    path.write_text(KMSG + f"12,600,265700000,-;{_fake_kill('faked')}\n"
                    f"30,601,265700001,-;python3 invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0\n")
    out = run_oomutil("events", "--file", path, "--json")
    assert out.returncode == 0
    assert [(e["pid"], e["comm"]) for e in json.loads(out.stdout)["events"]] == [(16642, "python3")]


@pytest.mark.root
@pytest.mark.real_oom  # it writes two fake kill lines into this host's kernel log
def test_a_line_written_into_dev_kmsg_is_not_listed():
    """A real write into /dev/kmsg (root): user space cannot log as facility 0, and what it
    writes is no kill, whether bare or with a "<N>" level (4: below the console's level)."""
    if not os.access("/dev/kmsg", os.R_OK | os.W_OK):
        pytest.skip("/dev/kmsg is not readable and writable here (needs root)")
    name = f"oomutil-fake-{os.getpid()}"
    for line in (_fake_kill(name), "<4>" + _fake_kill(name)):
        with open("/dev/kmsg", "w") as kmsg:
            kmsg.write(line + "\n")
    out = run_oomutil("events", "--json")
    assert out.returncode == 0, out.stderr
    events = json.loads(out.stdout)["events"]
    assert not [e for e in events if e["pid"] == FAKE_PID or e["comm"] == name]
    # the lines are there, as user-space records: the reading saw them and passed them over
    with open("/dev/kmsg", "rb", buffering=0) as kmsg:
        os.set_blocking(kmsg.fileno(), False)
        records = []
        while True:
            try:
                records.append(os.read(kmsg.fileno(), 8192))
            except BlockingIOError:
                break
    mine = [r for r in records if name.encode() in r]
    assert len(mine) == 2 and all(int(r.split(b",")[0]) >> 3 == 1 for r in mine)


def test_only_kernel_records_of_the_journal_are_kernel_kills(tmp_path):
    fixture = (LOGS / "journal.json").read_text()
    fakes = [  # written into /dev/kmsg by user space: journald keeps the transport, not the facility
        {"MESSAGE": _fake_kill("viakmsg"), "_TRANSPORT": "kernel", "SYSLOG_FACILITY": "1",
         "SYSLOG_IDENTIFIER": "sh", "__REALTIME_TIMESTAMP": "1795817466000000"},
        # a program that calls itself kernel (logger -t kernel)
        {"MESSAGE": _fake_kill("logger"), "_TRANSPORT": "syslog", "SYSLOG_IDENTIFIER": "kernel",
         "__REALTIME_TIMESTAMP": "1795817467000000"},
    ]
    path = tmp_path / "journal.json"
    path.write_text(fixture + "".join(json.dumps(f) + "\n" for f in fakes))
    out = run_oomutil("events", "--file", path, "--json")
    assert out.returncode == 0
    assert [(e["killer"], e["pid"]) for e in json.loads(out.stdout)["events"]] == [("kernel", 16642), ("earlyoom", 4568)]


# -- one time form for every log (issue 21, item 9) -----------------------------------------

KILL_618 = [line for line in (LOGS / "dmesg-6.18.txt").read_text().splitlines() if "Killed process" in line][0]
KILL_TEXT = KILL_618.split("] ", 1)[1]


@pytest.mark.parametrize("name, shown, time, raw", [
    ("dmesg-T.txt", "2026-11-27 22:11:05 local", "2026-11-27T22:11:05", "Fri Nov 27 22:11:05 2026"),
    ("journal-short-iso.txt", "2026-11-27 22:11:05 UTC", "2026-11-27T22:11:05+00:00", "2026-11-27T22:11:05+0000"),
    ("journal.json", "2026-11-27 22:11:05 UTC", "2026-11-27T22:11:05+00:00", "2026-11-27T22:11:05.000000+00:00"),
    ("syslog-de.txt", "-03-03 04:05:06 local", "-03-03T04:05:06", "Mär  3 04:05:06"),
    ("dmesg-6.18.txt", "265.664159 s after boot", None, "265.664159"),  # another boot: no date
    ("kmsg.txt", "265.664159 s after boot", None, "265.664159"),
])
def test_the_time_column_has_one_form_for_every_log(name, shown, time, raw):
    table = run_oomutil("events", "--file", LOGS / name).stdout.splitlines()
    assert table[0].startswith("TIME ") and shown in table[1]
    if name == "syslog-de.txt":  # no year in syslog: the latest 3 March not after today
        assert table[1][:4].isdigit()
    first = json.loads(run_oomutil("events", "--file", LOGS / name, "--json").stdout)["events"][0]
    assert (first["time"] if time is None or first["time"] is None else first["time"][-len(time):]) == time
    assert first["time_raw"] == raw


def test_a_zone_that_is_not_utc_is_said_and_utc_converts(tmp_path):
    path = tmp_path / "iso.log"
    path.write_text(f"2026-11-27T23:11:05.123456+01:00 node1 kernel: {KILL_TEXT}\n")
    out = run_oomutil("events", "--file", path)
    assert out.stdout.splitlines()[1].startswith("2026-11-27 23:11:05 +01:00 ")
    assert run_oomutil("events", "--file", path, "--utc").stdout.splitlines()[1].startswith("2026-11-27 22:11:05 UTC ")
    [e] = json.loads(run_oomutil("events", "--file", path, "--json").stdout)["events"]
    assert (e["time"], e["time_raw"]) == ("2026-11-27T23:11:05.123456+01:00", "2026-11-27T23:11:05.123456+01:00")


def test_kills_of_this_boot_are_shown_in_the_local_zone():
    out = run_oomutil("events", "--json", env={"TZ": "Europe/Berlin"})
    events = [e for e in json.loads(out.stdout)["events"] if e["time_seconds"] is not None] if out.returncode == 0 else []
    if not events:
        pytest.skip("no OOM kill in this boot's kernel log to read (or /dev/kmsg not readable here)")
    assert all(e["time"][-6:] in ("+01:00", "+02:00") and e["time_raw"] == f"{e['time_seconds']:.6f}" for e in events)
    table = run_oomutil("events", env={"TZ": "Europe/Berlin"}).stdout.splitlines()
    assert table[-1][20:26] in ("+01:00", "+02:00")


# -- --follow --file follows the file, as tail -F (issue 21, item 9) ------------------------

REPORT_618 = (LOGS / "dmesg-6.18.txt").read_text()


def _report(pid):
    return REPORT_618.replace("16642", str(pid))


def test_follow_a_file_through_appends_rotation_and_truncation(tmp_path):
    import queue
    import subprocess
    import threading
    import time

    from helpers import default_sigint, oomutil_command

    log = tmp_path / "kern.log"
    log.write_text(_report(1001))  # before the start: not new
    env = dict(os.environ)
    env.pop("OOMUTIL_ROOT", None)
    proc = subprocess.Popen(oomutil_command() + ["events", "--file", str(log), "--follow", "--ndjson"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            preexec_fn=default_sigint)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()

    def next_pid():
        try:
            return json.loads(lines.get(timeout=10))["pid"]
        except queue.Empty:
            raise AssertionError(f"no event within 10 s; stderr: {proc.stderr.read1(4096) if proc.poll() is not None else ''}")

    try:
        time.sleep(1.0)  # let it open the file and go to its end
        with open(log, "a") as f:  # appended, in two writes: a line may come in parts
            f.write(_report(1002)[:100])
            f.flush()
            time.sleep(0.5)
            f.write(_report(1002)[100:])
        assert next_pid() == 1002
        os.rename(log, tmp_path / "kern.log.1")  # rotated: a new file takes the name
        time.sleep(0.5)
        log.write_text(_report(1003) + "ordinary line\n" * 50)
        assert next_pid() == 1003
        with open(tmp_path / "kern.log.1", "a") as f:  # the old file is not followed any more
            f.write(_report(1009))
        log.write_text(_report(1004))  # truncated (shorter than what was read), then written
        assert next_pid() == 1004
        with open(log, "a") as f:
            f.write(_report(1005))
        assert next_pid() == 1005
        assert lines.empty() and proc.poll() is None  # 1001 (old) and 1009 (the rotated file) never came
        proc.send_signal(signal.SIGINT)  # Ctrl-C: 130, as every command
        assert proc.wait(timeout=10) == 130
    finally:
        proc.kill()
        proc.wait(timeout=10)
    assert "Traceback" not in proc.stderr.read()


def test_follow_refuses_two_files_and_a_gzip_file():
    line = _said_once(run_oomutil("events", "--follow", "--file", LOGS / "kmsg.txt", "--file", LOGS / "dmesg-T.txt"), 2)
    assert "--follow follows one --file" in line
    line = _said_once(run_oomutil("events", "--follow", "--file", LOGS / "dmesg-6.18.txt.gz"), 1)
    assert "dmesg-6.18.txt.gz" in line and "gzip" in line


def test_follow_standard_input_until_it_ends():
    out = run_oomutil("events", "--follow", "--file", "-", "--ndjson", input=_report(1006) + _report(1007))
    assert out.returncode == 0 and [json.loads(line)["pid"] for line in out.stdout.splitlines()] == [1006, 1007]


def test_an_unreadable_file_is_named():
    line = _said_once(run_oomutil("events", "--file", "/proc/self/mem"), 1)
    assert line.startswith("oomutil: /proc/self/mem: ")


# -- a journal that is not there is said, not taken for one without kills (issue 21, item 6) --

def test_no_journalctl_is_no_journal(tmp_path):
    line = _said_once(run_oomutil("events", "--source", "journal", env={"PATH": str(tmp_path)}), 1)
    assert line.startswith("oomutil: there is no journal here")


def test_no_journal_files_is_no_journal():
    from oomutil.events.sources import _JOURNAL_DIRS

    found = [os.path.join(d, n) for top in _JOURNAL_DIRS if os.path.isdir(top)
             for d, _, names in os.walk(top) for n in names if n.endswith((".journal", ".journal~"))]
    if found:
        pytest.skip(f"this machine has a journal ({found[0]}): the case needs one without")
    for extra in ([], ["--follow"]):
        line = _said_once(run_oomutil("events", "--source", "journal", *extra), 1)
        assert line == "oomutil: there is no journal here: no journal files in /run/log/journal or /var/log/journal"


# -- --cgroup that names nothing (issue 21, item 6) -----------------------------------------

TREE = FIXTURES / "x86_64-cgroup1-linux6.18"


def test_a_cgroup_that_neither_exists_nor_is_in_a_kill_is_said():
    line = _said_once(run_oomutil("--root", TREE, "events", "--file", LOGS / "dmesg-6.18.txt", "--cgroup", "/nonexistent"), 1)
    assert line == (f"oomutil: no memory cgroup /nonexistent: no kill in the log is in it, nor is there "
                    f"{TREE}/sys/fs/cgroup/memory/nonexistent")


def test_kills_of_a_removed_cgroup_are_still_listed():
    # /kref_oomtest was removed after its kill: it is not in the tree, but it is in the log
    assert not (TREE / "sys" / "fs" / "cgroup" / "memory" / "kref_oomtest").exists()
    out = run_oomutil("--root", TREE, "events", "--file", LOGS / "dmesg-6.18.txt", "--cgroup", "/kref_oomtest", "--json")
    assert out.returncode == 0 and [e["pid"] for e in json.loads(out.stdout)["events"]] == [16642]


def test_a_cgroup_that_exists_without_kills_is_an_empty_answer_said():
    out = run_oomutil("--root", TREE, "events", "--file", LOGS / "dmesg-6.18.txt", "--cgroup", "/oomutil-capture/app")
    assert out.returncode == 0 and out.stdout == ""
    assert out.stderr == "oomutil: no OOM kills in memory cgroup /oomutil-capture/app (it exists)\n"


# -- roots without dev/kmsg or proc/ (issue 21, item 11) ------------------------------------

def test_a_root_without_dev_kmsg_says_use_file():
    line = _said_once(run_oomutil("--root", TREE, "events"), 1)
    assert line == f"oomutil: {TREE}: this root has no dev/kmsg: use --file FILE (its kernel log)"


def test_a_file_needs_no_proc_under_the_root(tmp_path):
    from oomutil.cli.events import needs_proc

    assert needs_proc(type("Args", (), {"file": ["x"]})()) is False
    assert needs_proc(type("Args", (), {"file": None})()) is True
    empty = tmp_path / "empty"
    empty.mkdir()
    out = run_oomutil("--root", empty, "events", "--file", LOGS / "dmesg-6.18.txt", "--json")
    assert out.returncode == 0, out.stderr
    assert [e["pid"] for e in json.loads(out.stdout)["events"]] == [16642]
    out = run_oomutil("--root", empty, "events", "--file", "-", "--ndjson", input=REPORT_618)
    assert out.returncode == 0 and [json.loads(line)["pid"] for line in out.stdout.splitlines()] == [16642]
    assert list(empty.iterdir()) == []


def test_the_shared_assembler_passes_user_records_over():
    """The exporter's follower feeds kmsg records to the same Assembler: the facility is
    read there, once, for every reader of kmsg records."""
    from oomutil.events.parse import Assembler

    asm = Assembler("kmsg")
    assert asm.feed(f"12,600,265700000,-;{_fake_kill('faked')}") is None  # LOG_USER, as echo > /dev/kmsg
    assert asm.feed(f"27,601,265700001,-;{_fake_kill('faked')}") is None  # LOG_DAEMON|LOG_ERR
    event = asm.feed(f"3,602,265700002,-;{_fake_kill('real')}")  # LOG_KERN|LOG_ERR: the kernel's
    assert event is not None and (event.pid, event.comm, event.time_seconds) == (FAKE_PID, "real", 265.700002)


@pytest.mark.parametrize("filters", [["--pid", "1"], ["--name", "^nosuch$"], ["--pid", "16642", "--name", "x"]])
def test_filters_that_match_no_kill_say_so(filters):
    """As top's "no process matches": an empty table is no answer (exit 0 all the same: no
    kill is the news a script asks for)."""
    out = run_oomutil("events", "--file", LOGS / "kmsg.txt", *filters)
    assert (out.returncode, out.stdout) == (0, "")
    assert out.stderr.startswith("oomutil: no OOM kill matches --") and out.stderr.endswith("(of 1 in the log)\n")


@pytest.mark.parametrize("pid", ["-5", "\u0661", " 1"])
def test_events_pid_is_a_pid(pid):
    out = run_oomutil("events", "--file", LOGS / "kmsg.txt", "--pid", pid)
    assert out.returncode == 2 and "invalid PID argument" in out.stderr
