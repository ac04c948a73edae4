"""`--method prompt`: in-context weak-to-strong for chat models (embedded, API, vLLM).

"Training" a chat model here means choosing its k demonstrations: examples from the training
rows shown with the labels the caller supplies — ground truth for the weak floor and the ceiling,
the weak model's labels for the student. P(correct) for a new example is read from the
logprobs of the first answer token ("True" / "False"); a reply without logprobs falls back to its
text, and a reply that says neither counts as invalid and predicts 0.5. Demonstrations come first
and are the same for every query of a fit, so prefix caches (vLLM's, llama.cpp's) serve them.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import numpy as np

from oversight.judging import two_way_mass
from oversight.models import GenerateConfig, MemoryCache, Message, Model, ModelPool, parse_spec
from oversight.w2s.learners.base import Predictor

INSTRUCTION = (
    "Each message shows a question and a proposed answer. Reply True if the proposed answer is correct "
    "and False if it is not. Reply with one word."
)
ANSWER_CONFIG = GenerateConfig(max_tokens=2, temperature=0.0, logprobs=True, top_logprobs=20, choices=("True", "False"))


FIRST_WORD = re.compile(r"[A-Za-z]+")


def query(text: str) -> str:
    return f"{text}\nIs the proposed answer correct?"


def _truth_of(token: str) -> str | None:
    word = token.strip().strip(".:*").lower()
    return {"true": "True", "false": "False"}.get(word)


def read_truth(text: str, distribution: dict[str, float]) -> float | None:
    """P(True) from the first-token distribution, else from the reply's first word; None when it says neither."""
    verdict = two_way_mass(distribution, _truth_of, ("True", "False"))
    if verdict is not None and verdict.p is not None:
        return verdict.p["True"]
    first_word = FIRST_WORD.search(text)
    said = _truth_of(first_word.group(0)) if first_word else None
    return None if said is None else float(said == "True")


def choose_demonstrations(rows: np.ndarray, targets: np.ndarray, k: int, seed: int) -> list[tuple[int, bool]]:
    """k rows with their (hardened) labels, as balanced between True and False as the labels allow, in random order."""
    rng = np.random.default_rng(seed)
    hard = targets > 0.5
    positives, negatives = list(rng.permutation(rows[hard])), list(rng.permutation(rows[~hard]))
    want_pos = min(len(positives), max(k - len(negatives), (k + 1) // 2))
    chosen = [(int(r), True) for r in positives[:want_pos]] + [(int(r), False) for r in negatives[: k - want_pos]]
    return [chosen[i] for i in rng.permutation(len(chosen))]


class PromptLearner:
    def __init__(self, spec: str, texts: list[str], options: Any) -> None:
        parse_spec(spec)  # a bad spec fails before any work
        self.name = spec
        self.texts = texts
        self.options = options
        self.invalid = 0
        self._cache = MemoryCache()

    def messages(self, demonstrations: list[tuple[int, bool]], row: int) -> list[Message]:
        out = [Message(role="system", content=INSTRUCTION)]
        for demo, label in demonstrations:
            out += [Message(role="user", content=query(self.texts[demo])), Message(role="assistant", content="True" if label else "False")]
        return out + [Message(role="user", content=query(self.texts[row]))]

    def fit(
        self, rows: np.ndarray, targets: np.ndarray, *, val_rows: np.ndarray | None, val_targets: np.ndarray | None, loss: str, seed: int
    ) -> Predictor:
        # nothing is trained, so there is nothing to select: validation labels and the loss do not apply
        demonstrations = choose_demonstrations(rows, targets, self.options.k_shot, seed)
        return lambda r: asyncio.run(self._predict(demonstrations, r))

    async def _predict(self, demonstrations: list[tuple[int, bool]], rows: np.ndarray) -> np.ndarray:
        pool = ModelPool(
            max_connections=self.options.max_connections, cache=self._cache, timeout=self.options.timeout,
            max_retries=self.options.max_retries, context_policy="error",
        )  # fmt: skip
        try:
            model = pool.get(self.name)
            return np.array(await asyncio.gather(*(self._one(model, demonstrations, int(r)) for r in rows)), dtype=float)
        finally:
            await pool.aclose()

    async def _one(self, model: Model, demonstrations: list[tuple[int, bool]], row: int) -> float:
        completion = await model.generate(self.messages(demonstrations, row), ANSWER_CONFIG, role="w2s")
        p = read_truth(completion.text, completion.first_token_distribution())
        if p is None:
            self.invalid += 1
            return 0.5
        return p
