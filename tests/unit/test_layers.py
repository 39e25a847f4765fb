"""The layering of ARCHITECTURE.md, checked on the source (imports inside functions too):
arrows run down only.  The model (process.py, system.py) imports no feature; root.py
imports no kernel-file module; a kernel-file module imports only the ground (_fs, _record,
errors, root) and other kernel-file modules; nothing below the package face imports it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import oomutil

PACKAGE = Path(oomutil.__file__).parent
GROUND = {"_fs", "_record", "_units", "_version", "errors", "root"}
KERNEL_FILES = ("procfs", "sysfs")
MODEL = {"process", "system"}


def _module(path: Path) -> str:
    rel = path.relative_to(PACKAGE).with_suffix("")
    return ".".join(p for p in rel.parts if p != "__init__")


def imports(path: Path) -> set:
    """Every oomutil module ``path`` imports, anywhere in it, as dotted names below oomutil
    ("" is the package face itself)."""
    here = _module(path).split(".") if path.name != "__init__.py" else _module(path).split(".") + ["x"]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - node.level]
                target = ".".join(p for p in [*base, node.module or ""] if p)
            elif node.module and node.module.split(".")[0] == "oomutil":
                target = node.module[len("oomutil"):].lstrip(".")
            else:
                continue
            if node.module is None:  # from . import a, b: each is a module (or a name of the face)
                found.update(f"{target}.{a.name}".lstrip(".") if (PACKAGE / target.replace(".", "/") / f"{a.name}.py").exists()
                             or (PACKAGE / target.replace(".", "/") / a.name).is_dir() else target for a in node.names)
            else:
                found.add(target)
        elif isinstance(node, ast.Import):
            found.update(a.name[len("oomutil"):].lstrip(".") for a in node.names if a.name.split(".")[0] == "oomutil")
    return found


SOURCES = sorted(p for p in PACKAGE.rglob("*.py"))


def test_the_check_sees_imports_inside_functions():
    names = imports(PACKAGE / "cli" / "adj.py")  # its library calls are imported inside run()
    assert {"process", "rank", "root"} <= names


@pytest.mark.parametrize("name", sorted(MODEL))
def test_the_model_imports_no_feature(name):
    allowed = lambda m: m in GROUND or m in MODEL or m.split(".")[0] in KERNEL_FILES  # noqa: E731
    assert sorted(m for m in imports(PACKAGE / f"{name}.py") if not allowed(m)) == []


def test_root_imports_no_kernel_file_module():
    assert sorted(m for m in imports(PACKAGE / "root.py") if m not in GROUND) == []


@pytest.mark.parametrize("path", [p for p in SOURCES if p.parent.name in KERNEL_FILES], ids=lambda p: _module(p))
def test_kernel_file_modules_import_only_the_ground(path):
    assert sorted(m for m in imports(path) if m not in GROUND and m.split(".")[0] not in KERNEL_FILES) == []


@pytest.mark.parametrize("path", [p for p in SOURCES if p.name != "__init__.py" or p.parent != PACKAGE],
                         ids=lambda p: _module(p) or "oomutil")
def test_nothing_below_the_face_imports_it(path):
    assert "" not in imports(path), "imports the package face (oomutil/__init__.py); take the name from its module"
