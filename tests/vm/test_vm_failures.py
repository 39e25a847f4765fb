"""A failure inside the VM reaches the pytest report with the scenario's output and the
kernel's last lines, never as a bare timeout."""

from __future__ import annotations

import os

import pytest
import vm

pytestmark = pytest.mark.vm

CRASH = r"""
import os, sys
print("crash scenario: about to die", flush=True)
fd = os.open("/dev/kmsg", os.O_WRONLY)
os.write(fd, b"<3>crash scenario: a kernel line before the end\n")
os.close(fd)
os.kill(os.getpid(), 9)
"""


def test_a_scenario_that_dies_shows_its_output_and_the_kernel_lines(tmp_path):
    if os.environ.get("OOMUTIL_VM", "1") == "0":
        pytest.skip("VM tests turned off by OOMUTIL_VM=0")
    (tmp_path / "crash.py").write_text(CRASH)
    try:
        with pytest.raises(vm.VmFailed) as failed:
            vm.boot(str(tmp_path), entry="crash.py", timeout=120)
    except vm.Unavailable as exc:
        pytest.skip(f"no VM here: {exc.reason}")
    message = str(failed.value)
    assert "crash scenario: about to die" in message
    assert "crash scenario: a kernel line before the end" in message
    assert "timed out" not in message


def test_a_scenario_that_raises_fails_with_its_traceback_and_the_console():
    boot = vm.BootResult({"scenario_x": {"error": "Traceback ...\nValueError: boom"}},
                         "[ 1.0] booted\n[ 2.0] Memory cgroup out of memory: Killed process 7\n", 2.0)
    with pytest.raises(vm.ScenarioFailed) as failed:
        vm.report(boot, "scenario_x")
    assert "ValueError: boom" in str(failed.value) and "Killed process 7" in str(failed.value)
