"""The VM tests: one boot of Debian's 6.1 cloud kernel (QEMU, cgroup v2) per test run.

``vm_boot`` boots once per session with every scenario of tests/vm/scenarios;
``scenario(name)`` hands out what one of them returned (a failure with its traceback and
the console's last lines where it raised).
Where QEMU, busybox-static or the kernel package cannot be had the tests are skipped with
the reason; a VM that gives no result fails them with the console's last lines.
Set OOMUTIL_VM=0 to skip them (e.g. in a second run of the suite on another Python: the
VM runs the host's Debian python whatever runs pytest).
"""

from __future__ import annotations

import os

import pytest

import vm


@pytest.fixture(scope="session")
def vm_boot():
    """The BootResult of the one boot: data, console text, seconds."""
    if os.environ.get("OOMUTIL_VM", "1") == "0":
        pytest.skip("VM tests turned off by OOMUTIL_VM=0")
    skip = failure = ""
    try:
        return vm.boot(vm.SCENARIOS)
    except vm.Unavailable as exc:
        skip = f"no VM here: {exc.reason}"
    except vm.VmFailed as exc:
        failure = str(exc)  # failed below, outside the except: no chained traceback
    if skip:
        pytest.skip(skip)
    pytest.fail(failure, pytrace=False)


@pytest.fixture(scope="session")
def scenario(vm_boot):
    """scenario(name): what that scenario returned in this session's boot (vm.report())."""

    def report(name):
        try:
            return vm.report(vm_boot, name)
        except vm.ScenarioFailed as exc:
            pytest.fail(str(exc), pytrace=False)

    return report

