"""parse_report(): every part of an OOM report, on real reports from public threads
(tests/fixtures/report-samples/MANIFEST.md) and on the formats of each kernel era."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from oomutil.events.parse import strip_prefix
from oomutil.events.report import (FreeArea, Hugepages, MemcgCounter, OomReport, Task, Trigger, Zone,
                                   memcg_stat_is_count, parse_report)

SAMPLES = Path(__file__).parent / "fixtures" / "report-samples"
KB = 1024


def texts(name: str) -> list:
    """The sample's message texts, prefixes stripped as the events reader strips them."""
    return [strip_prefix(line).text for line in (SAMPLES / name).read_text().splitlines()]


def sample(name: str) -> OomReport:
    return parse_report(texts(name))


EMPTY = parse_report([])
SAMPLE_FILES = sorted(p.name for p in SAMPLES.glob("*.txt"))


def test_every_sample_is_listed_in_the_manifest():
    manifest = (SAMPLES / "MANIFEST.md").read_text()
    assert len(SAMPLE_FILES) >= 8
    assert [f for f in SAMPLE_FILES if f"`{f}`" not in manifest] == []


@pytest.mark.parametrize("name", SAMPLE_FILES)
def test_every_line_of_a_real_report_is_read(name):
    assert sample(name).unparsed == 0


# -- the eras, on real reports ----------------------------------------------------------


def test_2_6_32_rhel6_memcg():
    r = sample("linux-2.6.32-rhel6-memcg-v1.txt")
    assert r.release == "2.6.32-220.7.1.el6.x86_64" and r.taint == "Not tainted"
    assert r.trigger == Trigger(comm="t", pid=15462, gfp_mask="0xd0", gfp_flags=("GFP_KERNEL",), order=0,
                                oom_score_adj=0, oom_adj=0)  # the names 2.6.32's gfp.h gives 0xd0
    assert r.mem_info_pages["writeback"] == 12822 and r.mem_info_pages["unstable"] == 0
    assert len(r.mem_info_pages) == 17 and r.nodes == ()
    dma, dma32 = r.zones
    assert (dma.node, dma.name, dma.free_bytes, dma.min_bytes, dma.present_bytes) == (0, "DMA", 15704 * KB, 592 * KB,
                                                                                   15308 * KB)
    assert dma.managed_bytes is None and dma.boost_bytes is None  # not printed before 3.x / 5.0
    assert dma.lowmem_reserve_pages == (0, 1120, 1120, 1120)
    assert dma32.other["kernel_stack"] == 2216 * KB and dma32.other["pages_scanned"] == 0
    assert dma32.other["isolated(anon)"] == 0 and dma32.pagetables_bytes == 6988 * KB
    assert r.free_areas[1] == FreeArea(0, "DMA32", r.free_areas[1].chunks, 95888 * KB)
    assert r.free_areas[1].chunks[1] == (8 * KB, 882) and len(r.free_areas[1].chunks) == 11
    assert (r.pagecache_pages, r.swap_cache_pages, r.ram_pages, r.reserved_pages) == (211205, 60108, 294896, 7632)
    assert (r.swap_free_bytes, r.swap_total_bytes) == (1720104 * KB, 2064376 * KB)
    assert r.highmem_pages is None and r.other_pages == {"shared": 100154, "non-shared": 171738}
    assert r.page_size == 4096
    assert r.memcg == (MemcgCounter("memory", 102400 * KB, 102400 * KB, 756),
                       MemcgCounter("memory+swap", 206240 * KB, 1048576 * KB, 0))
    assert r.task_columns == ("pid", "uid", "tgid", "total_vm", "rss", "cpu", "oom_adj", "oom_score_adj", "name")
    assert r.tasks == (Task(15462, 500, 15462, 58346, 12903, None, None, None, None, None, 0, 0, 3, "t"),)
    assert (r.selected_pid, r.selected_comm, r.kernel_score) == (15462, "t", 1000)


def test_3_7_memcg_v1_one_line_stats_per_cgroup_and_nr_ptes():
    r = sample("linux-3.7-memcg-v1-hierarchy.txt")
    assert r.release == "3.7.0+" and r.trigger.pid == 2704 and r.trigger.comm == "mal-80"
    assert r.trigger.oom_adj is None and r.trigger.gfp_flags == ("GFP_KERNEL",)  # 0xd0, named by 3.7's gfp.h
    assert r.memcg[2] == MemcgCounter("kmem", 0, 9007199254740991 * KB, 0)
    assert r.memcg_stats_path == "/A"
    assert r.memcg_stats["rss"] == 30984 * KB and r.memcg_stats["active_anon"] == 24072 * KB
    assert [path for path, _ in r.memcg_stats_children] == ["/A/B", "/A/C", "/A/B/D"]
    assert r.memcg_stats_children[2][1]["rss"] == 71352 * KB
    # no free lists in a 3.x memcg report: the page size is total-vm (kB) over total_vm (pages)
    assert r.page_size == 4096 and r.zones == () and r.mem_info_pages == {}
    assert r.task_columns[5] == "nr_ptes" and len(r.tasks) == 6
    assert r.tasks[-1] == Task(2704, 0, 2704, 21520, 17839, None, None, None, 43 * 4096, 0, 0, None, None, "mal-80")
    assert (r.selected_pid, r.kernel_score) == (2704, 669)


def test_4_7_global_without_node_prefix_nr_pmds_and_reaper():
    r = sample("linux-4.7-global-nonnuma.txt")
    assert r.release == "4.7.0-rc7-think+"
    assert r.trigger == Trigger(comm="sendmail-mta", pid=1842, gfp_mask="0x24201ca",
                                gfp_flags=("GFP_HIGHUSER_MOVABLE", "__GFP_COLD"), order=0, oom_score_adj=0)
    # the continuation lines of the one Mem-Info printk
    assert r.mem_info_pages["shmem"] == 4291476 and r.mem_info_pages["free_cma"] == 0
    assert r.mem_info_pages["free_pcp"] == 183 and len(r.mem_info_pages) == 19
    assert [(z.node, z.name) for z in r.zones] == [(None, "DMA"), (None, "DMA32"), (None, "Normal")]
    normal = r.zones[2]
    assert (normal.free_bytes, normal.min_bytes, normal.managed_bytes) == (54648 * KB, 54696 * KB, 14251916 * KB)
    assert normal.lowmem_reserve_pages == (0, 0, 0, 0) and r.zones[1].lowmem_reserve_pages == (0, 0, 13917, 13917)
    assert normal.local_pcp_bytes == 124 * KB and normal.other["shmem"] == 13877512 * KB
    assert [(a.node, a.zone, a.total_bytes) for a in r.free_areas] == [
        (None, "DMA", 15880 * KB), (None, "DMA32", 68272 * KB), (None, "Normal", 54712 * KB)]
    assert r.free_areas[2].chunks[0] == (4096, 1358)
    assert r.hugepages == (Hugepages(0, 1048576 * KB, 0, 0, 0), Hugepages(0, 2048 * KB, 0, 0, 0))
    assert (r.swap_free_bytes, r.swap_total_bytes, r.highmem_pages, r.hwpoisoned_pages) == (0, 7964668 * KB, 0, 0)
    assert r.task_columns[5:7] == ("nr_ptes", "nr_pmds") and len(r.tasks) == 32
    journal = r.tasks[0]
    assert (journal.pid, journal.rss_pages, journal.pgtables_bytes, journal.swapents) == (749, 782, (29 + 3) * 4096,
                                                                                          385)
    assert r.tasks[20].name == "(sd-pam)" and r.tasks[9].oom_score_adj == -900
    assert r.reaped == ((26334, 0, 0, 136724 * KB),)
    assert r.selected_pid is None  # the poster's patch printed no kill


def test_6_3_v2_stats_block_and_pgtables_bytes():
    r = sample("linux-6.3-memcg-v1-cgroup-v2-stats.txt")
    assert r.trigger == Trigger() and r.release is None  # the post starts at the counters
    assert r.memcg_stats_path == "/a" and len(r.memcg_stats) == 53
    assert r.memcg_stats["anon"] == 9900032 and r.memcg_stats["percpu"] == 15584
    assert r.memcg_stats["pgfault"] == 2750 and r.memcg_stats["thp_collapse_alloc"] == 1
    assert r.task_columns[5] == "pgtables_bytes" and len(r.tasks) == 11
    assert r.tasks[0] == Task(108, 0, 108, 2986, 2624, None, None, None, 61440, 0, 0, None, None, "tail")
    assert (r.selected_pid, r.selected_comm, r.kernel_score) == (108, "tail", None)
    assert r.page_size == 4096  # 11944 kB / 2986 pages


def test_6_5_v1_many_line_stats():
    r = sample("linux-6.5-memcg-v1-manyline-stats.txt")
    assert r.memcg[2] == MemcgCounter("kmem", 548 * KB, 9007199254740988 * KB, 0)
    assert len(r.memcg_stats) == 40 and r.memcg_stats["rss_huge"] == 2097152
    assert r.memcg_stats["hierarchical_memsw_limit"] == 9223372036854771712
    assert r.memcg_stats["total_pgfault"] == 2734 and r.memcg_stats_children == ()


def test_6_8_memcg_order_3_and_rss_split_table():
    r = sample("linux-6.8-memcg-v1-order3.txt")
    assert r.release == "6.8.0-rc6+" and r.hardware.startswith("Tencent Cloud CVM, BIOS")
    assert r.trigger.order == 3 and r.trigger.gfp_mask == "0x101c4a"
    assert r.trigger.gfp_flags == ("GFP_NOFS", "__GFP_HIGHMEM", "__GFP_HARDWALL", "__GFP_MOVABLE", "__GFP_WRITE")
    assert r.memcg[0] == MemcgCounter("memory", 1048556 * KB, 1048576 * KB, 153)
    assert r.memcg_stats["dirty"] == 1072365568 and r.memcg_stats["total_unevictable"] == 0
    assert r.task_columns == ("pid", "uid", "tgid", "total_vm", "rss", "rss_anon", "rss_file", "rss_shmem",
                              "pgtables_bytes", "swapents", "oom_score_adj", "name")
    assert r.tasks == (Task(6911, 0, 6911, 55506, 640, 256, 384, 0, 73728, 0, 0, None, None, "dd"),)
    assert r.page_size is None  # no free lists, no kill line: nothing says


def test_6_12_uid_kdump_and_64k_pages():
    r = sample("linux-6.12-memcg-v2-fragment.txt")
    assert r.release == "6.12.0-211.el10.ppc64le" and r.taint == "Not tainted"
    assert r.trigger == Trigger(comm="test_zswap", pid=177372, uid=0, gfp_mask="0xcc0", gfp_flags=("GFP_KERNEL",),
                                order=0, oom_score_adj=0)
    assert r.hardware.startswith("IBM,9009-41A POWER9")
    assert r.tasks[0].swapents == 96 and r.tasks[0].pgtables_bytes == 51200
    assert r.page_size == 65536  # 36544 kB / 571 pages: ppc64le's 64 kB pages


def test_rpi_free_cma_zone_without_node():
    r = sample("rpi-3872-nonnuma-cma-fragment.txt")
    ((node, sizes, other),) = r.nodes
    assert node == 0 and sizes["inactive_file"] == 27096 * KB and sizes["sec_pagetables"] == 0
    assert other == {"all_unreclaimable": "no"}
    (dma,) = r.zones
    assert (dma.node, dma.name, dma.free_bytes, dma.free_cma_bytes) == (None, "DMA", 519112 * KB, 513592 * KB)
    assert (dma.boost_bytes, dma.reserved_highatomic_bytes, dma.writepending_bytes) == (7216 * KB, 0, 78556 * KB)
    assert dma.lowmem_reserve_pages == (0, 0, 3188, 3188)
    assert r.free_areas[0].chunks[-1] == (4096 * KB, 125) and r.free_areas[0].total_bytes == 519120 * KB
    assert (r.ram_pages, r.highmem_pages, r.cma_reserved_pages) == (1012736, 816128, 131072)
    assert r.tasks == () and r.task_columns[-1] == "name"


# -- formats of other eras, one line each -----------------------------------------------


def test_trigger_line_variants():
    t = parse_report(["a.out invoked oom-killer: gfp_mask=0x201da, order=0, oom_adj=-17"]).trigger  # 2.6.34
    assert (t.comm, t.gfp_mask, t.order, t.oom_adj, t.oom_score_adj) == ("a.out", "0x201da", 0, -17, None)
    t = parse_report(["x invoked oom-killer: gfp_mask=0x26000c0, order=2, oom_score_adj=-17"]).trigger  # 4.4
    assert (t.gfp_flags, t.order, t.oom_score_adj) == (("GFP_KERNEL", "__GFP_NOTRACK"), 2, -17)  # named by 4.4's
    t = parse_report(["oom02 invoked oom-killer: gfp_mask=0x16080c0(GFP_KERNEL|__GFP_ZERO|__GFP_NOTRACK), "
                      "nodemask=0-1,3,  order=0, oom_score_adj=0"]).trigger  # 4.x, a node list
    assert (t.nodemask, t.gfp_flags[2]) == ("0-1,3", "__GFP_NOTRACK")
    t = parse_report(["kworker/0:1 invoked oom-killer: gfp_mask=0x0(), order=-1, oom_score_adj=0"]).trigger  # sysrq
    assert (t.comm, t.gfp_mask, t.gfp_flags, t.order) == ("kworker/0:1", "0x0", (), -1)
    t = parse_report(["mal-80 invoked oom-killer:gfp_mask=0xd0, order=0, oom_score_adj=0"]).trigger
    assert t.gfp_mask == "0xd0"
    # a comm may start with a digit or look like a zone name
    assert parse_report(["7z invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0"]).trigger.comm == "7z"
    assert parse_report(["Normal worker invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, "
                         "oom_score_adj=0"]).trigger.comm == "Normal worker"


def test_cpu_line_variants():
    r = parse_report(["CPU: 0 PID: 881 Comm: nginx: worker Not tainted 4.9.0-8-amd64 #1 Debian 4.9.130-2"])
    assert (r.trigger.pid, r.trigger.comm, r.release) == (881, "nginx: worker", "4.9.0-8-amd64")
    r = parse_report(["CPU: 3 PID: 530 Comm: python3 Tainted: G         C O    4.14.79-v7+ #1159"])
    assert (r.taint, r.release) == ("Tainted: G         C O", "4.14.79-v7+")
    r = parse_report(["CPU: 1 UID: 1000 PID: 16642 Comm: python3 Tainted: G           O       6.18.44 #1",
                      "Tainted: [O]=OOT_MODULE"])  # 6.10+ spells the flags out on a line of their own
    assert (r.trigger.uid, r.trigger.pid, r.release, r.unparsed) == (1000, 16642, "6.18.44", 0)
    # the trigger line's comm wins over the CPU line's (which 6.x cuts at 20 characters)
    r = parse_report(["python3 invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0",
                      "CPU: 1 PID: 2 Comm: other Not tainted 6.1.0 #1"])
    assert r.trigger.comm == "python3"


def test_numa_zones_highmem_movable_and_caller_tags():
    r = parse_report([
        "[ T1234] Node 1 Normal free:1000kB boost:0kB min:100kB low:200kB high:300kB reserved_highatomic:2048KB "
        "active_anon:1kB inactive_anon:2kB active_file:3kB inactive_file:4kB unevictable:0kB writepending:0kB "
        "present:8388608kB managed:8000000kB mlocked:0kB bounce:0kB free_pcp:12kB local_pcp:4kB free_cma:0kB",
        "[ T1234] lowmem_reserve[]: 0 0 0 0 0",
        "HighMem free:530kB min:128kB low:2000kB high:3000kB present:3145728kB managed:3145728kB free_cma:512kB",
        "lowmem_reserve[]: 0 0 0",
        "[    C2] Node 1 Movable free:4kB min:1kB low:2kB high:3kB",
        "Node 1 Normal: 1*4kB (U) 0*8kB 1*16kB (M) = 20kB",
        "HighMem: 0*4kB 1*8kB (C) = 8kB",
        "Node 1 hugepages_total=4 hugepages_free=1 hugepages_surp=0 hugepages_size=2048kB",
    ])
    assert [(z.node, z.name) for z in r.zones] == [(1, "Normal"), (None, "HighMem"), (1, "Movable")]
    assert r.zones[0].reserved_highatomic_bytes == 2048 * KB and r.zones[0].lowmem_reserve_pages == (0,) * 5
    assert r.zones[1].free_cma_bytes == 512 * KB and r.zones[2].lowmem_reserve_pages == ()
    assert r.free_areas == (FreeArea(1, "Normal", ((4096, 1), (8192, 0), (16384, 1)), 20 * KB),
                            FreeArea(None, "HighMem", ((4096, 0), (8192, 1)), 8 * KB))
    assert r.hugepages == (Hugepages(1, 2048 * KB, 4, 1, 0),)
    assert r.page_size == 4096 and r.unparsed == 0


def test_node_line_of_4_x_with_spaces_after_thp_colons():
    (node,) = parse_report(["Node 0 active_anon:10kB shmem:4kB shmem_thp: 0kB shmem_pmdmapped: 0kB anon_thp: 2048kB "
                            "writeback_tmp:0kB unstable:0kB all_unreclaimable? yes"]).nodes
    assert node == (0, {"active_anon": 10 * KB, "shmem": 4 * KB, "shmem_thp": 0, "shmem_pmdmapped": 0,
                        "anon_thp": 2048 * KB, "writeback_tmp": 0, "unstable": 0}, {"all_unreclaimable": "yes"})


def test_v2_memcg_swap_line_and_many_line_block_in_one_text():
    r = parse_report(["memory: usage 51200kB, limit 51200kB, failcnt 37",
                      "swap: usage 0kB, limit 0kB, failcnt 0",
                      "Memory cgroup stats for /user.slice/app.slice/run-u820.service:\nanon 49152000\nfile 0\n"
                      "pgfault 1200",
                      "Tasks state (memory values in pages):"])
    assert r.memcg[1] == MemcgCounter("swap", 0, 0, 0)
    assert r.memcg_stats_path == "/user.slice/app.slice/run-u820.service"
    assert r.memcg_stats == {"anon": 49152000, "file": 0, "pgfault": 1200}


def test_memcg_stat_units():
    assert [memcg_stat_is_count(k) for k in ("pgfault", "pgscan_kswapd", "workingset_refault_anon", "thp_fault_alloc",
                                             "zswpout", "total_pgmajfault", "numa_pages_migrated")] == [True] * 7
    assert [memcg_stat_is_count(k) for k in ("anon", "file", "slab", "percpu", "total_rss", "shmem_thp",
                                             "hierarchical_memory_limit", "swapcached")] == [False] * 8


def test_kill_lines_of_every_era():
    r = parse_report(["Out of memory: kill process 1913 (plymouthd) score 1 or a child",  # 2.6.34
                      "Killed process 1913 (plymouthd) vsz:5160kB, anon-rss:392kB, file-rss:1068kB"])
    assert (r.selected_pid, r.selected_comm, r.kernel_score) == (1913, "plymouthd", 1)
    # before 5.1 the child sacrificed is killed, the parent is the one selected
    r = parse_report(["Out of memory: Kill process 2210 (java) score 951 or sacrifice child",
                      "Killed process 2301 (java worker) total-vm:16384000kB, anon-rss:15600000kB, file-rss:1200kB, "
                      "shmem-rss:0kB",
                      "oom_reaper: reaped process 2301 (java worker), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB"])
    assert (r.selected_pid, r.selected_comm, r.kernel_score, r.reaped) == (2210, "java", 951, ((2301, 0, 0, 0),))
    r = parse_report(["Tasks in /g are going to be killed due to memory.oom.group set",
                      "Memory cgroup out of memory: Killed process 5 (a (b)) total-vm:100kB, anon-rss:4kB, "
                      "file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:40kB oom_score_adj:0",
                      "Memory cgroup out of memory: Killed process 6 (c) total-vm:100kB, anon-rss:4kB, file-rss:0kB, "
                      "shmem-rss:0kB, UID:0 pgtables:40kB oom_score_adj:0",
                      "oom_reaper: reaped process 5 (a (b)), now anon-rss:8kB, file-rss:0kB, shmem-rss:0kB",
                      "oom_reaper: unable to reap pid:6 (c)"])
    assert (r.group_memcg, r.selected_pid, r.selected_comm, r.kernel_score) == ("/g", 5, "a (b)", None)
    assert r.reaped == ((5, 8 * KB, 0, 0),) and r.unparsed == 0


def test_table_rows_are_read_by_their_header():
    r = parse_report(["[ pid ]   uid  tgid total_vm      rss cpu oom_adj name",  # 2.6.32 mainline
                      "[ 1913]     0  1913     1290      365   1     -17 plymouthd",
                      "[pid] uid tgid total_vm rss nr_ptes swapents oom_score_adj name",  # squeezed by a forum
                      "[9252] 0 9252 16106 843 36 0 0 big alloc"])
    assert r.tasks[0] == Task(1913, 0, 1913, 1290, 365, None, None, None, None, None, None, -17, 1, "plymouthd")
    # nr_ptes without a page size in the report: bytes unknown
    assert (r.tasks[1].name, r.tasks[1].pgtables_bytes, r.page_size) == ("big alloc", None, None)
    # vendor tables with a column Task has no field for (ppid)
    r = parse_report(["[ pid ]   uid  tgid  ppid total_vm      rss nr_ptes nr_pmds swapents oom_score_adj name",
                      "[ 100]  1000   100     1     5000      300      10       2        0             0 app",
                      "Node 0 DMA: 1*4kB = 4kB"])
    assert (r.tasks[0].total_vm_pages, r.tasks[0].pgtables_bytes) == (5000, 12 * 4096)
    # rows without their header, or cut, cannot be read
    r = parse_report(["[  749]     0   749    13116      782      29       3      385             0 x"])
    assert (r.tasks, r.unparsed) == ((), 1)


def test_page_lines():
    r = parse_report(["8810 total pagecache pages", "0 pages in swap cache", "2097022 pages RAM",
                      "0 pages HighMem/MovableOnly", "67366 pages reserved", "0 pages cma reserved",
                      "5 pages hwpoisoned", "12 pages in pagetable cache", "Free swap  = 0kB", "Total swap = 8kB"])
    assert (r.pagecache_pages, r.swap_cache_pages, r.ram_pages, r.highmem_pages, r.reserved_pages,
            r.cma_reserved_pages, r.hwpoisoned_pages) == (8810, 0, 2097022, 0, 67366, 0, 5)
    assert r.other_pages == {"in pagetable cache": 12} and (r.swap_free_bytes, r.swap_total_bytes) == (0, 8 * KB)
    assert parse_report(["232 pages HighMem"]).highmem_pages == 232  # 2.6


# -- never a traceback ----------------------------------------------------------------------


@pytest.mark.parametrize("name", SAMPLE_FILES)
def test_every_prefix_of_a_sample_parses(name):
    lines = texts(name)
    full = parse_report(lines)
    for n in range(len(lines) + 1):
        part = parse_report(lines[:n])
        assert isinstance(part, OomReport)
        assert len(part.tasks) <= len(full.tasks) and len(part.zones) <= len(full.zones)
        assert set(part.mem_info_pages.items()) <= set(full.mem_info_pages.items())


@pytest.mark.parametrize("name", SAMPLE_FILES)
def test_every_cut_and_mangled_line_parses(name):
    rng = random.Random(name)
    lines = texts(name)
    for line in lines:
        for cut in {0, 1, len(line) // 3, len(line) // 2, len(line) - 1}:
            parse_report([line[:cut]])
            parse_report([line[cut:]])
        mangled = "".join(rng.choice("0-x:*=([ ]kB") if c.isdigit() and rng.random() < 0.3 else c for c in line)
        assert isinstance(parse_report([mangled]), OomReport)


def test_junk_parses_to_an_empty_report():
    rng = random.Random(23)
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _-./()[]{}#|\\\t\"'"
    junk = ["".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 120))) for _ in range(3000)]
    junk += ["", " ", "\n", "\x00\xff", "Call Trace:", " <TASK>", "RAX: 0000000000000010 RBX: 00007f1bc2cb4000",
             "sysrq: Manual OOM execution", "a.out cpuset=/ mems_allowed=0", "Swap cache stats: add 0, delete 0",
             "oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom",
             "Mem-Info:", "Tasks state (memory values in pages):", "COMPACTION is disabled!!!"]
    assert parse_report(junk) == EMPTY
    assert EMPTY.trigger == Trigger() and EMPTY.unparsed == 0 and EMPTY.memcg_stats == {}
    assert parse_report([None, 42, b"x"]) == EMPTY  # type: ignore[list-item]


def test_records_are_plain_named_tuples():
    r = sample("linux-4.7-global-nonnuma.txt")
    assert isinstance(r.zones[0], Zone) and r.zones[0]._fields[-2:] == ("lowmem_reserve_pages", "other")
    assert r._replace(unparsed=5).unparsed == 5
    assert OomReport._fields[:4] == ("release", "taint", "hardware", "trigger")
