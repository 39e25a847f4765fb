"""Pure parsers of memory cgroup files, /proc/PID/cgroup, mountinfo and PSI."""

import pytest

from oomutil.errors import ParseError
from oomutil.procfs.cgroup import parse_memory_cgroup
from oomutil.procfs.mountinfo import parse_mountinfo
from oomutil.procfs.pressure import parse_pressure
from oomutil.sysfs.memcg import parse_bool, parse_flat_keyed, parse_procs
from oomutil.sysfs.memcg_v1 import parse_v1_limit
from oomutil.sysfs.memcg_v2 import parse_v2_limit


@pytest.mark.parametrize("data, value", [
    (b"9223372036854771712\n", None),  # v1 "no limit" with 4 KiB pages
    (b"9223372036854710272\n", None),  # ... with 64 KiB pages
    (b"67108864\n", 64 << 20),
    (b"0\n", 0),
])
def test_v1_limit(data, value):
    assert parse_v1_limit(data) == value


@pytest.mark.parametrize("data, value", [(b"max\n", None), (b"536870912\n", 512 << 20), (b"0\n", 0)])
def test_v2_limit(data, value):
    assert parse_v2_limit(data) == value


def test_flat_keyed_keeps_unknown_keys():
    events = parse_flat_keyed(b"low 0\nhigh 3\nmax 40\noom 2\noom_kill 2\noom_group_kill 1\nsock_throttled 0\n")
    assert events == {"low": 0, "high": 3, "max": 40, "oom": 2, "oom_kill": 2, "oom_group_kill": 1,
                      "sock_throttled": 0}
    assert parse_flat_keyed(b"oom_kill_disable 0\nunder_oom 1\n") == {"oom_kill_disable": 0, "under_oom": 1}
    with pytest.raises(ParseError, match="malformed key-value line: 'oom_kill'"):
        parse_flat_keyed(b"oom_kill\n")


def test_procs_and_bool():
    assert parse_procs(b"200\n201\n") == [200, 201]
    assert parse_procs(b"") == []
    assert parse_bool(b"1\n") is True and parse_bool(b"0\n") is False


@pytest.mark.parametrize("data, path", [
    # hybrid host: the v1 memory line wins over the v2 line
    (b"9:name=systemd:/\n4:memory:/process_api/abc\n0::/\n", "/process_api/abc"),
    (b"4:cpu,memory:/x\n", "/x"),
    (b"0::/system.slice/sshd.service\n", "/system.slice/sshd.service"),
    (b"0::/a:b\n", "/a:b"),  # a colon inside the path
    (b"3:cpu:/x\n", None),  # no memory controller anywhere
    (b"0::/../outside\n", "/../outside"),  # another cgroup namespace's view
])
def test_memory_cgroup_line(data, path):
    assert parse_memory_cgroup(data) == path


def test_memory_cgroup_malformed():
    with pytest.raises(ParseError, match="malformed cgroup line"):
        parse_memory_cgroup(b"memory\n")


def test_mountinfo():
    data = (b"35 31 0:32 / /sys/fs/cgroup/memory rw,relatime shared:14 - cgroup cgroup rw,memory\n"
            b"41 31 0:38 /docker/abc /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n"
            b"50 31 8:1 / /mnt/with\\040space rw - ext4 /dev/vda rw\n")
    m = parse_mountinfo(data)
    assert (m[0].mount_point, m[0].fstype, m[0].super_options) == ("/sys/fs/cgroup/memory", "cgroup", ("rw", "memory"))
    assert (m[1].root, m[1].fstype) == ("/docker/abc", "cgroup2")
    assert m[2].mount_point == "/mnt/with space"
    with pytest.raises(ParseError):
        parse_mountinfo(b"35 31 0:32 / /x rw\n")


def test_pressure():
    p = parse_pressure(b"some avg10=1.50 avg60=0.20 avg300=0.05 total=123456\n"
                       b"full avg10=0.50 avg60=0.10 avg300=0.01 total=23456\n")
    assert (p.some_avg10, p.some_total_us, p.full_avg300, p.full_total_us) == (1.5, 123456, 0.01, 23456)
    cpu_like = parse_pressure(b"some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n")
    assert cpu_like.full_avg10 is None
    with pytest.raises(ParseError):
        parse_pressure(b"full avg10=0.00\n")
