"""`oomutil serve` stays bounded whatever its clients do (issue 22): one collection at a time
that every waiting scrape shares, at most --max-requests requests served (503 beyond, at
once), clients that give up leave no thread, no memory and no traceback behind.  A real
server on 127.0.0.1 whose collections are made slow on purpose (OOMUTIL_TEST_COLLECTION_DELAY)."""

from __future__ import annotations

import re
import socket
import threading
import time
import urllib.error
import urllib.request

import pytest
from helpers import serving

pytest.importorskip("prometheus_client", reason="the exporter needs prometheus-client (test extra)")

DELAY = 1.0  # seconds one collection takes here


@pytest.fixture
def slow_server():
    with serving("--max-requests", "4", "--kernel-log", "none",
                 env={"OOMUTIL_TEST_COLLECTION_DELAY": str(DELAY)}) as (url, proc):
        yield url, proc


def _status(pid: int, key: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        return int(next(line.split()[1] for line in f if line.startswith(key + ":")))


def _scrape(url: str, timeout: float, headers=None) -> bytes:
    return urllib.request.urlopen(urllib.request.Request(url + "/metrics", headers=headers or {}),
                                  timeout=timeout).read()


def _value(text: bytes, name: str) -> float:
    return float(re.search(rb"^" + name.encode() + rb"(?:\{[^}]*\})? (\S+)$", text, re.M).group(1))


def test_clients_that_give_up_leave_nothing_behind(slow_server):
    url, proc = slow_server
    _scrape(url, 10)  # warm: the modules a collection imports are loaded
    rss_before, threads_most = _status(proc.pid, "VmRSS"), 0
    stop = time.monotonic() + 6 * DELAY

    def impatient():
        while time.monotonic() < stop:
            try:
                _scrape(url, 0.2)
            except (OSError, urllib.error.URLError):
                pass  # gave up, or 503

    clients = [threading.Thread(target=impatient) for _ in range(8)]
    for c in clients:
        c.start()
    while time.monotonic() < stop:
        threads_most = max(threads_most, _status(proc.pid, "Threads"))
        time.sleep(0.05)
    for c in clients:
        c.join()
    began = time.monotonic()
    while True:  # requests of clients that gave up may still hold the places a moment: 503 meanwhile
        try:
            body = _scrape(url, 10, {"X-Prometheus-Scrape-Timeout-Seconds": "2.5"})
            break
        except urllib.error.HTTPError as err:
            if err.code != 503 or time.monotonic() - began > 2 * DELAY + 1.0:
                raise
            time.sleep(0.05)
    took = time.monotonic() - began
    # --max-requests 4 + the main thread + the kernel-log follower (none here: one fewer)
    assert threads_most <= 4 + 2
    assert _status(proc.pid, "VmRSS") - rss_before < 30 * 1024  # kB
    # the next scrape waits at most for the one collection under way, then its own
    assert took < 2 * DELAY + 1.0
    assert _value(body, "oomutil_http_clients_gone_total") > 0
    assert _value(_scrape(url, 10), "oomutil_scrape_timeout_seconds") == 2.5
    proc.terminate()
    proc.wait(timeout=20)
    assert "Traceback" not in proc.stderr.read()


def test_scrapes_during_a_collection_share_it(slow_server):
    url, _ = slow_server
    _scrape(url, 10)
    bodies, errors = [], []

    def scrape():
        try:
            bodies.append(_scrape(url, 10))
        except OSError as err:
            errors.append(err)

    began = time.monotonic()
    scrapers = [threading.Thread(target=scrape) for _ in range(4)]
    for t in scrapers:
        t.start()
        time.sleep(0.05)
    for t in scrapers:
        t.join()
    took = time.monotonic() - began
    assert errors == [] and len(bodies) == 4
    # four scrapes, one collection between them (two at the most: one may start just after)
    assert took < 2 * DELAY + 1.0
    assert len({_value(b, "oomutil_scrape_collector_duration_seconds") for b in bodies}) <= 2


def test_one_request_too_many_is_answered_503_at_once(slow_server):
    url, proc = slow_server
    held = []
    for _ in range(4):  # four connections that send nothing yet: every request thread busy
        s = socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])))
        held.append(s)
    time.sleep(0.3)
    began = time.monotonic()
    with pytest.raises(urllib.error.HTTPError) as refused:
        _scrape(url, 5)
    assert refused.value.code == 503 and time.monotonic() - began < 1.0
    assert b"--max-requests" in refused.value.read()
    for s in held:
        s.close()
    time.sleep(0.3)
    assert _value(_scrape(url, 10), "oomutil_http_requests_refused_total") >= 1
