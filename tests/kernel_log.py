"""The kernel log from a marker on, for tests that cause real OOM kills (on this host, and
inside the test VM, where tests/vm copies this file next to the scenarios: standard
library only).

``KernelLog()`` writes a unique line to /dev/kmsg; ``kills()`` lists the pids of "Killed
process" lines logged after it, in the kernel's order.  A test checks the kernel's *first*
choice this way: a pusher that needs more than one kill frees causes a second kill, and
who is dead afterwards says nothing about the order.  The Killed line is never
rate-limited (only report headers are).
"""

from __future__ import annotations

import os
import re
import time

_KILLED = re.compile(r"Killed process (\d+) ")


class KernelLog:
    def __init__(self) -> None:
        self.marker = f"oomutil-test-marker-{os.getpid()}-{time.monotonic_ns()}"
        fd = os.open("/dev/kmsg", os.O_WRONLY)
        try:
            os.write(fd, self.marker.encode() + b"\n")  # a record without its newline waits for the next one
        finally:
            os.close(fd)

    def lines(self):
        """Messages after the marker (the buffer is read whole, non-blocking)."""
        fd = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
        texts = []
        try:
            while True:
                try:
                    record = os.read(fd, 8192)
                except BlockingIOError:
                    break
                except BrokenPipeError:  # records overwritten meanwhile: read on
                    continue
                texts.append(record.decode(errors="replace").split(";", 1)[-1].split("\n", 1)[0])
        finally:
            os.close(fd)
        if self.marker not in texts:
            raise AssertionError("the test's marker is no longer in the kernel log")
        return texts[texts.index(self.marker) + 1:]

    def kills(self, wait_for=1, timeout=60.0):
        """Pids of the kills after the marker, once at least ``wait_for`` are logged."""
        deadline = time.monotonic() + timeout
        while True:
            pids = [int(m.group(1)) for m in map(_KILLED.search, self.lines()) if m]
            if len(pids) >= wait_for or time.monotonic() > deadline:
                return pids
            time.sleep(0.05)
