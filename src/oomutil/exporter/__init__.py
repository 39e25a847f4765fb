"""The Prometheus exporter: ``oomutil serve`` and ``oomutil metrics`` (docs/metrics.md).

Needs the ``exporter`` extra (``pip install 'oomutil[exporter]'``: prometheus-client).
collector.py reads everything at scrape time; follower.py is the one piece of state, the
kernel-log follower that counts kills from the moment ``serve`` starts; server.py serves
``/metrics`` and ``/`` on a threading HTTP server.
"""
