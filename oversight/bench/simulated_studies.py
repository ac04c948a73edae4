"""Simulated studies whose truth is known, one per statistic the product prints an interval for.

Each simulated study has K articles of `QUESTIONS_PER_ARTICLE` questions; articles differ in difficulty
(a normal effect on the log-odds, sd 1, the main source of clustering), questions within an article differ
less (sd 0.5). The study's rows are made in the shape `oversight.db.queries.judgment_rows` returns and
go through the same functions the leaderboard, `compare`, the report and the w2s summary call, so what is
measured is what a researcher gets. Each study returns one `Draw` per interval it printed.

Where the truth has a closed form (accuracies, differences, PGR, Krippendorff's α: expectations over a
logistic-normal) it is computed by Gauss–Hermite quadrature; where it is the limit of a fitted statistic
(Elo, style-controlled Elo) it is the statistic of one large study (`TRUTH_ARTICLES` articles). The article-
clustered percentile bootstrap, the usual method, is measured beside accuracy for comparison.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache
from typing import Any, NamedTuple

import numpy as np
from scipy import optimize, stats

QUESTIONS_PER_ARTICLE = 12
ARTICLE_SD = 1.0
QUESTION_SD = 0.5
TRUTH_ARTICLES = 3000


class Draw(NamedTuple):
    """One interval from one simulated study: estimate, bounds (None: unbounded on that side), truth, flagged."""

    estimate: float
    low: float | None
    high: float | None
    truth: float
    flagged: bool


def _sigmoid(x: np.ndarray | float) -> Any:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))


_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(96)


def logistic_normal_mean(mu: float, sd: float) -> float:
    """E[σ(μ + sd·Z)], Z standard normal."""
    return float(_WEIGHTS @ _sigmoid(mu + sd * _NODES) / math.sqrt(2 * math.pi))


def _articles(rng: np.random.Generator, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per question: its article's index, the article effect and the question effect (log-odds)."""
    article = np.repeat(np.arange(k), QUESTIONS_PER_ARTICLE)
    effect = rng.normal(0.0, ARTICLE_SD, k)[article]
    return article, effect, rng.normal(0.0, QUESTION_SD, len(article))


# --- accuracy: the design, article accuracies logit-normal (sd 1) with mean 0.8 --------------------------------

ACCURACY = 0.8


@cache
def _accuracy_mu() -> float:
    return float(optimize.brentq(lambda mu: logistic_normal_mean(mu, ARTICLE_SD) - ACCURACY, -5.0, 5.0))


def _accuracy_rows(rng: np.random.Generator, k: int) -> list[dict[str, Any]]:
    p = _sigmoid(_accuracy_mu() + rng.normal(0.0, ARTICLE_SD, k))
    hits = rng.random((k, QUESTIONS_PER_ARTICLE)) < p[:, None]
    return [
        {"protocol": "debate", "judge": "j", "dataset": "sim", "cluster": f"a{g}", "valid": True, "correct": bool(hits[g, q]),
         "p_correct": 0.9 if hits[g, q] else 0.1, "transcript_id": g * QUESTIONS_PER_ARTICLE + q, "order": "AB"}
        for g in range(k) for q in range(QUESTIONS_PER_ARTICLE)
    ]  # fmt: skip


def accuracy(rng: np.random.Generator, k: int) -> list[Draw]:
    from oversight.metrics.leaderboard import leaderboard

    (row,) = leaderboard(_accuracy_rows(rng, k))
    return [Draw(row["accuracy"], row["ci_low"], row["ci_high"], ACCURACY, bool(row["few_articles"]))]


def accuracy_percentile_bootstrap(rng: np.random.Generator, k: int, resamples: int = 1000) -> list[Draw]:
    """The article-clustered percentile bootstrap (1,000 resamples) on the same design, for comparison."""
    rows = _accuracy_rows(rng, k)
    hits = np.array([r["correct"] for r in rows], dtype=float).reshape(k, QUESTIONS_PER_ARTICLE)
    draws = rng.integers(0, k, size=(resamples, k))
    means = hits.sum(axis=1)[draws].sum(axis=1) / (k * QUESTIONS_PER_ARTICLE)
    low, high = np.quantile(means, [0.025, 0.975])
    return [Draw(float(hits.mean()), float(low), float(high), ACCURACY, False)]


# --- order-debiased accuracy: a judge with a position bias sees every transcript in both orders -----------------------

DEBIASED_MU = 1.0
POSITION_BIAS = 0.8
"""Log-odds the judge adds to whichever answer it is shown first."""


def debiased_accuracy(rng: np.random.Generator, k: int) -> list[Draw]:
    from oversight.metrics.leaderboard import leaderboard

    article, effect, question = _articles(rng, k)
    skill = DEBIASED_MU + effect + question  # log-odds on the correct answer (A), before position
    rows = []
    for t in range(len(article)):
        for order, shift in (("AB", POSITION_BIAS), ("BA", -POSITION_BIAS)):
            p = float(_sigmoid(skill[t] + shift))
            rows.append({"protocol": "debate", "judge": "j", "dataset": "sim", "cluster": f"a{article[t]}", "valid": True,
                         "correct": p > 0.5, "p_correct": p, "p_a": p, "p_b": 1 - p, "transcript_id": t, "order": order})  # fmt: skip
    (row,) = leaderboard(rows)
    # averaged over both orders the bias cancels: the item is right exactly when its skill is positive
    truth = float(stats.norm.cdf(DEBIASED_MU / math.hypot(ARTICLE_SD, QUESTION_SD)))
    return [Draw(row["debiased_accuracy"], row["debiased_ci_low"], row["debiased_ci_high"], truth, bool(row["few_articles"]))]


# --- paired protocol difference: the same questions judged under two protocols ----------------------------------------

PROTOCOL_MU = {"debate": 1.2, "consultancy": 0.6}
INTERACTION_SD = 0.5
"""Article × protocol effect: some articles suit debate more than others."""


def paired_difference(rng: np.random.Generator, k: int) -> list[Draw]:
    from oversight.metrics.agreement import paired_comparison

    article, effect, question = _articles(rng, k)
    interaction = rng.normal(0.0, INTERACTION_SD, k)[article]
    sides = {}
    for protocol, mu in PROTOCOL_MU.items():
        extra = interaction if protocol == "debate" else 0.0
        hits = rng.random(len(article)) < _sigmoid(mu + effect + question + extra)
        sides[protocol] = [{"valid": True, "dataset": "sim", "question_id": q, "cluster": f"a{article[q]}", "correct": bool(hits[q])}
                           for q in range(len(article))]  # fmt: skip
    out = paired_comparison(sides["debate"], sides["consultancy"], n_permutations=1)
    spread = math.hypot(ARTICLE_SD, QUESTION_SD)
    truth = logistic_normal_mean(PROTOCOL_MU["debate"], math.hypot(spread, INTERACTION_SD)) - logistic_normal_mean(
        PROTOCOL_MU["consultancy"], spread
    )
    return [Draw(out["diff"], out["ci_low"], out["ci_high"], truth, bool(out["few_articles"]))]


# --- debaters of known strength: a round robin on every article ------------------------------------------------------

STRENGTHS = {"alpha": 150.0, "bravo": 50.0, "charlie": -50.0, "delta": -150.0}
"""Elo points (the Bradley–Terry scale the product prints) of four debaters."""
EXPERTISE_SD = 0.4
"""Article × debater effect (log-odds): a debater is better on some articles than on others."""
STYLE = {"length": 0.6, "position": 0.3}
"""Log-odds a judge gives for one standard deviation of relative length, and for being shown first."""


def _debates(rng: np.random.Generator, k: int, *, style: bool) -> list[dict[str, Any]]:
    from oversight.metrics.elo import ELO_SCALE

    names = list(STRENGTHS)
    pairs = [(a, b) for i, a in enumerate(names) for b in names[i + 1 :]]
    rows = []
    for g in range(k):
        expertise = dict(zip(names, rng.normal(0.0, EXPERTISE_SD, len(names)), strict=True))
        for q in range(QUESTIONS_PER_ARTICLE):
            a, b = pairs[q % len(pairs)]
            if rng.random() < 0.5:
                a, b = b, a
            logit = (STRENGTHS[a] - STRENGTHS[b]) / ELO_SCALE + expertise[a] - expertise[b]
            row: dict[str, Any] = {"debaters": {"A": a, "B": b}, "cluster": f"a{g}", "valid": True, "correct_side": "A", "order": "AB"}
            if style:
                words = rng.lognormal(5.0, 0.4, 2)
                quotes = rng.integers(0, 6, 2)
                row["order"] = "AB" if rng.random() < 0.5 else "BA"
                row["side_stats"] = {
                    side: {"words": int(w), "quotes": int(n), "verified": int(n)} for side, w, n in zip("AB", words, quotes, strict=True)
                }
                length = (words[0] - words[1]) / (words[0] + words[1])
                logit += STYLE["length"] * length / 0.2 + STYLE["position"] * (1.0 if row["order"] == "AB" else -1.0)
            won = rng.random() < _sigmoid(logit)
            row |= {"p_a": 0.9 if won else 0.1, "p_b": 0.1 if won else 0.9}
            rows.append(row)
    return rows


@cache
def _elo_truth(style: bool) -> dict[str, float]:
    """Ratings of one study of `TRUTH_ARTICLES` articles: the limit the small studies' estimates aim at (with article
    effects, the population Bradley–Terry ratings are shrunk a little from `STRENGTHS`)."""
    from oversight.metrics.elo import elo_table
    from oversight.metrics.style import style_elo

    rows = _debates(np.random.default_rng(20240), TRUTH_ARTICLES, style=style)
    if style:
        return {r["debater"]: r["elo_style_controlled"] for r in style_elo(rows, intervals=False)["ratings"]}
    return {r["debater"]: r["elo"] for r in elo_table(rows, intervals=False)}


def elo(rng: np.random.Generator, k: int) -> list[Draw]:
    from oversight.metrics.elo import elo_table

    truth = _elo_truth(False)
    return [
        Draw(r["elo"], r["ci_low"], r["ci_high"], truth[r["debater"]], bool(r["few_articles"]))
        for r in elo_table(_debates(rng, k, style=False))
    ]


def style_controlled_elo(rng: np.random.Generator, k: int) -> list[Draw]:
    from oversight.metrics.style import style_elo

    truth = _elo_truth(True)
    ratings = style_elo(_debates(rng, k, style=True))["ratings"]
    return [Draw(r["elo_style_controlled"], r["controlled_ci_low"], r["controlled_ci_high"], truth[r["debater"]], bool(r["few_articles"]))
            for r in ratings]  # fmt: skip


# --- weak-to-strong: learners of known accuracy, the pipeline's own splits, five seeds --------------------------------

LEARNER_MU = {"weak": 0.4, "student": 0.8, "ceiling": 1.6}
SEED_SD = 0.15
"""Log-odds shift one seed's training gives each learner (the spread between trainings)."""
SEEDS = 5


@cache
def pgr_truth() -> float:
    spread = math.sqrt(ARTICLE_SD**2 + QUESTION_SD**2 + SEED_SD**2)
    acc = {role: logistic_normal_mean(mu, spread) for role, mu in LEARNER_MU.items()}
    return (acc["student"] - acc["weak"]) / (acc["ceiling"] - acc["weak"])


def pgr(rng: np.random.Generator, k: int) -> list[Draw]:
    from oversight.metrics.pgr import summarize
    from oversight.w2s.pipeline import make_splits

    article, effect, question = _articles(rng, k)
    results = []
    for seed in range(SEEDS):
        test = np.array(make_splits(len(article), seed).test)
        shift = rng.normal(0.0, SEED_SD, len(LEARNER_MU))
        hits = {role: (rng.random((len(test), 2)) < _sigmoid(mu + s + effect[test] + question[test])[:, None]).mean(axis=1)
                for (role, mu), s in zip(LEARNER_MU.items(), shift, strict=True)}  # fmt: skip
        acc = {role: float(h.mean()) for role, h in hits.items()}
        gap = acc["ceiling"] - acc["weak"]
        results.append({
            "seed": seed, **{role: {"accuracy": acc[role], "auroc": None} for role in LEARNER_MU}, "intermediates": [],
            "pgr": (acc["student"] - acc["weak"]) / gap if gap >= 0.02 else None,
            "test_items": [{"cluster": f"a{article[q]}", **{role: float(hits[role][i]) for role in LEARNER_MU}} for i, q in enumerate(test)],
        })  # fmt: skip
    summary = summarize(results)
    p = summary["pgr"]
    unbounded = summary.get("warning", "").startswith("the strong ceiling")
    low, high = (None, None) if unbounded else (p["ci_low"], p["ci_high"])
    return [Draw(p["mean"] if p["mean"] is not None else math.nan, low, high, pgr_truth(), bool(summary.get("few_articles")))]


# --- agreement among human judges ------------------------------------------------------------------------------------

JUDGE_MU = 1.0
JUDGE_SD = 0.3
JUDGES_PER_TRANSCRIPT = 3
JUDGE_POOL = 12


def _human_verdicts(rng: np.random.Generator, k: int, pool: int) -> list[dict[str, Any]]:
    article, effect, question = _articles(rng, k)
    leniency = rng.normal(0.0, JUDGE_SD, pool)
    correct_side = rng.choice(["A", "B"], len(article))
    rows = []
    for t in range(len(article)):
        for j in rng.choice(pool, JUDGES_PER_TRANSCRIPT, replace=False):
            right = rng.random() < _sigmoid(JUDGE_MU + effect[t] + question[t] + leniency[j])
            picks_a = right == (correct_side[t] == "A")
            rows.append({"transcript_id": t, "judge": f"h{j}", "judge_kind": "human", "valid": True, "order": "AB",
                         "p_a": 0.8 if picks_a else 0.2, "p_b": 0.2 if picks_a else 0.8, "cluster": f"a{article[t]}"})  # fmt: skip
    return rows


@cache
def alpha_truth() -> float:
    """Krippendorff's α of the population: the correct side is A or B at random, so two random ratings disagree half the
    time (expected disagreement 1/2), and two judges of one transcript disagree with probability 2q(1 − q), q the chance
    a random judge gets it right; α = 1 − 4 E[q(1 − q)]."""
    spread = math.hypot(ARTICLE_SD, QUESTION_SD)
    q = np.array([logistic_normal_mean(JUDGE_MU + spread * x, JUDGE_SD) for x in _NODES])
    return float(1.0 - 4.0 * (_WEIGHTS @ (q * (1.0 - q))) / math.sqrt(2 * math.pi))


def krippendorff_alpha(rng: np.random.Generator, k: int) -> list[Draw]:
    from oversight.metrics.agreement import human_agreement

    out = human_agreement(_human_verdicts(rng, k, JUDGE_POOL))
    return [Draw(out["krippendorff_alpha"], out["alpha_ci_low"], out["alpha_ci_high"], alpha_truth(), bool(out["few_articles"]))]


# --- accuracy by round: every transcript judged after rounds 1, 2 and 3 --------------------------------------------------

ROUND_MU = (0.4, 0.8, 1.1)


def accuracy_by_round(rng: np.random.Generator, k: int) -> list[Draw]:
    from oversight.metrics.rounds import round_table

    article, effect, question = _articles(rng, k)
    last = len(ROUND_MU)
    rows = []
    for r, mu in enumerate(ROUND_MU, start=1):
        hits = rng.random(len(article)) < _sigmoid(mu + effect + question)
        rows += [{"protocol": "debate", "judge": "j", "judge_kind": "model", "transcript_id": t, "cluster": f"a{article[t]}",
                  "valid": True, "correct": bool(hits[t]), "p_correct": 0.8 if hits[t] else 0.2, "p_a": 0.5, "p_b": 0.5,
                  "correct_side": "A", "rounds": last, "after_round": None if r == last else r}
                 for t in range(len(article))]  # fmt: skip
    spread = math.hypot(ARTICLE_SD, QUESTION_SD)
    return [Draw(row["accuracy"], row["ci_low"], row["ci_high"], logistic_normal_mean(ROUND_MU[row["round"] - 1], spread), bool(row["few_articles"]))
            for row in round_table(rows)]  # fmt: skip


STATISTICS: dict[str, Callable[[np.random.Generator, int], list[Draw]]] = {
    "accuracy": accuracy,
    "debiased accuracy": debiased_accuracy,
    "paired protocol difference": paired_difference,
    "Elo of players": elo,
    "style-controlled Elo": style_controlled_elo,
    "PGR": pgr,
    "Krippendorff alpha": krippendorff_alpha,
    "accuracy by round": accuracy_by_round,
    "accuracy, percentile bootstrap (for comparison)": accuracy_percentile_bootstrap,
}


def warm_truths(statistics: list[str]) -> None:
    """Fit the large-study truths once per process before the studies that need them (the pool's initializer)."""
    if "Elo of players" in statistics:
        _elo_truth(False)
    if "style-controlled Elo" in statistics:
        _elo_truth(True)
