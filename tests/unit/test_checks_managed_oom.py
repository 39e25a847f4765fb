"""Which units hand their cgroup to systemd-oomd, read the way systemd loads them (issue 24,
item 9).

systemd.unit(5): the system unit search path, highest precedence first, is
/etc/systemd/system.control, /run/systemd/system.control, /run/systemd/transient,
/run/systemd/generator.early, /etc/systemd/system, /etc/systemd/system.attached,
/run/systemd/system, /run/systemd/system.attached, /run/systemd/generator, ...,
/usr/local/lib/systemd/system, /usr/lib/systemd/system, /run/systemd/generator.late; user
managers have their own (~/.config/systemd/user, /etc/systemd/user, /usr/lib/systemd/user ...).
A unit file linked to /dev/null (or empty) is masked.  Drop-ins (NAME.d/*.conf) of all the
directories are applied in the lexicographic order of their file names, whatever directory
they are in; a file of the same name in a directory of higher precedence hides the other, and
one linked to /dev/null masks it.  The last assignment of a setting wins; an empty one resets
it (systemd.resource-control(5): ManagedOOMSwap=/ManagedOOMMemoryPressure= auto or kill).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from helpers import FIXTURES

from oomutil.checks import run_checks
from oomutil.posture import posture

V1 = FIXTURES / "x86_64-cgroup1-linux6.18"  # no swap: only ManagedOOMMemoryPressure=kill acts
PID = 29535
KILL = "[Service]\nManagedOOMMemoryPressure=kill\n"
SLICE_KILL = "[Slice]\nManagedOOMMemoryPressure=kill\n"


def oomd_tree(tmp_path: Path, files: dict) -> Path:
    """The capture with systemd-oomd running and ``files`` (text, or ("link", target))."""
    dest = tmp_path / "tree"
    shutil.copytree(V1, dest, symlinks=True)
    status = (V1 / f"proc/{PID}/status").read_text().replace("Name:\tpython3", "Name:\tsystemd-oomd")
    base = {f"proc/{PID}/comm": "systemd-oomd\n", f"proc/{PID}/status": status,
            f"proc/{PID}/cmdline": "/lib/systemd/systemd-oomd\0"}
    for rel, content in {**base, **files}.items():
        path = dest / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, tuple):
            os.symlink(content[1], path)
        else:
            path.write_text(content)
    return dest


def pressure_units(root: Path) -> str:
    (k,) = [k for k in posture(str(root)).userspace_killers if k.name == "systemd-oomd"]
    return k.settings["ManagedOOMMemoryPressure"]


def oom003(root: Path):
    return next((f for f in run_checks(posture(str(root))).findings if f.code == "OOM003"), None)


def test_a_drop_in_masked_with_dev_null_does_not_count(tmp_path):
    root = oomd_tree(tmp_path, {
        "usr/lib/systemd/system/user@.service.d/10-oomd-user-service-defaults.conf": KILL,
        "etc/systemd/system/user@.service.d/10-oomd-user-service-defaults.conf": ("link", "/dev/null"),
    })
    assert pressure_units(root) == "none"
    assert oom003(root) is not None


def test_a_same_named_drop_in_in_etc_hides_the_vendor_one(tmp_path):
    root = oomd_tree(tmp_path, {
        "usr/lib/systemd/system/user@.service.d/10-oomd.conf": KILL,
        "etc/systemd/system/user@.service.d/10-oomd.conf": "[Service]\nMemoryMax=1G\n",
    })
    assert pressure_units(root) == "none"


@pytest.mark.parametrize("later", ["ManagedOOMMemoryPressure=auto", "ManagedOOMMemoryPressure="])
def test_a_later_drop_in_sets_it_back(tmp_path, later):
    root = oomd_tree(tmp_path, {
        "etc/systemd/system/user@.service.d/10-oomd.conf": KILL,  # /etc, but sorted first
        "usr/lib/systemd/system/user@.service.d/20-local.conf": f"[Service]\n{later}\n",
    })
    assert pressure_units(root) == "none" and oom003(root) is not None


def test_a_drop_in_after_an_auto_one_turns_it_on(tmp_path):
    root = oomd_tree(tmp_path, {
        "usr/lib/systemd/system/app.service": "[Service]\nManagedOOMMemoryPressure=auto\nExecStart=/bin/app\n",
        "run/systemd/system/app.service.d/50-kill.conf": KILL,
    })
    assert pressure_units(root) == "app.service" and oom003(root) is None


def test_a_masked_unit_does_not_count(tmp_path):
    root = oomd_tree(tmp_path, {
        "usr/lib/systemd/system/app.service": KILL + "ExecStart=/bin/app\n",
        "etc/systemd/system/app.service": ("link", "/dev/null"),
    })
    assert pressure_units(root) == "none"


def test_the_unit_file_of_higher_precedence_is_the_one_read(tmp_path):
    root = oomd_tree(tmp_path, {
        "usr/lib/systemd/system/app.service": KILL,
        "etc/systemd/system/app.service": "[Service]\nExecStart=/bin/app\n",  # a full copy, edited
    })
    assert pressure_units(root) == "none"


@pytest.mark.parametrize("rel", [
    "etc/systemd/system.control/app.service.d/50-ManagedOOMMemoryPressure.conf",  # systemctl set-property
    "run/systemd/system.control/app.service.d/50-ManagedOOMMemoryPressure.conf",  # --runtime
    "run/systemd/transient/run-u7.scope",  # systemd-run --scope -p ManagedOOMMemoryPressure=kill
    "etc/systemd/system.attached/app.service.d/10-oomd.conf",  # a portable service
    "run/systemd/generator/app.service",
])
def test_every_directory_of_the_search_path_is_read(tmp_path, rel):
    root = oomd_tree(tmp_path, {rel: KILL})
    name = rel.split("/")[3]
    assert pressure_units(root) == (name[:-2] if name.endswith(".d") else name)
    assert oom003(root) is None


@pytest.mark.parametrize("rel,shown", [
    ("usr/lib/systemd/user/app.service", "app.service (user)"),
    ("etc/systemd/user/app.service.d/10-oomd.conf", "app.service (user)"),
    ("home/alice/.config/systemd/user/app.service", "app.service (user ~alice)"),
])
def test_user_manager_units_are_read(tmp_path, rel, shown):
    root = oomd_tree(tmp_path, {rel: KILL})
    assert pressure_units(root) == shown


def test_a_prefix_drop_in_is_read_and_a_slice_named_by_it_is_shown(tmp_path):
    root = oomd_tree(tmp_path, {"usr/lib/systemd/system/user-.slice.d/10-oomd.conf": SLICE_KILL})
    assert pressure_units(root) == "user-.slice"


def test_drop_in_directories_are_searched_directory_by_directory(tmp_path):
    # systemd src/shared/dropin.c unit_file_find_dropin_paths(): for each directory of the search
    # path, NAME.d then the prefixes' (app-.service.d); the type's (service.d) after all of them;
    # the first file of a name wins.  So a prefix drop-in in /etc hides a same-named one of the
    # unit's own in /usr/lib, and service.d loses to both.
    root = oomd_tree(tmp_path, {
        "usr/lib/systemd/system/app-web.service": "[Service]\nExecStart=/bin/app\n",
        "usr/lib/systemd/system/app-web.service.d/10-oomd.conf": KILL,
        "etc/systemd/system/app-.service.d/10-oomd.conf": "[Service]\nMemoryMax=1G\n",
    })
    assert pressure_units(root) == "none"
    root = oomd_tree(tmp_path / "b", {
        "usr/lib/systemd/system/app-web.service": "[Service]\nExecStart=/bin/app\n",
        "usr/lib/systemd/system/app-web.service.d/10-oomd.conf": KILL,
        "etc/systemd/system/service.d/10-oomd.conf": "[Service]\nMemoryMax=1G\n",
    })
    assert pressure_units(root) == "app-web.service"
