"""The version, in a ground module: the exporter and the CLI read it without loading the
package face."""

__version__ = "0.1.0"
