"""Benchmarks with documented targets, one module each; their figures go in the README.

`peak_rss_mib` is shared by them and by weak-to-strong runs, which report their memory.
"""

from __future__ import annotations

import resource


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
