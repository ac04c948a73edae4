"""Showing a transcript with the two answers in the other order.

When B is shown first, every name that points at a side must change with it, or the judge
would read "Debater A argues for B". Both letters are swapped in one pass, so A->B and B->A
never chain.
"""

from __future__ import annotations

import re

_NAMED = re.compile(r"\b(Debater|debater|Answer|answer|Option|option|Consultant|consultant|Choice|choice|Side|side)(\s+)([AB])\b")
_BRACKETED = re.compile(r"\(([AB])\)")
_OTHER = {"A": "B", "B": "A"}


def swap_labels(text: str) -> str:
    text = _NAMED.sub(lambda m: f"{m.group(1)}{m.group(2)}{_OTHER[m.group(3)]}", text)
    return _BRACKETED.sub(lambda m: f"({_OTHER[m.group(1)]})", text)


def shown_label(side: str, order: str) -> str:
    """The letter under which canonical side `side` appears when the judge sees `order` ("AB" or "BA")."""
    return side if order == "AB" else _OTHER[side]
