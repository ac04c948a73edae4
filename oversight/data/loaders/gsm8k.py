"""GSM8K: free-response maths turned into two options.

Distractor strategy (deterministic, so runs are reproducible):
1. the last intermediate result of the reference solution (`<<a*b=X>>`) that differs from the
   final answer — a wrong answer a plausible but incomplete solution reaches;
2. failing that, the final answer with one step of a common slip: ×2, ÷2 (when whole), +10% or −1,
   the first that differs, chosen by a hash of the question.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from oversight.data.question import Question
from oversight.data.rows import make_question, read_jsonl, require, row_guard, validate

FINAL = re.compile(r"####\s*(.+?)\s*$", re.S)
CALC = re.compile(r"<<[^=<>]*=([^<>]+)>>")


class _Row(BaseModel):
    model_config = ConfigDict(extra="allow")
    question: str = Field(min_length=1)
    answer: str = Field(min_length=1)


def _number(text: str) -> float | None:
    try:
        return float(text.replace(",", "").replace("$", "").strip())
    except ValueError:
        return None


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}".rstrip("0").rstrip(".")


def distractor_for(final: str, solution: str, key: str) -> str:
    target = _number(final)
    for candidate in reversed(CALC.findall(solution)):
        value = _number(candidate)
        if value is not None and value != target:
            return _fmt(value)
    if target is None:
        return final + "0"
    slips = [target * 2, target / 2 if (target / 2).is_integer() else None, round(target * 1.1, 2), target - 1]
    start = int(hashlib.sha256(key.encode()).hexdigest(), 16) % len(slips)
    for value in slips[start:] + slips[:start]:
        if value is not None and value != target:
            return _fmt(value)
    return _fmt(target + 1)


def load(path: Path, **_: Any) -> list[Question]:
    out = []
    for line, obj in read_jsonl(path):
        with row_guard():
            row = validate(_Row, obj, path, line)
            match = FINAL.search(row.answer)
            require(match is not None, path, line, "answer", "no final '#### <number>' line")
            assert match is not None
            final = match.group(1).strip()
            wrong = distractor_for(final, row.answer, row.question)
            out.append(
                make_question(
                    {
                        "id": str(obj.get("id", f"gsm8k-{line}")),
                        "question": row.question,
                        "options": [final, wrong],
                        "answer": 0,
                        "distractor": 1,
                        "source": "gsm8k",
                        "meta": {"solution": row.answer},
                    },
                    path,
                    line,
                )
            )
    return out
