"""Readers and pure parsers of /sys files (memory cgroups), one module per file family."""
