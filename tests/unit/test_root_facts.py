"""Page size and CPU counts come through the read helper (so faults reach them)."""

from __future__ import annotations

import pytest
from helpers import FIXTURES

from oomutil import _fs
from oomutil.errors import AccessDenied, ParseError
from oomutil.procfs.loadavg import parse_uptime
from oomutil.procfs.pagesize import parse_manifest_page_size, read_page_size
from oomutil.root import Root
from oomutil.sysfs.cpu import parse_cpu_list, read_online_cpus

CAPTURE = FIXTURES / "x86_64-cgroup1-linux6.18"


def test_parsers():
    assert parse_cpu_list(b"0-63\n") == 64 and parse_cpu_list(b"0,2-5,8\n") == 6
    with pytest.raises(ParseError):
        parse_cpu_list(b"zero\n")
    assert parse_manifest_page_size(b"name: x\npage size: 65536\n") == 65536
    assert parse_manifest_page_size(b"name: x\n") == 0
    assert parse_uptime(b"265.66 500.01\n") == 265.66


def test_a_tree_reads_its_own(monkeypatch):
    root = Root(str(CAPTURE))
    assert (read_page_size(root), read_online_cpus(root)) == (4096, 2)
    real = _fs.read_bytes

    def deny_cpus(path, **kwargs):
        if "devices/system/cpu" in path:
            raise AccessDenied(path=path)
        return real(path, **kwargs)

    monkeypatch.setattr(_fs, "read_bytes", deny_cpus)
    assert read_online_cpus(root) == 1  # nothing says: one
