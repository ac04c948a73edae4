"""Turning transcript text into safe HTML: everything escaped, then quotes highlighted by verification."""

from __future__ import annotations

import html
import re

_TAG = re.compile(r"&lt;(v_quote|u_quote)&gt;(.*?)&lt;/\1&gt;", re.S)
STYLE = {
    "v_quote": "background:#d4f7d4;border-bottom:2px solid #2e7d32",
    "u_quote": "background:#fde0e0;border-bottom:2px dashed #c62828;text-decoration:line-through",
}
TITLE = {"v_quote": "quote found in the story", "u_quote": "quote NOT found in the story"}


def speech_html(text: str) -> str:
    escaped = html.escape(text).replace("\n", "<br>")
    return _TAG.sub(lambda m: f'<span style="{STYLE[m.group(1)]}" title="{TITLE[m.group(1)]}">{m.group(2)}</span>', escaped)
