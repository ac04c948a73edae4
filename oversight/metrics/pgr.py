"""Weak-to-strong figures over seeds: mean and 95% t-interval of every accuracy, PGR with Fieller's interval over test
questions and seeds, and the PGR table of stored runs.

PGR = (student − weak) / (ceiling − weak) is a ratio whose denominator is itself estimated, often from
a few dozen test questions: a t-interval over the seeds' PGRs sees only how seeds differ on one data
set, and the mean of per-seed ratios explodes when one seed's gap is small. So PGR is the ratio of
the mean gaps, and its interval is Fieller's (`oversight.metrics.intervals.fieller_ratio_interval`)
with a two-way clustered variance (Cameron, Gelbach & Miller 2011): test questions clustered by
article, plus what the seeds' separate trainings add, less their overlap. When the ceiling does not
clearly beat the weak floor the interval is unbounded, and the summary says so.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from oversight.metrics.intervals import few_articles, fieller_ratio_interval

ROLES = ("weak", "student", "ceiling")


def _totals(keys: list[Any], a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    index = {k: i for i, k in enumerate(dict.fromkeys(keys))}
    rows = np.array([index[k] for k in keys])
    return np.bincount(rows, weights=a, minlength=len(index)), np.bincount(rows, weights=b, minlength=len(index))


def _spread(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Estimated covariance of the totals Σa, Σb from independent units' totals a, b."""
    k = len(a)
    if k < 2:
        return np.zeros((2, 2))
    ca, cb = a - a.mean(), b - b.mean()
    return k / (k - 1) * np.array([[ca @ ca, ca @ cb], [ca @ cb, cb @ cb]])


def pgr_interval(items: list[dict[str, Any]]) -> dict[str, Any]:
    """PGR over test questions pooled across seeds, with Fieller's 95% interval (articles and seeds clustered).

    `items`: one per seed × test question, with `seed`, `cluster` (the question's article) and the
    weak, student and ceiling hit (share of the question's examples right)."""
    if not items:
        return {"pgr": None, "ci_low": None, "ci_high": None, "n_clusters": 0, "few_articles": True, "unbounded": False}
    gain = np.array([i["student"] - i["weak"] for i in items], dtype=float)
    gap = np.array([i["ceiling"] - i["weak"] for i in items], dtype=float)
    clusters = [i["cluster"] for i in items]
    a, b = _totals(clusters, gain, gap)
    seed_a, seed_b = _totals([i["seed"] for i in items], gain, gap)
    cell_a, cell_b = _totals([(i["cluster"], i["seed"]) for i in items], gain, gap)
    extra = _spread(seed_a, seed_b) - _spread(cell_a, cell_b)
    values, vectors = np.linalg.eigh(extra)
    extra = (vectors * np.maximum(values, 0.0)) @ vectors.T  # two-way variances can come out indefinite: keep the PSD part
    estimate, low, high = fieller_ratio_interval(a, b, extra_covariance=extra)
    unbounded = not (np.isfinite(low) and np.isfinite(high))
    return {
        "pgr": float(estimate) if np.isfinite(estimate) else None, "ci_low": None if unbounded else float(low),
        "ci_high": None if unbounded else float(high), "n_clusters": len(a), "few_articles": few_articles(len(a)), "unbounded": unbounded,
    }  # fmt: skip


def summarize(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean and 95% t-interval over seeds for every accuracy; PGR from `pgr_interval` when the seeds carry their test
    questions' hits (`SeedResult.metrics(clusters)`), else the mean and t-interval of the seeds' PGRs (runs stored
    before test hits were kept), with `pgr_interval_over` saying which."""
    from scipy import stats

    def interval(values: list[float]) -> dict[str, float | None]:
        if not values:
            return {"mean": None, "ci_low": None, "ci_high": None, "n": 0}
        arr = np.array(values, dtype=float)
        if len(arr) == 1:
            return {"mean": float(arr[0]), "ci_low": None, "ci_high": None, "n": 1}
        half = stats.t.ppf(0.975, len(arr) - 1) * arr.std(ddof=1) / np.sqrt(len(arr))
        return {"mean": float(arr.mean()), "ci_low": float(arr.mean() - half), "ci_high": float(arr.mean() + half), "n": len(arr)}

    out: dict[str, Any] = {}
    for role in ("weak", "student", "ceiling"):
        out[role] = {m: interval([r[role][m] for r in results if r[role][m] is not None]) for m in ("accuracy", "auroc")}
    for step in range(len(results[0].get("intermediates") or []) if results else 0):
        scores = [r["intermediates"][step] for r in results]
        out.setdefault("intermediates", []).append(
            {"model": scores[0].get("model"), **{m: interval([s[m] for s in scores if s[m] is not None]) for m in ("accuracy", "auroc")}}
        )
    items = [{"seed": r["seed"], **item} for r in results for item in r.get("test_items") or []]
    if results and all(r.get("test_items") for r in results):
        pooled = pgr_interval(items)
        out["pgr"] = {"mean": pooled["pgr"], "ci_low": pooled["ci_low"], "ci_high": pooled["ci_high"], "n": len(results)}
        out["pgr_interval_over"] = f"test questions of {pooled['n_clusters']} article(s) × {len(results)} seed(s)"
        out["few_articles"] = pooled["few_articles"]
        if pooled["unbounded"]:
            out["warning"] = "the strong ceiling does not clearly beat the weak floor: PGR's 95% interval is unbounded"
        elif pooled["few_articles"]:
            out["warning"] = f"only {pooled['n_clusters']} article(s) in the test splits: no interval can be trusted"
    else:
        out["pgr"] = interval([r["pgr"] for r in results if r["pgr"] is not None])
        out["pgr_interval_over"] = "seeds only (this run kept no per-question test hits)"
    out["pgr_withheld_seeds"] = [r["seed"] for r in results if r["pgr"] is None]
    if out["pgr_withheld_seeds"] and "warning" not in out:
        out["warning"] = "ceiling − weak was under 2 accuracy points on some seeds: their PGR is withheld"
    return out


def pgr_table(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One line per stored run (`w2s_rows`): weak, student and ceiling accuracy and PGR, mean and 95% interval over seeds."""
    by_run: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_run[(r["name"], r["dataset"], r["method"], r["weak"], r["strong"], r["loss"])].append(
            {"seed": r["seed"], "pgr": r["pgr"], **r["metrics"]}
        )
    out = []
    for (name, dataset, method, weak, strong, loss), results in by_run.items():
        s = summarize(results)
        out.append(
            {"run": name, "dataset": Path(dataset).name, "method": method, "weak": weak, "strong": strong, "loss": loss, "seeds": len(results),
             "weak_acc": s["weak"]["accuracy"]["mean"], "student_acc": s["student"]["accuracy"]["mean"], "ceiling_acc": s["ceiling"]["accuracy"]["mean"],
             "pgr": s["pgr"]["mean"], "pgr_ci_low": s["pgr"]["ci_low"], "pgr_ci_high": s["pgr"]["ci_high"], "pgr_withheld": len(s["pgr_withheld_seeds"]),
             "interval_over": s["pgr_interval_over"], "warning": s.get("warning")}
        )  # fmt: skip
    return out


def weak_source_table(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Runs made together by `w2s --weak-from-run` (same questions, splits and student): per verdict source the weak,
    student and ceiling accuracy and PGR, and PGR minus the first source's, paired by seed with a 95% t-interval —
    with naive first and debate second, whether debate raises PGR."""
    from scipy import stats

    groups: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    sources: dict[str, list[str]] = {}
    for r in rows:
        config = r.get("config") or {}
        if config.get("comparison") and config.get("weak_from_run"):
            groups[config["comparison"]][config["weak_from_run"]].append({"seed": r["seed"], "pgr": r["pgr"], **r["metrics"]})
            sources[config["comparison"]] = list(config.get("sources") or [])
    out = []
    for comparison, by_source in groups.items():
        order = [s for s in sources[comparison] if s in by_source] or sorted(by_source)
        first = {res["seed"]: res["pgr"] for res in by_source[order[0]]}
        for source in order:
            results = by_source[source]
            summary = summarize(results)
            diffs = [res["pgr"] - first[res["seed"]] for res in results if res["pgr"] is not None and first.get(res["seed"]) is not None]
            mean = float(np.mean(diffs)) if diffs and source != order[0] else None
            half = (
                float(stats.t.ppf(0.975, len(diffs) - 1) * np.std(diffs, ddof=1) / np.sqrt(len(diffs)))
                if mean is not None and len(diffs) > 1 else None
            )  # fmt: skip
            out.append({
                "comparison": comparison, "weak_labels_from": source, "seeds": len(results),
                "weak_acc": summary["weak"]["accuracy"]["mean"], "student_acc": summary["student"]["accuracy"]["mean"],
                "ceiling_acc": summary["ceiling"]["accuracy"]["mean"], "pgr": summary["pgr"]["mean"], "pgr_ci_low": summary["pgr"]["ci_low"],
                "pgr_ci_high": summary["pgr"]["ci_high"], "pgr_minus_first": mean,
                "diff_ci_low": None if half is None else mean - half, "diff_ci_high": None if half is None else mean + half,
            })  # fmt: skip
    return out
