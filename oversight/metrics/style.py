"""Style-controlled debater ratings: Bradley–Terry strengths fitted jointly with style covariates (as Chatbot Arena's
style control does for chat models), so a debater that wins by length or by invented quotes is visible.

Each valid verdict on a debate between two different debaters is a game, A against B:
P(A wins) = σ(r_A − r_B + β·z), where z holds what differs between the two sides' arguments —
length ((words_A − words_B) / (words_A + words_B)), number of quotes (the same normalised
difference), share of verified quotes (a side with no quotes invented none: share 1) — and the
position of A on the judge's screen (+1 first, −1 second). The covariates are scaled to unit
standard deviation, so each β reads as Elo points for one standard deviation of that difference.
Raw ratings are the same fit with β fixed at 0, on the same games; both get 95% intervals from the
delete-one-article jackknife (`oversight.metrics.intervals`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from oversight.metrics.bradley_terry import fit_bradley_terry
from oversight.metrics.elo import ELO_SCALE, Rate
from oversight.metrics.intervals import few_articles, jackknife

COVARIATES = ("length", "quotes", "verified_share", "position")


def _share(stats: dict[str, int]) -> float:
    return stats["verified"] / stats["quotes"] if stats.get("quotes") else 1.0


def _difference(a: float, b: float) -> float:
    return (a - b) / (a + b) if a + b > 0 else 0.0


def style_games(rows: list[dict[str, Any]], *, rate: Rate = "debaters") -> list[dict[str, Any]]:
    """One game per valid verdict between two different debaters: who argued A and B, whether A won, the covariates."""
    games = []
    for r in rows:
        who = r.get(rate) or {}
        a, b = who.get("A"), who.get("B")
        stats = r.get("side_stats") or {}
        if not r.get("valid") or r.get("p_a") is None or not a or not b or a == b or r["p_a"] == r["p_b"]:
            continue
        sa, sb = stats.get("A"), stats.get("B")
        if not sa or not sb:
            continue
        z = [
            _difference(sa["words"], sb["words"]),
            _difference(sa["quotes"], sb["quotes"]),
            _share(sa) - _share(sb),
            1.0 if r["order"] == "AB" else -1.0,
        ]
        games.append({"a": a, "b": b, "a_won": 1.0 if r["p_a"] > r["p_b"] else 0.0, "z": z, "cluster": r["cluster"]})
    return games


def _fit(players: int, a: np.ndarray, b: np.ndarray, y: np.ndarray, z: np.ndarray, start: np.ndarray | None = None) -> np.ndarray:
    """Strengths (centred, natural log-odds) followed by the covariates' coefficients."""
    return fit_bradley_terry(players, a, b, y, z=z, start=start)


def style_elo(rows: list[dict[str, Any]], *, rate: Rate = "debaters", intervals: bool = True) -> dict[str, list[dict[str, Any]]]:
    """`ratings`: raw and style-controlled Elo per debater with 95% intervals; `coefficients`: each covariate's effect in
    Elo points per standard deviation, with its interval. Empty when no debate between two debaters was judged.
    `intervals=False` skips the jackknife's refits (the bounds come back None) where only the fit is wanted."""
    games = style_games(rows, rate=rate)
    if not games:
        return {"ratings": [], "coefficients": []}
    names = sorted({g["a"] for g in games} | {g["b"] for g in games})
    index = {n: i for i, n in enumerate(names)}
    a = np.array([index[g["a"]] for g in games])
    b = np.array([index[g["b"]] for g in games])
    y = np.array([g["a_won"] for g in games])
    raw_z = np.array([g["z"] for g in games], dtype=float)
    sd = raw_z.std(axis=0)
    scale = np.where(sd > 1e-9, sd, 1.0)
    z = raw_z / scale
    usable = sd > 1e-9  # a covariate that never varies cannot be estimated
    z[:, ~usable] = 0.0
    none = np.zeros((len(games), 0))
    raw, controlled = _fit(len(names), a, b, y, none), _fit(len(names), a, b, y, z)
    clusters = [str(g["cluster"]) for g in games]

    def played(picked: np.ndarray) -> np.ndarray:
        seen = np.zeros(len(names), dtype=bool)
        seen[a[picked]] = seen[b[picked]] = True
        return seen

    def refit_raw(picked: np.ndarray) -> np.ndarray:
        return np.where(played(picked), _fit(len(names), a[picked], b[picked], y[picked], none[picked], raw), np.nan)

    def refit_controlled(picked: np.ndarray) -> np.ndarray:
        params = _fit(len(names), a[picked], b[picked], y[picked], z[picked], controlled)
        params[: len(names)] = np.where(played(picked), params[: len(names)], np.nan)
        return params

    if intervals:
        raw_low, raw_high = jackknife(refit_raw, clusters, raw)
        ctl_low, ctl_high = jackknife(refit_controlled, clusters, controlled)
    else:
        raw_low = raw_high = np.full(len(raw), np.nan)
        ctl_low = ctl_high = np.full(len(controlled), np.nan)
    thin = few_articles(len(set(clusters)))

    def elo(v: float) -> float | None:
        return 1000.0 + ELO_SCALE * float(v) if np.isfinite(v) else None

    def points(v: float) -> float | None:
        return ELO_SCALE * float(v) if np.isfinite(v) else None

    games_per = np.bincount(a, minlength=len(names)) + np.bincount(b, minlength=len(names))
    ratings = [
        {"debater": n, "elo": elo(raw[i]), "ci_low": elo(raw_low[i]), "ci_high": elo(raw_high[i]),
         "elo_style_controlled": elo(controlled[i]), "controlled_ci_low": elo(ctl_low[i]), "controlled_ci_high": elo(ctl_high[i]),
         "shift": ELO_SCALE * float(controlled[i] - raw[i]), "games": int(games_per[i]), "few_articles": thin}
        for i, n in enumerate(names)
    ]  # fmt: skip
    p = len(names)
    coefficients = [
        {"covariate": name, "elo_per_sd": ELO_SCALE * float(controlled[p + j]) if usable[j] else None,
         "ci_low": points(ctl_low[p + j]) if usable[j] else None,
         "ci_high": points(ctl_high[p + j]) if usable[j] else None, "sd": float(sd[j])}
        for j, name in enumerate(COVARIATES)
    ]  # fmt: skip
    return {"ratings": sorted(ratings, key=lambda r: -r["elo_style_controlled"]), "coefficients": coefficients}
