"""docs/adjusting.md and the adj/run texts against fs/proc/base.c and kernel/fork.c (issue 24)."""

from __future__ import annotations

from pathlib import Path

import oomutil.process
from oomutil.cli import adj

DOC = (Path(__file__).resolve().parent.parent / "docs" / "adjusting.md").read_text()


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_sharing_the_memory_is_clone_vm_since_4_8_and_not_vfork():
    doc = _flat(DOC)
    assert "4.7" not in doc and "(vfork children)" not in doc
    assert "since Linux 4.8" in doc and "clone(CLONE_VM)" in doc
    assert "a vfork child keeps its own value" in doc.lower()
    for text in (oomutil.process.Process.set_oom_score_adj.__doc__, adj._set.__doc__):
        flat = _flat(text)
        assert "4.7" not in flat and "(vfork children)" not in flat and "4.8" in flat and "CLONE_VM" in flat


def test_the_floor_is_the_last_privileged_write_raises_included():
    doc = _flat(DOC)
    assert "is the lowest value a process with that capability set" not in doc
    assert ("the value of the last `oom_score_adj` write by a process with `CAP_SYS_RESOURCE`, raises "
            "included") in doc
    assert "`OOMScoreAdjust=500` gives floor 500" in doc
    assert "writes to the legacy `oom_adj` never move it" in doc
    # the batch recipe: as root with the capability, -n 800 pins the floor at 800
    assert "pins their floor at 800" in doc


def test_run_does_not_say_that_the_floor_is_0():
    import argparse

    from oomutil.cli import run

    sub = argparse.ArgumentParser().add_subparsers()
    run.register(sub, [], "run")
    text = _flat(sub.choices["run"].description)
    assert "below 0" not in text
    assert "below its floor" in text and "raises included" in text


def test_refusal_causes_are_in_the_kernels_order():
    doc = _flat(DOC)
    assert "A refusal names its cause in the kernel's order. First the file" in doc
    assert "writing `oom_adj` 8 stores 470 and is refused" in doc


def test_kubernetes_values_are_kubelets():
    """pkg/kubelet/qos/policy.go: Burstable is clamped at 1000 + guaranteedOOMScoreAdj (-997) = 3."""
    doc = _flat(DOC)
    assert "max(2," not in doc and "min(max(3, 1000 - (1000 * memory request) / node capacity), 999)" in doc
    assert "pkg/kubelet/qos/policy.go" in doc
    assert "restartable init" in doc and "smallest memory request" in doc  # sidecars
    assert "`PodLevelResources`" in doc and "divided equally" in doc
    assert "pause" in doc and "-998" in doc and "defaultSandboxOOMAdj" in doc
    assert "`OOMScoreAdjust=-999` in its own systemd unit" in doc


def test_raising_ones_own_value_is_not_for_everyone():
    """A process that is not dumpable has its /proc files owned by root (task_dump_owner()):
    its own user may not even raise it (tests/test_adj_refusals.py shows it live)."""
    doc = _flat(DOC)
    assert "Anyone may **raise** the value of their own processes (root: of any process)." not in doc
    assert "not dumpable" in doc.split("## Who may change what")[1].split("- **Lowering**")[0]


def _description(module) -> str:
    import argparse

    sub = argparse.ArgumentParser().add_subparsers()
    module.register(sub, [], "help")
    return _flat(next(iter(sub.choices.values())).description)


def test_adj_does_not_say_the_floor_is_the_value_a_privileged_process_set():
    text = _description(adj)
    assert "below the value a privileged process set" not in text
    assert "the value of the last oom_score_adj write by a CAP_SYS_RESOURCE holder, raises included" in text


def test_choom_compatibility_says_where_it_ends():
    doc = _flat(DOC)
    assert "`--choom`" in doc
    assert "pid N's OOM score adjust value changed from A to B" in doc
    assert "choom exits 1 on a usage error" in doc
