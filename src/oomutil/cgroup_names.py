"""What a cgroup path is: a systemd unit, a container, a Kubernetes pod.

Paths seen in /proc/PID/cgroup, by manager and driver::

    /system.slice/sshd.service                                     systemd service
    /user.slice/user-1000.slice/session-3.scope                    systemd scope
    /docker/<64 hex>                                               Docker, cgroupfs driver
    /system.slice/docker-<64 hex>.scope                            Docker, systemd driver
    /system.slice/containerd.service/<ns>/<id>  or /<ns>/<id>      containerd (no k8s)
    /machine.slice/libpod-<64 hex>.scope                           Podman
    /kubepods/burstable/pod<uid>/<64 hex>                          Kubernetes, cgroupfs driver
    /kubepods.slice/kubepods-besteffort.slice/
        kubepods-besteffort-pod<uid with _>.slice/cri-containerd-<64 hex>.scope
                                                                   Kubernetes, systemd driver
A Guaranteed pod has no QoS level in its path (/kubepods/pod<uid>, kubepods-pod<uid>.slice).
Container runtimes prefix scopes with docker-, cri-containerd-, crio-, libpod- or conmon-.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows the start
    from typing import Optional

_HEX_ID = r"[0-9a-f]{32,64}"
# pod<uid>, with "-" in the uid (cgroupfs driver) or "_" (systemd driver)
_POD = re.compile(r"pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})(?:\.slice)?$")
_QOS = re.compile(r"^(?:kubepods-)?(burstable|besteffort)(?:\.slice)?$")
_SCOPE_CONTAINER = re.compile(rf"^(docker|cri-containerd|crio|libpod|conmon|containerd)-({_HEX_ID})\.scope$")
_BARE_ID = re.compile(rf"^{_HEX_ID}$")


@dataclass(frozen=True)
class CgroupName:
    """What a cgroup is, as far as its path tells."""

    kind: str  # "container", "pod", "service", "scope", "slice", "cgroup" or "root"
    name: str  # short and meaningful, for a table column
    unit: Optional[str] = None  # the innermost systemd service or scope on the path
    container_id: Optional[str] = None  # the full id
    runtime: Optional[str] = None  # docker, cri-containerd, crio, libpod, ... when the path says
    pod_uid: Optional[str] = None  # Kubernetes pod uid, with dashes
    qos: Optional[str] = None  # guaranteed, burstable or besteffort


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
        scope = _SCOPE_CONTAINER.match(part)
        pod = _POD.search(part) if kubernetes else None
        if scope:  # a container's systemd scope is a unit too
            runtime, container_id, unit = scope.group(1), scope.group(2), part
        elif pod:
            pod_uid = pod.group(1).replace("_", "-")
        elif kubernetes and _QOS.match(part):
            qos = _QOS.match(part).group(1)  # type: ignore[union-attr]
        elif _BARE_ID.match(part) and i > 0:
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
