"""oomutil serve: a Prometheus exporter of what the OOM killer would do and did
(docs/metrics.md); the options ``oomutil metrics`` shares are made here too."""

from __future__ import annotations

import argparse
import re
import sys

from . import examples

DEFAULT_LISTEN = "127.0.0.1:9788"


def register(sub, parents, help_text: str) -> None:
    p = sub.add_parser(
        "serve", parents=parents, help=help_text,
        epilog=examples('oomutil serve                          /metrics on 127.0.0.1:9788', 'oomutil serve --listen 0.0.0.0:9788 --kernel-log journal'),
        description="Serve /metrics for Prometheus: kills (followed in the kernel log from now on), "
        "the predicted victim of each OOM domain, memory cgroups and the system's OOM settings, read "
        "at each scrape. Read-only; binds to loopback unless told otherwise. Needs prometheus-client "
        "(pip install 'oomutil[exporter]').",
    )
    p.add_argument("--listen", metavar="HOST:PORT", type=listen_address, default=DEFAULT_LISTEN,
                   help=f"where to serve (default {DEFAULT_LISTEN}; 0.0.0.0:9788 for every interface)")
    p.add_argument("--max-requests", type=_positive, default=10, metavar="N",
                   help="requests served at once (default 10); one more is answered 503 at once. "
                   "Scrapes that come during a collection wait for it and share its result")
    p.add_argument("--kernel-log", choices=("kmsg", "journal", "none"), default="kmsg",
                   help="follow /dev/kmsg for kills (default), the journal (where kmsg may not be "
                   "read but the journal may), or nothing")
    add_options(p)


def add_options(p) -> None:
    p.add_argument("--top-k", type=_positive, default=5, metavar="K",
                   help="candidates per OOM domain with an oomutil_oom_score series (default 5)")
    p.add_argument("--cgroup-depth", type=_positive, default=3, metavar="N",
                   help="memory cgroups down to this many levels below the root (default 3)")
    p.add_argument("--max-cgroup-series", type=_positive, default=500, metavar="N",
                   help="at most this many cgroups (and cgroup pairs of kills) (default 500)")
    p.add_argument("--kill-retention", type=_duration, default=86400.0, metavar="DURATION",
                   help="forget a cgroup's kill count after this long without a kill (default 24h)")


def listen_address(text: str):
    """HOST:PORT -> (host, port); an IPv6 address in brackets, [::1]:9788, as in a URL."""
    host, sep, port = text.rpartition(":")
    if not sep or not (port.isascii() and port.isdigit()) or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"invalid address {text!r}: HOST:PORT, e.g. 127.0.0.1:9788 or [::1]:9788")
    if host.startswith("[") and host.endswith("]") and ":" in host:
        return host[1:-1], int(port)
    if ":" in host or "[" in host or "]" in host:
        raise argparse.ArgumentTypeError(f"invalid address {text!r}: an IPv6 address goes in brackets, "
                                         "e.g. [::1]:9788")
    return host or "0.0.0.0", int(port)


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"invalid number: {text!r} (a whole number of at least 1)")
    return int(text)


def _duration(text: str) -> float:
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([smhd]?)", text.strip())
    if not m:
        raise argparse.ArgumentTypeError(f"invalid duration: {text!r} (e.g. 90s, 10m, 2h, 1d)")
    return float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


def registry(args, follow: bool):
    """(a registry with the collector, the ScrapeState the server writes to): for serve
    (``follow``) with the kernel-log follower started; None (said on stderr) without
    prometheus-client."""
    from . import fail

    try:
        from prometheus_client import CollectorRegistry

        from ..exporter.collector import OomCollector, Options, ScrapeState
        from ..exporter.follower import Follower
    except ImportError as err:
        import os

        if os.path.isdir(os.path.dirname(__file__)):  # installed (in oomutil.pyz this is inside the zip)
            fail(f"the exporter needs prometheus-client ({err}): pip install 'oomutil[exporter]'")
        else:  # oomutil.pyz: no pip there, and its python's modules are what it can import
            fail(f"the exporter needs prometheus-client, which this python ({sys.executable}) cannot import: "
                 "install it for that python (e.g. the python3-prometheus-client package)")
        return None
    from ..root import Root

    root = Root(args.root)
    follower = None
    if follow:
        follower = Follower(root, args.kernel_log, args.max_cgroup_series, args.kill_retention)
        follower.start()
    reg, state = CollectorRegistry(), ScrapeState()
    reg.register(OomCollector(root, Options(args.top_k, args.cgroup_depth, args.max_cgroup_series), follower,
                              state if follow else None))
    return reg, state


def run(args) -> int:
    from . import fail

    made = registry(args, follow=True)
    if made is None:
        return 1
    reg, state = made
    from ..exporter.server import make_server

    host, port = args.listen
    try:
        server = make_server(reg, host, port, max_requests=args.max_requests, state=state)
    except OSError as err:
        fail(f"cannot listen on {'[%s]' % host if ':' in host else host}:{port}: {err.strerror or err}")
        return 1
    where = f"[{host}]" if ":" in host else host
    print(f"oomutil serve: http://{where}:{port}/metrics", file=sys.stderr)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0
