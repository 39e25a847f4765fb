"""What a user installs: typed package, console script, no runtime dependencies."""

from importlib import metadata
from pathlib import Path

import oomutil


def test_typed_and_versioned():
    assert (Path(oomutil.__file__).parent / "py.typed").is_file()
    assert metadata.version("oomutil") == oomutil.__version__


def test_no_runtime_dependencies_outside_extras():
    requires = metadata.requires("oomutil") or []
    assert [r for r in requires if "extra ==" not in r] == []


def test_console_script_is_declared():
    scripts = [e for e in metadata.entry_points(group="console_scripts") if e.name == "oomutil"] \
        if hasattr(metadata.entry_points(), "select") else \
        [e for e in metadata.entry_points()["console_scripts"] if e.name == "oomutil"]
    assert [e.value for e in scripts] == ["oomutil.cli:console"]


def test_public_api():
    for name in oomutil.__all__:
        assert hasattr(oomutil, name), name
    assert oomutil.NoSuchProcess.__module__ == "oomutil"
