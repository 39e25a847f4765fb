"""workloads.py: each file format's parser, the order of trust, skipped files, the cache."""

from __future__ import annotations

import json
import os

import pytest

from oomutil.errors import ParseError
from oomutil.workloads import (EMPTY, NameCache, Names, Workload, name_kills, parse_containers_json,
                               parse_docker_config, parse_k8s_name, parse_log_link, parse_oci_config,
                               parse_pod_log_dir, read_names)

UID = "0f1e2d3c-1111-2222-3333-444455556666"
CID = "4f2a9c8e1d3b5a7f9e0c2d4b6a8f1e3c5d7b9a0f2e4c6d8b0a1f3e5c7d9b2a4c"
SANDBOX_ID = "9" * 64
SYSTEMD = (f"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{UID.replace('-', '_')}.slice/"
           f"cri-containerd-{CID}.scope")
POD_SLICE = SYSTEMD.rsplit("/", 1)[0]


def _spec(**notes) -> bytes:
    return json.dumps({"ociVersion": "1.0.2", "annotations": notes,
                       "linux": {"cgroupsPath": f"kubepods-burstable-pod{UID.replace('-', '_')}.slice:cri-containerd:{CID}"}
                       }).encode()


def test_containerd_annotations():
    # containerd 1.7+: pkg/cri/annotations (internal/cri/annotations in 2.x)
    data = _spec(**{"io.kubernetes.cri.container-type": "container", "io.kubernetes.cri.container-name": "nginx",
                    "io.kubernetes.cri.sandbox-name": "web-1", "io.kubernetes.cri.sandbox-namespace": "shop",
                    "io.kubernetes.cri.sandbox-uid": UID, "io.kubernetes.cri.sandbox-id": SANDBOX_ID})
    assert parse_oci_config(data) == ("nginx", UID, "shop", "web-1")
    sandbox = _spec(**{"io.kubernetes.cri.container-type": "sandbox", "io.kubernetes.cri.sandbox-name": "web-1",
                       "io.kubernetes.cri.sandbox-namespace": "shop", "io.kubernetes.cri.sandbox-uid": UID})
    assert parse_oci_config(sandbox) == ("POD", UID, "shop", "web-1")


def test_an_old_containerd_gives_the_uid_in_the_log_directory_or_the_cgroups_path():
    # before sandbox-uid (containerd 1.6 and older)
    logged = _spec(**{"io.kubernetes.cri.container-type": "container", "io.kubernetes.cri.container-name": "nginx",
                      "io.kubernetes.cri.sandbox-name": "web-1", "io.kubernetes.cri.sandbox-namespace": "shop",
                      "io.kubernetes.cri.sandbox-log-directory": f"/var/log/pods/shop_web-1_{UID}"})
    assert parse_oci_config(logged) == ("nginx", UID, "shop", "web-1")
    bare = _spec(**{"io.kubernetes.cri.container-type": "container", "io.kubernetes.cri.container-name": "nginx",
                    "io.kubernetes.cri.sandbox-name": "web-1", "io.kubernetes.cri.sandbox-namespace": "shop"})
    assert parse_oci_config(bare) == ("nginx", UID, "shop", "web-1")  # from linux.cgroupsPath


def test_crio_annotations_and_their_fallbacks():
    direct = _spec(**{"io.kubernetes.cri-o.ContainerType": "container", "io.kubernetes.pod.name": "web-1",
                      "io.kubernetes.pod.namespace": "shop", "io.kubernetes.pod.uid": UID,
                      "io.kubernetes.container.name": "nginx"})
    assert parse_oci_config(direct) == ("nginx", UID, "shop", "web-1")
    labels = json.dumps({"io.kubernetes.pod.name": "web-1", "io.kubernetes.pod.namespace": "shop",
                         "io.kubernetes.pod.uid": UID, "io.kubernetes.container.name": "nginx"})
    via_labels = _spec(**{"io.kubernetes.cri-o.ContainerType": "container", "io.kubernetes.cri-o.Labels": labels})
    assert parse_oci_config(via_labels) == ("nginx", UID, "shop", "web-1")
    via_name = _spec(**{"io.kubernetes.cri-o.ContainerType": "sandbox",
                        "io.kubernetes.cri-o.Name": f"k8s_POD_web-1_shop_{UID}_0"})
    assert parse_oci_config(via_name) == ("POD", UID, "shop", "web-1")


def test_bundles_that_name_nothing():
    # Podman writes io.kubernetes.cri-o.* annotations too, but no ContainerType and no pod
    podman = _spec(**{"io.container.manager": "libpod", "io.kubernetes.cri-o.Created": "2026-12-07T22:02:48Z",
                      "io.kubernetes.cri-o.TTY": "false"})
    assert parse_oci_config(podman) is None
    assert parse_oci_config(b'{"ociVersion": "1.0.2"}') is None  # Docker's bundle under containerd's moby
    assert parse_oci_config(_spec(**{"nerdctl/name": "web"})) == ("web", None, None, None)


@pytest.mark.parametrize("data", [b"", b"{", b"[1, 2]", b'{"annotations": [1]}', b"\xff\xfe", b"[" * 100000])
def test_odd_config_files_are_parse_errors(data):
    with pytest.raises(ParseError):
        parse_oci_config(data)


def test_docker_config():
    labels = {"io.kubernetes.pod.name": "web-1", "io.kubernetes.pod.namespace": "shop",
              "io.kubernetes.pod.uid": UID, "io.kubernetes.container.name": "nginx",
              "io.kubernetes.docker.type": "container"}
    k8s = {"ID": CID, "Name": f"/k8s_nginx_web-1_shop_{UID}_0", "Config": {"Labels": labels}}
    assert parse_docker_config(json.dumps(k8s).encode()) == ("nginx", UID, "shop", "web-1")
    sandbox = {**k8s, "Config": {"Labels": {**labels, "io.kubernetes.docker.type": "podsandbox",
                                            "io.kubernetes.container.name": "POD"}}}
    assert parse_docker_config(json.dumps(sandbox).encode())[0] == "POD"
    unlabelled = {"ID": CID, "Name": f"/k8s_nginx_web-1_shop_{UID}_3", "Config": {"Labels": None}}
    assert parse_docker_config(json.dumps(unlabelled).encode()) == ("nginx", UID, "shop", "web-1")
    plain = {"ID": CID, "Name": "/redis-cache", "Config": {"Labels": {}}}
    assert parse_docker_config(json.dumps(plain).encode()) == ("redis-cache", None, None, None)


def test_containers_json():
    data = json.dumps([
        {"id": CID, "names": ["webapp"], "metadata": '{"name": "webapp"}'},
        {"id": SANDBOX_ID, "names": [f"k8s_POD_web-1_shop_{UID}_0"]},
        {"id": "1" * 64, "names": []},  # no name: nothing to say
        "junk",
    ]).encode()
    assert parse_containers_json(data) == [(CID, ("webapp", None, None, None)), (SANDBOX_ID, ("POD", UID, "shop", "web-1"))]
    with pytest.raises(ParseError):
        parse_containers_json(b'{"id": "x"}')


def test_k8s_names_and_kubelet_log_names():
    assert parse_k8s_name(f"k8s_nginx_web-1_shop_{UID}_0") == ("nginx", UID, "shop", "web-1")
    assert parse_k8s_name("k8s_nginx_web-1_shop") is None and parse_k8s_name("redis") is None
    assert parse_pod_log_dir(f"shop_web-1_{UID}") == ("shop", "web-1", UID)
    assert parse_pod_log_dir(UID) is None  # before Kubernetes 1.14: the UID alone
    assert parse_pod_log_dir("shop_web-1_not-a-uid") is None
    target = f"/var/log/pods/shop_web-1_{UID}/nginx/0.log"
    assert parse_log_link(f"web-1_shop_nginx-{CID}.log", target) == (CID, ("nginx", UID, "shop", "web-1"))
    old = f"/var/log/pods/{UID}/nginx_0.log"
    assert parse_log_link(f"web-1_shop_nginx-{CID}.log", old) == (CID, ("nginx", UID, "shop", "web-1"))
    assert parse_log_link(f"web-1_shop_nginx-{CID}.log", "elsewhere") == (CID, ("nginx", None, "shop", "web-1"))
    assert parse_log_link("syslog", target) is None


def test_the_first_source_keeps_a_field_and_later_ones_fill_the_rest():
    names = Names()
    names.add(CID, ("nginx", None, "shop", "web-1"))  # an old containerd's bundle: no UID
    names.add(CID, ("nginx-stale", UID, "old-ns", "old-pod"))  # a log symlink
    assert names.containers[CID] == ("nginx", UID, "shop", "web-1")
    names.add(None, (None, UID, "other", "other"))
    assert names.pods[UID] == ("old-ns", "old-pod")  # the first whole triple named the pod
    assert names.workload(SYSTEMD) == Workload(UID, CID, "old-ns", "old-pod", "nginx")


def test_names_of_a_path():
    names = Names()
    names.add(CID, ("nginx", UID, "shop", "web-1"))
    assert names.named(SYSTEMD) == ("shop/web-1/nginx", Workload(UID, CID, "shop", "web-1", "nginx"))
    assert names.named(POD_SLICE) == ("shop/web-1 (burstable)", Workload(UID, None, "shop", "web-1", None))
    other = POD_SLICE.replace(UID.replace("-", "_"), "aaaaaaaa_1111_2222_3333_444455556666")
    assert names.named(other)[0] == "pod aaaaaaaa (burstable)"  # unknown: as the path says
    assert names.workload("/system.slice/sshd.service") == Workload(None, None, None, None, None)
    assert names.name("/system.slice/sshd.service") == "sshd.service" and names.name(None) is None
    # a container whose file names another pod than its path: the kernel's path wins
    names.add("8" * 64, ("liar", "aaaaaaaa-1111-2222-3333-444455556666", "x", "y"))
    path = f"{POD_SLICE}/cri-containerd-{'8' * 64}.scope"
    assert names.named(path) == (f"shop/web-1/{'8' * 12}", Workload(UID, "8" * 64, "shop", "web-1", None))
    podman = Names()
    podman.add(CID, ("webapp", None, None, None))
    assert podman.name(f"/machine.slice/libpod-{CID}.scope") == "podman webapp"
    assert podman.name(f"/libpod_parent/libpod-{CID}") == "podman webapp"
    assert EMPTY.named(SYSTEMD) == (f"pod 0f1e2d3c/{CID[:12]}", Workload(UID, CID, None, None, None))


def test_kills_are_named_from_their_cgroup():
    from oomutil.events.parse import OomKillEvent

    names = Names()
    names.add(CID, ("nginx", UID, "shop", "web-1"))
    kill = OomKillEvent(pid=5, comm="nginx", task_memcg=SYSTEMD, oom_memcg=POD_SLICE)
    member = OomKillEvent(pid=6, comm="sidecar", group_memcg=SYSTEMD)
    outside = OomKillEvent(pid=7, comm="sshd", task_memcg="/system.slice/sshd.service")
    named = name_kills([kill, member, outside, "not a kill"], names)
    assert [(e.namespace, e.pod, e.container) for e in named[:3]] == [("shop", "web-1", "nginx")] * 2 + [(None,) * 3]
    assert named[3] == "not a kill"
    # a log of another boot or machine: the path's UID and id only, no names
    [unnamed] = name_kills([kill])
    assert (unnamed.pod_uid, unnamed.container_id, unnamed.pod) == (UID, CID, None)


def _tree(tmp_path):
    """A root with one containerd bundle, a log symlink and a pod log directory."""
    bundle = tmp_path / "run/containerd/io.containerd.runtime.v2.task/k8s.io" / CID
    bundle.mkdir(parents=True)
    (bundle / "config.json").write_bytes(_spec(**{
        "io.kubernetes.cri.container-type": "container", "io.kubernetes.cri.container-name": "nginx",
        "io.kubernetes.cri.sandbox-name": "web-1", "io.kubernetes.cri.sandbox-namespace": "shop",
        "io.kubernetes.cri.sandbox-uid": UID}))
    logs = tmp_path / "var/log/containers"
    logs.mkdir(parents=True)
    gone = "7" * 64  # a container that exited: its bundle is gone, its log link stays
    os.symlink(f"/var/log/pods/shop_web-1_{UID}/nginx/1.log", logs / f"web-1_shop_nginx-{gone}.log")
    (tmp_path / f"var/log/pods/shop_web-1_{UID}/nginx").mkdir(parents=True)
    return bundle, gone


def test_read_names_reads_every_source_through_the_root(tmp_path):
    assert not read_names(str(tmp_path))  # a node without any of the files
    bundle, gone = _tree(tmp_path)
    names = read_names(str(tmp_path))
    assert names.containers == {CID: ("nginx", UID, "shop", "web-1"), gone: ("nginx", UID, "shop", "web-1")}
    assert names.pods == {UID: ("shop", "web-1")} and names.skipped == 0


def test_unreadable_and_odd_files_are_skipped_and_counted(tmp_path):
    bundle, _ = _tree(tmp_path)
    broken = bundle.parent / ("b" * 64)
    broken.mkdir()
    (broken / "config.json").write_text('{"annotations": {"io.kubernetes.cri.sandbox-na')
    (bundle.parent / ("c" * 64)).mkdir()  # a bundle being made: no config.json yet, no error
    docker = tmp_path / "var/lib/docker/containers" / ("d" * 64)
    docker.mkdir(parents=True)
    (docker / "config.v2.json").write_text("[]")
    names = read_names(str(tmp_path))
    assert names.skipped == 2 and "b" * 64 in names.first_skipped
    assert names.containers[CID] == ("nginx", UID, "shop", "web-1")


def test_the_cache_reads_again_only_what_changed(tmp_path):
    bundle, _ = _tree(tmp_path)
    cache = NameCache(str(tmp_path))
    first = cache.names()
    assert cache.names() is first  # nothing changed: the same names, their memo with them
    first.name(SYSTEMD)
    assert SYSTEMD in first._memo
    other = "e" * 64
    (bundle.parent / other).mkdir()
    (bundle.parent / other / "config.json").write_bytes(_spec(**{
        "io.kubernetes.cri.container-type": "container", "io.kubernetes.cri.container-name": "sidecar",
        "io.kubernetes.cri.sandbox-name": "web-1", "io.kubernetes.cri.sandbox-namespace": "shop",
        "io.kubernetes.cri.sandbox-uid": UID}))
    second = cache.names()
    assert second is not first and second.containers[other][0] == "sidecar"
    # a file rewritten in place (another size): parsed again
    (bundle / "config.json").write_bytes(_spec(**{
        "io.kubernetes.cri.container-type": "container", "io.kubernetes.cri.container-name": "nginx-2",
        "io.kubernetes.cri.sandbox-name": "web-1", "io.kubernetes.cri.sandbox-namespace": "shop",
        "io.kubernetes.cri.sandbox-uid": UID}))
    assert cache.names().containers[CID][0] == "nginx-2"
    # a broken file stays counted at every reading, from the memo too
    (bundle.parent / other / "config.json").write_text("{")
    assert cache.names().skipped == 1 and cache.names().skipped == 1
    import shutil

    shutil.rmtree(tmp_path / "run")
    gone = cache.names()
    assert CID not in gone.containers and gone.skipped == 0


def test_the_memo_of_names_is_bounded():
    names = Names()
    for i in range(20000):
        names.name(f"/system.slice/unit-{i}.service")
    assert len(names._memo) <= 16384


# -- hostile and odd files (the review of issue 25) --------------------------------------------


def _containerd(tmp_path, cid=CID, **notes):
    bundle = tmp_path / "run/containerd/io.containerd.runtime.v2.task/k8s.io" / cid
    bundle.mkdir(parents=True, exist_ok=True)
    base = {"io.kubernetes.cri.container-type": "container", "io.kubernetes.cri.container-name": "nginx",
            "io.kubernetes.cri.sandbox-name": "web-1", "io.kubernetes.cri.sandbox-namespace": "shop",
            "io.kubernetes.cri.sandbox-uid": UID}
    (bundle / "config.json").write_bytes(_spec(**{**base, **notes}))
    return bundle / "config.json"


def _both(tmp_path):
    """read_names() and a NameCache's first reading, which must agree."""
    return read_names(str(tmp_path)), NameCache(str(tmp_path)).names()


def test_a_fifo_is_skipped_not_waited_on(tmp_path):
    import subprocess
    import sys

    config = _containerd(tmp_path)
    config.unlink()
    os.mkfifo(config)
    store = tmp_path / "var/lib/containers/storage/overlay-containers"
    store.mkdir(parents=True)
    os.mkfifo(store / "containers.json")
    code = ("import oomutil, sys; a = oomutil.read_names(sys.argv[1]); b = oomutil.NameCache(sys.argv[1]).names();"
            "print(a.skipped, b.skipped)")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=30)
    assert out.stdout.split() == ["2", "2"], out.stderr


def test_nothing_outside_the_root_is_read(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "config.json").write_bytes(_spec(**{
        "io.kubernetes.cri.container-type": "container", "io.kubernetes.cri.container-name": "secret",
        "io.kubernetes.cri.sandbox-name": "web-1", "io.kubernetes.cri.sandbox-namespace": "shop",
        "io.kubernetes.cri.sandbox-uid": UID}))
    root = tmp_path / "root"
    config = _containerd(root)
    config.unlink()
    config.symlink_to(outside / "config.json")  # a file that is a link: never followed
    other = root / "run/containerd/io.containerd.runtime.v2.task/k8s.io" / ("e" * 64)
    other.symlink_to(outside)  # a directory that leaves the root: not read below
    (outside / f"evil_pwned_{UID}").mkdir()
    (root / "var/log").mkdir(parents=True)
    (root / "var/log/pods").symlink_to(outside)  # absolute: the host's, not this tree's
    for names in _both(root):
        assert names.containers == {} and names.pods == {}
        assert names.skipped == 3, names.first_skipped


def test_names_that_are_no_names_are_odd_files(tmp_path):
    _containerd(tmp_path, **{"io.kubernetes.cri.container-name": "ng\u202ex"})  # a bidi override
    _containerd(tmp_path, "f" * 64, **{"io.kubernetes.cri.container-name": "\x1b[31mred"})
    _containerd(tmp_path, "a" * 64, **{"io.kubernetes.cri.sandbox-uid": "not-a-uid"})
    crio = tmp_path / "var/lib/containers/storage/overlay-containers" / ("b" * 64) / "userdata"
    crio.mkdir(parents=True)
    (crio / "config.json").write_text(json.dumps({"annotations": {
        "io.kubernetes.cri-o.ContainerType": "container", "io.kubernetes.cri-o.Labels": '{"x": "\ud800"}\ud800',
        "io.kubernetes.pod.name": "web-1", "io.kubernetes.pod.namespace": "shop", "io.kubernetes.pod.uid": UID,
        "io.kubernetes.container.name": "ng\udc80x"}}))
    logs = tmp_path / "var/log/containers"
    logs.mkdir(parents=True)
    os.symlink(f"/var/log/pods/shop_web-1_{UID}/c/0.log", os.fsencode(logs) + b"/web-1_shop_ng\xffx-" +
               b"c" * 64 + b".log")
    for names in _both(tmp_path):
        assert names.containers == {} and names.skipped == 4
    # a lone surrogate in cri-o.Labels alone: the labels are passed over, the annotations read
    labelled = json.dumps({"annotations": {"io.kubernetes.cri-o.ContainerType": "container",
                                           "io.kubernetes.cri-o.Labels": '{"x": "\ud800"}\ud800',
                                           "io.kubernetes.pod.name": "web-1", "io.kubernetes.pod.namespace": "shop",
                                           "io.kubernetes.pod.uid": UID, "io.kubernetes.container.name": "nginx"}})
    assert parse_oci_config(labelled.encode()) == ("nginx", UID, "shop", "web-1")


def test_a_file_too_large_is_skipped_unread(tmp_path):
    config = _containerd(tmp_path)
    with open(config, "r+b") as f:
        f.truncate(2 << 20)  # sparse: 2 MiB of which nothing is read
    for names in _both(tmp_path):
        assert names.containers == {} and "larger than" in names.first_skipped


def test_odd_entries_count_alike_with_and_without_the_cache(tmp_path):
    _containerd(tmp_path)
    (tmp_path / "run/containerd/io.containerd.runtime.v2.task/k8s.io" / ("0" * 64)).write_text("a file")
    logs = tmp_path / "var/log/containers"
    logs.mkdir(parents=True)
    (logs / "notalink.log").write_text("")
    plain, cached = _both(tmp_path)
    assert plain.skipped == cached.skipped == 0 and plain.containers == cached.containers


def test_a_static_pods_uid_is_its_manifests_hash():
    uid = "7b3c9a1f0e2d4c5b6a7980112233aabb"  # 32 hex digits: pkg/kubelet/config/common.go
    assert parse_pod_log_dir(f"kube-system_kube-apiserver-node1_{uid}") == ("kube-system", "kube-apiserver-node1", uid)
    names = Names()
    names.add(None, (None, uid, "kube-system", "kube-apiserver-node1"))
    path = f"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{uid}.slice"
    assert names.name(path) == "kube-system/kube-apiserver-node1 (burstable)"
