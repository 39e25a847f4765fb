"""Pure parsers of /proc/PID files, on samples from several kernels and odd processes."""

import pytest

from oomutil.errors import ParseError
from oomutil.procfs.pid import PF_KTHREAD, parse_stat, parse_status

# Linux 6.18, an ordinary process (fields 3..22 shown; the kernel prints 52 in all).
STAT_618 = b"2016 (sleep) S 1975 1973 1085 0 -1 4194304 11 0 0 0 0 0 0 0 20 0 1 0 11606 2260992 214 " \
           b"18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n"


@pytest.mark.parametrize(
    "data, pid, comm, state, ppid, kthread, start",
    [
        (STAT_618, 2016, "sleep", "S", 1975, False, 11606),
        # A name with spaces and both parentheses: only the last ")" ends it.
        (b"77 (a) b (c) R 1 77 77 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 555 0 0 1\n",
         77, "a) b (c", "R", 1, False, 555),
        # kthreadd on 6.x: flags 0x208040 include PF_KTHREAD.
        (b"2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 1 0 0 1\n",
         2, "kthreadd", "S", 0, True, 1),
        # A zombie, as a reaper-less parent leaves it.
        (b"4242 (defunct thing) Z 1 4242 4242 0 -1 4227084 0 0 0 0 0 0 0 0 20 0 1 0 99 0 0 1\n",
         4242, "defunct thing", "Z", 1, False, 99),
        # 2.6.32 prints the same leading fields.
        (b"1 (init) S 0 1 1 0 -1 4202752 3082 1138906 21 313 10 133 6313 2466 20 0 1 0 4 19931136 "
         b"392 18446744073709551615 1 1 0 0 0 0 0 4096 536962595 18446744073709551615 0 0 0 0 0 0 0 0 0\n",
         1, "init", "S", 0, False, 4),
    ],
)
def test_parse_stat(data, pid, comm, state, ppid, kthread, start):
    stat = parse_stat(data)
    assert (stat.pid, stat.comm, stat.state, stat.ppid) == (pid, comm, state, ppid)
    assert stat.is_kernel_thread is kthread
    assert stat.start_time_ticks == start


def test_kthread_flag_value():
    assert PF_KTHREAD == 0x00200000  # include/linux/sched.h


@pytest.mark.parametrize("data", [b"", b"12 (x S 1", b"12 (x) S 1 2 3\n", b"x (y) S " + b"1 " * 30])
def test_parse_stat_malformed(data):
    with pytest.raises(ParseError) as info:
        parse_stat(data)
    assert "malformed stat line" in str(info.value)


STATUS_618 = b"""Name:\tpython3
Umask:\t0022
State:\tS (sleeping)
Tgid:\t2574
Ngid:\t0
Pid:\t2574
PPid:\t2531
Uid:\t1000\t1001\t1002\t1003
Gid:\t0\t0\t0\t0
NSpid:\t2574\t17
VmPeak:\t   20452 kB
VmRSS:\t   14948 kB
RssAnon:\t    8484 kB
RssFile:\t    6464 kB
RssShmem:\t       0 kB
VmPTE:\t      72 kB
VmSwap:\t     128 kB
Threads:\t1
"""

# A kernel thread: no mm, so no Vm* lines at all.
STATUS_KTHREAD = b"Name:\tkthreadd\nUmask:\t0000\nState:\tS (sleeping)\nTgid:\t2\nPid:\t2\nPPid:\t0\n" \
                 b"Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nNSpid:\t2\nThreads:\t1\n"

# 2.6.32 (RHEL 6): no VmSwap (2.6.34), no NSpid (4.1).
STATUS_2632 = b"Name:\tsshd\nState:\tS (sleeping)\nTgid:\t1433\nPid:\t1433\nPPid:\t1\n" \
              b"Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nVmPeak:\t   66224 kB\nVmRSS:\t    1196 kB\n" \
              b"VmPTE:\t     140 kB\nThreads:\t1\n"


def test_parse_status_618():
    s = parse_status(STATUS_618)
    assert s.name == "python3" and s.state == "S" and s.tgid == 2574
    assert s.uids == (1000, 1001, 1002, 1003)
    assert (s.rss_bytes, s.swap_bytes, s.pgtables_bytes) == (14948 * 1024, 128 * 1024, 72 * 1024)
    assert s.nspid == (2574, 17)


def test_parse_status_kernel_thread_has_no_memory_lines():
    s = parse_status(STATUS_KTHREAD)
    assert (s.rss_bytes, s.swap_bytes, s.pgtables_bytes) == (None, None, None)
    assert s.nspid == (2,)


def test_parse_status_2632_lacks_vmswap_and_nspid():
    s = parse_status(STATUS_2632)
    assert (s.rss_bytes, s.swap_bytes, s.pgtables_bytes) == (1196 * 1024, None, 140 * 1024)
    assert s.nspid == ()


@pytest.mark.parametrize(
    "data, message",
    [
        (b"Name:\tx\nTgid:\t1\n", "status has no Uid line"),
        (b"Tgid:\t1\nUid:\t0\t0\t0\n", "malformed status line: 'Uid:\\t0\\t0\\t0'"),
        (b"Tgid:\t1\nUid:\t0 0 0 0\nVmRSS:\t12 MB\n", "malformed status line: 'VmRSS:\\t12 MB'"),
        (b"Tgid:\tone\nUid:\t0 0 0 0\n", "malformed status line: 'Tgid:\\tone'"),
    ],
)
def test_parse_status_malformed_names_the_line(data, message):
    with pytest.raises(ParseError) as info:
        parse_status(data)
    assert message in str(info.value).replace("\\\\", "\\")


@pytest.mark.parametrize("escaped, name", [
    (rb"odd\\name\nx", "odd\\name\nx"),  # the kernel writes \\ for a backslash and \n for a newline
    (rb"a\\n", "a\\n"),  # an escaped backslash before an n: not a newline
    (b"x\x1b[2J\t", "x\x1b[2J\t"),  # every other byte comes raw: kept as it is
    (b"\xe6\x95\xb0\xff", "\u6570\\xff"),  # UTF-8 decoded; a byte that is not stays visible
])
def test_parse_status_name_is_the_name_the_process_set(escaped, name):
    assert parse_status(STATUS_618.replace(b"Name:\tpython3", b"Name:\t" + escaped)).name == name
