"""Checking debaters' quotes against the hidden context before any judge sees them.

A quote counts as verified when, after normalising case, whitespace, punctuation and typographic
quote marks, it occurs in the context and has at least `min_words` words; its character offsets
in the original context are recorded. Markup a model writes itself (`<v_quote>`) is read as a
plain claim and checked like any other, and any tag that is not part of a well-formed quote is
turned into plain text, so it gains nothing.
"""

from __future__ import annotations

import re
import unicodedata

from pydantic import BaseModel

QUOTE_TAG = re.compile(r"<(quote|v_quote|u_quote)>(.*?)</\1>", re.S | re.I)
# any quote-like tag a model writes outside a well-formed pair (or inside one): an opener without its closer,
# a closer without its opener, spaced or self-closing variants
STRAY_TAG = re.compile(r"<\s*(/?)\s*(quote|v_quote|u_quote)\s*(/?)\s*>", re.I)
DEFAULT_MIN_WORDS = 5
_TYPOGRAPHIC = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2014": "-", "\u2013": "-"})


class QuoteCheck(BaseModel):
    text: str
    verified: bool
    start: int | None = None
    end: int | None = None


def _normalise(text: str) -> tuple[str, list[int]]:
    """Lower-case words separated by single spaces, with each kept character's offset in `text`."""
    chars: list[str] = []
    offsets: list[int] = []
    for i, ch in enumerate(text):
        ch = unicodedata.normalize("NFKC", ch.translate(_TYPOGRAPHIC))
        if ch.isalnum():
            chars.append(ch.lower())
            offsets.append(i)
        elif chars and chars[-1] != " ":
            chars.append(" ")
            offsets.append(i)
    while chars and chars[-1] == " ":
        chars.pop()
        offsets.pop()
    return "".join(chars), offsets


class ContextIndex:
    """The normalised context, built once per article and reused for every quote in it."""

    def __init__(self, context: str) -> None:
        self.context = context
        self.normalised, self.offsets = _normalise(context)

    def find(self, quote: str, min_words: int = DEFAULT_MIN_WORDS) -> QuoteCheck:
        needle, _ = _normalise(quote)
        if not needle or len(needle.split()) < min_words or not self.normalised:
            return QuoteCheck(text=quote, verified=False)
        # match on word boundaries only: "cat" must not verify inside "concatenate"
        padded = f" {self.normalised} "
        pos = padded.find(f" {needle} ")
        if pos < 0:
            return QuoteCheck(text=quote, verified=False)
        start = self.offsets[pos]
        end = self.offsets[pos + len(needle) - 1] + 1
        return QuoteCheck(text=quote, verified=True, start=start, end=end)


def check_quotes(text: str, index: ContextIndex | None, min_words: int = DEFAULT_MIN_WORDS) -> list[QuoteCheck]:
    found = [m.group(2) for m in QUOTE_TAG.finditer(text)]
    if index is None:
        return [QuoteCheck(text=q, verified=False) for q in found]
    return [index.find(q, min_words) for q in found]


def defang(text: str) -> str:
    """Quote-like tags turned into plain text (‹v_quote›): they can no longer open or close a highlighted span."""
    return STRAY_TAG.sub(lambda m: f"‹{m.group(1)}{m.group(2)}{m.group(3)}›", text)


def mark_quotes(text: str, checks: list[QuoteCheck]) -> str:
    """The text a judge (model or human) sees: each well-formed quote re-tagged `<v_quote>` (verified) or
    `<u_quote>` (not), and every other quote-like tag, inside quotes or out, made plain text. The only
    markup left is ours, never nested, so nothing a model writes can stretch a verified span."""
    results = iter(checks)
    out: list[str] = []
    last = 0
    for match in QUOTE_TAG.finditer(text):
        out.append(defang(text[last : match.start()]))
        check = next(results, None)
        tag = "v_quote" if check is not None and check.verified else "u_quote"
        out.append(f"<{tag}>{defang(match.group(2))}</{tag}>")
        last = match.end()
    out.append(defang(text[last:]))
    return "".join(out)
