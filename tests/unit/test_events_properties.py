"""Property-based: no input makes the log parser crash, and kills survive any noise."""

from hypothesis import given, settings
from hypothesis import strategies as st

from oomutil.events.parse import parse_lines, parse_text, strip_prefix

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


REPORT = [
    "[ 9.000001] python3 invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0",
    "[ 9.000002] CPU: 1 UID: 0 PID: 42 Comm: python3 Not tainted 6.18.44 #1",
    "[ 9.000003] [  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name",
    "[ 9.000004] [     42]     0    42     2000     1000     4096        0             0 a b",
    "[ 9.000005] oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/t,"
    "task_memcg=/t,task=a b,pid=42,uid=0",
    KILL.replace("[1.0]", "[ 9.000006]"),
    "[ 9.000007] oom_reaper: reaped process 42 (a b), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB",
]


@settings(max_examples=200, deadline=None)
@given(st.integers(0, len(REPORT)), st.lists(st.sampled_from(["", "noise", "[ 9.5] oom?", "Mem-Info:", "[ 1] x"]),
                                             max_size=8), st.integers(0, 8))
def test_texts_change_no_kill_and_a_cut_report_never_fails(cut, noise, at):
    """Any prefix of a report, with any noise put in: the same kills with and without
    keep_texts, on both paths, and the texts are lines of the input in its order."""
    lines = REPORT[:cut]
    lines = lines[:at] + noise + lines[at:]
    text = "\n".join(lines)
    plain = parse_text(text, "x")
    kept = parse_text(text, "x", keep_texts=True)
    assert kept == list(parse_lines(lines, "x", keep_texts=True))
    assert [e._replace(texts=None) for e in kept] == plain
    for e in kept:
        stripped = iter([strip_prefix(line).text for line in lines])
        assert all(t in stripped for t in e.texts or ())  # a subsequence of the lines: in order
