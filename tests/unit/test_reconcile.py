"""The exporter's reconciler of kills (issue 24 item 5): /proc/vmstat oom_kill since `serve`
started against the "Killed process" lines its follower read, by the follower's position in
the log, never by how old a count is.  The kernel counts a kill (count_vm_event(OOM_KILL))
just before it prints its line, and prints that line for every kill (__oom_kill_process():
only dump_header is rate-limited): a kill whose line the follower has not read yet is late
(the journal's lag, a stalled follower), not lost; a line is lost only where the log lost
records (a kmsg overrun; unknown with the journal)."""

from __future__ import annotations

from oomutil.events.reconcile import KillReconciler


def test_a_late_line_is_never_unlogged():
    r = KillReconciler(counted_at_start=10)
    # counted, its line not read yet: the follower is behind (not caught up) for minutes
    for _ in range(20):
        assert r.observe(counted=11, seen=0, lost_records=0, caught_up=False) == 0
    # kmsg, caught up, no record lost: the line is in flight, not lost
    assert r.observe(counted=11, seen=0, lost_records=0, caught_up=True) == 0
    # the line comes: nothing unlogged, nothing counted twice
    assert r.observe(counted=11, seen=1, lost_records=0, caught_up=True) == 0
    # the journal (records lost unknown): late until the follower is caught up
    j = KillReconciler(counted_at_start=3)
    assert j.observe(counted=4, seen=0, lost_records=None, caught_up=False) == 0
    assert j.observe(counted=4, seen=1, lost_records=None, caught_up=True) == 0


def test_a_line_lost_amid_a_stream_of_kills_shows():
    r = KillReconciler(counted_at_start=0)
    assert r.observe(counted=5, seen=5, lost_records=0, caught_up=True) == 0
    # an overrun takes one kill's line while kills keep coming: the follower is busy
    assert r.observe(counted=10, seen=8, lost_records=3, caught_up=False) == 0
    assert r.observe(counted=15, seen=13, lost_records=3, caught_up=False) == 0
    # caught up between two kills: 20 counted, 19 lines read
    assert r.observe(counted=20, seen=19, lost_records=3, caught_up=True) == 1
    # the stream goes on: the lost one stays counted, once
    assert r.observe(counted=30, seen=29, lost_records=3, caught_up=True) == 1
    assert r.observe(counted=31, seen=29, lost_records=3, caught_up=False) == 1
    # a second overrun takes two more
    assert r.observe(counted=40, seen=37, lost_records=9, caught_up=True) == 3


def test_a_kill_at_the_start_does_not_hide_a_later_lost_one():
    # the follower seeks kmsg to its end, then vmstat is read: a kill in between is in the
    # start's count and its line is read too
    r = KillReconciler(counted_at_start=7)
    assert r.observe(counted=7, seen=1, lost_records=0, caught_up=True) == 0
    assert r.observe(counted=8, seen=2, lost_records=0, caught_up=True) == 0
    # later one line is lost in an overrun: it shows (it was hidden by the start's offset)
    assert r.observe(counted=10, seen=3, lost_records=4, caught_up=True) == 1


def test_unlogged_is_a_counter():
    r = KillReconciler(counted_at_start=0)
    assert r.observe(counted=2, seen=0, lost_records=2, caught_up=True) == 2
    assert r.observe(counted=2, seen=1, lost_records=2, caught_up=True) == 2


def test_a_journal_line_late_after_a_silence_is_not_unlogged():
    """The journal says nothing of what it lost, and "caught up" there is a quiet spell: a
    kill after 30 s of silence, counted before journald hands its line over, is late, not
    lost (review of issue 24 item 5).  A gap counts once it has held, the count unchanged,
    for settle seconds."""
    j = KillReconciler(counted_at_start=100, settle=30.0)
    assert j.observe(counted=101, seen=0, lost_records=None, caught_up=True, now=0.0) == 0
    assert j.observe(counted=101, seen=0, lost_records=None, caught_up=True, now=12.0) == 0
    assert j.observe(counted=101, seen=1, lost_records=None, caught_up=True, now=13.0) == 0  # the line came
    assert j.observe(counted=101, seen=1, lost_records=None, caught_up=True, now=60.0) == 0  # counted once
    # a line the journal never gives: the same count, still missing, 30 s on
    assert j.observe(counted=102, seen=1, lost_records=None, caught_up=True, now=70.0) == 0
    assert j.observe(counted=102, seen=1, lost_records=None, caught_up=True, now=101.0) == 1
