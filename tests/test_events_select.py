"""events.select: the one selection of kills that events, why, the exporter and the library share."""

from __future__ import annotations

import datetime
import re

from oomutil.events.parse import OomKillEvent
from oomutil.events.select import Selection, dated, in_cgroup, mentions_cgroup, select

UTC = datetime.timezone.utc
KILLS = [
    OomKillEvent(time="2026-11-27T10:00:00+00:00", pid=10, comm="java", task_memcg="/app/web", oom_memcg="/app"),
    OomKillEvent(time="2026-11-27T11:00:00+00:00", pid=11, comm="helper", group_memcg="/app/web", oom_memcg="/app"),
    OomKillEvent(time="2026-11-27T12:00:00+00:00", pid=12, comm="chrome", killer="earlyoom"),
    OomKillEvent(time=None, time_seconds=5.0, pid=13, comm="javac", task_memcg="/other"),
]


def pids(events):
    return [e.pid for e in events]


def test_each_filter():
    assert pids(select(KILLS)) == [10, 11, 12, 13]
    assert pids(select(KILLS, pids=[11, 13])) == [11, 13]
    assert pids(select(KILLS, name="^java")) == [10, 13]
    assert pids(select(KILLS, name=re.compile("elp"))) == [11]
    assert pids(select(KILLS, name=re.compile("^ch").search)) == [12]  # what argparse's regex_arg gives
    assert pids(select(KILLS, cgroup="/app")) == [10, 11]  # the group member by its group's cgroup
    assert pids(select(KILLS, cgroup="/ap")) == []  # whole path components
    assert pids(select(KILLS, killers=["earlyoom"])) == [12]
    assert pids(select(KILLS, pids=[10, 11], cgroup="/app/web", name="help")) == [11]


def test_time_window_keeps_the_undated_and_says_so():
    undated: list = []
    since = datetime.datetime(2026, 11, 27, 10, 30, tzinfo=UTC)
    until = datetime.datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    assert pids(select(KILLS, since=since, until=until, undated=undated)) == [11, 12, 13]  # both ends included
    assert pids(undated) == [13]
    assert pids(Selection(until=since).select(KILLS)) == [10, 13]


def test_selection_object():
    s = Selection(pids=[10])
    assert s and s.wanted(KILLS[0]) and not s.wanted(KILLS[1])
    assert not Selection() and not Selection(pids=[], cgroup="")  # empty filters select everything


def test_cgroup_helpers():
    assert in_cgroup(KILLS[1], "/app/web") and not in_cgroup(KILLS[2], "/app")
    assert mentions_cgroup(KILLS, "/app") and mentions_cgroup(KILLS, "/other") and not mentions_cgroup(KILLS, "/x")


def test_dated():
    # a file's kills as the file gives them: seconds since an unknown boot stay undated
    assert [e.time for e in dated(KILLS, None)] == [e.time for e in KILLS]
    assert dated(KILLS, None, utc=True)[0].time == "2026-11-27T10:00:00+00:00"
