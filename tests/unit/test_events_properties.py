"""Property-based: no input makes the log parser crash, and kills survive any noise."""

from hypothesis import given, settings
from hypothesis import strategies as st

from oomutil.events.parse import parse_lines, parse_text

KILL = ("[1.0] Memory cgroup out of memory: Killed process 42 (a b) total-vm:8kB, anon-rss:4kB, "
        "file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:4kB oom_score_adj:0")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=4000))
def test_any_bytes(data):
    text = data.decode("utf-8", "replace")
    assert parse_text(text, "x") == list(parse_lines(text.splitlines(), "x"))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(max_size=200).filter(lambda s: "\n" not in s and "Killed process" not in s
                                              and "invoked oom-killer" not in s), max_size=30),
       st.lists(st.text(max_size=200).filter(lambda s: "\n" not in s and "Killed process" not in s
                                              and "invoked oom-killer" not in s), max_size=30))
def test_a_kill_among_any_lines_is_found_once(before, after):
    text = "\n".join([*before, KILL, *after])
    kills = [e for e in parse_text(text, "x") if e.killer == "kernel"]
    assert [(e.pid, e.comm) for e in kills] == [(42, "a b")]
