"""Readers and pure parsers of /proc files, one module per file family."""
