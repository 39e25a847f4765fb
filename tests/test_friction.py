"""What a new user trips over (issue 14): cgroups as people type them, consistent options,
and where the reconciliation line goes."""

from __future__ import annotations

import json
import subprocess

import pytest
from helpers import FIXTURES, oomutil_command

V2 = FIXTURES / "x86_64-cgroup2-linux6.1"
KMSG = FIXTURES / "logs" / "kmsg.txt"


@pytest.mark.parametrize("typed", ["/oomutil-capture/app", "app", "/sys/fs/cgroup/oomutil-capture/app",
                                   str(V2 / "sys/fs/cgroup/oomutil-capture/app"), "/oomutil-capture/app/"])
def test_a_cgroup_is_taken_as_people_copy_it(cli, typed):
    code, out, err = cli("--root", V2, "victim", "--json", "--cgroup", typed)
    assert (code, err) == (0, "") and json.loads(out)["scope"] == "/oomutil-capture/app"


def test_a_cgroup_that_is_empty_unknown_or_ambiguous_says_so(cli, tmp_path):
    code, _, err = cli("victim", "--cgroup", "")
    assert code == 2 and "argument --cgroup: empty" in err
    code, _, err = cli("--root", V2, "victim", "--cgroup", "nope")
    assert code == 1 and err == ("oomutil: no memory cgroup is named 'nope'; give its path, as /proc/PID/cgroup "
                                 "or `oomutil cgroups --all` show it\n")


def test_cgroup_filters_match_whole_path_components(cli):
    code, out, err = cli("--root", V2, "top", "--json", "--cgroup", "/oomutil-capture/ap")
    assert (code, out) == (1, "") and err.endswith(": no memory cgroup /oomutil-capture/ap\n")  # no prefix of a name
    code, out, _ = cli("--root", V2, "top", "--json", "--cgroup", "/oomutil-capture/app")
    procs = (V2 / "sys/fs/cgroup/oomutil-capture/app/cgroup.procs").read_text().split()
    assert sorted(r["pid"] for r in json.loads(out)) == sorted(map(int, procs)) and len(procs) == 2
    code, out, err = cli("events", "--file", KMSG, "--json", "--cgroup", "/kref")  # neither a cgroup nor in a kill
    assert (code, out) == (1, "") and err.startswith("oomutil: no memory cgroup /kref: no kill in the log is in it")
    code, out, _ = cli("events", "--file", KMSG, "--json", "--cgroup", "/kref_oomtest")
    assert [e["task_memcg"] for e in json.loads(out)["events"]] == ["/kref_oomtest"]


def test_version_short_option(cli):
    assert cli("-V")[:2] == (0, "oomutil 0.1.0\n")


def test_a_usage_error_is_one_line_and_a_hint(cli):
    code, out, err = cli("top", "--sort", "banana")
    assert code == 2 and out == ""
    assert err.splitlines() == ["oomutil top: error: argument --sort: invalid choice: 'banana' (choose from "
                                "'score', 'adj', 'rss', 'swap', 'pid', 'user', 'name')",
                                "Try 'oomutil top --help' for its options."]


def test_era_takes_a_release(cli):
    as_release = cli("--root", V2, "show", "--json", "--era", "6.1", "176")
    as_era = cli("--root", V2, "show", "--json", "--era", "5.9", "176")
    assert as_release == as_era and as_release[0] == 0
    code, _, err = cli("show", "--era", "2.6.20", "self")
    assert code == 2 and "predates the 2.6.36 badness rewrite" in err


def test_zero_means_all_in_every_command_with_n(cli):
    code, out, _ = cli("--root", V2, "top", "-n", "0", "--all", "--json")
    everything = json.loads(cli("--root", V2, "top", "--all", "--json")[1])
    assert code == 0 and json.loads(out) == everything
    candidates = json.loads(cli("--root", V2, "victim", "--json")[1])["candidates"]
    code, out, _ = cli("--root", V2, "victim", "-n", "0")
    table = [line for line in out.split("RANK", 1)[1].splitlines()[1:] if line.split()[0].isdigit()]
    assert code == 0 and len(table) == len(candidates) > 5


def test_json_is_one_document_so_not_a_stream(cli):
    code, out, err = cli("events", "--follow", "--json")
    assert code == 2 and out == "" and "use --ndjson" in err


def test_reconciliation_goes_to_stderr_and_only_for_the_whole_log(cli, tmp_path):
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc" / "vmstat").write_text("oom_kill 3\n")
    (tmp_path / "dev").mkdir()
    (tmp_path / "dev" / "kmsg").write_text("")
    code, out, err = cli("--root", tmp_path, "events")
    assert code == 0 and out == "" and "! 3 kill(s) counted by /proc/vmstat oom_kill (3)" in err
    code, out, err = cli("--root", tmp_path, "events", "--pid", "1", "--json")
    assert json.loads(out)["gaps"] == [] and "counted by" not in err


def test_follow_prints_its_header_before_the_first_kill():
    proc = subprocess.Popen([*oomutil_command(), "events", "--follow"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()
    finally:
        proc.kill()
        proc.wait()
    if "permission" in first or not first:
        pytest.skip(f"/dev/kmsg cannot be followed here: {proc.stderr.read().strip()}")
    assert first.split()[:3] == ["TIME", "PID", "NAME"]


def test_docs_say_what_is_true():
    """README's speed claim has the figures; semantics.md's adj -999 claim is the kernel's
    arithmetic since 5.9; performance.md names no internal work items."""
    from pathlib import Path

    from oomutil.badness import oom_badness, proc_oom_score

    docs = Path(__file__).resolve().parent.parent
    totalpages = 6170914  # this machine's RAM in pages
    for points in (1, 100, 1000):  # a small process at adj -999 reads 1, not 0
        assert proc_oom_score(oom_badness(points, -999, totalpages, "5.9"), totalpages, "5.9") == 1
    semantics = (docs / "docs" / "semantics.md").read_text()
    assert "adj -999 reads 1" in semantics and "adj -999 also reads 0" not in semantics
    readme = (docs / "README.md").read_text()
    assert "slower below" in readme and "0.22x at 10,000" in readme
    assert "tools/build-pyz" in readme and "python3 oomutil.pyz" in readme  # running without pip
    performance = (docs / "docs" / "performance.md").read_text().lower()
    assert "issue" not in performance and "session" not in performance


def test_every_exception_and_public_method_has_a_docstring():
    import inspect

    import oomutil

    for name in ("OomutilError", "NoSuchProcess", "AccessDenied", "NotAvailable", "ParseError", "InvalidValue"):
        assert (getattr(oomutil, name).__doc__ or "").strip(), name
    for name, member in inspect.getmembers(oomutil.Process, inspect.isfunction):
        if not name.startswith("_"):
            assert (member.__doc__ or "").strip(), f"Process.{name}"


def test_victim_columns_explain_themselves(cli):
    code, out, _ = cli("--root", V2, "victim", "--cgroup", "/oomutil-capture/app")
    assert code == 0 and "BADNESS AS SIZE" in out and "AS BYTES" not in out
    assert "BADNESS: what the kernel compares, in pages: RSS + swap + page tables + ADJ x one unit" in out
    # two python3 processes share their libraries: their RSS is more than the cgroup holds
    assert "note: their RSS adds up to 50.2 MiB, more than the 35.3 MiB /oomutil-capture/app holds" in out


@pytest.mark.parametrize("command", ["top", "show", "system", "cgroups", "victim", "events", "adj", "run", "serve", "metrics",
                                     "completion"])
def test_every_help_ends_with_examples(command):
    from helpers import run_oomutil

    out = run_oomutil(command, "--help")
    examples = out.stdout.rstrip().split("\nexamples:\n")[-1].splitlines()
    assert out.returncode == 0 and "\nexamples:\n" in out.stdout
    assert 2 <= len(examples) <= 4 and all(line.startswith("  oomutil ") for line in examples)


def test_kills_of_this_boot_get_the_wall_clock():
    import datetime

    from oomutil import OomKillEvent
    from oomutil.events.clock import on_the_clock, wall_time

    boot = 1_795_900_000
    e, f = on_the_clock([OomKillEvent(time="265.664159", time_seconds=265.664159), OomKillEvent(time="Fri")], boot, utc=True)
    assert (e.time, e.time_seconds) == ("2026-11-28T21:11:05.664159+00:00", 265.664159) and f.time == "Fri"
    now = datetime.datetime(2026, 11, 29, 12, 0, tzinfo=datetime.timezone.utc)
    assert wall_time("2026-11-27T22:11:05+0000") == datetime.datetime(2026, 11, 27, 22, 11, 5, tzinfo=datetime.timezone.utc)
    assert wall_time("2026-11-27 22:11:05").replace(tzinfo=None) == datetime.datetime(2026, 11, 27, 22, 11, 5)
    assert wall_time("Fri Nov 27 22:11:05 2026").replace(tzinfo=None) == datetime.datetime(2026, 11, 27, 22, 11, 5)
    assert wall_time("Dec 31 23:59:59", now).year == 2025  # a syslog time is the latest one not after now
    assert wall_time("265.664159") is None and wall_time("Mär 27 22:11:05") is None


def test_events_of_this_boot_show_wall_time(cli):
    import re as regex

    code, out, _ = cli("events", "--json", "--utc")
    events = [e for e in json.loads(out)["events"] if e["time_seconds"] is not None] if code == 0 else []
    if not events:
        pytest.skip("no OOM kill in this boot's kernel log to read (or /dev/kmsg not readable here)")
    btime = int(regex.search(r"^btime (\d+)$", open("/proc/stat").read(), regex.M).group(1))
    import datetime

    for e in events:
        when = datetime.datetime.fromisoformat(e["time"])
        assert abs(when.timestamp() - (btime + e["time_seconds"])) < 1e-3
    code, table, _ = cli("events", "--utc")
    assert table.splitlines()[1][:4].isdigit() and " UTC " in table.splitlines()[1]


def test_since_and_until_mean_the_clock_and_say_what_they_cannot_date(cli):
    journal = FIXTURES / "logs" / "journal-short-iso.txt"
    code, out, err = cli("events", "--file", journal, "--json", "--since", "2026-11-27 22:11:30",
                         "--until", "2026-11-27T22:12:30+00:00")
    assert code == 0 and [e["time"][:19] for e in json.loads(out)["events"]] == ["2026-11-27T22:12:00"]
    code, out, err = cli("events", "--file", FIXTURES / "logs" / "dmesg-6.18.txt", "--json", "--since", "1d")
    assert len(json.loads(out)["events"]) == 1  # seconds since another boot: shown, and said
    assert "--since/--until could not apply to 1 kill(s)" in err
    code, _, err = cli("events", "--since", "banana")
    assert code == 2 and "invalid time: 'banana'" in err


def test_what_ifs_that_cannot_be_are_refused(cli):
    import os

    code, out, err = cli("victim", "--set", "4194303=100")
    assert (code, out) == (2, "") and "no process has pid 4194303" in err
    code, out, err = cli("victim", "--set", "99999999=100")
    assert (code, out) == (2, "") and "PID_MAX_LIMIT" in err
    code, out, err = cli("victim", "--grow", f"{os.getpid()}=1024T")
    assert (code, out) == (2, "") and "more than this machine's RAM + swap" in err
    assert cli("victim", "--grow", f"{os.getpid()}=1M")[0] == 0


@pytest.mark.parametrize("args", [["top"], ["show", "1"], ["system"], ["cgroups"], ["victim"],
                                  ["events", "--file", str(KMSG)]])
def test_json_is_laid_out_alike_in_every_command(cli, args):
    """One document; an array has one record a line, an object is one line: never indented."""
    code, out, _ = cli("--root", V2, *args, "--json")
    assert code == 0 and json.loads(out) is not None
    assert "\n " not in out and (out.startswith("[") or out.count("\n") == 1)


def test_follow_on_a_terminal_says_it_is_waiting():
    import shutil

    if shutil.which("script") is None:
        pytest.skip("util-linux's script is not installed: no terminal to run --follow on")
    command = " ".join(oomutil_command() + ["events", "--follow"])
    try:
        out = subprocess.run(["script", "-qec", command, "/dev/null"], capture_output=True, text=True, timeout=3)
        text = out.stdout
    except subprocess.TimeoutExpired as exc:  # --follow waits until interrupted
        text = (exc.stdout or b"").decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
    if "permission" in text.lower():
        pytest.skip(f"/dev/kmsg cannot be followed here: {text.strip()}")
    assert "waiting for OOM kills (Ctrl-C to stop)" in text and "TIME" in text
