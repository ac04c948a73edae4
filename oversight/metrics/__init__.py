"""Metrics computed from stored judgment rows: accuracy with clustered bootstrap intervals, and friends."""

from oversight.metrics.bootstrap import clustered_bootstrap_ci
from oversight.metrics.leaderboard import LEADERBOARD_KEYS, leaderboard

__all__ = ["LEADERBOARD_KEYS", "clustered_bootstrap_ci", "leaderboard"]
