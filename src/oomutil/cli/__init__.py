"""The ``oomutil`` command: argparse, one module per subcommand, one error handler.

Exit codes: 0 success, 1 runtime error (a process, file or permission problem, named
in a one-line message), 2 usage error.  Output to a closed pipe ends quietly with 0.
"""

from __future__ import annotations

import argparse
import os
import sys
from importlib import import_module
from typing import List, Optional

from .. import __version__
from ..errors import OomutilError
from ..root import ENV_VAR

PROG = "oomutil"

# name -> module; each module has register(subparsers, parents) and run(args) -> int.
COMMANDS = {
    "show": "oomutil.cli.show",
    "system": "oomutil.cli.system",
}


def build_parser() -> argparse.ArgumentParser:
    # --root and --json are accepted before or after the command name: the copies on the
    # subparsers default to SUPPRESS so they never overwrite a value given earlier.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--root", metavar="PATH", default=argparse.SUPPRESS,
        help=f"read PATH/proc and PATH/sys instead of / (a host mounted at /host, "
        f"a captured tree); default ${ENV_VAR} or /",
    )
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                        help="print JSON instead of a table")
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="What the Linux OOM killer would do, and why.",
        parents=[common],
        epilog=f"Run '{PROG} COMMAND --help' for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMANDS.values():
        import_module(module).register(sub, [common])
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    args.root = getattr(args, "root", None) or os.environ.get(ENV_VAR) or "/"
    args.json = getattr(args, "json", False)
    try:
        return import_module(COMMANDS[args.command]).run(args)
    except OomutilError as err:
        print(f"{PROG}: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader (head, less) went away: stop quietly.  Point stdout at /dev/null
        # so the interpreter's final flush does not raise a second time.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def fail(message: str) -> None:
    """A runtime message for one object, on stderr, in the one format."""
    print(f"{PROG}: {message}", file=sys.stderr)
