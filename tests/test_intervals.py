"""The small-sample intervals against their textbook forms, and the coverage simulation in its fast version."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats

from conftest import run_cli
from oversight.bench.coverage import coverage_benchmark
from oversight.metrics.intervals import (
    TRUSTED_CLUSTERS,
    few_articles,
    few_articles_note,
    fieller_ratio_interval,
    jackknife,
    unpaired_difference_interval,
)


def test_jackknife_of_a_mean_is_the_t_interval_of_article_means():
    rng = np.random.default_rng(3)
    values = rng.normal(size=(8, 6))
    clusters = np.repeat(np.arange(8), 6)
    flat = values.ravel()
    low, high = jackknife(lambda rows: flat[rows].mean(), clusters, flat.mean())
    means = values.mean(axis=1)
    half = stats.t.ppf(0.975, 7) * means.std(ddof=1) / math.sqrt(8)
    assert low[0] == pytest.approx(flat.mean() - half) and high[0] == pytest.approx(flat.mean() + half)


def test_jackknife_skips_leave_one_out_values_that_are_undefined():
    # undefined without article a (None), and the second component never defined (NaN)
    low, high = jackknife(lambda rows: None if 0 not in rows else [float(rows.sum()), math.nan], list("abcd"), [4.0, 2.0])
    half = stats.t.ppf(0.975, 2) * math.sqrt(2 / 3 * 2)  # three usable values 5, 4, 3: jackknife variance (k-1)/k * Σ(v - mean)²
    assert low[0] == pytest.approx(4.0 - half) and high[0] == pytest.approx(4.0 + half)
    assert np.isnan(low[1]) and np.isnan(high[1])


def fieller_by_search(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Fieller's confidence set found by scanning θ: ratios whose numerator − θ·denominator is not significant."""
    k = len(a)
    t2 = stats.t.ppf(0.975, k - 1) ** 2
    inside = []
    for theta in np.linspace(-3, 3, 600_001):
        d = a - theta * b
        if d.sum() ** 2 <= t2 * k / (k - 1) * np.sum((d - d.mean()) ** 2):
            inside.append(theta)
    return min(inside), max(inside)


def test_fieller_interval_matches_a_direct_search():
    rng = np.random.default_rng(5)
    b = rng.normal(2.0, 0.6, 12)
    a = 0.4 * b + rng.normal(0.0, 0.3, 12)
    estimate, low, high = fieller_ratio_interval(a, b)
    assert estimate == pytest.approx(a.sum() / b.sum())
    slow_low, slow_high = fieller_by_search(a, b)
    assert low == pytest.approx(slow_low, abs=2e-5) and high == pytest.approx(slow_high, abs=2e-5)
    assert low < estimate < high


def test_fieller_interval_is_unbounded_when_the_denominator_is_not_clearly_positive():
    rng = np.random.default_rng(6)
    b = rng.normal(0.0, 1.0, 10)  # a weak-to-strong gap indistinguishable from zero
    a = rng.normal(0.1, 1.0, 10)
    _, low, high = fieller_ratio_interval(a, b)
    assert low == -math.inf and high == math.inf


def test_unpaired_difference_is_welch_on_article_means_for_equal_articles():
    rng = np.random.default_rng(8)
    xa, xb = rng.normal(0.7, 0.1, 9), rng.normal(0.5, 0.2, 14)  # per-article accuracies, 5 judgments each
    low, high = unpaired_difference_interval((xa * 5, np.full(9, 5.0)), (xb * 5, np.full(14, 5.0)))
    va, vb = xa.var(ddof=1) / 9, xb.var(ddof=1) / 14
    df = (va + vb) ** 2 / (va**2 / 8 + vb**2 / 13)
    half = stats.t.ppf(0.975, df) * math.sqrt(va + vb)
    diff = xa.mean() - xb.mean()
    assert (low, high) == pytest.approx((diff - half, diff + half))


def test_few_articles_flag_and_note():
    assert few_articles(TRUSTED_CLUSTERS - 1) and not few_articles(TRUSTED_CLUSTERS) and few_articles(None)
    assert few_articles_note(10) is None
    assert "only 3 article(s)" in (few_articles_note(3) or "")


def test_every_interval_covers_at_ten_articles_and_the_old_bootstrap_does_not_at_five():
    """The fast version of `oversight bench coverage`: fails if any statistic's coverage at K = 10 drops below 0.90."""
    result = coverage_benchmark(replications=80, articles=(10,), seed=1, workers=2)
    by_name = {r["statistic"]: r for r in result["rows"]}
    for name, row in by_name.items():
        if not name.endswith("(for comparison)"):
            assert row["coverage"] >= 0.90, row
            assert row["mean_width"] is not None and row["mean_width"] > 0
    assert abs(by_name["accuracy"]["bias"]) < 0.02 and abs(by_name["PGR"]["bias"]) < 0.1  # estimates aim at the truth
    assert by_name["Elo of players"]["rank_correlation"] > 0.5  # known strengths are recovered in order
    baseline = coverage_benchmark(
        replications=150, articles=(5,), statistics=["accuracy, percentile bootstrap (for comparison)", "accuracy"], workers=1
    )
    old, new = baseline["rows"][0], baseline["rows"][1]
    assert old["coverage"] < 0.88 < new["coverage"]  # the simulation tells a method that under-covers from one that does not


def test_bench_coverage_command_reports_rows_and_refuses_bad_options(capsys: pytest.CaptureFixture[str]):
    code = run_cli("bench", "coverage", "--statistic", "paired protocol difference", "--articles", "6,12", "--replications", "20",
                   "--workers", "1", "--format", "json")  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0, err
    rows = json.loads(out)["rows"]
    assert [(r["statistic"], r["articles"], r["studies"]) for r in rows] == [
        ("paired protocol difference", 6, 20),
        ("paired protocol difference", 12, 20),
    ]
    assert all(0.0 <= r["coverage"] <= 1.0 and r["mean_width"] > 0 and r["verdict"] in ("ok", "low", "wide") for r in rows)
    for bad, says in ((["--articles", "five"], "--articles 'five'"), (["--articles", "1"], "between 2 and 2000"),
                      (["--statistic", "speed"], "--statistic 'speed': choose from")):  # fmt: skip
        assert run_cli("bench", "coverage", *bad) != 0
        err = capsys.readouterr().err
        assert says in err and "Traceback" not in err
