"""oomutil why --html: the page of real reports (tests/fixtures/reports) is self-contained,
escapes what the log holds, and renders in a real headless Chromium (Debian's chromium,
installed by .ci/run) with the verdict and the SVG bars on screen."""

from __future__ import annotations

import html
import os
import re
import shutil
import signal
import struct
import subprocess
import time
import zlib
from collections import Counter

import pytest
from helpers import FIXTURES

import oomutil
from oomutil.cli.why import _document
from oomutil.cli.why_html import PART_COLOURS, ZONE_FREE_LOW, ZONE_FREE_OK, page
from oomutil.events.parse import parse_text
from oomutil.why import explain_report

REPORTS = FIXTURES / "reports"
GLOBAL = "oomanalyser-rhel7-3.10-global.txt"
MEMCG = "oomanalyser-proxmox-5.15-lxc-cgroup2.txt"
SYSRQ = "oomanalyser-ubuntu-5.13-sysrq.txt"
HOSTILE = "<script>alert(1)</script>"  # no space: it stays one task-table name
HOSTILE_CGROUP = "/lxc/\"><svg/onload=alert(1)>"
# anything that makes a browser fetch: a URL in src/href/action/url(), @import, or a tag
# that loads or runs something
FETCHES = re.compile(r"""(?:src|href|action|srcset|poster|data)\s*=\s*["']?\s*(?:[a-z]+:)?//|url\(|@import"""
                     r"""|<(?:script|link|img|iframe|object|embed|base)\b""", re.I)
WIDTH, HEIGHT = 1200, 2000


def _items(text: str, source: str):
    reports = list(oomutil.reports(parse_text(text, source, keep_texts=True)))
    assert reports
    return [(r, x, _document(r, x)) for r, x in ((r, explain_report(r)) for r in reports)]


def _page(name: str, *edits) -> str:
    text = (REPORTS / name).read_text()
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    return page(_items(text, name))


def _hostile_global() -> str:
    """The RHEL 7 report with its victim and its trigger renamed to a script tag."""
    return _page(GLOBAL, ("mysqld", HOSTILE), ("sed invoked", f"{HOSTILE} invoked"),
                 ("Comm: sed ", f"Comm: {HOSTILE} "), (" 0 sed\n", f" 0 {HOSTILE}\n"))


# -- the page itself -------------------------------------------------------------------------


@pytest.mark.parametrize("name", [GLOBAL, MEMCG, SYSRQ])
def test_the_page_holds_every_part_and_fetches_nothing(name):
    [(r, x, doc)] = _items((REPORTS / name).read_text(), name)
    text = page([(r, x, doc)])
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    assert "default-src 'none'" in text
    assert not FETCHES.search(text), FETCHES.search(text)
    for opened in ("section", "svg", "table", "dl"):
        assert text.count(f"<{opened}") == text.count(f"</{opened}>"), opened
    v = doc["verdict"]
    for said in (v["cause"], v["summary"], v["advice"], doc["kernel"], doc["trigger"]["comm"]):
        assert html.escape(said) in text
    assert "<span class=tag>killed</span>" in text
    if name == MEMCG:
        assert "Memory cgroup <code>/lxc/39004</code>" in text and "of the limit" in text
    if name == GLOBAL:
        assert text.count("below min + reserve") >= 3 and "Node 1 Normal" in text
        assert "trigger</span>" in text  # sed, far down the table, is shown all the same
    if name == SYSRQ:
        assert "manual OOM" in text


def test_the_cli_writes_the_page_of_every_report(cli, tmp_path):
    log = tmp_path / "two.log"
    log.write_text((REPORTS / GLOBAL).read_text() + (REPORTS / MEMCG).read_text())
    out = tmp_path / "why.html"
    code, _, err = cli("why", "--all", "--html", out, "--file", log)
    assert code == 0, err
    text = out.read_text()
    assert "2 OOM reports" in text and "memory_exhausted" in text and "memcg_limit" in text
    assert text.index("mysqld") < text.index("php-fpm")  # log order


def test_values_from_the_log_are_escaped():
    text = _hostile_global()
    assert HOSTILE not in text and "<script" not in text
    assert html.escape(HOSTILE) in text
    cgroup = _page(MEMCG, ("/lxc/39004", HOSTILE_CGROUP))
    assert "<svg/onload" not in cgroup and html.escape(HOSTILE_CGROUP) in cgroup


# -- a real browser --------------------------------------------------------------------------


def _chromium():
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.skip("chromium not found: apt-get install --no-install-recommends chromium (.ci/run does)")
    return found


def _ours(leader: int):
    """Live processes of the process group or session ``leader`` started."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # the comm may hold spaces
        if fields[0] != "Z" and leader in (int(fields[2]), int(fields[3])):
            found.append(int(entry))
    return found


def _run_chromium(tmp_path, url: str, *args: str):
    """Run headless Chromium once; no process of it outlives the call.  Returns (seconds, stdout)."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    command = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
               "--disable-extensions", "--disable-background-networking", f"--user-data-dir={home / 'profile'}",
               f"--window-size={WIDTH},{HEIGHT}", *args, url]
    env = dict(os.environ, HOME=str(home))
    start = time.monotonic()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            start_new_session=True)  # its own group: every helper it forks dies with it
    try:
        out, err = proc.communicate(timeout=60)
    finally:
        deadline = time.monotonic() + 10
        while True:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            left = _ours(proc.pid)
            for pid in left:  # a helper that left the group but not the session
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            if not left or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        proc.wait()
    assert not _ours(proc.pid), "a chromium process outlived the test"
    assert proc.returncode == 0, err.decode(errors="replace")[-2000:]
    return time.monotonic() - start, out.decode()


def _png(path):
    """(width, height, Counter of (r, g, b) pixels) of an 8-bit RGB(A) non-interlaced PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat.append(chunk)
        pos += 12 + length
    assert header is not None
    width, height, depth, colour_type, _, _, interlace = header
    assert depth == 8 and colour_type in (2, 6) and interlace == 0, header
    bpp = 3 if colour_type == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    previous = bytearray(stride)
    colours: Counter = Counter()
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if kind == 1:  # Sub
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif kind == 2:  # Up
            line = bytearray((a + b) & 0xFF for a, b in zip(line, previous))
        elif kind == 3:  # Average
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + previous[i]) >> 1)) & 0xFF
        elif kind == 4:  # Paeth
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b, c = previous[i], previous[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        pixels = bytes(line)
        colours.update(zip(pixels[0::bpp], pixels[1::bpp], pixels[2::bpp]))
        previous = line
    return width, height, colours


def _rgb(colour: str):
    return tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))


def test_chromium_renders_the_verdict_and_the_bars(tmp_path):
    _chromium()
    [(r, x, doc)] = _items((REPORTS / GLOBAL).read_text(), GLOBAL)
    path = tmp_path / "why.html"
    path.write_text(page([(r, x, doc)]), encoding="utf-8")
    url = path.as_uri()

    seconds, dom = _run_chromium(tmp_path, url, "--dump-dom")
    for said in (doc["verdict"]["summary"], doc["verdict"]["advice"]):
        assert html.escape(said, quote=False) in dom
    assert "<svg" in dom and "Zones against their watermarks" in dom

    shot = tmp_path / "why.png"
    seconds, _ = _run_chromium(tmp_path, url, f"--screenshot={shot}")
    width, height, colours = _png(shot)
    assert (width, height) == (WIDTH, HEIGHT)
    assert len(colours) > 50, "a blank screenshot"
    white = colours[(255, 255, 255)]
    assert white < width * height * 0.95
    # the memory bar: anon is 94.6 % of RAM, a bar 1000 x 34 CSS pixels wide; "other" (3 %)
    # and "free" (0.5 %) are narrow, but each is more than its legend swatch
    anon, other, free = (_rgb(PART_COLOURS[i]) for i in (0, 8, 9))
    assert colours[anon] > 20000, colours[anon]
    assert colours[other] > 500 and colours[free] > 150, (colours[other], colours[free])
    # the zones: node 1 Normal is above min (green), the three of node 0 below (red)
    assert colours[_rgb(ZONE_FREE_OK)] > 2000 and colours[_rgb(ZONE_FREE_LOW)] > 5000
    print(f"\nchromium screenshot {width}x{height} in {seconds:.2f} s: {len(colours)} colours, "
          f"{100 * white / (width * height):.0f} % white, anon {colours[anon]} px, other {colours[other]} px, "
          f"free {colours[free]} px, zone green {colours[_rgb(ZONE_FREE_OK)]} px")


def test_chromium_runs_no_script_from_the_log(tmp_path):
    _chromium()
    path = tmp_path / "hostile.html"
    path.write_text(_hostile_global(), encoding="utf-8")
    _, dom = _run_chromium(tmp_path, path.as_uri(), "--dump-dom")
    assert "<script" not in dom and html.escape(HOSTILE, quote=False) in dom
