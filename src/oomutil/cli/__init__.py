"""The ``oomutil`` command: argparse, one module per subcommand, one error handler.

Exit codes: 0 success, 1 runtime error (a process, file or permission problem, named
in a one-line message), 2 usage error; ``system --check`` exits as a monitoring plugin
(0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN).  Output to a closed pipe ends quietly with 0.
"""

from __future__ import annotations

import argparse
import os
import sys
from importlib import import_module
TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows the start
    from typing import List, Optional

from .._version import __version__
from ..errors import OomutilError
from ..root import ENV_VAR, Root

PROG = "oomutil"

# name -> (module, one line of help); each module has register(subparsers, parents, help)
# and run(args) -> int, and may have needs_proc(args) -> bool: False where the command
# reads no proc/ (the root's proc/ is checked otherwise).
COMMANDS = {
    "top": ("oomutil.cli.top", "processes ranked by OOM score (the default command)"),
    "show": ("oomutil.cli.show", "a process's OOM score, adjustment and memory"),
    "system": ("oomutil.cli.system", "OOM-related kernel settings and counters"),
    "cgroups": ("oomutil.cli.cgroups", "memory cgroups: limits, headroom, OOM kills, next victim"),
    "victim": ("oomutil.cli.victim", "who an OOM would kill now, system-wide or in a cgroup"),
    "events": ("oomutil.cli.events", "OOM kills from the kernel log; --follow for new ones"),
    "why": ("oomutil.cli.why", "an OOM report explained: where the memory went, why, why this victim"),
    "adj": ("oomutil.cli.adj", "show or set oom_score_adj of processes (as choom), --dry-run first"),
    "run": ("oomutil.cli.run", "run a command with an oom_score_adj (as choom -n VALUE -- CMD)"),
    "serve": ("oomutil.cli.serve", "a Prometheus exporter: /metrics (pip install 'oomutil[exporter]')"),
    "metrics": ("oomutil.cli.metrics", "the exporter's metrics once, or as a node_exporter textfile"),
    "completion": ("oomutil.cli.completion", "a completion script for bash, zsh or fish, or the man page"),
}


# commands whose output is no list of records: --json is a usage error there
_NO_JSON = ("run", "serve", "metrics", "completion")

_width: List[int] = []  # the terminal's, asked once: argparse makes a formatter per argument


def _formatter(prog: str) -> argparse.HelpFormatter:
    """argparse's formatter at the terminal's width.  argparse would ask shutil, whose
    import costs more start-up time than anything else this command does on a small
    machine; os answers the same question."""
    if not _width:
        try:
            width = int(os.environ["COLUMNS"])
        except (KeyError, ValueError):
            try:
                width = os.get_terminal_size(sys.stderr.fileno()).columns
            except (OSError, ValueError, AttributeError):
                width = 80
        _width.append(max(width - 2, 40))
    return _Formatter(prog, width=_width[0])


class _Formatter(argparse.HelpFormatter):
    """argparse's formatter, keeping the lines of an epilog: each line is wrapped on its own,
    and an indented one (an example command) is kept as it is."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        return "\n".join(indent + line if line.startswith(" ") else super(_Formatter, self)._fill_text(line, width, indent)
                         for line in text.splitlines())


def examples(*commands: str) -> str:
    """The end of a command's --help: a few commands to copy."""
    return "examples:\n" + "\n".join(f"  {c}" for c in commands)


class Parser(argparse.ArgumentParser):
    """ArgumentParser with the formatter above, for the command and its subcommands."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", _formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str):  # type: ignore[override]
        """A usage error: the one useful line and where the options are, not the whole usage
        block; exit status 2."""
        from ._output import printable  # an unknown argument may hold control characters

        self.exit(2, f"{self.prog}: error: {printable(message)}\nTry '{self.prog} --help' for its options.\n")


def build_parser(only: Optional[str] = None, every: bool = False) -> argparse.ArgumentParser:
    """The parser with command ``only`` in full and the others as bare names (building
    every command's options costs start-up time that a run of one command never uses);
    ``every``: all commands in full (completion scripts and the man page are made from it)."""
    # --root and --json are accepted before or after the command name: the copies on the
    # subparsers default to SUPPRESS so they never overwrite a value given earlier.
    common = Parser(add_help=False)
    common.add_argument(
        "--root", metavar="PATH", default=argparse.SUPPRESS,
        help=f"read PATH/proc and PATH/sys instead of / (a host mounted at /host, "
        f"a captured tree); default ${ENV_VAR} or /",
    )
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                        help="print JSON instead of a table")
    parser = Parser(
        prog=PROG,
        description="What the Linux OOM killer would do, and why.",
        parents=[common],
        epilog=f"Run '{PROG} COMMAND --help' for a command's options.",
    )
    parser.add_argument("-V", "--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for name, (module, help_text) in COMMANDS.items():
        if every or name == only:
            import_module(module).register(sub, [common], help_text)
        elif only is None:  # the list of commands, for --help and for a word that is none
            sub.add_parser(name, help=help_text, add_help=False)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    argv = _default_command(sys.argv[1:] if argv is None else list(argv))
    if _command_in(argv) == "system" and any(len(a) > 2 and "--check".startswith(a) for a in argv):
        return _monitoring_plugin(argv)
    return _main(argv)


def _monitoring_plugin(argv: List[str]) -> int:
    """``system --check`` as a monitoring plugin: whatever keeps it from giving a status
    (a usage error, an unreadable root) is UNKNOWN, exit 3, said on stdout where the
    monitor reads it, never a usage error's 2 that a monitor would show as CRITICAL."""
    import io
    from contextlib import redirect_stderr

    said = io.StringIO()
    try:
        with redirect_stderr(said):
            code: Optional[int] = _main(argv)
    except SystemExit as stop:
        if not stop.code:  # --help
            raise
        code = None
    except Exception as err:  # a bug: still a status the monitor can show, with what went wrong
        print(f"OOM UNKNOWN - internal error: {type(err).__name__}: {err}")
        return 3
    if code in (0, 1, 2, 3) and not said.getvalue():
        return code
    first = (said.getvalue().strip().splitlines() or ["no status"])[0]
    print(f"OOM UNKNOWN - {first.split('error: ', 1)[-1] if 'error: ' in first else first.split(': ', 1)[-1]}")
    return 3


def _main(argv: List[str]) -> int:
    parser = build_parser(_command_in(argv))
    args = parser.parse_args(argv)
    if getattr(args, "root", None) == "":
        parser.error("--root wants a directory (/ is the default)")
    args.root = getattr(args, "root", None) or os.environ.get(ENV_VAR) or "/"
    args.json = getattr(args, "json", False)
    if args.json and (getattr(args, "ndjson", False) or getattr(args, "csv", False)):
        parser.error("--json, --ndjson and --csv exclude each other")
    if args.json and getattr(args, "follow", False):  # --json is one document; a stream is not
        parser.error("--follow prints a stream: use --ndjson (one event a line), not --json")
    if args.json and args.command in _NO_JSON:
        Parser(prog=f"{PROG} {args.command}").error(f"--json: {args.command} prints no records (JSON is for "
                                                    "the commands that list them)")
    try:
        module = import_module(COMMANDS[args.command][0])
        if getattr(module, "needs_proc", lambda args: True)(args):
            Root(args.root).check()  # a bad --root says one thing, whichever the command
        return module.run(args)
    except OomutilError as err:
        fail(str(err))  # a path or a name in it may hold control characters: fail() shows them
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader (head, less) went away: stop quietly.  Point stdout at /dev/null
        # so the interpreter's final flush does not raise a second time.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as err:  # an OS error no reader mapped: still one line, never a traceback
        print(f"{PROG}: {err.filename + ': ' if err.filename else ''}{err.strerror or err}", file=sys.stderr)
        return 1


def console() -> None:
    """The installed ``oomutil`` (and ``python -m oomutil``): main(), then the end of the
    process without the interpreter's teardown.  Freeing every module and object at exit
    costs about 8 ms here, half of all that ``ps`` takes; nothing needs it (no atexit
    handlers; the kernel closes files), so the output is flushed and the process exits."""
    for stream in (sys.stdout, sys.stderr):  # a name the terminal's encoding lacks is escaped, not a crash
        try:
            stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
        except AttributeError:  # replaced by something that is no TextIOWrapper
            pass
    try:
        code = main()
    except SystemExit as exit_:  # --help, --version, usage errors: argparse has printed
        code = exit_.code if isinstance(exit_.code, int) else 0 if exit_.code is None else 1
        if isinstance(exit_.code, str):
            print(exit_.code, file=sys.stderr)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BrokenPipeError:  # the reader went away: stop quietly, as main() does
            pass
        except OSError as err:  # a full disk, say: the output is incomplete, and we say so
            code = code or 1
            print(f"{PROG}: cannot write the output: {err.strerror or err}", file=sys.__stderr__)
    os._exit(code)


def _default_command(argv: List[str]) -> List[str]:
    """``oomutil -n 5`` means ``oomutil top -n 5``: top is the default command.

    The global options are set aside first; if what remains starts with an option (or
    nothing remains), no command was named.  A word that is not a command is left for
    argparse to reject.
    """
    if any(a in ("-h", "--help", "-V", "--version") for a in argv) or _first_word(argv):
        return argv
    return ["top", *argv]


def _first_word(argv: List[str]) -> Optional[str]:
    """The first argument that is neither a global option (--root PATH, --root=PATH,
    --json, or a prefix argparse would take for one) nor its value.  Scanned by hand: a
    second ArgumentParser for this costs more than the scan of a small /proc."""
    i = 0
    while i < len(argv):
        arg = argv[i]
        name, has_value, _ = arg.partition("=")
        if len(name) > 2 and "--root".startswith(name):
            if not has_value and (i + 1 == len(argv) or argv[i + 1].startswith("-")):
                return arg  # --root without its value: the global parser says so, not a command's
            i += 1 if has_value else 2
        elif len(name) > 2 and "--json".startswith(name):
            i += 1
        else:
            return None if arg.startswith("-") else arg
    return None


def _command_in(argv: List[str]) -> Optional[str]:
    """The command named in ``argv``, if it is one (else the full parser is built)."""
    word = _first_word(argv)
    return word if word in COMMANDS and not any(a in ("-h", "--help") for a in argv[:1]) else None


def usage_error(command: str, message: str) -> int:
    """A usage error found after parsing, said as argparse says one; returns its exit status, 2."""
    from ._output import printable

    print(f"{PROG} {command}: error: {printable(message)}\nTry '{PROG} {command} --help' for its options.",
          file=sys.stderr)
    return 2


def fail(message: str) -> None:
    """A runtime message for one object, on stderr, in the one format; a control character
    (from a process name, or typed) is shown as \\xNN, as in every text output."""
    from ._output import printable

    print("\n".join(map(printable, f"{PROG}: {message}".split("\n"))), file=sys.stderr)
