"""The page size of the kernel behind a root: the unit of every page count oomutil reads.

Live (or a host's /proc mounted elsewhere), the running kernel's (sysconf); a captured
tree says it in its MANIFEST ("page size: 4096"); else 4096, x86-64's.
"""

from __future__ import annotations

import os

from .._fs import none_if_unreadable, read_parsed
from ..root import Root


def parse_manifest_page_size(data: bytes) -> int:
    """The "page size:" line of a tree's MANIFEST; 0 where it has none."""
    for line in data.decode("utf-8", "replace").splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "page size" and value.strip().isdigit():
            return int(value)
    return 0


def read_page_size(root: Root) -> int:
    manifest = root.manifest()
    if root.is_live or (not os.path.exists(manifest) and os.path.ismount(root.proc())):
        return os.sysconf("SC_PAGE_SIZE")  # the running kernel (a host's /proc at /host/proc)
    return none_if_unreadable(read_parsed, manifest, parse_manifest_page_size) or 4096
