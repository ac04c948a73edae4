"""Debater strength: Bradley–Terry ratings on the Elo scale from judged debates, with jackknife intervals over articles.

A debater "wins" a judgment when the judge puts more probability on its side (or, in the
probability-weighted variant, wins a share equal to that probability). Ratings are fitted by
maximum likelihood (logistic model without intercept, a tiny ridge pins the scale), centred on
1000, with 95% intervals from the delete-one-article jackknife (`oversight.metrics.intervals`). Ranks tie when intervals overlap: a model's rank
is one plus the number of models whose lower bound is above its upper bound (as Chatbot Arena).

`rate="players"` rates a study's players instead of model specs: "Llama-8B best-of-4" and
"Llama-8B best-of-1" are then different debaters, as in Khan et al.'s tournaments.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np

from oversight.metrics.bradley_terry import fit_bradley_terry
from oversight.metrics.intervals import clustered_ci, few_articles, jackknife

ELO_SCALE = 400.0 / math.log(10.0)
Rate = Literal["debaters", "players"]
"""What a rating is about: the model spec that argued a side, or the study player (model + search settings)."""


def _fit(players: int, winner: np.ndarray, loser: np.ndarray, weight: np.ndarray, start: np.ndarray | None = None) -> np.ndarray:
    x0 = None if start is None else (start - 1000.0) / ELO_SCALE
    return 1000.0 + ELO_SCALE * fit_bradley_terry(players, winner, loser, np.ones(len(winner)), weight, start=x0)


def outcomes(
    rows: list[dict[str, Any]], *, by_side: bool = False, weighted: bool = False, rate: Rate = "debaters"
) -> list[tuple[str, str, float, str]]:
    """(winner, loser, weight, cluster) per valid judgment of a debate between two different debaters.

    With `by_side`, a debater arguing the correct answer and the same model arguing the incorrect
    one are rated as separate players (Khan et al. 2024)."""
    out = []
    for r in rows:
        models = r.get(rate) or {}
        a, b = models.get("A"), models.get("B")
        if not r.get("valid") or r.get("p_a") is None or not a or not b:
            continue
        if by_side:
            a = f"{a} ({'correct' if r['correct_side'] == 'A' else 'incorrect'})"
            b = f"{b} ({'correct' if r['correct_side'] == 'B' else 'incorrect'})"
        if a == b:
            continue  # self-play says nothing about relative strength
        if weighted:
            out.append((a, b, float(r["p_a"]), r["cluster"]))
            out.append((b, a, float(r["p_b"]), r["cluster"]))
        elif r["p_a"] != r["p_b"]:
            out.append((a, b, 1.0, r["cluster"]) if r["p_a"] > r["p_b"] else (b, a, 1.0, r["cluster"]))
    return out


def elo_table(
    rows: list[dict[str, Any]],
    *,
    by_side: bool = False,
    weighted: bool = False,
    rate: Rate = "debaters",
    intervals: bool = True,
) -> list[dict[str, Any]]:
    """Bradley–Terry ratings on the Elo scale, with a delete-one-article jackknife interval each (skipped with
    `intervals=False` when only the ratings are wanted, e.g. to pair players of similar strength)."""
    games = outcomes(rows, by_side=by_side, weighted=weighted, rate=rate)
    if not games:
        return []
    names = sorted({g[0] for g in games} | {g[1] for g in games})
    index = {n: i for i, n in enumerate(names)}
    winner = np.array([index[g[0]] for g in games])
    loser = np.array([index[g[1]] for g in games])
    weight = np.array([g[2] for g in games])
    ratings = _fit(len(names), winner, loser, weight)
    clusters = [str(g[3]) for g in games]

    def refit(picked: np.ndarray) -> np.ndarray:
        """Ratings without one article (starting from the estimate); a player left with no game there has none."""
        r = _fit(len(names), winner[picked], loser[picked], weight[picked], ratings)
        played = np.zeros(len(names), dtype=bool)
        played[winner[picked]] = played[loser[picked]] = True
        return np.where(played, r, np.nan)

    low, high = jackknife(refit, clusters, ratings) if intervals else (np.full(len(names), np.nan),) * 2
    articles = len(set(clusters))
    games_per = np.bincount(winner, weights=weight, minlength=len(names)) + np.bincount(loser, weights=weight, minlength=len(names))
    table = [
        {"debater": n, "elo": float(ratings[i]), "ci_low": _finite(low[i]), "ci_high": _finite(high[i]), "games": float(games_per[i]),
         "articles": articles, "few_articles": few_articles(articles)}
        for i, n in enumerate(names)
    ]  # fmt: skip
    for row in table:
        row["rank"] = 1 + sum(_above(other, row) for other in table)
        # unreadable verdicts on this model's debates: counted, never silently dropped
        row["invalid"] = sum(1 for r in rows if not r.get("valid") and row["debater"].split(" (")[0] in (r.get(rate) or {}).values())
    return sorted(table, key=lambda r: -r["elo"])


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def _above(other: dict[str, Any], row: dict[str, Any]) -> bool:
    """Whether `other` is clearly stronger than `row`: its interval lies wholly above (no interval, no claim)."""
    return other["ci_low"] is not None and row["ci_high"] is not None and other["ci_low"] > row["ci_high"]


def accuracy_vs_elo(
    rows: list[dict[str, Any]],
    table: list[dict[str, Any]],
    *,
    rate: Rate = "debaters",
    self_play: bool = False,
) -> dict[str, Any]:
    """Judge accuracy on the transcripts each debater argued in, against its Elo (Khan et al. 2024, Fig. 1).

    Pass debate rows for the debate curve and consultancy rows for the consultancy one (a consultant is
    the one arguer of its transcript). With `self_play`, a debater's accuracy comes from debates against
    itself only, as in the paper. Each point carries its Elo interval (from `table`) and an accuracy
    interval clustered by article; the least-squares slope (accuracy per 100 Elo) has the classical
    t-interval on (debaters − 2) degrees of freedom (none with two debaters: a line through two points
    says nothing about its own error).
    """
    elo = {r["debater"]: r for r in table}
    hits: dict[str, list[tuple[float, str]]] = {m: [] for m in elo}
    for r in rows:
        arguers = set((r.get(rate) or {}).values())
        if not r.get("valid") or (self_play and len(arguers) != 1):
            continue
        for m in arguers & set(elo):
            hits[m].append((1.0 if r["correct"] else 0.0, str(r.get("cluster"))))
    points = []
    for m, v in hits.items():
        if not v:
            continue
        low, high = clustered_ci([h for h, _ in v], [c for _, c in v])
        points.append({
            "debater": m, "elo": elo[m]["elo"], "elo_low": elo[m].get("ci_low"), "elo_high": elo[m].get("ci_high"),
            "accuracy": float(np.mean([h for h, _ in v])), "acc_low": low, "acc_high": high, "n": len(v),
        })  # fmt: skip
    result: dict[str, Any] = {"points": points, "slope_per_100": None, "ci_low": None, "ci_high": None}
    if len(points) < 2:
        return result
    x = np.array([p["elo"] for p in points]) / 100.0
    y = np.array([p["accuracy"] for p in points])
    if np.ptp(x) == 0:
        return result
    slope, intercept = (float(v) for v in np.polyfit(x, y, 1))
    result["slope_per_100"], result["intercept"] = slope, intercept
    if len(points) > 2:
        from scipy import stats

        residual = y - (intercept + slope * x)
        se = math.sqrt(float(residual @ residual) / (len(x) - 2) / float(np.sum((x - x.mean()) ** 2)))
        half = float(stats.t.ppf(0.975, len(x) - 2)) * se
        result["ci_low"], result["ci_high"] = slope - half, slope + half
    return result


DEBATE_PROTOCOLS = ("debate", "interactive-debate")
"""Protocols whose transcripts are games between two rated debaters."""
CONSULTANCY_PROTOCOLS = ("consultancy",)


def tournament_figure(
    rows: list[dict[str, Any]], judge: str | None, *, self_play: bool | None = None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """Player ratings from `judge`'s verdicts on debates, and, for debate and consultancy, judge accuracy on each
    player's transcripts against its rating with the fitted slope (Khan et al. 2024, Fig. 1).

    `self_play=None` uses self-play debates for the debate curve wherever the rows hold any, as the paper does."""
    rated = [r for r in rows if r.get("judge") == judge and r.get("players")]
    debates = [r for r in rated if r["protocol"] in DEBATE_PROTOCOLS]
    table = elo_table(debates, rate="players")
    if self_play is None:
        self_play = any(len(set(r["players"].values())) == 1 and len(r["players"]) == 2 for r in debates)
    points: list[dict[str, Any]] = []
    slopes: dict[str, dict[str, Any]] = {}
    for protocol in sorted({r["protocol"] for r in rated} & {*DEBATE_PROTOCOLS, *CONSULTANCY_PROTOCOLS}):
        subset = [r for r in rated if r["protocol"] == protocol]
        trend = accuracy_vs_elo(subset, table, rate="players", self_play=self_play and protocol in DEBATE_PROTOCOLS)
        points += [{**p, "protocol": protocol} for p in trend["points"]]
        slopes[protocol] = trend
    return table, points, slopes
