"""The learner contract shared by the three weak-to-strong methods, and the checks on a model spec made before anything loads.

Examples are addressed by row number into the run's example list, so a learner can hold whatever
it needs per example (features, token ids, texts).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import numpy as np

from oversight.errors import InputError

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


def learner_kind(spec: str, method: str) -> str:
    """How `spec` is used under `--method`: `bow` and `minilm` are always probes; other specs follow the method."""
    if method not in METHODS:
        raise InputError(f"--method {method!r}: choose one of {', '.join(METHODS)}")
    return "probe" if spec in PROBE_ONLY_SOURCES else method


def check_spec(spec: str, method: str) -> None:
    """Fail on a spec that cannot work before any model is loaded or any feature computed."""
    kind = learner_kind(spec, method)
    if kind == "probe":
        from oversight.w2s.features import feature_source

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
