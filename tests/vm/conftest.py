"""The VM tests: one boot of Debian's 6.1 cloud kernel (QEMU, cgroup v2) per test run, and
a short second one with two NUMA nodes.

``vm_boot`` boots once per session with every scenario of tests/vm/scenarios;
``scenario(name)`` hands out what one of them returned (a failure with its traceback and
the console's last lines where it raised).  ``numa_boot``/``numa_scenario``: the same for
a second boot with two NUMA nodes, which runs scenario_11_numa only.
Where QEMU, busybox-static or the kernel package cannot be had the tests are skipped with
the reason; a VM that gives no result fails them with the console's last lines.
Set OOMUTIL_VM=0 to skip them (e.g. in a second run of the suite on another Python: the
VM runs the host's Debian python whatever runs pytest).
"""

from __future__ import annotations

import os

import pytest

import vm


def _boot(**kw):
    """vm.boot(**kw), or the test skipped (no VM here, OOMUTIL_VM=0) or failed (no result)."""
    if os.environ.get("OOMUTIL_VM", "1") == "0":
        pytest.skip("VM tests turned off by OOMUTIL_VM=0")
    skip = failure = ""
    try:
        return vm.boot(**kw)
    except vm.Unavailable as exc:
        skip = f"no VM here: {exc.reason}"
    except vm.VmFailed as exc:
        failure = str(exc)  # failed below, outside the except: no chained traceback
    if skip:
        pytest.skip(skip)
    pytest.fail(failure, pytrace=False)


def _reporter(boot):
    def report(name):
        try:
            return vm.report(boot, name)
        except vm.ScenarioFailed as exc:
            pytest.fail(str(exc), pytrace=False)

    return report


@pytest.fixture(scope="session")
def vm_boot():
    """The BootResult of the one boot: data, console text, seconds."""
    return _boot(scenario_dir=vm.SCENARIOS)


@pytest.fixture(scope="session")
def scenario(vm_boot):
    """scenario(name): what that scenario returned in this session's boot (vm.report())."""
    return _reporter(vm_boot)


@pytest.fixture(scope="session")
def numa_boot():
    """A second, short boot with two NUMA nodes (the same 768 MiB and 2 CPUs, split in
    two) that runs scenario_11_numa only: the other scenarios keep their one-node VM."""
    return _boot(scenario_dir=vm.SCENARIOS, args=["scenario_11_numa"], nodes=2)


@pytest.fixture(scope="session")
def numa_scenario(numa_boot):
    """numa_scenario(name): what that scenario returned in the NUMA boot."""
    return _reporter(numa_boot)
