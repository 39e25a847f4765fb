"""Shared fixtures: the in-process CLI, the golden-update option, the live marker."""

from __future__ import annotations

import os
import sys

import pytest

from oomutil.cli import main as cli_main


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true",
                     help="rewrite tests/golden/* from the current output (review the diff)")


# The guard of the suite (tests/test_guard.py): the suite runs on users' own servers, and a
# test may change only processes it started.  Before the first test, every process that
# exists (and is not this one) is noted with its oom_score_adj; the last test compares.
GUARDS = ("test_no_foreign_process_was_changed", "test_no_real_oom_kill_on_this_host_when_opted_out")


def pytest_configure(config):
    from helpers import adj_of_every_process, oom_kill_count

    config.foreign_adj = adj_of_every_process(but=os.getpid())
    config.oom_kills_before = oom_kill_count()


def pytest_collection_modifyitems(config, items):
    items.sort(key=lambda item: item.name in GUARDS)  # stable: the guards run last
    if os.environ.get("OOMUTIL_REAL_OOM") == "0":
        # each real kill pushes older reports out of this host's kernel log, which its user
        # may be reading: the opt-out (the VM's kills are its own)
        skip_oom = pytest.mark.skip(reason="OOMUTIL_REAL_OOM=0: no real OOM kill on this host")
        for item in items:
            if "real_oom" in item.keywords:
                item.add_marker(skip_oom)
    # Live tests read this machine's /proc: only a Linux machine has one.
    if sys.platform.startswith("linux") and os.path.isfile("/proc/self/stat"):
        return
    skip = pytest.mark.skip(reason=f"live tests need a Linux /proc; this is {sys.platform}")
    for item in items:
        if "live" in item.keywords or "root" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def cli(capsys):
    """Run ``oomutil ARGS`` in this process: returns (exit code, stdout, stderr)."""

    def run(*args):
        try:
            code = cli_main([str(a) for a in args])
        except SystemExit as exit_:  # argparse usage errors, --help, --version
            code = exit_.code
        out, err = capsys.readouterr()
        return code, out, err

    return run

