"""User names for uids, from the root's own user database.

On the live root the C library is asked (pwd), so NSS sources such as LDAP or sssd
count.  Any other root (a tree, a host mounted at /host) is read from its own
etc/passwd: the reader's database would give a container's names to the host's uids.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows the start
    from typing import Dict, Optional

from ._fs import decode, read_bytes
from .errors import AccessDenied, NotAvailable
from .root import Root

_tables: Dict[str, Dict[int, Optional[str]]] = {}


def parse_passwd(data: bytes) -> Dict[int, str]:
    """{uid: name} from passwd(5) lines ``name:x:uid:gid:gecos:home:shell``; odd lines skipped."""
    names: Dict[int, str] = {}
    for line in data.splitlines():
        fields = line.split(b":")
        if len(fields) >= 3 and not line.startswith(b"#"):
            try:
                names.setdefault(int(fields[2]), decode(fields[0]))
            except ValueError:
                continue
    return names


def user_name(root: Root, uid: int) -> Optional[str]:
    """The name of ``uid`` in ``root``'s user database, or None when it has none."""
    table = _tables.get(root.path)
    if table is None:
        table = _tables[root.path] = {} if root.is_live else _read_passwd(root)
    if root.is_live and uid not in table:
        table[uid] = _pwd_name(uid)
    return table.get(uid)


def _read_passwd(root: Root) -> Dict[int, Optional[str]]:
    try:
        return dict(parse_passwd(read_bytes(root.etc("passwd"))))
    except (NotAvailable, AccessDenied):  # a tree without etc/passwd: no names, not an error
        return {}


def _pwd_name(uid: int) -> Optional[str]:
    import pwd  # Unix only: imported where it is needed

    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return None
