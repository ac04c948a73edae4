"""What weak-to-strong trains: a learner fits soft labels on some examples and predicts probabilities for others.

One interface for the three methods, so the pipeline (splits, weak labels, student, ceiling,
bootstrapping) is written once:
- `ProbeLearner`: a linear probe on frozen features (`--method probe`);
- `FinetuneLearner` (`oversight.w2s_finetune`): a local Hugging Face model fine-tuned with LoRA or fully;
- `PromptLearner` (`oversight.w2s_prompt`): a chat model shown k labelled examples in context.

Examples are addressed by row number into the run's example list, so a learner can hold whatever
it needs per example (features, token ids, texts).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from oversight.errors import InputError
from oversight.w2s_probe import train_probe

Predictor = Callable[[np.ndarray], np.ndarray]
"""Row numbers in, P(label 1) out."""

METHODS = ("probe", "finetune", "prompt")
PROBE_ONLY_SOURCES = ("bow", "minilm")


class Learner(Protocol):
    name: str
    invalid: int
    """Predictions that could not be read (a chat reply without a usable answer) and were set to 0.5."""

    def fit(
        self, rows: np.ndarray, targets: np.ndarray, *, val_rows: np.ndarray | None, val_targets: np.ndarray | None, loss: str, seed: int
    ) -> Predictor: ...


class ProbeLearner:
    def __init__(self, name: str, x: np.ndarray, *, epochs: int = 300, alpha_max: float = 0.75, warmup: float = 0.2) -> None:
        self.name = name
        self.x = x
        self.epochs = epochs
        self.logconf = {"alpha_max": alpha_max, "warmup": warmup}
        self.invalid = 0

    def fit(
        self, rows: np.ndarray, targets: np.ndarray, *, val_rows: np.ndarray | None, val_targets: np.ndarray | None, loss: str, seed: int
    ) -> Predictor:
        x_val = self.x[val_rows] if val_rows is not None else None
        probe, _ = train_probe(
            self.x[rows], targets, loss=loss, epochs=self.epochs, seed=seed, x_val=x_val, y_val=val_targets, **self.logconf
        )
        return lambda r: probe.predict(self.x[r])


def learner_kind(spec: str, method: str) -> str:
    """How `spec` is used under `--method`: `bow` and `minilm` are always probes; other specs follow the method."""
    if method not in METHODS:
        raise InputError(f"--method {method!r}: choose one of {', '.join(METHODS)}")
    return "probe" if spec in PROBE_ONLY_SOURCES else method


def check_spec(spec: str, method: str) -> None:
    """Fail on a spec that cannot work before any model is loaded or any feature computed."""
    kind = learner_kind(spec, method)
    if kind == "probe":
        from oversight.w2s_features import feature_source

        feature_source(spec)
    elif kind == "finetune":
        if not (Path(spec).expanduser() / "config.json").is_file():
            raise InputError(
                f"--method finetune: {spec!r} is not a local Hugging Face model directory (no config.json); bow and minilm are taken as probes"
            )
    else:
        import asyncio

        from oversight.models import parse_spec
        from oversight.models.registry import create_provider

        # building the provider checks what it needs (an API key, a base URL, a known local model); nothing is sent
        asyncio.run(create_provider(parse_spec(spec)).aclose())


def make_learner(spec: str, method: str, texts: list[str], options: Any, cache_dir: Path | None) -> Learner:
    """The learner for one model spec; `options` carries the method's settings (a `W2SConfig`)."""
    kind = learner_kind(spec, method)
    if kind == "probe":
        from oversight.w2s_features import features

        x = features(spec, texts, cache_dir)
        return ProbeLearner(spec, x, epochs=options.epochs_probe, alpha_max=options.logconf_alpha, warmup=options.logconf_warmup)
    if kind == "finetune":
        from oversight.w2s_finetune import FinetuneLearner

        return FinetuneLearner(spec, texts, options)
    from oversight.w2s_prompt import PromptLearner

    return PromptLearner(spec, texts, options)
