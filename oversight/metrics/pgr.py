"""Weak-to-strong figures over seeds: mean and 95% t-interval of every accuracy and of PGR, and the PGR table of stored runs."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np


def summarize(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean and 95% t-interval over seeds for every accuracy and for PGR (seeds with a guarded PGR are left out of its mean)."""
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
    out["pgr"] = interval([r["pgr"] for r in results if r["pgr"] is not None])
    out["pgr_withheld_seeds"] = [r["seed"] for r in results if r["pgr"] is None]
    if out["pgr_withheld_seeds"]:
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
             "pgr": s["pgr"]["mean"], "pgr_ci_low": s["pgr"]["ci_low"], "pgr_ci_high": s["pgr"]["ci_high"], "pgr_withheld": len(s["pgr_withheld_seeds"])}
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
