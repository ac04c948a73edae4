"""Metrics computed from stored judgment rows: accuracy with article-clustered small-sample intervals, and friends."""

from oversight.metrics.intervals import clustered_ci
from oversight.metrics.leaderboard import LEADERBOARD_KEYS, leaderboard

__all__ = ["LEADERBOARD_KEYS", "clustered_ci", "leaderboard"]
