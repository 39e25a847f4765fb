"""The text renderer: control characters shown as \\xNN (C0 with tab and newline, DEL, C1),
everything else kept; columns measured in terminal cells."""

from __future__ import annotations

import io
import sys

import pytest

from oomutil.cli._output import format_table, print_lines, printable, width


@pytest.mark.parametrize("text, shown", [
    ("python3", "python3"),
    ("x\x1b[2J", "x\\x1b[2J"),
    ("a\tb\nc\rd\x00e", "a\\x09b\\x0ac\\x0dd\\x00e"),
    ("del\x7f c1\x9b\x85", "del\\x7f c1\\x9b\\x85"),
    ("odd\\name", "odd\\name"),  # a backslash stays: escaping twice changes nothing
    ("数据库 café ü", "数据库 café ü"),
])
def test_printable(text, shown):
    assert printable(text) == shown and printable(shown) == shown


def test_width_counts_terminal_cells():
    assert [width(t) for t in ("abc", "数据库", "cafe\u0301", "ｆｕｌｌ")] == [3, 6, 4, 8]


def test_columns_line_up_with_wide_and_escaped_names():
    lines = format_table([("数据库进程", 1000), ("x\x1b[2J", 5), ("plain", 12)], ("COMM", "ADJ"), right=(1,))
    assert not any("\x1b" in line for line in lines)
    ends = {width(line) for line in lines}  # the right-aligned last column ends in one cell
    assert ends == {width(lines[0])}, lines


def test_print_lines_escapes_what_reaches_stdout(monkeypatch):
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    print_lines(["pid 5 (\x1b]0;title\x07)"])
    assert out.getvalue() == "pid 5 (\\x1b]0;title\\x07)\n"
