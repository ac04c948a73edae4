"""Weak-to-strong supervision (Burns et al. 2023): splits, weak labels, student and ceiling, PGR.

`pipeline` holds the experiment's logic (splits, one seed), `learners` what is trained (probe,
fine-tuning, in-context prompting), `features` the frozen features probes read, `experiment`
one whole run from a `W2SConfig`. Storage and the CLI sit downstream of these.
"""

from __future__ import annotations

from oversight.w2s.experiment import W2SOutcome, run_w2s
from oversight.w2s.pipeline import MIN_QUESTIONS, Examples, SeedResult, Splits, examples, make_splits, run_seed

__all__ = ["MIN_QUESTIONS", "Examples", "SeedResult", "Splits", "W2SOutcome", "examples", "make_splits", "run_seed", "run_w2s"]
