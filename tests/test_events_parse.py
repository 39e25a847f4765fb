"""OOM reports in every log format, from files written from the documented shapes."""

from __future__ import annotations

import json
import os
import random

import pytest
from helpers import FIXTURES

from oomutil.events.parse import parse_lines, parse_text, strip_prefix

LOGS = FIXTURES / "logs"
MEMCG_618 = dict(pid=16642, comm="python3", uid=0, constraint="CONSTRAINT_MEMCG", oom_memcg="/kref_oomtest",
                 task_memcg="/kref_oomtest", total_vm_bytes=221384 << 10, anon_rss_bytes=65280 << 10,
                 file_rss_bytes=6532 << 10, shmem_rss_bytes=0, pgtables_bytes=192 << 10, oom_score_adj=0,
                 trigger_comm="python3", trigger_pid=16642, order=0, gfp_mask="0xcc0", killer="kernel")


def events_of(name, cli):
    code, out, err = cli("events", "--file", LOGS / name, "--json")
    assert (code, err) == (0, ""), err
    return json.loads(out)["events"]


def check(event, **expected):
    for key, value in expected.items():
        assert event[key] == value, (key, event[key], value)


@pytest.mark.parametrize("name", ["dmesg-6.18.txt", "dmesg-6.18.txt.gz", "kmsg.txt", "journal.json", "dmesg-T.txt"])
def test_memcg_kill_6_18_in_every_container_format(cli, name):
    events = [e for e in events_of(name, cli) if e["killer"] == "kernel"]
    assert len(events) == 1
    check(events[0], **MEMCG_618)


def test_times_as_printed():
    assert strip_prefix("[  265.664159] x").seconds == 265.664159
    assert strip_prefix("6,503,265664579,-;x").seconds == 265.664579
    line = strip_prefix("[Fri Nov 27 22:11:05 2026] [ T16642] Killed process 1 (a)")
    assert (line.time, line.text) == ("Fri Nov 27 22:11:05 2026", "Killed process 1 (a)")
    line = strip_prefix("Mär  3 04:05:06 web01 kernel: [ 4321.000001] text")
    assert (line.time, line.seconds, line.ident, line.text) == ("Mär  3 04:05:06", 4321.000001, "kernel", "text")
    assert strip_prefix("kernel: text").text == "text"
    assert strip_prefix("2026-11-27T22:11:05.123456+00:00 h kernel: [    1.5] t").seconds == 1.5


def test_global_oom_4_15_kills_the_child_not_the_selected(cli):
    events = events_of("dmesg-4.15-global.txt", cli)
    assert [e["pid"] for e in events] == [2301, 881]
    check(events[0], comm="java worker", trigger_pid=2210, trigger_comm="java", constraint=None,
          total_vm_bytes=16384000 << 10, anon_rss_bytes=15600000 << 10, shmem_rss_bytes=0,
          pgtables_bytes=None, uid=None, time=None, time_raw="100.500000", time_seconds=100.5,
          gfp_mask="0x14280ca", order=0)
    check(events[1], comm="nginx: worker", constraint="CONSTRAINT_MEMCG", oom_memcg="/docker/4f2a9c8e1d3b",
          task_memcg="/docker/4f2a9c8e1d3b", trigger_comm="nginx: worker", trigger_pid=881)


def test_rhel6_and_a_foreign_month_and_an_app_line(cli):
    events = events_of("syslog-de.txt", cli)
    assert len(events) == 1  # "myapp: Out of memory?" is not a kernel kill
    check(events[0], pid=1999, comm="httpd", uid=48, total_vm_bytes=2045612 << 10, anon_rss_bytes=1500000 << 10,
          file_rss_bytes=100 << 10, shmem_rss_bytes=None, trigger_pid=1999, gfp_mask="0x201da",
          time_raw="Mär  3 04:05:06", time_seconds=4321.0)
    # the German month read: the latest 3 March not after today, the logger's local time (no zone)
    assert events[0]["time"][4:] == "-03-03T04:05:06"


def test_user_space_killers_are_their_own_kind(cli):
    events = events_of("journal-short-iso.txt", cli)
    assert [(e["killer"], e["pid"]) for e in events] == [("kernel", 880), ("earlyoom", 4567), ("systemd-oomd", None)]
    check(events[1], comm="firefox", uid=1000, constraint=None)
    assert events[2]["task_memcg"].endswith("app-chrome-77.scope")
    journal = events_of("journal.json", cli)
    assert [(e["killer"], e["pid"], e["comm"]) for e in journal] == [("kernel", 16642, "python3"),
                                                                      ("earlyoom", 4568, "chrome")]


def test_lines_on_request(cli):
    code, out, _ = cli("events", "--file", LOGS / "dmesg-6.18.txt", "--json", "--lines")
    [event] = json.loads(out)["events"]
    assert event["lines"][0].endswith("python3 invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0")
    assert event["lines"][-1].endswith("oom_score_adj:0")
    assert json.loads(cli("events", "--file", LOGS / "dmesg-6.18.txt", "--json")[1])["events"][0]["lines"] is None


def test_names_with_spaces_parentheses_and_commas():
    text = ("[1.0] a (b) c invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=5\n"
            "[1.1] oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0-1,3,global_oom,"
            "task_memcg=/a,b,task=x (y), z,pid=77,uid=1000\n"
            "[1.2] Out of memory: Killed process 77 (x (y), z) total-vm:4kB, anon-rss:4kB, file-rss:0kB, "
            "shmem-rss:0kB, UID:1000 pgtables:4kB oom_score_adj:5\n")
    [e] = parse_text(text, "t")
    assert (e.pid, e.comm, e.trigger_comm, e.task_memcg, e.constraint, e.uid) == (
        77, "x (y), z", "a (b) c", "/a,b", "CONSTRAINT_NONE", 1000)


def test_rate_limited_report_still_gives_the_kill():
    [e] = parse_text("[5.0] Out of memory: Killed process 9 (a) total-vm:8kB, anon-rss:4kB, file-rss:0kB, "
                     "shmem-rss:0kB, UID:0 pgtables:4kB oom_score_adj:0\n", "t")
    assert (e.pid, e.trigger_comm, e.constraint) == (9, None, None)


def test_parse_text_equals_parse_lines_on_every_sample():
    for name in os.listdir(LOGS):
        if name.endswith((".txt",)):
            text = (LOGS / name).read_text()
            assert parse_text(text, "x") == list(parse_lines(text.splitlines(), "x")), name


@pytest.mark.parametrize("seed", range(30))
def test_garbage_never_crashes(cli, tmp_path, seed):
    rng = random.Random(seed)
    sample = (LOGS / "dmesg-6.18.txt").read_bytes()
    kind = seed % 3
    if kind == 0:  # random bytes
        data = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 20000)))
    elif kind == 1:  # a report cut anywhere, mangled
        cut = sample[: rng.randint(0, len(sample))]
        data = bytearray(cut)
        for _ in range(rng.randint(0, 30)):
            if data:
                data[rng.randrange(len(data))] = rng.getrandbits(8)
        data = bytes(data)
    else:  # huge lines around keywords
        data = b"x" * rng.randint(1, 3_000_000) + b" Killed process " + b"(" * 100000 + b"\n" + sample
    path = tmp_path / "garbage.log"
    path.write_bytes(data)
    code, out, err = cli("events", "--file", path, "--json")
    # at most the two notes (doubtful lines, no kill), one line each, never a traceback
    assert code == 0 and len(err.splitlines()) <= 2
    assert all(line.startswith("oomutil: ") for line in err.splitlines()), err[:500]
    assert isinstance(json.loads(out)["events"], list)


def test_bad_files_are_clear_errors(cli, tmp_path):
    code, out, err = cli("events", "--file", tmp_path / "missing.log")
    assert code == 1 and err == f"oomutil: {tmp_path / 'missing.log'}: no such file\n"
    (tmp_path / "bad.gz").write_bytes(b"\x1f\x8b" + b"junk")
    code, out, err = cli("events", "--file", tmp_path / "bad.gz")
    assert code == 1 and "not a readable gzip file" in err


def test_standard_input_and_since():
    from helpers import run_oomutil

    text = (LOGS / "dmesg-6.18.txt").read_text()
    out = run_oomutil("events", "--file", "-", "--json", input=text)
    assert out.returncode == 0 and [e["pid"] for e in json.loads(out.stdout)["events"]] == [16642]
    assert json.loads(out.stdout)["events"][0]["source"] == "stdin"
    out = run_oomutil("events", "--file", "-", "--ndjson", "--pid", "1", input=text)
    assert (out.returncode, out.stdout) == (0, "")
    assert run_oomutil("events", "--since", "soon").returncode == 2


def test_filters_on_files(cli):
    code, out, _ = cli("events", "--file", LOGS / "dmesg-4.15-global.txt", "--json", "--name", "^nginx")
    assert [e["pid"] for e in json.loads(out)["events"]] == [881]
    code, out, _ = cli("events", "--file", LOGS / "dmesg-4.15-global.txt", "--json", "--cgroup", "/docker")
    assert [e["pid"] for e in json.loads(out)["events"]] == [881]
    code, out, _ = cli("events", "--file", LOGS / "journal-short-iso.txt")
    assert "by earlyoom" in out and "by systemd-oomd" in out


def test_crlf_logs_and_corrupt_gzip_streams(cli, tmp_path):
    crlf = tmp_path / "crlf.log"
    crlf.write_bytes((LOGS / "dmesg-6.18.txt").read_bytes().replace(b"\n", b"\r\n"))
    [event] = events_of(crlf, cli)
    check(event, **MEMCG_618)
    bad = tmp_path / "bad-stream.gz"
    bad.write_bytes(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + b"\xff" * 40)
    code, out, err = cli("events", "--file", bad)
    assert code == 1 and err.startswith("oomutil: ") and "gzip" in err


def test_the_journal_is_never_passed_off_as_another_roots(cli):
    code, out, err = cli("--root", FIXTURES / "x86_64-cgroup1-linux6.18", "events", "--source", "journal")
    assert (code, out) == (1, "") and "the journal is read from this machine, not from" in err
