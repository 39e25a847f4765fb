"""Root: where /proc, /sys and /etc are.  The only code that spells those paths.

``Root("/")`` is the live machine; ``Root("/host")`` reads a host's /proc and /sys
bind-mounted into a container; ``Root("tests/fixtures/x86_64-...")`` replays a tree
captured by tools/capture-fixture.  Live data and a tree are never mixed: nothing
below a Root reads another path (the idea of python-distro's ``root_dir`` and
util-linux's ``--sysroot``).
"""

from __future__ import annotations

import os
import sys
TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows the start
    from typing import Optional, Union

from .errors import InvalidValue, NotAvailable

__all__ = ["Root", "as_root", "ENV_VAR"]

#: Environment variable the CLI reads when ``--root`` is not given.
ENV_VAR = "OOMUTIL_ROOT"


class Root:
    """A filesystem root holding ``proc/``, ``sys/`` and optionally ``etc/``.

    Raises NotAvailable when ``path`` is not a directory, or when it is the live root
    of a system that is not Linux (importing oomutil works everywhere; reading does not).
    """

    __slots__ = ("path", "_proc", "_sys")

    def __init__(self, path: str = "/") -> None:
        full = os.path.abspath(path)
        if full == "/" and not sys.platform.startswith("linux"):
            raise NotAvailable(
                f"oomutil reads the Linux kernel's /proc and /sys; this system is {sys.platform}"
            )
        if not os.path.isdir(full):
            why = "no such directory" if not os.path.exists(full) else "not a directory"
            raise NotAvailable(f"{why}: a root is a directory holding proc/ and sys/ (/, a host's / "
                               "mounted at /host, a captured tree)", path=path)

        self.path = full
        self._proc = os.path.join(full, "proc")
        self._sys = os.path.join(full, "sys")

    @property
    def is_live(self) -> bool:
        """True for "/", the running system (not a tree or a mounted host)."""
        return self.path == "/"

    def proc(self, *parts: Union[str, int]) -> str:
        """Path below proc/: ``root.proc(42, "oom_score")``."""
        return os.path.join(self._proc, *map(str, parts))

    def sys(self, *parts: str) -> str:
        """Path below sys/: ``root.sys("fs", "cgroup", "memory")``."""
        return os.path.join(self._sys, *parts)

    def etc(self, *parts: str) -> str:
        """Path below etc/ (the user database of a tree or host)."""
        return os.path.join(self.path, "etc", *parts)

    def file(self, *parts: str) -> str:
        """Path below the root outside proc/ and sys/: ``root.file("usr", "lib", "systemd")``
        (unit and configuration files of a host or tree)."""
        return os.path.join(self.path, *parts)

    def dev(self, *parts: str) -> str:
        """Path below dev/: ``root.dev("kmsg")``."""
        return os.path.join(self.path, "dev", *parts)

    def manifest(self) -> str:
        """The MANIFEST of a captured tree (tools/capture-fixture)."""
        return os.path.join(self.path, "MANIFEST")

    def check(self) -> None:
        """NotAvailable unless the root holds proc/ (the CLI checks every --root so: one
        message for a wrong directory, whichever the command)."""
        if not os.path.isdir(os.path.join(self.path, "proc")):
            raise NotAvailable("has no proc/: a root is a directory holding proc/ and sys/ (/, a host's / "
                               "mounted at /host, a captured tree)", path=self.path)

    def self_pid(self) -> int:
        """The pid ``proc/self`` points to: the caller on a live root, the capturing
        process in a captured tree, this process's host pid in a host's /proc."""
        link = self.proc("self")
        try:
            target = os.readlink(link)
        except OSError:
            raise NotAvailable("this tree has no proc/self", path=link) from None
        try:
            return int(os.path.basename(target))
        except ValueError:
            raise NotAvailable(f"proc/self points to {target!r}", path=link) from None

    def __repr__(self) -> str:
        return f"Root({self.path!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Root) and other.path == self.path

    def __hash__(self) -> int:
        return hash(self.path)


_live: Optional[Root] = None


def as_root(root: Union[Root, str, "os.PathLike[str]", None] = None) -> Root:
    """Accept a Root, a path, or None (the live system, one shared instance)."""
    global _live
    if isinstance(root, Root):
        return root
    if root is None:
        if _live is None:
            _live = Root("/")
        return _live
    if isinstance(root, (str, os.PathLike)):
        return Root(os.fspath(root))
    raise InvalidValue(f"root must be a Root or a path, not {type(root).__name__}")
