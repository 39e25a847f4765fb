"""Boot Debian's 6.1 cloud kernel under QEMU with a tiny initramfs and run a scenario in it.

The VM gives the tests what this host lacks: cgroup v2 with the memory controller, a
second kernel (6.1, before the 6.2 per-CPU counter change) and real OOM kills in it.
Stdlib only (Python 3.9+), so any interpreter running pytest can drive it.

    kernel()      -> Kernel(vmlinuz, modules_dir, release): Debian's newest
                     linux-image-6.1.*-cloud-amd64, fetched with ``apt-get download`` and
                     extracted with ``dpkg -x`` into the cache once; later calls reuse the
                     cached one (OOMUTIL_VM_REFRESH=1: ask apt for a newer one).
    initramfs()   -> path of a gzip'd newc cpio (written here, no cpio tool needed):
                     busybox-static, the host's Debian /usr/bin/python3 with the libraries
                     ldd names and most of its standard library, kernel modules (with their
                     dependencies), then an overlay with /init, the checkout's src/oomutil
                     and the scenario directory.
    boot()        -> BootResult(data, console, seconds): runs QEMU (TCG), captures the serial
                     console, returns the JSON the scenario printed between the markers;
                     ``nodes=2`` splits the VM's RAM and CPUs into two NUMA nodes (the
                     zone_constrained reports of scenario_11_numa, in a boot of their own).

Failures: ``Unavailable`` (a tool or the kernel package cannot be had: tests skip with
the reason) and ``VmFailed`` (no JSON came back: timeout, crash, kernel panic; the message
holds the console's last lines, i.e. the scenario's traceback and the kernel's last words).

Inside: /init (busybox sh) mounts proc, sysfs, devtmpfs and cgroup2, enables +memory +pids
+cpu +io for the children of the root cgroup, insmods /modules/*.ko in dependency order,
runs ``python3 /scenarios/ENTRY`` (PYTHONPATH=/oomutil-src) on the console, prints an
EXIT marker with its status and powers off.  Kernel messages of level err and above reach
the console too ("quiet"); a scenario reads everything from /dev/kmsg.

Cache (``$OOMUTIL_VM_CACHE`` or ``${XDG_CACHE_HOME:-~/.cache}/oomutil-vm``)::

    kernel/<package>_<version>/   dpkg -x of the package, plus a KERNEL stamp (release)
    kernel/<package>_<version>/modinfo.json   name -> file, depends, softdeps, aliases
    initrd/base-<hash>.cpio.gz    python, stdlib, busybox, modules; the hash covers this
                                  file, the kernel, the module list and the name, size and
                                  mtime of every host file in it
    initrd/initrd-<hash>.img      base + overlay (init, src/oomutil, scenarios), by content
    console/<time>-<pid>.log      console of each boot (the newest few are kept)

Environment: OOMUTIL_VM_CACHE, OOMUTIL_VM_TIMEOUT (seconds, default 240),
OOMUTIL_VM_ACCEL (default tcg), OOMUTIL_VM_REFRESH=1.

Run by hand: ``/usr/bin/python3 tests/vm/vm.py [SCENARIO_DIR]`` boots once and prints
the JSON and the timings; ``vm.py --capture tests/fixtures`` (re)makes the committed
capture of this v2 host, tests/fixtures/x86_64-cgroup2-linux6.1.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import shlex
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from typing import Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKOUT = os.path.dirname(os.path.dirname(HERE))
SRC_PACKAGE = os.path.join(CHECKOUT, "src", "oomutil")
SCENARIOS = os.path.join(HERE, "scenarios")
CAPTURE_TOOL = os.path.join(CHECKOUT, "tools", "capture-fixture")
KERNEL_LOG = os.path.join(CHECKOUT, "tests", "kernel_log.py")

HOST_PYTHON = "/usr/bin/python3"  # Debian's, never a pyenv/venv interpreter
BUSYBOX = "/bin/busybox"  # from busybox-static
QEMU = "qemu-system-x86_64"
PACKAGE_RE = re.compile(r"^linux-image-(6\.1\.(\d+)-(\d+))-cloud-amd64$")

BEGIN = "=====OOMUTIL-JSON-BEGIN====="
END = "=====OOMUTIL-JSON-END====="
EXIT = "=====OOMUTIL-EXIT"

MEMORY_MB = 768
CPUS = 2
DEFAULT_TIMEOUT = float(os.environ.get("OOMUTIL_VM_TIMEOUT", "240"))
TAIL_LINES = 60
KEEP_IMAGES = 4
KEEP_LOGS = 8

# Parts of the standard library no scenario needs (about 40 of its 54 MB go): tests, GUI,
# packaging, docs, sqlite/curses/readline (and the libraries only they need), the static
# libpython.  Compiled __pycache__/*.pyc stay: compiling under TCG would cost seconds.
STDLIB_SKIP = {"test", "idlelib", "tkinter", "turtledemo", "turtle.py", "ensurepip", "venv",
               "lib2to3", "distutils", "pydoc_data", "sqlite3", "curses", "site-packages",
               "dist-packages", "sitecustomize.py"}
STDLIB_SKIP_PREFIX = ("config-",)  # config-3.11-x86_64-linux-gnu: libpython3.11.a
DYNLOAD_SKIP_PREFIX = ("_test", "_ctypes_test", "_xxtestfuzz", "xxlimited", "_tkinter",
                       "_ssl", "_hashlib", "nis", "_dbm", "_gdbm", "_sqlite3", "_curses",
                       "readline", "_crypt", "ossaudiodev")
_FORMAT = "oomutil-vm-initrd-1"  # bump to invalidate every cached image


class Unavailable(Exception):
    """Something the VM needs cannot be had here; ``str(exc)`` says what (a skip reason)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class VmFailed(Exception):
    """The VM ran but gave no result (crash, timeout, panic); the message ends with the
    console's last lines."""


class ScenarioFailed(Exception):
    """A scenario raised inside the VM: its traceback and the console's last lines."""


class Kernel(NamedTuple):
    vmlinuz: str
    modules_dir: str
    release: str


class BootResult(NamedTuple):
    data: dict  # the JSON printed between BEGIN and END
    console: str  # the whole serial console (\r\n -> \n)
    seconds: float  # QEMU start to exit


def report(boot: "BootResult", name: str):
    """What scenario ``name`` returned in ``boot``; ScenarioFailed (its traceback and the
    console's last lines, the kernel's messages of the moment) where it raised."""
    got = boot.data.get(name, {"error": f"no result for {name}: not run?"})
    if isinstance(got, dict) and "error" in got:
        tail = "\n".join(boot.console.splitlines()[-40:])
        raise ScenarioFailed(f"scenario {name} failed inside the VM:\n{got['error']}\n"
                             f"--- the VM console's last lines ---\n{tail}")
    return got


def cache_dir(*parts: str) -> str:
    base = os.environ.get("OOMUTIL_VM_CACHE")
    if not base:
        xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        base = os.path.join(xdg, "oomutil-vm")
    path = os.path.join(base, *parts)
    os.makedirs(path, exist_ok=True)
    return path


def _log(msg: str) -> None:
    sys.stderr.write(f"[vm] {msg}\n")
    sys.stderr.flush()


def _run(argv: Sequence[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(list(argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, **kw)


# --------------------------------------------------------------------------- kernel

def _apt_newest() -> Tuple[Optional[Tuple[str, str]], str]:
    """((package, candidate version) of the newest 6.1 cloud image apt can fetch, or None;
    why not)."""
    if not shutil.which("apt-cache"):
        return None, "apt-cache not found (not a Debian system?)"
    found = _run(["apt-cache", "search", "--names-only", r"^linux-image-6\.1\..*-cloud-amd64$"])
    names = []
    for line in found.stdout.splitlines():
        match = PACKAGE_RE.match(line.split(" - ", 1)[0].strip())
        if match:
            names.append((int(match.group(2)), int(match.group(3)), match.group(0)))
    if not names:
        return None, ("apt-cache knows no linux-image-6.1.*-cloud-amd64 package "
                      "(Debian 12 package lists needed; run apt-get update)")
    names.sort(reverse=True)
    policy = _run(["apt-cache", "policy"] + [name for *_, name in names]).stdout
    candidates = dict(re.findall(r"^(\S+):\n\s+Installed:.*\n\s+Candidate:\s*(\S+)", policy, re.M))
    for _, _, name in names:
        if candidates.get(name, "(none)") != "(none)":
            return (name, candidates[name]), ""
    return None, f"no candidate version for {', '.join(n for *_, n in names)} (apt-get update?)"


def _kernel_in(folder: str) -> Optional[Kernel]:
    try:
        with open(os.path.join(folder, "KERNEL")) as f:
            release = f.read().strip()
    except OSError:
        return None
    vmlinuz = os.path.join(folder, "boot", f"vmlinuz-{release}")
    modules = os.path.join(folder, "lib", "modules", release)
    if os.path.isfile(vmlinuz) and os.path.isdir(modules):
        return Kernel(vmlinuz, modules, release)
    return None


def _cached_kernels() -> List[Tuple[Tuple[int, ...], Kernel]]:
    root = cache_dir("kernel")
    found = []
    for entry in os.listdir(root):
        kern = _kernel_in(os.path.join(root, entry))
        if kern:
            key = tuple(int(n) for n in re.findall(r"\d+", entry))
            found.append((key, kern))
    return sorted(found, reverse=True)


def kernel(refresh: Optional[bool] = None) -> Kernel:
    """Debian's linux-image-6.1.*-cloud-amd64 as a Kernel: the newest one in the cache, or
    (none cached, or ``refresh``/OOMUTIL_VM_REFRESH=1) the newest apt can fetch, downloaded
    and extracted into the cache."""
    if refresh is None:
        refresh = os.environ.get("OOMUTIL_VM_REFRESH") == "1"
    cached = _cached_kernels()
    if cached and not refresh:
        return cached[0][1]
    newest, why = _apt_newest()
    if newest is None:
        if cached:
            return cached[0][1]
        raise Unavailable(why)
    name, version = newest
    folder = os.path.join(cache_dir("kernel"), f"{name}_{version}")
    kern = _kernel_in(folder)
    if kern:
        return kern
    try:
        return _fetch_kernel(name, version, folder)
    except Unavailable:
        if cached:
            return cached[0][1]
        raise


def _fetch_kernel(name: str, version: str, folder: str) -> Kernel:
    if not shutil.which("apt-get") or not shutil.which("dpkg"):
        raise Unavailable("apt-get/dpkg not found: cannot fetch the kernel package")
    tmp = tempfile.mkdtemp(prefix=".fetch-", dir=cache_dir("kernel"))
    try:
        _log(f"apt-get download {name}={version}")
        got = _run(["apt-get", "download", f"{name}={version}"], cwd=tmp)
        debs = [f for f in os.listdir(tmp) if f.endswith(".deb")]
        if got.returncode != 0 or len(debs) != 1:
            raise Unavailable(f"apt-get download {name}={version} failed: "
                              f"{(got.stderr or got.stdout).strip()[-500:]}")
        deb = os.path.join(tmp, debs[0])
        tree = os.path.join(tmp, "tree")
        got = _run(["dpkg", "-x", deb, tree])
        if got.returncode != 0:
            raise Unavailable(f"dpkg -x {debs[0]} failed: {got.stderr.strip()[-500:]}")
        os.unlink(deb)
        releases = os.listdir(os.path.join(tree, "lib", "modules"))
        if len(releases) != 1:
            raise Unavailable(f"{debs[0]}: expected one lib/modules/<release>, got {releases}")
        with open(os.path.join(tree, "KERNEL"), "w") as f:
            f.write(releases[0] + "\n")
        try:
            os.rename(tree, folder)
        except OSError:  # another run got there first
            if not _kernel_in(folder):
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    kern = _kernel_in(folder)
    if kern is None:
        raise Unavailable(f"{folder}: no vmlinuz or modules after extraction")
    return kern


# --------------------------------------------------------------------------- modules

def _elf_section(data: bytes, wanted: bytes) -> Optional[bytes]:
    """The contents of one section of a 64-bit little-endian ELF file."""
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return None
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    headers = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    names_at = headers[shstrndx][4]
    for name, _type, _flags, _addr, offset, size, *_ in headers:
        start = names_at + name
        if data[start:data.index(b"\0", start)] == wanted:
            return data[offset:offset + size]
    return None


def _module_bytes(path: str) -> bytes:
    """A module file's ELF bytes; .ko.xz/.gz/.zst are decompressed here (busybox insmod
    reads plain ELF only)."""
    with open(path, "rb") as f:
        raw = f.read()
    if path.endswith(".xz"):
        import lzma
        return lzma.decompress(raw)
    if path.endswith(".gz"):
        return gzip.decompress(raw)
    if path.endswith(".zst"):
        try:
            import compression.zstd as zstd  # type: ignore  # Python 3.14+
            return zstd.decompress(raw)
        except ImportError:
            if not shutil.which("zstd"):
                raise Unavailable(f"{path} is zstd-compressed and no zstd tool is here")
            return subprocess.run(["zstd", "-dc"], input=raw, stdout=subprocess.PIPE, check=True).stdout
    return raw


def _norm(name: str) -> str:
    return name.replace("-", "_")


def _modinfo_index(kern: Kernel) -> dict:
    """name -> {path, depends, softdeps, aliases} for every module of the package, from each
    file's .modinfo section (the package ships no modules.dep: depmod runs at install)."""
    index_file = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(kern.modules_dir))),
                              "modinfo.json")
    try:
        with open(index_file) as f:
            return json.load(f)
    except (OSError, ValueError):
        pass
    index = {}
    for folder, _dirs, files in os.walk(kern.modules_dir):
        for file in files:
            if not re.search(r"\.ko(\.xz|\.gz|\.zst)?$", file):
                continue
            path = os.path.join(folder, file)
            section = _elf_section(_module_bytes(path), b".modinfo") or b""
            info: Dict[str, List[str]] = {}
            for item in section.split(b"\0"):
                key, sep, value = item.decode("utf-8", "replace").partition("=")
                if sep:
                    info.setdefault(key, []).append(value)
            name = _norm((info.get("name") or [re.sub(r"\.ko.*$", "", file)])[0])
            softdeps = []
            for spec in info.get("softdep", []):  # "pre: a b post: c"
                softdeps += [w for w in spec.split() if not w.endswith(":")]
            index[name] = {
                "path": os.path.relpath(path, kern.modules_dir),
                "depends": [_norm(d) for d in ",".join(info.get("depends", [])).split(",") if d],
                "softdeps": [_norm(d) for d in softdeps],
                "aliases": info.get("alias", []),
            }
    tmp = index_file + f".{os.getpid()}"
    with open(tmp, "w") as f:
        json.dump(index, f, sort_keys=True)
    os.replace(tmp, index_file)
    return index


def _kernel_config(kern: Kernel) -> Dict[str, str]:
    boot = os.path.dirname(kern.vmlinuz)
    config = {}
    try:
        with open(os.path.join(boot, f"config-{kern.release}")) as f:
            for line in f:
                key, sep, value = line.strip().partition("=")
                if sep and key.startswith("CONFIG_"):
                    config[key] = value.strip('"')
    except OSError:
        pass
    return config


def _runtime_needs(name: str, config: Dict[str, str]) -> List[str]:
    """Modules that a module asks for at run time through request_module() (which has no
    modprobe to call in the VM), as module names or aliases."""
    if name == "zram":  # its default compressor, e.g. lzo-rle, is a crypto module on Debian
        algorithm = config.get("CONFIG_ZRAM_DEF_COMP")
        if algorithm:
            return [f"crypto-{algorithm}"]
    return []


def resolve_modules(kern: Kernel, modules: Iterable[str]) -> List[Tuple[str, str]]:
    """[(name, path relative to modules_dir)] in load order (dependencies first), for the
    requested modules, their depends=, softdeps and run-time needs.  Names that are built
    into the kernel are dropped; unknown names raise Unavailable."""
    index = _modinfo_index(kern)
    config = _kernel_config(kern)
    aliases: Dict[str, str] = {}
    for name, info in index.items():
        for alias in info["aliases"]:
            aliases.setdefault(alias, name)
    builtin: set = set()
    try:
        with open(os.path.join(kern.modules_dir, "modules.builtin")) as f:
            builtin = {_norm(os.path.basename(line.strip()).split(".ko")[0]) for line in f}
    except OSError:
        pass

    order: List[Tuple[str, str]] = []
    done = set()

    def lookup(wanted: str, required: bool) -> Optional[str]:
        name = _norm(wanted)
        if name in index:
            return name
        if wanted in aliases:
            return aliases[wanted]
        if name in builtin or not required:
            return None
        raise Unavailable(f"module {wanted} is not in {kern.modules_dir}")

    def visit(wanted: str, required: bool, stack: Tuple[str, ...] = ()) -> None:
        name = lookup(wanted, required)
        if name is None or name in done or name in stack:
            return
        info = index[name]
        for dep in info["depends"]:
            visit(dep, True, stack + (name,))
        for dep in info["softdeps"] + _runtime_needs(name, config):
            visit(dep, False, stack + (name,))
        done.add(name)
        order.append((name, info["path"]))

    for module in modules:
        visit(module, True)
    return order


# --------------------------------------------------------------------------- cpio

class _Cpio:
    """Writes a newc ("070701") cpio archive, as the kernel's initramfs unpacker reads it.
    Parents are written before children; a name is written once."""

    def __init__(self, out):
        self.out = out
        self.ino = 0
        self.names: Dict[str, str] = {}  # name -> "dir" / "file" / "link" / "dev"

    def _entry(self, name: str, mode: int, data: bytes = b"", mtime: int = 0,
               rdev: Tuple[int, int] = (0, 0), kind: str = "file") -> None:
        name = name.strip("/")
        if name in self.names:
            return
        self.parents(name)
        self.names[name] = kind
        self._raw(name, mode, data, mtime, rdev)

    def _raw(self, name: str, mode: int, data: bytes, mtime: int, rdev: Tuple[int, int]) -> None:
        self.ino += 1
        encoded = name.encode() + b"\0"
        fields = (self.ino, mode, 0, 0, 1, max(0, int(mtime)), len(data), 0, 0,
                  rdev[0], rdev[1], len(encoded), 0)
        header = b"070701" + b"".join(b"%08X" % v for v in fields)
        self.out.write(header + encoded + b"\0" * (-(len(header) + len(encoded)) % 4))
        self.out.write(data + b"\0" * (-len(data) % 4))

    def parents(self, name: str) -> None:
        parts = name.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            parent = "/".join(parts[:i])
            if parent not in self.names:
                self.names[parent] = "dir"
                self._raw(parent, 0o40755, b"", 0, (0, 0))

    def directory(self, name: str, mode: int = 0o755, mtime: int = 0) -> None:
        self._entry(name, 0o40000 | (mode & 0o7777), mtime=mtime, kind="dir")

    def file(self, name: str, data: bytes, mode: int = 0o644, mtime: int = 0) -> None:
        self._entry(name, 0o100000 | (mode & 0o7777), data, mtime)

    def symlink(self, name: str, target: str) -> None:
        self._entry(name, 0o120777, target.encode(), kind="link")

    def chardev(self, name: str, major: int, minor: int, mode: int = 0o600) -> None:
        self._entry(name, 0o20000 | mode, rdev=(major, minor), kind="dev")

    def host_file(self, name: str, path: str) -> None:
        st = os.stat(path)
        with open(path, "rb") as f:
            self.file(name, f.read(), st.st_mode, int(st.st_mtime))

    def host_path(self, path: str, _depth: int = 0) -> None:
        """Add a host file (or an empty directory) at the same absolute path, with each
        symlink met on the way (/lib -> usr/lib, python3 -> python3.11) as a symlink."""
        if _depth > 20:
            raise OSError(f"too many symlinks resolving {path}")
        parts = [p for p in os.path.normpath(path).split("/") if p]
        for i in range(len(parts)):
            here = "/" + "/".join(parts[:i + 1])
            rest = parts[i + 1:]
            if os.path.islink(here):
                target = os.readlink(here)
                self.symlink(here, target)
                resolved = target if target.startswith("/") else os.path.join(os.path.dirname(here), target)
                self.host_path(os.path.join(resolved, *rest), _depth + 1)
                return
            if i < len(parts) - 1:
                if self.names.get(here.strip("/")) not in (None, "dir"):
                    raise OSError(f"{here} is already in the archive as a non-directory")
                continue
            if os.path.isdir(here):
                self.directory(here, os.stat(here).st_mode)
            else:
                self.host_file(here, here)

    def tree(self, name: str, folder: str, skip=lambda rel, is_dir: False) -> None:
        """Add a host directory tree under ``name`` (symlinks inside the tree are kept as
        symlinks; ones leading out of it are dropped)."""
        self.directory(name)
        for current, dirs, files in os.walk(folder):
            rel_dir = os.path.relpath(current, folder)
            dirs[:] = sorted(d for d in dirs
                             if not skip(os.path.normpath(os.path.join(rel_dir, d)), True))
            for entry in dirs + sorted(files):
                rel = os.path.normpath(os.path.join(rel_dir, entry))
                if entry in files and skip(rel, False):
                    continue
                src = os.path.join(current, entry)
                dest = f"{name}/{rel}"
                if os.path.islink(src):
                    target = os.readlink(src)
                    inside = os.path.normpath(os.path.join(os.path.dirname(src), target))
                    if not target.startswith("/") and inside.startswith(folder + "/") and os.path.exists(inside):
                        self.symlink(dest, target)
                elif entry in dirs:
                    self.directory(dest, os.stat(src).st_mode, int(os.stat(src).st_mtime))
                else:
                    self.host_file(dest, src)

    def trailer(self) -> None:
        self._raw("TRAILER!!!", 0, b"", 0, (0, 0))
        self.out.write(b"\0" * (-self.out.tell() % 512))


# --------------------------------------------------------------------------- initramfs

def _require_tools() -> None:
    if not shutil.which(QEMU):
        raise Unavailable(f"{QEMU} not found (apt-get install qemu-system-x86)")
    if not os.path.isfile(BUSYBOX):
        raise Unavailable(f"{BUSYBOX} not found (apt-get install busybox-static)")
    with open(BUSYBOX, "rb") as f:
        head = f.read(4096)
    if _has_interp(head):
        raise Unavailable(f"{BUSYBOX} is dynamically linked (apt-get install busybox-static)")
    if not os.access(HOST_PYTHON, os.X_OK):
        raise Unavailable(f"{HOST_PYTHON} not found (Debian's python3)")
    if not shutil.which("ldd"):
        raise Unavailable("ldd not found (libc-bin)")


def _has_interp(elf_head: bytes) -> bool:
    """Whether a 64-bit ELF file (its first 4 KiB) has a PT_INTERP program header."""
    if elf_head[:4] != b"\x7fELF" or elf_head[4] != 2:
        return False
    phoff, = struct.unpack_from("<Q", elf_head, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", elf_head, 0x36)
    for i in range(phnum):
        at = phoff + i * phentsize
        if at + 4 <= len(elf_head) and struct.unpack_from("<I", elf_head, at)[0] == 3:
            return True
    return False


class _PythonLayout(NamedTuple):
    executable: str  # /usr/bin/python3.11 (what /usr/bin/python3 points to)
    version: str  # "3.11.2"
    stdlib: str  # /usr/lib/python3.11
    dynload: str  # /usr/lib/python3.11/lib-dynload


def _python_layout() -> _PythonLayout:
    code = ("import sys, sysconfig, os; print(os.path.realpath(sys.executable)); "
            "print('%d.%d.%d' % sys.version_info[:3]); print(sysconfig.get_path('stdlib')); "
            "print([p for p in sys.path if p.endswith('lib-dynload')][0])")
    got = _run([HOST_PYTHON, "-I", "-S", "-c", code])
    if got.returncode != 0:
        raise Unavailable(f"{HOST_PYTHON} does not run: {got.stderr.strip()[-300:]}")
    return _PythonLayout(*got.stdout.split("\n")[:4])


def _ldd(paths: Iterable[str]) -> List[str]:
    libs = []
    for path in paths:
        got = _run(["ldd", path])
        for line in got.stdout.splitlines():
            match = re.search(r"(?:=>\s*)?(/\S+)\s+\(0x", line)
            if match and match.group(1) not in libs:
                libs.append(match.group(1))
    return libs


def _stdlib_skip(rel: str, is_dir: bool) -> bool:
    top = rel.split("/")[0]
    if top in STDLIB_SKIP or top.startswith(STDLIB_SKIP_PREFIX):
        return True
    name = os.path.basename(rel)
    if top == "lib-dynload" and name.startswith(DYNLOAD_SKIP_PREFIX):
        return True
    return name.endswith((".opt-1.pyc", ".opt-2.pyc"))


def _base_inputs(kern: Kernel, modules: Sequence[str]):
    """What goes into the base image, and a hash of it (names, sizes, mtimes of host files:
    statting beats reading 40 MB on every run)."""
    layout = _python_layout()
    dynload = sorted(os.path.join(layout.dynload, f) for f in os.listdir(layout.dynload)
                     if f.endswith(".so") and not f.startswith(DYNLOAD_SKIP_PREFIX))
    libs = _ldd([layout.executable] + dynload)
    mods = resolve_modules(kern, modules)
    digest = hashlib.sha256()
    with open(os.path.abspath(__file__), "rb") as f:
        digest.update(f.read())
    digest.update(repr((_FORMAT, kern, list(modules), mods, layout, libs)).encode())
    stdlib_files = []
    for current, dirs, files in os.walk(layout.stdlib):
        rel_dir = os.path.relpath(current, layout.stdlib)
        dirs[:] = sorted(d for d in dirs if not _stdlib_skip(os.path.normpath(os.path.join(rel_dir, d)), True))
        for file in sorted(files):
            stdlib_files.append(os.path.join(current, file))
    for path in [layout.executable, os.path.realpath(BUSYBOX), kern.vmlinuz] + libs + stdlib_files:
        try:
            st = os.lstat(path)
            digest.update(f"{path}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
        except OSError:
            pass
    return layout, libs, mods, digest.hexdigest()[:20]


def _build_base(path: str, kern: Kernel, layout: _PythonLayout, libs: List[str],
                mods: List[Tuple[str, str]]) -> None:
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0) as out:
            cpio = _Cpio(out)
            for folder in ("dev", "proc", "sys", "tmp", "run", "root", "etc", "mnt"):
                cpio.directory(folder, 0o1777 if folder == "tmp" else 0o755)
            cpio.chardev("dev/console", 5, 1)  # the kernel opens it for /init's stdio
            cpio.chardev("dev/null", 1, 3, 0o666)
            for link in ("/bin", "/sbin", "/lib", "/lib64"):  # merged /usr, as on the host
                if os.path.islink(link):
                    cpio.symlink(link, os.readlink(link))
            cpio.host_path(BUSYBOX)
            busybox_real = os.path.realpath(BUSYBOX)
            listed = _run([BUSYBOX, "--list-full"]).stdout.split()
            for applet in listed:  # e.g. sbin/insmod -> /usr/sbin/insmod on merged /usr
                folder, name = os.path.split("/" + applet)
                real_folder = os.path.realpath(folder) if os.path.isdir(folder) else folder
                dest = os.path.join(real_folder, name).strip("/")
                if dest != busybox_real.strip("/"):
                    cpio.host_path(real_folder)
                    cpio.symlink(dest, busybox_real)
            cpio.host_path(HOST_PYTHON)
            for lib in libs:
                cpio.host_path(lib)
            cpio.tree(layout.stdlib.strip("/"), layout.stdlib, _stdlib_skip)
            for i, (name, rel) in enumerate(mods):
                data = _module_bytes(os.path.join(kern.modules_dir, rel))
                cpio.file(f"modules/{i:02d}-{name}.ko", data)
            cpio.file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n")
            cpio.file("etc/group", b"root:x:0:\n")
            cpio.trailer()
    os.replace(tmp, path)


INIT = r"""#!/bin/sh
# /init of the oomutil test VM (written by tests/vm/vm.py)
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root PYTHONPATH=/oomutil-src
export PYTHONUNBUFFERED=1 PYTHONUTF8=1 LANG=C.UTF-8
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t cgroup2 cgroup2 /sys/fs/cgroup || echo "init: cannot mount cgroup2"
for c in memory pids cpu io; do
    if grep -qw "$c" /sys/fs/cgroup/cgroup.controllers; then
        echo "+$c" > /sys/fs/cgroup/cgroup.subtree_control || echo "init: cannot enable +$c"
    fi
done
for m in /modules/*.ko; do
    [ -e "$m" ] || continue
    insmod "$m" || echo "init: insmod $m failed"
done
echo "init: $(uname -r), up $(cut -d" " -f1 /proc/uptime) s, +($(cat /sys/fs/cgroup/cgroup.subtree_control)), modules: $(cut -d" " -f1 /proc/modules | tr "\n" " ")running {command}"
cd /scenarios
{command}
echo "{exit} $? ===== (up $(cut -d" " -f1 /proc/uptime) s)"
poweroff -f
sleep 60
"""


def _overlay(out, scenario_dir: str, entry: str, args: Sequence[str]) -> None:
    cpio = _Cpio(out)
    command = " ".join(shlex.quote(a) for a in ["python3", f"/scenarios/{entry}", *args])
    init = INIT.replace("{command}", command).replace("{exit}", EXIT)
    cpio.file("init", init.encode(), 0o755)
    no_cache = lambda rel, is_dir: "__pycache__" in rel.split("/") or rel.endswith(".pyc")  # noqa: E731
    cpio.tree("oomutil-src/oomutil", SRC_PACKAGE, no_cache)
    cpio.tree("scenarios", os.path.abspath(scenario_dir), no_cache)
    # what the scenarios share with the tests on the host: the capture tool, the kernel log
    for source, name, mode in ((CAPTURE_TOOL, "capture-fixture", 0o755), (KERNEL_LOG, "kernel_log.py", 0o644)):
        with open(source, "rb") as f:
            cpio.file(f"scenarios/{name}", f.read(), mode)
    cpio.trailer()


def _prune(folder: str, pattern: str, keep: int) -> None:
    """Keep the ``keep`` newest files matching ``pattern``, and drop the leftovers of
    builds killed half-way (*.tmp older than an hour)."""
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        try:
            if name.endswith(".tmp") and time.time() - os.stat(path).st_mtime > 3600:
                os.unlink(path)
        except OSError:
            pass
    entries = [os.path.join(folder, f) for f in os.listdir(folder) if re.match(pattern, f)]
    entries.sort(key=lambda p: os.stat(p).st_mtime, reverse=True)
    for old in entries[keep:]:
        try:
            os.unlink(old)
        except OSError:
            pass


def initramfs(modules: Sequence[str] = ("zram",), scenario_dir: str = SCENARIOS,
              entry: str = "run.py", args: Sequence[str] = (), kern: Optional[Kernel] = None) -> str:
    """Path of the gzip'd cpio for the VM: the cached base (python, stdlib, busybox, modules)
    followed by a small overlay (/init, src/oomutil, the scenario directory).  The kernel
    unpacks concatenated archives one after the other."""
    _require_tools()
    kern = kern or kernel()
    if not os.path.isfile(os.path.join(scenario_dir, entry)):
        raise FileNotFoundError(os.path.join(scenario_dir, entry))
    layout, libs, mods, base_key = _base_inputs(kern, modules)
    folder = cache_dir("initrd")
    base = os.path.join(folder, f"base-{base_key}.cpio.gz")
    if not os.path.isfile(base):
        started = time.monotonic()
        _build_base(base, kern, layout, libs, mods)
        _log(f"built {base} ({os.path.getsize(base) / 1e6:.1f} MB) in {time.monotonic() - started:.1f} s")
        _prune(folder, r"base-.*\.cpio\.gz$", KEEP_IMAGES)
    raw = io.BytesIO()
    with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0) as out:
        _overlay(out, scenario_dir, entry, args)
    overlay = raw.getvalue()
    key = hashlib.sha256(base_key.encode() + overlay).hexdigest()[:20]
    image = os.path.join(folder, f"initrd-{key}.img")
    if not os.path.isfile(image):
        tmp = f"{image}.{os.getpid()}.tmp"
        with open(tmp, "wb") as f, open(base, "rb") as b:
            shutil.copyfileobj(b, f)
            f.write(overlay)
        os.replace(tmp, image)
        _prune(folder, r"initrd-.*\.img$", KEEP_IMAGES)
    else:
        os.utime(image)
    return image


# --------------------------------------------------------------------------- boot

def _numa_options(nodes: int) -> List[str]:
    """QEMU options for ``nodes`` NUMA nodes (none for one): -smp with a socket per node,
    MEMORY_MB split evenly (node 0 takes the rest), the CPUs of socket i on node i; the guest
    reads them from the ACPI SRAT."""
    if nodes <= 1:
        return []
    if CPUS % nodes or MEMORY_MB // nodes < 64:
        raise ValueError(f"{nodes} NUMA nodes: {CPUS} CPUs and {MEMORY_MB} MiB do not split into them")
    # a socket per node: CPUs of one socket on two nodes make the scheduler's topology check
    # WARN ("llc-sibling CPU #0 is not on the same node") and taint the kernel
    options: List[str] = ["-smp", f"{CPUS},sockets={nodes},cores={CPUS // nodes},threads=1"]
    for node in range(nodes):
        size = MEMORY_MB // nodes + (MEMORY_MB % nodes if node == 0 else 0)
        cpus = ",".join(f"cpus={cpu}" for cpu in range(CPUS) if cpu // (CPUS // nodes) == node)
        options += ["-object", f"memory-backend-ram,id=ram{node},size={size}M",
                    "-numa", f"node,nodeid={node},{cpus},memdev=ram{node}"]
    return options


def qemu_command(kern: Kernel, image: str, append_extra: str = "", nodes: int = 1) -> List[str]:
    accel = os.environ.get("OOMUTIL_VM_ACCEL", "tcg")
    # log_buf_len: the ring buffer must keep every OOM report of a run (the events scenario
    # reconciles them with the counters); the default 128 KiB holds about twenty
    append = f"console=ttyS0 quiet panic=-1 oops=panic log_buf_len=8M {append_extra}".strip()
    numa = _numa_options(nodes)  # with its own -smp (sockets)
    return [QEMU, "-accel", accel, "-cpu", "max", "-m", str(MEMORY_MB), *(numa or ["-smp", str(CPUS)]),
            "-nographic", "-no-reboot", "-nic", "none", "-kernel", kern.vmlinuz, "-initrd", image, "-append", append]


_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-~]|[\x00-\x08\x0b-\x1f\x7f]")


def _clean(raw: bytes) -> str:
    """Console bytes as text: \r\n -> \n, and without the terminal escapes SeaBIOS sends
    (ESC c would reset the terminal that shows a pytest failure)."""
    text = raw.decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n")
    return _ESCAPES.sub("", text)


def _failure(console: str, qemu_rc: Optional[int], seconds: float, timed_out: float,
             parse_error: str) -> str:
    """Why a boot gave no result, in one line."""
    if timed_out:
        return f"timed out after {timed_out:.0f} s (QEMU killed)"
    panic = re.search(r"Kernel panic - not syncing:.*", console)
    if panic:
        return f"{panic.group(0).strip()} (after {seconds:.1f} s)"
    exited = re.search(re.escape(EXIT) + r" (\d+)", console)
    if exited:
        return f"the scenario exited {exited.group(1)} without a result ({parse_error}; {seconds:.1f} s)"
    return f"QEMU exited with {qemu_rc} after {seconds:.1f} s; {parse_error}"


def _die_with_parent() -> None:
    """In the QEMU child before exec: be killed when the process that started it dies, even
    by SIGKILL (prctl PR_SET_PDEATHSIG), so no VM outlives a killed test run."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, 9)  # PR_SET_PDEATHSIG, SIGKILL
    except (OSError, AttributeError, ImportError):
        pass


def _tail(text: str, lines: int = TAIL_LINES) -> str:
    return "\n".join(text.rstrip("\n").split("\n")[-lines:])


def parse_console(console: str) -> dict:
    """The JSON object between the last BEGIN marker and the END after it."""
    lines = console.split("\n")
    starts = [i for i, line in enumerate(lines) if line.strip() == BEGIN]
    if not starts:
        raise ValueError(f"no {BEGIN} line")
    body: List[str] = []
    for line in lines[starts[-1] + 1:]:
        if line.strip() == END:
            return json.loads("\n".join(body))
        body.append(line)
    raise ValueError(f"no {END} line after {BEGIN}")


def boot(scenario_dir: str = SCENARIOS, entry: str = "run.py", timeout: float = DEFAULT_TIMEOUT,
         modules: Sequence[str] = ("zram",), args: Sequence[str] = (),
         append_extra: str = "", nodes: int = 1) -> BootResult:
    """Boot the VM once with the scenario directory in it, run ``python3 /scenarios/ENTRY``
    and return what it printed between the markers.  ``nodes``: NUMA nodes of the VM (the
    same RAM and CPUs, split between them).  QEMU is killed on timeout and never outlives
    this call."""
    _require_tools()
    kern = kernel()
    image = initramfs(modules, scenario_dir, entry, args, kern)
    logs = cache_dir("console")
    log_path = os.path.join(logs, time.strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}.log")
    argv = qemu_command(kern, image, append_extra, nodes)
    timed_out = 0.0
    started = time.monotonic()
    with open(log_path, "wb") as log:
        log.write(("$ " + " ".join(shlex.quote(a) for a in argv) + "\n").encode())
        log.flush()
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                preexec_fn=_die_with_parent)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = timeout
        finally:  # also on KeyboardInterrupt: QEMU never outlives this call
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    seconds = time.monotonic() - started
    _prune(logs, r".*\.log$", KEEP_LOGS)
    with open(log_path, "rb") as f:
        console = _clean(f.read())
    try:
        data = parse_console(console)
    except ValueError as exc:  # no markers, or broken JSON between them
        why = _failure(console, proc.returncode, seconds, timed_out, str(exc))
        raise VmFailed(f"VM gave no result: {why}\nfull console: {log_path}\n"
                       f"--- last {TAIL_LINES} console lines ---\n{_tail(console)}") from None
    return BootResult(data, console, seconds)


def main(argv: Sequence[str]) -> int:
    """``vm.py [SCENARIO_DIR]``: boot once, print the JSON and the timings.
    ``vm.py --capture FIXTURES``: boot with every scenario and ``oomutil.capture=1``, and
    unpack the capture scenario_7_capture made (after the scenarios' OOMs) into FIXTURES."""
    capture_to = None
    if argv[:1] == ["--capture"] and len(argv) == 2:
        capture_to, argv = argv[1], []
    scenario_dir = argv[0] if argv else SCENARIOS
    started = time.monotonic()
    try:
        kern = kernel()
        t_kernel = time.monotonic()
        image = initramfs(scenario_dir=scenario_dir, kern=kern)
        t_image = time.monotonic()
        result = boot(scenario_dir, append_extra="oomutil.capture=1" if capture_to else "")
    except Unavailable as exc:
        print(f"unavailable: {exc.reason}", file=sys.stderr)
        return 2
    except VmFailed as exc:
        print(exc, file=sys.stderr)
        return 1
    if capture_to:
        import base64
        import tarfile

        capture = result.data["scenario_7_capture"]
        if "tar_gz_base64" not in capture:
            print(f"no capture came back: {capture}", file=sys.stderr)
            return 1
        with tarfile.open(fileobj=io.BytesIO(base64.b64decode(capture["tar_gz_base64"])), mode="r:gz") as tar:
            tar.extractall(capture_to)
        print(f"unpacked into {capture_to}: {capture['manifest'].splitlines()[0]}")
    else:
        print(json.dumps(result.data, indent=2, sort_keys=True))
    print(f"kernel {kern.release}: {t_kernel - started:.1f} s; initrd {os.path.getsize(image) / 1e6:.1f} MB: "
          f"{t_image - t_kernel:.1f} s; boot: {result.seconds:.1f} s; total {time.monotonic() - started:.1f} s",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
