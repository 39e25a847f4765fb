"""What a cgroup path is: a systemd unit, a container, a Kubernetes pod.

Paths seen in /proc/PID/cgroup, by manager and driver::

    /system.slice/sshd.service                                     systemd service
    /user.slice/user-1000.slice/session-3.scope                    systemd scope
    /docker/<64 hex>                                               Docker, cgroupfs driver
    /system.slice/docker-<64 hex>.scope                            Docker, systemd driver
    /system.slice/containerd.service/<ns>/<id>  or /<ns>/<id>      containerd (no k8s)
    /machine.slice/libpod-<64 hex>.scope                           Podman, systemd manager
    /libpod_parent/libpod-<64 hex>                                 Podman, cgroupfs manager
    /kubepods/burstable/pod<uid>/<64 hex>                          Kubernetes, cgroupfs driver
    /kubepods.slice/kubepods-besteffort.slice/
        kubepods-besteffort-pod<uid with _>.slice/cri-containerd-<64 hex>.scope
                                                                   Kubernetes, systemd driver
A Guaranteed pod has no QoS level in its path (/kubepods/pod<uid>, kubepods-pod<uid>.slice).
Container runtimes prefix scopes with docker-, cri-containerd-, crio-, libpod- or conmon-.
"""

from __future__ import annotations

import re
from ._record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows the start
    from typing import Optional

# Patterns are compiled on first use (re caches them): most paths need none, and
# compiling costs more start-up time than naming every cgroup of a host.
_HEX_ID = r"[0-9a-f]{32,64}"
# pod<uid>, with "-" in the uid (cgroupfs driver) or "_" (systemd driver); a static pod's
# UID is the kubelet's hash of its manifest, 32 hex digits (pkg/kubelet/config/common.go)
_POD = r"pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12}|[0-9a-f]{32})(?:\.slice)?$"
_QOS = r"^(?:kubepods-)?(burstable|besteffort)(?:\.slice)?$"
_SCOPE_CONTAINER = rf"^(docker|cri-containerd|crio|libpod|conmon|containerd)-({_HEX_ID})(\.scope)?$"
_BARE_ID = rf"^{_HEX_ID}$"


class CgroupName(Record):
    """What a cgroup is, as far as its path tells."""

    kind: str  # "container", "pod", "service", "scope", "slice", "cgroup" or "root"
    name: str  # short and meaningful, for a table column
    unit: Optional[str] = None  # the innermost systemd service or scope on the path
    container_id: Optional[str] = None  # the full id
    runtime: Optional[str] = None  # docker, cri-containerd, crio, libpod, ... when the path says
    pod_uid: Optional[str] = None  # Kubernetes pod uid, with dashes
    qos: Optional[str] = None  # guaranteed, burstable or besteffort


def within(path: Optional[str], ancestor: str) -> bool:
    """Is the cgroup ``path`` ``ancestor`` or below it?  Whole path components: /app is not
    within /ap.  Everything is within "/"."""
    if path is None:
        return False
    top = ancestor.rstrip("/")
    return not top or path == top or path.startswith(top + "/")


def describe(path: Optional[str]) -> Optional[CgroupName]:
    """Name the cgroup at ``path`` ("/a/b/c"); None for None."""
    if path is None:
        return None
    parts = [p for p in path.split("/") if p]
    if not parts:
        return CgroupName("root", "/")
    unit = container_id = runtime = pod_uid = qos = None
    kubernetes = parts[0].startswith("kubepods")
    for i, part in enumerate(parts):
        scope = re.match(_SCOPE_CONTAINER, part) if "-" in part else None
        pod = re.search(_POD, part) if kubernetes else None
        qos_match = re.match(_QOS, part) if kubernetes else None
        if scope:  # a container's systemd scope is a unit too
            runtime, container_id = scope.group(1), scope.group(2)
            unit = part if scope.group(3) else unit
        elif pod:
            pod_uid = pod.group(1).replace("_", "-")
        elif qos_match:
            qos = qos_match.group(1)
        elif i > 0 and len(part) >= 32 and re.match(_BARE_ID, part):
            container_id = part
            runtime = parts[i - 1] if parts[i - 1] in ("docker", "crio", "libpod_parent") else runtime
        elif part.endswith((".service", ".scope")):
            unit = part
    if pod_uid:
        qos = qos or "guaranteed"  # a Guaranteed pod sits right under kubepods
    if container_id:
        short = container_id[:12]
        name = f"pod {pod_uid[:8]}/{short}" if pod_uid else f"{runtime or 'container'} {short}"
        return CgroupName("container", name, unit, container_id, runtime, pod_uid, qos)
    if pod_uid:
        return CgroupName("pod", f"pod {pod_uid[:8]} ({qos})", unit, None, None, pod_uid, qos)
    last = parts[-1]
    for suffix, kind in ((".service", "service"), (".scope", "scope"), (".slice", "slice")):
        if last.endswith(suffix):
            return CgroupName(kind, last, unit)
    return CgroupName("cgroup", last, unit)


def group_key(path: Optional[str], by: str) -> Optional[str]:
    """The group a process in cgroup ``path`` belongs to for ``top --group-by``:
    "unit" (systemd unit), "container" (id, 12 characters) or "pod" (uid)."""
    name = describe(path)
    if name is None:
        return None
    if by == "unit":
        return name.unit
    if by == "container":
        return name.container_id[:12] if name.container_id else None
    if by == "pod":
        return name.pod_uid
    raise ValueError(by)
