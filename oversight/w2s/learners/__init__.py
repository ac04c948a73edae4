"""What weak-to-strong trains: a learner fits soft labels on some examples and predicts probabilities for others.

One interface for the three methods, so the pipeline (splits, weak labels, student, ceiling,
bootstrapping) is written once:
- `ProbeLearner`: a linear probe on frozen features (`--method probe`);
- `FinetuneLearner` (`learners/finetune.py`): a local Hugging Face model fine-tuned with LoRA or fully;
- `PromptLearner` (`learners/prompt.py`): a chat model shown k labelled examples in context.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from oversight.w2s.learners.base import METHODS, PROBE_ONLY_SOURCES, Learner, Predictor, check_spec, learner_kind
from oversight.w2s.learners.probe import ProbeLearner


def make_learner(spec: str, method: str, texts: list[str], options: Any, cache_dir: Path | None) -> Learner:
    """The learner for one model spec; `options` carries the method's settings (a `W2SConfig`)."""
    kind = learner_kind(spec, method)
    if kind == "probe":
        from oversight.w2s.features import features

        x = features(spec, texts, cache_dir)
        return ProbeLearner(spec, x, epochs=options.epochs_probe, alpha_max=options.logconf_alpha, warmup=options.logconf_warmup)
    if kind == "finetune":
        from oversight.w2s.learners.finetune import FinetuneLearner

        return FinetuneLearner(spec, texts, options)
    from oversight.w2s.learners.prompt import PromptLearner

    return PromptLearner(spec, texts, options)


__all__ = ["METHODS", "PROBE_ONLY_SOURCES", "Learner", "Predictor", "ProbeLearner", "check_spec", "learner_kind", "make_learner"]
