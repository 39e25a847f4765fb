"""gfp_flag_names(): the names a kernel prints for a gfp_mask, per release.

Every (mask, names, release) below was printed by a real kernel; the source of each is
named.  The hex-only masks of kernels before 4.6 decode to what that release's
include/linux/gfp.h defines.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from oomutil.events import gfp
from oomutil.events.gfp import ERA_LABELS, era_of, gfp_flag_names

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

PRINTED = [
    # tests/fixtures/report-samples/linux-4.7-global-nonnuma.txt
    (0x24201CA, "GFP_HIGHUSER_MOVABLE|__GFP_COLD", "4.7.0-rc7-think+", "4.5"),
    # tests/fixtures/logs/journal-short-iso.txt and logs/dmesg-4.15-global.txt (Debian 9)
    (0x24000C0, "GFP_KERNEL", "4.9.0-8-amd64", "4.8"),
    # tests/fixtures/logs/dmesg-4.15-global.txt (Ubuntu 18.04)
    (0x14280CA, "GFP_HIGHUSER_MOVABLE|__GFP_ZERO", "4.15.0-112-generic", "4.15"),
    # github.com/shakenfist/shakenfist issue 177 (Ubuntu 4.15.0-108-generic, KVM vcpu)
    (0x15000C0, "GFP_KERNEL_ACCOUNT", "4.15.0-108-generic", "4.15"),
    # tests/fixtures/reports/rhel8-4.18-rsyslog-012-noswap.txt
    (0x6200CA, "GFP_HIGHUSER_MOVABLE", "4.18.0-553.8.1.el8_10.x86_64", "4.16"),
    # Red Hat solution 5788651 "How to interpret an OOM killer message" (RHEL 8.1)
    (0x6200CA, "GFP_HIGHUSER_MOVABLE", "4.18.0-147.3.1.el8_1.x86_64", "4.16"),
    # github.com/arriven/db1000n issue 555 (Oracle UEK 5.4)
    (0x100CCA, "GFP_HIGHUSER_MOVABLE", "5.4.17-2136.307.3.4.el8uek.x86_64", "5.1"),
    # tests/fixtures/reports/lkml-arm64-5.4-kmemleak-slab-email-wrapped.txt (LKML 2020-09-16)
    (0x40CC0, "GFP_KERNEL|__GFP_COMP", "5.4.51-xxx", "5.1"),
    # tests/fixtures/reports/oomanalyser-ubuntu-5.13-sysrq.txt
    (0xCC0, "GFP_KERNEL", "5.13.0-19-generic", "5.1"),
    # tests/fixtures/reports/oomanalyser-proxmox-5.15-lxc-cgroup2.txt: bit 0x1000000 is
    # __GFP_SKIP_KASAN_POISON, part of GFP_HIGHUSER_MOVABLE from 5.14 to 5.17
    (0x1100CCA, "GFP_HIGHUSER_MOVABLE", "5.15.158-2-pve", "5.14"),
    # tests/fixtures/reports/oomanalyser-arch-6.1.1-global.txt
    (0x140DCA, "GFP_HIGHUSER_MOVABLE|__GFP_COMP|__GFP_ZERO", "6.1.1-arch1-1", "5.18"),
    # tests/fixtures/report-samples/linux-6.8-memcg-v1-order3.txt
    (0x101C4A, "GFP_NOFS|__GFP_HIGHMEM|__GFP_HARDWALL|__GFP_MOVABLE|__GFP_WRITE", "6.8.0-rc6+", "6.8"),
    # tests/fixtures/reports/linux-6.11-dmesg-global-noswap-rss-split.txt
    (0x440DC0, "GFP_KERNEL_ACCOUNT|__GFP_COMP|__GFP_ZERO", "6.11.0-10669-g11a299a7933e-dirty", "6.10"),
    # tests/fixtures/report-samples/linux-6.12-memcg-v2-fragment.txt
    (0xCC0, "GFP_KERNEL", "6.12.0-211.el10.ppc64le", "6.10"),
    # github.com/inducer/relate issue 1383 (Debian 6.16.9): names in bit order from 6.14,
    # __GFP_ZERO before __GFP_COMP (6.1 above printed them the other way round)
    (0x140DCA, "GFP_HIGHUSER_MOVABLE|__GFP_ZERO|__GFP_COMP", "6.16.9+deb14-amd64", "6.14"),
    # github.com/systemd/systemd issue 40208 (Arch 6.17.3, memcg OOM)
    (0xCC0, "GFP_KERNEL", "6.17.3-arch2-1-lily", "6.14"),
    # tests/fixtures/logs/dmesg-6.18.txt, kmsg.txt, dmesg-T.txt
    (0xCC0, "GFP_KERNEL", "6.18.44-fc-v657", "6.14"),
]

# Kernels before 4.6 print the mask only: the names their gfp.h definitions give.
HEX_ONLY = [
    # tests/fixtures/reports/rhel6-2.6.32-syslog-global.txt: __GFP_ZERO is 0x8000 in 2.6.32
    (0x280DA, "GFP_HIGHUSER_MOVABLE|__GFP_ZERO", "2.6.32-642.11.1.el6.x86_64", "2.6.32"),
    # tests/fixtures/logs/syslog-de.txt: __GFP_COLD is 0x100 until 4.14
    (0x201DA, "GFP_HIGHUSER_MOVABLE|__GFP_COLD", "2.6.32-754.el6.x86_64", "2.6.32"),
    # tests/fixtures/report-samples/linux-2.6.32-rhel6-memcg-v1.txt: WAIT|IO|FS
    (0xD0, "GFP_KERNEL", "2.6.32-220.7.1.el6.x86_64", "2.6.32"),
    # tests/fixtures/report-samples/linux-3.7-memcg-v1-hierarchy.txt
    (0xD0, "GFP_KERNEL", "3.7.0+", "3.6"),
    # tests/fixtures/reports/oomanalyser-rhel7-3.10-global.txt
    (0x201DA, "GFP_HIGHUSER_MOVABLE|__GFP_COLD", "3.10.0-514.6.1.el7.x86_64", "3.8"),
    # tests/fixtures/reports/ubuntu-3.13-syslog-indented-cut.txt
    (0x201DA, "GFP_HIGHUSER_MOVABLE|__GFP_COLD", "3.13.0-27-generic", "3.8"),
    # programmer.group "Out of memory, OOM killer output information analysis" (3.14.31):
    # __GFP_RECLAIMABLE is 0x80000 before 4.4, and GFP_TEMPORARY is GFP_KERNEL with it
    (0x800D0, "GFP_TEMPORARY", "3.14.31-00017-g40fab71", "3.8"),
    # github.com/elastic/elasticsearch issue 22788 (Ubuntu 4.4.0-59, order=2 kmalloc_large_node):
    # 4.4's renumbered bits, printed without names
    (0x26142C0, "GFP_KERNEL|__GFP_NOWARN|__GFP_COMP|__GFP_NOMEMALLOC|__GFP_NOTRACK",
     "4.4.0-59-generic", "4.4"),
]


def _names(text):
    return tuple(text.split("|")) if text else ()


@pytest.mark.parametrize("mask, names, release, era", PRINTED + HEX_ONLY)
def test_decodes_as_the_release_printed(mask, names, release, era):
    assert gfp_flag_names(mask, release) == _names(names)
    assert era_of(mask, release) == era


def test_the_corpus_covers_many_eras():
    printed = {(m, n, r) for m, n, r, _ in PRINTED}
    assert len(printed) >= 15
    assert len({e for *_, e in PRINTED}) >= 5


_TRIGGER = re.compile(r"gfp_mask=(0x[0-9a-f]+)\(([^)]*)\)")
_RELEASE = re.compile(r"(?:Not tainted|Tainted:[A-Z\s]*?)\s+(\d+\.\d+[^\s]*)")


def _fixture_pairs():
    for path in sorted(FIXTURES.glob("*/*.txt")):
        text = path.read_text(errors="replace")
        for m in _TRIGGER.finditer(text):
            rel = _RELEASE.search(text, m.end(), m.end() + 600)
            if rel:
                yield path.relative_to(FIXTURES).as_posix(), int(m.group(1), 16), m.group(2), rel.group(1)


def test_every_named_trigger_in_the_fixtures_decodes_as_printed():
    seen = list(_fixture_pairs())
    assert len(seen) >= 10
    wrong = [(p, hex(m), n, r, "|".join(gfp_flag_names(m, r))) for p, m, n, r in seen
             if gfp_flag_names(m, r) != _names(n)]
    assert not wrong


@pytest.mark.parametrize("release, kernel, movable", [
    ("2.6.32", 0xD0, 0x200DA), ("3.10.0", 0xD0, 0x200DA), ("4.4.0", 0x24000C0, 0x24200CA),
    ("4.9.0", 0x24000C0, 0x24200CA), ("4.14.0", 0x14000C0, 0x14200CA), ("4.19.0", 0x6000C0, 0x6200CA),
    ("5.4.0", 0xCC0, 0x100CCA), ("5.10.0", 0xCC0, 0x100CCA), ("5.15.0", 0xCC0, 0x1100CCA),
    ("6.1.0", 0xCC0, 0x100CCA), ("6.6.0", 0xCC0, 0x100CCA), ("6.8.0", 0xCC0, 0x100CCA),
    ("6.12.0", 0xCC0, 0x100CCA),
])
def test_the_two_commonest_masks_in_each_era(release, kernel, movable):
    assert gfp_flag_names(kernel, release) == ("GFP_KERNEL",)
    assert gfp_flag_names(movable, release) == ("GFP_HIGHUSER_MOVABLE",)


def test_transhuge_and_the_composites_that_come_and_go():
    # GFP_TRANSHUGE 4.8 to 4.15: (GFP_HIGHUSER_MOVABLE|COMP|NOMEMALLOC|NOWARN) & ~RECLAIM | DIRECT
    assert gfp_flag_names(0x4742CA, "4.9.0") == ("GFP_TRANSHUGE", "__GFP_THISNODE")
    assert gfp_flag_names(0x1C24CA, "5.10.0") == ("GFP_TRANSHUGE",)
    assert gfp_flag_names(0x1C20CA, "5.10.0") == ("GFP_TRANSHUGE_LIGHT",)
    # GFP_ATOMIC carries __GFP_ATOMIC until 6.3; after it, the bit is unused
    assert gfp_flag_names(0xA20, "6.1.0") == ("GFP_ATOMIC",)
    assert gfp_flag_names(0xA20, "6.6.0") == ("GFP_ATOMIC", "0x200")
    # GFP_NOWAIT includes __GFP_NOWARN from 6.8
    assert gfp_flag_names(0x2800, "6.6.0") == ("GFP_NOWAIT", "__GFP_NOWARN")
    assert gfp_flag_names(0x2800, "6.8.0") == ("GFP_NOWAIT",)
    # GFP_TEMPORARY until 4.13 (GFP_KERNEL | __GFP_RECLAIMABLE)
    assert gfp_flag_names(0x14000D0, "4.13.0") == ("GFP_TEMPORARY",)
    assert gfp_flag_names(0x14000D0, "4.14.0") == ("GFP_KERNEL", "__GFP_RECLAIMABLE")
    # __GFP_REPEAT became __GFP_RETRY_MAYFAIL in 4.13, same bit
    assert gfp_flag_names(0x14004C0, "4.12.0")[-1] == "__GFP_REPEAT"
    assert gfp_flag_names(0x14004C0, "4.13.0")[-1] == "__GFP_RETRY_MAYFAIL"


def test_unknown_bits_come_last_as_one_hex_number():
    assert gfp_flag_names(0x1000CC0, "6.12.0") == ("GFP_KERNEL", "0x1000000")  # __GFP_NO_OBJ_EXT, unnamed
    assert gfp_flag_names(0x1000CC0, "6.14.0") == ("GFP_KERNEL", "__GFP_NO_OBJ_EXT")
    assert gfp_flag_names(0x80000000 | 0xD0, "3.10.0") == ("GFP_KERNEL", "0x80000000")
    assert gfp_flag_names(0, "6.1.0") == ()


@pytest.mark.parametrize("mask, era, names", [
    (0xCC0, "6.14", "GFP_KERNEL"),
    (0x6200CA, "4.16", "GFP_HIGHUSER_MOVABLE"),  # no __GFP_DIRECT_RECLAIM at 0x400: not 5.1+
    (0x14280CA, "4.15", "GFP_HIGHUSER_MOVABLE|__GFP_ZERO"),
    (0x24201CA, "4.8", "GFP_HIGHUSER_MOVABLE|__GFP_COLD"),
    (0x201DA, "3.15", "GFP_HIGHUSER_MOVABLE|__GFP_COLD"),  # __GFP_WAIT: before 4.4
    (0xD0, "3.15", "GFP_KERNEL"),
])
def test_without_a_release_the_mask_chooses_the_era(mask, era, names):
    assert era_of(mask, None) == era
    assert gfp_flag_names(mask, None) == _names(names)


def test_releases_outside_the_tables():
    assert era_of(0xD0, "2.6.18-400.el5") == "2.6.32"  # the oldest table
    assert era_of(0xCC0, "7.1.0") == ERA_LABELS[-1]
    assert gfp_flag_names(0xCC0, "not a release") == ("GFP_KERNEL",)  # as without a release


def test_pure_and_no_runtime_typing():
    tree = ast.parse(Path(gfp.__file__).read_text())
    top = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    modules = {(n.module if isinstance(n, ast.ImportFrom) else n.names[0].name) for n in top}
    assert modules <= {"__future__", "re", "bisect"}
