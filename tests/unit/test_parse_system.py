"""Pure parsers of /proc/meminfo, /proc/vmstat and one-number files, several kernels."""

import pytest

from oomutil._fs import parse_int
from oomutil.errors import ParseError
from oomutil.procfs.meminfo import Meminfo, parse_meminfo
from oomutil.cli._prose import meaning
from oomutil.procfs.vmstat import parse_vmstat

MEMINFO_618 = b"""MemTotal:       24684092 kB
MemFree:        24540300 kB
MemAvailable:   24454844 kB
Buffers:            3148 kB
SwapTotal:             0 kB
SwapFree:              0 kB
CommitLimit:    12342044 kB
Committed_AS:      59120 kB
HugePages_Total:       0
Hugepagesize:       2048 kB
"""

# 2.6.32 (RHEL 6): no MemAvailable (added in 3.14).
MEMINFO_2632 = b"""MemTotal:        1922380 kB
MemFree:          117452 kB
Buffers:          138752 kB
SwapTotal:       4128760 kB
SwapFree:        4094320 kB
CommitLimit:     5089948 kB
Committed_AS:    1237644 kB
HugePages_Total:       0
"""


def test_meminfo_618():
    fields = parse_meminfo(MEMINFO_618)
    assert fields["HugePages_Total"] == 0  # a count, not kB
    assert fields["Hugepagesize"] == 2048 * 1024
    m = Meminfo.from_fields(fields)
    assert m == Meminfo(
        mem_total_bytes=24684092 * 1024, mem_free_bytes=24540300 * 1024,
        mem_available_bytes=24454844 * 1024, swap_total_bytes=0, swap_free_bytes=0,
        commit_limit_bytes=12342044 * 1024, committed_as_bytes=59120 * 1024,
    )


def test_meminfo_2632_has_no_memavailable():
    m = Meminfo.from_fields(parse_meminfo(MEMINFO_2632))
    assert m.mem_available_bytes is None
    assert m.swap_total_bytes == 4128760 * 1024


@pytest.mark.parametrize("line", [b"MemTotal 12 kB", b"MemTotal:  12 MB", b"MemTotal:  x kB",
                                  b"MemTotal:", b"MemTotal: 1 2 3"])
def test_meminfo_malformed_quotes_line(line):
    with pytest.raises(ParseError) as info:
        parse_meminfo(MEMINFO_618 + line + b"\n")
    assert repr(line.decode()) in str(info.value)


def test_vmstat_with_and_without_oom_kill():
    assert parse_vmstat(b"nr_free_pages 5790531\noom_kill 3\n")["oom_kill"] == 3
    assert "oom_kill" not in parse_vmstat(b"nr_free_pages 5790531\npgfault 12\n")  # < 4.13


def test_vmstat_malformed():
    with pytest.raises(ParseError, match="malformed key-value line: 'oom_kill'"):
        parse_vmstat(b"oom_kill\n")


@pytest.mark.parametrize("data, value", [(b"666\n", 666), (b"-1000\n", -1000), (b"0", 0), (b" 15 \n", 15)])
def test_parse_int(data, value):
    assert parse_int(data) == value


@pytest.mark.parametrize("data", [b"", b"abc\n", b"1 2\n", b"\xff"])
def test_parse_int_malformed(data):
    with pytest.raises(ParseError, match="expected an integer"):
        parse_int(data)


@pytest.mark.parametrize(
    "knob, value, words",
    [
        ("overcommit_memory", 2, "the OOM killer still runs"),
        ("panic_on_oom", 1, "cgroup, cpuset and mempolicy OOMs still kill"),
        ("panic_on_oom", 2, "memory cgroup OOMs included"),
        ("oom_kill_allocating_task", 7, "kill the task that triggered the OOM"),
        ("oom_dump_tasks", 3, "log the task table"),
    ],
)
def test_meaning(knob, value, words):
    assert words in meaning(knob, value)


def test_meaning_unknown_is_none():
    assert meaning("overcommit_memory", 9) is None
    assert meaning("overcommit_ratio", 50) is None
    assert meaning("panic_on_oom", None) is None
