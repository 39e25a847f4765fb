"""oomutil metrics: the exporter's exposition once, on stdout or as a textfile for
node_exporter's textfile collector (no kernel-log follower: kill counters are absent)."""

from __future__ import annotations

import os
import sys

from . import examples
from .serve import add_options, registry


def register(sub, parents, help_text: str) -> None:
    p = sub.add_parser(
        "metrics", parents=parents, help=help_text,
        epilog=examples('oomutil metrics | less', 'oomutil metrics --textfile /var/lib/node_exporter/textfile'),
        description="Print the Prometheus exposition of `oomutil serve` once (without the kill "
        "counters, which need a follower), or write it to DIR/oomutil.prom for node_exporter's "
        "textfile collector (written under a hidden name, then renamed into place).",
    )
    p.add_argument("--textfile", metavar="DIR", help="write DIR/oomutil.prom instead of printing")
    add_options(p)


def run(args) -> int:
    from . import fail

    made = registry(args, follow=False)
    if made is None:
        return 1
    reg = made[0]
    from prometheus_client import generate_latest

    if args.textfile is None:
        sys.stdout.write(generate_latest(reg).decode())
        return 0
    if not os.path.isdir(args.textfile):
        fail(f"{args.textfile}: {'not a directory' if os.path.exists(args.textfile) else 'no such directory'}")
        return 1
    return _write(os.path.join(args.textfile, "oomutil.prom"), generate_latest(reg))


def _write(path: str, data: bytes) -> int:
    """``path`` whole or not at all: written under a hidden name that node_exporter's
    collector (which reads *.prom) never reads, then renamed into place.  A failure names
    ``path``, never the temporary name, and leaves nothing behind."""
    from . import fail

    temporary = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.{os.getpid()}.tmp")
    try:
        with open(temporary, "wb") as f:
            f.write(data)
        os.replace(temporary, path)
    except OSError as err:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        fail(f"{path}: cannot write it: {err.strerror or err}")
        return 1
    return 0
