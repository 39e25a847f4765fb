"""The VM itself: Linux 6.1, cgroup v2 with the memory controller, the host's Debian
python and the checkout's oomutil inside, and one real memcg OOM (tests/vm/scenarios/
scenario_smoke.py)."""

from __future__ import annotations

import signal

import pytest

pytestmark = pytest.mark.vm


@pytest.fixture(scope="module")
def smoke(scenario):
    return scenario("scenario_smoke")


def test_kernel_is_debian_6_1(smoke):
    assert smoke["release"].startswith("6.1."), smoke["release"]


def test_cgroup_v2_has_the_memory_controller_enabled(smoke):
    assert smoke["memory_controller"] is True, smoke["controllers"]
    assert "memory" in smoke["subtree_control"]


def test_host_python_and_oomutil_run_inside(smoke):
    assert smoke["python_version"].startswith("Python 3."), smoke["python_version"]
    assert 0 <= smoke["oom_score"] <= 2000


def test_zram_and_its_compressor_are_loaded(smoke):
    zram = smoke["zram"]
    assert {"zram", "zsmalloc"} <= set(zram["modules"]), zram
    assert zram["zram0"] and zram.get("disksize") == 16 << 20, zram


def test_one_real_memcg_oom_kills_the_child(smoke):
    oom = smoke["oom"]
    assert oom["returncode"] == -signal.SIGKILL and oom["signal_name"] == "SIGKILL", oom
    assert oom["oom_kill"] == 1 and oom["memory_events"]["oom"] == 1, oom["memory_events"]
    assert 30 <= oom["allocated_mib"] < 64, oom  # killed near the 64M limit, not before
    assert oom["killed_line"] is not None, oom["kmsg_oom_lines"]
    assert f"Killed process {oom['pid']} (python3)" in oom["killed_line"], oom["killed_line"]
    assert len(oom["killed_lines"]) == 1, oom["killed_lines"]
