"""argparse types shared by the commands: a pid, and the users a --user option names."""

from __future__ import annotations

import argparse

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows the start
    from typing import List, Optional, Sequence

# include/linux/threads.h PID_MAX_LIMIT on 64-bit (4M; 32768 on 32-bit): /proc/sys/kernel/pid_max
# goes no higher, and every pid is below pid_max
PID_MAX_LIMIT = 4194304


def pid_arg(text: str) -> int:
    """A process id as a user types it: ASCII digits only (int() would take ' 1' and the
    Arabic-Indic '١' as pid 1), from 1 to below the kernel's PID_MAX_LIMIT."""
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise argparse.ArgumentTypeError(f"invalid PID argument: {text!r} (a process id: digits 0-9)")
    if int(text) >= PID_MAX_LIMIT:
        raise argparse.ArgumentTypeError(f"invalid PID argument: {text!r} (no pid reaches the kernel's "
                                         f"PID_MAX_LIMIT, {PID_MAX_LIMIT})")
    return int(text)


def unknown_users(users: Sequence[str], root) -> List[str]:
    """The names in ``users`` (names or uids, as --user takes them) that the root's user
    database does not have: the C library's on the live root, the tree's etc/passwd
    otherwise (none is unknown where the tree has no etc/passwd: nothing to ask).  A uid
    needs no name."""
    names = [u for u in users if not (u.isascii() and u.isdigit())]
    if not names:
        return []
    if root.is_live:
        import pwd

        def known(name: str) -> bool:
            try:
                pwd.getpwnam(name)
                return True
            except (KeyError, ValueError):  # ValueError: a NUL in the name
                return False

        return [n for n in names if not known(n)]
    from .._fs import decode, read_bytes
    from ..errors import OomutilError

    try:
        data = read_bytes(root.etc("passwd"))
    except OomutilError:
        return []
    table = {decode(line.split(b":")[0]) for line in data.splitlines() if line.count(b":") >= 2}
    return [n for n in names if n not in table]


def unknown_filter(args, root) -> Optional[str]:
    """What is wrong with --user and --cgroup before a scan: a user the root's user database
    has not (said), a --cgroup that does not exist (NotAvailable "no memory cgroup X", raised);
    None when both hold.  ``args.cgroup`` is resolved to the cgroup's path on the way."""
    if getattr(args, "user", None):
        unknown = unknown_users(args.user, root)
        if unknown:
            return f"no such user: {', '.join(unknown)}"
    if getattr(args, "cgroup", None) is not None:
        from ..cgroups import memory_cgroup, memory_hierarchy, resolve_cgroup
        from ..workloads import EMPTY

        args.cgroup = resolve_cgroup(args.cgroup, root)
        if memory_hierarchy(root) is not None:
            memory_cgroup(args.cgroup, root, names=EMPTY)  # NotAvailable "no memory cgroup X" when there is none
    return None
