"""Process names as processes set them: a terminal never receives a control character from
one (text shows it as \\xNN, as ps shows "?"), JSON and CSV hold the kernel's real name, and
a wide (CJK) name keeps the columns aligned.  Real processes that name themselves."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest
from helpers import run_oomutil

pytestmark = pytest.mark.live

# The child names itself (/proc/self/comm: up to 15 bytes, any byte but NUL), says so, waits.
NAMED = ("import sys; open('/proc/self/comm', 'wb').write(sys.argv[1].encode()); "
         "open('/proc/self/oom_score_adj', 'w').write('1000'); print('ready', flush=True); sys.stdin.read()")


@pytest.fixture
def named():
    children = []

    def start(name):
        child = subprocess.Popen([sys.executable, "-c", NAMED, name], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        children.append(child)
        assert child.stdout.readline() == b"ready\n"
        return child

    yield start
    for child in children:
        child.kill()
        child.wait()


@pytest.mark.parametrize("name, shown", [
    ("x\x1b[2J\x1b]0;pwn\x07", "x\\x1b[2J\\x1b]0;pwn\\x07"),  # clear screen, retitle the terminal
    ("tab\there\x7f", "tab\\x09here\\x7f"),
    ("odd\\name\nx", "odd\\name\\x0ax"),  # the kernel's status escapes \\ and \n: undone, then shown
])
def test_text_escapes_json_and_csv_keep_the_real_name(named, name, shown):
    child = named(name)
    pid = str(child.pid)
    for args in (["top", "-n", "50"], ["show", pid], ["victim"], ["adj", "-p", pid]):
        out = run_oomutil(*args)
        assert out.returncode == 0, (args, out.stderr)
        assert not any(c in out.stdout for c in "\x1b\x07\x7f\t") and shown in out.stdout, (args, out.stdout)
    record = [r for r in json.loads(run_oomutil("top", "--json").stdout) if r["pid"] == child.pid][0]
    assert record["comm"] == name
    assert json.loads(run_oomutil("show", pid, "--json").stdout)[0]["comm"] == name
    rows = list(csv.DictReader(io.StringIO(run_oomutil("top", "--csv").stdout)))
    assert [r["comm"] for r in rows if r["pid"] == pid] == [name]
    assert json.loads(run_oomutil("adj", "-p", pid, "--json").stdout)[0]["comm"] == name


def test_a_wide_name_keeps_the_columns_aligned(named):
    """victim's table has COMM before other columns: a CJK name (two cells a character)
    must not push them out of line."""
    wide = named("数据库进程")  # 15 bytes in UTF-8, 10 terminal cells
    narrow = named("plainname")
    out = run_oomutil("victim")
    assert out.returncode == 0, out.stderr
    from unicodedata import east_asian_width

    def cells(text):
        return sum(2 if east_asian_width(c) in "WF" else 1 for c in text)

    rows = [(line, name) for line in out.stdout.splitlines() for pid, name in ((wide.pid, "数据库进程"),
                                                                              (narrow.pid, "plainname"))
            if f"  {pid}  " in line and name in line]
    assert len(rows) == 2, out.stdout
    # the column after COMM (ADJ: 1000 for both) starts at the same terminal cell; looked
    # for after the name (a pid or uid may read 1000 too)
    starts = [cells(line[:line.index(" 1000 ", line.index(name))]) for line, name in rows]
    assert starts[0] == starts[1], rows
