"""Where kernel log lines come from: /dev/kmsg, the systemd journal, files, stdin.

/dev/kmsg (3.5+, Documentation/ABI/testing/dev-kmsg): each read() returns one record
"prio,seq,usec,flags;text", continuation lines start with a space.  A reader that falls
behind the ring buffer gets EPIPE once and continues at the oldest record left; the gap
in sequence numbers is how many records were lost, and it is counted, not hidden.
"""

from __future__ import annotations

import datetime
import gzip
import json
import os
import stat
import subprocess
import sys
import time
import zlib

from ..errors import AccessDenied, NotAvailable, OomutilError

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows the start
    from typing import Iterator, List, Optional

    from ..root import Root


class KmsgReader:
    """Records of /dev/kmsg: what is in the buffer now, or (follow) new ones as they come."""

    def __init__(self, root: Root, follow: bool = False) -> None:
        path = root.dev("kmsg")
        flags = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | (0 if follow else os.O_NONBLOCK)
        try:
            self.fd = os.open(path, flags)
        except PermissionError:
            raise AccessDenied("reading the kernel log needs CAP_SYSLOG (dmesg_restrict)", path=path) from None
        except FileNotFoundError:  # a captured tree, a container without /dev/kmsg
            if root.is_live:
                raise NotAvailable("there is no /dev/kmsg here: use --source journal, or --file FILE") from None
            logs = [p for p in (root.file("var", "log", "kern.log"), root.file("var", "log", "messages"))
                    if os.path.isfile(p)]
            raise NotAvailable("this root has no dev/kmsg: use --file FILE (its kernel log"
                               + (f", e.g. {logs[0]})" if logs else ")"), path=root.path) from None
        except OSError as err:
            raise NotAvailable(os.strerror(err.errno or 0), path=path) from None
        # a tree's dev/kmsg is a regular file of the records, one a line, as `cat /dev/kmsg`
        # prints them (the trees of tests/fixtures/synthetic; the device gives one a read())
        self.captured = stat.S_ISREG(os.fstat(self.fd).st_mode)
        if follow and self.captured:
            os.close(self.fd)
            raise NotAvailable("a captured dev/kmsg: no new record will come", path=path)
        if follow:
            os.lseek(self.fd, 0, os.SEEK_END)  # only what is logged from now on
        self.lost = 0  # records overwritten before they could be read
        self.first_seq: Optional[int] = None
        self._next_seq: Optional[int] = None

    def records(self) -> Iterator[str]:
        if self.captured:
            yield from self._captured()
            return
        while True:
            try:
                data = os.read(self.fd, 8192)
            except BlockingIOError:
                return  # the end of the buffer
            except BrokenPipeError:
                continue  # overrun: the next read gives the oldest record left; seq shows the gap
            if not data:
                return
            record = data.decode("utf-8", "replace")
            self._count(_seq(record))
            yield record.split("\n", 1)[0]  # continuation lines (" KEY=value") carry no text

    def _captured(self) -> Iterator[str]:
        """The records of a captured dev/kmsg: each line but the continuation lines
        (" KEY=value", which carry no text), seq gaps counted as on the device."""
        parts = []
        while True:
            chunk = os.read(self.fd, 1 << 20)
            if not chunk:
                break
            parts.append(chunk)
        for line in b"".join(parts).decode("utf-8", "replace").split("\n"):
            if not line or line.startswith(" "):
                continue
            self._count(_seq(line))
            yield line

    def _count(self, seq: Optional[int]) -> None:
        """Keep first_seq and the records lost (a gap in the sequence numbers)."""
        if seq is None:
            return
        if self.first_seq is None:
            self.first_seq = seq
        if self._next_seq is not None and seq > self._next_seq:
            self.lost += seq - self._next_seq
        self._next_seq = seq + 1

    def close(self) -> None:
        os.close(self.fd)


def _seq(record: str) -> Optional[int]:
    head = record.split(";", 1)[0].split(",")
    try:
        return int(head[1])
    except (IndexError, ValueError):
        return None


def journal_lines(since_seconds: Optional[float] = None) -> List[str]:
    """This boot's kernel messages and user-space OOM killers' messages from the journal,
    as log lines ("[secs] text" for the kernel, "TIME - ident[pid]: text" for the others)."""
    cmd = ["journalctl", "-b", "-o", "json", "--no-pager", "_TRANSPORT=kernel", "+",
           "SYSLOG_IDENTIFIER=earlyoom", "+", "SYSLOG_IDENTIFIER=nohang", "+",
           "SYSLOG_IDENTIFIER=systemd-oomd"]
    if since_seconds is not None:
        cmd += ["--since", f"-{int(since_seconds)}s"]
    journal_is_there()
    try:
        out = subprocess.run(cmd, capture_output=True, timeout=120)
    except FileNotFoundError:
        raise NotAvailable(NO_JOURNALCTL) from None
    except subprocess.TimeoutExpired:
        raise OomutilError("journalctl did not answer within 120 s") from None
    if out.returncode != 0:
        raise OomutilError(f"journalctl failed: {out.stderr.decode('utf-8', 'replace').strip()}")
    return list(journal_json_lines(out.stdout.decode("utf-8", "replace").split("\n")))


NO_JOURNALCTL = "there is no journal here: journalctl is not installed"
# where journald keeps its files (Storage=volatile, persistent), and where journalctl looks for
# them (sd-journal's local search paths): one directory per machine id or namespace
_JOURNAL_DIRS = ("/run/log/journal", "/var/log/journal")


def journal_is_there() -> None:
    """NotAvailable unless journalctl has a journal file to read: without one it prints no
    entry and exits 0 (systemd 252), and "no kills in the journal" would be a wrong answer."""
    for top in _JOURNAL_DIRS:
        try:
            subdirs = [e.path for e in os.scandir(top) if e.is_dir()]
        except OSError:
            continue
        for d in [top, *subdirs]:
            try:
                if any(n.endswith((".journal", ".journal~")) for n in os.listdir(d)):
                    return
            except OSError:
                continue
    raise NotAvailable(f"there is no journal here: no journal files in {' or '.join(_JOURNAL_DIRS)}")


def journal_follow() -> Iterator[str]:
    """Kernel messages logged from now on, from the journal (``journalctl -k -f -n 0``), as
    log lines, as they come; OomutilError when journalctl stops."""
    try:
        proc = subprocess.Popen(["journalctl", "-k", "-f", "-n", "0", "-o", "json", "--no-pager"],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, errors="replace")
    except FileNotFoundError:
        raise NotAvailable(NO_JOURNALCTL) from None
    return _journal_stream(proc)


def _journal_stream(proc) -> Iterator[str]:
    try:
        yield from journal_json_lines(line.rstrip("\n") for line in proc.stdout)  # type: ignore[union-attr]
        raise OomutilError(f"journalctl stopped (exit status {proc.wait()})")
    finally:
        proc.kill()
        proc.wait()


def journal_json_lines(lines) -> Iterator[str]:
    """`journalctl -o json` records as log lines; anything else is passed through.

    A kernel message is one with ``_TRANSPORT=kernel`` (journald's kmsg reader) and facility
    0: journald stores what user space wrote into /dev/kmsg with that transport too, with
    its own facility (1, LOG_USER, for a bare ``echo``); a record that only calls itself
    "kernel" (SYSLOG_IDENTIFIER=kernel, ``logger -t kernel``) is not one.  Other records
    are kept for their identifier: the user-space killers'.  MESSAGE is the kernel's text
    as it is (journald decodes kmsg's \\xNN escapes), the realtime stamp its wall-clock
    time (UTC) and _SOURCE_MONOTONIC_TIMESTAMP its seconds since boot."""
    for text in lines:
        if not text.startswith("{"):
            yield text
            continue
        try:
            entry = json.loads(text)
        except ValueError:
            yield text
            continue
        message = entry.get("MESSAGE")
        if isinstance(message, list):  # non-UTF-8 messages come as byte arrays
            message = bytes(message).decode("utf-8", "replace")
        if not isinstance(message, str):
            continue
        ident = entry.get("SYSLOG_IDENTIFIER") or ""
        when = entry.get("__REALTIME_TIMESTAMP")
        stamp = (datetime.datetime.fromtimestamp(int(when) / 1e6, datetime.timezone.utc)
                 .isoformat(timespec="microseconds") if str(when or "").isdigit() else None)
        if entry.get("_TRANSPORT") == "kernel":
            if str(entry.get("SYSLOG_FACILITY", "0")) != "0":
                continue  # written into /dev/kmsg by user space
            mono = entry.get("_SOURCE_MONOTONIC_TIMESTAMP") or entry.get("__MONOTONIC_TIMESTAMP")
            secs = f"[{int(mono) / 1e6:.6f}] " if str(mono or "").isdigit() else ""
            yield f"{stamp} - kernel: {secs}{message}" if stamp else f"kernel: {secs}{message}"
        elif ident and ident != "kernel":
            pid = entry.get("_PID") or entry.get("SYSLOG_PID")
            yield f"{stamp or '1970-01-01T00:00:00+00:00'} - {ident}{f'[{pid}]' if pid else ''}: {message}"


def follow_file(path: str, poll: float = 0.2) -> Iterator[str]:
    """Lines written to a log file from now on, as ``tail -F`` follows it: a file replaced
    by another (rotated: another inode at the path) is read to its end, then the new one
    from its start; a file cut short (truncated: smaller than what was read) from its
    start; a path that is gone for a while (between a rotation's two steps) is waited for.
    Standard input ("-") is read line by line until it ends."""
    if path == "-":
        return (raw.rstrip(b"\n").decode("utf-8", "replace") for raw in sys.stdin.buffer)
    f = _open(path)  # now, not at the first line: a file that cannot be followed is said at once
    if _read(f, path, 2) == b"\x1f\x8b":
        f.close()
        raise OomutilError("a gzip file is not written to: give --follow the log being written", path=path)
    f.seek(0, os.SEEK_END)  # only what is logged from now on, as /dev/kmsg is followed
    return _tail(f, path, poll)


def _tail(f, path: str, poll: float) -> Iterator[str]:
    try:
        pending = b""
        while True:
            data = _read(f, path)
            if data:
                *lines, pending = (pending + data).split(b"\n")
                for raw in lines:
                    yield raw.decode("utf-8", "replace")
                continue
            try:
                now = os.stat(path)
            except FileNotFoundError:  # rotated away, the new one not there yet
                time.sleep(poll)
                continue
            except OSError as err:
                raise OomutilError(os.strerror(err.errno or 0), path=path) from None
            was = os.fstat(f.fileno())
            if (now.st_dev, now.st_ino) != (was.st_dev, was.st_ino):  # rotated: the old one is read
                if pending:
                    yield pending.decode("utf-8", "replace")
                f.close()
                f, pending = _open(path), b""
            elif now.st_size < f.tell():  # truncated: read again from the start
                f.seek(0)
                pending = b""
            else:
                time.sleep(poll)
    finally:
        f.close()


def _open(path: str):
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise NotAvailable("no such file", path=path) from None
    except PermissionError:
        raise AccessDenied(path=path) from None
    except IsADirectoryError:
        raise NotAvailable("is a directory", path=path) from None
    except OSError as err:
        raise OomutilError(os.strerror(err.errno or 0), path=path) from None


def _read(f, path: str, size: int = 65536) -> bytes:
    try:
        return f.read(size)
    except OSError as err:  # EIO from /proc/self/mem, EISDIR on a directory opened anyway, ...
        raise OomutilError(f"cannot be read as a log: {os.strerror(err.errno or 0)}", path=path) from None


def read_file(path: str) -> str:
    """A log file (gzip too, by its magic), or standard input for "-"; bytes that are not
    UTF-8 are replaced, never fatal."""
    if path == "-":
        data = sys.stdin.buffer.read()
    else:
        with _open(path) as f:
            data = _read(f, path, -1)
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as err:
            raise OomutilError(f"not a readable gzip file: {err}", path=path) from None
    return data.decode("utf-8", "replace")
