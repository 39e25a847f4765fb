"""oomutil run -n VALUE [--] CMD [ARGS]: start a command with this oom_score_adj (as choom -n
VALUE -- CMD): oomutil sets its own value, which the command inherits, and becomes the
command (exec), so its exit status and signals are the command's own."""

from __future__ import annotations

import argparse
import os
import sys

from . import examples, fail, usage_error
from .adj import adj_value


def register(sub, parents, help_text: str) -> None:
    p = sub.add_parser(
        "run", parents=parents, help=help_text,
        description="Run CMD with oom_score_adj VALUE (inherited across fork and exec, with the floor). "
        "Lowering below its floor needs CAP_SYS_RESOURCE; the floor is the value of the last oom_score_adj "
        "write by a CAP_SYS_RESOURCE holder, raises included (0 when there was none): run with the "
        "capability, VALUE becomes the command's floor too, and it can never go back below it.",
        epilog=examples("oomutil run -n 1000 -- make -j8          offer a build up first",
                        "oomutil run -n -500 -- ./important-daemon   (needs CAP_SYS_RESOURCE; floor -500)"),
    )
    p.add_argument("-n", "--adjust", type=adj_value, required=True, metavar="VALUE",
                   help="oom_score_adj for the command (-1000..1000)")
    p.add_argument("argv", nargs=argparse.REMAINDER, metavar="CMD [ARGS]", help="the command to run")


def needs_proc(args) -> bool:
    """run starts a command on this machine: --root names no process of it."""
    return False


def run(args) -> int:
    from ..process import Process
    from ..root import Root

    command = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
    if not command or not command[0]:
        return usage_error("run", f"{'the command is an empty word' if command else 'give the command to run'}: "
                           "oomutil run -n VALUE -- CMD [ARGS]")
    nul = [word for word in command if "\0" in word]
    if nul:  # no exec takes it: said before anything changes
        return usage_error("run", f"a NUL character in {nul[0]!r}")
    if not Root(args.root).is_live:  # a tree, a host's /proc: neither runs the command
        fail(f"run starts the command on this machine's kernel: --root {args.root} is not used")
    Process(os.getpid()).set_oom_score_adj(args.adjust)  # the command inherits it
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execvp(command[0], command)
    except FileNotFoundError:
        fail(f"{command[0]}: command not found")
        return 127
    except OSError as err:
        fail(f"{command[0]}: {err.strerror or err}")
        return 126
    return 0  # not reached: exec replaced this process
