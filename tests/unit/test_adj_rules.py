"""The reasons oomutil gives for a refused oom_score_adj / oom_adj write, decided as
fs/proc/base.c decides them (issue 24): the floor (oom_score_adj_min) is the value of the
last oom_score_adj write by a CAP_SYS_RESOURCE holder, raises included; oom_adj writes
never move it."""

from __future__ import annotations

import pytest

from oomutil import process
from oomutil.root import Root


@pytest.fixture
def no_cap(monkeypatch):
    monkeypatch.setattr(process, "_self_has_cap_sys_resource", lambda root: False)


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_a_refused_lowering_above_0_blames_the_floor_not_0(no_cap):
    # systemd OOMScoreAdjust=500 set the floor to 500; an unprivileged 800 -> 100 is refused
    why = _flat(process._why_denied(Root("/"), 100, 800))
    assert "below 0" not in why and "0 unless set" not in why and "lowest value" not in why
    assert "below its floor" in why
    assert "the value of the last oom_score_adj write by a CAP_SYS_RESOURCE holder, raises included" in why
    assert "CAP_SYS_RESOURCE, which this process lacks" in why


def test_the_floor_rule_is_worded_as_the_kernel_keeps_it():
    for text in (process.Process.set_oom_score_adj.__doc__, process.Process.write_refusal.__doc__):
        flat = _flat(text)
        assert "lowest value" not in flat and "never above the current value" not in flat
        assert "last" in flat and "raises included" in flat and "oom_adj writes never move it" in flat
