"""Turning stored text into inert HTML for Streamlit's Markdown: one rendering path for every page.

Everything a model, a dataset or a user wrote is shown as text and nothing else: every
punctuation character becomes a numeric entity, so neither HTML nor Markdown (bold, headings,
links, images, tables) nor Streamlit's extensions (`:red[...]`, `$math$`, `:emoji:`) can act on
it; speaker labels and layout are drawn by the app only. The one markup that survives is the
quote highlighting of `mark_quotes`, and only as well-formed, unnested pairs.
"""

from __future__ import annotations

import re

_MARKED = re.compile(r"<(v_quote|u_quote)>((?:(?!<\s*/?\s*(?:v_quote|u_quote|quote)\s*/?\s*>).)*?)</\1>", re.S)
STYLE = {
    "v_quote": "background:#d4f7d4;border-bottom:2px solid #2e7d32",
    "u_quote": "background:#fde0e0;border-bottom:2px dashed #c62828;text-decoration:line-through",
}
TITLE = {"v_quote": "quote found in the story", "u_quote": "quote NOT found in the story"}


def inert(text: str, *, breaks: bool = True) -> str:
    """`text` as Markdown source that displays exactly these characters; line breaks as <br> (which needs
    `unsafe_allow_html`), or as spaces with `breaks=False` for labels, alerts and headings."""
    out = []
    for ch in str(text).replace("\r\n", "\n"):
        if ch == "\n":
            out.append("<br>" if breaks else " ")
        elif ch.isalnum() or ch == " ":
            out.append(ch)
        elif ch.isspace() or ord(ch) < 32:
            out.append(" ")
        else:
            out.append(f"&#{ord(ch)};")
    return "".join(out)


def speech_html(marked: str) -> str:
    """A turn as judges see it: inert text with verified quotes in green and unverified ones struck through in red.

    `marked` is `mark_quotes` output; a tag that is not part of a well-formed pair shows as text.
    """
    out: list[str] = []
    last = 0
    for match in _MARKED.finditer(marked):
        out.append(inert(marked[last : match.start()]))
        tag = match.group(1)
        out.append(f'<span style="{STYLE[tag]}" title="{TITLE[tag]}">{inert(match.group(2))}</span>')
        last = match.end()
    out.append(inert(marked[last:]))
    return "".join(out)
