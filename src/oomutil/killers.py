"""Userspace OOM killers: earlyoom, nohang, systemd-oomd, oomd, low-memory-monitor and
kubelet's eviction.  They act before the kernel does, on their own thresholds, and leave
no trace in the kernel's counters; a machine without one (and without swap) waits for the
kernel, which acts only once reclaim has failed, often after minutes of thrashing.

Found from the running processes, the systemd unit files and the configuration files
under the root, where readable.  Settings are given in each tool's own words (its option
or key names) with its built-in defaults filled in, so "what it does here" is complete:

- earlyoom: ``-m PERCENT[,KILL]`` / ``-s PERCENT[,KILL]`` (MemAvailable, SwapFree; default
  10 and, for KILL, half of PERCENT), ``-M`` / ``-S`` in KiB, ``--dryrun`` (it then never
  kills); from its command line, else
  EARLYOOM_ARGS in /etc/default/earlyoom (Debian) or /etc/sysconfig/earlyoom (Fedora).
- nohang: the ``soft_``/``hard_threshold_*`` keys (0.2+) or ``*_min_sigterm``/``*_sigkill``
  (0.1) of /etc/nohang/nohang.conf or nohang-desktop.conf (or its ``-c`` file).
- systemd-oomd: [OOM] SwapUsedLimit (90%), DefaultMemoryPressureLimit (60%),
  DefaultMemoryPressureDurationSec (30s) of oomd.conf and its drop-ins (oomd.conf(5)); it
  acts only on units with ManagedOOMSwap=kill or ManagedOOMMemoryPressure=kill, and the swap
  rule never without swap (``oomd_swap_free_below()``: free < total * share, 0 < 0).
- oomd: the detectors of each ruleset of /etc/oomd/oomd.json (or its ``--config``).
- low-memory-monitor: /etc/low-memory-monitor.conf [Configuration] TriggerKernelOom; it
  only warns unless that is true (its default is false).
- kubelet: ``--eviction-hard`` (default ``memory.available<100Mi``), or evictionHard in
  its ``--config`` file (YAML or JSON) and its ``--config-dir`` drop-ins, merged as kubelet
  does, with mergeDefaultEvictionSettings.
"""

from __future__ import annotations

import json
import os
import re
import shlex

from ._record import Record

from ._fs import decode, list_dir, none_if_unreadable, read_bytes
from .errors import AccessDenied, NotAvailable
from .root import Root

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows the start
    from typing import Dict, Iterable, List, Optional, Sequence, Tuple

    from .rank import ProcessRecord

__all__ = ["UserspaceKiller", "userspace_killers", "parse_earlyoom_args", "parse_config", "acts", "SWAP_ONLY"]


class UserspaceKiller(Record):
    name: str  # "earlyoom", "nohang", "systemd-oomd", "oomd", "low-memory-monitor", "kubelet"
    pids: Tuple[int, ...]  # its running processes (none: installed, not running)
    unit: Optional[str]  # its systemd unit file, as the machine sees the path
    enabled: Optional[bool]  # the unit is wanted by a target; None without a unit file
    config: Optional[str]  # the configuration file read, as the machine sees the path
    settings: Dict[str, str]  # its thresholds, in its own words, defaults filled in
    kills: bool  # acts on its thresholds (low-memory-monitor only warns unless configured to)

    @property
    def running(self) -> bool:
        return bool(self.pids)


class _Known(Record):
    name: str
    comms: Tuple[str, ...]  # comm is cut to 15 characters by the kernel (TASK_COMM_LEN)
    units: Tuple[str, ...]
    configs: Tuple[str, ...]  # below etc/


_KNOWN = (
    _Known("earlyoom", ("earlyoom",), ("earlyoom.service",), ("default/earlyoom", "sysconfig/earlyoom")),
    _Known("nohang", ("nohang",), ("nohang.service", "nohang-desktop.service"),
           ("nohang/nohang.conf", "nohang/nohang-desktop.conf")),
    _Known("systemd-oomd", ("systemd-oomd",), ("systemd-oomd.service",), ()),
    _Known("oomd", ("oomd", "oomd_bin"), ("oomd.service",), ("oomd/oomd.json", "oomd.json")),
    _Known("low-memory-monitor", ("low-memory-moni",), ("low-memory-monitor.service",),
           ("low-memory-monitor.conf",)),
    _Known("kubelet", ("kubelet",), ("kubelet.service",), ()),
)

# Where systemd's system manager looks for unit files, highest precedence first
# (systemd.unit(5), "System Unit Search Path"; /lib/systemd/system on hosts before /usr merge).
_UNIT_DIRS = (("etc", "systemd", "system.control"), ("run", "systemd", "system.control"),
              ("run", "systemd", "transient"), ("run", "systemd", "generator.early"),
              ("etc", "systemd", "system"), ("etc", "systemd", "system.attached"),
              ("run", "systemd", "system"), ("run", "systemd", "system.attached"),
              ("run", "systemd", "generator"),
              ("usr", "local", "lib", "systemd", "system"), ("usr", "lib", "systemd", "system"),
              ("lib", "systemd", "system"), ("run", "systemd", "generator.late"))
# A user manager's: the shared directories, and before them (for each home) its own
# ~/.config/systemd/user.control and ~/.config/systemd/user, after /run ~/.local/share/systemd/user.
_USER_UNIT_DIRS = (("etc", "systemd", "user"), ("run", "systemd", "user"),
                   ("usr", "local", "lib", "systemd", "user"), ("usr", "lib", "systemd", "user"),
                   ("lib", "systemd", "user"))
_CGROUP_UNITS = (".service", ".slice", ".scope", ".socket", ".mount", ".swap")  # units with a cgroup
# systemd-oomd's main file: the first of these; then the drop-ins of all of them by file name.
_OOMD_CONF_DIRS = (("etc", "systemd"), ("run", "systemd"), ("usr", "local", "lib", "systemd"),
                   ("usr", "lib", "systemd"))
_OOMD_DEFAULTS = {"SwapUsedLimit": "90%", "DefaultMemoryPressureLimit": "60%",
                  "DefaultMemoryPressureDurationSec": "30s"}  # oomd.conf(5), systemd 248+


# -- pure parsers -----------------------------------------------------------------------


def parse_config(data: bytes) -> Dict[str, Dict[str, str]]:
    """``key = value`` lines by [section] ("" before any): systemd's and GLib's key files,
    nohang's config.  Comments (# and ;) and nohang's @-directives are skipped."""
    sections: Dict[str, Dict[str, str]] = {"": {}}
    current = sections[""]
    for raw in decode(data).splitlines():
        line = raw.strip()
        if not line or line[0] in "#;@":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1].strip(), {})
        elif "=" in line:
            key, _, value = line.partition("=")
            current[key.strip()] = value.strip()
    return sections


_EARLYOOM_LONG_VALUED = ("prefer", "avoid", "ignore")  # earlyoom's long options with a value


def parse_earlyoom_args(args: Sequence[str]) -> Dict[str, str]:
    """earlyoom's thresholds from its arguments, defaults filled in: ``-m 10,5`` means
    SIGTERM below 10 % MemAvailable, SIGKILL below 5 % (KILL defaults to half of PERCENT).
    ``--dryrun`` (or a prefix of it, as getopt_long allows) comes out as ``"--dryrun": ""``:
    that earlyoom never kills."""
    given: Dict[str, str] = {}
    dry = False
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":  # getopt: the end of the options
            break
        if arg.startswith("--"):  # getopt_long takes any unambiguous prefix of a long option
            name, eq, _ = arg[2:].partition("=")
            if name and any(long.startswith(name) for long in _EARLYOOM_LONG_VALUED) and not eq:
                i += 2  # --prefer REGEX: the next word is its value, whatever it looks like
                continue
            dry = dry or (bool(name) and "dryrun".startswith(name))
            i += 1
            continue
        if len(arg) >= 2 and arg[0] == "-" and arg[1] in "msMS":
            value = arg[2:] or (args[i + 1] if i + 1 < len(args) else "")
            i += 1 if arg[2:] else 2
            given[arg[:2]] = value
            continue
        i += 2 if arg in ("-N", "-r") else 1
    settings = {}
    for percent, size in (("-m", "-M"), ("-s", "-S")):
        if percent in given or size not in given:
            term, _, kill = given.get(percent, "10").partition(",")
            settings[percent] = f"{term},{kill or _half(term)}"
        if size in given:
            term, _, kill = given[size].partition(",")
            settings[size] = f"{term},{kill or _half(term)}"
    if dry:
        settings["--dryrun"] = ""  # "dry run (do not kill any processes)": it never kills
    return settings


def _half(number: str) -> str:
    try:
        return f"{float(number) / 2:g}"
    except ValueError:
        return "?"


def parse_oomd_json(data: bytes) -> Dict[str, str]:
    """ruleset name -> its detectors, ``pressure_above(resource=memory, threshold=80)``."""
    try:
        doc = json.loads(decode(data))
    except ValueError:
        return {}
    settings = {}
    rulesets = doc.get("rulesets") if isinstance(doc, dict) else None
    for n, ruleset in enumerate(rulesets if isinstance(rulesets, list) else []):
        if not isinstance(ruleset, dict):
            continue
        detectors = []
        groups = ruleset.get("detectors")
        for group in groups if isinstance(groups, list) else []:
            for d in group if isinstance(group, list) else []:
                if isinstance(d, dict) and "name" in d:
                    args = d.get("args", {})
                    shown = ", ".join(f"{k}={v}" for k, v in args.items() if k != "cgroup") \
                        if isinstance(args, dict) else ""
                    detectors.append(f"{d['name']}({shown})")
        settings[str(ruleset.get("name", n))] = "; ".join(detectors)
    return settings


_NOHANG_KEY = re.compile(r"^(soft|hard)_threshold_|_(min|max)_sig(term|kill)$")


def nohang_settings(config: Dict[str, Dict[str, str]]) -> Dict[str, str]:
    return {k: v for k, v in config.get("", {}).items() if _NOHANG_KEY.search(k)}


def _option(args: Sequence[str], *names: str) -> Optional[str]:
    """The value of ``--name=value`` or ``--name value`` (or ``-c value``) in ``args``."""
    for i, arg in enumerate(args):
        for name in names:
            if arg == name and i + 1 < len(args):
                return args[i + 1]
            if arg.startswith(name + "="):
                return arg[len(name) + 1:]
    return None


_KUBELET_MEMORY_DEFAULT = ("memory.available", "100Mi")  # kubelet's default hard threshold for memory
_YAML_TRUE = ("true", "True", "TRUE")
_YAML_FALSE = ("false", "False", "FALSE")


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    return text


def _yaml_value(text: str) -> str:
    """A plain or quoted YAML scalar, a trailing comment cut from a plain one."""
    text = text.strip()
    if text[:1] in "\"'":
        end = text.find(text[0], 1)
        return text[1:end] if end > 0 else text[1:]
    return re.split(r"\s+#", text, maxsplit=1)[0].strip()


def _kubelet_doc(text: str) -> Tuple[Optional[Dict[str, str]], Optional[bool]]:
    """(evictionHard, mergeDefaultEvictionSettings) of one kubelet configuration file, JSON or
    YAML (block or flow mapping); None where the file does not set it."""
    try:
        doc = json.loads(text)
    except ValueError:
        doc = None
    if isinstance(doc, dict):
        given = doc.get("evictionHard")
        merging = doc.get("mergeDefaultEvictionSettings")
        return ({str(k): str(v) for k, v in given.items()} if isinstance(given, dict) else None,
                merging if isinstance(merging, bool) else None)
    merge: Optional[bool] = None
    m = re.search(r"^[\"']?mergeDefaultEvictionSettings[\"']?[ \t]*:[ \t]*(\S+)", text, re.M)
    if m and m.group(1) in _YAML_TRUE + _YAML_FALSE:
        merge = m.group(1) in _YAML_TRUE
    m = re.search(r"^[\"']?evictionHard[\"']?[ \t]*:[ \t]*(.*)$", text, re.M)
    if not m:
        return None, merge
    rest = m.group(1).strip()
    hard: Dict[str, str] = {}
    if rest.startswith("{"):  # a flow mapping, perhaps over several lines
        body = text[m.start(1):]
        body = body[body.index("{") + 1:]
        body = body[:body.index("}")] if "}" in body else body
        for item in body.split(","):
            key, colon, value = item.partition(":")
            if colon and key.strip():
                hard[_unquote(key)] = _yaml_value(value)
        return hard, merge
    if rest and not rest.startswith("#"):  # null, ~ or something else: not a map
        return None, merge
    for line in text[m.end():].splitlines()[1:]:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[:1].isspace():
            break
        key, colon, value = line.strip().partition(":")
        if colon:
            hard[_unquote(key)] = _yaml_value(value)
    return hard, merge


def kubelet_settings(args: Sequence[str], config_text: Optional[str],
                     dropin_texts: Sequence[str] = ()) -> Dict[str, str]:
    """kubelet's hard eviction thresholds (it evicts pods, killing them, when crossed): the
    --eviction-hard flag, else evictionHard of its --config file with its --config-dir
    drop-ins merged over it key by key, in order.  Signals left out are 0 (off) unless
    mergeDefaultEvictionSettings is true; with no evictionHard anywhere, the default."""
    flag = _option(args, "--eviction-hard")
    if flag is not None:
        return {"eviction-hard": flag}
    hard: Optional[Dict[str, str]] = None
    merge = False
    for text in ([config_text] if config_text else []) + list(dropin_texts):
        given, merging = _kubelet_doc(text)
        if given is not None:
            hard = {**(hard or {}), **given}
        if merging is not None:
            merge = merging
    if hard is None:
        return {"eviction-hard": "<".join(_KUBELET_MEMORY_DEFAULT)}  # kubelet's default
    if merge and _KUBELET_MEMORY_DEFAULT[0] not in hard:
        hard = {_KUBELET_MEMORY_DEFAULT[0]: _KUBELET_MEMORY_DEFAULT[1], **hard}
    return {"eviction-hard": ",".join(f"{k}<{v}" for k, v in hard.items())}


def _kubelet_dropins(root: Root, args: Sequence[str]) -> List[str]:
    """The *.conf files of kubelet's --config-dir, in alphanumeric order."""
    given = _option(args, "--config-dir")
    if not given:
        return []
    directory = root.file(given.lstrip("/"))
    try:
        names = sorted(n for n in list_dir(directory) if n.endswith(".conf"))
    except (NotAvailable, AccessDenied):
        return []
    return [decode(data) for data in (_read(os.path.join(directory, n)) for n in names) if data is not None]


def _evicts_memory(settings: Dict[str, str]) -> bool:
    """A memory.available threshold above 0 (0 or 0% never evicts)."""
    for pair in settings["eviction-hard"].split(","):
        key, _, value = pair.partition("<")
        if key.strip() == "memory.available":
            return value.strip().rstrip("%").rstrip("KMGTPEkimB") not in ("0", "")
    return False


# -- reading --------------------------------------------------------------------------


def _shown(root: Root, path: str) -> str:
    """A path under the root as the machine itself sees it."""
    return path[len(root.path):] if not root.is_live and path.startswith(root.path + os.sep) else path


def _read(path: str) -> Optional[bytes]:
    return none_if_unreadable(read_bytes, path)


def _unit(root: Root, known: _Known) -> Tuple[Optional[str], Optional[bool]]:
    for unit in known.units:
        for parts in _UNIT_DIRS:
            path = root.file(*parts, unit)
            if os.path.lexists(path):
                if os.path.islink(path) and os.readlink(path) == "/dev/null":
                    return None, None  # masked: systemd will not start it
                return _shown(root, path), _wanted(root, unit)
    return None, None


def _wanted(root: Root, unit: str) -> bool:
    """Is the unit enabled: a symlink to it in a .wants directory of /etc/systemd/system?"""
    base = root.file("etc", "systemd", "system")
    try:
        names = list_dir(base)
    except (NotAvailable, AccessDenied):
        return False
    return any(n.endswith(".wants") and os.path.lexists(os.path.join(base, n, unit)) for n in names)


def _args(process: ProcessRecord) -> List[str]:
    try:
        return shlex.split(process.cmdline or "")
    except ValueError:
        return (process.cmdline or "").split()


def _names(process: ProcessRecord) -> Tuple[str, ...]:
    """comm, and for an interpreter the base name of its script: nohang started as
    ``python3 /usr/sbin/nohang`` has python3's comm.  (Not any argv[1]: ``less
    /etc/default/earlyoom`` is no earlyoom.)"""
    comm = process.comm or ""
    if comm.startswith("python"):
        script = next((a for a in _args(process)[1:] if not a.startswith("-")), "")
        return comm, os.path.basename(script)
    return (comm,)


def _systemd_oomd(root: Root) -> Tuple[Optional[str], Dict[str, str]]:
    main = None
    for parts in _OOMD_CONF_DIRS:
        path = root.file(*parts, "oomd.conf")
        if _read(path) is not None:
            main = path
            break
    dropins: Dict[str, str] = {}
    for parts in _OOMD_CONF_DIRS:
        directory = root.file(*parts, "oomd.conf.d")
        try:
            names = list_dir(directory)
        except (NotAvailable, AccessDenied):
            continue
        for name in names:  # a file in /etc hides one of the same name further down
            if name.endswith(".conf") and name not in dropins:
                dropins[name] = os.path.join(directory, name)
    settings = dict(_OOMD_DEFAULTS)
    for path in ([main] if main else []) + [dropins[n] for n in sorted(dropins)]:
        settings.update((k, v) for k, v in parse_config(_read(path) or b"").get("OOM", {}).items()
                        if k in _OOMD_DEFAULTS)
    return (_shown(root, main) if main else None), settings


_MANAGED_LINE = re.compile(rb"^[ \t]*(ManagedOOM(?:Swap|MemoryPressure))[ \t]*=[ \t]*(\S*)[ \t]*$", re.M)
_MANAGED_KEYS = ("ManagedOOMSwap", "ManagedOOMMemoryPressure")
# why a running systemd-oomd set to kill still cannot act here (the finding and report say it)
SWAP_ONLY = "only ManagedOOMSwap=kill, which never acts without swap"


def acts(killer: UserspaceKiller, swap_total_bytes: Optional[int]) -> bool:
    """Can ``killer`` kill on this machine: running, set to kill, and for systemd-oomd not
    only by its swap rule on a host without swap (systemd oomd_swap_free_below(): with
    SwapTotal 0 the test is 0 < 0)."""
    if not (killer.running and killer.kills):
        return False
    if killer.name == "systemd-oomd" and not swap_total_bytes:
        return killer.settings.get("ManagedOOMMemoryPressure", "none") != "none"
    return True


def _masked(path: str) -> bool:
    """A unit file or drop-in linked to /dev/null, or empty: masked (systemd.unit(5))."""
    if os.path.islink(path) and os.readlink(path) == "/dev/null":
        return True
    try:
        return os.path.isfile(path) and os.path.getsize(path) == 0
    except OSError:
        return False


def _unit_text(root: Root, path: str) -> bytes:
    """A unit file's contents; an absolute link (an alias, ``systemctl link``) is followed
    inside the root."""
    if os.path.islink(path) and not root.is_live:
        target = os.readlink(path)
        if target.startswith("/"):
            path = root.file(target.lstrip("/"))
    return (_read(path) if os.path.isfile(path) else None) or b""


def _dropin_dirs(name: str) -> Tuple[List[str], Optional[str]]:
    """The drop-in directories of unit ``name`` within one directory of the search path, most
    specific first: NAME.d, its template's, those of the prefixes of a dashed name
    (a-b-.service.d, a-.service.d); and apart, the type's (service.d), searched after every
    directory's others (systemd src/shared/dropin.c)."""
    stem, dot, kind = name.rpartition(".")
    dirs = [name + ".d"]
    if "@" in stem and not stem.endswith("@"):  # an instance: its template's too
        dirs.append(stem.split("@", 1)[0] + "@." + kind + ".d")
    cut = stem.rstrip("-")
    while "-" in cut.lstrip("-"):
        cut = cut[:cut.rindex("-")]
        if cut:
            dirs.append(f"{cut}-.{kind}.d")
    return dirs, (kind + ".d" if stem else None)


def _effective(root: Root, dirs: Sequence[str], name: str) -> Optional[Dict[str, str]]:
    """The ManagedOOM settings of unit ``name`` as a manager with search path ``dirs`` loads
    it: its unit file (the first found; None when masked), then its drop-ins sorted by file
    name across all directories, a name found first (directory by directory, see
    _dropin_dirs) hiding the same name found later (masked when linked to /dev/null).  The
    last assignment wins; an empty one resets to auto."""
    texts: List[bytes] = []
    for d in dirs:
        path = os.path.join(d, name)
        if os.path.lexists(path):
            if _masked(path):
                return None
            texts.append(_unit_text(root, path))
            break
    dropins: Dict[str, str] = {}
    own, by_type = _dropin_dirs(name)
    searched = [os.path.join(d, sub) for d in dirs for sub in own]
    searched += [os.path.join(d, by_type) for d in dirs] if by_type else []
    for directory in searched:  # the first file of a name wins
        try:
            names = list_dir(directory)
        except (NotAvailable, AccessDenied):
            continue
        for n in names:
            if n.endswith(".conf") and n not in dropins:
                dropins[n] = os.path.join(directory, n)
    for n in sorted(dropins):
        if not _masked(dropins[n]):
            texts.append(_unit_text(root, dropins[n]))
    values = {key: "auto" for key in _MANAGED_KEYS}
    for text in texts:
        for m in _MANAGED_LINE.finditer(text):
            values[m.group(1).decode()] = m.group(2).decode() or "auto"
    return values


def _unit_names(dirs: Sequence[str]) -> List[str]:
    """The units with a cgroup that have a unit file or a drop-in directory in ``dirs``
    (templates and the prefixes of drop-in directories among them, as they are named)."""
    found = set()
    for d in dirs:
        try:
            names = list_dir(d)
        except (NotAvailable, AccessDenied):
            continue
        for n in names:
            unit = n[:-2] if n.endswith(".d") else n
            if unit.endswith(_CGROUP_UNITS) and "." in unit[:-1] and not unit.startswith("."):
                found.add(unit)
    return sorted(found)


def _managers(root: Root) -> List[Tuple[str, List[str], List[str]]]:
    """(label, search path, the directories whose units are its own) of the system manager,
    of user managers as shipped, and of each home's user manager that has units of its own."""
    system = [root.file(*parts) for parts in _UNIT_DIRS]
    shared = [root.file(*parts) for parts in _USER_UNIT_DIRS]
    out = [("", system, system), (" (user)", shared, shared)]
    homes = [("root", root.file("root"))]
    try:
        homes += [(n, root.file("home", n)) for n in sorted(list_dir(root.file("home")))]
    except (NotAvailable, AccessDenied):
        pass
    for user, home in homes:
        config = [os.path.join(home, ".config", "systemd", "user.control"),
                  os.path.join(home, ".config", "systemd", "user")]
        data = [os.path.join(home, ".local", "share", "systemd", "user")]
        own = [d for d in config + data if os.path.isdir(d)]
        if own:
            out.append((f" (user ~{user})", config + shared[:2] + data + shared[2:], own))
    return out


def _managed_units(root: Root) -> Dict[str, List[str]]:
    """The units that hand a cgroup to systemd-oomd, by setting (ManagedOOMSwap=kill,
    ManagedOOMMemoryPressure=kill, systemd.resource-control(5)), each as its manager loads
    it: without one systemd-oomd kills nothing.  A user manager's are marked "(user)"."""
    found: Dict[str, List[str]] = {key: [] for key in _MANAGED_KEYS}
    for label, dirs, own in _managers(root):
        for name in _unit_names(own):
            values = _effective(root, dirs, name)
            for key in _MANAGED_KEYS:
                if values is not None and values[key] == "kill":
                    found[key].append(name + label)
    return {key: sorted(set(units)) for key, units in found.items()}


def _listed(units: List[str]) -> str:
    return ", ".join(units[:3]) + (f" and {len(units) - 3} more" if len(units) > 3 else "") if units else "none"


def shell_words(line: str) -> List[str]:
    """The words of a shell variable's value as the shell would pass them:
    ``"-m 4 --avoid '^(dnf|rpm)$'"`` -> ``-m``, ``4``, ``--avoid``, ``^(dnf|rpm)$``."""
    try:
        words = shlex.split(line)
        return shlex.split(words[0]) if len(words) == 1 else words
    except ValueError:
        return line.strip("\"'").split()


def _config(root: Root, known: _Known, args: Sequence[str], unit: Optional[str]) -> Tuple[Optional[str], Dict[str, str], bool]:
    """(the config file read, the settings, does it kill) for one killer."""
    name = known.name
    if name == "systemd-oomd":
        path, settings = _systemd_oomd(root)
        managed = _managed_units(root)
        for key in _MANAGED_KEYS:
            settings[key] = _listed(managed[key])
        return path, settings, any(managed.values())
    given = _option(args, "-c", "--config", "-C")
    candidates = [root.file(given.lstrip("/"))] if given else []
    etc = [root.etc(c) for c in known.configs]
    if name == "nohang" and unit and unit.endswith("nohang-desktop.service"):
        etc.reverse()
    for path in candidates + etc:
        data = _read(path)
        if data is None:
            continue
        shown = _shown(root, path)
        if name == "earlyoom":  # a running earlyoom's own arguments win over the file's
            line = parse_config(data).get("", {}).get("EARLYOOM_ARGS", "")
            settings = parse_earlyoom_args(args[1:] if args else shell_words(line))
            return shown, settings, "--dryrun" not in settings
        if name == "nohang":
            return shown, nohang_settings(parse_config(data)), True
        if name == "oomd":
            return shown, parse_oomd_json(data), True
        if name == "low-memory-monitor":  # a GKeyFile boolean: true/false or 1/0
            value = parse_config(data).get("Configuration", {}).get("TriggerKernelOom", "false")
            return shown, {"TriggerKernelOom": value}, value in ("true", "1")
        if name == "kubelet":
            settings = kubelet_settings(args, decode(data), _kubelet_dropins(root, args))
            return shown, settings, _evicts_memory(settings)
    if name == "earlyoom":
        settings = parse_earlyoom_args(args[1:])
        return None, settings, "--dryrun" not in settings
    if name == "low-memory-monitor":
        return None, {"TriggerKernelOom": "false"}, False
    if name == "kubelet":
        settings = kubelet_settings(args, None, _kubelet_dropins(root, args))
        return None, settings, _evicts_memory(settings)
    return None, {}, True


def userspace_killers(root: Root, processes: Iterable[ProcessRecord]) -> List[UserspaceKiller]:
    """The userspace OOM killers installed or running under ``root``.  ``processes``: a
    snapshot with command lines (rank.snapshot(root, cmdline=True))."""
    running: Dict[str, List[ProcessRecord]] = {}
    for p in processes:
        names = _names(p)
        for known in _KNOWN:
            if any(n in known.comms for n in names):
                running.setdefault(known.name, []).append(p)
                break
    found = []
    for known in _KNOWN:
        procs = running.get(known.name, [])
        unit, enabled = _unit(root, known)
        if not procs and unit is None and not known.configs:
            continue  # systemd ships oomd.conf, and kubelet's file is named by its process
        args = _args(procs[0]) if procs else []
        config, settings, kills = _config(root, known, args, unit)
        if not procs and unit is None and config is None:
            continue
        found.append(UserspaceKiller(known.name, tuple(p.pid for p in procs), unit, enabled, config,
                                     settings, kills))
    return found
