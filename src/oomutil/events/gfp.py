"""The names of a gfp_mask's flags, as the kernel of a given release prints them.

Since 4.6 the trigger line of an OOM report prints the mask and its names,
``gfp_mask=0x100cca(GFP_HIGHUSER_MOVABLE)`` (``%#x(%pGg)``, lib/vsprintf.c format_flags()
over the table ``__def_gfpflag_names`` of include/trace/events/mmflags.h).  The decoding is
composite first: the table is walked in its order, an entry whose bits are all still set is
printed and its bits cleared, and bits no entry names are printed last as one hex number.
Older kernels print the hex mask alone (``gfp_mask=0x201da``), and the values of the
``___GFP_*`` bits were renumbered several times (4.4, 4.10, 4.16, 5.1), so one mask means
different flags in different releases.  :func:`gfp_flag_names` holds a table per era and
decodes a mask with the table of the release that printed it.

What the tables assume, where a kernel's config changes the bits:

* CONFIG_LOCKDEP off: ``__GFP_NOLOCKDEP`` is 0 and never named (debug kernels set a bit
  no table names, and it is shown as hex, as the kernel shows it before 6.14).
* CONFIG_KASAN_HW_TAGS off (it exists on arm64 with MTE only): from 5.18 the
  ``__GFP_SKIP_*`` flags are 0, so ``GFP_HIGHUSER_MOVABLE`` is ``0x100cca``.  Their bits
  are still named where they had a fixed value (5.18 to 6.9), for a kernel that has them;
  from 6.10 the bits are an enum whose positions follow the config, and bit 24 is taken to
  be ``__GFP_NO_OBJ_EXT`` (CONFIG_SLAB_OBJ_EXT, which CONFIG_MEMCG selects).
* Kernels before 4.6 printed no names: the names are those the definitions of that
  release give (its include/linux/gfp.h), decoded in the same composite-first order.

Without a release, the mask itself chooses the table: an OOM is only invoked by an
allocation that may reclaim directly, so the newest era whose direct-reclaim bit
(``__GFP_DIRECT_RECLAIM``, ``__GFP_WAIT`` before 4.4) is set in the mask, and which knows
every bit of it, is used; failing that, the newest era.

Pure: no I/O.  A decoding is a walk over at most ~45 table entries; eras are found by
bisection over their first releases.
"""

from __future__ import annotations

import re
from bisect import bisect_right

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows the start
    from typing import Dict, List, Optional, Sequence, Tuple

__all__ = ["gfp_flag_names", "era_of", "ERA_LABELS"]


# The order of the names table from 4.6 to 6.13 (include/trace/events/mmflags.h
# __def_gfpflag_names, 4.6 to 6.13; include/trace/events/gfpflags.h show_gfp_flags before):
# composites first, then the single flags.  Each era keeps the names it defines, in this
# order.  Names only pre-4.6 kernels had (__GFP_WAIT, __GFP_KMEMCG, __GFP_NOACCOUNT,
# __GFP_NO_KSWAPD) sit where their bits' successors sit; they were never printed.
_CLASSIC_ORDER = (
    "GFP_TRANSHUGE", "GFP_TRANSHUGE_LIGHT", "GFP_HIGHUSER_MOVABLE", "GFP_HIGHUSER", "GFP_USER",
    "GFP_TEMPORARY", "GFP_KERNEL_ACCOUNT", "GFP_KERNEL", "GFP_NOFS", "GFP_ATOMIC", "GFP_NOIO",
    "GFP_NOWAIT", "GFP_DMA", "__GFP_HIGHMEM", "GFP_DMA32", "__GFP_HIGH", "__GFP_ATOMIC",
    "__GFP_WAIT", "__GFP_IO", "__GFP_FS", "__GFP_COLD", "__GFP_NOWARN", "__GFP_REPEAT",
    "__GFP_RETRY_MAYFAIL", "__GFP_NOFAIL", "__GFP_NORETRY", "__GFP_COMP", "__GFP_ZERO",
    "__GFP_NOMEMALLOC", "__GFP_MEMALLOC", "__GFP_HARDWALL", "__GFP_THISNODE",
    "__GFP_RECLAIMABLE", "__GFP_MOVABLE", "__GFP_KMEMCG", "__GFP_NOACCOUNT", "__GFP_ACCOUNT",
    "__GFP_NOTRACK", "__GFP_NO_KSWAPD", "__GFP_WRITE", "__GFP_RECLAIM", "__GFP_DIRECT_RECLAIM",
    "__GFP_KSWAPD_RECLAIM", "__GFP_OTHER_NODE", "__GFP_ZEROTAGS", "__GFP_SKIP_ZERO",
    "__GFP_SKIP_KASAN_POISON", "__GFP_SKIP_KASAN_UNPOISON", "__GFP_SKIP_KASAN",
)

# From 6.14 (commit "tracing: gfp: Remove duplication of recording GFP flags"): the same
# composites, then GFP_DMA, GFP_DMA32 and __GFP_RECLAIM, then every single flag in bit order
# (TRACE_GFP_FLAGS).  So 6.16 prints GFP_HIGHUSER_MOVABLE|__GFP_ZERO|__GFP_COMP where 6.1
# printed GFP_HIGHUSER_MOVABLE|__GFP_COMP|__GFP_ZERO.
_BIT_ORDER = (
    "GFP_TRANSHUGE", "GFP_TRANSHUGE_LIGHT", "GFP_HIGHUSER_MOVABLE", "GFP_HIGHUSER", "GFP_USER",
    "GFP_KERNEL_ACCOUNT", "GFP_KERNEL", "GFP_NOFS", "GFP_ATOMIC", "GFP_NOIO", "GFP_NOWAIT",
    "GFP_DMA", "GFP_DMA32", "__GFP_RECLAIM", "__GFP_HIGHMEM", "__GFP_MOVABLE",
    "__GFP_RECLAIMABLE", "__GFP_HIGH", "__GFP_IO", "__GFP_FS", "__GFP_ZERO",
    "__GFP_DIRECT_RECLAIM", "__GFP_KSWAPD_RECLAIM", "__GFP_WRITE", "__GFP_NOWARN",
    "__GFP_RETRY_MAYFAIL", "__GFP_NOFAIL", "__GFP_NORETRY", "__GFP_MEMALLOC", "__GFP_COMP",
    "__GFP_NOMEMALLOC", "__GFP_HARDWALL", "__GFP_THISNODE", "__GFP_ACCOUNT", "__GFP_ZEROTAGS",
    "__GFP_NO_OBJ_EXT",
)

# The zone modifiers, the same in every release.
_ZONES = {"DMA": 0x01, "HIGHMEM": 0x02, "DMA32": 0x04, "MOVABLE": 0x08}


def _bits(*layout: str, **values: int) -> "Dict[str, int]":
    """An era's ___GFP_* values: ``layout`` names the bits from 0x10 up, one per bit ("" for
    an unused bit); ``values`` adds flags placed out of that run."""
    out = dict(_ZONES)
    for i, name in enumerate(layout):
        if name:
            out[name] = 0x10 << i
    out.update(values)
    return out


# --- The single flags per era (name without "__GFP_" -> value) ---------------------------
#
# 2.6.32: xuguangmin/linux-2.6.32.67-for-study include/linux/gfp.h (__GFP_WAIT 0x10 ...
# __GFP_RECLAIMABLE 0x80000, __GFP_NOTRACK 0x200000; 0x2000 and 0x100000 unused).
_B_2632 = _bits("WAIT", "HIGH", "IO", "FS", "COLD", "NOWARN", "REPEAT", "NOFAIL", "NORETRY", "",
                "COMP", "ZERO", "NOMEMALLOC", "HARDWALL", "THISNODE", "RECLAIMABLE", "", "NOTRACK")
# 2.6.38: __GFP_NO_KSWAPD 0x400000 and __GFP_OTHER_NODE 0x800000 (THP), GFP_TRANSHUGE
# (LKML diffs of include/linux/gfp.h; the same values in the 3.10 gfp.h below).
_B_2638 = dict(_B_2632, NO_KSWAPD=0x400000, OTHER_NODE=0x800000)
# 3.2: __GFP_WRITE 0x1000000 (J. Weiner, per-zone dirty limits, LKML diff of gfp.h).
_B_32 = dict(_B_2638, WRITE=0x1000000)
# 3.6: __GFP_MEMALLOC 0x2000 (swap over NFS).
_B_36 = dict(_B_32, MEMALLOC=0x2000)
# 3.8: __GFP_KMEMCG 0x100000.  3.10 read: AndreiLux/ref-3.10 include/linux/gfp.h (a
# vendor tree: its __GFP_SLOWHIGHMEM 0x2000000 is not mainline and is left out).
_B_38 = dict(_B_36, KMEMCG=0x100000)
# 3.15: __GFP_KMEMCG removed (V. Davydov, "get rid of __GFP_KMEMCG", LKML diff of gfp.h);
# 0x100000 is __GFP_NOACCOUNT from 4.1 (LKML diff "memcg: add __GFP_NOACCOUNT"; the bit is
# unused in between, so naming it early is harmless).
_B_315 = {k: v for k, v in _B_36.items()}
_B_315["NOACCOUNT"] = 0x100000
# 4.4: M. Gorman's reclaim flags: __GFP_WAIT gone, __GFP_RECLAIMABLE moved to 0x10,
# __GFP_ATOMIC 0x80000, __GFP_DIRECT_RECLAIM 0x400000, __GFP_KSWAPD_RECLAIM 0x2000000,
# __GFP_NO_KSWAPD gone (an annotated 4.4 include/linux/gfp.h found by find_string; the
# 4.10 removal diff below shows the same values).
_B_44 = _bits("RECLAIMABLE", "HIGH", "IO", "FS", "COLD", "NOWARN", "REPEAT", "NOFAIL", "NORETRY",
              "MEMALLOC", "COMP", "ZERO", "NOMEMALLOC", "HARDWALL", "THISNODE", "ATOMIC",
              "NOACCOUNT", "NOTRACK", "DIRECT_RECLAIM", "OTHER_NODE", "WRITE", "KSWAPD_RECLAIM")
# 4.5: __GFP_NOACCOUNT became __GFP_ACCOUNT (same bit), GFP_KERNEL_ACCOUNT: torvalds/linux
# include/trace/events/gfpflags.h @1f7866b4 (the last show_gfp_flags before mmflags.h).
_B_45 = {("ACCOUNT" if k == "NOACCOUNT" else k): v for k, v in _B_44.items()}
# 4.10: __GFP_OTHER_NODE removed, __GFP_WRITE 0x800000, __GFP_KSWAPD_RECLAIM 0x1000000
# (M. Hocko, "mm: get rid of __GFP_OTHER_NODE", 41b6167e8f74, LKML diff of gfp.h).
_B_410 = {k: v for k, v in _B_45.items() if k != "OTHER_NODE"}
_B_410.update(WRITE=0x800000, KSWAPD_RECLAIM=0x1000000)
# 4.13: __GFP_REPEAT renamed __GFP_RETRY_MAYFAIL (same bit 0x400).
_B_413 = {("RETRY_MAYFAIL" if k == "REPEAT" else k): v for k, v in _B_410.items()}
# 4.15: __GFP_COLD (0x100) and __GFP_NOTRACK (0x200000, kmemcheck) removed; the bits stay
# where they were (Ubuntu 4.15.0-108 prints 0x15000c0(GFP_KERNEL_ACCOUNT)).
_B_415 = {k: v for k, v in _B_413.items() if k not in ("COLD", "NOTRACK")}
# 4.16: __GFP_WRITE 0x100, __GFP_DIRECT_RECLAIM 0x200000, __GFP_KSWAPD_RECLAIM 0x400000
# (S. Butt, "save two stranding bits in gfp_mask", LKML diff).  Read at 4.18:
# cai-fuqiang/linux-4.18.0-147 include/linux/gfp.h; at 4.19: 0x88888888/Linux-4.19.
_B_416 = _bits("RECLAIMABLE", "HIGH", "IO", "FS", "WRITE", "NOWARN", "RETRY_MAYFAIL", "NOFAIL",
               "NORETRY", "MEMALLOC", "COMP", "ZERO", "NOMEMALLOC", "HARDWALL", "THISNODE",
               "ATOMIC", "ACCOUNT", "DIRECT_RECLAIM", "KSWAPD_RECLAIM")
# 5.1: A. Dobriyan, "mm: shuffle GFP_* flags" (LKML diff of gfp.h): GFP_KERNEL is 0xcc0.
# Read at 5.10: 06I90/Notes-of-Kernel-5.10.228 include/linux/gfp.h.
_B_51 = _bits("RECLAIMABLE", "HIGH", "IO", "FS", "ZERO", "ATOMIC", "DIRECT_RECLAIM",
              "KSWAPD_RECLAIM", "WRITE", "NOWARN", "RETRY_MAYFAIL", "NOFAIL", "NORETRY",
              "MEMALLOC", "COMP", "NOMEMALLOC", "HARDWALL", "THISNODE", "ACCOUNT")
# 5.14: __GFP_ZEROTAGS 0x800000 and __GFP_SKIP_KASAN_POISON 0x1000000, both unconditional,
# and GFP_HIGHUSER_MOVABLE includes the latter (a 5.14/5.15 gfp.h found by find_string;
# Han-fangyuan/linux-5.15-TPP include/trace/events/mmflags.h names both; Proxmox
# 5.15.158 prints 0x1100cca(GFP_HIGHUSER_MOVABLE)).
_B_514 = dict(_B_51, ZEROTAGS=0x800000, SKIP_KASAN_POISON=0x1000000)
# 5.18: __GFP_SKIP_ZERO 0x1000000, __GFP_SKIP_KASAN_UNPOISON 0x2000000,
# __GFP_SKIP_KASAN_POISON 0x4000000, all 0 without CONFIG_KASAN_HW_TAGS (the diff that
# created include/linux/gfp_types.h in 6.0 shows them; FreshlyCutWax/Linux-Kernel-KTMM-6.1
# include/trace/events/mmflags.h names them only under that config).
_B_518 = dict(_B_51, ZEROTAGS=0x800000, SKIP_ZERO=0x1000000, SKIP_KASAN_UNPOISON=0x2000000,
              SKIP_KASAN_POISON=0x4000000)
# 6.3: __GFP_ATOMIC removed ("0x200u unused", M. Gorman's series, gfp_types.h diff) and the
# two KASAN skips merged into __GFP_SKIP_KASAN 0x2000000.  Read at 6.6:
# CodeLinaro-mirror/qsdk_oss_kernel_linux-ipq-6.6 mmflags.h; at 6.8: torvalds/linux
# include/linux/gfp_types.h @16f5dfbc ("gfp: Include __GFP_NOWARN in GFP_NOWAIT").
_B_63 = {k: v for k, v in _B_518.items() if k not in ("ATOMIC", "SKIP_KASAN_UNPOISON", "SKIP_KASAN_POISON")}
_B_63["SKIP_KASAN"] = 0x2000000
# 6.10: the bits became an enum (S. Baghdasaryan, "mm: enumerate all gfp flags") and
# __GFP_NO_OBJ_EXT was added after the config-dependent bits: bit 24 (0x1000000) on a kernel
# without KASAN_HW_TAGS and LOCKDEP.  Not named by 6.10 to 6.13's table.
_B_610 = {k: v for k, v in _B_63.items() if k not in ("SKIP_ZERO", "SKIP_KASAN")}
# 6.14: names in bit order (above); __GFP_NO_OBJ_EXT named (TRACE_GFP_FLAGS_SLAB).
# Read: torvalds/linux include/trace/events/mmflags.h @01c69ef5 and gfp_types.h.
_B_614 = dict(_B_610, NO_OBJ_EXT=0x1000000)


def _composites(b: "Dict[str, int]", release: "Tuple[int, ...]") -> "Dict[str, int]":
    """The GFP_* combinations an era defines (include/linux/gfp.h, gfp_types.h), from its bits."""
    g = lambda *names: sum(b[n] for n in names)  # noqa: E731
    out = {"GFP_DMA": b["DMA"], "GFP_DMA32": b["DMA32"]}
    if "WAIT" in b:  # before 4.4: __GFP_WAIT is "may sleep and reclaim"
        kernel = g("WAIT", "IO", "FS")
        out.update(GFP_ATOMIC=b["HIGH"], GFP_NOIO=b["WAIT"], GFP_NOFS=g("WAIT", "IO"))
    else:
        reclaim = g("DIRECT_RECLAIM", "KSWAPD_RECLAIM")
        out["__GFP_RECLAIM"] = reclaim
        kernel = reclaim | g("IO", "FS")
        out.update(GFP_NOIO=reclaim, GFP_NOFS=reclaim | b["IO"],
                   GFP_ATOMIC=g("HIGH", "KSWAPD_RECLAIM") | b.get("ATOMIC", 0),
                   GFP_NOWAIT=b["KSWAPD_RECLAIM"] | (b["NOWARN"] if release >= (6, 8) else 0))
        if "ACCOUNT" in b:
            out["GFP_KERNEL_ACCOUNT"] = kernel | b["ACCOUNT"]
    out["GFP_KERNEL"] = kernel
    if release < (4, 14):
        out["GFP_TEMPORARY"] = kernel | b["RECLAIMABLE"]
    user = kernel | b["HARDWALL"]
    out.update(GFP_USER=user, GFP_HIGHUSER=user | b["HIGHMEM"])
    movable = user | b["HIGHMEM"] | b["MOVABLE"]
    if "SKIP_KASAN_POISON" in b and "SKIP_ZERO" not in b:  # 5.14 to 5.17: unconditional then
        movable |= b["SKIP_KASAN_POISON"]
    out["GFP_HIGHUSER_MOVABLE"] = movable
    thp = movable | g("COMP", "NOMEMALLOC", "NOWARN")
    if release >= (4, 8):
        light = thp & ~out["__GFP_RECLAIM"]
        out.update(GFP_TRANSHUGE_LIGHT=light, GFP_TRANSHUGE=light | b["DIRECT_RECLAIM"])
    elif release >= (4, 4):
        out["GFP_TRANSHUGE"] = (thp | b["NORETRY"]) & ~b["KSWAPD_RECLAIM"]
    elif "NO_KSWAPD" in b:
        out["GFP_TRANSHUGE"] = thp | g("NORETRY", "NO_KSWAPD")
    return out


def _table(first: "Tuple[int, ...]", bits: "Dict[str, int]", order: "Sequence[str]") -> "Tuple[Tuple[str, int], ...]":
    named = {("__GFP_" + k): v for k, v in bits.items()}
    named.update(_composites(bits, first))
    return tuple((n, named[n]) for n in order if named.get(n))


# (first release, label, bits, names order).  Each era lasts until the next one's first.
_ERA_DEFS = (
    ((2, 6, 32), "2.6.32", _B_2632, _CLASSIC_ORDER),
    ((2, 6, 38), "2.6.38", _B_2638, _CLASSIC_ORDER),
    ((3, 2), "3.2", _B_32, _CLASSIC_ORDER),
    ((3, 6), "3.6", _B_36, _CLASSIC_ORDER),
    ((3, 8), "3.8", _B_38, _CLASSIC_ORDER),
    ((3, 15), "3.15", _B_315, _CLASSIC_ORDER),
    ((4, 4), "4.4", _B_44, _CLASSIC_ORDER),
    ((4, 5), "4.5", _B_45, _CLASSIC_ORDER),
    ((4, 8), "4.8", _B_45, _CLASSIC_ORDER),  # GFP_TRANSHUGE_LIGHT (mmflags.h, 4.8)
    ((4, 10), "4.10", _B_410, _CLASSIC_ORDER),
    ((4, 13), "4.13", _B_413, _CLASSIC_ORDER),
    ((4, 14), "4.14", _B_413, _CLASSIC_ORDER),  # GFP_TEMPORARY removed
    ((4, 15), "4.15", _B_415, _CLASSIC_ORDER),
    ((4, 16), "4.16", _B_416, _CLASSIC_ORDER),
    ((5, 1), "5.1", _B_51, _CLASSIC_ORDER),
    ((5, 14), "5.14", _B_514, _CLASSIC_ORDER),
    ((5, 18), "5.18", _B_518, _CLASSIC_ORDER),
    ((6, 3), "6.3", _B_63, _CLASSIC_ORDER),
    ((6, 8), "6.8", _B_63, _CLASSIC_ORDER),  # GFP_NOWAIT includes __GFP_NOWARN
    ((6, 10), "6.10", _B_610, _CLASSIC_ORDER),
    ((6, 14), "6.14", _B_614, _BIT_ORDER),
)
_STARTS = [e[0] for e in _ERA_DEFS]
ERA_LABELS = tuple(e[1] for e in _ERA_DEFS)
_TABLES = tuple(_table(first, bits, order) for first, _, bits, order in _ERA_DEFS)
# The bits every era names, and its "may reclaim directly" bit, for choosing without a release.
_KNOWN = tuple(sum(v for k, v in bits.items()) for _, _, bits, _ in _ERA_DEFS)
_RECLAIM_BIT = tuple(bits.get("DIRECT_RECLAIM", bits.get("WAIT", 0)) for _, _, bits, _ in _ERA_DEFS)

_RELEASE = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?")


def _release_key(release: str) -> "Optional[Tuple[int, ...]]":
    m = _RELEASE.search(release)
    if not m:
        return None
    major, minor = int(m.group(1)), int(m.group(2))
    if major == 2:  # 2.6.x: the third number is the release
        return (major, minor, int(m.group(3) or 0))
    return (major, minor)


def era_of(mask: int, release: "Optional[str]") -> str:
    """The label of the table :func:`gfp_flag_names` uses (the first release of its era)."""
    return ERA_LABELS[_era_index(mask, release)]


def _era_index(mask: int, release: "Optional[str]") -> int:
    key = _release_key(release) if release else None
    if key is not None:
        return max(bisect_right(_STARTS, key) - 1, 0)
    for i in range(len(_ERA_DEFS) - 1, -1, -1):
        if mask & _RECLAIM_BIT[i] and not mask & ~_KNOWN[i]:
            return i
    return len(_ERA_DEFS) - 1


def gfp_flag_names(mask: int, release: "Optional[str]") -> "Tuple[str, ...]":
    """The names the kernel of ``release`` (as ``uname -r`` gives it, e.g. "4.18.0-553.el8")
    prints for ``mask``: composites first, in the kernel's order, then single flags, then
    any bits no name covers as one hex number ("0x1000000").  0 gives ()."""
    flags = mask & 0xFFFFFFFF
    out: List[str] = []
    for name, bits in _TABLES[_era_index(flags, release)]:
        if not flags:
            break
        if flags & bits == bits:
            out.append(name)
            flags &= ~bits
    if flags:
        out.append(hex(flags))
    return tuple(out)
