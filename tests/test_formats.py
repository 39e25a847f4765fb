"""Every listing command prints --json, --ndjson and --csv through one emitter, and the
three say the same thing: NDJSON lines are the JSON array's items, CSV rows its records
flattened (nested records as outer.inner columns)."""

from __future__ import annotations

import csv
import io
import json

import pytest
from helpers import CAPTURES, FIXTURES, capture_pids

LOGS = FIXTURES / "logs"


def listings(name):
    root = FIXTURES / name
    return [
        ("top", ["--root", root, "top", "--all"], lambda doc: doc),
        ("cgroups", ["--root", root, "cgroups", "--all"], lambda doc: doc),
        ("show", ["--root", root, "show", *capture_pids(name)[:3]], lambda doc: doc),
        ("events", ["events", "--file", LOGS / "dmesg-6.18.txt"], lambda doc: doc["events"]),
    ]


CASES = [(name, cmd, args, records) for name in CAPTURES for cmd, args, records in listings(name)]


def as_text(value):
    """What a CSV cell says for a JSON value (the documented cell format)."""
    return "" if value is None else str(value).lower() if isinstance(value, bool) else \
        json.dumps(value) if isinstance(value, list) else str(value)


@pytest.mark.parametrize("name,cmd,args,records", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_json_ndjson_and_csv_agree(cli, name, cmd, args, records):
    code, out, err = cli(*args, "--json")
    assert code == 0, err
    expected = records(json.loads(out))
    assert expected, f"{cmd}: nothing listed, the comparison would prove nothing"

    code, out, err = cli(*args, "--ndjson")
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line for line in lines if "gap" not in line] == expected

    code, out, err = cli(*args, "--csv")
    assert code == 0, err
    rows = list(csv.reader(io.StringIO(out)))
    header, body = rows[0], rows[1:]
    assert len(body) == len(expected)
    for row, record in zip(body, expected):
        got = dict(zip(header, row))
        for key, value in record.items():
            # a nested record: one column per field, "outer.inner"
            for sub, v in (value.items() if isinstance(value, dict) else [(None, value)]):
                column = key if sub is None else f"{key}.{sub}"
                if isinstance(v, dict) or (v is None and column not in got):
                    continue  # deeper records have columns of their own; None where others nest one
                assert got[column] == as_text(v), column


def test_events_gaps_are_lines_of_their_own(cli, tmp_path):
    """Kills the kernel counted that the log lacks: a "gaps" list in --json, a {"gap": ...}
    line in --ndjson, and a line on stderr with --csv (they are no rows of that table)."""
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc" / "vmstat").write_text("oom_kill 3\n")
    (tmp_path / "dev").mkdir()
    (tmp_path / "dev" / "kmsg").write_text("")  # a ring buffer that kept none of them
    code, out, _ = cli("--root", tmp_path, "events", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["events"] == [] and [g["missing"] for g in doc["gaps"]] == [3]
    code, out, _ = cli("--root", tmp_path, "events", "--ndjson")
    assert [json.loads(line) for line in out.splitlines()] == [{"gap": doc["gaps"][0]}]
    code, out, err = cli("--root", tmp_path, "events", "--csv")
    assert code == 0 and out == "" and "! 3 kill(s) counted by /proc/vmstat oom_kill (3)" in err


@pytest.mark.parametrize("fmt", ["--ndjson", "--csv"])
@pytest.mark.parametrize("cmd", ["top", "cgroups", "events"])
def test_json_excludes_the_other_formats(cli, cmd, fmt):
    code, out, err = cli(cmd, "--json", fmt)
    assert code == 2 and "exclude each other" in err and out == ""
