"""oomutil completion bash|zsh|fish|man: shell completion and the oomutil(1) man page, made
from the argparse parser itself, so that neither can fall behind the options."""

from __future__ import annotations

import argparse
import datetime

SHELLS = ("bash", "zsh", "fish", "man")


def register(sub, parents, help_text: str) -> None:
    p = sub.add_parser(
        "completion", parents=parents, help=help_text,
        description="Print a completion script for bash, zsh or fish, or the oomutil(1) man page, "
        "made from this oomutil's options.",
        epilog="examples:\n  oomutil completion bash > /etc/bash_completion.d/oomutil\n"
        "  oomutil completion zsh > \"${fpath[1]}/_oomutil\"\n"
        "  oomutil completion fish > ~/.config/fish/completions/oomutil.fish\n"
        "  oomutil completion man > /usr/local/share/man/man1/oomutil.1",
    )
    p.add_argument("shell", choices=SHELLS, help="bash, zsh, fish, or man for the man page")


def run(args) -> int:
    import sys

    sys.stdout.write({"bash": bash, "zsh": zsh, "fish": fish, "man": man}[args.shell]())
    return 0


# -- what the parser knows --------------------------------------------------------------------


class Option:
    def __init__(self, action: argparse.Action) -> None:
        self.flags = list(action.option_strings)
        self.takes_value = action.nargs != 0
        self.choices = [str(c) for c in action.choices] if action.choices else []
        self.metavar = action.metavar if isinstance(action.metavar, str) else (action.dest.upper() if self.takes_value else None)
        self.help = str(action.help or "")


def commands():
    """[(name, help, description, epilog, [Option]), ...] for every command, and the
    global options, from the parser with every command in full."""
    from . import COMMANDS, build_parser

    parser = build_parser(every=True)
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    found = []
    for name, (_, help_text) in COMMANDS.items():
        p = sub.choices[name]
        found.append((name, help_text, p.description or "", p.epilog or "",
                      [Option(a) for a in p._actions if a.option_strings],
                      [Option(a) for a in p._actions if not a.option_strings]))
    return parser, [Option(a) for a in parser._actions if a.option_strings], found


# -- bash (zsh runs the same through bashcompinit) ------------------------------------------------


def bash() -> str:
    _, globals_, found = commands()
    names = " ".join(name for name, *_ in found)
    lines = [
        "# bash completion for oomutil (oomutil completion bash)",
        "_oomutil() {",
        '    local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}" cmd="" w',
        '    for w in "${COMP_WORDS[@]:1:COMP_CWORD-1}"; do',
        f'        case " {names} " in *" $w "*) cmd=$w; break;; esac',
        "    done",
        '    case "$cmd:$prev" in',
    ]
    for name, _, _, _, options, positionals in found:
        for o in options:
            if o.takes_value:
                words = " ".join(o.choices)
                if words:
                    action = f'COMPREPLY=($(compgen -W "{words}" -- "$cur"))'
                elif o.metavar in ("PATH", "DIR"):  # --root, --file, --textfile
                    action = 'COMPREPLY=($(compgen -f -- "$cur"))'
                else:  # a number, a name, a regex: nothing to offer
                    action = "COMPREPLY=()"
                patterns = "|".join(f"{name}:{flag}" for flag in o.flags)
                lines.append(f"        {patterns}) {action}; return;;")
    for o in globals_:
        if o.takes_value:
            lines.append(f"        *:{'|*:'.join(o.flags)}) COMPREPLY=($(compgen -d -- \"$cur\")); return;;")
    lines += ["    esac", '    case "$cmd" in']
    for name, _, _, _, options, positionals in found:
        words = " ".join(f for o in options for f in o.flags) + "".join(
            " " + " ".join(p.choices) for p in positionals if p.choices)
        lines.append(f'        {name}) COMPREPLY=($(compgen -W "{words}" -- "$cur"));;')
    global_words = " ".join(f for o in globals_ for f in o.flags)
    lines += [f'        *) COMPREPLY=($(compgen -W "{names} {global_words}" -- "$cur"));;',
              "    esac", "}", "complete -F _oomutil oomutil", ""]
    return "\n".join(lines)


def zsh() -> str:
    return ("#compdef oomutil\n# zsh completion for oomutil (oomutil completion zsh): the bash function, "
            "through bashcompinit\nautoload -U +X bashcompinit && bashcompinit\n" + bash())


def fish() -> str:
    _, globals_, found = commands()
    names = " ".join(name for name, *_ in found)
    out = ["# fish completion for oomutil (oomutil completion fish)", "complete -c oomutil -f"]
    for name, help_text, *_ in found:
        out.append(f"complete -c oomutil -n 'not __fish_seen_subcommand_from {names}' -a {name} -d {_q(help_text)}")
    for o in globals_:
        out.append("complete -c oomutil" + _fish_flags(o) + f" -d {_q(o.help)}")
    for name, _, _, _, options, positionals in found:
        for o in options:
            values = f" -x -a {_q(' '.join(o.choices))}" if o.choices else (" -r" if o.takes_value else "")
            out.append(f"complete -c oomutil -n '__fish_seen_subcommand_from {name}'" + _fish_flags(o)
                       + values + f" -d {_q(o.help)}")
        for p in positionals:
            if p.choices:
                out.append(f"complete -c oomutil -n '__fish_seen_subcommand_from {name}' -a {_q(' '.join(p.choices))}")
    return "\n".join(out) + "\n"


def _fish_flags(o: Option) -> str:
    return "".join(f" -l {f[2:]}" if f.startswith("--") else f" -s {f[1:]}" for f in o.flags)


def _q(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'")[:120] + "'"


# -- man -----------------------------------------------------------------------------------------


def man() -> str:
    from .._version import __version__

    parser, globals_, found = commands()
    date = datetime.date(2026, 1, 1).strftime("%Y")  # a fixed date: the page must not change by itself
    out = [f'.TH OOMUTIL 1 "{date}" "oomutil {__version__}" "User Commands"',
           ".SH NAME", r"oomutil \- what the Linux OOM killer would do, and why",
           ".SH SYNOPSIS", r".B oomutil", r"[\fB\-\-root\fR \fIPATH\fR] [\fB\-\-json\fR] \fICOMMAND\fR [\fIOPTIONS\fR]",
           ".SH DESCRIPTION", _roff(parser.description or ""),
           "Without a command, \\fBoomutil\\fR runs \\fBtop\\fR.",
           ".SH GLOBAL OPTIONS"]
    for o in globals_:
        out += _option(o)
    out.append(".SH COMMANDS")
    for name, help_text, description, epilog, options, positionals in found:
        out += [f".SS {name}", _roff(description or help_text)]
        for p in positionals:
            out += [f".TP\n\\fI{_roff(p.metavar or 'ARG')}\\fR", _roff(p.help)]
        for o in options:
            if o.flags not in (["-h", "--help"],) and o.flags not in [g.flags for g in globals_]:
                out += _option(o)
        if epilog:
            out += [".PP", ".nf", _roff(epilog), ".fi"]
    out += [".SH EXIT STATUS", "0 success; 1 a runtime error, named in one line on stderr; 2 a usage error.",
            ".SH ENVIRONMENT", ".TP\n\\fBOOMUTIL_ROOT\\fR", "the root to read when \\fB\\-\\-root\\fR is not given.",
            ".SH SEE ALSO", r"\fBproc\fR(5), \fBchoom\fR(1), \fBdmesg\fR(1)", ""]
    return "\n".join(out)


def _option(o: Option) -> list:
    flags = ", ".join(f"\\fB{_roff(f)}\\fR" for f in o.flags)
    if o.takes_value:
        flags += f" \\fI{_roff(o.metavar or 'VALUE')}\\fR"
    return [f".TP\n{flags}", _roff(o.help or "")]


def _roff(text: str) -> str:
    text = text.replace("\\", "\\\\").replace("-", "\\-")
    return "\n".join(("\\&" + line) if line.startswith((".", "'")) else line for line in text.splitlines())
