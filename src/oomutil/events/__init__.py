"""OOM kills from the kernel log: parse (any format), sources (kmsg, journal, files), reconcile."""
