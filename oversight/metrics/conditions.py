"""Conditions written as KEY=VALUE filters over judgment rows, and the paired comparison of two of them."""

from __future__ import annotations

from typing import Any

from oversight.errors import OversightError
from oversight.metrics.agreement import paired_comparison
from oversight.metrics.leaderboard import GROUP_KEYS


def parse_condition(items: list[str] | None, option: str) -> dict[str, str]:
    """`["protocol=debate", "judge=x"]` as a dict; a bad item is one error naming `option`."""
    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or key not in GROUP_KEYS:
            raise OversightError(f"{option} {item!r}: use KEY=VALUE with KEY one of {', '.join(GROUP_KEYS)}")
        out[key] = value
    return out


def label(condition: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in condition.items())


def matching(rows: list[dict[str, Any]], condition: dict[str, str]) -> list[dict[str, Any]]:
    return [r for r in rows if all(str(r.get(k)) == v for k, v in condition.items())]


def compare_conditions(rows: list[dict[str, Any]], a: dict[str, str], b: dict[str, str], *, seed: int = 0) -> dict[str, Any]:
    """Accuracy of A minus B on the questions both judged, with an article-clustered interval (CR2) and a permutation p-value."""
    result = {"a": label(a), "b": label(b), **paired_comparison(matching(rows, a), matching(rows, b), seed=seed)}
    if result["n_questions"] == 0:
        raise OversightError(f"{label(a)} and {label(b)} share no judged question")
    return result
