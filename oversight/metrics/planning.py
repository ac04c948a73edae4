"""Planning a human study from its pilot: how many judgments give the difference between two conditions a 95%
interval of the width wanted, and which condition the next item should go to.

Judgments of one article are not independent, so each condition's variance is clustered by article
(CR2), and the two add, since the conditions may use different articles, as counterbalanced designs do
(Welch–Satterthwaite degrees of freedom, `oversight.metrics.intervals`). A clustered
interval narrows as one over the square root of the number of articles, so the articles needed
are the pilot's times (pilot width / target width)², and the judgments needed follow from the
pilot's judgments per article.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import numpy as np

from oversight.metrics.intervals import cluster_mean_interval, unpaired_difference_interval


def _cluster_totals(rows: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
    hits: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for r in rows:
        if r.get("valid"):
            h = hits[str(r.get("cluster"))]
            h[0] += 1.0 if r["correct"] else 0.0
            h[1] += 1.0
    sums = np.array([v[0] for v in hits.values()])
    counts = np.array([v[1] for v in hits.values()])
    return sums, counts


def difference_interval(rows_a: list[dict[str, Any]], rows_b: list[dict[str, Any]]) -> dict[str, Any]:
    """Accuracy of A minus B with a 95% interval from each condition's article-clustered variance."""
    (sa, ca), (sb, cb) = _cluster_totals(rows_a), _cluster_totals(rows_b)
    if len(sa) < 2 or len(sb) < 2:
        raise ValueError("each condition needs valid judgments on at least two articles")
    low, high = unpaired_difference_interval((sa, ca), (sb, cb))
    return {
        "accuracy_a": float(sa.sum() / ca.sum()), "accuracy_b": float(sb.sum() / cb.sum()),
        "diff": float(sa.sum() / ca.sum() - sb.sum() / cb.sum()), "ci_low": float(low), "ci_high": float(high),
        "width": float(high - low), "articles_a": len(sa), "articles_b": len(sb),
        "judgments_a": int(ca.sum()), "judgments_b": int(cb.sum()),
    }  # fmt: skip


def plan_study(rows_a: list[dict[str, Any]], rows_b: list[dict[str, Any]], target_width: float) -> dict[str, Any]:
    """The pilot's interval and what reaching `target_width` takes, per condition (articles and judgments, in all and
    beyond the pilot's)."""
    pilot = difference_interval(rows_a, rows_b)
    factor = max(1.0, (pilot["width"] / target_width) ** 2)
    out = {**pilot, "target_width": target_width}
    for side in ("a", "b"):
        per_article = pilot[f"judgments_{side}"] / pilot[f"articles_{side}"]
        articles = math.ceil(pilot[f"articles_{side}"] * factor)
        out[f"articles_needed_{side}"] = articles
        out[f"judgments_needed_{side}"] = math.ceil(articles * per_article)
        out[f"more_judgments_{side}"] = max(0, out[f"judgments_needed_{side}"] - pilot[f"judgments_{side}"])
    return out


def widest_condition(conditions: dict[str, list[dict[str, Any]]]) -> str:
    """The condition whose accuracy interval is widest (a condition with fewer than two judged articles comes first):
    where the next judgment narrows the comparison most."""
    widths: dict[str, float] = {}
    for name, rows in conditions.items():
        low, high = cluster_mean_interval(*_cluster_totals(rows), bounds=None)
        widths[name] = math.inf if low is None or high is None else high - low
    return max(sorted(widths), key=lambda name: widths[name])
