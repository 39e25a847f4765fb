"""Live tests: real processes started here, compared with what /proc says right after."""

from __future__ import annotations

import subprocess
import sys

import pytest
from helpers import set_adj



IDLE = "import sys; print('ready', flush=True); sys.stdin.read()"


@pytest.fixture
def spawn():
    """Start idle Python children (``spawn(adj=N)``), each past exec and waiting on stdin.

    Every child is killed and reaped afterwards, even when the test fails.
    """
    children = []

    def start(adj=None):
        child = subprocess.Popen(
            [sys.executable, "-c", IDLE], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            preexec_fn=set_adj(adj) if adj is not None else None,
        )
        children.append(child)
        assert child.stdout.readline() == b"ready\n"
        return child

    yield start
    for child in children:
        if child.poll() is None:
            child.kill()
        child.wait()

