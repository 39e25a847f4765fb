"""The README's examples on captured or synthetic trees are real: they are run and compared."""

from __future__ import annotations

import re
import shlex

import pytest
from helpers import TESTS

README = (TESTS.parent / "README.md").read_text()
# ```console blocks whose command reads a tree in tests/fixtures: reproducible anywhere
BLOCKS = re.findall(r"```console\n\$ oomutil (--root tests/fixtures/[^\n]*)\n(.*?)```", README, re.S)


def test_readme_has_tree_examples():
    assert len(BLOCKS) >= 3


@pytest.mark.parametrize("command, expected", BLOCKS, ids=[c for c, _ in BLOCKS])
def test_readme_example(cli, monkeypatch, command, expected):
    monkeypatch.chdir(TESTS.parent)
    code, out, err = cli(*shlex.split(command))
    assert (code, err) == (0, "")
    assert out == expected
