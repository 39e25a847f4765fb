"""oomutil why --html: one self-contained page of the reports explained."""

from __future__ import annotations

import html


def page(items) -> str:
    """``items``: (OomReport, ReportExplanation, the JSON document of why) per report."""
    body = "".join(f"<section><h2>{html.escape(d['verdict']['cause'])}</h2>"
                   f"<p>{html.escape(d['verdict']['summary'])}</p></section>" for _, _, d in items)
    return f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>oomutil why</title></head><body>{body}</body></html>\n"
