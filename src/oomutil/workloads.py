"""Names of pods and containers, from files every node already has: no API, no socket.

A cgroup path names a Kubernetes pod by its UID and a container by its id (cgroup_names).
This feature finds the names behind them in the runtimes' and the kubelet's own files, all
read through the Root (``--root /host`` works from a DaemonSet), in this order of trust:

1. containerd's task bundles, ``run/containerd/io.containerd.runtime.v2.task/<ns>/<id>/
   config.json`` (``io.containerd.runtime.v1.linux``: the v1 shim of containerd 1.x): the
   OCI spec's annotations of the CRI plugin (``io.kubernetes.cri.sandbox-name``,
   ``-namespace`` (1.5+), ``-uid`` (1.7+; older ones give the UID only in ``-log-directory``),
   ``container-name``, ``container-type`` sandbox for the pause container); nerdctl's
   ``nerdctl/name`` outside Kubernetes.
2. CRI-O's container directories ``{var/lib,run}/containers/storage/<driver>-containers/<id>/
   userdata/config.json``: annotations ``io.kubernetes.pod.name``, ``.pod.namespace``,
   ``.pod.uid``, ``.container.name`` (``io.kubernetes.cri-o.Labels`` holds them too).
   Podman's config.json there names nothing and is passed over.
3. Docker's ``var/lib/docker/containers/<id>/config.v2.json``: ``Name``, and the
   ``io.kubernetes.*`` labels cri-dockerd (dockershim before it) puts on a pod's containers.
4. containers/storage's ``<driver>-containers/containers.json`` (and ``volatile-containers.json``)
   of Podman and CRI-O: each container's ``names``; CRI-O's and dockershim's read
   ``k8s_<container>_<pod>_<namespace>_<uid>_<attempt>``.
5. The kubelet's ``var/log/containers/<pod>_<namespace>_<container>-<id>.log`` symlinks,
   whose target names the pod's log directory (and so its UID).
6. The kubelet's ``var/log/pods/<namespace>_<pod>_<uid>/`` directories (``<uid>/`` alone
   before Kubernetes 1.14: no names).

A runtime's files describe what it runs now; the log names are the kubelet's, made once and
kept after a container exits (until it is garbage-collected).  So where both name an id, the
runtime wins, field by field; the logs fill what the runtimes lack: a container that exited
(its bundle is gone, its log symlink stays), a runtime directory this user cannot read.
Kubernetes names cannot hold "_" (DNS labels and subdomains), which is what makes the log
names and ``k8s_`` names splittable.

A file that is not there is no error (containers come and go between a listing and a
read); one that cannot be read or makes no sense is skipped and counted (``Names.skipped``).
Nothing here ever raises for what it finds on disk.
"""

from __future__ import annotations

import errno
import os
import re

from . import _fs
from ._record import Record
from .cgroup_names import describe
from .errors import NotAvailable, OomutilError, ParseError
from .root import as_root

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows the start
    from typing import Any, Dict, Iterable, List, Optional, Tuple, TypeVar, Union

    from .root import Root

    Entry = Tuple[Optional[str], Optional[str], Optional[str], Optional[str]]  # container, uid, ns, pod
    T = TypeVar("T")

__all__ = ["Workload", "Names", "NameCache", "read_names", "name_kills", "parse_oci_config", "parse_docker_config",
           "parse_containers_json", "parse_k8s_name", "parse_log_link", "parse_pod_log_dir"]

SANDBOX = "POD"  # the pause container's name: kubelet's PodInfraContainerName, as cAdvisor labelled it
# A pod's UID: an RFC 4122 UUID (the API server's), or for a static pod the kubelet's hash
# of its manifest, 32 hex digits (pkg/kubelet/config/common.go, md5).
_UID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32}"
# A Kubernetes name: a DNS label (namespace, container) or subdomain (pod), RFC 1123.
_K8S_NAME = r"[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?"
# Any name taken from a file: a Kubernetes name, or Docker's and Podman's container names
# ([a-zA-Z0-9][a-zA-Z0-9_.-]*).  Anything else (a control character, a "/", bytes that are
# not UTF-8) is no name: it would reach a terminal or a label as it is.
_NAME = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,252}"
_MAX_CONFIG = 1 << 20  # a config.json: 10 to 30 KB in practice
_MAX_LIST = 16 << 20  # a containers.json: about 1 KB a container
_RUNTIMES = {"libpod": "podman", "cri-containerd": "containerd", "crio": "cri-o"}  # a path's prefix, as users say it


class Workload(Record):
    """Whose a cgroup is: the pod UID and container id its path gives, and the names the
    node's files give them (None where no file names them)."""

    pod_uid: Optional[str]
    container_id: Optional[str]
    namespace: Optional[str]
    pod: Optional[str]
    container: Optional[str]


NO_WORKLOAD = Workload(None, None, None, None, None)


class Names:
    """The names found on a node: ``pods`` (UID -> (namespace, pod)) and ``containers``
    (id -> (container, pod UID, namespace, pod), each None where unknown); ``skipped``:
    files that could not be read or made no sense, ``first_skipped`` the first ("path: why")."""

    __slots__ = ("pods", "containers", "skipped", "first_skipped", "_memo")

    def __init__(self) -> None:
        self.pods: Dict[str, Tuple[str, str]] = {}
        self.containers: Dict[str, Entry] = {}
        self.skipped = 0
        self.first_skipped: Optional[str] = None
        self._memo: Dict[Optional[str], Tuple[str, Workload]] = {}  # path -> (name, workload)

    def add(self, container_id: Optional[str], entry: Optional[Entry]) -> None:
        """Take what one file says.  The first source to name a field keeps it (sources are
        read in their order of trust); later ones fill only what is still unknown."""
        if entry is None:
            return
        container, uid, namespace, pod = entry
        if uid and namespace and pod:
            self.pods.setdefault(uid, (namespace, pod))
        if container_id and any(entry):
            old = self.containers.get(container_id)
            self.containers[container_id] = entry if old is None else tuple(  # type: ignore[assignment]
                mine if mine is not None else theirs for mine, theirs in zip(old, entry))

    def skip(self, path: str, why: str) -> None:
        self.skipped += 1
        if self.first_skipped is None:
            self.first_skipped = f"{path}: {why}"

    def __bool__(self) -> bool:
        return bool(self.pods or self.containers)

    def workload(self, path: Optional[str]) -> Workload:
        """Whose the cgroup at ``path`` is; NO_WORKLOAD (all None) for a cgroup of no pod
        or container."""
        return self.named(path)[1]

    def name(self, path: Optional[str]) -> Optional[str]:
        """A short name for a column: "shop/web-7d9f8-abcde/nginx" (a pod's container),
        "shop/web-7d9f8-abcde (burstable)" (a pod), "docker redis-cache" (a named
        container); cgroup_names.describe()'s name where nothing names it; None for None."""
        return self.named(path)[0] if path is not None else None

    def named(self, path: Optional[str]) -> Tuple[str, Workload]:
        """(name(path), workload(path)) at once."""
        # memoised: the exporter names the same 1,000 cgroups at every scrape, and a
        # NameCache hands back the same Names while no file changed
        found = self._memo.get(path)
        if found is None:
            if len(self._memo) >= 16384:  # cgroups come and go for as long as an exporter runs
                self._memo.clear()
            found = self._memo[path] = self._name_of(path)
        return found

    def _name_of(self, path: Optional[str]) -> Tuple[str, Workload]:
        d = describe(path)
        if d is None:
            return "", NO_WORKLOAD
        if not (d.pod_uid or d.container_id):
            return d.name, NO_WORKLOAD
        entry = self.containers.get(d.container_id) if d.container_id else None
        if entry is not None and d.pod_uid and entry[1] and entry[1] != d.pod_uid:
            entry = None  # a file at odds with the kernel's path: the path is the truth
        uid = d.pod_uid or (entry[1] if entry else None)
        namespace, pod = self.pods.get(uid, (None, None)) if uid else (None, None)
        if namespace is None and entry is not None:
            namespace, pod = entry[2], entry[3]
        container = entry[0] if entry is not None else None
        work = Workload(uid, d.container_id, namespace, pod, container)
        return shown_name(path, work), work


def shown_name(path: Optional[str], work: Workload) -> str:
    """The name of the cgroup at ``path`` whose workload is ``work``: "shop/web-7d9f8-abcde/
    nginx" (a pod's container; its id where the container is not named), "shop/web-7d9f8-
    abcde (burstable)" (a pod), "docker redis-cache" (a named container outside pods),
    cgroup_names.describe()'s name where nothing names it."""
    d = describe(path)
    if d is None:
        return ""
    if work.namespace and work.pod:
        if d.kind == "container":
            return f"{work.namespace}/{work.pod}/{work.container or (d.container_id or '')[:12]}"
        return f"{work.namespace}/{work.pod} ({d.qos})"
    if work.container and not work.pod_uid:
        return f"{_RUNTIMES.get(d.runtime or '', d.runtime or 'container')} {work.container}"
    return d.name


EMPTY = Names()  # what a node without any of the files has


# -- the pure parsers: one per kind of file ---------------------------------------------------


def _json(data: bytes) -> Any:
    import json  # only where a runtime's file exists: a node without any pays nothing

    try:
        return json.loads(data)
    except ValueError as err:  # JSONDecodeError and UnicodeDecodeError alike
        raise ParseError(f"not JSON ({err})") from None
    except RecursionError:  # nested deeper than the interpreter's stack
        raise ParseError("not JSON (nested too deep)") from None


def _object(value: Any, what: str) -> Dict[str, Any]:
    if not isinstance(value, dict):
        raise ParseError(f"{what} is not a JSON object")
    return value


def _text(value: Any, pattern: str = _NAME) -> Optional[str]:
    """A name as a file gives it; None where there is none (absent, empty, not a string).
    ParseError for a string that is no name (``pattern``): the file is odd."""
    if not isinstance(value, str) or not value:
        return None
    if not re.fullmatch(pattern, value):
        raise ParseError(f"not a name: {value[:80]!r}")
    return value


def parse_k8s_name(name: str) -> Optional[Entry]:
    """``k8s_<container>_<pod>_<namespace>_<uid>_<attempt>``, the name dockershim (and
    cri-dockerd) gives a pod's Docker containers and CRI-O its containers in storage
    (``k8s_POD_...`` for the pause container); None for any other name."""
    parts = name.lstrip("/").split("_")
    if (len(parts) != 6 or parts[0] != "k8s" or not re.fullmatch(_UID, parts[4])
            or not all(re.fullmatch(_K8S_NAME, p) for p in (parts[2], parts[3]))
            or not (parts[1] == SANDBOX or re.fullmatch(_K8S_NAME, parts[1]))):
        return None
    return parts[1], parts[4], parts[3], parts[2]


def parse_pod_log_dir(name: str) -> Optional[Tuple[str, str, str]]:
    """(namespace, pod, uid) of a kubelet pod log directory, ``<namespace>_<pod>_<uid>``
    (Kubernetes 1.14+, kuberuntime BuildPodLogsDirectory); None for any other name (before
    1.14 the directory was the bare UID, which names no pod)."""
    match = re.fullmatch(rf"({_K8S_NAME})_({_K8S_NAME})_({_UID})", name)
    return match.groups() if match else None  # type: ignore[return-value]


def parse_log_link(name: str, target: str) -> Optional[Tuple[str, Entry]]:
    """(container id, entry) of a kubelet symlink ``<pod>_<namespace>_<container>-<id>.log``
    in /var/log/containers; ``target`` (where it points) gives the pod's UID: its log
    directory, ``/var/log/pods/<ns>_<pod>_<uid>/<container>/N.log`` (1.14+) or
    ``/var/log/pods/<uid>/<container>_N.log`` (before).  None for any other name."""
    match = re.fullmatch(rf"({_K8S_NAME})_({_K8S_NAME})_({_K8S_NAME})-([0-9a-f]{{64}})\.log", name)
    if match is None:
        return None
    pod, namespace, container, cid = match.groups()
    uid = None
    for part in target.split("/"):
        found = parse_pod_log_dir(part)
        if found is not None:
            uid = found[2]
            break
        if re.fullmatch(f"(?:{_UID})", part):
            uid = part
            break
    return cid, (container, uid, namespace, pod)


def parse_oci_config(data: bytes) -> Optional[Entry]:
    """What an OCI runtime spec (a containerd task bundle's or a CRI-O container's
    config.json) says of its container, from the annotations the CRI implementations write;
    None where they name nothing (Docker's and Podman's bundles).  ParseError for a file
    that is not a JSON object."""
    spec = _object(_json(data), "config.json")
    notes = spec.get("annotations") or {}
    if not isinstance(notes, dict):
        raise ParseError("its annotations are not a JSON object")
    kind = notes.get("io.kubernetes.cri.container-type")
    if kind is not None or "io.kubernetes.cri.sandbox-namespace" in notes:
        # containerd's CRI plugin (pkg/cri/annotations, internal/cri/annotations in 2.x)
        uid = _text(notes.get("io.kubernetes.cri.sandbox-uid"), _UID)  # containerd 1.7+
        if uid is None:
            found = parse_pod_log_dir(os.path.basename(str(notes.get("io.kubernetes.cri.sandbox-log-directory") or "")))
            uid = found[2] if found else _uid_in(spec)
        container = SANDBOX if kind == "sandbox" else _text(notes.get("io.kubernetes.cri.container-name"))
        return (container, uid, _text(notes.get("io.kubernetes.cri.sandbox-namespace")),
                _text(notes.get("io.kubernetes.cri.sandbox-name")))
    if "io.kubernetes.cri-o.ContainerType" in notes or "io.kubernetes.pod.name" in notes:
        # CRI-O (pkg/annotations; the kubelet's labels also sit JSON-encoded in cri-o.Labels)
        labels: Dict[str, Any] = {}
        if isinstance(notes.get("io.kubernetes.cri-o.Labels"), str):
            try:
                labels = _object(_json(notes["io.kubernetes.cri-o.Labels"].encode()), "cri-o.Labels")
            except (ParseError, UnicodeError):  # not JSON, or a lone surrogate ("\udc80") in it
                labels = {}

        def get(key: str) -> Optional[str]:
            pattern = _UID if key.endswith(".uid") else _NAME
            return _text(notes.get(key), pattern) or _text(labels.get(key), pattern)

        sandbox = notes.get("io.kubernetes.cri-o.ContainerType") == "sandbox"
        entry = (SANDBOX if sandbox else get("io.kubernetes.container.name"), get("io.kubernetes.pod.uid"),
                 get("io.kubernetes.pod.namespace"), get("io.kubernetes.pod.name"))
        if not all(entry):  # its storage name: k8s_<container>_<pod>_<namespace>_<uid>_<attempt>
            named = parse_k8s_name(str(notes.get("io.kubernetes.cri-o.Name") or ""))
            if named is not None:
                entry = tuple(a or b for a, b in zip(entry, named))  # type: ignore[assignment]
        return entry
    name = _text(notes.get("nerdctl/name"))  # nerdctl on containerd, outside Kubernetes
    return (name, None, None, None) if name else None


def _uid_in(spec: Dict[str, Any]) -> Optional[str]:
    """The pod UID in the spec's linux.cgroupsPath ("kubepods-burstable-pod<uid_>.slice:
    cri-containerd:<id>" or "/kubepods/burstable/pod<uid>/<id>")."""
    linux = spec.get("linux")
    path = linux.get("cgroupsPath") if isinstance(linux, dict) else None
    match = re.search(r"pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12}|[0-9a-f]{32})"
                      r"(?![0-9a-f])", path if isinstance(path, str) else "")
    return match.group(1).replace("_", "-") if match else None


def parse_docker_config(data: bytes) -> Optional[Entry]:
    """What Docker's config.v2.json says of its container: the io.kubernetes.* labels of a
    pod's container (cri-dockerd, dockershim), its ``k8s_`` name, or its own name."""
    config = _object(_json(data), "config.v2.json")
    inner = config.get("Config")
    labels = inner.get("Labels") if isinstance(inner, dict) else None
    labels = labels if isinstance(labels, dict) else {}
    name = config.get("Name")
    name = name.lstrip("/") if isinstance(name, str) else None  # Docker's names begin with "/"
    if "io.kubernetes.pod.name" in labels:
        sandbox = labels.get("io.kubernetes.docker.type") == "podsandbox"
        return (SANDBOX if sandbox else _text(labels.get("io.kubernetes.container.name")),
                _text(labels.get("io.kubernetes.pod.uid"), _UID), _text(labels.get("io.kubernetes.pod.namespace")),
                _text(labels.get("io.kubernetes.pod.name")))
    if not name:
        return None
    return parse_k8s_name(name) or (_text(name), None, None, None)


def parse_containers_json(data: bytes) -> List[Tuple[str, Entry]]:
    """(id, entry) of each container of a containers/storage containers.json: its first
    name, read as a ``k8s_`` name where it is one (CRI-O's), else as a Podman name."""
    found = []
    listed = _json(data)
    if not isinstance(listed, list):
        raise ParseError("containers.json is not a JSON list")
    for item in listed:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            continue
        names = item.get("names")
        first = names[0] if isinstance(names, list) and names else None
        if isinstance(first, str) and re.fullmatch(_NAME, first):  # else no name: the others stand
            found.append((item["id"], parse_k8s_name(first) or (first, None, None, None)))
    return found


# -- reading them --------------------------------------------------------------------------


class _Reader:
    """The files of one reading, through _fs; with ``memo`` (a NameCache's), a file is
    parsed again only when its (mtime, size, inode) changed, a directory listed again only
    when its (mtime, inode) did, a link read again only when it was made anew.

    Nothing outside the root is read: a file that is a symbolic link is refused
    (_fs.read_regular), and below a root other than "/" a directory whose real path leaves
    the root (an absolute link of the host, a link of a tree) is not listed."""

    def __init__(self, root: Root, names: Names, memo: Optional[Dict[str, Any]]) -> None:
        self.names, self.memo = names, memo
        self.top = None if root.is_live else os.path.realpath(root.path)
        self.used: Dict[str, Any] = {}  # key -> (stamp, value, why skipped): this reading's
        self.changed = False

    def _outside(self, directory: str) -> bool:
        if self.top is None:
            return False
        real = os.path.realpath(directory)
        return real != self.top and not real.startswith(self.top.rstrip("/") + "/")

    def _get(self, kind: str, path: str, make) -> Any:
        """make() -> (value, why skipped or None), or its memo while ``path`` is unchanged;
        None where ``path`` is not there."""
        stamp: Tuple[int, ...] = ()
        if self.memo is not None:
            try:
                st = os.stat(path) if kind == "d" else os.lstat(path)
            except (FileNotFoundError, NotADirectoryError):
                return None
            except OSError as err:
                self.names.skip(path, os.strerror(err.errno or 0))
                return None
            stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        key = kind + path
        old = self.memo.get(key) if self.memo is not None else None
        if old is None or old[0] != stamp:
            old = (stamp, *make())
            self.changed = True
        self.used[key] = old
        if old[2] is not None:  # counted at every reading, from the memo too
            self.names.skip(path, old[2])
        return old[1]

    def listdir(self, path: str) -> List[str]:
        def make() -> Tuple[List[str], Optional[str]]:
            if os.path.isdir(path) and self._outside(path):
                return [], "a symbolic link out of the root (not followed)"
            try:
                return sorted(_fs.list_dir(path)), None
            except NotAvailable:
                return [], None  # not there, or not a directory: nothing to name
            except OomutilError as err:
                return [], err.msg

        return self._get("d", path, make) or []

    def parsed(self, path: str, parse, limit: int = _MAX_CONFIG) -> Any:
        """parse(the file's bytes); None where it is not there, cannot be read or makes no
        sense (those two counted)."""
        def make() -> Tuple[Any, Optional[str]]:
            if self._outside(os.path.dirname(path)):
                return None, "in a directory out of the root (not followed)"
            try:
                data = _fs.read_regular(path, limit)
                return parse(data), None
            except NotAvailable:
                return None, None
            except OomutilError as err:
                return None, err.msg

        return self._get("f", path, make)

    def readlink(self, path: str) -> Optional[str]:
        def make() -> Tuple[Optional[str], Optional[str]]:
            try:
                return os.readlink(path), None
            except OSError as err:
                if err.errno in (errno.ENOENT, errno.EINVAL):  # gone, or no link: not the kubelet's
                    return None, None
                return None, os.strerror(err.errno or 0)

        return self._get("l", path, make)


def _read(root: Root, memo: Optional[Dict[str, Any]]) -> Tuple[Names, _Reader]:
    names = Names()
    r = _Reader(root, names, memo)
    join = os.path.join
    # 1. containerd's task bundles, every containerd namespace (k8s.io: the kubelet's)
    for shim in ("io.containerd.runtime.v2.task", "io.containerd.runtime.v1.linux"):
        top = root.file("run", "containerd", shim)
        for namespace in r.listdir(top):
            for cid in r.listdir(join(top, namespace)):
                names.add(cid, r.parsed(join(top, namespace, cid, "config.json"), parse_oci_config))
    # 2. CRI-O's containers (and Podman's, which name nothing there)
    stores = [os.path.join(store, kind)
              for store in (root.file("var", "lib", "containers", "storage"), root.file("run", "containers", "storage"))
              for kind in r.listdir(store) if kind.endswith("-containers")]  # overlay-containers, vfs-, ...
    for store in stores:
        for cid in r.listdir(store):
            if re.fullmatch(r"[0-9a-f]{64}", cid):
                names.add(cid, r.parsed(join(store, cid, "userdata", "config.json"), parse_oci_config))
    # 3. Docker's
    top = root.file("var", "lib", "docker", "containers")
    for cid in r.listdir(top):
        names.add(cid, r.parsed(join(top, cid, "config.v2.json"), parse_docker_config))
    # 4. containers/storage's lists of containers (Podman, CRI-O)
    for store in stores:
        for listed in ("containers.json", "volatile-containers.json"):
            for cid, entry in r.parsed(join(store, listed), parse_containers_json, _MAX_LIST) or ():
                names.add(cid, entry)
    # 5. the kubelet's container log symlinks, 6. its pod log directories
    top = root.file("var", "log", "containers")
    for link in r.listdir(top):
        target = r.readlink(join(top, link))
        found = parse_log_link(link, target) if target is not None else None
        if found is not None:
            names.add(*found)
    for directory in r.listdir(root.file("var", "log", "pods")):
        found_pod = parse_pod_log_dir(directory)
        if found_pod is not None:
            namespace, pod, uid = found_pod
            names.add(None, (None, uid, namespace, pod))
    return names, r


def read_names(root: Union[Root, str, None] = None) -> Names:
    """The pod and container names of the node at ``root`` (docs/kubernetes.md): an empty
    Names, at the cost of a few failed stat() calls, where it runs none."""
    return _read(as_root(root), None)[0]


def name_kills(events: Iterable[T], names: Names = EMPTY) -> List[T]:
    """The kills of ``events`` (OomKillEvent; anything else passes as is) with whose their
    victim's cgroup is: its own (``task_memcg``) or, for a member of a group kill, the
    group's.  ``names``: read_names() of the machine whose log it is, for this boot's log;
    EMPTY (the pod UID and container id of the path alone) for a log of another boot or
    machine, whose names are unknown rather than looked up in what runs here now
    (docs/kubernetes.md)."""
    named = []
    for e in events:
        path = getattr(e, "task_memcg", None) or getattr(e, "group_memcg", None)
        if path is not None and "pod_uid" in e._fields:  # type: ignore[attr-defined]
            e = e._replace(**names.workload(path)._asdict())  # type: ignore[attr-defined]
        named.append(e)
    return named


class NameCache:
    """read_names() for the exporter: called at every scrape, it parses again only the
    files that changed, and gives back the same Names (its names memoised) while none did."""

    def __init__(self, root: Union[Root, str, None] = None) -> None:
        self.root = as_root(root)
        self._memo: Dict[str, Any] = {}
        self._names: Optional[Names] = None

    def names(self) -> Names:
        names, reader = _read(self.root, self._memo)
        if self._names is not None and not reader.changed and reader.used.keys() == self._memo.keys():
            return self._names  # nothing changed: the same names, and what they memoised
        self._memo = reader.used  # forgets what is gone
        self._names = names
        return names
