"""Random argument vectors for every command (issue 21, item 5): whatever a user types, the
command ends with 0, 1 or 2 (3 for the monitoring plugin, system --check) and never with a
traceback; a failure says something on stderr.

The real command runs in this process (oomutil.cli.main), on the captured trees mostly, on
this machine's / too (where the kernel answers: a pid beyond 2^31 reached os.kill there).  The
options and choices come from the real parser; their values from hypothesis: words, numbers,
huge numbers, unicode, empty strings, control characters, and values the option expects.
Nothing here can act on a process or block: `run` is left out (it execs what it is given:
tests/test_cli_safety.py gives it bad input by hand), `adj` never gets -n (no write is even
attempted), `top --watch` and `events --follow` are left out (they never end), `serve` always
ends with a --listen that does not parse (it never listens), no value starts with "-" (so no
abbreviation of a left-out option can appear), and a path is a known one or a relative word
in an empty working directory (metrics --textfile writes only there)."""

from __future__ import annotations

import argparse
import io
import os
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oomutil.cli import build_parser, main

FIXTURES = Path(__file__).resolve().parent / "fixtures"
V1 = str(FIXTURES / "x86_64-cgroup1-linux6.18")
V2 = str(FIXTURES / "x86_64-cgroup2-linux6.1")
KMSG = next(iter(sorted(str(p) for p in (FIXTURES / "logs").iterdir())), "/nonexistent")

FUZZED = ["top", "show", "system", "cgroups", "victim", "events", "adj", "serve", "metrics", "completion"]
LEFT_OUT = {  # options that never end, or that write
    "top": {"--watch"},
    "events": {"--follow"},
    "adj": {"-n", "--adjust"},
}
NOT_A_VALUE = {"stdin"}  # events --source stdin would read this process's stdin

PIDS = ["1", "2", "29532", "29534", "173", "self", "0", "4194303", "4194304", "2147483648", str(2 ** 64)]
NUMBERS = st.one_of(st.integers(-5, 5000), st.sampled_from([2 ** 31, 2 ** 63, 10 ** 30, -(2 ** 31)])).map(str)
WORDS = st.one_of(
    st.text(max_size=12),  # any unicode: control characters, NUL, surrogates' neighbours, empty
    st.text(alphabet="0123456789٠١٢۳１２ \t\n.,=:-+[]kMGsmhd", max_size=10),
    st.sampled_from(["", " ", "self", "root", "nobody", "nosuchuser", "/", ".", "..", "a b) (c", "python3",
                     "x\x1b[2J", "é", "\x00", "1h", "99999999d", "2G", "-1000", "1000", "1001", "[::1]:0",
                     "1,2", "1,,2", "/oomutil-capture/app", "app", "/nonexistent", "sshd.service"]),
    NUMBERS,
    st.sampled_from(PIDS),
    st.sampled_from(PIDS),  # twice: the edges of a pid are where the kernel's answers change
    st.builds("{}={}".format, st.sampled_from(PIDS), st.one_of(NUMBERS, st.sampled_from(["1G", "512M", "-1000"]))),
).filter(lambda w: not w.startswith("-") or w.lstrip("-").replace(".", "").isdigit())


def _options(command):
    """[(flags, takes a value, choices)] of the command's real options."""
    parser = build_parser(every=True)
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[command]
    options = []
    for action in sub._actions:
        flags = [f for f in action.option_strings if f not in LEFT_OUT.get(command, ())]
        if flags and len(flags) == len(action.option_strings):
            choices = [c for c in action.choices or () if c not in NOT_A_VALUE]
            options.append((flags, action.nargs != 0, choices))
    return options


def _values(flag, choices, paths):
    if flag in ("--root",):
        return st.sampled_from([V1, V1, V2, "/", "/nonexistent", paths["dir"], paths["file"], ""]) | WORDS
    if flag in ("--file", "--textfile"):
        return st.sampled_from([KMSG, "/nonexistent", paths["dir"], paths["file"], "/proc", ""]) | WORDS
    if choices:
        return st.sampled_from(choices) | WORDS
    return WORDS


@st.composite
def argv_of(draw, command, paths):
    options = _options(command)
    words = []
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["option", "option", "option", "word", "word", "separator", "help"]))
        if kind == "word":
            words.append(draw(WORDS))
        elif kind == "separator":
            words.append("--")
        elif kind == "help":  # rarely: it only prints the help
            if draw(st.integers(0, 9)) == 0:
                words.append("--help")
        else:
            flags, takes_value, choices = draw(st.sampled_from(options))
            flag = draw(st.sampled_from(flags))
            if not takes_value:
                words.append(flag)
            elif flag.startswith("--") and draw(st.booleans()):
                words.append(f"{flag}={draw(_values(flag, choices, paths))}")
            else:
                words += [flag, draw(_values(flag, choices, paths))]
    if command == "completion" and draw(st.booleans()):
        words.append(draw(st.sampled_from(["bash", "zsh", "fish", "man"])))
    root = [] if any(w.startswith("--root") for w in words) else ["--root", draw(st.sampled_from([V1, V2, "/"]))]
    argv = [*root, command, *words]
    if command == "serve":
        argv += ["--listen", "not an address"]  # it never starts serving
    return argv


def run_in_process(argv):
    """main(argv) as the console runs it: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    stdin = sys.stdin
    sys.stdin = io.TextIOWrapper(io.BytesIO(b""))
    try:
        with redirect_stdout(out), redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as stop:  # argparse: usage errors, --help
                code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 2)
    finally:
        sys.stdin = stdin
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def paths(tmp_path_factory):
    """An empty working directory (relative words land there) with a directory and a file in it."""
    home = tmp_path_factory.mktemp("fuzz")
    (home / "dir").mkdir()
    (home / "file").write_text("not a directory\n")
    old = os.getcwd()
    os.chdir(home)
    yield {"dir": str(home / "dir"), "file": str(home / "file")}
    os.chdir(old)


@pytest.mark.parametrize("command", FUZZED)
def test_random_arguments_end_in_a_status_and_never_in_a_traceback(command, paths):
    @settings(max_examples=150, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    @given(argv=argv_of(command, paths))
    def check(argv):
        assert "-n" not in argv and "--adjust" not in argv or command != "adj"
        try:
            code, out, err = run_in_process(argv)
        except Exception as exc:  # a traceback: the one thing that must not happen
            raise AssertionError(f"oomutil {argv!r} raised {type(exc).__name__}: {exc}") from exc
        plugin = command == "system" and "--check" in argv
        assert code in ({0, 1, 2, 3} if plugin else {0, 1, 2}), (argv, code, err)
        assert "Traceback" not in err and "Traceback" not in out, (argv, err)
        if code and not plugin:
            assert err.strip(), (argv, code, "failed without a word on stderr")

    check()


def test_the_fuzzer_reaches_both_answers_and_refusals(paths):
    """A fuzzer whose every vector is a usage error tests nothing: the common shapes run."""
    assert run_in_process(["--root", V1, "top", "-n", "3"])[0] == 0
    assert run_in_process(["--root", V1, "adj", "--name", "python3"])[0] == 0
    assert run_in_process(["--root", V1, "show", "1", "29532"])[0] == 0
    assert run_in_process(["--root", V1, "serve", "--listen", "not an address"])[0] == 2
    for command in FUZZED:
        flags = {f for option in _options(command) for f in option[0]}
        assert "--root" in flags and not flags & LEFT_OUT.get(command, set())


# The vectors issue 21 found to end in a traceback or a silent wrong answer: random search
# does not reach them often enough to stand for them, so they are run every time.
FOUND = [
    ["--root", "/", "show", "2147483648"],
    ["--root", "/", "show", "\u0661"],
    ["--root", "/", "adj", "-p", "2147483648"],
    ["--root", "/", "adj", "-p", " 1"],
    ["--root", "/", "run", "-n", "5", "--", ""],
    ["--root", "/", "top", "--user", "nosuchuser"],
    ["--root", "/", "top", "--cgroup", "/nonexistent"],
    ["--root", "/", "events", "--since", "99999999d", "--file", str(FIXTURES / "logs" / "kmsg.txt")],
    ["--root", "/", "events", "--since", "1h", "--until", "2h", "--file", str(FIXTURES / "logs" / "kmsg.txt")],
    ["--root", "/", "events", "--file", "/proc/self/mem"],
    ["--root", "/", "metrics", "--textfile", "/nonexistent"],
    ["--root"],
]


@pytest.mark.parametrize("argv", FOUND, ids=" ".join)
def test_the_vectors_that_crashed_end_in_a_refusal(argv, paths):
    try:
        code, out, err = run_in_process(argv)
    except Exception as exc:
        raise AssertionError(f"oomutil {argv!r} raised {type(exc).__name__}: {exc}") from exc
    assert code in (1, 2) and out == "" and err.strip() and "Traceback" not in err, (code, out, err)
