"""Cgroup paths of systemd, Docker, containerd, CRI-O, Podman and Kubernetes, named."""

import pytest

from oomutil.cgroup_names import describe, group_key

CID = "4f2a9c8e1d3b5a7f9e0c2d4b6a8f1e3c5d7b9a0f2e4c6d8b0a1f3e5c7d9b2a4c"
UID = "0f1e2d3c-1111-2222-3333-444455556666"
UID_ = UID.replace("-", "_")


@pytest.mark.parametrize(
    "path, kind, name, unit, runtime, pod, qos",
    [
        ("/", "root", "/", None, None, None, None),
        ("/system.slice/sshd.service", "service", "sshd.service", "sshd.service", None, None, None),
        ("/user.slice/user-1000.slice/session-3.scope", "scope", "session-3.scope", "session-3.scope",
         None, None, None),
        ("/user.slice/user-1000.slice/user@1000.service/app.slice/app-firefox-4242.scope", "scope",
         "app-firefox-4242.scope", "app-firefox-4242.scope", None, None, None),
        ("/user.slice", "slice", "user.slice", None, None, None, None),
        # Docker: cgroupfs and systemd drivers
        (f"/docker/{CID}", "container", f"docker {CID[:12]}", None, "docker", None, None),
        (f"/system.slice/docker-{CID}.scope", "container", f"docker {CID[:12]}",
         f"docker-{CID}.scope", "docker", None, None),
        # Podman, CRI-O and containerd outside Kubernetes
        (f"/machine.slice/libpod-{CID}.scope", "container", f"libpod {CID[:12]}",
         f"libpod-{CID}.scope", "libpod", None, None),
        (f"/system.slice/crio-{CID}.scope", "container", f"crio {CID[:12]}", f"crio-{CID}.scope",
         "crio", None, None),
        (f"/system.slice/containerd.service/default/{CID}", "container", f"container {CID[:12]}",
         "containerd.service", None, None, None),
        # Kubernetes, cgroupfs driver: three QoS classes, pod and container level
        (f"/kubepods/burstable/pod{UID}/{CID}", "container", f"pod 0f1e2d3c/{CID[:12]}", None, None,
         UID, "burstable"),
        (f"/kubepods/besteffort/pod{UID}/{CID}", "container", f"pod 0f1e2d3c/{CID[:12]}", None, None,
         UID, "besteffort"),
        (f"/kubepods/pod{UID}/{CID}", "container", f"pod 0f1e2d3c/{CID[:12]}", None, None, UID,
         "guaranteed"),
        (f"/kubepods/burstable/pod{UID}", "pod", "pod 0f1e2d3c (burstable)", None, None, UID, "burstable"),
        (f"/kubepods/pod{UID}", "pod", "pod 0f1e2d3c (guaranteed)", None, None, UID, "guaranteed"),
        # Kubernetes, systemd driver (uid with underscores), each runtime's scope
        (f"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{UID_}.slice/"
         f"cri-containerd-{CID}.scope", "container", f"pod 0f1e2d3c/{CID[:12]}",
         f"cri-containerd-{CID}.scope", "cri-containerd", UID, "burstable"),
        (f"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod{UID_}.slice/"
         f"crio-{CID}.scope", "container", f"pod 0f1e2d3c/{CID[:12]}", f"crio-{CID}.scope", "crio",
         UID, "besteffort"),
        (f"/kubepods.slice/kubepods-pod{UID_}.slice/docker-{CID}.scope", "container",
         f"pod 0f1e2d3c/{CID[:12]}", f"docker-{CID}.scope", "docker", UID, "guaranteed"),
        (f"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{UID_}.slice", "pod",
         "pod 0f1e2d3c (burstable)", None, None, UID, "burstable"),
        ("/kubepods.slice/kubepods-burstable.slice", "slice", "kubepods-burstable.slice", None, None,
         None, None),
        ("/oomutil-capture/app", "cgroup", "app", None, None, None, None),
    ],
)
def test_describe(path, kind, name, unit, runtime, pod, qos):
    n = describe(path)
    assert (n.kind, n.name, n.unit, n.runtime, n.pod_uid, n.qos) == (kind, name, unit, runtime, pod, qos)
    if kind == "container":
        assert n.container_id == CID


def test_none_and_group_keys():
    assert describe(None) is None
    path = f"/kubepods.slice/kubepods-pod{UID_}.slice/docker-{CID}.scope"
    assert group_key(path, "pod") == UID
    assert group_key(path, "container") == CID[:12]
    assert group_key(path, "unit") == f"docker-{CID}.scope"
    assert group_key("/system.slice/cron.service", "container") is None
    assert group_key(None, "unit") is None
